module gupnw.local/gupnw/examples/bboltserver

go 1.19

require (
	go.etcd.io/bbolt v1.3.6
	golang.org/x/sys v0.3.0
	gupnw.local/gupnw v0.0.0
)

// Offline, from Debian's packages (golang-github-coreos-bbolt-dev,
// golang-golang-x-sys-dev) and this tree: see ../../Makefile.
replace (
	go.etcd.io/bbolt => /usr/share/gocode/src/go.etcd.io/bbolt
	golang.org/x/sys => /usr/share/gocode/src/golang.org/x/sys
	gupnw.local/gupnw => ../..
)
