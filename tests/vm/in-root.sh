#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run a command inside a build root made by build-root.sh, with /proc mounted there
# (objtool and dkms read it):
#   in-root.sh ROOT CMD [ARG]...
# Normally in a private mount namespace, so that the proc mount goes with the command.
# Where "/" is not a mount point - this machine is itself a chroot, as a fresh-check
# root is - unshare cannot make the namespace private ("cannot change root filesystem
# propagation: Invalid argument"); there the proc mount is made here, in the machine's
# namespace, and removed again when the command ends.
set -u
root=${1:?usage: in-root.sh ROOT CMD [ARG]...}
shift
# shellcheck disable=SC2016
if unshare --mount --propagation private true 2>/dev/null; then
	exec unshare --mount --propagation private sh -c \
		'mount -t proc proc "$1/proc" && shift && exec chroot "$@"' sh "$root" "$root" "$@"
fi
if ! mountpoint -q "$root/proc"; then
	mount -t proc proc "$root/proc" || exit 1
	trap 'umount "$root/proc"' EXIT
fi
chroot "$root" "$@"
