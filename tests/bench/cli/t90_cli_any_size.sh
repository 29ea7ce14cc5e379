#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t90_cli_any_size: time and maximum RSS of the gupnw tool on probes of 16 TiB
# and of a whole 128 TiB address space (--pid, the length cut at the end of
# user space), human and JSON, default and report-only mode.  A benchmark, not
# a test: it prints figures for BENCHMARKS.md ("CLI on huge ranges"):
#   GUPNW_EXTRA_TESTS=tests/bench/cli GUPNW_TESTS=t90 tests/vm/run.sh 6.12
# busybox sh; prints TAP (unnumbered).
CLI=${GUPNW_CLI:-/bin/gupnw}
. "${0%/*}/tap.shlib"

# A target with some memory: the tool itself would measure its own probe.
sleep 600 &
spid=$!
sleep 1

# bench LABEL ARGS...: one line "LABEL: S s, RSS KiB" from busybox time -v.
bench() {
	label=$1
	shift
	busybox time -v "$CLI" "$@" >"$T/out" 2>"$T/time"
	rc=$?
	s=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$T/time")
	kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T/time")
	bytes=$(wc -c <"$T/out")
	if [ "$rc" -eq 0 ]; then
		ok "cli size: $label"
	else
		notok "cli size: $label (exit $rc)"; show
	fi
	diag "BENCH cli $label: $s wall, max RSS $kb KiB, $bytes bytes of output"
}

bench "--pid 0 16T, human" probe --map-width 78 --pid "$spid" 0 16T
bench "--pid 0 16T, --no-fault" probe --no-fault --map-width 78 --pid "$spid" 0 16T
bench "--pid 0 16T, --json" probe --json --pid "$spid" 0 16T
bench "--pid 0 128T (cut at the end of user space), human" probe --map-width 78 --pid "$spid" 0 128T
bench "--pid 0 128T, --no-fault --json" probe --no-fault --json --pid "$spid" 0 128T
bench "--pid 0 128T, --ranges" probe --ranges --map-width 78 --pid "$spid" 0 128T
bench "maps --pid" maps --pid "$spid"
# A small range for scale: 64 MiB of a file.
bench "64 MiB file, --json" probe --json /mnt/data/cold-64m

kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
rm -rf "$T"
exit $failed
