#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot one kernel under QEMU (TCG: KVM hangs the guest here) with the five disks, and
# save the raw serial output.  A host-side timeout ends a hung guest; oops=panic with
# panic=-1 and -no-reboot ends QEMU at the first oops.
#   boot.sh [--live] KVER INITRAMFS LOG [KERNEL-ARG...]
# --live also prints the output, stripped of escapes, as it comes.
# GUPNW_VM_TIMEOUT=secs (default 2400).  Exit status: QEMU's, 124 on timeout.
set -euo pipefail
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

live=0
[ "${1:-}" = --live ] && { live=1; shift; }
kver=${1:?usage: boot.sh [--live] KVER INITRAMFS LOG [KERNEL-ARG...]}
initrd=${2:?}
log=${3:?}
shift 3

for i in data.img swap.img slow.img eio.img eio.blkdebug; do
	[ -f "$vm_out/$i" ] || die "$vm_out/$i missing: run tests/vm/build-disks.sh"
done

# snapshot=on: the guest's writes go to a temporary overlay, the images stay as built.
# A fixed PCI slot per disk (-device ...,addr=; "-drive if=virtio" cannot take one), so
# they probe, and are named, vda, vdb, vdc, vdd, vde in this order.  Throttles count 4 KiB
# units; swap is throttled on reads only, so swap-out stays fast.  The EIO disk reads
# through blkdebug, which fails the blocks eio.blkdebug names; it is throttled too, so a
# failing read is still in flight when the fault that started it looks at the page.
drives=()
disk() {
	drives+=(-drive "file=$vm_out/$1,if=none,id=$1,format=raw,snapshot=on${3:+,$3}"
		-device "virtio-blk-pci,drive=$1,addr=$2")
}
disk data.img 0x4
disk swap.img 0x5 throttling.iops-read=50,throttling.iops-size=4096
disk slow.img 0x6 throttling.iops-total=20,throttling.iops-size=4096
drives+=(-drive "if=none,id=eio,format=raw,snapshot=on,file.driver=blkdebug,file.config=$vm_out/eio.blkdebug,file.image.filename=$vm_out/eio.img,throttling.iops-total=20,throttling.iops-size=4096"
	-device "virtio-blk-pci,drive=eio,addr=0x7")
# vde, last (nothing before it renumbers): 1 GiB of zeros, no image, every read 1 ms
# (null-co sleeps each request's coroutine: any number of reads overlap), as an NVMe
# read takes - the benchmark's cold pages per second (tests/bench/guest-bench.sh).
drives+=(-drive "if=none,id=lat,driver=null-co,size=1G,read-zeroes=on,latency-ns=1000000"
	-device "virtio-blk-pci,drive=lat,addr=0x8")

# secretmem.enable=1: 6.1 has memfd_secret(2) off by default (6.1 mm/secretmem.c:41;
# on since 6.5), and t35 checks that secretmem reads E.
# tsc=reliable: the clock is the TSC on every line, as on real x86 machines (which have
# CONSTANT_TSC). TCG's "max" CPU is an AMD one without it, and 6.1 takes any non-Intel
# machine with more than one possible CPU as unsynchronized (6.1
# arch/x86/kernel/tsc.c:1247-1250; 6.12 asks for more than one package, :1289-1292),
# and falls back to the HPET: every clock read an emulated MMIO access, and
# clock_gettime() a system call (the vDSO cannot read the HPET).
set -- timeout --kill-after=10 "${GUPNW_VM_TIMEOUT:-2400}" \
	qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2 \
	-nographic -no-reboot -nic none \
	-kernel "$(vm_kernel_image "$kver")" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 oops=panic loglevel=5 printk.time=1 secretmem.enable=1 tsc=reliable $*" \
	"${drives[@]}"

mkdir -p "$(dirname "$log")"
if [ $live = 1 ]; then
	"$@" </dev/null 2>&1 | tee "$log" | vm_strip
else
	"$@" </dev/null >"$log" 2>&1
fi
