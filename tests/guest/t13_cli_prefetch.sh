#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t13_cli_prefetch: gupnw prefetch of a cold file returns at once having
# started I/O; --wait then reaches every page resident, after which a probe
# needs no I/O; --timeout gives up.
# busybox sh; prints TAP (tap.shlib: one case per behaviour); exits 1 if anything
# failed.  Each case runs alone too: GUPNW_TESTS=t13:timeout.

CLI=${GUPNW_CLI:-/bin/gupnw}
DATA=${GUPNW_DATA:-/mnt/data}
# shellcheck source=tap.shlib
. "${0%/*}/tap.shlib"

json()  { tr -d '\n' < "$T/out"; }
jnum()  { json | sed -n "s/.*\"$1\" *: *\([0-9][0-9]*\).*/\1/p"; }
cold()  { sync; echo 3 > /proc/sys/vm/drop_caches; }

if [ ! -x "$CLI" ] || [ ! -r "$DATA/cold-64m" ]; then
	skip "cli prefetch: all" "no CLI at $CLI or no $DATA/cold-64m"
	exit 0
fi

tcase cold-file && {
cold
t0=$(date +%s)
run "$CLI" prefetch "$DATA/cold-64m"
took=$(($(date +%s) - t0))
check "cli prefetch: a cold file exits 0" [ "$rc" -eq 0 ] || show
check "cli prefetch: returns without waiting for the file (${took} s)" [ "$took" -le 20 ] || show
# PAGES R F W . E MEM% FILE: some I/O was started (W).
w=$(awk -v f="$DATA/cold-64m" '$NF == f { print $4 }' "$T/out")
check "cli prefetch: pages 16384, I/O started for some (W=$w)" sh -c "
	grep -q '^ *16384 .* $DATA/cold-64m\$' '$T/out' && [ '${w:-0}' -gt 0 ]" || show
}

# From whatever the page cache holds (after cold-file: I/O under way).
tcase wait-until-resident && {
run "$CLI" prefetch --wait --timeout 60 "$DATA/cold-64m"
check "cli prefetch: --wait --timeout 60 exits 0" [ "$rc" -eq 0 ] || show
check "cli prefetch: --wait ends with every page resident" \
	sh -c "tail -n 1 '$T/out' | grep -q '^$DATA/cold-64m: 16384/16384 pages resident (100.0%) after [0-9.]* s\$'" || show

run "$CLI" probe --json "$DATA/cold-64m"
check "cli prefetch: afterwards a probe needs no I/O (retry 0)" \
	sh -c "[ $rc -eq 0 ] && [ '$(jnum retry)' = 0 ]" || show
}

tcase json-two-files && {
cold
run "$CLI" prefetch --json --wait --timeout 60 "$DATA/cold-64m" "$DATA/small"
check "cli prefetch: --json --wait of two files exits 0" [ "$rc" -eq 0 ] || show
c=1
case $(json) in '{"files":[{"file":"'*'"resident_after_wait":16384,'*'"resident_after_wait":4,'*'],"total":{"files":2,"pages":16388,'*) c=0 ;; esac
check "cli prefetch: --json: files, resident_after_wait, total" [ $c = 0 ] || show
}

# A cold file cannot all be resident a millisecond after its I/O started.
tcase timeout && {
cold
run "$CLI" prefetch --wait --timeout 0.001 "$DATA/cold-64m"
if [ "$rc" -eq 0 ]; then
	ok "cli prefetch: --timeout 0.001 (the disk was faster)"
else
	check "cli prefetch: --timeout gives up: exit 1, one line" sh -c "
		[ $rc -eq 1 ] && [ \$(wc -l < '$T/err') -eq 1 ] &&
		grep -q '^gupnw: prefetch $DATA/cold-64m: gave up after [0-9.]* s (--timeout), [0-9]* of 16384 pages resident\$' '$T/err'" || show
fi
}

# Pages whose read was never started (C) and no page arrived (N) in the
# window: --wait must probe NOWAIT again to start their reads, else it
# waits for nothing until the timeout.  With max_io_pages 0 the first probe
# starts no read; the cap is raised while --wait looks (the sleep only
# orders the two: if it came too soon the case would pass regardless).
tcase wait-starts-cold-pages && {
io=/sys/module/gupnw/parameters/max_io_pages
old_io=$(cat "$io")
cold
echo 0 > "$io"
"$CLI" prefetch --wait --interval 0.05 --timeout 60 "$DATA/cold-64m" >"$T/out" 2>"$T/err" &
pf=$!
sleep 2
echo 256 > "$io"
wait $pf
rc=$?
echo "$old_io" > "$io"
check "cli prefetch: max_io_pages 0: the first probe started no read (all C)" \
	sh -c "awk -v f='$DATA/cold-64m' '\$NF == f && \$5 == 16384 { x = 1 } END { exit !x }' '$T/out'" || show
check "cli prefetch: --wait starts the reads of C pages, all resident" \
	sh -c "[ $rc -eq 0 ] && tail -n 1 '$T/out' | grep -q '^$DATA/cold-64m: 16384/16384 pages resident'" || show
}

# Only a regular file or a block device: a FIFO is refused at once (its
# open would wait for a writer), a /proc file has no pages.
tcase fifo-refused && {
mkfifo "$T/fifo"
run timeout 10 "$CLI" prefetch --wait "$T/fifo"
check "cli prefetch: a FIFO is refused at once, exit 1" sh -c "
	[ $rc -eq 1 ] && grep -qx 'gupnw: $T/fifo: not a regular file' '$T/err'" || show
run "$CLI" probe /proc/self/status
check "cli probe: a /proc file has no pages, exit 1" sh -c "
	[ $rc -eq 1 ] && grep -qx 'gupnw: /proc/self/status: no pages: a file of proc, made up when read' '$T/err'" || show
}

tcase missing-file && {
run "$CLI" prefetch "$DATA/does-not-exist"
check "cli prefetch: missing file exits 1 with one 'gupnw: ' line" sh -c "
	[ $rc -eq 1 ] && [ \$(wc -l < '$T/err') -eq 1 ] && grep -q '^gupnw: ' '$T/err'" || show
}

tcase no-file && {
run "$CLI" prefetch
check "cli prefetch: no FILE exits 2" [ "$rc" -eq 2 ] || show
}
tap_case=

rm -rf "$T"
exit $failed
