#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make demo": boot the newest supported kernel (6.12 if installed) with the test
# guest's initramfs and disks, and show gupnw on a cold file of the throttled disk:
# probe (W), read, probe again (F/R).  The guest's output is shown as it comes.
#   tests/vm/demo.sh [6.1|6.12|KVER]
set -euo pipefail
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

if [ $# -gt 0 ]; then
	kver=$(vm_resolve_kernel "$1") || die "kernel $1 not found"
else
	kver=$(vm_find_kernel 6.12)
	[ -n "$kver" ] || kver=$(vm_find_kernel 6.1)
	[ -n "$kver" ] || die "no 6.1 or 6.12 cloud kernel with headers: run tests/install-deps.sh"
fi
out=$build/$kver
mkdir -p "$out" "$build/check"

echo "demo: building the CLI and gupnw.ko for $kver"
make -s -C "$top/userspace" >"$build/check/userspace.log" 2>&1 ||
	die "make -C userspace failed: see $build/check/userspace.log"
"$vm_dir/build-module.sh" "$kver" || die "module build failed: see $out/module.log"
"$vm_dir/build-disks.sh"
"$vm_dir/build-initramfs.sh" "$kver" "$out/initramfs.cpio"

echo "demo: booting $kver under QEMU (TCG, a few seconds)"
log=$vm_out/demo-$kver.log
"$vm_dir/boot.sh" --live "$kver" "$out/initramfs.cpio" "$log" GUPNW_RUN=demo
echo "demo: done (serial log: $log)"
