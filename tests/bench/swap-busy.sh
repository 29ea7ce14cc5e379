#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The "swap-busy" benchmark: probe latency of swapped-out pages while writeback is
# queued on the throttled disk (tests/bench/swap_busy.c), next to one blocking read.
#   tests/bench/swap-busy.sh [6.1|6.12|newest|KVER]...      (default: 6.1 6.12 newest)
# Builds the program with the guest tests' helpers, boots each kernel through
# tests/vm/run.sh (the same guest, disks and module as the tests) with the program
# packed as an extra guest test, and prints its "swap-busy:" lines; they are also
# written to build/bench/swap-busy-LINE.txt.  Exit status 0 if every kernel reported.
set -u
bench_dir=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$bench_dir/../.." && pwd)
out=$top/build/bench-swap-busy
[ $# -gt 0 ] || set -- 6.1 6.12 newest

make -s -C "$top/userspace" >/dev/null || exit 1
mkdir -p "$out/pack" "$top/build/bench"
if ! gcc -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -static \
	-I"$top/uapi" -I"$top/userspace/lib/include" -I"$top/tests/guest" \
	-o "$out/pack/b90_swap_busy" "$bench_dir/swap_busy.c" \
	"$top/tests/guest/gupnw_test.c" "$top/tests/guest/gupnw_test_mem.c" \
	"$top/userspace/lib/libgupnw.a"; then
	echo "swap-busy: the program does not build"
	exit 1
fi

failed=0
for want in "$@"; do
	log=$out/$want.log
	GUPNW_EXTRA_TESTS=$out/pack GUPNW_TESTS='b90_swap_busy' \
		"$top/tests/vm/run.sh" "$want" >"$log" 2>&1
	report=$top/build/bench/swap-busy-$want.txt
	sed -n 's/^# \[\([^]]*\)\] \(swap-busy: .*\)/[\1] \2/p' "$log" >"$report"
	if [ -s "$report" ] && ! grep -q '^not ok' "$log"; then
		cat "$report"
	else
		echo "swap-busy [$want]: no report; run log $log:"
		tail -n 20 "$log"
		failed=1
	fi
done
exit $failed
