#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build gupnw's Debian binary packages (dpkg-buildpackage -us -uc -b) from a scratch
# copy of the tree, so the tree gets no build products, and put the .deb, .buildinfo
# and .changes files in OUTDIR.  The copy holds what git tracks plus untracked files
# that are not ignored (work in progress is packaged as it stands).
#   tests/packaging/build-deb.sh OUTDIR [TREE]   ("make deb": build/deb)
# TREE (default: this tree) is copied in full, less build/, when it is not a git
# work tree.
# dpkg-buildpackage's output goes to stdout/stderr.
set -euo pipefail
top=$(cd "${2:-$(dirname "$0")/../..}" && pwd)
out=$(realpath -m "${1:?usage: build-deb.sh OUTDIR [TREE]}")

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
src=$scratch/gupnw-$version
mkdir "$src"

if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# A file deleted in the work tree but still tracked is left out.
	# shellcheck disable=SC2016
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		(cd "$top" && xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh) |
		(cd "$top" && cpio -p0dm --quiet "$src")
else
	tar -C "$top" --exclude=./build --exclude-vcs -cf - . | tar -C "$src" -xf -
fi

(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b)

mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
mv "$scratch"/*.deb "$scratch"/*.buildinfo "$scratch"/*.changes "$out"/
ls -1 "$out"/*.deb
