#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pack the guest's initramfs for one kernel: static busybox, the virtio (and, if
# modular, ext4) modules in load order, gupnw.ko, the static CLI, the guest tests, the
# users, and /init.  Works without root: ownership comes from cpio -R, and the one device
# node the kernel needs before /init runs (/dev/console) is written as a cpio entry.
#   build-initramfs.sh KVER OUT.cpio
# Packs what is already built: build/KVER/src/gupnw.ko, userspace/cli/gupnw-static,
# build/fuzz/gupnw-fuzz, build/rust-guest/*, build/go-guest/*, the executables in build/guest-tests/ and tests/guest/*.sh; a missing piece is left
# out (the guest then reports it).  GUPNW_EXTRA_TESTS=dir adds that dir's files to
# /tests (harness development).  GUPNW_BENCH_DIR=dir packs that dir's files as /bench,
# which GUPNW_RUN=bench runs (tests/bench/run.sh).
set -eu
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

kver=${1:?usage: build-initramfs.sh KVER OUT.cpio}
out=$(realpath -m "${2:?usage: build-initramfs.sh KVER OUT.cpio}")

# busybox-static and the dynamic busybox package both install /bin/busybox.
ldd /bin/busybox >/dev/null 2>&1 && die "/bin/busybox is not static: apt-get install busybox-static"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cd "$stage"
mkdir -p bin sbin usr/bin usr/sbin dev proc sys tmp root etc mnt/data mnt/slow mnt/eio \
	lib/gupnw lib/modules/vm tests bench
cp /bin/busybox bin/busybox

# Modules named by modprobe's dependency walk, each once, in load order.  Debian
# compresses modules on 6.12; busybox insmod wants them plain.  Each name is asked
# separately: modprobe reads further words as module parameters.  A kernel with no
# installed modules (the debug kernel of build-debug-kernel.sh) has them built in.
# Modules built in are "builtin" lines, which the awk drops.  A kernel that is not
# installed (newest-kernel.sh) has its modules under GUPNW_KERNEL_MODULES.
moddir=$(vm_kernel_modules)
[ -e "$moddir/lib/modules/$kver/modules.dep" ] && for m in virtio_pci virtio_blk ext4; do
	modprobe -d "$moddir" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	base=${ko##*/}
	case $ko in
	*.ko.xz)  xz -dc "$ko" >"lib/modules/vm/${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$ko" >"lib/modules/vm/${base%.zst}" ;;
	*.ko.gz)  gzip -dc "$ko" >"lib/modules/vm/${base%.gz}" ;;
	*.ko)     cp "$ko" lib/modules/vm/ ;;
	*)        die "unexpected module file $ko" ;;
	esac
	echo "${base%.ko*}.ko" >>lib/modules/vm/order
done
touch lib/modules/vm/order

[ -f "$build/$kver/src/gupnw.ko" ] && cp "$build/$kver/src/gupnw.ko" lib/gupnw/
[ -f "$top/userspace/cli/gupnw-static" ] && cp "$top/userspace/cli/gupnw-static" bin/gupnw
# The Debian packages as dpkg installs them (tests/packaging/run.sh), for t20.
[ -d "$build/deb/pkgroot" ] && cp -a "$build/deb/pkgroot" pkgroot
[ -f "$top/userspace/examples/gupnw-uring-sched-static" ] &&
	cp "$top/userspace/examples/gupnw-uring-sched-static" bin/gupnw-uring-sched
[ -f "$top/build/fuzz/gupnw-fuzz" ] && cp "$top/build/fuzz/gupnw-fuzz" bin/gupnw-fuzz
# The Rust crate's static test and example programs (make -C bindings/rust guest), for t70.
for f in "$top"/build/rust-guest/gupnw-*; do [ -x "$f" ] && cp "$f" bin/; done
# The Go package's static test program (make -C bindings/go guest), for t71.
for f in "$top"/build/go-guest/gupnw-*; do [ -x "$f" ] && cp "$f" bin/; done

cp "$top"/tests/guest/*.shlib tests/	# sourced by the shell tests, never run
for t in "$top"/build/guest-tests/* "$top"/tests/guest/*.sh ${GUPNW_EXTRA_TESTS:+"$GUPNW_EXTRA_TESTS"/*}; do
	case $t in
	*.sh) [ -f "$t" ] && cp "$t" tests/ ;;
	*) [ -f "$t" ] && [ -x "$t" ] && cp "$t" tests/ ;;
	esac
done

if [ -n "${GUPNW_BENCH_DIR:-}" ]; then
	cp -a "$GUPNW_BENCH_DIR"/. bench/
fi

cp "$vm_dir/guest-init.sh" init
cp "$vm_dir/guest-tests.sh" lib/gupnw/run-tests
cp "$vm_dir/guest-demo.sh" lib/gupnw/demo
cp "$vm_dir/guest-fuzz.sh" lib/gupnw/fuzz
cp "$vm_dir/guest-kmemleak.sh" lib/gupnw/kmemleak
chmod 755 init lib/gupnw/run-tests lib/gupnw/demo lib/gupnw/fuzz lib/gupnw/kmemleak

cat >etc/passwd <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >etc/group <<'GR'
root:x:0:
user:x:1000:
nogroup:x:65534:
GR
chmod 700 root
chmod 1777 tmp
# "/" of the initramfs takes the mode of ".": 755, or an unprivileged user can run nothing.
chmod 755 .

# One newc header (SUSv2 cpio "070701" format: 13 hex fields), name, padding to 4.
newc_entry() {
	local name=$1 mode=$2 major=$3 minor=$4 n=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 "$mode" 0 0 1 0 0 0 0 "$major" "$minor" "$n" 0
	printf '%s\0' "$name"
	head -c $(((4 - (110 + n) % 4) % 4)) /dev/zero
}

# Uncompressed: under TCG, unpacking gzip costs more than copying a few more MB.
# The kernel unpacks concatenated archives; the second adds /dev/console, without which
# /init has no stdout.
mkdir -p "$(dirname "$out")"
{
	find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet
	newc_entry dev/console $((8#020600)) 5 1
	newc_entry 'TRAILER!!!' 0 0 0
} >"$out.tmp"
mv "$out.tmp" "$out"
