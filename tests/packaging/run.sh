#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Packaging tests of gupnw, on the host (no VM, nothing installed on the host):
#  - DKMS: "make dkms-install DESTDIR=" stages the module source, and Debian's dkms
#    builds it for the newest installed 6.1 and 6.12 cloud kernels, in a scratch DKMS
#    tree (--dkmstree/--sourcetree/--installtree, signing key in the scratch dir too),
#    so /var/lib/dkms, /usr/src and /lib/modules are never touched; and for the newest
#    Debian cloud kernel (tests/vm/newest-kernel.sh), with trixie's dkms in the build
#    root its headers are installed in (--kernelsourcedir: that dkms looks for them in
#    the scratch install tree otherwise);
#  - Debian packages: dpkg-buildpackage -us -uc -b in a scratch copy of the tree
#    (tests/packaging/build-deb.sh), the four packages' contents, lintian;
#  - dpkg installs gupnw and libgupnw1 into a scratch root (dpkg --root), the libc
#    and dynamic loader they need are added, and the packaged tool runs from it.
#    That root, BUILD/deb/pkgroot, is what the guest mounts as /pkgroot for
#    tests/guest/t20_packaged_cli.sh.
# Results: the .debs in BUILD/deb/, logs in BUILD/packaging/ (BUILD is $GUPNW_BUILD,
# default build/).  Installs missing build tools with tests/install-deps.sh.
# Prints "ok - packaging: NAME", "not ok - packaging: NAME" or "ok - packaging: NAME
# # SKIP why" per test (tests/run-check.sh numbers and counts them); exits 0 iff none
# failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=$(realpath -m "${GUPNW_BUILD:-$top/build}")
debs=$build/deb
logs=$build/packaging
mkdir -p "$logs"
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
failed=0

ok()    { echo "ok - packaging: $1"; }
skip()  { echo "ok - packaging: $1 # SKIP $2"; }
diag()  { sed 's/^/# /'; }
# notok NAME [LOG]: a failure, with the end of LOG as comments.
notok() {
	echo "not ok - packaging: $1"
	[ -n "${2:-}" ] && [ -f "$2" ] && tail -n 25 "$2" | diag
	failed=1
}
# step NAME LOG CMD...: ok if CMD succeeds; its output goes to LOG.
step() {
	local name=$1 log=$2
	shift 2
	if timeout 300 "$@" >"$log" 2>&1; then ok "$name"; else notok "$name" "$log"; return 1; fi
}

# --- tools: from Debian's archive, installed by tests/install-deps.sh if missing ---
tools_missing() {
	local c m=""
	for c in dkms dh dh_dkms dpkg-buildpackage dpkg-deb modinfo cpio; do
		command -v "$c" >/dev/null 2>&1 || m="$m $c"
	done
	echo "$m"
}
missing=$(tools_missing)
if [ -n "$missing" ]; then
	echo "# packaging: missing$missing: running tests/install-deps.sh" | diag
	tests/install-deps.sh >"$logs/install-deps.log" 2>&1
	missing=$(tools_missing)
fi
if [ -n "$missing" ]; then
	notok "build tools installed (missing:$missing)" "$logs/install-deps.log"
	exit 1
fi

# --- one version everywhere ---
v_dkms=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
v_mod=$(sed -n 's/^#define GUPNW_MODULE_VERSION[[:space:]]*"\(.*\)"$/\1/p' module/gupnw_internal.h)
v_lib=$(awk '/^#define GUPNW_VERSION_/ { v = v s $3; s = "." } END { print v }' \
	userspace/lib/include/gupnw.h)
v_deb=$(dpkg-parsechangelog -S Version)
if [ -n "$v_dkms" ] && [ "$v_dkms" = "$v_mod" ] && [ "$v_dkms" = "$v_lib" ] &&
	[ "$v_dkms" = "${v_deb%-*}" ]; then
	ok "one version ($v_dkms): dkms.conf, module, library, debian/changelog"
else
	notok "one version: dkms.conf '$v_dkms', module '$v_mod', library '$v_lib', debian/changelog '$v_deb'"
fi
ver=$v_dkms

