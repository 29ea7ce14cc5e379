#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the benchmark in a QEMU guest per kernel line, the same guests as "make check"
# (tests/vm/: module build, disks, initramfs, boot), and keep each report.
#   tests/bench/run.sh [6.1|6.12|newest|KVER]...      (default: 6.1 6.12 newest)
# "newest" is the newest Debian cloud kernel, as tests/vm/run.sh finds it.
# Builds the benchmark program (make -C tests/bench), the tokio server (make -C
# bindings/rust guest), gupnw.ko and gup_test.ko
# (build-gup-test.sh) for each kernel, boots it with GUPNW_RUN=bench and prints the
# report; it is also written to build/bench/LINE.txt (LINE: 6.1, 6.12), which
# tests/bench/update-benchmarks-md.sh pastes into BENCHMARKS.md.  A guest that gives no
# report says why (build failure, QEMU status, the tail of its log, kernel splats).
# Exit status: 0 if every kernel produced a report (targets missed do not count).
# Knobs (optional): GUPNW_BENCH_RUNS (runs per cell, >= 5, default 7),
# GUPNW_BENCH_MB (resident ranges, default 256), GUPNW_BENCH_COLD_KB (cold range,
# default 2048), GUPNW_VM_TIMEOUT (default 1500 here), GUPNW_BUILD (see tests/vm/run.sh),
# GUPNW_BENCH_ONLY (parts run in the guest, comma-separated: bench, sweep (gupnw_bench's
# range-size sweep alone), tokio, bbolt, erigon (the Go cold pages per second on
# the latency disk), threads; default all), GUPNW_BENCH_SERVER_COLD
# (the tokio server's many cold connections, default 1000), GUPNW_BENCH_SERVER_SECONDS
# (per server run; default 20 for the tokio server, 10 for the bbolt server),
# GUPNW_BENCH_SERVER_MODES (its runs, --modes of bindings/rust/examples/mmap_server.rs).
# A run of some parts only writes build/bench/partial-LINE.txt, which
# update-benchmarks-md.sh never pastes: BENCHMARKS.md takes whole reports.
set -u
bench_dir=$(cd "$(dirname "$0")" && pwd)
vm_dir=$(cd "$bench_dir/../vm" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

[ $# -gt 0 ] || set -- 6.1 6.12 newest
mkdir -p "$build/bench"

# "newest": found, unpacked and its build root readied once (tests/vm/newest-kernel.sh).
newest=""
for want in "$@"; do
	[ "$want" = newest ] || continue
	if newest=$("$vm_dir/newest-kernel.sh" 2>"$build/bench/newest-kernel.err"); then
		newest_kver=$(printf '%s\n' "$newest" | sed -n 1p)
	else
		echo "bench [newest]: $(grep -v '^#' "$build/bench/newest-kernel.err" | tail -n 1)"
	fi
done
# Resolves a line as vm_resolve_kernel does, and "newest"; for the newest it exports
# what the harness builds and boots it with.
resolve() {
	if [ "$1" = newest ]; then
		[ -n "$newest" ] || return 1
		GUPNW_KERNEL_IMAGE=$(printf '%s\n' "$newest" | sed -n 2p)
		GUPNW_KERNEL_MODULES=$(printf '%s\n' "$newest" | sed -n 3p)
		GUPNW_KERNEL_ROOT=$(printf '%s\n' "$newest" | sed -n 4p)
		GUPNW_KERNEL_BUILD=/usr/src/linux-headers-$newest_kver
		export GUPNW_KERNEL_IMAGE GUPNW_KERNEL_MODULES GUPNW_KERNEL_ROOT GUPNW_KERNEL_BUILD
		printf '%s\n' "$newest_kver"
	else
		unset GUPNW_KERNEL_IMAGE GUPNW_KERNEL_MODULES GUPNW_KERNEL_ROOT GUPNW_KERNEL_BUILD
		vm_resolve_kernel "$1"
	fi
}

# Is part $1 of the guest's run selected (GUPNW_BENCH_ONLY, as guest-bench.sh reads it)?
only() {
	case ",${GUPNW_BENCH_ONLY:-all}," in
	*,all,* | *,"$1",*) return 0 ;;
	*) return 1 ;;
	esac
}

# gup_test.ko first: the benchmark program includes the gup_test.h it extracts (a
# program built before that would silently lack the gup_test column).
for want in "$@"; do
	{ only bench || only sweep; } && resolve "$want" >/dev/null && kver=$(resolve "$want") &&
		"$bench_dir/build-gup-test.sh" "$kver" >/dev/null 2>&1
