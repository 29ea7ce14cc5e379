#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Test gupnw on one kernel: build the module (W=1, warnings fail), pack the initramfs,
# boot the guest and report its results as TAP labelled with the kernel line.
#   run.sh 6.1|6.12|KVER|newest|debug
# "newest" is the highest -cloud-amd64 kernel in Debian's trixie-backports and sid,
# found at run time by newest-kernel.sh (7.3 in November 2026), its module built in a
# trixie (or sid) build root made by build-root.sh, both cached under build/; labelled
# with its line ([7.3]).  Its kernel or headers not to be had is a "not ok".
# "debug" is the KASAN + lockdep + kmemleak + fault-injection kernel built from
# linux-source-6.12 by build-debug-kernel.sh (cached in build/debug-kernel/), labelled
# [6.12-debug]: the whole suite, the kmemleak scan, then the ioctl fuzzer for
# GUPNW_FUZZ_SECONDS (default 60 there, 0 elsewhere).  KASAN under TCG is slow: its
# guest gets longer limits (GUPNW_TEST_TIMEOUT 900, GUPNW_VM_TIMEOUT 3600 by default).
# It stays on 6.12 rather than the newest line: 7.x builds only in the trixie root
# (gcc-14), so a 7.x debug kernel would be a second full kernel build inside it on a fresh
# machine, for a line the suite already boots; the 6.12 one uses the host's compiler.
# Packs what is already built (run-check.sh builds userspace and the guest tests first).
# Builds the disk images if build/vm/ has none.  Development knobs, all optional:
#   GUPNW_TESTS=pat[,pat]   only the guest tests whose file name matches
#   GUPNW_TEST_TIMEOUT=s    per-test limit in the guest (default 300)
#   GUPNW_VM_TIMEOUT=s      limit for the whole guest (default 2400: a 7.x guest with
#                           t53 and t70 waiting for the throttled disk runs long)
#   GUPNW_VM_APPEND="..."   more kernel command line
#   GUPNW_RUN=fuzz          only the fuzzer (make fuzz), no tests
#   GUPNW_FUZZ_SECONDS=s    run the fuzzer that long after the tests
#   GUPNW_FUZZ_SEED=n       the fuzzer's seed (its output prints the one it used)
#   GUPNW_BUILD=dir         build and log there instead of build/ (runs side by side)
#   GUPNW_SRC=dir           module sources from another tree (build-module.sh)
#   GUPNW_EXTRA_TESTS=dir   more guest tests to pack (build-initramfs.sh)
# Logs: build/vm/KVER.log (raw serial), build/KVER/module.log.
set -eu
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

want=${1:?usage: run.sh 6.1|6.12|KVER|debug}
debug=0
case $want in
debug | 6.12-debug)
	debug=1
	label=6.12-debug
	start=$(date +%s)
	mkdir -p "$build"
	if ! dir=$("$vm_dir/build-debug-kernel.sh" 2>"$build/debug-kernel.err"); then
		echo "not ok - [$label] debug kernel builds from linux-source-6.12: $(tail -n 1 "$build/debug-kernel.err")"
		exit 0
	fi
	kver=$(cat "$dir/release")
	echo "ok - [$label] debug kernel builds from linux-source-6.12 ($kver, $(($(date +%s) - start)) s, cache $dir)"
	export GUPNW_KERNEL_IMAGE=$dir/bzImage GUPNW_KERNEL_BUILD=$dir/obj
	: "${GUPNW_FUZZ_SECONDS:=60}" "${GUPNW_TEST_TIMEOUT:=900}" "${GUPNW_VM_TIMEOUT:=3600}"
	export GUPNW_VM_TIMEOUT
	# KASAN + lockdep under TCG on a busy host starve a vCPU for tens of seconds: the
	# stall detectors' longest limits (RCU 300 s, soft lockup 2 x 60 s) still catch
	# a real lockup without failing the run on emulation speed.
	# acpi=noirq: evaluating _PRT under KASAN + lockdep runs into ACPI's 30 s loop
	# timeout once per PCI device; the legacy routing table is instant.
	debug_append="rcupdate.rcu_cpu_stall_timeout=300 watchdog_thresh=60 acpi=noirq"
	;;
