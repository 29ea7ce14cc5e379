#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What "make demo" shows: gupnw on a cold file of the throttled disk, before and after
# reading it.
set -u
f=/mnt/slow/cold-64m

step() {
	echo
	printf '=== %s\n' "$1"
	shift
	[ $# -eq 0 ] || printf '    %s\n' "$@"
}
run() {
	echo "# $*"
	"$@"
}

command -v gupnw >/dev/null || echo "(no /bin/gupnw: the CLI was not built)"
# QEMU's throttle lets a burst through at once on an idle disk: spend it on a part of
# the file the demo does not look at, so the probe meets the disk's real speed.
dd if="$f" of=/dev/null bs=128k count=1 skip=256 2>/dev/null
step "1. $f has not been read since boot, and its disk is slow (20 x 4 KiB I/Os per second)." \
	"gupnw asks the kernel for the first 2 MiB without waiting: expect W (needs I/O) for" \
	"every page.  The probe starts the reads but returns at once."
run time gupnw probe -p 0-2M "$f"

step "2. Read the range the ordinary way: this waits for the slow disk."
run time dd if="$f" of=/dev/null bs=64k count=32

step "3. Probe again: the pages are in the page cache now, so expect F (mapped by a fault" \
	"that needed no I/O) or R (already mapped): nothing left to wait for."
run time gupnw probe -p 0-2M "$f"

step "4. The same as one JSON object, for programs: one letter per page in \"map\"." \
	"From 1984K: 16 pages read in step 2 (F), then 16 never read (W: reads started)." \
	"Then report-only mode on a part not read yet: it only looks, and says C (cold: a" \
	"touch would read storage) without starting anything."
run gupnw probe --json -p 1984K-2112K "$f"
run gupnw probe --json --no-fault -p 8M-8224K "$f"
