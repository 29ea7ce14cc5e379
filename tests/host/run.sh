#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host tests of gupnw: everything that needs no kernel module.  Builds the
# library, tool and test programs (normally and with ASan/UBSan), runs the
# unit tests under valgrind (when installed) and under the sanitizers, the
# tool's command-line tests against both builds, and checks the install, the
# exported symbols and the man pages.
#
# Prints "ok - host: NAME" or "not ok - host: NAME" per test (the top-level
# runner numbers and counts them); exits 0 iff all passed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
us=$(cd "$here/../../userspace" && pwd)
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# result STATUS NAME [LOG]: one TAP line; on failure the log as comments.
result() {
	if [ "$1" -eq 0 ]; then
		echo "ok - host: $2"
	else
		echo "not ok - host: $2"
		[ -n "${3:-}" ] && tail -n 40 "$3" | sed 's/^/# /'
		failed=1
	fi
}

# check NAME CMD...: run CMD with a timeout, its output kept for a failure.
check() {
	name=$1
	shift
	timeout 120 "$@" >"$tmp/log" 2>&1
	result $? "$name" "$tmp/log"
}

check "build" make -C "$us" all host-tests
check "build with ASan and UBSan" make -C "$us" asan
if [ $failed -ne 0 ]; then
	exit 1
fi

vg=""
if command -v valgrind >/dev/null 2>&1; then
	vg="valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all"
else
	echo "# valgrind not installed: unit tests run without it"
fi
for t in test-parse test-output test-lib; do
	# shellcheck disable=SC2086
	check "$t${vg:+ (valgrind)}" $vg "$us/host-tests/$t"
	check "$t (asan)" "$us/build-asan/host-tests/$t"
done

sh "$here/cli.sh" "$us/cli/gupnw" "$us/host-tests/fake-gupnw.so" cli ||
	failed=1
sh "$here/cli.sh" "$us/build-asan/cli/gupnw" \
	"$us/build-asan/host-tests/fake-gupnw.so" "cli (asan)" || failed=1

# The example scheduler refuses a bad mode or number with one line, exit 2,
# before it opens anything.
ex=$us/examples/gupnw-uring-sched
if [ -x "$ex" ]; then
	# shellcheck disable=SC2089,SC2090 # the quotes are part of the expected message
	for args in "-m foo f:bad -m 'foo' (sched, threads, touch or all)" \
		    "-t abc f:bad -t 'abc' (1 to 16384)" \
		    "-t 0 f:bad -t '0' (1 to 16384)" \
		    "-s -1 f:bad -s '-1' (1 to 1048576)" \
		    "-w 1x f:bad -w '1x' (0 to 60000000)" \
		    "-t 99999999999999999999 f:bad -t '99999999999999999999' (1 to 16384)"; do
		# shellcheck disable=SC2086
		timeout 10 "$ex" ${args%%:*} >"$tmp/out" 2>"$tmp/log"
		rc=$?
		[ $rc -eq 2 ] && [ ! -s "$tmp/out" ] &&
			[ "$(cat "$tmp/log")" = "gupnw-uring-sched: ${args#*:}" ]
		result $? "uring_sched example: ${args%%:*} is a usage error (exit 2)" "$tmp/log"
	done
else
	echo "ok - host: uring_sched example arguments # SKIP not built (no liburing)"
fi

# The static tool is what the guest's initramfs runs: no dynamic section.
LC_ALL=C readelf -d "$us/cli/gupnw-static" 2>&1 |
	grep -q 'There is no dynamic section'
result $? "gupnw-static is statically linked"

# A program built against libgupnw 0.1 (its 48-byte counts, its module info)
# binds to the GUPNW_0.1 calls, which write only that much.
check "a program built against 0.1 gets the 0.1 sizes written (GUPNW_0.1)" \
	env GUPNW_DEVICE=/dev/null \
	LD_PRELOAD="$us/host-tests/fake-gupnw.so" "$us/host-tests/test-abi01"
