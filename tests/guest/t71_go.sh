#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t71_go: the Go package (bindings/go/) in the guest.  Its device tests
# (bindings/go/device_test.go, a static "go test -c" program) run against the
# module, each Go test one TAP line: states on real memory, errors wrapping
# the kernel's errno, Ready on a cold range of the throttled disk through the
# io_uring and through the Wait-probe fallback, thousands of goroutines at
# once, a Ready cancelled by its context, Close with a Ready in flight, and the
# parking at GOMAXPROCS=1 (another goroutine runs while Ready waits, no Go
# thread sleeps in D).  Then the bbolt example server (examples/bboltserver)
# runs once, briefly, in every mode, with its numbers printed; the benchmark
# (make bench) runs it longer.
# Cases: package-tests, example-server.  busybox sh; prints TAP; exits 1 if anything failed.
# gupnw-test-timeout: 900
# shellcheck source=tests/guest/tap.shlib
. "${0%/*}/tap.shlib"

TESTS=${GUPNW_GO_TESTS:-/bin/gupnw-go-tests}
SERVER=${GUPNW_BBOLT_SERVER:-/bin/gupnw-bbolt-server}
DB=${GUPNW_SLOW:-/mnt/slow}/bolt.db

# Case package-tests: the tests run one at a time (go test's default); their
# own lines become TAP, anything else a comment.
package_tests() {
	if [ ! -x "$TESTS" ]; then
		skip "go: package tests run" "no $TESTS (make -C bindings/go guest)"
		return
	fi
	# The cold-range tests share the throttled disk: start with it idle.
	wait_disk_idle "${GUPNW_SLOW:-/mnt/slow}"
	"$TESTS" -test.v -test.timeout 500s >"$T/out" 2>&1
	rc=$?
	while IFS= read -r l; do
		case $l in
		"--- PASS: "*) n=${l#--- PASS: }; ok "go: ${n% (*}" ;;
		"--- FAIL: "*) n=${l#--- FAIL: }; notok "go: ${n% (*}" ;;
		"--- SKIP: "*) n=${l#--- SKIP: }; skip "go: ${n% (*}" "skipped" ;;
		"=== RUN"*) ;;
		*) [ -n "$l" ] && diag "$l" ;;
		esac
	done <"$T/out"
	check "go: package tests exit 0" [ $rc -eq 0 ]
	check "go: package tests report PASS" grep -q '^PASS$' "$T/out"
}

# Case example-server: one short run per row; the figures are for make bench.
example_server() {
	if [ ! -x "$SERVER" ] || [ ! -f "$DB" ]; then
		skip "go: bbolt example server runs" "no $SERVER or $DB (tests/vm/build-disks.sh makes it)"
		return
	fi
	if [ ! -d /proc/net ]; then
		skip "go: bbolt example server runs" "kernel without networking (no /proc/net)"
		return
	fi
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
	wait_disk_idle "${GUPNW_SLOW:-/mnt/slow}"
	# Six rows of 2 s and a server start each: a hang must not eat the file's limit.
	run timeout -s TERM -k 5 240 "$SERVER" -bench "$DB" -seconds 2 -rounds 1
	diag "$(cat "$T/out")"
	check "go: bbolt example server exits 0" [ $rc -eq 0 ] || show
	for m in "plain, no cold" "pread, no cold" "gupnw, no cold" "plain + cold" "pread + cold" "gupnw + cold"; do
		check "go: bbolt example server reports '$m'" grep -q "^# run $m: hot p50 [0-9.]* p99 [0-9.]*" "$T/out"
	done
	# The cold traffic reached the server through pread in any run (how many the
	# plain and gupnw servers answer in 2 s is a figure for make bench).
	check "go: bbolt example server served cold keys with pread" \
		grep -qE '^# run pread \+ cold: .*; cold [1-9]' "$T/out"
	# Cold pages per second, plain touching vs Ready first: a short run on the fast
	# disk's cold-64m (other files' tests read it: drop the page cache after).
	run timeout -s TERM -k 5 120 "$SERVER" -touch "${GUPNW_DATA:-/mnt/data}/cold-64m" -pages 256
	diag "$(cat "$T/out")"
	check "go: cold pages per second measured at GOMAXPROCS 2 and 4" \
		[ "$(grep -cE '^\| [24] \| [0-9]+ \| [0-9]+ \|' "$T/out")" -eq 2 ] || show
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

tcase package-tests && package_tests
tcase example-server && example_server
exit "$failed"
