#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side, run by /init after the tests and before "rmmod gupnw" (a leak of a
# module still loaded has a symbolized backtrace): ask kmemleak for a scan and fail if
# any unreferenced object was allocated by gupnw.  Leaks elsewhere in the kernel (or
# kmemleak's false positives) are counted in a comment, not failed.  An unsymbolized
# frame ("] 0x...") is also gupnw's: with KALLSYMS every built-in function has a name,
# so it can only be a module unloaded since (the tests reload gupnw).
# Only a comment on a kernel without CONFIG_DEBUG_KMEMLEAK, unless GUPNW_DEBUG=1.  Measured: ~12 s a scan under TCG.
KL=/sys/kernel/debug/kmemleak
name="kmemleak reports no leak from gupnw"
[ -d /sys/kernel/debug/tracing ] || [ -e $KL ] ||
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if [ ! -e $KL ]; then
	# Debian's kernels: not a test there.  The debug guest (GUPNW_DEBUG=1) must have it.
	if [ "${GUPNW_DEBUG:-0}" = 1 ]; then
		echo "not ok - $name: no $KL in the debug kernel"
		exit 1
	fi
	echo "# kmemleak: not in this kernel"
	exit 0
fi
# With stack scanning on, a stale pointer in some kernel stack hides most leaks.
echo stack=off >$KL
# kmemleak reports only objects older than 5 s: let the last test's settle.
sleep 6
# Two scans: an object a scan catches in flight between two pointers is not a leak.
echo scan >$KL
echo scan >$KL
report=/tmp/kmemleak.txt
if ! cat $KL >$report 2>&1; then
	echo "not ok - $name: cannot read $KL: $(head -n 1 $report)"
	exit 1
fi
# One record per object: "unreferenced object 0x... (size N):" then its lines.
awk '
/^unreferenced object/ { if (rec != "") out(); rec = $0; n++; next }
{ rec = rec "\n" $0 }
function out() {
	if (rec ~ /gupnw/ || rec ~ /\] 0x[0-9a-f]+\n/ || rec ~ /\] 0x[0-9a-f]+$/) {
		ours++
		if (ours <= 3)
			print rec > "/tmp/kmemleak-gupnw.txt"
	}
	rec = ""
}
END {
	if (rec != "") out()
	printf "%d %d\n", n, ours
}' $report >/tmp/kmemleak.count
read -r total ours </tmp/kmemleak.count
echo "# kmemleak: $total unreferenced objects in all, ${ours:-0} from gupnw"
if [ "${ours:-0}" -eq 0 ]; then
	echo "ok - $name"
	# Others are the kernel's business, but show the first for whoever looks.
	[ "$total" -gt 0 ] && head -n 12 $report | sed 's/^/# kmemleak: /'
	exit 0
fi
echo "not ok - $name: $ours leaked objects"
sed 's/^/# /' /tmp/kmemleak-gupnw.txt
exit 1