check "a program built against 0.1 gets the 0.1 sizes written (asan)" \
	env ASAN_OPTIONS=verify_asan_link_order=0 GUPNW_DEVICE=/dev/null \
	LD_PRELOAD="$us/build-asan/host-tests/fake-gupnw.so" \
	"$us/build-asan/host-tests/test-abi01"

# The fake module takes sizes as the module does, so what passes against it
# would pass against the module.
check "fake module: a larger struct size with a zero tail, size bytes written back" \
	env LD_PRELOAD="$us/host-tests/fake-gupnw.so" "$us/host-tests/test-fake"
check "fake module: a larger struct size with a zero tail, size bytes written back (asan)" \
	env ASAN_OPTIONS=verify_asan_link_order=0 \
	LD_PRELOAD="$us/build-asan/host-tests/fake-gupnw.so" \
	"$us/build-asan/host-tests/test-fake"

# One program bound to both versions (GUPNW_0.1 and the default GUPNW_0.2),
# against the library as built and as distributions build it, with LTO.
check "a program bound to GUPNW_0.1 and GUPNW_0.2 gets each one's sizes" \
	env GUPNW_DEVICE=/dev/null \
	LD_PRELOAD="$us/host-tests/fake-gupnw.so" "$us/host-tests/test-symver"
if timeout 300 make -C "$us" lto >"$tmp/log" 2>&1; then
	check "LTO build (-flto): a program bound to GUPNW_0.1 and GUPNW_0.2 gets each one's sizes" \
		env GUPNW_DEVICE=/dev/null \
		LD_PRELOAD="$us/build-lto/host-tests/fake-gupnw.so" \
		"$us/build-lto/host-tests/test-symver"
else
	result 1 "LTO build (-flto): a program bound to GUPNW_0.1 and GUPNW_0.2 gets each one's sizes" "$tmp/log"
fi

# Ranges of any size: the end of user space, refused past it (own mm and pid
# form), a whole address space in runs.
check "library: range past the end of user space refused, up to it answered" \
	env GUPNW_DEVICE=/dev/null \
	LD_PRELOAD="$us/host-tests/fake-gupnw.so" "$us/host-tests/test-range"
check "library: range past the end of user space refused, up to it answered (asan)" \
	env ASAN_OPTIONS=verify_asan_link_order=0 GUPNW_DEVICE=/dev/null \
	LD_PRELOAD="$us/build-asan/host-tests/fake-gupnw.so" \
	"$us/build-asan/host-tests/test-range"

# One handle shared by threads (gupnw_open(3)): no data race for TSan.
if timeout 300 make -C "$us" tsan >"$tmp/log" 2>&1; then
	check "one handle used by several threads at once: no data race (tsan)" \
		env GUPNW_DEVICE=/dev/null \
		LD_PRELOAD="$us/build-tsan/host-tests/fake-gupnw.so" \
		"$us/build-tsan/host-tests/test-threads"
else
	result 1 "one handle used by several threads at once: no data race (tsan)" "$tmp/log"
fi

# Lengths past 4 GiB through the 64-bit calls (GUPNW_0.3), and the same from
# a 32-bit build (i386: size_t of 32 bits), whose tool must also cut each
# call of a longer pid range to what a size_t holds (cli.sh's 16 TiB cases).
check "library: 64-bit lengths (GUPNW_0.3) reach the module whole" \
	env GUPNW_DEVICE=/dev/null \
	LD_PRELOAD="$us/host-tests/fake-gupnw.so" "$us/host-tests/test-len64"
check "library: 64-bit lengths (GUPNW_0.3) reach the module whole (asan)" \
	env ASAN_OPTIONS=verify_asan_link_order=0 GUPNW_DEVICE=/dev/null \
	LD_PRELOAD="$us/build-asan/host-tests/fake-gupnw.so" \
	"$us/build-asan/host-tests/test-len64"
