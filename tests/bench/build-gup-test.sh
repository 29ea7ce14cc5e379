#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel's own GUP benchmark, mm/gup_test.c, as an out-of-tree module for one
# kernel, from Debian's linux-source tarballs in /usr/src (nothing of the kernel's source
# is kept in this repo): extract mm/gup_test.{c,h} into build/, add what a module needs
# that the built-in file lacks (docs/testing.md, "Benchmarks": "-include linux/module.h
# -Dlate_initcall=module_init" and a MODULE_LICENSE in a file of its own), and build it
# against /lib/modules/KVER/build.
#   build-gup-test.sh KVER
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

# Build the gup_test of source line $1 in $out/$1; the first error line on failure.
build_from() {
	local src_line=$1 tarball=/usr/src/linux-source-$1.tar.xz d=$out/$1 log why
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
	if make -C "/lib/modules/$kver/build" M="$d" modules >"$log" 2>&1 && [ -f "$d/gup_test.ko" ]; then
		cp "$d/gup_test.ko" "$out/gup_test.ko"
		return 0
	fi
	why=$(grep -E 'error|ERROR' "$log" | head -n 1 | sed "s|^$d/||; s|^ *||")
	echo "${why:-$(tail -n 1 "$log")}"
	return 1
}

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
