#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make lint": the checks that need no VM and fail in minutes, run first in CI
# (.ci/run) as liburing's CI runs codespell and shellcheck beside its build matrix.
# Zero findings is the rule; what is allowed is listed here, with the reason.
#   checkpatch --strict   module/ and uapi/ (Debian's linux-source-6.12 scripts)
#   kernel-doc -none      every kernel-doc comment of module/ well formed
#   sparse (C=2, W=1)     the module against each host kernel line's headers
#   ShellCheck (-x)       every shell file of the repository
#   codespell             every text file
#   cargo fmt/clippy      the Rust crate (bindings/rust, offline)
#   gofmt/go vet          the Go package (bindings/go), where it exists
#   commit subjects       "area: what", under 72 characters, for every commit
#                         but merges after bffc2ef (main's tip when the rule
#                         became a check; older subjects are history):
#                         git log --no-merges bffc2ef..HEAD.  Skipped outside a
#                         git checkout, or in one without that commit (a
#                         tarball, a shallow clone).
# One TAP line per check, the findings as comments, then "N passed, N failed".
# Needs what tests/install-deps.sh installs.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD
out=${GUPNW_BUILD:-$top/build}/lint
mkdir -p "$out"

pass=0
fail=0
# step NAME CMD...: ok when CMD exits 0 and prints nothing; its output as comments.
step() {
	local name=$1 log
	shift
	log=$out/$(printf '%s' "$name" | tr -c 'a-zA-Z0-9' '_').log
	if "$@" >"$log" 2>&1 && [ ! -s "$log" ]; then
		echo "ok - lint: $name"
		pass=$((pass + 1))
	else
		echo "not ok - lint: $name (log: $log)"
		head -n 30 "$log" | sed 's/^/# /'
		fail=$((fail + 1))
	fi
}

# checkpatch.pl and kernel-doc come from Debian's kernel source package, unpacked once.
scripts=$out/scripts
tarball=/usr/src/linux-source-6.12.tar.xz
if [ ! -x "$scripts/checkpatch.pl" ]; then
	rm -rf "$out/src" && mkdir -p "$out/src"
	tar -xJf "$tarball" -C "$out/src" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' '*/scripts/kernel-doc' &&
		mv "$out/src/scripts" "$scripts"
fi

# Findings only: checkpatch --terse still prints a clean file's totals.
checkpatch() {
	checkpatch_all | grep -v '^total: 0 errors, 0 warnings, 0 checks'
	return 0
}
checkpatch_all() {
	local cp=("$scripts/checkpatch.pl" --no-tree --strict --terse --show-types --quiet -f)
	# The compat header is the one place version checks belong (DEVELOPERS.md):
	# LINUX_VERSION_CODE on the left of KERNEL_VERSION() is how they are written.
	"${cp[@]}" --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON module/gupnw_compat.h
	local f rest=()
	for f in module/*.[ch]; do
		[ "$f" = module/gupnw_compat.h ] || rest+=("$f")
	done
	"${cp[@]}" "${rest[@]}"
	# uapi headers cannot use BIT() (not exported to user space), and reserved[1]
	# is a fixed one-word field of the ABI, not a flexible array.
	"${cp[@]}" --ignore BIT_MACRO,FLEXIBLE_ARRAY uapi/linux/gupnw.h
}
step "checkpatch --strict module/ uapi/" checkpatch

step "kernel-doc -none module/" "$scripts/kernel-doc" -none -Wall module/*.c module/*.h

# sparse on each host kernel line: a copy per line, nothing written into the tree.
sparse_one() {
	local b=$1 k d
	k=${b#/lib/modules/}
	k=${k%/build}
	d=$out/sparse/$k
	rm -rf "$d" && mkdir -p "$d"
	cp -a Kbuild module uapi "$d/"
	make -C "$b" M="$d" C=2 W=1 modules >"$d.log" 2>&1 || { tail -n 20 "$d.log"; return 1; }
	grep -iE '(warning|error):' "$d.log"
	return 0
}
for b in /lib/modules/*-cloud-amd64/build; do
	[ -d "$b" ] || continue
	k=${b#/lib/modules/}
	step "sparse (C=2, W=1) against ${k%/build}" sparse_one "$b"
done

# The repository's files: git's list in a checkout, else (a release tarball, a
# fresh-machine copy made with git archive) every file but the build outputs.
repo_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files
	else
		find . \( -path ./build -o -path ./.git -o -path ./userspace/build-asan \
			-o -path ./userspace/build-32 -o -path ./userspace/host-tests \) -prune \
			-o -type f ! -name '*.[oa]' ! -name '*.so*' ! -name '*.ko' -print | sed 's|^\./||'
	fi
}
shell_files() {
	repo_files | tr '\n' '\0' | xargs -0 grep -lIE '^#! ?/bin/(ba)?sh|^# shellcheck shell=' 2>/dev/null
}
# shellcheck disable=SC2046
step "shellcheck -x" shellcheck -x $(shell_files)

# Identifiers the dictionary takes for typos: Rust's crate, the kernel's uptodate,
# in-flight tables and a variable of the benchmark.
# shellcheck disable=SC2046
step codespell codespell -L crate,inflight,uptodate,clen \
	$(repo_files | grep -vE '^(LICENSES/|.*\.(png|svg)$)')

if [ -x /usr/bin/cargo-fmt ] && [ -x /usr/bin/cargo-clippy ]; then
	rust_lint() {
		make -s -C bindings/rust lint >"$out/rust.out" 2>&1 || { tail -n 30 "$out/rust.out"; return 1; }
	}
	step "cargo fmt --check, cargo clippy -D warnings" rust_lint
else
	echo "not ok - lint: cargo fmt/clippy: rustfmt and rust-clippy missing (tests/install-deps.sh)"
	fail=$((fail + 1))
fi

if [ -d bindings/go ]; then
	go_lint() {
		make -s -C bindings/go lint >"$out/go.out" 2>&1 || { tail -n 30 "$out/go.out"; return 1; }
	}
	step "gofmt -l, go vet" go_lint
fi

# "area: what": an area of up to 32 characters (a directory, a file, "rust tests",
# "cli, docs"), a colon, one space, then the subject proper.
subjects_base=bffc2ef
commit_subjects() {
	local LC_ALL=C.UTF-8 h s
	git log --no-merges --format='%h %s' "$subjects_base..HEAD" |
		while read -r h s; do
			[ "${#s}" -lt 72 ] || echo "$h: ${#s} characters, not under 72: $s"
			[[ $s =~ ^[A-Za-z0-9][A-Za-z0-9_./,+\ -]{0,31}:\ [^\ ] ]] ||
				echo "$h: not \"area: what\": $s"
		done
}
if git rev-parse -q --verify "$subjects_base^{commit}" >/dev/null 2>&1; then
	step "commit subjects after $subjects_base: \"area: what\", under 72 characters" \
		commit_subjects
else
	echo "ok - lint: commit subjects # SKIP no git history with $subjects_base"
	pass=$((pass + 1))
fi

echo "lint: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
