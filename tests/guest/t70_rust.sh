#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t70_rust: the Rust crate (bindings/rust/) in the guest.  Its device tests
# (bindings/rust/tests/device.rs, a static test program) run against the
# module, each test one TAP line: states on real memory, errors as
# std::io::Error with the right kind, the tokio ready() on a cold range of the
# throttled disk (io_uring and blocking-pool paths), a dropped ready()
# cancelled, nothing left open or in flight.  Then the example server
# (examples/mmap_server.rs) runs once, briefly, in every mode, with its
# numbers printed; the benchmark (make bench) runs it longer.
# The example runs once the throttled disk is idle; on 7.x a cold fault of the plain
# server reads far more than on 6.x, so the test asks for a longer limit.
# Cases: crate-tests, example-server.  busybox sh; prints TAP; exits 1 if
# anything failed.
# gupnw-test-timeout: 900
# shellcheck source=tests/guest/tap.shlib
# shellcheck source=tap.shlib
. "${0%/*}/tap.shlib"

TESTS=${GUPNW_RUST_TESTS:-/bin/gupnw-rust-tests}
SERVER=${GUPNW_MMAP_SERVER:-/bin/gupnw-mmap-server}
FILE=${GUPNW_SLOW:-/mnt/slow}/cold-64m

# Case crate-tests: one thread, since the cold-range tests share the throttled disk.
# The harness's own lines become TAP; anything else is a comment.
crate_tests() {
	if [ ! -x "$TESTS" ]; then
		skip "rust: crate tests run" "no $TESTS (make -C bindings/rust guest)"
		return
	fi
	"$TESTS" --test-threads=1 >"$T/out" 2>&1
	rc=$?
	while IFS= read -r l; do
		case $l in
		"test "*" ... ok") n=${l#test }; ok "rust: ${n% ... ok}" ;;
		"test "*" ... FAILED") n=${l#test }; notok "rust: ${n% ... FAILED}" ;;
		"test "*" ... ignored") n=${l#test }; skip "rust: ${n% ... ignored}" "ignored" ;;
		*) [ -n "$l" ] && diag "$l" ;;
		esac
	done <"$T/out"
	check "rust: crate tests exit 0" [ $rc -eq 0 ]
	grep -q '^test result: ok' "$T/out" || notok "rust: crate tests report a result"
}

# Case example-server: the example runs once, briefly, in every mode.
example_server() {
	if [ ! -x "$SERVER" ] || [ ! -f "$FILE" ]; then
		skip "rust: example server runs" "no $SERVER or $FILE"
		return
	fi
	# The debug kernel is built without networking: no loopback for the server.
	if [ ! -d /proc/net ]; then
		skip "rust: example server runs" "kernel without networking (no /proc/net)"
		return
	fi
	# The server and its load generator talk over 127.0.0.1: bring up lo.
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
	wait_disk_idle "${GUPNW_SLOW:-/mnt/slow}"
	run "$SERVER" "$FILE" --seconds 2
	diag "$(cat "$T/out")"
	check "rust: example server exits 0" [ $rc -eq 0 ] || show
	for m in "plain, no cold" "gupnw, no cold" "plain + cold" "blocking + cold" "gupnw + cold"; do
		check "rust: example server reports '$m'" grep -q "^$m " "$T/out"
	done
	# Every mode has hot latencies (a stalled plain server's unanswered requests
	# count with their age).
	check "rust: example server measured hot latencies in every mode" \
		[ "$(grep -c '^# run .* p99 [0-9.]* ms' "$T/out")" -eq 5 ]
	# The cold traffic reached the server: spawn_blocking serves it in any run.  How
	# many cold records the plain and the gupnw server answer in a 2 s run is a
	# figure, not a check (make bench reports it): the plain server's first cold
	# fault stalls a worker for seconds, and any mode's cold reads may queue behind
	# someone else's on the throttled disk (on 7.3 before tests/vm/guest-init.sh
	# stopped khugepaged reading, a gupnw run answered none in the window).
	check "rust: example server served cold records with spawn_blocking" \
		grep -qE '^# run blocking \+ cold .*; cold [1-9]' "$T/out"
	diag "cold records served in 2 s with gupnw: $(sed -n 's/^# run gupnw + cold .*; cold \([0-9]*\).*/\1/p' "$T/out")"
}

tcase crate-tests && crate_tests
tcase example-server && example_server
exit "$failed"
