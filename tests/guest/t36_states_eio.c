// SPDX-License-Identifier: GPL-2.0
/*
 * t36_states_eio: a file on a disk that fails reads with EIO ($GUPNW_EIO,
 * QEMU blkdebug failing every block of "bad"; throttled to 20 x 4 KiB per
 * second, so the failing read is still in flight when the probe looks).
 * The first probe starts the read and says W; once that read has failed,
 * the pages are E; no probe hangs.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define P(n)		((size_t)(n) * gt_page)
#define NPAGES		4			/* the size of "bad" */
#define QUICK_NS	1000000000ULL		/* a probe that did not wait */
#define NO_HANG_NS	10000000000ULL		/* a probe that did not hang */

static struct gupnw *g;

/* One timed probe; returns its duration in ns, ret/err/states filled. */
static uint64_t timed_probe(const char *p, unsigned int flags,
			    unsigned char *st, int *ret, int *err)
{
	uint64_t t0 = gt_now_ns();

	memset(st, 0, NPAGES);
	*ret = gupnw_probe(g, p, P(NPAGES), flags, st, NULL);
	*err = errno;
	return gt_now_ns() - t0;
}

static void report(int ret, int err, const unsigned char *st, uint64_t ns)
{
	gt_diag("ret %d (%s), states %s, %.1f ms", ret,
		ret ? gt_errname(err) : "-", gt_states_str(st, NPAGES),
		gt_ms(ns));
}

static void case_failing_page(void)
{
	const char *dir = gt_env("GUPNW_EIO", "/mnt/eio");
	char bad[512], good[512], c;
	unsigned char st[NPAGES];
	int fd, ret, err;
	uint64_t ns;
	ssize_t n;
	char *p;

	g = gupnw_open();
	if (!g)
		gt_bail("eio: gupnw_open: %s", gt_errname(errno));
	snprintf(bad, sizeof(bad), "%s/bad", dir);
	snprintf(good, sizeof(good), "%s/good", dir);
	fd = open(bad, O_RDONLY);
	if (fd < 0) {
		gt_skip("no $GUPNW_EIO/bad (EIO disk)",
			"eio: page of a failing disk is W, then E");
		return;
	}
	p = mmap(NULL, P(NPAGES), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("eio: mmap %s: %s", bad, gt_errname(errno));
	if (gt_drain_throttle(good) < 0)
		gt_diag("could not drain the EIO disk's throttle");

	ns = timed_probe(p, 0, st, &ret, &err);
	if (!gt_ok(!ret && !memcmp(st, "WWWW", NPAGES),
		   "eio: page of a failing disk, never read, is W"))
		report(ret, err, st, ns);
	if (!gt_ok(ns < QUICK_NS,
		   "eio: the probe of a never-read failing page returned at once (< 1 s)"))
		report(ret, err, st, ns);

	/* read() waits for the failed read (and tries once more itself) */
	n = pread(fd, &c, 1, 0);
	if (!gt_ok(n < 0 && errno == EIO,
		   "eio: read() of the page fails with EIO (the disk fails it)"))
		gt_diag("pread returned %zd (%s)", n,
			n < 0 ? gt_errname(errno) : "-");

	ns = timed_probe(p, 0, st, &ret, &err);
	if (!gt_ok(!ret && !memcmp(st, "EEEE", NPAGES),
		   "eio: page whose read failed is E"))
		report(ret, err, st, ns);
	if (!gt_ok(ns < NO_HANG_NS, "eio: the probe of a page whose read failed returned (< 10 s)"))
		report(ret, err, st, ns);
	gt_diag("probe of the failed pages took %.1f ms", gt_ms(ns));

	ns = timed_probe(p, GUPNW_WAIT, st, &ret, &err);
	if (!gt_ok(!ret && !memcmp(st, "EEEE", NPAGES) && ns < NO_HANG_NS,
		   "eio: page whose read failed is E in WAIT, without hanging"))
		report(ret, err, st, ns);
	ns = timed_probe(p, GUPNW_NOFAULT, st, &ret, &err);
	gt_diag("NOFAULT of the failed pages: ret %d, states %s", ret,
		gt_states_str(st, NPAGES));

	munmap(p, P(NPAGES));
	close(fd);
	gupnw_close(g);
}

static const struct gt_case cases[] = {
	GT_CASE("failing-page", case_failing_page),
};

GT_FILE(cases);
