#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t07_cli: the gupnw tool in the guest: version, human and JSON output,
# NOFAULT on a cold file, exit statuses 0/1/2 and the one-line error form.
# busybox sh; prints TAP (unnumbered); exits 1 if anything failed.

CLI=${GUPNW_CLI:-/bin/gupnw}
DATA=${GUPNW_DATA:-/mnt/data}
SLOW=${GUPNW_SLOW:-/mnt/slow}
SHOW_BYTES=600
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
	for k in pages resident faulted retry unmapped error notpresent; do
		[ -n "$(jnum $k)" ] || missing="$missing $k"
	done
	json | grep -q '"map"' || missing="$missing map"
	if [ -n "$missing" ]; then
		notok "$1: JSON has every key of SPEC.md"; diag "missing:$missing"; show; return 1
	fi
	pages=$(jnum pages); map=$(jmap)
	sum=$(( $(jnum resident) + $(jnum faulted) + $(jnum retry) + $(jnum unmapped) + $(jnum error) + $(jnum notpresent) ))
	bad=0
	[ "${#map}" -eq "$pages" ] || { diag "map length ${#map} != pages $pages"; bad=1; }
	case $map in *[!RFW.EN]*) diag "map has letters outside RFW.EN"; bad=1 ;; esac
	[ "$sum" -eq "$pages" ] || { diag "counts add up to $sum, pages $pages"; bad=1; }
	if [ $bad = 0 ]; then ok "$1: JSON object with map of pages letters, counts add up"; else notok "$1: JSON object with map of pages letters, counts add up"; show; return 1; fi
}

if [ ! -x "$CLI" ]; then
	skip "cli: all" "no CLI at $CLI"
	exit 0
fi

# --- version ---
run "$CLI" --version
check "cli: --version exits 0" [ "$rc" -eq 0 ] || show
if [ -r /sys/module/gupnw/version ]; then
	modver=$(cat /sys/module/gupnw/version)
	check "cli: --version shows the module version ($modver)" grep -qF "$modver" "$T/out" || show
else
	check "cli: --version mentions the module" grep -qi 'module' "$T/out" || show
fi

# --- human output ---
run "$CLI" probe "$DATA/cold-64m" 0 1M
check "cli: probe FILE 0 1M exits 0" [ "$rc" -eq 0 ] || show
check "cli: human output mentions pages and the count (256)" \
	sh -c "grep -qi 'pages' '$T/out' && grep -q '256' '$T/out'" || show

# --- JSON ---
run "$CLI" probe --json "$DATA/cold-64m" 0 1M
check "cli: probe --json exits 0" [ "$rc" -eq 0 ] || show
check_json "cli: --json 1M"
check "cli: --json 1M has pages 256" [ "$(jnum pages)" = 256 ] || show

run "$CLI" probe --json "$DATA/cold-64m" 0x100000 8K
c=1; [ "$rc" -eq 0 ] && [ "$(jnum pages)" = 2 ] && c=0
check "cli: hex offset and K suffix: 2 pages" [ $c = 0 ] || show

run "$CLI" probe --json "$DATA/small"
c=1; [ "$rc" -eq 0 ] && [ "$(jnum pages)" = 4 ] && c=0
check "cli: whole small file (3 pages + 100 bytes) is 4 pages" [ $c = 0 ] || show

# --- NOFAULT of a cold file on the slow disk ---
if [ -r "$SLOW/cold-64m" ]; then
	i=0
	while :; do
		sync; echo 3 > /proc/sys/vm/drop_caches
		run "$CLI" probe --json --no-fault "$SLOW/cold-64m"
		np=$(jnum notpresent); pages=$(jnum pages)
		[ "$rc" -eq 0 ] && [ -n "$pages" ] && [ "$np" = "$pages" ] && break
		i=$((i + 1)); [ $i -ge 10 ] && break
		sleep 1	# I/O of earlier tests may still be in flight
	done
	check "cli: --no-fault on a cold file exits 0" [ "$rc" -eq 0 ] || show
	check_json "cli: --no-fault"
	check "cli: --no-fault on a cold file: notpresent == pages (16384)" \
		sh -c "[ '$np' = '$pages' ] && [ '$pages' = 16384 ]" || { diag "notpresent $np pages $pages after $i retries"; show; }
else
	skip "cli: --no-fault on a cold file" "no $SLOW/cold-64m"
fi

# --- failures ---
run "$CLI" probe "$DATA/does-not-exist"
check "cli: missing file exits 1" [ "$rc" -eq 1 ] || show
check "cli: missing file prints one 'gupnw: ' line on stderr" one_err_line || show

run "$CLI" probe --bogus-option "$DATA/small"
check "cli: unknown option exits 2" [ "$rc" -eq 2 ] || show
run "$CLI"
check "cli: no arguments exits 2" [ "$rc" -eq 2 ] || show
run "$CLI" probe --pid
check "cli: --pid without PID exits 2" [ "$rc" -eq 2 ] || show

# --- --pid of a live process ---
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

run "$CLI" probe --pid 999999 0x400000 4K
check "cli: --pid of a missing process exits 1" [ "$rc" -eq 1 ] || show
check "cli: --pid of a missing process prints one 'gupnw: ' line" one_err_line || show

rm -rf "$T"
exit $failed
