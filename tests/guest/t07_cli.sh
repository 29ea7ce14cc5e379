#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t07_cli: the gupnw tool in the guest: version, human and JSON output,
# NOFAULT on a cold file, exit statuses 0/1/2 and the one-line error form.
# busybox sh; prints TAP (tap.shlib: one case per behaviour); exits 1 if anything
# failed.  Each case makes what it needs (files, processes, a cold cache), so one can
# run alone: GUPNW_TESTS=t07:json-output.

CLI=${GUPNW_CLI:-/bin/gupnw}
DATA=${GUPNW_DATA:-/mnt/data}
SLOW=${GUPNW_SLOW:-/mnt/slow}
SHOW_BYTES=600
# shellcheck source=tap.shlib
. "${0%/*}/tap.shlib"

# one stderr line starting "gupnw: "
one_err_line() { [ "$(wc -l < "$T/err")" -eq 1 ] && head -n 1 "$T/err" | grep -q '^gupnw: '; }

# jnum KEY: the number of KEY in the JSON of $T/out; jmap: the map string
json()  { tr -d '\n' < "$T/out"; }
jnum()  { json | sed -n "s/.*\"$1\" *: *\([0-9][0-9]*\).*/\1/p"; }
jmap()  { json | sed -n 's/.*"map" *: *"\([^"]*\)".*/\1/p'; }

# check_json NAME: one object, all keys, map length == pages, letters valid,
# counts add up to pages.
check_json() {
	j=$(json)
	case $j in
	"{"*"}") ;;
	*) notok "$1: stdout is one JSON object"; show; return 1 ;;
	esac
	missing=""
	for k in pages resident faulted retry unmapped error notpresent cold io_started async_faults; do
		[ -n "$(jnum $k)" ] || missing="$missing $k"
	done
	json | grep -q '"map"' || missing="$missing map"
	if [ -n "$missing" ]; then
		notok "$1: JSON has every key of gupnw(1)"; diag "missing:$missing"; show; return 1
	fi
	pages=$(jnum pages); map=$(jmap)
	sum=$(( $(jnum resident) + $(jnum faulted) + $(jnum retry) + $(jnum unmapped) + $(jnum error) + $(jnum notpresent) + $(jnum cold) ))
	bad=0
	[ "${#map}" -eq "$pages" ] || { diag "map length ${#map} != pages $pages"; bad=1; }
	case $map in *[!RFW.ENC]*) diag "map has letters outside RFW.ENC"; bad=1 ;; esac
	[ "$sum" -eq "$pages" ] || { diag "counts add up to $sum, pages $pages"; bad=1; }
	if [ $bad = 0 ]; then ok "$1: JSON object with map of pages letters, counts add up"; else notok "$1: JSON object with map of pages letters, counts add up"; show; return 1; fi
}

if [ ! -x "$CLI" ]; then
	skip "cli: all" "no CLI at $CLI"
	exit 0
fi

tcase version && {
run "$CLI" --version
check "cli: --version exits 0" [ "$rc" -eq 0 ] || show
if [ -r /sys/module/gupnw/version ]; then
	modver=$(cat /sys/module/gupnw/version)
	check "cli: --version shows the module version ($modver)" grep -qF "$modver" "$T/out" || show
else
	check "cli: --version mentions the module" grep -qi 'module' "$T/out" || show
fi
}

# Whether the module predicts cold pages in report-only mode ('C').
"$CLI" --version | grep -q '^features:.* cold' && has_cold=1 || has_cold=0

tcase human-output && {
run "$CLI" probe -p 0-1M "$DATA/cold-64m"
check "cli: probe -p 0-1M FILE exits 0" [ "$rc" -eq 0 ] || show
check "cli: human output mentions pages and the count (256)" \
	sh -c "grep -qi 'pages' '$T/out' && grep -q '256' '$T/out'" || show
}

tcase json-output && {
run "$CLI" probe --json -p 0-1M "$DATA/cold-64m"
check "cli: probe --json exits 0" [ "$rc" -eq 0 ] || show
check_json "cli: --json 1M"
check "cli: --json 1M has pages 256" [ "$(jnum pages)" = 256 ] || show
}

