#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Put the table of the last full "make check" (build/check/kernels.md, written by
# tests/run-check.sh) into README.md between the "kernels:begin" and "kernels:end"
# comment lines, so the versions README names are the ones a run passed on.
#   tests/update-readme-kernels.sh [KERNELS.md]
set -eu
cd "$(dirname "$0")/.."
md=${1:-build/check/kernels.md}
[ -s "$md" ] || { echo "update-readme-kernels: no $md: run make check first" >&2; exit 1; }
if ! grep -q '^<!-- kernels:begin' README.md || ! grep -q '^<!-- kernels:end' README.md; then
	echo "update-readme-kernels: README.md has no kernels:begin/end markers" >&2
	exit 1
fi
awk -v md="$md" '
/^<!-- kernels:begin/ { print; while ((getline l < md) > 0) print l; skip = 1; next }
/^<!-- kernels:end/ { skip = 0 }
!skip { print }' README.md >README.md.tmp
mv README.md.tmp README.md
echo "update-readme-kernels: README.md updated from $md"
