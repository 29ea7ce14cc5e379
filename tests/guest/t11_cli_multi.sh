#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t11_cli_multi: gupnw probe of several files and of a tree (-r): a line per
# file and a total that is their sum, a missing file among them, --ranges,
# the JSON of several files.
# busybox sh; prints TAP (tap.shlib: one case per behaviour); exits 1 if anything
# failed.  Each case runs alone too: GUPNW_TESTS=t11:recursive.

CLI=${GUPNW_CLI:-/bin/gupnw}
DATA=${GUPNW_DATA:-/mnt/data}
# shellcheck source=tap.shlib
. "${0%/*}/tap.shlib"


# table_adds_up: every row's state columns add up to its PAGES, and the
# last row (the total) is the sum of the others.
table_adds_up() {
	awk 'NR == 1 { ncol = 0; for (i = 2; i <= NF && $i != "MEM%"; i++) ncol++; next }
	     { s = 0; for (i = 2; i <= ncol + 1; i++) s += $i
	       if (s != $1) bad = 1
	       rows[NR] = $0; n = NR }
	     END {
		for (r = 2; r < n; r++) { split(rows[r], f); for (i = 1; i <= ncol + 1; i++) sum[i] += f[i] }
		split(rows[n], f); for (i = 1; i <= ncol + 1; i++) if (f[i] != sum[i]) bad = 1
		exit bad }' "$T/out"
}

if [ ! -x "$CLI" ] || [ ! -r "$DATA/cold-64m" ] || [ ! -r "$DATA/small" ]; then
	skip "cli multi: all" "no CLI at $CLI or no $DATA/cold-64m, $DATA/small"
	exit 0
fi

tcase two-files && {
run "$CLI" probe "$DATA/cold-64m" "$DATA/small"
check "cli multi: two files exit 0" [ "$rc" -eq 0 ] || show
check "cli multi: header, a line per file, a total" [ "$(wc -l < "$T/out")" -eq 4 ] || show
check "cli multi: pages 16384 and 4, total 16388" sh -c "
	grep -q '^ *16384 .* $DATA/cold-64m\$' '$T/out' &&
	grep -q '^ *4 .* $DATA/small\$' '$T/out' &&
	grep -q '^ *16388 .* total (2 files)\$' '$T/out'" || show
check "cli multi: states add up to pages, total is the sum" table_adds_up || show
}

tcase missing-file-among-many && {
run "$CLI" probe --no-fault "$DATA/small" "$DATA/does-not-exist" "$DATA/cold-64m"
check "cli multi: a missing file among many exits 1" [ "$rc" -eq 1 ] || show
check "cli multi: one 'gupnw: <file>: <why>' line for it" sh -c "
	[ \$(wc -l < '$T/err') -eq 1 ] && grep -q '^gupnw: $DATA/does-not-exist: ' '$T/err'" || show
check "cli multi: the other files are still probed" sh -c "
	grep -q 'total (2 files)\$' '$T/out'" || show
check "cli multi: --no-fault table adds up" table_adds_up || show
}

tcase recursive && {
run "$CLI" probe -r "$DATA"
check "cli multi: -r DIR exits 0" [ "$rc" -eq 0 ] || show
nfiles=$(find "$DATA" -type f | wc -l)
check "cli multi: -r lists every regular file ($nfiles)" \
	grep -q "total ($nfiles files*)\$" "$T/out" || show
check "cli multi: -r table adds up" table_adds_up || show
}

tcase json-several-files && {
run "$CLI" probe --json "$DATA/cold-64m" "$DATA/small"
j=$(tr -d '\n' < "$T/out")
c=1
case $j in '{"files":[{"file":'*'],"total":{"files":2,"pages":16388,'*'}}') c=0 ;; esac
check "cli multi: --json has files and total (pages 16388)" [ $c = 0 ] || show
check "cli multi: --json has a map per file" [ "$(grep -o '"map":"' "$T/out" | wc -l)" -eq 2 ] || show
}

# A fresh mapping of a cached file has nothing mapped: --no-fault sees one
# run of N.
tcase ranges-no-fault && {
cat "$DATA/cold-64m" > /dev/null
run "$CLI" probe --no-fault --ranges "$DATA/cold-64m"
check "cli multi: --ranges --no-fault exits 0" [ "$rc" -eq 0 ] || show
check "cli multi: --ranges: one run 0x0-0x4000000 N notpresent" sh -c "
	[ \$(grep -c '^0x' '$T/out') -eq 1 ] &&
	grep -qx '0x0-0x4000000 N notpresent' '$T/out'" || show
}

tcase ranges-several-files && {
run "$CLI" probe --ranges "$DATA/small" "$DATA/cold-64m" 
check "cli multi: --ranges of several files: runs under each line" sh -c "
	[ \$(grep -c '^  0x0-' '$T/out') -eq 2 ]" || show
}

tcase json-ranges && {
run "$CLI" probe --json --ranges "$DATA/small"
check "cli multi: --json --ranges has a ranges array" \
	grep -q '"ranges":\[{"start":0,"end":' "$T/out" || show
}

tcase range-every-file && {
run "$CLI" probe -p 0-8K -n --raw -o PAGES,NAME "$DATA/small" "$DATA/cold-64m"
check "cli multi: -p applies to every file; -n --raw -o" sh -c "
	[ \$(wc -l < '$T/out') -eq 3 ] && grep -qx '2 $DATA/small' '$T/out' &&
	grep -qx '2 $DATA/cold-64m' '$T/out' && grep -qx '4 total (2 files)' '$T/out'" || show
}
tap_case=

rm -rf "$T"
exit $failed