newest)
	start=$(date +%s)
	mkdir -p "$build"
	if ! found=$("$vm_dir/newest-kernel.sh" 2>"$build/newest-kernel.err"); then
		echo "not ok - [newest] newest Debian cloud kernel found, with headers and a build root: $(grep -v '^#' "$build/newest-kernel.err" | tail -n 1)"
		exit 0
	fi
	{ read -r kver; read -r image; read -r modules; read -r root; } <<<"$found"
	label=$(vm_line "$kver")
	echo "ok - [$label] newest Debian cloud kernel found, with headers and a build root ($kver, $(($(date +%s) - start)) s)"
	sed -n 's/^# build-root: /# [newest] /p' "$build/newest-kernel.err"
	export GUPNW_KERNEL_IMAGE=$image GUPNW_KERNEL_MODULES=$modules GUPNW_KERNEL_ROOT=$root \
		GUPNW_KERNEL_BUILD=/usr/src/linux-headers-$kver
	;;
*)
	if ! kver=$(vm_resolve_kernel "$want"); then
		echo "not ok - [$want] kernel found: no /boot/vmlinuz-$want.*-cloud-amd64 with its /lib/modules/*/build (tests/install-deps.sh installs them)"
		exit 0
	fi
	label=$(vm_line "$kver")
	;;
esac
out=$build/$kver
mkdir -p "$out"
echo "# [$label] kernel $kver"

start=$(date +%s)
if why=$("$vm_dir/build-module.sh" "$kver" 2>&1); then
	echo "ok - [$label] module builds with W=1 and no warning ($(($(date +%s) - start)) s)"
else
	echo "not ok - [$label] module builds with W=1 and no warning: $(printf '%s\n' "$why" | head -n 1)"
	printf '%s\n' "$why" | head -n 20 | sed "s/^/# [$label] /"
fi

for i in data.img swap.img slow.img eio.img eio.blkdebug; do
	[ -f "$vm_out/$i" ] && continue
	"$vm_dir/build-disks.sh" || { echo "not ok - [$label] disk images build"; exit 0; }
	break
done
if ! why=$("$vm_dir/build-initramfs.sh" "$kver" "$out/initramfs.cpio" 2>&1); then
	echo "not ok - [$label] initramfs builds: $why"
	exit 0
fi

args=()
for v in GUPNW_TESTS GUPNW_TEST_TIMEOUT GUPNW_RUN GUPNW_FUZZ_SECONDS GUPNW_FUZZ_SEED; do
	[ -n "${!v:-}" ] && args+=("$v=${!v}")
done
[ $debug = 1 ] && args+=(GUPNW_DEBUG=1)
# The trace events t44 and t45 record are on from boot, before the second CPU starts:
# turned on or off later they patch kernel code that QEMU 7.2's multi-threaded TCG can
# get wrong (an "Oops: int3" in __schedule(); tests/guest/gupnw_test_trace.h).
# guest-init.sh quiets them until a test wants them.
trace_append="trace_event=sched:sched_switch,workqueue:workqueue_queue_work"
read -ra more <<<"$trace_append ${debug_append:-} ${GUPNW_VM_APPEND:-}"
log=$vm_out/$kver.log
start=$(date +%s)
rc=0
"$vm_dir/boot.sh" "$kver" "$out/initramfs.cpio" "$log" "${args[@]}" "${more[@]}" || rc=$?
# A guest that died before /init loaded gupnw.ko failed in the kernel's own boot, where
# none of our code runs (seen once: an int3 Oops in 6.12's early boot under TCG, a
# code-patching race of the emulator): keep its log and boot once more.
if ! grep -q "module loads" "$log" 2>/dev/null; then
	mv "$log" "$log.boot-failure"
	echo "# [$label] the guest died before loading the module (QEMU status $rc; log $log.boot-failure): booting again"
	rc=0
	"$vm_dir/boot.sh" "$kver" "$out/initramfs.cpio" "$log" "${args[@]}" "${more[@]}" || rc=$?
fi
took=$(($(date +%s) - start))
case $rc in
0) echo "# [$label] guest ran for $took s, log $log" ;;
124) echo "# [$label] guest killed after $took s (GUPNW_VM_TIMEOUT), log $log" ;;
*) echo "# [$label] QEMU exited with status $rc after $took s, log $log" ;;
esac
"$vm_dir/scan-log.sh" "$label" "$log"