# --- make dkms-install / dkms-remove, staged ---
stage=$work/stage
src=$stage/usr/src/gupnw-$ver
dkms_stage() {
	make -s dkms-install DESTDIR="$stage" &&
	(cd "$src" && find . -type f | sort) >"$work/staged" &&
	for f in ./Kbuild ./dkms.conf ./LICENSE ./uapi/linux/gupnw.h ./module/gupnw_dev.c; do
		grep -qxF "$f" "$work/staged" || { echo "missing $f"; exit 1; }
	done &&
	! grep -E '\.(o|ko|cmd|mod|order|symvers)$' "$work/staged" &&
	cp -a "$stage" "$work/stage-copy" &&
	make -s dkms-remove DESTDIR="$work/stage-copy" &&
	[ ! -e "$work/stage-copy/usr/src/gupnw-$ver" ]
}
if dkms_stage >"$logs/dkms-stage.log" 2>&1; then
	ok "make dkms-install/dkms-remove DESTDIR=: sources only in /usr/src/gupnw-$ver"
else
	notok "make dkms-install/dkms-remove DESTDIR=" "$logs/dkms-stage.log"
fi
name="dkms.conf: MAKE[0] with \${kernel_source_dir}, gupnw to /extra, AUTOINSTALL"
# shellcheck disable=SC2016
if grep -qx 'DEST_MODULE_LOCATION\[0\]="/extra"' dkms.conf &&
	grep -qx 'AUTOINSTALL="yes"' dkms.conf &&
	grep -q '^MAKE\[0\]=.*-C \${kernel_source_dir} ' dkms.conf &&
	grep -qx 'BUILT_MODULE_NAME\[0\]="gupnw"' dkms.conf; then
	ok "$name"
else
	notok "$name"
fi

# --- dkms build for each kernel line, in a scratch DKMS tree ---
dk=$work/dkms
mkdir -p "$dk/tree" "$dk/install"
dkopts=(--dkmstree "$dk/tree" --sourcetree "$stage/usr/src" --installtree "$dk/install")
# DKMS signs what it builds with /var/lib/dkms/mok.key, made on first use: a scratch key.
export mok_signing_key=$dk/mok.key mok_certificate=$dk/mok.pub
added=0
if [ -d "$src" ] && dkms add -m gupnw -v "$ver" "${dkopts[@]}" >"$logs/dkms-add.log" 2>&1; then
	added=1
fi
# The module DKMS built under DIR (its tree for one kernel): ok when it carries version
# $ver and vermagic $kver; uses $name and $log of the caller.
check_dkms_ko() {
	local f ko="" mv mk
	for f in "$1"/*/module/gupnw.ko*; do
		[ -f "$f" ] && ko=$f
	done
	mv=$( [ -n "$ko" ] && modinfo -F version "$ko")
	mk=$( [ -n "$ko" ] && modinfo -F vermagic "$ko" | awk '{ print $1 }')
	if [ -n "$ko" ] && [ "$mv" = "$ver" ] && [ "$mk" = "$kver" ]; then
		ok "$name: ${ko##*/}, version $mv, vermagic $mk"
	else
		echo "module '${ko:-none}' version '$mv' vermagic '$mk'" >>"$log"
		notok "$name: module, version $ver, vermagic $kver" "$log"
	fi
}

for line in 6.1 6.12; do
	# The dot is literal: 6.1.* matches neither 6.12 nor 6.10.
	kver=$(for b in /lib/modules/"$line".*-cloud-amd64/build; do
		[ -d "$b" ] && basename "$(dirname "$b")"
	done | sort -V | tail -n 1)
	name="dkms build for $line"
	if [ -z "$kver" ]; then
		notok "$name: no /lib/modules/$line.*-cloud-amd64/build (tests/install-deps.sh installs it)"
		continue
	fi
	name="dkms build for $line ($kver)"
	if [ $added = 0 ]; then
		notok "$name: dkms add failed" "$logs/dkms-add.log"
		continue
	fi
	log=$logs/dkms-build-$line.log
	if ! timeout 300 dkms build -m gupnw -v "$ver" -k "$kver" "${dkopts[@]}" >"$log" 2>&1; then
		cat "$dk/tree/gupnw/$ver/build/make.log" >>"$log" 2>/dev/null
		notok "$name" "$log"
		continue
	fi
	check_dkms_ko "$dk/tree/gupnw/$ver/$kver"
