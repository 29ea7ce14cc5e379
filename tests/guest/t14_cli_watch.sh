#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t14_cli_watch: gupnw watch --count N prints N frames (a line each off a
# terminal, a JSON object each with --json), of a file and of a process,
# and shows I/O arriving on a cold file.
# busybox sh; prints TAP (tap.shlib: one case per behaviour); exits 1 if anything
# failed.  Each case runs alone too: GUPNW_TESTS=t14:io-arriving.

CLI=${GUPNW_CLI:-/bin/gupnw}
DATA=${GUPNW_DATA:-/mnt/data}
# shellcheck source=tap.shlib
. "${0%/*}/tap.shlib"


if [ ! -x "$CLI" ] || [ ! -r "$DATA/cold-64m" ] || [ ! -r "$DATA/small" ]; then
	skip "cli watch: all" "no CLI at $CLI or no $DATA/cold-64m, $DATA/small"
	exit 0
fi

tcase frames && {
run "$CLI" watch --count 2 --interval 0.2 "$DATA/small"
check "cli watch: --count 2 exits 0" [ "$rc" -eq 0 ] || show
check "cli watch: a header and 2 frames" sh -c "
	[ \$(wc -l < '$T/out') -eq 3 ] &&
	[ \$(grep -c '^ *4 .*  frame [12] +[0-9.]*s\$' '$T/out') -eq 2 ]" || show
}

tcase json-frames && {
run "$CLI" watch --count 2 --interval 0.2 --json "$DATA/small"
check "cli watch: --json: 2 objects of 4 pages with a map" sh -c "
	[ $rc -eq 0 ] && [ \$(wc -l < '$T/out') -eq 2 ] &&
	[ \$(grep -c '^{\"file\":.*\"map\":\"[RFW.ENC]\\{4\\}\",\"pages\":4,.*}\$' '$T/out') -eq 2 ]" || show
}

tcase pid-no-fault && {
sleep 30 &
spid=$!
sleep 1
start=$(head -n 1 "/proc/$spid/maps" | cut -d- -f1)
run "$CLI" watch --count 2 --interval 0.2 --no-fault --pid "$spid" "0x$start" 4K
check "cli watch: --pid --no-fault --count 2 exits 0, 2 frames" sh -c "
	[ $rc -eq 0 ] && [ \$(grep -c 'frame [12] ' '$T/out') -eq 2 ]" || show
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
}

# Cold 1 MiB: the first frame starts the I/O (W); a few seconds later the
# pages are there (no W).
tcase io-arriving && {
sync; echo 3 > /proc/sys/vm/drop_caches
run "$CLI" watch --count 4 --interval 1 -p 0-1M "$DATA/cold-64m"
# PAGES R F W C . E MEM% frame N +Ts
w1=$(awk '/ frame 1 / { print $4 }' "$T/out")
w4=$(awk '/ frame 4 / { print $4 }' "$T/out")
check "cli watch: I/O arriving: W $w1 in frame 1, 0 in frame 4" sh -c "
	[ $rc -eq 0 ] && [ '${w1:-0}' -gt 0 ] && [ '$w4' = 0 ]" || show
}

tcase count-zero && {
run "$CLI" watch --count 0 "$DATA/small"
check "cli watch: --count 0 exits 2" [ "$rc" -eq 2 ] || show
}

tcase missing-file && {
run "$CLI" watch "$DATA/does-not-exist"
check "cli watch: missing file exits 1" [ "$rc" -eq 1 ] || show
}
tap_case=

rm -rf "$T"
exit $failed
