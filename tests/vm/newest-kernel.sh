#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The newest Debian -cloud-amd64 kernel, found at run time, ready to test: so when the
# archive gets 7.4, "make check" tests 7.4 without an edit here.
#   newest-kernel.sh [--list | --headers RELEASE]
# A private apt configuration in build/apt/ (its own sources list, state, cache and
# lists; the host's /etc/apt is only read for the mirror) looks at trixie-backports and
# sid and takes the highest linux-image-<release>-cloud-amd64.  Its linux-binary and
# linux-modules packages are unpacked in build/kernels/<release>/ (no dpkg, no root
# needed for that), depmod indexes the modules there, and a build root of the suite that
# ships it (build-root.sh: trixie for trixie-backports, sid for sid) gets make and the
# release's headers, whose Makefile names the compiler it wants (gcc-14 for 7.3).
# Prints four lines: release, kernel image, modules base (holding lib/modules/<release>),
# build root.  --list prints every release of the cloud flavour with headers in the
# archive, one a line with its suite ("7.2.13+deb14-cloud-amd64 sid"), and stops
# (tests/vm/compat-check.sh).  --headers RELEASE only readies the build root with that
# release's headers and prints the root.  Fails with a one-line reason on stderr.
# GUPNW_NEWEST=release takes that release instead of the highest.
set -eu
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

apt_dir=$build/apt
mirror=$(vm_archive)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$apt_dir"/state/lists/partial "$apt_dir"/cache/archives/partial \
	"$apt_dir"/etc/sources.list.d "$apt_dir"/etc/apt.conf.d "$apt_dir"/etc/preferences.d
cat >"$apt_dir/sources.list" <<SRC
deb [signed-by=$keyring] $mirror trixie-backports main
deb [signed-by=$keyring] $mirror sid main
SRC
touch "$apt_dir/status"
# Nothing of the host's apt configuration but its defaults: every directory is ours.
# Signatures are checked; Valid-Until is not (sid's Release files expire within a
# week, and a mirror snapshot is older than that).  Downloads run as the caller
# (root), not as apt's _apt user: the tree may sit where _apt cannot enter (a clone
# under a mode-700 directory), and apt would warn about every file.
cat >"$apt_dir/apt.conf" <<CONF
Dir::Etc::SourceList "$apt_dir/sources.list";
Dir::Etc::SourceParts "$apt_dir/etc/sources.list.d";
Dir::Etc::Parts "$apt_dir/etc/apt.conf.d";
Dir::Etc::PreferencesParts "$apt_dir/etc/preferences.d";
Dir::Etc::Preferences "$apt_dir/etc/preferences";
Dir::State "$apt_dir/state";
Dir::State::status "$apt_dir/status";
Dir::Cache "$apt_dir/cache";
APT::Architecture "amd64";
Acquire::Check-Valid-Until "false";
Acquire::Languages "none";
APT::Sandbox::User "root";
CONF
export APT_CONFIG=$apt_dir/apt.conf
apt-get -q update >"$apt_dir/update.log" 2>&1 || die "apt-get update of trixie-backports and sid failed (log $apt_dir/update.log)"
grep -q '^[EW]:' "$apt_dir/update.log" && die "apt-get update: $(grep -m1 '^[EW]:' "$apt_dir/update.log")"

# Real packages only (apt-cache pkgnames also lists names merely referred to).
suite_of() {
	apt-cache madison "$1" | awk -F'|' 'NR == 1 { n = split($3, w, " "); print w[2] }' | cut -d/ -f1
}
if [ "${1:-}" = --list ]; then
	apt-cache search --names-only '^linux-headers-[0-9].*-cloud-amd64$' | awk '{ print $1 }' |
		sed 's/^linux-headers-//' | sort -V | while read -r r; do
		printf '%s %s\n' "$r" "$(suite_of "linux-headers-$r")"
	done
	exit 0
fi

# The build root of the suite that ships a release, with make, the release's headers
# and the compiler their Makefile names; prints the root.
ready_root() {
	local kver=$1 suite root_suite root hdr cc
	suite=$(suite_of "linux-headers-$kver")
	case $suite in
	trixie-backports) root_suite=trixie ;;
	sid | unstable) root_suite=sid ;;
	"") die "no linux-headers-$kver in trixie-backports or sid" ;;
	*) die "linux-headers-$kver comes from '$suite', not trixie-backports or sid" ;;
	esac
	root=$("$vm_dir/build-root.sh" "$root_suite" make "linux-headers-$kver") || exit 1
	hdr=/usr/src/linux-headers-$kver
	cc=$(sed -n 's/^CC = .*)\(gcc-[0-9]*\)$/\1/p' "$root$hdr/.kernelvariables" "$root$hdr/Makefile" 2>/dev/null | head -n 1)
	[ -n "$cc" ] || die "no compiler named in $root$hdr/.kernelvariables"
	"$vm_dir/build-root.sh" "$root_suite" "$cc" >/dev/null || exit 1
	printf '%s\n' "$root"
}
if [ "${1:-}" = --headers ]; then
	ready_root "${2:?--headers needs a release}"
	exit 0
fi

if [ -n "${GUPNW_NEWEST:-}" ]; then
	kver=$GUPNW_NEWEST
else
	kver=$(apt-cache search --names-only '^linux-image-[0-9].*-cloud-amd64$' | awk '{ print $1 }' |
		sed 's/^linux-image-//' | sort -V | tail -n 1)
fi
[ -n "$kver" ] || die "no linux-image-*-cloud-amd64 in trixie-backports or sid"
[ -n "$(suite_of "linux-image-$kver")" ] || die "no linux-image-$kver in trixie-backports or sid"

kdir=$build/kernels/$kver
if [ ! -f "$kdir/.gupnw-ready" ]; then
	rm -rf "$kdir"
	mkdir -p "$kdir/debs"
	(cd "$kdir/debs" && apt-get -q download "linux-binary-$kver" "linux-modules-$kver") \
		>"$kdir/download.log" 2>&1 ||
		die "apt-get download linux-binary-$kver linux-modules-$kver failed: $(grep -m1 '^E:' "$kdir/download.log")"
	for d in "$kdir"/debs/*.deb; do
		dpkg-deb -x "$d" "$kdir/root" || die "dpkg-deb -x $d failed"
	done
	rm -rf "$kdir/debs"
	[ -f "$kdir/root/usr/lib/modules/$kver/vmlinuz" ] || die "linux-binary-$kver has no usr/lib/modules/$kver/vmlinuz"
	# No modules.dep is shipped: make one, so build-initramfs.sh asks modprobe as
	# for an installed kernel (virtio_pci is built in, virtio_blk a module).
	# (depmod warns that modules.order and modules.builtin are missing: they are.)
	depmod -b "$kdir/root/usr" "$kver" 2>"$kdir/depmod.log" || die "depmod for $kver failed (log $kdir/depmod.log)"
	touch "$kdir/.gupnw-ready"
fi

root=$(ready_root "$kver") || exit 1
printf '%s\n' "$kver" "$kdir/root/usr/lib/modules/$kver/vmlinuz" "$kdir/root/usr" "$root"
