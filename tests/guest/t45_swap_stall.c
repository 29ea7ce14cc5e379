// SPDX-License-Identifier: GPL-2.0
/*
 * t45_swap_stall: where a probe of a swapped-out page sleeps, if it does.
 *
 * One page of swapped-out (evicted) private anonymous memory and one of a
 * swapped-out memfd are probed on the read-throttled swap disk with the
 * tracefs sched_switch event of the probing thread recorded with its
 * kernel stack (options/stacktrace): every place the probe goes off the
 * CPU is printed as a diagnostic, with the probe's latency.  Each probe is
 * compared with one blocking swap-in measured in the same run: a probe
 * that waited for the disk would take about as long; and, traced, a probe
 * must never go to sleep (being preempted is fine).  Without tracefs the
 * latency checks still run.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"
#include "gupnw_test_trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define P(n)		((size_t)(n) * gt_page)
#define NPAGES		64
#define SWITCH		"sched/sched_switch"

static struct gupnw *g;
static char memcg[256];
static int tracing;
static int switch_mine;	/* this file turned the event on */
static int in_memcg;
static uint64_t t_ref;		/* one blocking swap-in, ns */
/* A probe that waited for one read takes about t_ref; see t16. */
static unsigned int margin = 10;

static void trace_setup(void)
{
	char buf[64];

	if (!gt_trace_has_event(SWITCH)) {
		gt_diag("no tracefs sched_switch event: latencies only");
		return;
	}
	snprintf(buf, sizeof(buf), "prev_pid == %ld", (long)syscall(SYS_gettid));
	tracing = !gt_trace_write("tracing_on", "0") &&
		  !gt_trace_write("trace", "") &&
		  !gt_trace_write("buffer_size_kb", "4096") &&
		  !gt_trace_event_on(SWITCH, &switch_mine) &&
		  !gt_trace_filter(SWITCH, buf) &&
		  !gt_trace_write("options/stacktrace", "1");
	if (!tracing)
		gt_diag("tracefs set-up failed: latencies only");
}

/* Print the recorded switches; returns how many were sleeps (D, S). */
static int trace_dump(const char *what)
{
	static char buf[1 << 16];
	char *line, *save;
	int sleeps = 0;
	long n;

	if (!tracing)
		return 0;
	gt_trace_write("tracing_on", "0");
	n = gt_trace_read("trace", buf, sizeof(buf));
	if (n <= 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (strstr(line, "prev_state=D") || strstr(line, "prev_state=S"))
			sleeps++;
		gt_diag("  %s: %s", what, line);
	}
	return sleeps;
}

static void trace_start(void)
{
	if (tracing) {
		gt_trace_write("trace", "");
		gt_trace_write("tracing_on", "1");
	}
}

