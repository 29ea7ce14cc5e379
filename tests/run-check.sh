#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What "make check" runs after installing the dependencies: build the library and CLI,
# run the host tests, the compile-only sweep over every kernel line Debian has headers
# for (tests/vm/compat-check.sh), then the guest tests on each supported kernel under
# QEMU (6.1, 6.12 and the newest Debian cloud kernel, found at run time), then on
# the debug kernel (KASAN, lockdep, kmemleak, fault injection; built from
# linux-source-6.12 on first use in the background from the start, cached in
# build/debug-kernel/) followed by
# the ioctl fuzzer.  Every result is a TAP line, numbered here (a guest's C test
# gives one per case); the last line is "N passed, N failed[, N skipped]", the line
# before it "# checks: ..." (each case counted as the checks it made).  Exit 0 only
# if nothing failed (a kernel line that is not installed is a failure).
#   tests/run-check.sh [--host-only] [--no-host] [--kernel 6.1|6.12|newest|debug]...
# --no-host skips the host tests (make check-debug, make fuzz).
# A run of every kernel line also writes build/check/kernels.md, the exact kernels and
# what passed on each, for README's "Supported kernels" (tests/update-readme-kernels.sh).
# Logs are in build/check/ and build/vm/; see tests/vm/run.sh for GUPNW_TESTS and the
# other development knobs.
set -euo pipefail
cd "$(dirname "$0")/.."

host_only=0
no_host=0
kernels=()
while [ $# -gt 0 ]; do
	case $1 in
	--host-only) host_only=1 ;;
	--no-host) no_host=1 ;;
	--kernel) kernels+=("${2:?--kernel needs 6.1, 6.12, newest or debug}"); shift ;;
	*) echo "usage: $0 [--host-only] [--no-host] [--kernel 6.1|6.12|newest|debug]..." >&2; exit 2 ;;
	esac
	shift
done
full=0
[ ${#kernels[@]} -gt 0 ] || { kernels=(6.1 6.12 newest debug); full=1; }
[ $host_only = 1 ] && full=0
logs=${GUPNW_BUILD:-build}/check
mkdir -p "$logs"

# One build step as one TAP line; its output goes to a log, the tail of it to comments.
build_step() {
	local name=$1 log=$logs/$2
	shift 2
	if "$@" >"$log" 2>&1; then
		echo "ok - $name"
	else
		echo "not ok - $name (log: $log)"
		tail -n 15 "$log" | sed 's/^/# /'
	fi
}

# A TAP producer: passes its lines through, and fails it if it exits non-zero without
# a "not ok" of its own.
tap_step() {
	local name=$1 log=$logs/$2 rc=0
	shift 2
	"$@" 2>&1 | tee "$log" || rc=$?
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
		echo "not ok - $name: exit status $rc (log: $log)"
	fi
}

# The debug kernel is the longest single step of a fresh run (12-16 min on 2 cores).  It
# is built in the background at the lowest priority from the start, so it takes the CPU
# the other steps leave idle (apt and dpkg in the build roots, a guest waiting for the
# throttled disk) and yields it to them otherwise; the debug guest waits for it, then
# finds it in the cache (tests/vm/build-debug-kernel.sh).
debug_pid=
debug_start() {
	[ $host_only = 1 ] && return
	case " ${kernels[*]} " in *" debug "*) ;; *) return ;; esac
	nice -n 19 tests/vm/build-debug-kernel.sh >"$logs/debug-kernel.log" 2>&1 &
	debug_pid=$!
}
# The build's own time is in its cache log (build/debug-kernel/KEY.log); what the run
# pays for it is the wait.
debug_wait() {
	local t0
	[ -n "$debug_pid" ] || return 0
	t0=$(date +%s)
	if wait "$debug_pid"; then
		echo "# debug kernel built in the background (waited $(($(date +%s) - t0)) s for it)"
	else
		echo "# the background build of the debug kernel failed: run.sh builds it again"
		tail -n 5 "$logs/debug-kernel.log" | sed 's/^/# /'
	fi
	debug_pid=
}