printf 'int main(void) { return 0; }\n' >"$tmp/m32.c"
if ! cc -m32 -o "$tmp/m32" "$tmp/m32.c" >/dev/null 2>&1; then
	echo "ok - host: 32-bit build # SKIP cc -m32 cannot link (gcc-multilib)"
elif timeout 300 make -C "$us" m32 >"$tmp/log" 2>&1; then
	result 0 "32-bit build (-m32): library, tool, test-len64"
	check "library: 64-bit lengths (GUPNW_0.3) reach the module whole (32-bit)" \
		env GUPNW_DEVICE=/dev/null \
		LD_PRELOAD="$us/build-32/host-tests/fake-gupnw.so" \
		"$us/build-32/host-tests/test-len64"
	sh "$here/cli.sh" "$us/build-32/cli/gupnw" \
		"$us/build-32/host-tests/fake-gupnw.so" "cli (32-bit)" || failed=1
else
	result 1 "32-bit build (-m32): library, tool, test-len64" "$tmp/log"
fi

# Exported: every function of the public header (at its newest version), and
# each exported NAME@VERSION is in debian/libgupnw1.symbols and in the version
# script's node VERSION.
so=$us/lib/libgupnw.so.1.0.0
LC_ALL=C nm -D --defined-only "$so" | awk '{ print $3 }' | sort >"$tmp/exported"
{
	grep -o '^[a-z].*\bgupnw_[a-z0-9_]*(' "$us/lib/include/gupnw.h" |
		sed 's/.*\(gupnw_[a-z0-9_]*\)($/\1/' | sort >"$tmp/header"
	sed -n 's/@@.*//p' "$tmp/exported" | grep -v '^GUPNW_' | sort >"$tmp/defaults"
	diff "$tmp/header" "$tmp/defaults" && [ -s "$tmp/header" ]
} >"$tmp/log" 2>&1 &&
	LC_ALL=C readelf -d "$so" | grep -q 'Library soname: \[libgupnw\.so\.1\]'
result $? "libgupnw.so.1 exports the functions of <gupnw.h>, no more" "$tmp/log"

# libgupnw.a too: the functions of <gupnw.h> (NAME, NAME@VERSION) are its
# only global symbols, so a static link's namespace gets nothing else.
LC_ALL=C nm -g --defined-only "$us/lib/libgupnw.a" |
	awk 'NF == 3 { sub(/@.*/, "", $3); print $3 }' | sort -u |
	diff "$tmp/header" - >"$tmp/log" 2>&1
result $? "libgupnw.a: the functions of <gupnw.h> are its only global symbols" "$tmp/log"

# nm names a version node bare (GUPNW_0.2), dpkg-gensymbols as GUPNW_0.2@GUPNW_0.2.
sed -e 's/@@/@/' -e 's/^\(GUPNW_[0-9.]*\)$/\1@\1/' "$tmp/exported" |
	sort >"$tmp/exp-versions"
awk '/^ / { print $1 }' "$here/../../debian/libgupnw1.symbols" | sort >"$tmp/symfile"
diff "$tmp/exp-versions" "$tmp/symfile" >"$tmp/log" 2>&1
result $? "debian/libgupnw1.symbols lists every exported symbol with its version" "$tmp/log"

# NAME@NODE: NAME listed as global in node NODE of the version script.
sed -e 's,/\*.*\*/,,' -e '/\/\*/,/\*\//d' "$us/lib/libgupnw.map" |
	awk '/^[A-Z].*{/ { node = $1; next }
	     /local:/ { node = "" }
	     node != "" && /^[ \t]*[a-z0-9_]+;/ { gsub(/[ \t;]/, ""); print $0 "@" node }' |
	sort >"$tmp/map"
grep -v '^GUPNW_' "$tmp/exp-versions" | comm -23 - "$tmp/map" >"$tmp/log"
[ ! -s "$tmp/log" ]
result $? "every exported symbol is in its node of libgupnw.map" "$tmp/log"