tcase range-hex-and-suffix && {
run "$CLI" probe -J -p 0x100000-1032K "$DATA/cold-64m"
c=1; [ "$rc" -eq 0 ] && [ "$(jnum pages)" = 2 ] && c=0
check "cli: -p with hex and K suffix: 2 pages" [ $c = 0 ] || show
}

tcase range-to-end && {
run "$CLI" probe -J -p 63M- "$DATA/cold-64m"
c=1; [ "$rc" -eq 0 ] && [ "$(jnum pages)" = 256 ] && [ "$(jnum offset)" = 66060288 ] && c=0
check "cli: -p START-: to the end of the file" [ $c = 0 ] || show
}

# Every argument is a file, even one named like a number.
tcase file-named-like-a-number && {
cp "$DATA/small" "$T/2024.log"
run "$CLI" probe -J "$DATA/small" "$T/2024.log"
c=1; [ "$rc" -eq 0 ] && json | grep -q '"file":"[^"]*/2024.log"' && c=0
check "cli: probe FILE 2024.log probes two files" [ $c = 0 ] || show
}

tcase whole-file && {
run "$CLI" probe --json "$DATA/small"
c=1; [ "$rc" -eq 0 ] && [ "$(jnum pages)" = 4 ] && c=0
check "cli: whole small file (3 pages + 100 bytes) is 4 pages" [ $c = 0 ] || show
}

# --- NOFAULT of a cold file on the slow disk ---
tcase no-fault-cold-file && {
if [ -r "$SLOW/cold-64m" ]; then
	i=0
	while :; do
		sync; echo 3 > /proc/sys/vm/drop_caches
		run "$CLI" probe --json --no-fault "$SLOW/cold-64m"
		np=$(jnum notpresent); cold=$(jnum cold); pages=$(jnum pages)
		[ "$has_cold" = 1 ] && np=$cold
		[ "$rc" -eq 0 ] && [ -n "$pages" ] && [ "$np" = "$pages" ] && break
		i=$((i + 1)); [ $i -ge 10 ] && break
		sleep 1	# I/O of earlier tests may still be in flight
	done
	check "cli: --no-fault on a cold file exits 0" [ "$rc" -eq 0 ] || show
	check_json "cli: --no-fault"
	if [ "$has_cold" = 1 ]; then
		check "cli: --no-fault on a cold file: cold == pages (16384)" \
			sh -c "[ '$np' = '$pages' ] && [ '$pages' = 16384 ]" || { diag "cold $np pages $pages after $i retries"; show; }
	else
		check "cli: --no-fault on a cold file (module without C): notpresent == pages (16384)" \
			sh -c "[ '$np' = '$pages' ] && [ '$pages' = 16384 ]" || { diag "notpresent $np pages $pages after $i retries"; show; }
	fi
else
	skip "cli: --no-fault on a cold file" "no $SLOW/cold-64m"
fi
}

# MEM% as fincore and vmtouch count it: the pages in the page cache.
# 1 MiB read from the cold file (readahead may bring more), all of
# the small file: MEM% is R + N + W over the pages, C is the rest.
tcase mem-percent && {
if [ -r "$SLOW/cold-64m" ]; then
	if [ "$has_cold" = 1 ]; then
		sync; echo 3 > /proc/sys/vm/drop_caches
		cat "$DATA/small" > /dev/null
		dd if="$SLOW/cold-64m" of=/dev/null bs=64k count=16 2>/dev/null
		run "$CLI" probe --no-fault -n --raw -o PAGES,R,N,W,C,MEM%,NAME "$DATA/small" "$SLOW/cold-64m"
		c=1
		awk -v f="$SLOW/cold-64m" -v s="$DATA/small" '
			$7 == s { if ($6 != "100.0" || $5 != 0) bad = 1; n++ }
			$7 == f { m = $2 + $3 + $4
				  if (m < 256 || m + $5 != $1) bad = 1
				  if ($6 != sprintf("%.1f", 100 * m / $1)) bad = 1; n++ }
			END { exit bad || n != 2 }' "$T/out" && c=0
		check "cli: --no-fault MEM% counts R + N + W (the page cache, as fincore), C the rest" [ $c = 0 ] || show
	else
		skip "cli: --no-fault MEM% as fincore" "module without the cold state"
	fi
else
	skip "cli: --no-fault MEM% as fincore" "no $SLOW/cold-64m"
fi
}

