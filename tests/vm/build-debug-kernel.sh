#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (or find already built) the debug kernel of "make check-debug": Debian's
# linux-source-6.12 with KASAN, lockdep, DEBUG_VM, kmemleak and fault injection, from
# "make ARCH=x86_64 allnoconfig" plus tests/debug-kernel/debug.config (see
# docs/debug-kernel.md for the why: ~5 min on 2 cores, 1.7 GB of source
# and ~320 MB of objects).  Everything the guest needs (virtio, ext4) is built in.
#   build-debug-kernel.sh        -> prints the cache directory DIR:
#     DIR/bzImage                  the kernel
#     DIR/obj                      its O= build tree (make -C DIR/obj M=... for modules)
#     DIR/release                  its "uname -r"
# The cache is build/debug-kernel/KEY, KEY a hash of the config fragment, the
# linux-source package version and the compiler version: a repeated run reuses it, a
# changed fragment or a new Debian point release rebuilds (older keys are removed).
# GUPNW_DEBUG_SRC=file.tar.xz builds another source tarball.  Log: DIR.log.
set -euo pipefail
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

frag=$top/tests/debug-kernel/debug.config
tarball=${GUPNW_DEBUG_SRC:-/usr/src/linux-source-6.12.tar.xz}
[ -r "$tarball" ] || die "$tarball missing: apt-get install linux-source-6.12 (tests/install-deps.sh)"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %s-%Y "$tarball")
key=$( { cat "$frag"; echo "$tarball $srcver"; gcc --version | head -n 1; } | sha256sum | cut -c1-16)
cache=$top/build/debug-kernel	# shared by GUPNW_BUILD runs: 2 GB, 5 min
dir=$cache/$key

if [ -f "$dir/ready" ]; then
	echo "$dir"
	exit 0
fi

# A stale or half-built kernel is 2 GB: keep only the one being built.
mkdir -p "$cache"
find "$cache" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
rm -rf "$dir"
mkdir -p "$dir/obj"
log=$dir.log
: >"$log"

# The tarball holds one directory (linux-source-6.12/); strip it.
tar -xJf "$tarball" -C "$dir" --one-top-level=src --strip-components=1 >>"$log" 2>&1 ||
	die "cannot unpack $tarball (log: $log)"
src=$dir/src
mk() {
	make -C "$src" O="$dir/obj" ARCH=x86_64 "$@" >>"$log" 2>&1
}

mk allnoconfig || die "allnoconfig failed (log: $log)"
# Each fragment line through scripts/config, which takes "CONFIG_X=y", "CONFIG_X=n",
# "CONFIG_X=\"s\"" and "# CONFIG_X is not set" alike.
cfg=(--file "$dir/obj/.config")
while IFS= read -r line; do
	case $line in
	CONFIG_*=\"*) name=${line%%=*}; val=${line#*=\"}; cfg+=(--set-str "${name#CONFIG_}" "${val%\"}") ;;
	CONFIG_*=y) name=${line%%=*}; cfg+=(--enable "${name#CONFIG_}") ;;
	CONFIG_*=*) name=${line%%=*}; cfg+=(--set-val "${name#CONFIG_}" "${line#*=}") ;;
	"# CONFIG_"*" is not set") name=${line#\# }; cfg+=(--disable "${name%% *}") ;;
	esac
done <"$frag"
"$src/scripts/config" "${cfg[@]}"
mk olddefconfig || die "olddefconfig failed (log: $log)"

# Every line of the fragment must have stuck: a dependency olddefconfig dropped would
# silently give a kernel without the debugging it is for.
lost=$(grep -E '^(CONFIG_|# CONFIG_.* is not set)' "$frag" | while IFS= read -r line; do
	case $line in
	"# CONFIG_"*)
		name=${line#\# }
		name=${name%% *}
		grep -qE "^$name=" "$dir/obj/.config" && echo "$line"
		;;
	*) grep -qxF "$line" "$dir/obj/.config" || echo "$line" ;;
	esac
done)
[ -z "$lost" ] || die "olddefconfig dropped: $(printf '%s\n' "$lost" | tr '\n' ' ')"

jobs=$(nproc)
start=$(date +%s)
# "modules" too: without it there is no Module.symvers and an M= build fails in modpost.
mk -j"$jobs" bzImage modules || die "kernel build failed (log: $log)"
cp "$dir/obj/arch/x86/boot/bzImage" "$dir/bzImage"
cat "$dir/obj/include/config/kernel.release" >"$dir/release"
echo "# debug kernel $(cat "$dir/release") built in $(($(date +%s) - start)) s" >>"$log"
touch "$dir/ready"
echo "$dir"
