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
rc=0
timeout -s TERM -k 5 "${GUPNW_BENCH_TIMEOUT:-900}" /bench/gupnw_bench </dev/null || rc=$?
echo "GUPNW-BENCH-EXIT $rc"