static char *swapped(int anon, int *fdp)
{
	return gt_map_swapped(NPAGES, anon, memcg, 45, fdp);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * ROUNDS probes of one page each, far enough apart that the swap
 * read-ahead of one (8 pages) does not bring in the next: every probe must
 * leave the page 'W', never sleep (no switch out in state D or S), and the
 * median must beat one blocking swap-in by the margin.
 */
#define ROUNDS	5
static void test_probe(int anon)
{
	const char *kind = anon ? "swapped-out anon" : "swapped-out shmem";
	uint64_t t[ROUNDS], t0;
	int fd = -1, i, all_w = 1, sleeps = 0;
	struct gupnw_counts c;
	unsigned char st[1];
	char *p = swapped(anon, &fd);

	if (!p) {
		gt_skip("could not swap the pages out", "stall: %s", kind);
		return;
	}
	gt_drain_device("/dev/vdb");
	for (i = 0; i < ROUNDS; i++) {
		char *page = p + P(4 + 12 * i);
		int ret;

		trace_start();
		t0 = gt_now_ns();
		ret = gupnw_probe(g, page, gt_page, 0, st, &c);
		t[i] = gt_now_ns() - t0;
		sleeps += trace_dump(kind);
		gt_diag("%s: probe of one page %.3f ms, state %c", kind,
			gt_ms(t[i]), ret ? '?' : st[0]);
		if (ret || st[0] != 'W')
			all_w = 0;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_u64);
	gt_ok(all_w, "stall: a %s page is W", kind);
	if (tracing)
		gt_ok(!sleeps, "stall: a probe of a %s page never sleeps (%d sleeps traced)",
		      kind, sleeps);
	else
		gt_skip("no tracefs", "stall: a probe of a %s page never sleeps",
			kind);
	gt_ok(t[ROUNDS / 2] * margin < t_ref,
	      "stall: a probe of a %s page is over %ux faster than one blocking swap-in (median %.3f ms, max %.3f ms vs %.1f ms)",
	      kind, margin, gt_ms(t[ROUNDS / 2]), gt_ms(t[ROUNDS - 1]),
	      gt_ms(t_ref));
	munmap(p, P(NPAGES));
	if (fd >= 0)
		close(fd);
}

/*
 * For comparison, the file case of t16_nowait_cases: 120 scattered cold
 * pages of the throttled disk in one probe, traced the same way (the probe
 * starts their reads itself).  Reported, not asserted: that is t16's.
 */
static void trace_file(void)
{
	const char *path = gt_env("GUPNW_SLOW", "/mnt/slow");
	const size_t n = 120, stride = 16;
	char file[256];
	unsigned char *st;
	struct gupnw_counts c;
	uint64_t t0, t;
	int f, ret, sleeps;
	char *p;

	snprintf(file, sizeof(file), "%s/cold-64m", path);
	f = open(file, O_RDONLY);
	if (f < 0 || gt_make_cold(f)) {
		if (f >= 0)
			close(f);
		gt_skip("no cold file", "swap stall: file case: %s", file);
		return;
	}
	p = mmap(NULL, P(n * stride), PROT_READ, MAP_PRIVATE, f, 16 << 20);
	st = calloc(n * stride, 1);
	if (p == MAP_FAILED || !st)
		gt_bail("mmap/calloc");
	gt_drain_throttle(file);
	trace_start();
	t0 = gt_now_ns();
	ret = gupnw_probe(g, p, P(n * stride), 0, st, &c);
	t = gt_now_ns() - t0;
	sleeps = trace_dump("file");
	gt_diag("file case: 120 scattered cold pages in one probe: %.3f ms, ret %d, %d sleeps traced, %llu reads started",
		gt_ms(t), ret, sleeps, (unsigned long long)c.io_started);
	/* the figures above are the comparison; what must hold on any line: */
	gt_ok(ret == 0 && c.io_started > 0,
	      "swap stall: file case: a probe of 120 cold file pages succeeds and starts their reads");
	munmap(p, P(n * stride));
	free(st);
	close(f);
}

/* One blocking swap-in of an evicted anonymous page, as the reference. */
static int measure_ref(void)
{
	int fd = -1;
	char *p = swapped(1, &fd);
	volatile char *v;
	uint64_t t0;

	if (!p)
		return -1;
	gt_drain_device("/dev/vdb");
	v = p + P(NPAGES / 2);
	t0 = gt_now_ns();
	(void)*v;
	t_ref = gt_now_ns() - t0;
	gt_diag("one blocking swap-in: %.1f ms", gt_ms(t_ref));
	munmap(p, P(NPAGES));
	return 0;
}

/*
 * What each case needs, in its own process: the reference swap-in and the
 * trace of this thread.  Returns 0 when the case can go on; else it
 * printed its SKIP line.
 */
static int stall_setup(void)
{
	/*
	 * memory.reclaim swaps out whatever of the group's memory is idle,
	 * this process's own pages too: a page the parent wrote after it
	 * entered the group and the case only reads (a static, a heap page)
	 * comes back with a blocking swap-in fault in user space, inside the
	 * timed and traced probe call.  Locked, only the test pages mapped
	 * later are reclaimed.
	 */
	if (mlockall(MCL_CURRENT))
		gt_diag("mlockall: %s: the case's own pages may be swapped out",
			gt_errname(errno));
	if (!in_memcg) {
		gt_skip("no memory cgroup", "stall: swapped pages");
		return -1;
	}
	if (measure_ref()) {
		gt_skip("could not swap a page out", "stall: swapped pages");
		return -1;
	}
	trace_setup();
	return 0;
}

static void trace_teardown(void)
{
	if (tracing) {
		gt_trace_event_off(SWITCH, switch_mine);
		gt_trace_write("options/stacktrace", "0");
	}
}

static void case_anon(void)
{
	if (stall_setup())
		return;
	test_probe(1);
	trace_teardown();
}

static void case_shmem(void)
{
	if (stall_setup())
		return;
	test_probe(0);
	trace_teardown();
}

/* A report only (no check): needs neither swap nor the reference. */
static void case_file_for_comparison(void)
{
	trace_setup();
	trace_file();
	trace_teardown();
}

static const struct gt_case cases[] = {
	GT_CASE("anon", case_anon),
	GT_CASE("shmem", case_shmem),
	GT_CASE("file-for-comparison", case_file_for_comparison),
};

static int before(void)
{
	if (getenv("GUPNW_DEBUG"))
		margin = 2;
	/*
	 * The cases inherit the group, as when the file was one process.  A
	 * case that entered it itself (t30's way) could not evict the last
	 * page of its anon range on 6.12: most likely the variables it copies
	 * on write after the fork, charged there, reclaimed and read back with
	 * the swap read-ahead, bring test pages back into the swap cache.
	 */
	in_memcg = !gt_memcg_enter("gupnw-t45", memcg, sizeof(memcg));
	return 0;
}

static int after(void)
{
	if (in_memcg)
		gt_memcg_leave(memcg);
	return 0;
}

GT_FILE(cases, .lib = &g, .before = before, .after = after);