checks() {
	debug_start
	build_step "userspace builds (make -C userspace)" userspace.log make -C userspace
	if [ -f tests/guest/Makefile ]; then
		build_step "guest tests build (make -C tests/guest)" guest-tests.log make -C tests/guest
	else
		echo "# no tests/guest/Makefile: no compiled guest tests"
	fi
	[ $host_only = 1 ] || build_step "fuzzer builds (make -C tests/fuzz)" fuzz.log make -C tests/fuzz
	# The Rust crate, offline from Debian's packaged crates: its host tests (the ABI
	# against uapi/linux/gupnw.h) and the static programs t70_rust runs in the guests.
	build_step "Rust crate builds offline; host tests pass (make -C bindings/rust check)" \
		rust.log make -C bindings/rust check
	[ $host_only = 1 ] || build_step "Rust guest programs build (make -C bindings/rust guest)" \
		rust-guest.log make -C bindings/rust guest
	# The Go package, offline from Debian's Go and modules: vet, gofmt, host tests, and
	# the static test program t71_go runs in the guests.
	build_step "Go package builds offline; vet, gofmt, host tests (make -C bindings/go check)" \
		go.log make -C bindings/go check
	[ $host_only = 1 ] || build_step "Go guest test program builds (make -C bindings/go guest)" \
		go-guest.log make -C bindings/go guest
	if [ $no_host = 1 ]; then
		echo "# --no-host: no host tests"
	elif [ -f tests/host/run.sh ]; then
		tap_step "host tests" host.log sh -c 'if [ -x tests/host/run.sh ]; then exec tests/host/run.sh; else exec bash tests/host/run.sh; fi'
	else
		echo "# no tests/host/run.sh: no host tests"
	fi
	# Debian packages and DKMS builds: no VM needed; t20 runs the packaged CLI.
	tap_step "packaging tests" packaging.log tests/packaging/run.sh
	[ $host_only = 1 ] && return
	[ $full = 1 ] && tap_step "compile-only sweep" compat.log tests/vm/compat-check.sh
	build_step "guest disk images build" disks.log tests/vm/build-disks.sh
	local k
	for k in "${kernels[@]}"; do
		[ "$k" = debug ] && debug_wait
		tap_step "guest tests on $k" "vm-$k.log" tests/vm/run.sh "$k"
	done
	[ $full = 1 ] && kernels_md >"$logs/kernels.md.tmp" && mv "$logs/kernels.md.tmp" "$logs/kernels.md"
	return 0
}

# The kernels this run tested and what passed on each, as a Markdown table: the kernel
# release is the one the guest log names, so the table says exactly what ran.
kernels_md() {
	local k log kver result
	echo "| Kernel line | Exact kernel | Result |"
	echo "|---|---|---|"
	for k in "${kernels[@]}"; do
		log=$logs/vm-$k.log
		kver=$(sed -n 's/^# \[[^]]*\] kernel //p' "$log" | head -n 1)
		if grep -q '^not ok' "$log" || ! grep -q '^ok' "$log"; then
			result="failed"
		else
			# its results, each C case counted as the checks it made
			result="every guest test passed ($(awk '/^ok/ { n++ }
				/^# \[[^]]*\] checks: .*\(results: / { sub(/^[^]]*\] checks: /, ""); split($0, w, /[^0-9]+/); n += w[1] - w[4] }
				END { print n + 0 }' "$log") checks)"
		fi
		case $k in
		debug) k="6.12 debug (KASAN, lockdep, kmemleak)" ;;
		newest) k="$(printf '%s\n' "$kver" | cut -d. -f1,2) (newest in Debian)" ;;
		esac
		echo "| $k | ${kver:-?} | $result |"
	done
	# Lines only built (not booted here): the sweep's, less those booted above.
	sed -n 's/^ok - \[compat \([^]]*\)\] module builds with W=1 against \([^ ]*\) .*/\1 \2/p' \
		"$logs/compat.log" 2>/dev/null | while read -r line kver; do
		grep -q -F "| $kver |" "$logs/kernels.md.tmp" 2>/dev/null && continue
		echo "| $line | $kver | module builds with W=1 (compile-only, not booted) |"
	done
	echo
	echo "Generated by tests/run-check.sh on $(date -u +%Y-%m-%d)."
}

# Numbers the TAP lines as they come and counts them; SKIPs are neither passes nor
# failures.  The failures are listed again just before the count, so the tail of a long
# run (all a CI report may keep) names them.  A guest's C test prints one result per
# case and its checks as comments; scan-log.sh sums each guest's checks in a line
# "# [6.12] checks: ... (results: ...)", so the line before the count gives the
# checks of the whole run (any other result is one check).  Its exit status is the run's.
checks | awk '
/^# \[[^]]*\] checks: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped \(results: / {
	s = $0
	sub(/^[^]]*\] checks: /, "", s)
	split(s, w, /[^0-9]+/)
	for (k = 1; k <= 3; k++)
		extra[k] += w[k] - w[k + 3]
}
/^(not )?ok( |$)/ {
	s = $0
	notok = sub(/^not ok/, "", s)
	if (!notok)
		sub(/^ok/, "", s)
	sub(/^ [0-9]+/, "", s)
	n++
	if (notok)
		failures[++failed] = n s
	else if (s ~ /# *[Ss][Kk][Ii][Pp]/)
		skipped++
	else
		passed++
	print (notok ? "not ok " : "ok ") n s
	fflush()
	next
}
{ print; fflush() }
END {
	if (failed)
		print "# what failed:"
	for (i = 1; i <= failed; i++)
		print "#   not ok " failures[i]
	printf "# checks: %d passed, %d failed, %d skipped\n", passed + extra[1],
		failed + extra[2], skipped + extra[3]
	printf "%d passed, %d failed", passed, failed
	if (skipped)
		printf ", %d skipped", skipped
	printf "\n"
	exit (failed || !n) ? 1 : 0
}'
