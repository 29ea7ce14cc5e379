#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel's own GUP benchmark, mm/gup_test.c, as an out-of-tree module for one
# kernel, from Debian's linux-source tarballs in /usr/src (nothing of the kernel's source
# is kept in this repo): extract mm/gup_test.{c,h} into build/, add what a module needs
# that the built-in file lacks (docs/testing.md, "Benchmarks": "-include linux/module.h
# -Dlate_initcall=module_init" and a MODULE_LICENSE in a file of its own), and build it
# against /lib/modules/KVER/build.
#   build-gup-test.sh KVER
# A kernel built in a build root (GUPNW_KERNEL_ROOT, GUPNW_KERNEL_BUILD: the newest line,
# tests/vm/newest-kernel.sh) gets its own line's source, the linux-source-LINE package
# fetched through newest-kernel.sh's private apt (cached in build/sources/), built in
# that root.  From 7.x on, gup_test.c's check that a long-term pin is pinnable calls
# folio_is_longterm_pinnable(), whose get_pfnblock_migratetype() is not exported (modpost
# fails); that check only guards PIN_LONGTERM_BENCHMARK, which the benchmark never runs
# (it uses GUP_FAST_BENCHMARK), so it is replaced by "false" in the copy built here.
# linux-source-6.12's file is tried first; if it does not build against KVER (6.1's
# get_user_pages() still takes a vmas argument), the file of KVER's own line
# (linux-source-6.1) is tried.  Always writes build/KVER/gup_test/status, one line the
# bench prints in its table: "ok <which source>" or "failed <why>".  Exit 0 if
# build/KVER/gup_test/gup_test.ko was built.
set -eu
vm_dir=$(cd "$(dirname "$0")/../vm" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

kver=${1:?usage: build-gup-test.sh KVER}
line=$(vm_line "$kver")
out=$build/$kver/gup_test
rm -rf "$out"
mkdir -p "$out"

# Extract mm/gup_test.[ch] of one tarball into build/gup_test-src/LINE, once per tarball.
extract() {
	local tarball=$1 dst=$build/gup_test-src/$2 stamp top_dir
	stamp="$tarball $(stat -c %Y "$tarball")"
	[ -f "$dst/.stamp" ] && [ "$(cat "$dst/.stamp")" = "$stamp" ] && return 0
	rm -rf "$dst"
	mkdir -p "$dst"
	top_dir=$(tar -tJf "$tarball" | head -n 1 | cut -d/ -f1)
	tar -xJf "$tarball" -C "$dst" --strip-components=1 \
		"$top_dir/mm/gup_test.c" "$top_dir/mm/gup_test.h" || return 1
	printf '%s\n' "$stamp" >"$dst/.stamp"
}

# linux-source-LINE's tarball from the archive, for a line the host does not install.
fetch_source() {
	local line=$1 dst=$build/sources/linux-source-$1.tar.xz d
	[ -s "$dst" ] && return 0
	mkdir -p "$build/sources"
	d=$(mktemp -d)
	if (cd "$d" && APT_CONFIG=$build/apt/apt.conf apt-get -q download "linux-source-$line") >/dev/null 2>&1 &&
		dpkg-deb --fsys-tarfile "$d"/linux-source-*.deb |
		tar -xO --wildcards "*/linux-source-$line.tar.xz" >"$dst.tmp" && [ -s "$dst.tmp" ]; then
		mv "$dst.tmp" "$dst"
	else
		rm -f "$dst.tmp"
	fi
	rm -rf "$d"
	[ -s "$dst" ]
}

# Build the gup_test of source line $1 in $out/$1; the first error line on failure.
build_from() {
	local src_line=$1 tarball=/usr/src/linux-source-$1.tar.xz d=$out/$1 log why rc=0
	if [ -n "${GUPNW_KERNEL_ROOT:-}" ]; then
		tarball=$build/sources/linux-source-$1.tar.xz
		fetch_source "$1" || { echo "cannot fetch linux-source-$1 from the archive"; return 1; }
	fi
	[ -r "$tarball" ] || { echo "no $tarball (tests/install-deps.sh linux-source-6.1)"; return 1; }
	extract "$tarball" "$src_line" || { echo "cannot extract mm/gup_test.c from $tarball"; return 1; }
	mkdir -p "$d"
	cp "$build/gup_test-src/$src_line/mm/gup_test.c" "$d/gup_test_main.c"
	cp "$build/gup_test-src/$src_line/mm/gup_test.h" "$d/gup_test.h"
	cat >"$d/gup_test_license.c" <<'C'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mm/gup_test.c built out of tree for the gupnw benchmark");
C
	cat >"$d/Kbuild" <<'K'
obj-m := gup_test.o
gup_test-y := gup_test_main.o gup_test_license.o
ccflags-y := -include linux/module.h -Dlate_initcall=module_init
K
	log=$d/build.log
	if [ -n "${GUPNW_KERNEL_ROOT:-}" ]; then
		sed -i 's/!folio_is_longterm_pinnable(folio)/false \/* not exported: build-gup-test.sh *\//' \
			"$d/gup_test_main.c"
		local inroot=/tmp/gup_test-$kver
		rm -rf "${GUPNW_KERNEL_ROOT:?}$inroot"
		mkdir -p "$GUPNW_KERNEL_ROOT$inroot"
		cp -a "$d/." "$GUPNW_KERNEL_ROOT$inroot/"
		"$vm_dir/in-root.sh" "$GUPNW_KERNEL_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			make -C "$GUPNW_KERNEL_BUILD" M="$inroot" modules >"$log" 2>&1 || rc=$?
		cp -a "$GUPNW_KERNEL_ROOT$inroot/." "$d/"
		rm -rf "${GUPNW_KERNEL_ROOT:?}$inroot"
	else
		make -C "/lib/modules/$kver/build" M="$d" modules >"$log" 2>&1 || rc=$?
	fi
	if [ $rc = 0 ] && [ -f "$d/gup_test.ko" ]; then
		cp "$d/gup_test.ko" "$out/gup_test.ko"
		return 0
	fi
	why=$(grep -E 'error|ERROR' "$log" | head -n 1 | sed "s|^$d/||; s|^ *||")
	echo "${why:-$(tail -n 1 "$log")}"
	return 1
}

if [ -n "${GUPNW_KERNEL_ROOT:-}" ]; then
	if why=$(build_from "$line" 2>&1); then
		echo "ok linux-source-$line (folio_is_longterm_pinnable check of PIN_LONGTERM stubbed)" >"$out/status"
		exit 0
	fi
	echo "failed linux-source-$line: $why" >"$out/status"
	echo "$why" >&2
	exit 1
fi
if why=$(build_from 6.12 2>&1); then
	echo "ok linux-source-6.12" >"$out/status"
	exit 0
fi
status="linux-source-6.12's does not build against $kver: $why"
if [ "$line" != 6.12 ]; then
	if why2=$(build_from "$line" 2>&1); then
		echo "ok linux-source-$line (6.12's fails: $why)" >"$out/status"
		exit 0
	fi
	status="$status; linux-source-$line's neither: $why2"
fi
echo "failed $status" >"$out/status"
echo "$status" >&2
exit 1