done

# The newest Debian cloud kernel: its headers live in a build root (tests/vm/build-root.sh),
# where that suite's dkms builds the same staged source in a scratch tree.
name="dkms build for the newest Debian cloud kernel"
log=$logs/dkms-build-newest.log
if ! found=$(tests/vm/newest-kernel.sh 2>"$log"); then
	notok "$name: $(grep -v '^#' "$log" | tail -n 1)"
elif [ ! -d "$src" ]; then
	notok "$name: no staged source"
else
	{ read -r kver; read -r _; read -r _; read -r root; } <<<"$found"
	name="dkms build for $(printf '%s\n' "$kver" | cut -d. -f1,2) ($kver, ${root##*/} root)"
	in=/tmp/gupnw-dkms
	rm -rf "${root:?}$in"
	mkdir -p "$root$in/tree" "$root$in/install"
	cp -a "$stage/usr/src" "$root$in/src"
	o="--dkmstree $in/tree --sourcetree $in/src --installtree $in/install"
	if tests/vm/build-root.sh "${root##*/}" dkms >>"$log" 2>&1 &&
		timeout 600 tests/vm/in-root.sh "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			mok_signing_key=$in/mok.key mok_certificate=$in/mok.pub sh -c \
			"dkms add -m gupnw -v $ver $o && dkms build -m gupnw -v $ver -k $kver $o --kernelsourcedir /usr/src/linux-headers-$kver" \
			>>"$log" 2>&1; then
		check_dkms_ko "$root$in/tree/gupnw/$ver/$kver"
	else
		cat "$root$in/tree/gupnw/$ver/build/make.log" >>"$log" 2>/dev/null
		notok "$name" "$log"
	fi
	rm -rf "${root:?}$in"
fi

# --- Debian packages ---
rm -rf "$debs"
pkgs="gupnw-dkms_${v_deb}_all libgupnw1_${v_deb}_amd64 libgupnw-dev_${v_deb}_amd64 gupnw_${v_deb}_amd64"
built=0
if step "dpkg-buildpackage -us -uc -b: gupnw-dkms, libgupnw1, libgupnw-dev, gupnw" \
	"$logs/deb-build.log" tests/packaging/build-deb.sh "$debs"; then
	built=1
	for p in $pkgs; do
		[ -f "$debs/$p.deb" ] || { notok "package $p.deb exists"; built=0; }
	done
fi

