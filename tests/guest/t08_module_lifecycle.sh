#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t08_module_lifecycle: an open /dev/gupnw pins the module; rmmod after the
# last close removes the device; insmod brings it back world-usable (0666);
# the CLI without the module fails with exit 1 and one "gupnw: /dev/gupnw:"
# line.  Leaves the module loaded.
# busybox sh; prints TAP (tap.shlib: one case per section); exits 1 if anything failed.
# Each case makes its own starting point (module loaded or not), so one can run alone:
# GUPNW_TESTS=t08:insmod-again.

KO=${GUPNW_KO:-/lib/gupnw/gupnw.ko}
CLI=${GUPNW_CLI:-/bin/gupnw}
DATA=${GUPNW_DATA:-/mnt/data}
DEV=/dev/gupnw
# shellcheck source=tap.shlib
. "${0%/*}/tap.shlib"

loaded() { grep -q '^gupnw ' /proc/modules; }
unloaded() { ! loaded; }
# wait_for CMD...: up to 5 s for CMD to succeed
wait_for() { i=0; until "$@"; do i=$((i + 1)); [ $i -ge 50 ] && return 1; sleep 0.1 2>/dev/null || sleep 1; done; }
no_dev() { [ ! -e "$DEV" ]; }
is_chr() { [ -c "$DEV" ]; }

# Whatever happens, leave the module loaded for the tests after this one.
trap 'loaded || insmod "$KO"; tap_plan' EXIT
# The starting points of the cases.
load() { loaded || insmod "$KO"; wait_for is_chr; }
unload() { ! loaded || rmmod gupnw; wait_for no_dev; }

if ! loaded; then
	insmod "$KO" || { notok "lifecycle: module loaded at start"; exit 1; }
fi
check "lifecycle: /dev/gupnw exists with the module loaded" wait_for is_chr

tcase pinned-by-open && {
load
# shellcheck disable=SC2217 # the redirection is the point: it holds the device open
sleep 30 < "$DEV" &
holder=$!
holds() {
	for f in "/proc/$holder/fd/"*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$DEV" ] && return 0
	done
	return 1
}
if ! check "lifecycle: a process holds /dev/gupnw open" wait_for holds; then
	diag "holder $holder: $(ls -l /proc/$holder/fd/ 2>&1)"
fi
out=$(rmmod gupnw 2>&1); rc=$?
check "lifecycle: rmmod fails while /dev/gupnw is open" [ $rc -ne 0 ] || diag "rmmod: exit $rc: $out"
check "lifecycle: module still loaded after the failed rmmod" loaded
check "lifecycle: /dev/gupnw still there after the failed rmmod" is_chr
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
}

tcase rmmod-after-close && {
load
out=$(rmmod gupnw 2>&1); rc=$?
check "lifecycle: rmmod succeeds once nothing holds it" [ $rc -eq 0 ] || diag "rmmod: exit $rc: $out"
check "lifecycle: module gone from /proc/modules" unloaded
check "lifecycle: /dev/gupnw disappears" wait_for no_dev || diag "$(ls -l $DEV 2>&1)"
}

tcase cli-without-module && {
unload
if [ -x "$CLI" ]; then
	"$CLI" probe "$DATA/small" >/dev/null 2>/tmp/t08.err; rc=$?
	check "lifecycle: CLI without the module exits 1" [ $rc -eq 1 ] || diag "exit $rc"
	# shellcheck disable=SC2016 # expanded by the inner sh
	check "lifecycle: CLI without the module prints one 'gupnw: /dev/gupnw: ' line" \
		sh -c '[ "$(wc -l < /tmp/t08.err)" -eq 1 ] && grep -q "^gupnw: /dev/gupnw" /tmp/t08.err' ||
		diag "stderr: $(cat /tmp/t08.err)"
else
	skip "lifecycle: CLI without the module exits 1" "no CLI at $CLI"
fi
}

tcase insmod-again && {
unload
out=$(insmod "$KO" 2>&1); rc=$?
check "lifecycle: insmod again succeeds" [ $rc -eq 0 ] || diag "insmod: exit $rc: $out"
check "lifecycle: module listed again" loaded
check "lifecycle: /dev/gupnw is back" wait_for is_chr
# shellcheck disable=SC2012 # ls -l only where busybox has no stat
mode=$(stat -c %a "$DEV" 2>/dev/null) ||
	mode=$(ls -l "$DEV" | sed -n 's/^crw-rw-rw-.*/666/p')
check "lifecycle: /dev/gupnw is mode 0666 (world-usable)" [ "$mode" = 666 ] || diag "mode '$mode': $(ls -l $DEV)"

if [ -x "$CLI" ]; then
	"$CLI" probe "$DATA/small" >/dev/null 2>/tmp/t08.err; rc=$?
	check "lifecycle: CLI probe works after reload" [ $rc -eq 0 ] || diag "exit $rc: $(cat /tmp/t08.err)"
fi
}

tcase cycles && {
load
cycles_ok=1
for i in 1 2 3; do
	if ! { rmmod gupnw && insmod "$KO"; }; then
		cycles_ok=0
		break
	fi
done
check "lifecycle: three more rmmod/insmod cycles work" [ $cycles_ok = 1 ]
check "lifecycle: module loaded at the end" loaded
check "lifecycle: /dev/gupnw present at the end" wait_for is_chr
}
tap_case=
rm -f /tmp/t08.err
rm -rf "$T"
exit $failed
