#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side, run by /init after the tests when GUPNW_FUZZ_SECONDS > 0 (the debug
# guest: 60 s in "make check", 600 s in "make fuzz"): the ioctl fuzzer as root and,
# at the same time, as an unprivileged user (whose probes take other paths: the
# page-cache rule, /proc/PID/mem of its own processes only).  Framed like a test so
# the host fails a crash or non-zero exit (scan-log.sh); a hang is caught by the
# fuzzer's own watchdog, and by timeout if the watchdog itself cannot run.
secs=${GUPNW_FUZZ_SECONDS:-0}
[ "$secs" -gt 0 ] || exit 0
fuzz=/bin/gupnw-fuzz
cd /tmp || exit 1
if [ ! -x $fuzz ]; then
	echo "not ok - fuzz: $fuzz missing (make -C tests/fuzz)"
	exit 1
fi
seed=${GUPNW_FUZZ_SEED:-}
for who in root user; do
	echo "GUPNW-TEST-BEGIN gupnw-fuzz-$who"
	(
		start=$(date +%s)
		set -- $fuzz -t "$secs" -n "$who" ${seed:+-s "$seed"}
		[ $who = user ] && set -- "$@" -u 1000
		rc=0
		timeout -s KILL $((secs + 120)) "$@" </dev/null || rc=$?
		echo "GUPNW-TEST-END gupnw-fuzz-$who $rc $(($(date +%s) - start))"
	) &
done
wait
