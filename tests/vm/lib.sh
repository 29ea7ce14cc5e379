# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034,SC2154
# Shared definitions of the QEMU harness; sourced by the scripts in tests/vm/, which set
# vm_dir to their own directory first.  Host side only (bash).

top=$(cd "$vm_dir/../.." && pwd)
# GUPNW_BUILD=dir keeps a run's modules, images and logs apart from another run's.
build=${GUPNW_BUILD:-$top/build}
vm_out=$build/vm	# disk images and serial logs, shared by every kernel

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# Newest installed Debian cloud kernel of a line ("6.1" or "6.12") that has its build
# tree, so a new point release is picked up without editing anything.  Prints the
# kernel release, or nothing.  "6.1.*" cannot match 6.12 or 6.10: the dot is literal.
vm_find_kernel() {
	local f k
	for f in /boot/vmlinuz-"$1".*-cloud-amd64; do
		k=${f#/boot/vmlinuz-}
		[ -r "$f" ] && [ -d "/lib/modules/$k/build" ] && printf '%s\n' "$k"
	done | sort -V | tail -n 1
}

# "6.1" for 6.1.0-56-cloud-amd64, "6.12" for 6.12.117+deb12-cloud-amd64: the TAP label.
vm_line() {
	printf '%s\n' "$1" | cut -d. -f1,2
}

# Accepts a line ("6.12") or a full release; prints the release or fails.
vm_resolve_kernel() {
	local k=$1
	case $k in
	*.*.*) ;;
	*) k=$(vm_find_kernel "$k") ;;
	esac
	[ -n "$k" ] && [ -r "/boot/vmlinuz-$k" ] && [ -d "/lib/modules/$k/build" ] || return 1
	printf '%s\n' "$k"
}

# Terminal escapes off, line ends unixed, no line dropped (the first guest line shares
# its line with the escapes the firmware prints).
vm_strip() {
	sed -u 's/\x1b[[0-9;?]*[a-zA-Z]//g; s/\r//g'
}

# The kernel image and the build tree modules are built against: Debian's, or those
# the caller exported (run.sh does for the debug kernel of build-debug-kernel.sh).
vm_kernel_image() {
	printf '%s\n' "${GUPNW_KERNEL_IMAGE:-/boot/vmlinuz-$1}"
}
vm_kernel_build() {
	printf '%s\n' "${GUPNW_KERNEL_BUILD:-/lib/modules/$1/build}"
}
# The directory holding lib/modules/KVER: / for an installed kernel, the unpacked
# packages of newest-kernel.sh otherwise.
vm_kernel_modules() {
	printf '%s\n' "${GUPNW_KERNEL_MODULES:-/}"
}

# The Debian archive the host's apt uses (deb822 or one-line sources), for the newest
# kernel line (newest-kernel.sh) and the build roots (build-root.sh).
vm_archive() {
	local m
	m=$(sed -n 's/^URIs: *\([^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$m" ] || m=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*debian\)\/* .*/\2/p' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}
