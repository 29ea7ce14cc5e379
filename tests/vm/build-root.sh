#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A build root for kernels whose headers bookworm cannot install (7.x wants gcc-14 or
# newer and trixie's glibc): a minimal Debian root made with debootstrap, cached in
# build/roots/SUITE and reused, with the packages asked for installed inside.
#   build-root.sh SUITE [PKG...]     -> prints the root's path
# SUITE is trixie (its sources also list trixie-backports) or sid.  Packages already
# installed are not asked for again, so a warm root costs nothing.  Root only (chroot).
# Timings of each step go to stderr ("# build-root: ...").
set -eu
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

suite=${1:?usage: build-root.sh trixie|sid [PKG...]}
shift
case $suite in
trixie | sid) ;;
*) die "unknown suite $suite (trixie or sid)" ;;
esac
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
# The root has its own apt configuration; newest-kernel.sh's private one is not for it.
unset APT_CONFIG
root=$build/roots/$suite
mirror=$(vm_archive)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

if [ ! -f "$root/.gupnw-ready" ]; then
	start=$(date +%s)
	rm -rf "$root"
	mkdir -p "$build/roots"
	# minbase: apt, dpkg and coreutils, no init system; the compiler comes below.
	debootstrap --variant=minbase --keyring="$keyring" "$suite" "$root" "$mirror" \
		>"$build/roots/$suite.debootstrap.log" 2>&1 ||
		die "debootstrap $suite failed (log $build/roots/$suite.debootstrap.log)"
	{
		echo "deb $mirror $suite main"
		[ "$suite" = trixie ] && echo "deb $mirror trixie-backports main"
	} >"$root/etc/apt/sources.list"
	rm -f "$root"/etc/apt/sources.list.d/*
	# Signatures are checked; Valid-Until is not, so a mirror snapshot older than a
	# week (sid's Release files expire after one) still serves.
	cat >"$root/etc/apt/apt.conf.d/90gupnw" <<-'CONF'
	Acquire::Check-Valid-Until "false";
	APT::Install-Recommends "false";
	Acquire::Languages "none";
	CONF
	touch "$root/.gupnw-ready"
	echo "# build-root: debootstrap $suite: $(($(date +%s) - start)) s" >&2
fi

missing=()
for p in "$@"; do
	# shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
	chroot "$root" dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	start=$(date +%s)
	log=$build/roots/$suite.apt.log
	export DEBIAN_FRONTEND=noninteractive
	# Package lists once per root, and again whenever a package is missing from them.
	chroot "$root" apt-get update -qq >"$log" 2>&1 || die "apt-get update in the $suite root failed (log $log)"
	chroot "$root" apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
		die "apt-get install ${missing[*]} in the $suite root failed: $(grep -E '^E:' "$log" | head -n 1) (log $log)"
	chroot "$root" apt-get clean
	echo "# build-root: apt-get install ${missing[*]} in $suite: $(($(date +%s) - start)) s" >&2
fi
printf '%s\n' "$root"
