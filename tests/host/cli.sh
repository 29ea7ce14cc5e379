#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Test the gupnw tool as a user runs it, with no module: exit status, the
# one-line error messages, and (with fake-gupnw.so standing in for the
# module) the probe path and both report formats.
#
# usage: cli.sh GUPNW_BINARY FAKE_GUPNW_SO LABEL
# Prints "ok - host: LABEL: <case>" or "not ok - ..." per case; exits 0 iff
# every case passed.
set -u

bin=$1
fake=$2
label=$3
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# An ASan build must not object to the preloaded fake coming first.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
export ASAN_OPTIONS
unset GUPNW_DEVICE COLUMNS

# run CMD...: run the tool's command line; sets rc, leaves out and err in $tmp.
run() {
	timeout 20 "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# The tool with the fake module.
fake() {
	run env GUPNW_DEVICE=/dev/null LD_PRELOAD="$fake" "$bin" "$@"
}

report() {
	if [ "$1" -eq 0 ]; then
		echo "ok - host: $label: $2"
	else
		echo "not ok - host: $label: $2"
		echo "# exit $rc; stdout:"
		head -c 2000 "$tmp/out" | sed 's/^/#   /'
		echo "# stderr:"
		head -c 2000 "$tmp/err" | sed 's/^/#   /'
		failed=1
	fi
}

# one_error PATTERN: stdout empty, stderr one line "gupnw: ..." matching it.
one_error() {
	[ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		grep -q "^gupnw: $1\$" "$tmp/err"
}

# usage NAME PATTERN ARGS...: a usage error, exit 2.
usage() {
	name=$1 pattern=$2
	shift 2
	run "$bin" "$@"
	[ "$rc" -eq 2 ] && one_error "$pattern"
	report $? "usage error exits 2: $name"
}

# json_check PYTHON: stdout is one JSON object, consistent, and PYTHON
# (an expression on it, 'j') holds.
json_check() {
	python3 - "$tmp/out" "$1" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
j = json.loads(text)
assert text.endswith("}\n") and text.count("\n") == 1, "not one line"
states = {"resident": "R", "faulted": "F", "retry": "W",
          "unmapped": ".", "error": "E", "notpresent": "N"}
assert len(j["map"]) == j["pages"], "map length"
for name, letter in states.items():
    assert j[name] == j["map"].count(letter), name
assert sum(j[n] for n in states) == j["pages"], "counts"
assert eval(sys.argv[2]), sys.argv[2]
PY
}

# --- help and version -------------------------------------------------
run "$bin" --help
[ "$rc" -eq 0 ] && grep -q '^usage: gupnw probe' "$tmp/out" && [ ! -s "$tmp/err" ]
report $? "--help exits 0 with usage on stdout"

run "$bin" help
[ "$rc" -eq 0 ] && grep -q '^usage: gupnw probe' "$tmp/out"
report $? "help exits 0"

run "$bin" probe --help
[ "$rc" -eq 0 ] && grep -q '^usage: gupnw probe' "$tmp/out"
report $? "probe --help exits 0"

run env GUPNW_DEVICE=/nonexistent "$bin" --version
[ "$rc" -eq 0 ] && grep -qx 'gupnw 0\.1\.0' "$tmp/out" &&
	grep -qx 'library: 0\.1\.0' "$tmp/out" &&
	grep -qx 'module: not loaded (/nonexistent: No such file or directory)' "$tmp/out"
report $? "--version without a module exits 0"

fake --version
[ "$rc" -eq 0 ] && grep -qx 'module: 0\.0\.0-fake (abi 1)' "$tmp/out"
report $? "--version shows the module's version"

# --- usage errors -----------------------------------------------------
usage "no command" "missing command (try 'gupnw --help')"
usage "unknown command" "unknown command 'frob' .*" frob
usage "unknown option" "unknown option '--frob' .*" probe --frob f
usage "unknown short option" "unknown option '-x' .*" probe -xj f
usage "option with a stray value" "unknown option '--json=1' .*" probe --json=1 f
usage "missing FILE" "probe takes FILE .*" probe
usage "too many arguments" "probe takes FILE .*" probe f 0 1 2
usage "bad offset" "bad offset 'abc'" probe f abc
usage "offset beyond off_t" "bad offset '0x8000000000000000'" probe f 0x8000000000000000
usage "bad length" "bad length 'xyz'" probe f 0 xyz
usage "length overflow" "bad length '17179869184G'" probe f 0 17179869184G
usage "negative length" "bad length '-1'" probe -- f 0 -1
usage "missing --pid value" "missing argument to '--pid' .*" probe --pid
usage "bad pid" "bad pid 'me'" probe --pid me 0 1
usage "--pid without LENGTH" "--pid takes ADDR and LENGTH .*" probe --pid 1 0
usage "bad address" "bad address '4K'" probe --pid 1 4K 1
usage "bad map width" "bad map width '0'" probe --map-width 0 f
usage "--no-fault with --wait" "--no-fault and --wait exclude each other" probe --no-fault --wait f

# --- could not probe --------------------------------------------------
head -c 20480 /dev/zero >"$tmp/file20k"

run "$bin" probe "$tmp/missing"
[ "$rc" -eq 1 ] && one_error ".*/missing: No such file or directory"
report $? "missing file exits 1"

run "$bin" probe "$tmp"
[ "$rc" -eq 1 ] && one_error ".*: Is a directory"
report $? "directory exits 1"

run env GUPNW_DEVICE=/nonexistent "$bin" probe "$tmp/file20k"
[ "$rc" -eq 1 ] && one_error "/nonexistent: No such file or directory"
report $? "no device exits 1"

run env GUPNW_DEVICE=/dev/null "$bin" probe "$tmp/file20k"
[ "$rc" -eq 1 ] && one_error "probe .*/file20k: Inappropriate ioctl for device"
report $? "not a gupnw device exits 1"

run env GUPNW_DEVICE=/dev/null "$bin" probe --pid 2147483647 0 4096
[ "$rc" -eq 1 ] && one_error "pid 2147483647: No such process"
report $? "no such pid exits 1"

fake probe --pid $$ 0xfffffffffffff000 8K
[ "$rc" -eq 1 ] && one_error "pid $$: Value too large for defined data type"
report $? "wrapping pid range exits 1"

# --- probes, through the fake module ----------------------------------
fake probe --json "$tmp/file20k"
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && json_check \
	'j["pages"] == 5 and j["offset"] == 0 and j["length"] == 20480 and j["flags"] == [] and j["file"].endswith("/file20k")'
report $? "--json: one object, counts match the map"

fake probe --json --no-fault "$tmp/file20k" 4K 8K
[ "$rc" -eq 0 ] && json_check \
	'j["pages"] == 2 and j["offset"] == 4096 and j["flags"] == ["nofault"] and set(j["map"]) <= set("RN")'
report $? "--json --no-fault with OFFSET and LENGTH suffixes"

fake probe --json --write "$tmp/file20k" 4095 2
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 2 and j["map"] == "EE"'
report $? "--json --write: an unaligned range covers its pages"

fake probe --json --wait "$tmp/file20k" 30000
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 0 and j["length"] == 0 and j["flags"] == ["wait"]'
report $? "OFFSET beyond end of file: 0 pages"

: >"$tmp/empty"
fake probe --json "$tmp/empty"
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 0 and j["map"] == ""'
report $? "empty file: 0 pages, exit 0"

# Bigger than one window of the tool (16384 pages), and not a multiple.
truncate -s 100M "$tmp/sparse"
fake probe --json "$tmp/sparse" 0 0x6401000
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 25601 and all(j[s] > 0 for s in ("resident", "faulted", "retry", "unmapped", "error", "notpresent"))'
report $? "--json over several windows"

name=$(printf 'we"ird\\na\tme\377')
cp "$tmp/file20k" "$tmp/$name"
fake probe --json "$tmp/$name"
[ "$rc" -eq 0 ] && json_check 'j["file"].endswith("/we\"ird\\na\tme\ufffd")'
report $? "--json escapes the file name"

fake probe --json --pid $$ 0x10001 4K
[ "$rc" -eq 0 ] && json_check "j['pid'] == $$ and j['addr'] == 65537 and j['pages'] == 2"
report $? "--json --pid"

fake probe --json --write --pid $$ 0x10000 4K
[ "$rc" -eq 0 ] && json_check "j['flags'] == ['write'] and j['map'] == 'E'"
report $? "--json --write --pid"

fake probe "$tmp/file20k"
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
	head -n 1 "$tmp/out" | grep -qx '.*/file20k: offset 0, length 20480: 5 pages of [0-9]* bytes, mode nowait' &&
	grep -qx '\[[RFW.EN]\{5\}\]' "$tmp/out" &&
	grep -qx 'one cell = one page' "$tmp/out"
report $? "human report: header, one cell per page"

COLUMNS=42 fake probe --write "$tmp/sparse"
[ "$rc" -eq 0 ] && grep -qx '  E error  *25600 100\.0%' "$tmp/out" &&
	grep -qx '\[E\{40\}\]' "$tmp/out" &&
	grep -qx 'one cell = 640 pages: the state of most of them, lower case when mixed' "$tmp/out"
report $? "human report: map fits \$COLUMNS over several windows"

fake probe --map-width 7 --no-fault "$tmp/sparse"
[ "$rc" -eq 0 ] && grep -qx '\[[rn]\{7\}\]' "$tmp/out" &&
	grep -qx '  R resident  *12800  50\.0%' "$tmp/out" &&
	grep -qx '  N notpresent  *12800  50\.0%' "$tmp/out"
report $? "human report: --map-width, mixed cells in lower case"

fake probe --pid $$ 0x10000 8K
[ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -qx "pid $$: addr 0x10000, length 8192: 2 pages of [0-9]* bytes, mode nowait"
report $? "human report: --pid"

exit $failed