# Install into a scratch root; a program built with pkg-config runs.
dest=$tmp/root
# shellcheck disable=SC2046 # pkg-config's flags are words to split
if make -s -C "$us" install DESTDIR="$dest" PREFIX=/usr >"$tmp/log" 2>&1 &&
   for f in lib/libgupnw.a lib/libgupnw.so.1.0.0 lib/libgupnw.so.1 \
	    lib/libgupnw.so lib/pkgconfig/gupnw.pc include/gupnw.h bin/gupnw \
	    share/man/man1/gupnw.1 share/man/man1/gupnw-probe.1 \
	    share/man/man1/gupnw-maps.1 share/man/man1/gupnw-prefetch.1 \
	    share/man/man1/gupnw-watch.1 share/man/man3/gupnw_probe.3 \
	    share/bash-completion/completions/gupnw; do
	   [ -e "$dest/usr/$f" ] || { echo "missing /usr/$f"; exit 1; }
   done >>"$tmp/log" &&
   printf '#include <gupnw.h>\n#include <stdio.h>\nint main(void) { puts(gupnw_version()); return 0; }\n' >"$tmp/v.c" &&
   cc -o "$tmp/v" "$tmp/v.c" $(PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" \
	PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config --cflags --libs gupnw) \
	>>"$tmp/log" 2>&1 &&
   [ "$(LD_LIBRARY_PATH="$dest/usr/lib" "$tmp/v")" = 0.4.0 ]; then
	result 0 "install with DESTDIR and PREFIX, pkg-config"
else
	result 1 "install with DESTDIR and PREFIX, pkg-config" "$tmp/log"
fi

# The bash completion offers the subcommands and each one's options.
bc=/usr/share/bash-completion/bash_completion
if command -v bash >/dev/null 2>&1 && [ -r "$bc" ]; then
	# complete WORDS...: what TAB offers after them (the last word is the one
	# being completed).
	cat >"$tmp/complete.bash" <<'EOF_BASH'
. "$1"
. "$2"
shift 2
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_gupnw gupnw "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
EOF_BASH
	comp() {
		bash "$tmp/complete.bash" "$bc" \
			"$dest/usr/share/bash-completion/completions/gupnw" "$@"
	}
	{
		[ "$(comp gupnw '')" = "--help --version maps prefetch probe watch " ] &&
		[ "$(comp gupnw maps --)" = "--bytes --fault --help --json --noheadings --output --pid --raw " ] &&
		[ "$(comp gupnw probe --r)" = "--range --ranges --raw --recursive " ] &&
		[ "$(comp gupnw probe -)" = "--bytes --color= --help --json --map-width --no-fault --noheadings --output --pid --range --ranges --raw --recursive --wait --write -J -b -h -n -o -p -r " ] &&
		[ "$(comp gupnw probe -o PAGES,M)" = "PAGES,MEM% " ] &&
		[ "$(comp gupnw maps -o S)" = "SWAP " ] &&
		[ "$(comp gupnw watch --color=)" = "always auto never " ] &&
		[ "$(comp gupnw maps --pid se)" = "self " ]
	} >"$tmp/log" 2>&1
	result $? "bash completion: subcommands, options (short and long), values, -o columns" "$tmp/log"
else
	echo "ok - host: bash completion # SKIP bash-completion not installed"
fi

# Man pages render without a warning, as installed (.so links resolve).
if command -v groff >/dev/null 2>&1; then
	for page in "$us"/man/*.[13]; do
		page=${page##*/}
		(cd "$dest/usr/share/man" &&
			groff -man -ww -z -Tutf8 "man${page##*.}/$page") \
			>"$tmp/log" 2>&1 && [ ! -s "$tmp/log" ]
		result $? "man page $page renders without warnings" "$tmp/log"
	done
else
	echo "ok - host: man pages render without warnings # SKIP groff not installed"
fi

# Comments point into the repository (docs/), never to notes kept outside it.
sh "$here/doc-refs.sh" || failed=1
exit $failed
