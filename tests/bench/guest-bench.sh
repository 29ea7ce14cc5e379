#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /bench/run in the guest (GUPNW_RUN=bench; tests/vm/guest-init.sh has mounted the disks
# and loaded gupnw.ko): mount debugfs and tracefs, load gup_test.ko if it was built, run
# the benchmark.  Its report goes to the console between GUPNW-BENCH-BEGIN/END lines.
set -u
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

status=$(cat /bench/gup_test.status 2>/dev/null) || status="failed gup_test.ko was not packed"
case $status in
ok*)
	if ! why=$(insmod /bench/gup_test.ko 2>&1); then
		status="failed insmod gup_test.ko: $why"
	elif [ ! -e /sys/kernel/debug/gup_test ]; then
		status="failed gup_test.ko loaded, but no /sys/kernel/debug/gup_test"
	fi
	;;
esac
export GUPNW_GUP_TEST_STATUS="$status"
echo "# bench: THP $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"

cd /tmp || exit 1

# GUPNW_BENCH_ONLY: the parts to run, comma-separated (bench = gupnw_bench, sweep =
# its range-size sweep alone, tokio, bbolt, erigon = the Go cold pages per second,
# threads = probe_threads); unset or empty: all.
only() {
	case ",${GUPNW_BENCH_ONLY:-all}," in
	*,all,* | *,"$1",*) return 0 ;;
	esac
	return 1
}

# The tokio server of the Rust crate (bindings/rust/examples/mmap_server.rs), if packed,
# runs first, while the throttled disk has no reads queued (the benchmark below leaves
# many); its table is printed after the benchmark's report, as a second report block
# that run.sh appends to the first.
server_rc=
# Its last runs (":N") have GUPNW_BENCH_SERVER_COLD (default 1000) cold connections;
# GUPNW_BENCH_SERVER_MODES, if set, is the list of runs (its --modes).
if [ -x /bench/gupnw-mmap-server ] && only tokio; then
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
	server_rc=0
	many=${GUPNW_BENCH_SERVER_COLD:-1000}
	timeout -s TERM -k 5 900 /bench/gupnw-mmap-server "${GUPNW_SLOW:-/mnt/slow}/cold-64m" \
		--seconds "${GUPNW_BENCH_SERVER_SECONDS:-20}" \
		--modes "${GUPNW_BENCH_SERVER_MODES:-baseline,baseline-gupnw,plain,blocking,gupnw,plain:$many,gupnw:$many,gupnw1:$many,blocking:$many}" \
		</dev/null >/tmp/server.out 2>&1 || server_rc=$?
fi

# The bbolt server of the Go package (bindings/go/examples/bboltserver), likewise, on
# bolt.db of the throttled disk (tests/vm/build-disks.sh makes it); a third block.
bbolt_rc=
if [ -x /bench/gupnw-bbolt-server ] && only bbolt && [ -f "${GUPNW_SLOW:-/mnt/slow}/bolt.db" ]; then
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
	bbolt_rc=0
	# Its defaults: 8 rounds of 4 s per row (about 4 minutes in all).
	timeout -s TERM -k 5 600 /bench/gupnw-bbolt-server -bench "${GUPNW_SLOW:-/mnt/slow}/bolt.db" \
		</dev/null >/tmp/bbolt.out 2>&1 ||
		bbolt_rc=$?
fi

