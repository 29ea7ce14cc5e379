// SPDX-License-Identifier: GPL-2.0
/*
 * t10_chunks_and_signals: long ranges.  A 1 GiB range is classified exactly
 * across every chunk boundary; counts-only probes of 1 GiB work; a probe of
 * 64 GiB dies promptly on SIGKILL; a probe whose states buffer turns
 * unwritable part-way fails with EFAULT and reports its progress in done.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIB	(1ULL << 30)

static struct gupnw *g;
static int dev;

static void test_scattered_in_prot_none(void)
{
	const size_t len = GIB, n = len / gt_page, nmapped = 16;
	char *pattern = malloc(n + 1);
	size_t i, idx;
	char *p;

	if (!pattern)
		gt_bail("malloc");
	p = mmap(NULL, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap 1 GiB PROT_NONE: %s", gt_errname(errno));
	memset(pattern, 'E', n);
	pattern[n] = '\0';
	for (i = 0; i < nmapped; i++) {
		/* spread over the range, off any chunk-size alignment */
		idx = i * (n / nmapped) + (i * 131) % (n / nmapped);
		if (i == nmapped - 1)
			idx = n - 1;		/* the very last page */
		if (mmap(p + idx * gt_page, gt_page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED)
			gt_bail("mmap MAP_FIXED: %s", gt_errname(errno));
		p[idx * gt_page] = 1;
		pattern[idx] = 'R';
	}
	gt_expect_probe(g, 0, p, n, 0, pattern, NULL,
			"chunks: 16 touched pages in 1 GiB of PROT_NONE: exactly 16 R, rest E");
	gt_expect_probe(g, 0, p, n, GUPNW_NOFAULT, pattern, NULL,
			"chunks: the same in NOFAULT");
	munmap(p, len);
	free(pattern);
}

static void test_counts_only(void)
{
	const size_t len = GIB, n = len / gt_page;
	struct gupnw_counts c;
	uint64_t t0;
	int ret;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap 1 GiB: %s", gt_errname(errno));
	madvise(p, len, MADV_NOHUGEPAGE);

	ret = gupnw_probe(g, p, len, GUPNW_NOFAULT, NULL, &c);
	if (!gt_ok(ret == 0 && c.notpresent == n &&
		   c.resident + c.faulted + c.retry + c.unmapped + c.error == 0,
		   "chunks: counts-only NOFAULT of untouched 1 GiB: all N"))
		gt_diag("ret %d (%s), counts %s", ret,
			ret ? gt_errname(errno) : "-", gt_counts_str(&c));

	p[0] = 1;
	p[len / 2 + 12345] = 1;
	p[len - 1] = 1;
	ret = gupnw_probe(g, p, len, GUPNW_NOFAULT, NULL, &c);
	if (!gt_ok(ret == 0 && c.resident == 3 && c.notpresent == n - 3,
		   "chunks: counts-only NOFAULT finds the 3 touched pages"))
		gt_diag("ret %d, counts %s", ret, gt_counts_str(&c));

	t0 = gt_now_ns();
	ret = gupnw_probe(g, p, len, 0, NULL, &c);
	t0 = gt_now_ns() - t0;
	if (!gt_ok(ret == 0 && c.resident == 3 && c.faulted == n - 3,
		   "chunks: counts-only NOWAIT of 1 GiB: 3 R, rest F"))
		gt_diag("ret %d (%s), counts %s", ret,
			ret ? gt_errname(errno) : "-", gt_counts_str(&c));
	gt_diag("NOWAIT of 1 GiB untouched anon: %.1f ms", gt_ms(t0));
	munmap(p, len);
}

/*
 * Prober: reports 'S' before the probe and 'D' + its duration after it.
 * Returns 1 if the child was killed while probing, 0 if the probe ended
 * first, -1 if the child could not be waited for within 30 s.
 */
