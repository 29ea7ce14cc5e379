#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Turn one guest's serial log into TAP for the host: the guest's TAP and comment lines,
# labelled with the kernel line ("ok - [6.12] name"), plus failures the guest cannot
# report itself: a test that exited non-zero without a "not ok", a guest that never
# reached its end marker (panic, hang), and each kind of kernel splat in the log.
# One exception: between the kernel-log markers "gupnw-fault-injection: begin" and
# "...: end" (t60_fault_injection writes them to /dev/kmsg), the kernel's report of an
# allocation that failed ("page allocation failure:" or "vmalloc error:", then a stack
# dump up to "</TASK>") is what injecting failures is meant to cause, not a splat.
#   scan-log.sh LABEL LOG
set -eu
vm_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

label=${1:?usage: scan-log.sh LABEL LOG}
log=${2:?usage: scan-log.sh LABEL LOG}

vm_strip <"$log" | awk -v L="[$label] " '
BEGIN {
	# Kinds of splat, each reported once, with the first line that shows it.
	nk = split("BUG:|WARNING:|Oops|refcount_t|lockdep|kernel BUG|general protection fault|Call Trace|Kernel panic|soft lockup|hung task|RCU stall", kind, "|")
	re["BUG:"] = "BUG:"
	re["WARNING:"] = "WARNING:"
	re["Oops"] = "Oops"
	re["refcount_t"] = "refcount_t"
	re["lockdep"] = "lockdep|possible recursive locking|circular locking|inconsistent lock state|possible irq lock inversion|suspicious RCU usage"
	re["kernel BUG"] = "kernel BUG"
	re["general protection fault"] = "general protection fault"
	re["Call Trace"] = "Call Trace"
	re["Kernel panic"] = "Kernel panic"
	re["soft lockup"] = "soft lockup|hard LOCKUP"
	re["hung task"] = "blocked for more than [0-9]+ seconds"
	re["RCU stall"] = "rcu_(sched|preempt)? ?detected stalls|self-detected stall"
}
# Kernel messages carry a printk timestamp; test output does not, so a test that
# prints the word WARNING: is not a splat.
/\[ *[0-9]+\.[0-9]+\] / {
	if ($0 ~ /gupnw-fault-injection: begin/)
		injecting = 1
	else if ($0 ~ /gupnw-fault-injection: end/)
		injecting = 0
	if (injecting && $0 ~ /page allocation failure:|vmalloc error:/) {
		in_report = 1
		injected_reports++
	}
	if (in_report) {
		if ($0 ~ /<\/TASK>/)
			in_report = 0
		next
	}
	# The boot banner of a lockdep kernel (the debug kernel) is not a lockdep report.
	if ($0 ~ /RCU lockdep checking is enabled/)
		next
	for (i = 1; i <= nk; i++)
		if (!(kind[i] in seen) && $0 ~ re[kind[i]])
			seen[kind[i]] = substr($0, 1, 200)
}
/GUPNW-TEST-BEGIN / {
	test = $NF; failed = 0; results = 0; plan = -1; counted = 0
	for (k = 0; k < 3; k++)
		fr[k] = fc[k] = fl[k] = 0
	next
}
/GUPNW-TEST-END / {
	n = split($0, f, " ")
	rc = f[n - 1]
	if (rc != 0 && !failed) {
		print "not ok - " L f[n - 2] ": exit status " rc
		result(1)
	# A test that prints a plan (gupnw_test.c, tap.shlib) must keep to it: fewer
	# results mean some were lost (a crash between two lines).
	} else if (plan >= 0 && plan != results) {
		print "not ok - " L f[n - 2] ": planned " plan " results, printed " results
		result(1)
	}
	# Its checks: the C harness counts them ("# checks: ..."); a file that
	# died before, by its "# ok" lines; a shell test, by its results.
	for (k = 0; k < 3; k++) {
		c = counted ? fc[k] : (fl[0] + fl[1] + fl[2]) ? fl[k] : fr[k]
		checks[k] += c
		fck[k] = c
	}
	print "# " L f[n - 2] ": checks: " fck[0] + 0 " passed, " fck[1] + 0 " failed, " fck[2] + 0 " skipped"
	test = ""
	next
}
# The C harness: the file'"'"'s check count, and its checks under each case.
/^# checks: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ && test != "" {
	split($0, w, " ")
	fc[0] = w[3] + 0; fc[1] = w[5] + 0; fc[2] = w[7] + 0
	counted = 1
	next
}
/^# (not )?ok [0-9]+ / && test != "" {
	fl[$0 ~ /^# not ok/ ? 1 : $0 ~ /# *[Ss][Kk][Ii][Pp]/ ? 2 : 0]++
}
# The plan: first (the C harness) or last (tap.shlib, a C file that skips as a whole).
/^1\.\.[0-9]+$/ && test != "" { plan = substr($0, 4) + 0; next }
/GUPNW-DMESG-BEGIN/ { in_dmesg = 1; next }
/GUPNW-DMESG-END/ { in_dmesg = 0; next }
/GUPNW-GUEST-END/ { ended = 1; next }
in_dmesg { next }
/^(not )?ok( |$)/ {
	s = $0
	notok = sub(/^not ok/, "", s)
	if (!notok)
		sub(/^ok/, "", s)
	sub(/^ [0-9]+/, "", s)
	sub(/^ -/, "", s)
	sub(/^ /, "", s)
	print (notok ? "not ok - " : "ok - ") L s
	rk = notok ? 1 : s ~ /# *[Ss][Kk][Ii][Pp]/ ? 2 : 0
	printed[rk]++
	# the numbered results of a test; the rest (its time limit) are checks
	if (test != "" && $0 ~ /^(not )?ok [0-9]/)
		fr[rk]++
	else
		checks[rk]++
	if (notok)
		failed = 1
	results++
	next
}
/^#/ { s = $0; sub(/^# ?/, "", s); print "# " L s; next }
END {
	if (injected_reports)
		print "# " L injected_reports " allocation-failure reports during fault injection (expected, not splats)"
	if (test != "") {
		print "not ok - " L test ": did not finish (guest died or hung during it)"
		result(1)
		for (k = 0; k < 3; k++)
			checks[k] += (fl[0] + fl[1] + fl[2]) ? fl[k] : fr[k]
	}
	print (ended ? "ok - " : "not ok - ") L "guest ran to its end marker"
	result(!ended)
	clean = 1
	for (i = 1; i <= nk; i++)
		if (kind[i] in seen) {
			print "not ok - " L "kernel log has no \"" kind[i] "\": " seen[kind[i]]
			result(1)
			clean = 0
		}
	if (clean)
		print "ok - " L "kernel log has no BUG, WARNING, Oops, lockdep or other splat"
	if (clean)
		result(0)
	# What run-check.sh adds up: the checks behind these results (a C case is
	# one result of many checks; any other result is one check).
	print "# " L "checks: " checks[0] + 0 " passed, " checks[1] + 0 " failed, " checks[2] + 0 " skipped (results: " printed[0] + 0 " passed, " printed[1] + 0 " failed, " printed[2] + 0 " skipped)"
}
# A result of this script: one check too.
function result(bad) { printed[bad]++; checks[bad]++ }'
