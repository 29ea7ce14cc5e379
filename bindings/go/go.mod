module gupnw.local/gupnw

go 1.19

require golang.org/x/sys v0.3.0

// Offline, from Debian's golang-golang-x-sys-dev (see Makefile): no proxy, no download.
replace golang.org/x/sys => /usr/share/gocode/src/golang.org/x/sys
