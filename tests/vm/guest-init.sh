#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
# /init of the test guest: bring up the file systems, disks and swap, load gupnw.ko, run
# the tests (or the demo), unload the module, dump the kernel log and power off.
#
# Options come from the kernel command line (words with "=" and no dot reach /init as
# environment variables; no spaces in values):
#   GUPNW_RUN=tests|demo|bench|fuzz  what to run (default tests; bench: /bench/run,
#                              packed by tests/bench/run.sh; fuzz: only the fuzzer)
#   GUPNW_TESTS=pat[,pat...]   run only tests whose file name matches a shell pattern
#   GUPNW_TEST_TIMEOUT=secs    per-test limit (default 300)
#   GUPNW_FUZZ_SECONDS=secs    then run the ioctl fuzzer that long (default 0: not)
#   GUPNW_FUZZ_SEED=n          its seed (default: from the clock, printed)
#   GUPNW_DEBUG=1              the debug kernel: kmemleak must be there
# On a kernel with kmemleak (the debug kernel) a scan runs before the module unloads.
#
# No "set -e": this is PID 1, and a kernel panic for a failed mount would hide the
# report.  Every step reports in TAP instead, and the guest always powers off.
set -u
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# kmemleak and fault injection live in debugfs (debug kernel); harmless elsewhere.
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# The trace events the tests record are on from boot (run.sh's trace_event=): nothing
# is recorded until a test asks (tests/guest/gupnw_test_trace.h, GT_TRACE_QUIET).
if mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null; then
	echo 0 >/sys/kernel/tracing/tracing_on
	while IFS=: read -r sys ev; do
		echo 'common_pid < 0' >"/sys/kernel/tracing/events/$sys/$ev/filter"
	done </sys/kernel/tracing/set_event
fi
# The first memory cgroup turns on static keys used in the allocator's hot paths, and
# each group's socket accounting counts one up (6.12 mm/memcontrol.c:3116, :3634): a
# group made now and kept patches that code once, while the guest is quiet and before
# the module loads (a boot that dies before that is booted again, run.sh), not each
# time a test makes the first group or removes the last.
echo +memory >/sys/fs/cgroup/cgroup.subtree_control && mkdir -p /sys/fs/cgroup/gupnw-keep

# virtio_blk (and what it needs) are modules in Debian's cloud kernels; the list is
# empty for the debug kernel, which has them built in.
while read -r ko; do
	insmod "/lib/modules/vm/$ko" || echo "# insmod $ko failed"
done </lib/modules/vm/order

wait_for() {
	n=0
	while [ ! -e "$1" ] && [ $n -lt 200 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	[ -e "$1" ]
}

disks_up() {
	for d in vda vdb vdc vdd; do
		wait_for /dev/$d || { echo "/dev/$d never appeared"; return 1; }
		# The same read-ahead window on every kernel line: 7.3 sizes it from
		# max_sectors for a "rotational" disk without an optimal I/O size
		# (7.3 block/blk-settings.c:79-84), 8 MiB on QEMU's virtio disks, where
		# 6.1 and 6.12 keep 128 KiB; the baselines (ordinary faults and reads on
		# the 20-IOPS disk) would read megabytes per miss.  t17 raises it for
		# itself: the module's own I/O must not depend on it.
		echo 128 >/sys/block/$d/queue/read_ahead_kb || { echo "read_ahead_kb of $d"; return 1; }
	done
	# noatime: a read must not queue an inode write on the throttled disk.
	mount -t ext4 -o noatime /dev/vda /mnt/data || { echo "mount /dev/vda failed"; return 1; }
	mount -t ext4 -o noatime /dev/vdc /mnt/slow || { echo "mount /dev/vdc failed"; return 1; }
	# Read-only: nothing may be written through the failing disk.
	mount -t ext4 -o ro,noatime /dev/vdd /mnt/eio || { echo "mount /dev/vdd failed"; return 1; }
	swapon /dev/vdb || { echo "swapon /dev/vdb failed"; return 1; }
	# 7.x: khugepaged collapses file mappings too, now that ext4 has large folios
	# (7.3 mm/huge_memory.c file_thp_enabled(), with THP "always", Debian's default),
	# and fills each 2 MiB range by reading what is missing (7.3 mm/khugepaged.c
	# collapse_file()): on the 20-IOPS disk one collapse is up to 512 I/O units, 25 s
	# that every other read there queues behind, long after the test that mapped the
	# file.  With max_ptes_none 0 it collapses only ranges already in memory, file or
	# anonymous (7.3 mm/khugepaged.c:2783), so it starts no reads, on every line alike;
	# t46 and t48 give it the default back for their own collapses.
	echo 0 >/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none ||
		{ echo "khugepaged max_ptes_none"; return 1; }
	if [ ! -f /mnt/data/root-ro ] || [ ! -f /mnt/slow/cold-64m ] || [ ! -f /mnt/eio/bad ]; then
		echo "the disks lack their files (build-disks.sh)"
		return 1
	fi
}
if why=$(disks_up 2>&1); then
	echo "ok - guest disks: vda /mnt/data, vdb swap, vdc /mnt/slow, vdd /mnt/eio"
else
	echo "not ok - guest disks: $why"
fi

export GUPNW_DATA=/mnt/data GUPNW_SLOW=/mnt/slow GUPNW_EIO=/mnt/eio GUPNW_KO=/lib/gupnw/gupnw.ko
GUPNW_KVER=$(uname -r)
export GUPNW_KVER

if [ ! -f "$GUPNW_KO" ]; then
	echo "not ok - module loads: $GUPNW_KO is missing (module build failed?)"
elif why=$(insmod "$GUPNW_KO" 2>&1); then
	wait_for /dev/gupnw
	echo "ok - module loads"
else
	echo "not ok - module loads: $why"
fi

case ${GUPNW_RUN:-tests} in
demo)
	/lib/gupnw/demo
	;;
bench)
	if [ -x /bench/run ]; then
		/bench/run
	else
		echo "not ok - bench: /bench/run is missing (initramfs built without GUPNW_BENCH_DIR)"
	fi
	echo GUPNW-DMESG-BEGIN
	dmesg
	echo GUPNW-DMESG-END
	;;
*)
	[ "${GUPNW_RUN:-tests}" = fuzz ] || /lib/gupnw/run-tests
	/lib/gupnw/fuzz
	/lib/gupnw/kmemleak
	# Tests may unload and reload the module; whatever they left, a loaded module
	# must unload.  A READY without a worker whose process has exited ends
	# when the read it waits for does (docs/design.md), which can be seconds
	# on the throttled disk: wait up to 60 s for the module to be unused (a
	# command that never ends still fails here).
	if grep -q '^gupnw ' /proc/modules; then
		n=0
		while [ "$(cat /sys/module/gupnw/refcnt 2>/dev/null || echo 0)" != 0 ] &&
		      [ $n -lt 60 ]; do
			sleep 1
			n=$((n + 1))
		done
		[ $n = 0 ] || echo "# waited $n s for the module's last commands to end"
		if why=$(rmmod gupnw 2>&1); then
			echo "ok - module unloads"
		else
			echo "not ok - module unloads: $why"
		fi
	else
		echo "ok - module unloads # SKIP not loaded at the end"
	fi
	echo GUPNW-DMESG-BEGIN
	dmesg
	echo GUPNW-DMESG-END
	;;
esac
echo GUPNW-GUEST-END
# No sync (-n): the disks are snapshots QEMU throws away.
poweroff -n -f