# --- failures ---
tcase missing-file && {
run "$CLI" probe "$DATA/does-not-exist"
check "cli: missing file exits 1" [ "$rc" -eq 1 ] || show
check "cli: missing file prints one 'gupnw: ' line on stderr" one_err_line || show
}

tcase unknown-option && {
run "$CLI" probe --bogus-option "$DATA/small"
check "cli: unknown option exits 2" [ "$rc" -eq 2 ] || show
}

tcase unknown-command && {
run "$CLI" prbe "$DATA/small"
check "cli: unknown command suggests the nearest" sh -c "[ $rc -eq 2 ] && grep -qx \"gupnw: unknown command 'prbe': did you mean 'probe'?\" '$T/err'" || show
}

tcase command-help && {
run "$CLI" maps --help
check "cli: maps --help: maps's own usage" sh -c "[ $rc -eq 0 ] && head -n 1 '$T/out' | grep -q '^usage: gupnw maps ' && ! grep -q 'gupnw probe' '$T/out'" || show
}

tcase no-arguments && {
run "$CLI"
check "cli: no arguments exits 2" [ "$rc" -eq 2 ] || show
}

tcase pid-without-value && {
run "$CLI" probe --pid
check "cli: --pid without PID exits 2" [ "$rc" -eq 2 ] || show
}

# --- --pid of a live process ---
tcase pid-sleeping-process && {
sleep 30 &
spid=$!
sleep 1
line=$(head -n 1 "/proc/$spid/maps" 2>/dev/null)
start=${line%%-*}
if [ -z "$start" ]; then
	notok "cli: --pid of a sleeping process exits 0"; diag "no maps for $spid"
else
	run "$CLI" probe --json --pid "$spid" "0x$start" 4K
	check "cli: --pid of a sleeping process exits 0 (0x$start)" [ "$rc" -eq 0 ] || show
	[ "$rc" -eq 0 ] && check_json "cli: --pid"
	run "$CLI" probe --pid "$spid" "0x$start" 4K
	check "cli: --pid human output exits 0" [ "$rc" -eq 0 ] || show
fi
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
}

# A LENGTH past the end of user space is cut there: the whole address
# space of a process, answered at once.
tcase pid-whole-address-space && {
sleep 30 &
spid=$!
sleep 1
run "$CLI" probe -J --no-fault --pid "$spid" 0 0xffffffffffffffff
c=1
[ "$rc" -eq 0 ] && json | grep -q '"clipped":true' && json | grep -q '"map":null' &&
	[ "$(jnum resident)" -gt 0 ] && c=0
check "cli: --pid 0 2^64-1: cut at the end of user space, map null, ranges" [ $c = 0 ] || show
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
}

tcase pid-address-past-user-space && {
sleep 30 &
spid=$!
sleep 1
run "$CLI" probe --pid "$spid" 0xffff800000000000 4K
check "cli: --pid ADDR past the end of user space: exit 1, one line" \
	sh -c "[ $rc -eq 1 ] && grep -q '^gupnw: pid $spid: address 0xffff800000000000 is past the end of user space (0x[0-9a-f]*)\$' '$T/err'" || show
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
}

tcase pid-missing-process && {
run "$CLI" probe --pid 999999 0x400000 4K
check "cli: --pid of a missing process exits 1" [ "$rc" -eq 1 ] || show
check "cli: --pid of a missing process prints one 'gupnw: ' line" one_err_line || show
}
tap_case=

rm -rf "$T"
exit $failed
