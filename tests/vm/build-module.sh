#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build gupnw.ko for one kernel with W=1 and fail on any warning, so W=1-clean is
# enforced on every supported kernel, not only the developer's.
#   build-module.sh KVER       -> build/KVER/src/gupnw.ko, log in build/KVER/module.log
# GUPNW_SRC=dir builds another tree holding Kbuild, module/, uapi/ (harness development).
# GUPNW_KERNEL_BUILD=dir builds against that tree (the debug kernel's O= directory).
# GUPNW_KERNEL_ROOT=dir builds in that build root (build-root.sh) with chroot, against
# GUPNW_KERNEL_BUILD as a path inside it: kernels whose headers need a newer toolchain
# than the host's (newest-kernel.sh).
set -eu
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

kver=${1:?usage: build-module.sh KVER}
src=${GUPNW_SRC:-$top}
out=$build/$kver
log=$out/module.log

# A fresh copy each time: nothing stale from another kernel's build (objects built
# against 6.1 must never be linked for 6.12) and nothing written into the source tree.
rm -rf "$out/src"
mkdir -p "$out/src"
cp -a "$src/Kbuild" "$src/module" "$src/uapi" "$out/src/"

rc=0
if [ -n "${GUPNW_KERNEL_ROOT:-}" ]; then
	# The root sees only itself: build a copy inside it, bring the results back.  A
	# clean environment, so nothing of the caller's make (MAKEFLAGS, jobserver) leaks.
	# objtool reads /proc: a proc mount in a private mount namespace, gone with it.
	# Per process: two builds of one kernel line (make check and make bench) never share it.
	inroot=/tmp/gupnw-build/$kver.$$
	rm -rf "$GUPNW_KERNEL_ROOT$inroot"
	mkdir -p "$GUPNW_KERNEL_ROOT$inroot"
	cp -a "$out/src/." "$GUPNW_KERNEL_ROOT$inroot/"
	"$vm_dir/in-root.sh" "$GUPNW_KERNEL_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 make -C "$(vm_kernel_build "$kver")" M="$inroot" W=1 modules >"$log" 2>&1 || rc=$?
	cp -a "$GUPNW_KERNEL_ROOT$inroot/." "$out/src/"
	rm -rf "$GUPNW_KERNEL_ROOT$inroot"
else
	make -C "$(vm_kernel_build "$kver")" M="$out/src" W=1 modules >"$log" 2>&1 || rc=$?
fi
# modpost reports as "WARNING:", the compiler as "warning:": both count.
if grep -qi 'warning:' "$log"; then
	grep -i 'warning:' "$log" >&2
	exit 1
fi
if [ "$rc" -ne 0 ] || [ ! -f "$out/src/gupnw.ko" ]; then
	grep -E 'error|Error|\*\*\*' "$log" | head -n 20 >&2 || tail -n 20 "$log" >&2
	exit 1
fi
