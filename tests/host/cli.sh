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

bin=$(realpath "$1")
fake=$(realpath "$2")
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
          "unmapped": ".", "error": "E", "notpresent": "N", "cold": "C"}
if j["map"] is None:
    # too large to spell out: the runs say it
    assert j["pages"] > 1 << 24, "map null"
    for name, letter in states.items():
        assert j[name] * j["page_size"] == sum(r["end"] - r["start"] for r in j["ranges"] if r["state"] == letter), name
else:
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

for c in probe maps prefetch watch; do
	run "$bin" $c --help
	[ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q "^usage: gupnw $c " &&
		! grep -q "gupnw \(probe\|maps\|prefetch\|watch\) \[" "$tmp/out" ||
		! grep -v "gupnw $c" "$tmp/out" | grep -q '^usage:'
	report $? "$c --help: its own usage"
done
run "$bin" maps -h
[ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -qx 'usage: gupnw maps \[OPTIONS\] --pid PID|self'
report $? "maps -h: only maps's usage"

run env GUPNW_DEVICE=/nonexistent "$bin" --version
[ "$rc" -eq 0 ] && grep -qx 'gupnw 0\.4\.0' "$tmp/out" &&
	grep -qx 'library: 0\.4\.0' "$tmp/out" &&
	grep -qx 'module: not loaded (/nonexistent: No such file or directory)' "$tmp/out"
report $? "--version without a module exits 0"

fake --version
[ "$rc" -eq 0 ] && grep -qx 'module: 0\.0\.0-fake (abi 1)' "$tmp/out" &&
	grep -qx 'features: probe target_fd extents cold' "$tmp/out"
report $? "--version shows the module's version and features"

# --- usage errors -----------------------------------------------------
usage "no command" "missing command (try 'gupnw --help')"
usage "unknown command" "unknown command 'frob' (try 'gupnw --help')" frob
usage "unknown command: a typo gets the nearest" "unknown command 'prbe': did you mean 'probe'?" prbe
usage "unknown command: swapped letters" "unknown command 'mpas': did you mean 'maps'?" mpas
usage "unknown command: a prefix" "unknown command 'pref': did you mean 'prefetch'?" pref
usage "unknown option" "unknown option '--frob' .*" probe --frob f
usage "unknown short option" "unknown option '-x' .*" probe -xj f
usage "unknown short option first in a cluster: that one is named" "unknown option '-x' .*" probe --json -xJ f
usage "unknown short option after a long one: that one is named" "unknown option '-x' .*" probe --no-fault -Jx f
usage "option with a stray value" "unknown option '--json=1' .*" probe --json=1 f
usage "missing FILE" "probe takes FILE\.\.\. .*" probe
usage "-p without a dash" "bad range '4K' (START-END, START- or -END)" probe -p 4K f
usage "-p END before START" "bad range '1M-4K' .*" probe -p 1M-4K f
usage "-p garbage" "bad range '1abc-' .*" probe --range 1abc- f
usage "-p overflow" "bad range '0-16777216T' .*" probe -p 0-16777216T f
usage "-p with --pid" "-p goes with FILE; --pid takes ADDR and LENGTH" probe -p 0-4K --pid 1 0 1
usage "bad -o column" "bad columns 'PAGES,X' (of .*)" probe -o PAGES,X f
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

# What is neither a regular file nor a block device is refused at once,
# without blocking (a FIFO's open would wait for a writer).
mkfifo "$tmp/fifo"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/sock"
for op in fifo sock; do
	fake probe "$tmp/$op"
	[ "$rc" -eq 1 ] && one_error ".*/$op: not a regular file"
	report $? "a ${op} operand: 'not a regular file', exit 1"
done
fake probe /dev/null
[ "$rc" -eq 1 ] && one_error "/dev/null: not a regular file"
report $? "a character device operand: 'not a regular file', exit 1"

fake probe "$tmp/file20k" "$tmp/fifo" "$tmp/file20k"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -qx 'gupnw: .*/fifo: not a regular file' "$tmp/err" &&
	grep -q 'total (2 files)$' "$tmp/out"
report $? "several files, one a FIFO: refused, the rest probed, exit 1"

fake probe -r "$tmp/fifo"
[ "$rc" -eq 1 ] && grep -qx 'gupnw: .*/fifo: not a regular file' "$tmp/err" &&
	grep -q 'total (0 files)$' "$tmp/out"
report $? "-r FIFO: refused, exit 1"

FAKE_GUPNW_STATE=R fake prefetch --wait "$tmp/fifo"
[ "$rc" -eq 1 ] && grep -qx 'gupnw: .*/fifo: not a regular file' "$tmp/err"
report $? "prefetch of a FIFO: refused, exit 1"

fake watch --count 1 "$tmp/fifo"
[ "$rc" -eq 1 ] && one_error ".*/fifo: not a regular file"
report $? "watch of a FIFO: refused, exit 1"

# proc and sysfs files are made up when read: no page cache behind them.
fake probe /proc/self/status
[ "$rc" -eq 1 ] && one_error "/proc/self/status: no pages: a file of proc, made up when read"
report $? "a /proc file: says why it has no pages, exit 1"

sysfile=$(find /sys/kernel -maxdepth 1 -type f -readable 2>/dev/null | head -n 1)
if [ -n "$sysfile" ]; then
	fake probe "$sysfile"
	[ "$rc" -eq 1 ] && one_error "$sysfile: no pages: a file of sysfs, made up when read"
	report $? "a /sys file: says why it has no pages, exit 1"
fi

# -r of an operand that cannot be walked: reported, exit 1, as without -r.
ln -s "$tmp/nonexistent" "$tmp/dangling"
ln -s loop "$tmp/loop"
fake probe -r "$tmp/dangling"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -qx 'gupnw: .*/dangling: No such file or directory' "$tmp/err"
report $? "-r of a dangling symlink: reported, exit 1"

fake probe -r "$tmp/loop"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -qx 'gupnw: .*/loop: Too many levels of symbolic links' "$tmp/err"
report $? "-r of a symlink loop: reported, exit 1"

# Unreadable: as an unprivileged user (root reads everything).
mkdir -p "$tmp/locked/dir"
head -c 4096 /dev/zero >"$tmp/locked/file"
chmod 000 "$tmp/locked/dir" "$tmp/locked/file"
as_user=""
if [ "$(id -u)" -eq 0 ]; then
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
	chmod 755 "$tmp"
fi
for op in dir file; do
	# uid 65534 must reach the tool first: not so in a root made by mktemp -d
	# (mode 0700), as a fresh-machine check that chroots into such a root does.
	# shellcheck disable=SC2086
	if [ -n "$as_user" ] && ! $as_user "$bin" --version >/dev/null 2>&1; then
		echo "ok - host: $label: -r of an unreadable $op: reported, exit 1 # SKIP uid 65534 cannot run $bin here"
		continue
	fi
	# shellcheck disable=SC2086
	run $as_user env GUPNW_DEVICE=/dev/null LD_PRELOAD="$fake" "$bin" \
		probe -r "$tmp/locked/$op"
	[ "$rc" -eq 1 ] && grep -qx "gupnw: .*/locked/$op: Permission denied" "$tmp/err"
	report $? "-r of an unreadable $op: reported, exit 1"
done
chmod 700 "$tmp"

run env GUPNW_DEVICE=/nonexistent "$bin" probe "$tmp/file20k"
[ "$rc" -eq 1 ] && one_error "/nonexistent: No such file or directory (is the module loaded? modprobe gupnw)"
report $? "no device exits 1, and says how to load the module"

run env GUPNW_DEVICE=/dev/null "$bin" probe "$tmp/file20k"
[ "$rc" -eq 1 ] && one_error "probe .*/file20k: Inappropriate ioctl for device"
report $? "not a gupnw device exits 1"

run env GUPNW_DEVICE=/dev/null "$bin" probe --pid 2147483647 0 4096
[ "$rc" -eq 1 ] && one_error "pid 2147483647: No such process"
report $? "no such pid exits 1"

fake probe --pid $$ 0xfffffffffffff000 8K
[ "$rc" -eq 1 ] && one_error "pid $$: address 0xfffffffffffff000 is past the end of user space (0x7ffffffff000)"
report $? "pid range past the end of user space: one line, exit 1"

# A LENGTH past the end of user space is cut there, and a whole address
# space answers at once, with a bounded map (here all unmapped: one run).
FAKE_GUPNW_STATE=. fake probe --json --pid $$ 0 0x7fffffffffffffff
[ "$rc" -eq 0 ] && json_check 'j["clipped"] and j["length"] == 0x7ffffffff000 and j["map"] is None and j["unmapped"] == j["pages"] == 0x7ffffffff000 // j["page_size"] and len(j["ranges"]) == 1'
report $? "pid LENGTH past the end of user space: cut there, --json map null"

FAKE_GUPNW_STATE=. fake probe --pid $$ 0x10000 0xffffffffffffffff
[ "$rc" -eq 0 ] && grep -qx '  (length cut at the end of user space, 0x7ffffffff000)' "$tmp/out" &&
	grep -q '^\[\.*\]$' "$tmp/out"
report $? "pid LENGTH wrapping past 2^64: cut at the end of user space"

FAKE_GUPNW_STATE=R fake probe --json --ranges --pid $$ 0x10000 16T
[ "$rc" -eq 0 ] && json_check 'not j["clipped"] and j["pages"] == 1 << 32 and j["map"] is None and j["ranges"] == [{"start": 0x10000, "end": 0x10000 + (16 << 40), "state": "R"}]'
report $? "16 TiB --json: counts and one run, no letter per page"

FAKE_GUPNW_STATE=R fake probe --json --pid $$ 0x10000 64G
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 1 << 24 and len(j["map"]) == 1 << 24'
report $? "--json map spelled out up to 2^24 pages"

# --- probes, through the fake module ----------------------------------
fake probe --json "$tmp/file20k"
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && json_check \
	'j["pages"] == 5 and j["offset"] == 0 and j["length"] == 20480 and j["flags"] == [] and j["file"].endswith("/file20k")'
report $? "--json: one object, counts match the map"

fake probe --json --no-fault -p 4K-12K "$tmp/file20k"
[ "$rc" -eq 0 ] && json_check \
	'j["pages"] == 2 and j["offset"] == 4096 and j["length"] == 8192 and j["flags"] == ["nofault"] and set(j["map"]) <= set("RN")'
report $? "-p START-END with suffixes, end exclusive"

fake probe -J -p 8K- "$tmp/file20k"
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 3 and j["offset"] == 8192 and j["length"] == 12288'
report $? "-p START-: to the end of the file; -J is --json"

fake probe -J --range -8K "$tmp/file20k"
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 2 and j["offset"] == 0 and j["length"] == 8192'
report $? "--range -END: from the start"

fake probe -J -p 16K-1G "$tmp/file20k"
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 1 and j["length"] == 4096'
report $? "-p END past the end of the file: cut at the end, as vmtouch"

fake probe --json --write -p 4095-4097 "$tmp/file20k"
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 2 and j["map"] == "EE"'
report $? "--json --write: an unaligned range covers its pages"

fake probe --json --wait -p 30000- "$tmp/file20k"
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 0 and j["length"] == 0 and j["flags"] == ["wait"]'
report $? "-p START beyond end of file: 0 pages"

# Every argument is a file, a name that looks like a number too.
cp "$tmp/file20k" "$tmp/2024.log"
(cd "$tmp" && GUPNW_DEVICE=/dev/null LD_PRELOAD="$fake" timeout 20 "$bin" probe -J file20k 2024.log) >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert [f["file"] for f in j["files"]] == ["file20k", "2024.log"]' "$tmp/out"
report $? "probe a.log 2024.log: two files"

FAKE_GUPNW_CYCLE=RNWC fake probe --no-fault -p 0-16K "$tmp/file20k"
[ "$rc" -eq 0 ] && grep -qx '  C cold  *1  25\.0%' "$tmp/out" &&
	grep -qx '  in memory  *3  75\.0%' "$tmp/out"
report $? "--no-fault: cold pages, in memory = R + N + W (as mincore)"

FAKE_GUPNW_CYCLE=RNWC fake probe --no-fault -b -p 0-16K "$tmp/file20k"
[ "$rc" -eq 0 ] && grep -qx "  C cold  *$(getconf PAGESIZE)  25\.0%" "$tmp/out"
report $? "-b: amounts in bytes"

: >"$tmp/empty"
fake probe --json "$tmp/empty"
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 0 and j["map"] == ""'
report $? "empty file: 0 pages, exit 0"

# Bigger than one window of the tool (16384 pages), and not a multiple.
truncate -s 100M "$tmp/sparse"
fake probe --json -p 0-0x6401000 "$tmp/sparse"
[ "$rc" -eq 0 ] && json_check 'j["pages"] == 25600 and all(j[s] > 0 for s in ("resident", "faulted", "retry", "unmapped", "error", "notpresent"))'
report $? "--json over several calls"

# A probe cut short (a fatal signal, say) still ends its JSON well-formed.
FAKE_GUPNW_FAIL_AFTER=2 fake probe --json "$tmp/sparse"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -q '^gupnw: probe .*/sparse: Interrupted system call$' "$tmp/err" &&
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["probe_error"] == "Interrupted system call" and len(j["map"]) == 2 * 4096 and j["pages"] == 25600' "$tmp/out"
report $? "--json probe failing part way: exit 1, one line, JSON still well-formed"

FAKE_GUPNW_FAIL_AFTER=1 fake probe --json "$tmp/file20k" "$tmp/sparse" "$tmp/file20k"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 2 ] && python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert [("probe_error" in f) for f in j["files"]] == [False, True, True] and j["total"]["files"] == 1' "$tmp/out"
report $? "several files --json, probes failing: still one well-formed object"

FAKE_GUPNW_CYCLE=RFWC fake probe --json "$tmp/sparse"
[ "$rc" -eq 0 ] && json_check 'j["cold"] == 6400 and j["map"].count("C") == 6400 and "io_started" in j and "async_faults" in j'
report $? "--json: cold pages (past the I/O cap) and the new counts"

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

# --- several files, -r, --ranges ----------------------------------------
mkdir -p "$tmp/tree/sub"
head -c 20480 /dev/zero >"$tmp/tree/a"
head -c 8192 /dev/zero >"$tmp/tree/sub/b"

# multi_json PYTHON: one object {"files":[...],"total":{...}}, each file as
# the single-file object, the total their sum, and PYTHON holds.
multi_json() {
	python3 - "$tmp/out" "$1" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
j = json.loads(text)
assert text.endswith("}\n") and text.count("\n") == 1, "not one line"
keys = ("pages", "resident", "faulted", "retry", "unmapped", "error", "notpresent")
for k in keys:
    assert j["total"][k] == sum(f[k] for f in j["files"]), k
for f in j["files"]:
    if "map" in f:
        assert len(f["map"]) == f["pages"], "map length"
assert j["total"]["files"] == len(j["files"]), "files"
assert eval(sys.argv[2]), sys.argv[2]
PY
}

# The fake's states follow the address; FAKE_GUPNW_STATE makes them fixed.
FAKE_GUPNW_STATE=F fake probe "$tmp/tree/a" "$tmp/tree/sub/b"
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(wc -l <"$tmp/out")" -eq 4 ] &&
	head -n 1 "$tmp/out" | grep -qx '    PAGES        R        F        W        C        \.        E   MEM%  FILE' &&
	grep -qx '        5        0        5        0        0        0        0 100\.0%  .*/tree/a' "$tmp/out" &&
	grep -qx '        2        0        2        0        0        0        0 100\.0%  .*/tree/sub/b' "$tmp/out" &&
	grep -qx '        7        0        7        0        0        0        0 100\.0%  total (2 files)' "$tmp/out"
report $? "several files: a line per file and a total"

FAKE_GUPNW_STATE=F fake probe -n --raw "$tmp/tree/a" "$tmp/tree/sub/b"
[ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ] &&
	grep -qx '5 0 5 0 0 0 0 100\.0 .*/tree/a' "$tmp/out"
report $? "-n --raw: no heading, no padding"

FAKE_GUPNW_STATE=F fake probe -o PAGES,F,MEM%,FILE -b "$tmp/tree/a" "$tmp/tree/sub/b"
ps=$(getconf PAGESIZE)
[ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -qx ' *BYTES *F   MEM%  FILE' &&
	grep -qx " *$((5 * ps)) *$((5 * ps)) 100\.0%  .*/tree/a" "$tmp/out"
report $? "-o columns, -b bytes"

FAKE_GUPNW_STATE=N fake probe --no-fault "$tmp/tree/a" "$tmp/tree/missing" "$tmp/tree/sub/b"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -qx 'gupnw: .*/tree/missing: No such file or directory' "$tmp/err" &&
	head -n 1 "$tmp/out" | grep -qx ' *PAGES *R *N *W *C *\. *E *MEM% *FILE' &&
	grep -qx ' *7 *0 *7 *0 *0 *0 *0 100\.0%  total (2 files)' "$tmp/out"
report $? "several files: a missing one is reported, the rest probed, exit 1"

fake probe --json "$tmp/tree/a" "$tmp/tree/sub/b"
[ "$rc" -eq 0 ] && multi_json 'len(j["files"]) == 2 and j["files"][0]["file"].endswith("/tree/a") and set(j["files"][0]["map"]) <= set("RFW.EN") and j["total"]["pages"] == 7'
report $? "several files --json: files and total"

fake probe -r --json "$tmp/tree"
[ "$rc" -eq 0 ] && multi_json '[f["file"][-6:] for f in j["files"]] == ["tree/a", "/sub/b"]'
report $? "-r DIR --json: the files below, in name order"

fake probe -r "$tmp/tree"
[ "$rc" -eq 0 ] && grep -q 'total (2 files)$' "$tmp/out"
report $? "-r DIR: human table"

fake probe --ranges --write "$tmp/tree/a"
[ "$rc" -eq 0 ] && grep -qx '0x0-0x5000 E error' "$tmp/out" &&
	[ "$(grep -c '^0x' "$tmp/out")" -eq 1 ]
report $? "--ranges: one run of a state"

fake probe --ranges -p 4K-12K "$tmp/tree/a"
[ "$rc" -eq 0 ] && [ "$(grep -c '^0x' "$tmp/out")" -eq 2 ] &&
	grep -qx '0x1000-0x2000 [RFW.EN] [a-z]*' "$tmp/out" &&
	grep -qx '0x2000-0x3000 [RFW.EN] [a-z]*' "$tmp/out"
report $? "--ranges: runs in file offsets"

fake probe --ranges --json --no-fault "$tmp/sparse"
[ "$rc" -eq 0 ] && json_check 'len(j["ranges"]) == 25600 and j["ranges"][0]["start"] == 0 and j["ranges"][0]["end"] == 4096 and j["ranges"][0]["state"] in "RN" and j["ranges"][-1]["end"] == 104857600 and all(a["end"] == b["start"] for a, b in zip(j["ranges"], j["ranges"][1:]))'
report $? "--ranges --json: runs across windows, contiguous"

FAKE_GUPNW_STATE=R fake probe --ranges --json --pid $$ 0x10000 64K
[ "$rc" -eq 0 ] && json_check 'j["ranges"] == [{"start": 65536, "end": 131072, "state": "R"}]'
report $? "--ranges --json --pid: one run, in addresses"

FAKE_GUPNW_STATE=W fake probe --ranges "$tmp/tree/a" "$tmp/tree/sub/b"
[ "$rc" -eq 0 ] && [ "$(grep '^  0x' "$tmp/out" | tr '\n' ' ')" = "  0x0-0x5000 W retry   0x0-0x2000 W retry " ]
report $? "several files --ranges: runs under each line"

# A few runs: held and printed after the report, as always.
FAKE_GUPNW_CYCLE=RRW fake probe --ranges --map-width 4 --pid $$ 0x10000 16K
[ "$rc" -eq 0 ] && [ "$(tail -n 5 "$tmp/out" | tr '\n' '|')" = "[RWRR]|one cell = one page|0x10000-0x11000 R resident|0x11000-0x12000 W retry|0x12000-0x14000 R resident|" ]
report $? "--ranges: a few runs, after the report"

# maxrss CMD...: the peak RSS (KiB) of the tool's command line, its output
# in $tmp/out.
maxrss() {
	python3 - "$@" >"$tmp/rss" <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "w") as out:
    rc = subprocess.call(sys.argv[2:], stdout=out, timeout=60)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
	read -r rc rss <"$tmp/rss"
}
# ASan's shadow and quarantine cost more than the runs; the bound is for
# both builds what holding 2^21 runs would exceed (48 MiB and more).
rss_max=40000

# 2^21 runs, alternating R and N: printed as they come, the report after.
maxrss "$tmp/out" env GUPNW_DEVICE=/dev/null LD_PRELOAD="$fake" "$bin" \
	probe --ranges --no-fault --map-width 8 --pid $$ 0x10000 8G
[ "$rc" -eq 0 ] && [ "$rss" -lt $rss_max ] &&
	[ "$(grep -c '^0x' "$tmp/out")" -eq $((1 << 21)) ] &&
	head -n 1 "$tmp/out" | grep -qx '0x10000-0x11000 [RN] [a-z]*' &&
	tail -n 1 "$tmp/out" | grep -q '^one cell = ' &&
	awk -F'[- ]' '/^0x/ { if (NR > 1 && $1 != end) exit 1; end = $2 }' "$tmp/out"
report $? "--ranges of 2^21 runs: streamed, memory bounded (maxrss ${rss:-?} KiB)"

# "map":null: the runs in "ranges" as they come, the counts after them.
maxrss "$tmp/out" env GUPNW_DEVICE=/dev/null LD_PRELOAD="$fake" \
	FAKE_GUPNW_MAPPED_BELOW=0x200010000 "$bin" \
	probe --json --no-fault --pid $$ 0x10000 80G
[ "$rc" -eq 0 ] && [ "$rss" -lt $rss_max ] &&
	json_check 'j["map"] is None and len(j["ranges"]) == (1 << 21) + 1 and j["ranges"][-1] == {"start": 0x200010000, "end": 0x10000 + (80 << 30), "state": "."} and all(a["end"] == b["start"] for a, b in zip(j["ranges"], j["ranges"][1:]))'
report $? "--json map null, 2^21 runs: streamed, memory bounded (maxrss ${rss:-?} KiB)"

# "map" spelled out and --ranges: past the runs held, a byte per page.
maxrss "$tmp/out" env GUPNW_DEVICE=/dev/null LD_PRELOAD="$fake" "$bin" \
	probe --json --ranges --no-fault --pid $$ 0x10000 8G
[ "$rc" -eq 0 ] && [ "$rss" -lt $rss_max ] &&
	json_check 'len(j["ranges"]) == 1 << 21 and j["ranges"][-1]["end"] == 0x10000 + (8 << 30) and all(a["end"] == b["start"] and a["state"] != b["state"] for a, b in zip(j["ranges"], j["ranges"][1:]))'
report $? "--json --ranges with the map, 2^21 runs: memory bounded (maxrss ${rss:-?} KiB)"

usage "-r with --pid" "-r and --pid exclude each other" probe -r --pid 1 0 1

# --- colour ---------------------------------------------------------------
fake probe --color=always "$tmp/file20k"
esc=$(printf '\033')
[ "$rc" -eq 0 ] && grep -q "^\[${esc}\[[0-9]*m.*${esc}\[0m\]\$" "$tmp/out" &&
	[ "$(grep -c "$esc" "$tmp/out")" -eq 1 ]
report $? "--color=always colours the map, only the map"

# A byte that is no known state (a newer module's, say) has a colour too.
FAKE_GUPNW_CYCLE=RX fake probe --color=always "$tmp/file20k"
[ "$rc" -eq 0 ] && ! grep -q 'null' "$tmp/out" &&
	grep -q "${esc}\[7m?" "$tmp/out" && grep -q "${esc}\[32mR" "$tmp/out"
report $? "--color=always: an unknown state letter gets a colour"

fake probe --color=never "$tmp/file20k"
[ "$rc" -eq 0 ] && ! grep -q "$esc" "$tmp/out"
report $? "--color=never: plain text"

fake probe "$tmp/file20k"
[ "$rc" -eq 0 ] && ! grep -q "$esc" "$tmp/out" && ! grep -q "$esc" "$tmp/err"
report $? "off a terminal: no colour, no progress bar"

usage "bad colour" "bad colour 'pink' (auto, always or never)" probe --color=pink f

# --- maps -------------------------------------------------------------------
sleep 30 &
spid=$!
sleep 1		# until it is sleep(1), not the shell that forked it
fake maps --pid $spid
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
	head -n 1 "$tmp/out" | grep -qx "pid $spid: [0-9]* mappings, mode nofault" &&
	sed -n 2p "$tmp/out" | grep -qx 'ADDRESS  *PERM  *PAGES  *R  *N  *W  *C  *\.  *E  *MEM%  *SWAP  *UNTOUCHED  MAPPING' &&
	grep -q '^[0-9a-f]*-[0-9a-f]* r-xp  *[0-9].* /.*sleep$' "$tmp/out" &&
	grep -q ' \[stack\]$' "$tmp/out" &&
	tail -n 1 "$tmp/out" | grep -q "total ([0-9]* mappings)\$" &&
	[ "$(wc -l <"$tmp/out")" -eq $(($(wc -l <"/proc/$spid/maps") + 3)) ]
report $? "maps --pid: a line per mapping, NOFAULT by default, a total"

FAKE_GUPNW_CYCLE=RNWC fake maps --pid $spid --json
[ "$rc" -eq 0 ] && python3 - "$tmp/out" "$spid" <<'PY'
import json, sys
j = json.loads(open(sys.argv[1]).read())
assert j["pid"] == int(sys.argv[2]) and j["flags"] == ["nofault"]
keys = ("resident", "faulted", "retry", "unmapped", "error", "notpresent", "cold")
probed = [m for m in j["mappings"] if m["probed"]]
for m in probed:
    assert m["pages"] * j["page_size"] == m["end"] - m["start"]
    assert sum(m[k] for k in keys) == m["pages"]
    # anonymous: N never touched, C on swap; files: N cached, C on disk
    if m["kind"] == "anon":
        assert m["untouched"] == m["notpresent"] and m["swap"] == m["cold"]
        assert m["in_memory"] == m["resident"] + m["retry"]
    else:
        assert m["untouched"] == 0
        assert m["in_memory"] == m["resident"] + m["retry"] + m["notpresent"]
        assert m["swap"] == (m["cold"] if m["kind"] == "shmem" else 0)
assert any(m["kind"] == "anon" and m["swap"] and m["untouched"] for m in probed)
assert any(m["kind"] == "file" and m["cold"] for m in probed)
for k in keys + ("pages", "in_memory", "swap", "untouched"):
    assert j["total"][k] == sum(m[k] for m in probed), k
assert j["total"]["mappings"] == len(j["mappings"])
assert all(not m["probed"] for m in j["mappings"] if m["start"] >= 1 << 63)
assert any(m["path"] == "[stack]" for m in j["mappings"])
PY
report $? "maps --json: per mapping counts add up, totals"

fake maps --fault --pid $spid
[ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q 'mode nowait$' &&
	sed -n 2p "$tmp/out" | grep -q ' R  *F  *W  *C  *\.  *E  *MEM%  MAPPING$'
report $? "maps --fault: NOWAIT probes"

FAKE_GUPNW_STATE=C fake maps --pid $spid
[ "$rc" -eq 0 ] && grep ' \[stack\]$' "$tmp/out" |
	awk '{ if ($3 != $7 || $3 != $11 || $12 != 0 || $10 != "0.0%") exit 1 }'
report $? "maps: an anonymous mapping out on swap (C) counts as SWAP"

FAKE_GUPNW_STATE=N fake maps --pid $spid
[ "$rc" -eq 0 ] && grep ' \[stack\]$' "$tmp/out" |
	awk '{ if ($3 != $5 || $3 != $12 || $11 != 0 || $10 != "0.0%") exit 1 }' &&
	grep ' r-xp .*/sleep$' "$tmp/out" | head -n 1 |
	awk '{ if ($10 != "100.0%" || $12 != 0) exit 1 }'
report $? "maps: N is never touched in an anonymous mapping, in memory in a file's"
kill $spid 2>/dev/null
wait $spid 2>/dev/null

# A private mapping of /dev/zero is anonymous memory; a shared one, and
# shared anonymous memory named "[anon_shmem:NAME]" (6.13+), are shmem.
python3 - "$tmp/zero-ready" <<'PY' &
import ctypes, mmap, os, sys, time
fd = os.open("/dev/zero", os.O_RDWR)
priv = mmap.mmap(fd, 65536, flags=mmap.MAP_PRIVATE)
shared = mmap.mmap(fd, 65536, flags=mmap.MAP_SHARED)
named = mmap.mmap(-1, 65536, flags=mmap.MAP_SHARED)
libc = ctypes.CDLL(None, use_errno=True)
addr = ctypes.addressof(ctypes.c_char.from_buffer(named))
# PR_SET_VMA, PR_SET_VMA_ANON_NAME
libc.prctl(0x53564d41, 0, ctypes.c_ulong(addr), ctypes.c_ulong(65536),
           ctypes.c_char_p(b"gupnw-test"))
open(sys.argv[1], "w").close()
time.sleep(30)
PY
zpid=$!
i=0
while [ ! -e "$tmp/zero-ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
FAKE_GUPNW_STATE=N fake maps --json --pid $zpid
[ "$rc" -eq 0 ] && python3 - "$tmp/out" <<'PY'
import json, sys
j = json.loads(open(sys.argv[1]).read())
zero = [m for m in j["mappings"] if m["path"].startswith("/dev/zero")]
priv = [m for m in zero if m["perms"][3] == "p"]
shared = [m for m in zero if m["perms"][3] == "s"]
assert priv and all(m["kind"] == "anon" and m["untouched"] == m["pages"] for m in priv), priv
assert shared and all(m["kind"] == "shmem" and m["untouched"] == 0 for m in shared), shared
named = [m for m in j["mappings"] if m["path"].startswith("[anon_shmem:")]
assert all(m["kind"] == "shmem" for m in named), named
PY
report $? "maps: private /dev/zero is anon, shared and [anon_shmem:NAME] are shmem"
kill $zpid 2>/dev/null
wait $zpid 2>/dev/null

# One run per mapping: even ASan's terabytes of shadow are a few calls.
FAKE_GUPNW_STATE=N fake maps --pid self
[ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q '^pid [0-9]* (self): '
report $? "maps --pid self"

run env GUPNW_DEVICE=/dev/null "$bin" maps --pid 2147483647
[ "$rc" -eq 1 ] && one_error "pid 2147483647: No such process"
report $? "maps of no such pid exits 1"
usage "maps without --pid" "maps takes --pid PID .*" maps
usage "maps --pid me" "bad pid 'me'" maps --pid me
usage "probe --pid self" "bad pid 'self'" probe --pid self 0 1

# --- prefetch ---------------------------------------------------------------
FAKE_GUPNW_STATE=W fake prefetch "$tmp/tree/a" "$tmp/tree/sub/b"
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
	head -n 1 "$tmp/out" | grep -qx ' *PAGES *R *F *W *C *\. *E *MEM% *FILE' &&
	grep -qx ' *5 *0 *0 *5 *0 *0 *0   0\.0%  .*/tree/a' "$tmp/out" &&
	tail -n 1 "$tmp/out" | grep -qx ' *7 .*total (2 files)'
report $? "prefetch: what was resident, faulted, started; a total"

FAKE_GUPNW_STATE=W fake prefetch --json "$tmp/tree/a" "$tmp/missing"
[ "$rc" -eq 1 ] && grep -qx 'gupnw: .*/missing: No such file or directory' "$tmp/err" &&
	multi_json 'len(j["files"]) == 1 and j["files"][0]["retry"] == 5 and "map" not in j["files"][0]'
report $? "prefetch --json, a missing file: exit 1"

FAKE_GUPNW_STATE=R fake prefetch --wait "$tmp/tree/a"
[ "$rc" -eq 0 ] && tail -n 1 "$tmp/out" | grep -qx '.*/tree/a: 5/5 pages resident (100\.0%) after [0-9.]* s'
report $? "prefetch --wait off a terminal: a line, all resident"

FAKE_GUPNW_STATE=R fake prefetch --wait --json "$tmp/tree/a"
[ "$rc" -eq 0 ] && multi_json 'j["files"][0]["resident_after_wait"] == 5 and "waited_ms" in j["files"][0]'
report $? "prefetch --wait --json"

fake prefetch --wait --interval 0.05 --timeout 0.2 "$tmp/tree/a"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -qx 'gupnw: prefetch .*/tree/a: gave up after 0\.[2-9] s (--timeout), [0-4] of 5 pages resident' "$tmp/err" &&
	grep -qx '.*/tree/a: [0-4]/5 pages resident ([0-9.]*%) after 0\.0 s' "$tmp/out"
report $? "prefetch --wait --timeout: gives up, exit 1"

# Pages that read C (never started, or evicted since) are probed NOWAIT
# again, which starts their reads: here the second NOWAIT probe "reads"
# them all.  Without it the wait would never end.
FAKE_GUPNW_STATE=C FAKE_GUPNW_READ_AFTER=2 fake prefetch --wait --interval 0.01 "$tmp/tree/a"
[ "$rc" -eq 0 ] && tail -n 1 "$tmp/out" | grep -qx '.*/tree/a: 5/5 pages resident (100\.0%) after [0-9.]* s'
report $? "prefetch --wait: cold (C) pages are probed NOWAIT again until resident"

FAKE_GUPNW_STATE=R fake prefetch --wait --timeout 0 "$tmp/tree/a"
[ "$rc" -eq 0 ] && tail -n 1 "$tmp/out" | grep -q '5/5 pages resident'
report $? "prefetch --wait --timeout 0: no limit"

# A file is mapped only while it is probed: past vm.max_map_count files.
mkdir "$tmp/many"
python3 -c '
import sys
for i in range(66000):
    with open("%s/f%05d" % (sys.argv[1], i), "wb") as f: f.write(b"x")' "$tmp/many"
(cd "$tmp/many" && FAKE_GUPNW_STATE=W GUPNW_DEVICE=/dev/null timeout 60 env LD_PRELOAD="$fake" "$bin" prefetch -n f*) >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(wc -l <"$tmp/out")" -eq 66001 ] &&
	tail -n 1 "$tmp/out" | grep -qx ' *66000 .*total (66000 files)'
report $? "prefetch of 66000 files: each unmapped once started"

(cd "$tmp/many" && FAKE_GUPNW_STATE=R GUPNW_DEVICE=/dev/null timeout 60 env LD_PRELOAD="$fake" "$bin" prefetch --wait --json f*) >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["total"]["files"] == 66000 and all(f["resident_after_wait"] == 1 for f in j["files"])' "$tmp/out"
report $? "prefetch --wait of 66000 files: mapped again one at a time"
rm -rf "$tmp/many"

usage "prefetch without FILE" "prefetch takes FILE.*" prefetch
usage "prefetch --timeout without --wait" "--interval and --timeout go with --wait" prefetch --timeout 1 f
usage "bad timeout" "bad timeout '1s'" prefetch --wait --timeout 1s f
usage "bad interval" "bad interval '0'" prefetch --wait --interval 0 f

# --- watch ------------------------------------------------------------------
fake watch --count 3 --interval 0.01 "$tmp/file20k"
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(wc -l <"$tmp/out")" -eq 4 ] &&
	head -n 1 "$tmp/out" | grep -qx ' *PAGES *R *F *W *C *\. *E *MEM% *FRAME' &&
	[ "$(grep -c '^ *5  *[0-9 ]* *[0-9.]*%  frame [123] +[0-9.]*s$' "$tmp/out")" -eq 3 ]
report $? "watch --count 3 off a terminal: a line per frame"

fake watch --count 2 --interval 0.01 --json --no-fault --pid $$ 0x10000 8K
[ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 2 ] && python3 - "$tmp/out" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    assert j["pages"] == 2 and j["map"] in ("RN", "NR") and j["flags"] == ["nofault"]
PY
report $? "watch --json: one object per frame"

usage "watch without FILE" "watch takes one FILE .*" watch
usage "watch of two files" "watch takes one FILE .*" watch a b
usage "watch bad count" "bad count '0'" watch --count 0 f
usage "watch -r" "unknown option '-r' .*" watch -r f

exit $failed
