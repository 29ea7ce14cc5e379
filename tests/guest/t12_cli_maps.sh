#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t12_cli_maps: gupnw maps --pid of a sleeping process and of itself: a line
# per mapping of /proc/PID/maps, counts that add up to the mapping's pages,
# [vsyscall] listed but not probed, JSON, NOFAULT by default.
# busybox sh; prints TAP (tap.shlib: one case per behaviour); exits 1 if anything
# failed.  Each case runs alone too (GUPNW_TESTS=t12:json): the first case that looks
# at the sleeping process starts it.

CLI=${GUPNW_CLI:-/bin/gupnw}
SHOW_BYTES=2500
# shellcheck source=tap.shlib
. "${0%/*}/tap.shlib"


# rows_add_up: each probed mapping's state columns add up to its PAGES (the
# third field); the total row is their sum.
rows_add_up() {
	awk 'NR == 2 { ncol = 0; for (i = 4; i <= NF && $i != "MEM%"; i++) ncol++; next }
	     NR > 2 && /^[0-9a-f]+-[0-9a-f]+ / {
		if ($4 == "-") next
		s = 0; for (i = 4; i < 4 + ncol; i++) s += $i
		if (s != $3) { print "bad row: " $0; bad = 1 }
		pages += $3; n++ }
	     /total \([0-9]+ mappings\)$/ { if ($1 != pages) { print "total " $1 " != " pages; bad = 1 }; seen = 1 }
	     END { if (!seen || !n) bad = 1; exit bad }' "$T/out"
}

if [ ! -x "$CLI" ]; then
	skip "cli maps: all" "no CLI at $CLI"
	exit 0
fi

# sleeper: start the sleeping process $spid unless a case before did.
spid=
sleeper() {
	[ -n "$spid" ] && return 0
	sleep 60 &
	spid=$!
	sleep 1
}
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; tap_plan' EXIT

tcase pid-sleeping-process && {
sleeper
run "$CLI" maps --pid "$spid"
check "cli maps: --pid of a sleeping process exits 0" [ "$rc" -eq 0 ] || show
check "cli maps: first line says pid and mode nofault" \
	sh -c "head -n 1 '$T/out' | grep -q '^pid $spid: [0-9]* mappings, mode nofault\$'" || show
nmaps=$(wc -l < "/proc/$spid/maps")
check "cli maps: a line per mapping ($nmaps)" \
	[ "$(grep -c '^[0-9a-f]*-[0-9a-f]* ' "$T/out")" -eq "$nmaps" ] || show
check "cli maps: counts add up to each mapping's pages, total is the sum" rows_add_up || show
check "cli maps: the stack is listed" grep -q ' \[stack\]$' "$T/out" || show
if grep -q vsyscall "/proc/$spid/maps"; then
	check "cli maps: [vsyscall] is listed, not probed" \
		grep -q '^ffffffffff600000-.*  *-  *-  .*\[vsyscall\]$' "$T/out" || show
fi
}

# NOFAULT changes nothing: a second look sees the same.
tcase nofault-changes-nothing && {
sleeper
run "$CLI" maps --pid "$spid"
cp "$T/out" "$T/first"
run "$CLI" maps --pid "$spid"
check "cli maps: looking twice gives the same counts (NOFAULT)" \
	cmp -s "$T/first" "$T/out" || { diff "$T/first" "$T/out" | sed 's/^/# /'; }
}

tcase json && {
sleeper
nmaps=$(wc -l < "/proc/$spid/maps")
run "$CLI" maps --json --pid "$spid"
check "cli maps: --json exits 0" [ "$rc" -eq 0 ] || show
j=$(tr -d '\n' < "$T/out")
c=1
case $j in "{\"pid\":$spid,\"page_size\":"*'"flags":["nofault"],"mappings":[{"start":'*'"total":{"mappings":'"$nmaps"',"pages":'*'}}') c=0 ;; esac
check "cli maps: --json has pid, flags, mappings, total" [ $c = 0 ] || show
check "cli maps: --json has an object per mapping" \
	[ "$(grep -o '"perms":"' "$T/out" | wc -l)" -eq "$nmaps" ] || show
}

tcase fault-mode && {
sleeper
run "$CLI" maps --fault --pid "$spid"
check "cli maps: --fault exits 0, mode nowait" \
	sh -c "[ $rc -eq 0 ] && head -n 1 '$T/out' | grep -q 'mode nowait\$'" || show
}
tap_case=
if [ -n "$spid" ]; then
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=
fi

tcase self && {
run "$CLI" maps --pid self
check "cli maps: --pid self exits 0" [ "$rc" -eq 0 ] || show
check "cli maps: --pid self lists the tool itself" \
	sh -c "head -n 1 '$T/out' | grep -q '(self)' && grep -q ' /bin/gupnw\$\| \[heap\]\$' '$T/out'" || show
check "cli maps: --pid self adds up" rows_add_up || show
}

tcase missing-process && {
run "$CLI" maps --pid 999999
check "cli maps: missing process exits 1 with one 'gupnw: ' line" sh -c "
	[ $rc -eq 1 ] && [ \$(wc -l < '$T/err') -eq 1 ] && grep -q '^gupnw: pid 999999: ' '$T/err'" || show
}

tcase no-pid && {
run "$CLI" maps
check "cli maps: no --pid exits 2" [ "$rc" -eq 2 ] || show
}
tap_case=

rm -rf "$T"
exit $failed
