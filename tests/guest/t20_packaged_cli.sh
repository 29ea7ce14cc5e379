#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t20_packaged_cli: the gupnw tool and libgupnw as the Debian packages install them.
# On the host, tests/packaging/run.sh installs the gupnw and libgupnw1 packages with
# dpkg into a scratch root, adds the libc and dynamic loader the tool links against,
# and the harness packs that root as /pkgroot.  The packaged (dynamically linked) tool
# runs through the root's own loader and libraries: nothing from the static CLI.
# busybox sh; prints TAP (tap.shlib: one case per behaviour); exits 1 if anything
# failed.  Each case runs alone too: GUPNW_TESTS=t20:probe-json.

R=${GUPNW_PKGROOT:-/pkgroot}
DATA=${GUPNW_DATA:-/mnt/data}
SHOW_BYTES=600
# shellcheck source=tap.shlib
. "${0%/*}/tap.shlib"

if [ ! -d "$R" ]; then
	skip "packaged cli: all" "packages not built (no $R: tests/packaging/run.sh makes it)"
	exit 0
fi

loader=""
for l in "$R"/lib64/ld-linux-x86-64.so.2 "$R"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
	[ -x "$l" ] && { loader=$l; break; }
done
CLI=$R/usr/bin/gupnw
if [ -z "$loader" ] || [ ! -x "$CLI" ] || [ ! -e "$R/usr/lib/x86_64-linux-gnu/libgupnw.so.1" ]; then
	notok "packaged cli: $R has the packaged tool, libgupnw.so.1 and a loader"
	# shellcheck disable=SC2012 # a listing for a human to read
	diag "$(ls -lR "$R" 2>&1 | head -n 40)"
	exit 1
fi
# run ARGS...: the packaged tool, the root's libraries only; stdout and stderr in
# $T/out and $T/err, exit status in $rc.
run() {
	"$loader" --library-path "$R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu" \
		"$CLI" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

tcase version && {
run --version
if [ $rc -eq 0 ] && grep -q '^gupnw ' "$T/out"; then
	ok "packaged cli: --version exits 0"
else
	notok "packaged cli: --version exits 0"; show
fi
if [ -r /sys/module/gupnw/version ]; then
	modver=$(cat /sys/module/gupnw/version)
	if grep -qF "$modver" "$T/out"; then
		ok "packaged cli: --version sees the loaded module ($modver) through the packaged library"
	else
		notok "packaged cli: --version sees the loaded module ($modver)"; show
	fi
fi
}

json()  { tr -d '\n' <"$T/out"; }
jnum()  { json | sed -n "s/.*\"$1\" *: *\([0-9][0-9]*\).*/\1/p"; }
jmap()  { json | sed -n 's/.*"map" *: *"\([^"]*\)".*/\1/p'; }

tcase probe-json && {
f=$DATA/small
if [ ! -f "$f" ]; then
	notok "packaged cli: probe --json $f: the file is missing"
else
	run probe --json "$f"
	if [ $rc -eq 0 ]; then
		ok "packaged cli: probe --json $f exits 0"
	else
		notok "packaged cli: probe --json $f exits 0"; show
	fi
	missing=""
	for k in pages resident faulted retry unmapped error notpresent; do
		[ -n "$(jnum $k)" ] || missing="$missing $k"
	done
	json | grep -q '"map"' || missing="$missing map"
	size=$(wc -c <"$f")
	want=$(( (size + 4095) / 4096 ))
	map=$(jmap)
	if [ -z "$missing" ] && [ "$(jnum pages)" = "$want" ] && [ "${#map}" -eq "$want" ]; then
		ok "packaged cli: probe --json: every key, pages $want, map of $want letters"
	else
		notok "packaged cli: probe --json: every key, pages $want, map of $want letters"
		[ -n "$missing" ] && diag "missing:$missing"
		show
	fi
fi
}
tap_case=

rm -rf "$T"
exit $failed
