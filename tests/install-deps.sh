#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install from Debian's archive what building and testing gupnw needs: both kernel
# lines (image + headers, through the meta-packages, so a new point release is picked
# up), QEMU, a static busybox for the initramfs, the build tools (gcc-multilib for the
# host tests' 32-bit build), DKMS and the Debian
# packaging tools for tests/packaging/, and for the debug kernel of "make check-debug",
# Debian's linux-source-6.12 and what building it needs, debootstrap for the build
# roots of kernels newer than bookworm can build (tests/vm/build-root.sh), and for
# bindings/rust Debian's cargo/rustc and the packaged crates it builds from offline
# (librust-tokio-dev brings every tokio feature and the crates they need), with its
# rustfmt and clippy (cargo fmt --check, cargo clippy in bindings/rust); for
# bindings/go Debian's Go 1.19 and the packaged modules it builds from offline
# (golang.org/x/sys; go.etcd.io/bbolt for the example server); shellcheck and
# codespell for "make lint" (tests/lint.sh); gnuplot-nox (its svg terminal) for the
# plots "make bench-md" draws (tests/bench/plot.sh).
# Arguments name more packages (make bench adds linux-source-6.1).  --demo first: only
# what "make demo" needs (one kernel line, QEMU, the build of the CLI and the module).
# Idempotent: installs only what is missing.  Needs root (or sudo).
set -eu

if [ "${1:-}" = --demo ]; then
	shift
	PKGS="make gcc libc6-dev kmod cpio gzip xz-utils zstd e2fsprogs util-linux
qemu-system-x86 busybox-static linux-image-6.12-cloud-amd64 linux-headers-6.12-cloud-amd64 $*"
else
PKGS="make gcc libc6-dev build-essential pkg-config kmod cpio gzip xz-utils e2fsprogs util-linux
qemu-system-x86 busybox-static
linux-image-cloud-amd64 linux-headers-cloud-amd64
linux-image-6.12-cloud-amd64 linux-headers-6.12-cloud-amd64
python3 valgrind sparse liburing-dev bash-completion groff-base gcc-multilib shellcheck codespell
dkms dh-dkms debhelper dpkg-dev fakeroot lintian
linux-source-6.12 bc flex bison libelf-dev libssl-dev zstd
debootstrap debian-archive-keyring
cargo rustc rustfmt rust-clippy librust-tokio-dev librust-libc-dev
golang-1.19-go golang-golang-x-sys-dev golang-github-coreos-bbolt-dev
gnuplot-nox $*"
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends: no initramfs-tools/firmware churn for kernels we never boot on the host
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