done
# 6.12's gup_test.h if it was extracted, else another line's (the ioctl is the same): a
# run of the newest line alone still gets the gup_test column.  -B: the program may
# have been built without one.
gupt=$build/gup_test-src/6.12/mm
[ -f "$gupt/gup_test.h" ] || for d in "$build"/gup_test-src/*/mm; do
	[ -f "$d/gup_test.h" ] && gupt=$d
done
if ! why=$(make -s -B -C "$bench_dir" GUPT="$gupt" 2>&1); then
	echo "bench: the benchmark program does not build:"
	printf '%s\n' "$why" | head -n 20
	exit 1
fi

# The tokio server's benchmark (bindings/rust): a missing Rust toolchain only drops its table.
! only tokio ||
	make -s -C "$top/bindings/rust" guest >"$build/bench/rust.log" 2>&1 ||
	echo "bench: the Rust server does not build (see $build/bench/rust.log): no tokio server table"
# The Go bbolt server's (bindings/go), likewise; before the disks are built, which put
# its database on the throttled disk.
{ ! only bbolt && ! only erigon; } || make -s -C "$top/bindings/go" guest >"$build/bench/go.log" 2>&1 ||
	echo "bench: the Go server does not build (see $build/bench/go.log): no bbolt server table"

failed=0
for want in "$@"; do
	echo "=== bench on $want"
	resolve "$want" >/dev/null
	if ! kver=$(resolve "$want"); then
		echo "bench [$want]: no /boot/vmlinuz-$want.*-cloud-amd64 with its headers (tests/install-deps.sh)"
		failed=1
		continue
	fi
	label=$(vm_line "$kver")
	out=$build/$kver
	report=$build/bench/$label.txt
	# A partial run keeps its own report: update-benchmarks-md.sh pastes whole ones.
	only all || report=$build/bench/partial-$label.txt
	rm -f "$report"
	mkdir -p "$out"

	# W=1 warnings do not stop a benchmark: only a missing gupnw.ko does (the guest
	# reports it).
	"$vm_dir/build-module.sh" "$kver" >/dev/null 2>&1 ||
		[ -f "$out/src/gupnw.ko" ] ||
		echo "bench [$label]: gupnw.ko does not build (see $out/module.log)"
	grep -q '^ok' "$out/gup_test/status" 2>/dev/null ||
		echo "bench [$label]: gup_test.ko: $(cut -d' ' -f2- "$out/gup_test/status" 2>/dev/null)"

	pack=$out/bench-pack
	rm -rf "$pack"
	mkdir -p "$pack"
	cp "$build/bench/gupnw_bench" "$pack/"
	cp "$build/bench/probe_threads" "$pack/"
	cp "$bench_dir/guest-bench.sh" "$pack/run"
	chmod 755 "$pack/run"
	cp "$out/gup_test/status" "$pack/gup_test.status" 2>/dev/null ||
		echo "failed build-gup-test.sh did not run" >"$pack/gup_test.status"
	[ -f "$out/gup_test/gup_test.ko" ] && cp "$out/gup_test/gup_test.ko" "$pack/"
	only tokio && [ -x "$top/build/rust-guest/gupnw-mmap-server" ] && cp "$top/build/rust-guest/gupnw-mmap-server" "$pack/"
	{ only bbolt || only erigon; } && [ -x "$top/build/go-guest/gupnw-bbolt-server" ] && cp "$top/build/go-guest/gupnw-bbolt-server" "$pack/"

	if [ ! -f "$vm_out/data.img" ] || [ ! -f "$vm_out/slow.img" ] || [ ! -f "$vm_out/swap.img" ] ||
		{ [ -x "$pack/gupnw-bbolt-server" ] && [ ! -f "$vm_out/slow.img.bolt" ]; }; then
		"$vm_dir/build-disks.sh" || { echo "bench [$label]: disk images do not build"; failed=1; continue; }
	fi
	if ! why=$(GUPNW_BENCH_DIR=$pack "$vm_dir/build-initramfs.sh" "$kver" "$out/bench-initramfs.cpio" 2>&1); then
		echo "bench [$label]: initramfs does not build: $why"
		failed=1
		continue
	fi

	args=(GUPNW_RUN=bench)
	for v in GUPNW_BENCH_RUNS GUPNW_BENCH_MB GUPNW_BENCH_COLD_KB GUPNW_BENCH_ONLY \
		GUPNW_BENCH_SERVER_COLD GUPNW_BENCH_SERVER_SECONDS GUPNW_BENCH_SERVER_MODES; do
		[ -n "${!v:-}" ] && args+=("$v=${!v}")
	done
	log=$vm_out/bench-$kver.log
	start=$(date +%s)
	rc=0
	GUPNW_VM_TIMEOUT=${GUPNW_VM_TIMEOUT:-1500} \
		"$vm_dir/boot.sh" "$kver" "$out/bench-initramfs.cpio" "$log" "${args[@]}" || rc=$?
	took=$(($(date +%s) - start))

	vm_strip <"$log" | sed -n '/^GUPNW-BENCH-BEGIN$/,/^GUPNW-BENCH-END$/p' |
		grep -v '^GUPNW-BENCH-\(BEGIN\|END\)$' >"$report.tmp"
	if vm_strip <"$log" | grep -q '^GUPNW-BENCH-END$' && [ -s "$report.tmp" ]; then
		# Which gupnw was measured: the tree's commit, and whether the module differs.
		src="gupnw at commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')"
		git -C "$top" diff --quiet HEAD -- module uapi Kbuild 2>/dev/null ||
			src="$src with uncommitted changes to module/ or uapi/"
		{ echo "source: $src"; cat "$report.tmp"; } >"$report"
		rm -f "$report.tmp"
		cat "$report"
		echo "(guest ran for $took s; report in $report, serial log $log)"
	else
		rm -f "$report.tmp"
		failed=1
		case $rc in
		0) why="the guest ended without a report" ;;
		124) why="the guest was killed after $took s (GUPNW_VM_TIMEOUT)" ;;
		*) why="QEMU exited with status $rc after $took s" ;;
		esac
		echo "bench [$label]: no report: $why; serial log $log; its last lines:"
		vm_strip <"$log" | grep -v '^GUPNW-DMESG' | tail -n 25 | sed 's/^/    /'
	fi
	# Guest-side failures and kernel splats, as tests/vm/scan-log.sh sees them.
	"$vm_dir/scan-log.sh" "$label" "$log" | grep '^not ok' | sed "s/^/bench [$label]: /"
done
exit $failed