static int kill_during_probe(uint64_t len, int with_states, double *die_ms,
			     double *probe_ms)
{
	struct { char tag; uint64_t ns; int ret, err; } msg;
	uint64_t t0, t_kill;
	int pr[2], status = 0;
	pid_t pid, w;

	if (pipe(pr))
		gt_bail("pipe");
	fflush(stdout);
	pid = fork();
	if (!pid) {
		unsigned char *st = NULL;
		char *p;

		close(pr[0]);
		p = mmap(NULL, len, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (with_states)
			st = mmap(NULL, len / gt_page, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				  -1, 0);
		if (p == MAP_FAILED || st == MAP_FAILED)
			_exit(2);
		memset(&msg, 0, sizeof(msg));
		msg.tag = 'S';
		gt_write_all(pr[1], &msg, sizeof(msg));
		t0 = gt_now_ns();
		msg.ret = gupnw_probe(g, p, len, GUPNW_NOFAULT, st, NULL);
		msg.err = errno;
		msg.ns = gt_now_ns() - t0;
		msg.tag = 'D';
		gt_write_all(pr[1], &msg, sizeof(msg));
		_exit(0);
	}
	close(pr[1]);
	*probe_ms = -1;
	if (gt_read_all(pr[0], &msg, sizeof(msg)) || msg.tag != 'S') {
		close(pr[0]);
		waitpid(pid, NULL, 0);
		gt_bail("signals: prober did not start");
	}
	gt_sleep_ms(100);
	t_kill = gt_now_ns();
	kill(pid, SIGKILL);
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (gt_now_ns() - t_kill > 30ULL * 1000000000ULL) {
			close(pr[0]);
			return -1;	/* still alive: leave it */
		}
		gt_sleep_ms(5);
	}
	*die_ms = gt_ms(gt_now_ns() - t_kill);
	if (!gt_read_all(pr[0], &msg, sizeof(msg)) && msg.tag == 'D') {
		*probe_ms = gt_ms(msg.ns);
		close(pr[0]);
		return 0;
	}
	close(pr[0]);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 1 : 0;
}

static void test_sigkill(void)
{
	double die_ms = -1, probe_ms = -1;
	int r;

	r = kill_during_probe(64 * GIB, 1, &die_ms, &probe_ms);
	if (r == 0) {
		gt_diag("NOFAULT of 64 GiB finished in %.1f ms, before the kill",
			probe_ms);
		/* too fast to catch: try a range 64x longer, counts only */
		r = kill_during_probe(4096 * GIB, 0, &die_ms, &probe_ms);
		if (r == 0) {
			gt_diag("NOFAULT of 4 TiB finished in %.1f ms", probe_ms);
			gt_skip("the probes finished within 100 ms",
				"signals: SIGKILL ends a long probe promptly");
			return;
		}
	}
	if (gt_ok(r == 1, "signals: SIGKILL ends a long NOFAULT probe (64 GiB, 16 MiB of states)"))
		gt_diag("the prober died %.1f ms after SIGKILL", die_ms);
	else
		gt_diag("the prober was still alive 30 s after SIGKILL");
}

static void test_progress(void)
{
	struct gupnw_info info = { .size = sizeof(info) };
	struct gupnw_probe_args a;
	size_t chunk, writable, n, i;
	unsigned char *st;
	long ret;
	char *p;

	chunk = gt_ioctl(dev, GUPNW_IOC_GET_INFO, &info) < 0 ?
		0 : info.max_chunk_pages;
	/* at least 2 pages and 2 whole chunks of states are writable */
	writable = 2 * gt_page;
	if (2 * chunk > writable)
		writable = (2 * chunk + gt_page - 1) / gt_page * gt_page;
	n = writable + gt_page;		/* the last page's worth cannot be written */
	st = mmap(NULL, writable + gt_page, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = mmap(NULL, n * gt_page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (st == MAP_FAILED || p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	mprotect(st + writable, gt_page, PROT_NONE);
	gt_diag("max_chunk_pages %zu, probing %zu pages into %zu writable bytes",
		chunk, n, writable);

	gt_args_init(&a, p, n * gt_page, GUPNW_PROBE_NOFAULT, st);
	a.done = ~0ULL;
	ret = gt_ioctl(dev, GUPNW_IOC_PROBE, &a);
	gt_err(ret, EFAULT, "progress: states buffer turning PROT_NONE mid-range is EFAULT");
	if (!gt_ok(a.done > 0 && a.done <= writable,
		   "progress: done reports the pages written (0 < done <= %zu)",
		   writable))
		gt_diag("done %llu", (unsigned long long)a.done);
	for (i = 0; i < a.done && i < writable; i++)
		if (st[i] != 'N')
			break;
	if (!gt_ok(a.done <= writable && i == a.done,
		   "progress: states[0..done) are valid (all N)"))
		gt_diag("states[%zu] = %#x", i, i < writable ? st[i] : 0);
	munmap(st, writable + gt_page);
	munmap(p, n * gt_page);
}

static const struct gt_case cases[] = {
	GT_CASE("scattered-in-prot-none", test_scattered_in_prot_none),
	GT_CASE("counts-only", test_counts_only),
	GT_CASE("sigkill", test_sigkill),
	GT_CASE("progress", test_progress),
};

GT_FILE(cases, .lib = &g, .dev = &dev);
