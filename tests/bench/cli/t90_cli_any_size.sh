#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t90_cli_any_size: time and maximum RSS of the gupnw tool on probes of 16 TiB
# and of a whole 128 TiB address space (--pid, the length cut at the end of
# user space), human and JSON, default and report-only mode.  A benchmark, not
# a test: it prints figures for BENCHMARKS.md ("CLI on huge ranges"):
#   GUPNW_EXTRA_TESTS=tests/bench/cli GUPNW_TESTS=t90\* tests/vm/run.sh 6.12
# busybox sh; prints TAP (unnumbered).
CLI=${GUPNW_CLI:-/bin/gupnw}
# shellcheck source=../../guest/tap.shlib
. "${0%/*}/tap.shlib"

# A target with some memory: the tool itself would measure its own probe.
sleep 600 &
spid=$!
sleep 1

# bench LABEL ARGS...: "LABEL: S s" from busybox time, then the peak RSS
# of the same probe: the tool's own VmHWM, read while "watch --count 3"
# sleeps after its third frame (busybox time's figure would include the
# forked shell's memory before exec).
bench() {
	label=$1
	shift
	busybox time -v "$CLI" probe "$@" >"$T/out" 2>"$T/time"
	rc=$?
	s=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$T/time")
	bytes=$(wc -c <"$T/out")
	"$CLI" watch --count 4 --interval 1 "$@" >/dev/null 2>"$T/werr" &
	wpid=$!
	sleep 2.5
	kb=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$wpid/status")
	wait "$wpid"
	if [ "$rc" -eq 0 ] && [ -n "$kb" ] && [ ! -s "$T/werr" ]; then
		ok "cli size: $label"
	else
		notok "cli size: $label (exit $rc)"; show
	fi
	diag "BENCH cli $label: $s wall, peak RSS ${kb:-?} KiB, $bytes bytes of output"
	diag "BENCH   $(grep -o 'length [0-9]*: [0-9]* pages' "$T/out" | head -n 1)$(grep -o '"pages":[0-9]*' "$T/out" | head -n 1)$(grep -o '"clipped":[a-z]*' "$T/out")"
}

bench "--pid 0 16T, human" --map-width 78 --pid "$spid" 0 16T
bench "--pid 0 16T, --no-fault" --no-fault --map-width 78 --pid "$spid" 0 16T
bench "--pid 0 16T, --json" --json --pid "$spid" 0 16T
bench "--pid 0 128T, human" --map-width 78 --pid "$spid" 0 128T
bench "--pid 0 128T, --no-fault --json" --no-fault --json --pid "$spid" 0 128T
# The whole address space, however large (cut at the end of user space).
bench "--pid 0 2^64-1, human" --map-width 78 --pid "$spid" 0 0xffffffffffffffff
bench "--pid 0 2^64-1, --json" --json --pid "$spid" 0 0xffffffffffffffff
# For scale: 64 MiB of a file, a letter per page in JSON.  Here the peak
# RSS also counts the file's pages the probe mapped into the tool itself.
bench "64 MiB file, --json" --json /mnt/data/cold-64m
bench "64 MiB file, human" --map-width 78 /mnt/data/cold-64m

kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
rm -rf "$T"
exit $failed