# has_files PKG PATH...: every PATH (as dpkg-deb -c prints it, less "./") is in PKG.
has_files() {
	local p=$1 f miss=""
	shift
	dpkg-deb -c "$debs/$p.deb" | awk '{ sub(/^\.\//, "", $6); print $6 }' >"$work/list" || return 1
	for f; do
		grep -qxF "$f" "$work/list" || miss="$miss $f"
	done
	[ -z "$miss" ] || { echo "$p lacks:$miss"; return 1; }
}
contents() {
	local ma=usr/lib/x86_64-linux-gnu m man1=() man3=()
	for m in userspace/man/*.1; do man1+=("usr/share/man/man1/${m##*/}.gz"); done
	for m in userspace/man/*.3; do man3+=("usr/share/man/man3/${m##*/}.gz"); done
	[ -f userspace/completion/gupnw ] && man1+=(usr/share/bash-completion/completions/gupnw)
	has_files "libgupnw1_${v_deb}_amd64" "$ma/libgupnw.so.1" "$ma/libgupnw.so.1.0.0" &&
	has_files "libgupnw-dev_${v_deb}_amd64" usr/include/gupnw.h usr/include/linux/gupnw.h \
		"$ma/libgupnw.a" "$ma/libgupnw.so" "$ma/pkgconfig/gupnw.pc" "${man3[@]}" &&
	has_files "gupnw_${v_deb}_amd64" usr/bin/gupnw "${man1[@]}" &&
	has_files "gupnw-dkms_${v_deb}_all" "usr/src/gupnw-$ver/dkms.conf" \
		"usr/src/gupnw-$ver/Kbuild" "usr/src/gupnw-$ver/module/gupnw_dev.c" \
		"usr/src/gupnw-$ver/uapi/linux/gupnw.h" lib/udev/rules.d/60-gupnw.rules &&
	dpkg-deb -f "$debs/gupnw-dkms_${v_deb}_all.deb" Depends | grep -qw dkms &&
	dpkg-deb -I "$debs/gupnw-dkms_${v_deb}_all.deb" postinst | grep -q 'DKMS_NAME=gupnw' &&
	dpkg-deb -x "$debs/libgupnw-dev_${v_deb}_amd64.deb" "$work/dev" &&
	grep -qx "libdir=/$ma" "$work/dev/$ma/pkgconfig/gupnw.pc"
}
if [ $built = 1 ]; then
	if contents >"$logs/deb-contents.log" 2>&1; then
		ok "package contents: library, -dev (headers, .a, .pc, man3), tool (man1, completion), DKMS source + udev rule"
	else
		notok "package contents" "$logs/deb-contents.log"
	fi
	if command -v lintian >/dev/null 2>&1; then
		# Errors and warnings fail; pedantic and informational tags are shown.
		lintian -I --pedantic --tag-display-limit 0 "$debs"/*.changes 2>&1 |
			grep -v 'running with root privileges' >"$logs/lintian.log"
		if grep -q '^[EW]:' "$logs/lintian.log"; then
			notok "lintian: no errors or warnings" "$logs/lintian.log"
		else
			ok "lintian: no errors or warnings ($(grep -c . "$logs/lintian.log") other tags)"
			diag <"$logs/lintian.log"
		fi
	else
		skip "lintian: no errors or warnings" "lintian not installed"
	fi
else
	skip "package contents" "packages not built"
	skip "lintian: no errors or warnings" "packages not built"
fi

# --- dpkg installs the tool and library into a scratch root; it runs from there ---
# The root then gets the shared libraries and loader the tool needs from outside the
# packages (libc6), so the guest, which has no dpkg and no libc, can run it.
pkgroot() {
	local root=$1 lib dst
	mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
	: >"$root/var/lib/dpkg/status"
	# --force-depends: libc6 is not in this root; it is copied in below.
	dpkg --root="$root" --force-depends --force-not-root --log=/dev/null -i \
		"$debs/libgupnw1_${v_deb}_amd64.deb" "$debs/gupnw_${v_deb}_amd64.deb" || return 1
	dpkg --root="$root" -s libgupnw1 gupnw | grep -c '^Status: install ok installed' |
		grep -qx 2 || return 1
	# ldd's "name => path" and the loader's own line; libgupnw comes from the root.
	LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu ldd "$root/usr/bin/gupnw" |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		while read -r lib; do
			case $lib in "$root"/*) continue ;; esac
			dst=$root$lib
			mkdir -p "$(dirname "$dst")" && cp -L "$lib" "$dst" || exit 1
		done || return 1
	# As in the guest: the root's own loader, the root's libraries only.
	set -- "$root/lib64/ld-linux-x86-64.so.2" \
		--library-path "$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" \
		"$root/usr/bin/gupnw"
	LD_TRACE_LOADED_OBJECTS=1 "$@" | tee "$work/trace" || return 1
	if ! awk -v r="$root/" '$2 == "=>" && index($3, r) != 1 { bad = 1 } END { exit bad }' \
		"$work/trace"; then
		echo "a library from outside $root"
		return 1
	fi
	"$@" --version
}
if [ $built = 1 ]; then
	if pkgroot "$work/pkgroot" >"$logs/pkgroot.log" 2>&1 &&
		grep -q "^gupnw $ver" "$logs/pkgroot.log"; then
		mv "$work/pkgroot" "$debs/pkgroot"
		ok "dpkg --root installs gupnw + libgupnw1; the packaged tool runs (--version) with only the root's libc and loader"
	else
		notok "dpkg --root installs gupnw + libgupnw1; the packaged tool runs" "$logs/pkgroot.log"
	fi
else
	skip "dpkg --root installs gupnw + libgupnw1" "packages not built"
fi

exit $failed
