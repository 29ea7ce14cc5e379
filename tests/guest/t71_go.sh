#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t71_go: the Go package (bindings/go/) in the guest.  Its device tests
# (bindings/go/device_test.go, a static "go test -c" program) run against the
# module, each Go test one TAP line: states on real memory, errors wrapping
# the kernel's errno, Ready on a cold range of the throttled disk through the
# io_uring and through the Wait-probe fallback, thousands of goroutines at
# once, a Ready cancelled by its context, Close with a Ready in flight, and the
# parking at GOMAXPROCS=1 (another goroutine runs while Ready waits, no Go
# thread sleeps in D).
# Cases: package-tests.  busybox sh; prints TAP; exits 1 if anything failed.
# gupnw-test-timeout: 600
# shellcheck source=tests/guest/tap.shlib
. "${0%/*}/tap.shlib"

TESTS=${GUPNW_GO_TESTS:-/bin/gupnw-go-tests}

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

tcase package-tests && package_tests
exit "$failed"