# erigon's measurement (issue #17): cold pages made present per second by 64 goroutines,
# plain touching (each fault holds its P) vs Ready first (the reads overlap in io-wq),
# at GOMAXPROCS 2 and 4; a block of its own.  On the latency disk (/dev/vde, every read
# 1 ms, any number at once, as on erigon's NVMe; tests/vm/boot.sh) mapped whole, its
# read latency timed first; then one round on the fast disk's cold-64m, where a read
# costs little next to the emulated CPU.  The page cache is dropped after, so the
# benchmark below finds that file cold again.
erigon_rc=
if [ -x /bench/gupnw-bbolt-server ] && only erigon; then
	erigon_rc=0
	lat=${GUPNW_LAT_DEV:-/dev/vde}
	# guest-init.sh waits for vda..vdd only: give the fifth disk up to 10 s to probe.
	n=0
	while [ ! -b "$lat" ] && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if [ -b "$lat" ]; then
		echo "the latency disk ($lat, 1 ms per read):" >/tmp/erigon.out
		timeout -s TERM -k 5 300 /bench/gupnw-bbolt-server -touch "$lat" -pages 4096 -touch-rounds 3 \
			</dev/null >>/tmp/erigon.out 2>&1 || erigon_rc=$?
	else
		echo "no latency disk: $lat is not a block device" >/tmp/erigon.out
		erigon_rc=1
	fi
	echo "the fast disk's cold-64m (a host file; one round):" >>/tmp/erigon.out
	timeout -s TERM -k 5 300 /bench/gupnw-bbolt-server -touch "${GUPNW_DATA:-/mnt/data}/cold-64m" \
		</dev/null >>/tmp/erigon.out 2>&1 || erigon_rc=$?
	sync
	echo 3 >/proc/sys/vm/drop_caches
fi

if only bench || only sweep; then
	rc=0
	timeout -s TERM -k 5 "${GUPNW_BENCH_TIMEOUT:-900}" /bench/gupnw_bench </dev/null || rc=$?
	echo "GUPNW-BENCH-EXIT $rc"
fi

# N threads probing one process (tests/bench/probe_threads.c); a block of its own.
threads_rc=
if [ -x /bench/probe_threads ] && only threads; then
	threads_rc=0
	timeout -s TERM -k 5 300 /bench/probe_threads </dev/null >/tmp/threads.out 2>&1 ||
		threads_rc=$?
fi

if [ -n "$server_rc" ]; then
	echo GUPNW-BENCH-BEGIN
	echo
	echo "tokio server: 4 KiB records of a 64 MiB file mmap'd from the throttled disk, hot p50/p99/max"
	echo "(ms, from each request's scheduled send time) with and without cold traffic:"
	echo "plain = the task reads the mapping, blocking = spawn_blocking, gupnw = ready().await first"
	echo "(io_uring READY), gupnw1 = ready().await on a blocking pool of one thread; N cold = N connections."
	grep -v '^# run ' /tmp/server.out
	echo GUPNW-BENCH-END
	echo "GUPNW-BENCH-EXIT $server_rc"
fi
if [ -n "$bbolt_rc" ]; then
	echo GUPNW-BENCH-BEGIN
	echo
	echo "Go bbolt server (GOMAXPROCS=2): values of a bbolt database on the throttled disk, hot p50/p99/max"
	echo "(ms, from each request's scheduled send time) with and without cold traffic:"
	echo "plain = bbolt's Get, pread = the B+tree walk with pread, gupnw = Ready(ctx, page) on each page first."
	grep -v '^# run ' /tmp/bbolt.out
	echo GUPNW-BENCH-END
	echo "GUPNW-BENCH-EXIT $bbolt_rc"
fi
if [ -n "$erigon_rc" ]; then
	echo GUPNW-BENCH-BEGIN
	echo
	echo "cold pages made present per second (erigon's measurement): 64 goroutines, MADV_RANDOM"
	echo "(one read per fault); plain = each touches its pages (the fault holds its P), Ready ="
	echo "Ready(ctx, page) first (the goroutine parked; the READY waits on the page's read with no"
	echo "thread where the module offers it, else in io-wq); erigon's = its faults taken from C"
	echo "through cgo (outside the P) over faults taken from Go."
	cat /tmp/erigon.out
	echo GUPNW-BENCH-END
	echo "GUPNW-BENCH-EXIT $erigon_rc"
fi
if [ -n "$threads_rc" ]; then
	echo GUPNW-BENCH-BEGIN
	echo
	echo "probe threads: N threads probing one process at once, with and without mmap/munmap in it:"
	cat /tmp/threads.out
	echo GUPNW-BENCH-END
	echo "GUPNW-BENCH-EXIT $threads_rc"
fi
