#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Compile-only sweep, the early warning for the next interface change: build gupnw.ko
# with W=1 (any warning fails) against every -cloud-amd64 kernel line there are headers
# for: the lines installed on this host (6.1, 6.12), and the newest release of each line
# that Debian's trixie-backports and sid offer (newest-kernel.sh --list), each in the
# build root of its suite (build-root.sh: trixie, or sid with its newer gcc).  One TAP
# line per kernel line.
#   compat-check.sh
# Logs: build/KVER/module.log.
set -u
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

mkdir -p "$build/check"
err=$build/check/compat-check.err
lines=" "

build_one() {
	local label=$1 kver=$2 where=$3 start why
	start=$(date +%s)
	if why=$("$vm_dir/build-module.sh" "$kver" 2>&1); then
		echo "ok - [compat $label] module builds with W=1 against $kver ($where, $(($(date +%s) - start)) s)"
	else
		echo "not ok - [compat $label] module builds with W=1 against $kver ($where): $(printf '%s\n' "$why" | head -n 1)"
		printf '%s\n' "$why" | head -n 20 | sed "s/^/# [compat $label] /"
	fi
}

# The host's: the newest installed release of each line.
for b in /lib/modules/*-cloud-amd64/build; do
	[ -d "$b" ] || continue
	k=${b#/lib/modules/}
	vm_line "${k%/build}"
done | sort -uV | while read -r line; do
	kver=$(vm_find_kernel "$line")
	[ -n "$kver" ] || continue
	GUPNW_KERNEL_BUILD="" build_one "$line" "$kver" "host"
done
for b in /lib/modules/*-cloud-amd64/build; do
	[ -d "$b" ] || continue
	k=${b#/lib/modules/}
	lines+="$(vm_line "${k%/build}") "
done

# The archive's: the highest release of each line (sort -V: the last one wins).
if ! list=$("$vm_dir/newest-kernel.sh" --list 2>"$err"); then
	echo "not ok - [compat] kernel lines listed from trixie-backports and sid: $(tail -n 1 "$err")"
	exit 0
fi
[ -n "$list" ] || { echo "not ok - [compat] kernel lines listed from trixie-backports and sid: none"; exit 0; }
printf '%s\n' "$list" | awk '{ split($1, v, "."); line = v[1] "." v[2]; last[line] = $0; order[line] = NR }
	END { for (l in last) print order[l], l, last[l] }' | sort -n | while read -r _ line kver suite; do
	case $lines in *" $line "*) continue ;; esac	# the host has that line
	if ! root=$("$vm_dir/newest-kernel.sh" --headers "$kver" 2>"$err"); then
		echo "not ok - [compat $line] headers of $kver in a build root: $(grep -v '^#' "$err" | tail -n 1)"
		continue
	fi
	GUPNW_KERNEL_ROOT=$root GUPNW_KERNEL_BUILD=/usr/src/linux-headers-$kver \
		build_one "$line" "$kver" "$suite, in $(basename "$root") root"
done
