#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the guest's four disk images in build/vm/ (no root, no loop device: mkfs.ext4 -d
# fills the file system from a directory).  The guest opens them with snapshot=on, so
# one set serves every kernel and every boot, and each boot starts from the same state.
#   data.img  ext4, fast      -> /dev/vda, /mnt/data: cold-64m, small, root-ro
#   swap.img  swap, 256 MiB   -> /dev/vdb
#   slow.img  ext4, throttled -> /dev/vdc, /mnt/slow: cold-64m, and bolt.db (a bbolt
#             database for bindings/go's example server, if make -C bindings/go guest ran)
#   eio.img   ext4, throttled, every read of bad's blocks fails with EIO (QEMU blkdebug,
#             rules in eio.blkdebug) -> /dev/vdd, /mnt/eio (read-only): bad, good
set -eu
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

mkdir -p "$vm_out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/data" "$stage/slow" "$stage/eio"

# Random, so no block is zero and becomes a hole, and no two pages are alike.
head -c 64M /dev/urandom >"$stage/data/cold-64m"
cp "$stage/data/cold-64m" "$stage/slow/cold-64m"
head -c $((3 * 4096 + 100)) /dev/urandom >"$stage/data/small"	# past-EOF tests
head -c 1M /dev/urandom >"$stage/data/root-ro"
chmod 644 "$stage/data/cold-64m" "$stage/data/small" "$stage/slow/cold-64m"
# 16384 keys of 1000 random bytes, about 16 MiB of pages in a 32 MiB sparse file (t71).
bbolt_server=$top/build/go-guest/gupnw-bbolt-server
if [ -x "$bbolt_server" ]; then
	"$bbolt_server" -create "$stage/slow/bolt.db" && chmod 644 "$stage/slow/bolt.db"
fi
chmod 444 "$stage/data/root-ro"
head -c $((4 * 4096)) /dev/urandom >"$stage/eio/bad"
head -c 1M /dev/urandom >"$stage/eio/good"	# drains the throttle's burst bucket
chmod 644 "$stage/eio/bad" "$stage/eio/good"

# -b 4096: on small images mkfs would pick 1 KiB blocks.  Inode tables and journal are
# written now, not by ext4lazyinit in the guest, whose writes would compete with the
# tests for the throttled disk.  mkfs -d copies the builder's uid and ignores the mode of
# the top directory: debugfs sets both, so the guest need not write to its disks.
mkfs_dir() {
	local f
	mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 -L "gupnw-$1" \
		-d "$stage/$1" "$vm_out/$1.img.tmp" "$2" >/dev/null
	for f in "$stage/$1"/*; do
		printf 'set_inode_field /%s uid 0\nset_inode_field /%s gid 0\n' "${f##*/}" "${f##*/}"
	done | debugfs -w -f - "$vm_out/$1.img.tmp" >/dev/null 2>&1
	echo "set_inode_field / mode 041777" | debugfs -w -f - "$vm_out/$1.img.tmp" >/dev/null 2>&1
}
mkfs_dir data 256M
mkfs_dir slow 128M
mkfs_dir eio 16M
# One blkdebug rule per 4 KiB block of eio/bad: any read touching it fails with EIO.
# The file's blocks are known only now; the fs metadata and "good" stay readable.
blocks=$(debugfs -R "blocks /bad" "$vm_out/eio.img.tmp" 2>/dev/null)
[ -n "$blocks" ] || die "debugfs found no blocks of eio/bad"
for b in $blocks; do
	printf '[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "%d"\nonce = "off"\n\n' \
		$((b * 8))
done >"$vm_out/eio.blkdebug.tmp"
# A whole disk in the guest: holes in the host file do not matter (mkswap warns anyway).
rm -f "$vm_out/swap.img.tmp"
truncate -s 256M "$vm_out/swap.img.tmp"
chmod 600 "$vm_out/swap.img.tmp"
mkswap -L gupnw-swap "$vm_out/swap.img.tmp" >/dev/null 2>&1
for i in data slow swap eio; do
	mv "$vm_out/$i.img.tmp" "$vm_out/$i.img"
done
mv "$vm_out/eio.blkdebug.tmp" "$vm_out/eio.blkdebug"
# Whether slow.img holds bolt.db: tests/bench/run.sh rebuilds images made before the
# Go server was built.
if [ -f "$stage/slow/bolt.db" ]; then
	touch "$vm_out/slow.img.bolt"
else
	rm -f "$vm_out/slow.img.bolt"
fi
