#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run every test in /tests in file-name order, each under a time limit, its output
# straight on the console: a terminal, so a test's stdout stays line-buffered and a
# crash loses nothing.  Each run is framed by GUPNW-TEST-BEGIN/END lines; the host
# reads them to fail a test that exits non-zero without a "not ok" line of its own.
set -eu
limit=${GUPNW_TEST_TIMEOUT:-300}

# GUPNW_TESTS is a comma-separated list of shell patterns, split here without globbing
# (tests/README.md).  A pattern's part before ':' picks files: "t31" or "t31*" is
# t31_states_file; its part after ':' picks cases, which the test itself reads from
# GUPNW_TESTS (gt_selected() in gupnw_test.c, case_selected in tap.shlib).
selected() {
	[ -z "${GUPNW_TESTS:-}" ] && return 0
	set -f
	IFS=,
	# shellcheck disable=SC2086
	set -- "$1" $GUPNW_TESTS
	unset IFS
	set +f
	name=$1
	shift
	for p; do
		f=${p%%:*}
		# shellcheck disable=SC2254
		case $name in $f | "$f"_* | "$f".sh) return 0 ;; esac
	done
	return 1
}

cd /tmp
for t in /tests/*; do
	[ -f "$t" ] || continue
	name=${t##*/}
	selected "$name" || continue
	case $name in
	*.shlib) continue ;;	# sourced by the .sh tests
	*.sh) set -- sh "$t" ;;
	*) set -- "$t" ;;
	esac
	# A shell test that waits on the throttled disk may ask for a longer limit
	# with a line "# gupnw-test-timeout: SECONDS" (t53 does).
	tl=$limit
	case $name in
	*.sh)
		n=$(sed -n 's/^# gupnw-test-timeout: \([0-9]*\)$/\1/p' "$t" | head -n 1)
		[ -n "$n" ] && [ "$n" -gt "$tl" ] && tl=$n
		;;
	esac
	echo "GUPNW-TEST-BEGIN $name"
	start=$(date +%s)
	rc=0
	timeout -s TERM -k 5 "$tl" "$@" </dev/null || rc=$?
	took=$(($(date +%s) - start))
	if [ $rc -ne 0 ] && [ $took -ge "$tl" ]; then
		echo
		echo "not ok - $name: timed out after $tl s"
	fi
	echo "GUPNW-TEST-END $name $rc $took"
done
