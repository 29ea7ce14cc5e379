// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw_test_trace.h - tracefs for the in-guest tests that record where a
 * probe goes off the CPU (t45) or what it queues (t44).
 *
 * The guests boot with the trace events these tests use already on
 * (tests/vm/run.sh passes trace_event=, which the kernel applies before the
 * second CPU starts), each with a filter that records nothing and tracing
 * off (tests/vm/guest-init.sh): turning an event on or off at run time
 * patches kernel code, such as the tracepoint in __schedule(), while the
 * other vCPU may be executing it, and QEMU 7.2's multi-threaded TCG can go
 * on running the breakpoint of such a patch after it is gone (an "Oops:
 * int3"; docs/testing.md).  A filter changes no code.  These helpers turn
 * an event on only where the boot did not, and off only what they turned
 * on; an event the boot turned on is quieted by its filter instead.
 */
#ifndef GUPNW_TEST_TRACE_H
#define GUPNW_TEST_TRACE_H

#include <stddef.h>

/*
 * Mount tracefs at /sys/kernel/tracing if it is not there; 1 if the event
 * ("sched/sched_switch") exists, else 0.
 */
int gt_trace_has_event(const char *event);
/* Write s to a tracefs file (O_TRUNC: "trace" is emptied).  0 or -errno. */
int gt_trace_write(const char *file, const char *s);
/* The filter of an event that is on but must record nothing. */
#define GT_TRACE_QUIET	"common_pid < 0"

/*
 * Turn the event on, with no filter, unless it is on already; *mine says
 * whether this call turned it on, for gt_trace_event_off().  0 or -errno.
 */
int gt_trace_event_on(const char *event, int *mine);
/* Turn it off if mine, else quiet it with GT_TRACE_QUIET. */
void gt_trace_event_off(const char *event, int mine);
/* Set the event's filter ("prev_pid == 42", "0" to clear).  0 or -errno. */
int gt_trace_filter(const char *event, const char *filter);
/*
 * Read a tracefs file ("trace": what was recorded), NUL-terminated; bytes
 * or -errno.
 */
long gt_trace_read(const char *file, char *buf, size_t size);

#endif
