#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Test gupnw on one kernel: build the module (W=1, warnings fail), pack the initramfs,
# boot the guest and report its results as TAP labelled with the kernel line.
#   run.sh 6.1|6.12|KVER
# Packs what is already built (run-check.sh builds userspace and the guest tests first).
# Builds the disk images if build/vm/ has none.  Development knobs, all optional:
#   GUPNW_TESTS=pat[,pat]   only the guest tests whose file name matches
#   GUPNW_TEST_TIMEOUT=s    per-test limit in the guest (default 300)
#   GUPNW_VM_TIMEOUT=s      limit for the whole guest (default 1200)
#   GUPNW_VM_APPEND="..."   more kernel command line
#   GUPNW_BUILD=dir         build and log there instead of build/ (runs side by side)
#   GUPNW_SRC=dir           module sources from another tree (build-module.sh)
#   GUPNW_EXTRA_TESTS=dir   more guest tests to pack (build-initramfs.sh)
# Logs: build/vm/KVER.log (raw serial), build/KVER/module.log.
set -eu
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

want=${1:?usage: run.sh 6.1|6.12|KVER}
if ! kver=$(vm_resolve_kernel "$want"); then
	echo "not ok - [$want] kernel found: no /boot/vmlinuz-$want.*-cloud-amd64 with its /lib/modules/*/build (tests/install-deps.sh installs them)"
	exit 0
fi
label=$(vm_line "$kver")
out=$build/$kver
mkdir -p "$out"
echo "# [$label] kernel $kver"

if why=$("$vm_dir/build-module.sh" "$kver" 2>&1); then
	echo "ok - [$label] module builds with W=1 and no warning"
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
for v in GUPNW_TESTS GUPNW_TEST_TIMEOUT; do
	[ -n "${!v:-}" ] && args+=("$v=${!v}")
done
read -ra more <<<"${GUPNW_VM_APPEND:-}"
log=$vm_out/$kver.log
start=$(date +%s)
rc=0
"$vm_dir/boot.sh" "$kver" "$out/initramfs.cpio" "$log" "${args[@]}" "${more[@]}" || rc=$?
took=$(($(date +%s) - start))
case $rc in
0) echo "# [$label] guest ran for $took s, log $log" ;;
124) echo "# [$label] guest killed after $took s (GUPNW_VM_TIMEOUT), log $log" ;;
*) echo "# [$label] QEMU exited with status $rc after $took s, log $log" ;;
esac
"$vm_dir/scan-log.sh" "$label" "$log"
