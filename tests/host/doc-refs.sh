#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The repository stands alone: no file may send its reader to a document that is not in
# it.  The project's notes were once kept beside the repository (SPEC.md, KERNEL-NOTES.md,
# QEMU-NOTES.md, DEBUG-KERNEL.md); what a maintainer needs from them is in docs/ now
# (docs/abi.md, docs/design.md, docs/testing.md, docs/debug-kernel.md), and comments
# point there or to a kernel source file and line.
#
# Prints one TAP line "ok - host: ..." / "not ok - host: ..." and each offending line as
# a comment; exits 1 on a failure.  Files under the LENIENT prefixes (none by default)
# are reported but do not fail the check, e.g. while a branch is being merged:
#   LENIENT="module/ userspace/" tests/host/doc-refs.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
: "${LENIENT=}"
name="host: no file points to notes outside the repository (SPEC.md, KERNEL-NOTES.md, QEMU-NOTES.md, DEBUG-KERNEL.md, STYLE.md, ../shared/)"
# The names, spelled so that this file does not match itself.
pat='\(SPEC\|KERNEL-NOTES\|QEMU-NOTES\|DEBUG-KERNEL\|STYLE\)[.]md\|[.][.]/shared/'

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files)
else
	files=$(find . -path ./build -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||')
fi
bad=0
lenient_hits=0
out=$(printf '%s\n' "$files" | grep -v '^tests/host/doc-refs.sh$' |
	while IFS= read -r f; do
		[ -f "$f" ] && grep -HnI "$pat" "$f" 2>/dev/null
	done)
if [ -n "$out" ]; then
	while IFS= read -r hit; do
		f=${hit%%:*}
		soft=0
		for p in $LENIENT; do
			case $f in "$p"*) soft=1 ;; esac
		done
		if [ $soft = 1 ]; then
			echo "# doc-refs (not failing yet): $hit"
			lenient_hits=$((lenient_hits + 1))
		else
			echo "# doc-refs: $hit"
			bad=$((bad + 1))
		fi
	done <<EOT
$out
EOT
fi
if [ "$bad" -eq 0 ]; then
	if [ "$lenient_hits" -gt 0 ]; then
		echo "ok - $name ($lenient_hits reported under: $LENIENT)"
	else
		echo "ok - $name"
	fi
	exit 0
fi
echo "not ok - $name ($bad references)"
exit 1
