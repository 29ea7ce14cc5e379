#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t53_uring_sched: the example user-level scheduler (userspace/examples/)
# runs on the throttled disk in all three modes and its output is sane:
# every mode reads the same bytes (equal checksums), the scheduler parks
# tasks on 'W' pages and its thread never takes a major fault, while the
# thread-per-task and touch modes do block on faults.
# Readahead of the slow disk is cut to 16 KiB for the run (each cold fault
# otherwise reads 128 KiB: 1.6 s at 20 x 4 KiB/s), then restored.
# Earlier tests may leave reads queued on the throttled disk (at 20 I/Os a second a
# backlog takes minutes): the run starts once the disk is idle, so its baseline modes
# measure their own faults, and the test gets a longer limit than the default 300 s.
# busybox sh; prints TAP (tap.shlib: a case per behaviour, all of them looking at the
# one run of the example that the first selected case starts, so each runs alone too:
# GUPNW_TESTS=t53:same-checksums); exits 1 if anything failed.
# gupnw-test-timeout: 900

BIN=${GUPNW_URING_SCHED:-/bin/gupnw-uring-sched}
FILE=${GUPNW_SLOW:-/mnt/slow}/cold-64m
# shellcheck source=tap.shlib
. "${0%/*}/tap.shlib"
rm -rf "$T"	# no scratch files here

if [ ! -x "$BIN" ] || [ ! -f "$FILE" ]; then
	skip "uring sched: example runs" "no $BIN or $FILE"
	exit 0
fi
old_ra=
ra=
old_io=
io=/sys/module/gupnw/parameters/max_io_pages
trap '[ -n "$old_ra" ] && echo "$old_ra" > "$ra"; [ -n "$old_io" ] && echo "$old_io" > "$io"; tap_plan' EXIT

# sched_run: run the example once, for the first case that asks: its output in $out,
# its exit status in $rc.
ran=0
sched_run() {
	[ $ran = 1 ] && return 0
	ran=1
	dev=$(awk -v m="${GUPNW_SLOW:-/mnt/slow}" '$2 == m { print $1 }' /proc/mounts)
	wait_disk_idle "${GUPNW_SLOW:-/mnt/slow}"
	ra=/sys/block/${dev#/dev/}/queue/read_ahead_kb
	[ -n "$old_ra" ] || old_ra=$(cat "$ra" 2>/dev/null)
	[ -n "$old_ra" ] && echo 16 > "$ra"

	out=$("$BIN" -t 8 -s 3 -w 20000 "$FILE" 2>&1); rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
}
line() { printf '%s\n' "$out" | grep "^$1 "; }
field() { line "$1" | sed -n "s/.* $2 \([0-9.]*\).*/\1/p"; }

tcase example-exits && {
sched_run
check "uring sched: example exits 0" [ "$rc" -eq 0 ]
}
tcase every-mode-reports && {
sched_run
for m in sched threads touch; do
	check "uring sched: $m mode reports" [ -n "$(field $m checksum)" ]
done
}
tcase same-checksums && {
sched_run
c=$(field sched checksum)
check "uring sched: all modes read the same bytes (checksums equal)" \
	[ -n "$c" -a "$c" = "$(field threads checksum)" -a "$c" = "$(field touch checksum)" ]
}
tcase sched-parks-tasks && {
sched_run
check "uring sched: the scheduler parked tasks on W pages" \
	[ "$(field sched parked)" -gt 0 ] 2>/dev/null
}
tcase sched-thread-no-major-fault && {
sched_run
check "uring sched: the scheduler thread never took a major fault" \
	[ "$(field sched "task-thread majflt")" = 0 ]
}
tcase threads-block-on-faults && {
sched_run
check "uring sched: thread-per-task threads blocked on faults" \
	[ "$(field threads "task-thread majflt")" -gt 0 ] 2>/dev/null
}
tcase touch-blocks-on-faults && {
sched_run
check "uring sched: the touching thread blocked on faults" \
	[ "$(field touch "task-thread majflt")" -gt 0 ] 2>/dev/null
}
# With max_io_pages 0 a NOWAIT probe starts no read: a cold page reads C.
# The scheduler parks such a task as on W (its READY starts the read);
# touching the page on its own thread would be a major fault.
tcase sched-parks-on-cold && {
dev=$(awk -v m="${GUPNW_SLOW:-/mnt/slow}" '$2 == m { print $1 }' /proc/mounts)
wait_disk_idle "${GUPNW_SLOW:-/mnt/slow}"
ra=/sys/block/${dev#/dev/}/queue/read_ahead_kb
[ -n "$old_ra" ] || old_ra=$(cat "$ra" 2>/dev/null)
[ -n "$old_ra" ] && echo 16 > "$ra"
old_io=$(cat "$io")
echo 0 > "$io"
cout=$("$BIN" -m sched -t 4 -s 2 -w 1000 "$FILE" 2>&1); crc=$?
echo "$old_io" > "$io"
old_io=
printf '%s\n' "$cout" | sed 's/^/# /'
cfield() { printf '%s\n' "$cout" | grep '^sched ' | sed -n "s/.* $1 \([0-9.]*\).*/\1/p"; }
check "uring sched: max_io_pages 0: the example exits 0" [ $crc -eq 0 ]
check "uring sched: max_io_pages 0: tasks parked on C pages" \
	[ "$(cfield parked)" -gt 0 ] 2>/dev/null
check "uring sched: max_io_pages 0: the scheduler thread took no major fault" \
	[ "$(cfield "task-thread majflt")" = 0 ]
}
tap_case=
exit $failed
