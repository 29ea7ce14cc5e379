// SPDX-License-Identifier: GPL-2.0
/*
 * t15_extents: GUPNW_PROBE_EXTENTS and gupnw_probe_extents().  Runs agree
 * page for page with the byte form; adjacent runs of one state are merged
 * (also across the module's internal holds); a full array stops the walk
 * with success and a resumable 'done'; a 1 TiB reservation with a few
 * thousand pages mapped is answered in a few thousand runs; the error paths
 * of the new fields.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NPAGES	3000		/* crosses the module's 2048-page holds */
#define MAXEXT	4096

static struct gupnw *g;
static int dev;

/* Expand runs into one byte per page; -1 if they do not tile the range. */
static int expand(const struct gupnw_extent *e, size_t n, uintptr_t start,
		  size_t npages, unsigned char *out)
{
	uintptr_t at = start;
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].start != at || !e[i].pages ||
		    (at - start) / gt_page + e[i].pages > npages)
			return -1;
		if (i && e[i - 1].state == e[i].state)
			return -1;		/* not merged */
		memset(out + (at - start) / gt_page, (int)e[i].state,
		       e[i].pages);
		at += e[i].pages * gt_page;
	}
	return at == start + npages * gt_page ? 0 : -1;
}

/* A range of every kind: R, F/N, '.', E in irregular runs. */
static char *make_mixed(void)
{
	char *p = mmap(NULL, NPAGES * gt_page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	madvise(p, NPAGES * gt_page, MADV_NOHUGEPAGE);
	for (i = 0; i < NPAGES; i++)
		if ((i / 7) % 3 == 0 || (i > 1000 && i < 1100))
			p[i * gt_page] = 1;
	munmap(p + 500 * gt_page, 20 * gt_page);
	mprotect(p + 1500 * gt_page, 600 * gt_page, PROT_NONE);
	return p;
}

static void test_matches_bytes(void)
{
	static unsigned char bytes[NPAGES], from_runs[NPAGES];
	static struct gupnw_extent ext[MAXEXT];
	struct gupnw_counts cb, ce;
	char *p = make_mixed();
	ssize_t n;

	if (gupnw_probe(g, p, NPAGES * gt_page, GUPNW_NOFAULT, bytes, &cb))
		gt_bail("byte probe: %s", gt_errname(errno));
	n = gupnw_probe_extents(g, p, NPAGES * gt_page, GUPNW_NOFAULT, ext,
				MAXEXT, &ce);
	if (!gt_ok(n > 0 && expand(ext, n, (uintptr_t)p, NPAGES,
				   from_runs) == 0 &&
		   !memcmp(bytes, from_runs, NPAGES),
		   "extents: NOFAULT runs tile the range, merged, equal to the byte form"))
		gt_diag("n %zd, bytes %s", n, gt_states_str(bytes, NPAGES));
	gt_ok(!memcmp(&cb, &ce, sizeof(cb)),
	      "extents: counts equal those of the byte form");

	/* NOWAIT: the first probe faults; compare a second, settled pair */
	n = gupnw_probe_extents(g, p, NPAGES * gt_page, 0, ext, MAXEXT, &ce);
	gt_ok(n > 0 && ce.faulted > 0, "extents: a NOWAIT probe faults (F runs)");
	gupnw_probe(g, p, NPAGES * gt_page, 0, bytes, &cb);
	n = gupnw_probe_extents(g, p, NPAGES * gt_page, 0, ext, MAXEXT, &ce);
	if (!gt_ok(n > 0 && expand(ext, n, (uintptr_t)p, NPAGES,
				   from_runs) == 0 &&
		   !memcmp(bytes, from_runs, NPAGES) &&
		   !memcmp(&cb, &ce, sizeof(cb)),
		   "extents: settled NOWAIT runs equal the byte form"))
		gt_diag("n %zd, bytes %s", n, gt_states_str(bytes, NPAGES));
	munmap(p, NPAGES * gt_page);
}

/*
 * Ranges of 1 to 80 pages at the mixed range's edges (the hole at 500, the
 * PROT_NONE run at 1500): the module sizes its staging to the range, so a
 * small range with a new run at every page, over several holds (WAIT
 * decides 16 pages a hold), must still be answered whole and the same as
 * the byte form.
 */
static void test_small_ranges(void)
{
	static const size_t from[] = { 0, 490, 1495, 2095 };
	unsigned char bytes[80], from_runs[80];
	struct gupnw_extent ext[81];
	char *p = make_mixed();
	size_t i, n, bad = 0, bad_wait = 0;
	ssize_t got;

	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		for (n = 1; n <= 80; n++) {
			char *a = p + from[i] * gt_page;

			if (gupnw_probe(g, a, n * gt_page, GUPNW_NOFAULT,
					bytes, NULL))
				gt_bail("byte probe: %s", gt_errname(errno));
			got = gupnw_probe_extents(g, a, n * gt_page,
						  GUPNW_NOFAULT, ext, 81, NULL);
			if (got <= 0 || expand(ext, got, (uintptr_t)a, n,
					       from_runs) ||
			    memcmp(bytes, from_runs, n)) {
				if (!bad++)
					gt_diag("NOFAULT at page %zu, %zu pages: %zd runs, bytes %s",
						from[i], n, got,
						gt_states_str(bytes, n));
			}
		}
	}
	gt_ok(!bad, "extents: every range of 1-80 pages equals the byte form (%zu differ)",
	      bad);

	/* WAIT: 16 pages a hold, the last run carried over each flush */
	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		for (n = 80; n >= 1; n--) {
			char *a = p + from[i] * gt_page;

			got = gupnw_probe_extents(g, a, n * gt_page, GUPNW_WAIT,
						  ext, 81, NULL);
			if (got <= 0 ||
			    expand(ext, got, (uintptr_t)a, n, from_runs))
				bad_wait++;
		}
	}
	gt_ok(!bad_wait, "extents: WAIT over 1-80 pages of mixed runs tiles the range (%zu do not)",
	      bad_wait);
	munmap(p, NPAGES * gt_page);
}

/* A one-run range stays one run across the module's holds. */
static void test_merge_across_holds(void)
{
	struct gupnw_extent ext[4];
	size_t n = 5000;
	char *p = mmap(NULL, n * gt_page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ssize_t got;

	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	memset(p, 1, n * gt_page);
	got = gupnw_probe_extents(g, p, n * gt_page, 0, ext, 4, NULL);
	if (!gt_ok(got == 1 && ext[0].pages == n && ext[0].state == 'R',
		   "extents: 5000 resident pages are one run"))
		gt_diag("got %zd, first run %llu pages '%c'", got,
			got > 0 ? (unsigned long long)ext[0].pages : 0ULL,
			got > 0 ? (int)ext[0].state : '?');
	munmap(p, n * gt_page);
}

/* A full array: success, fewer pages done, and resuming gives the rest. */
static void test_resume(void)
{
	static unsigned char bytes[NPAGES], from_runs[NPAGES];
	struct gupnw_extent ext[3], all[MAXEXT];
	char *p = make_mixed();
	uintptr_t at = (uintptr_t)p, end = at + NPAGES * gt_page;
	size_t total = 0, calls = 0, i;
	int ok = 1;

	gupnw_probe(g, p, NPAGES * gt_page, GUPNW_NOFAULT, bytes, NULL);
	while (at < end && ok) {
		ssize_t n = gupnw_probe_extents(g, (void *)at, end - at,
						GUPNW_NOFAULT, ext, 3, NULL);

		calls++;
		if (n <= 0 || n > 3) {
			ok = 0;
			break;
		}
		for (i = 0; i < (size_t)n && total < MAXEXT; i++) {
			/* a run cut by the array end continues next call */
			if (total && all[total - 1].state == ext[i].state &&
			    all[total - 1].start + all[total - 1].pages *
			    gt_page == ext[i].start)
				all[total - 1].pages += ext[i].pages;
			else
				all[total++] = ext[i];
		}
		at = ext[n - 1].start + ext[n - 1].pages * gt_page;
	}
	if (!gt_ok(ok && calls > 1 &&
		   expand(all, total, (uintptr_t)p, NPAGES, from_runs) == 0 &&
		   !memcmp(bytes, from_runs, NPAGES),
		   "extents: a 3-run array resumes to the whole range"))
		gt_diag("ok %d, calls %zu, runs %zu", ok, calls, total);
	munmap(p, NPAGES * gt_page);
}

static void test_sparse_tib(void)
{
	const size_t len = 1ULL << 40, nmapped = 2000;
	static struct gupnw_extent ext[3 * 2000];
	struct gupnw_counts c;
	uint64_t t0, t1;
	ssize_t n;
	size_t i;
	char *p;

	p = mmap(NULL, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		gt_skip("no 1 TiB of address space", "extents: sparse 1 TiB");
		return;
	}
	for (i = 0; i < nmapped; i++) {
		char *q = p + i * ((len / nmapped) & ~(gt_page - 1));

		if (mmap(q, gt_page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED)
			gt_bail("mmap MAP_FIXED: %s", gt_errname(errno));
		if (i % 2)
			*q = 1;
	}
	t0 = gt_now_ns();
	n = gupnw_probe_extents(g, p, len, GUPNW_NOFAULT, ext,
				sizeof(ext) / sizeof(ext[0]), &c);
	t1 = gt_now_ns();
	gt_diag("1 TiB NOFAULT as runs: %zd runs in %.2f ms", n,
		gt_ms(t1 - t0));
	gt_ok(n == 2 * (ssize_t)nmapped && c.resident == nmapped / 2 &&
	      c.notpresent == nmapped / 2 &&
	      c.error == len / gt_page - nmapped,
	      "extents: 1 TiB reservation with 2000 pages is 4000 runs, counts exact");
	munmap(p, len);
}

static void test_errors(void)
{
	struct gupnw_probe_extent e[2];
	struct gupnw_probe_args a;
	char *p = mmap(NULL, gt_page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	gt_args_init(&a, p, gt_page, GUPNW_PROBE_EXTENTS, NULL);
	a.nr_extents = 2;
	gt_err(gt_ioctl(dev, GUPNW_IOC_PROBE, &a), EINVAL,
	       "extents: no array (states 0) is EINVAL");
	gt_args_init(&a, p, gt_page, GUPNW_PROBE_EXTENTS, e);
	gt_err(gt_ioctl(dev, GUPNW_IOC_PROBE, &a), EINVAL,
	       "extents: nr_extents 0 is EINVAL");
	gt_args_init(&a, p, gt_page, GUPNW_PROBE_EXTENTS, (void *)8);
	a.nr_extents = 2;
	gt_err(gt_ioctl(dev, GUPNW_IOC_PROBE, &a), EFAULT,
	       "extents: a bad array pointer is EFAULT");
	gt_args_init(&a, p, gt_page, GUPNW_PROBE_EXTENTS, (void *)p);
	a.nr_extents = 2;
	gt_err(gt_ioctl(dev, GUPNW_IOC_PROBE, &a), EFAULT,
	       "extents: a read-only array is EFAULT");
	gt_args_init(&a, p, gt_page, GUPNW_PROBE_EXTENTS, e);
	a.nr_extents = 2;
	gt_err(gt_ioctl(dev, GUPNW_IOC_PROBE, &a), 0,
	       "extents: a valid call succeeds");
	/* the failed calls above already faulted the page in */
	gt_ok(a.nr_extents == 1 && a.done == 1 && e[0].reserved == 0 &&
	      e[0].nr_pages == 1 && (e[0].state == 'F' || e[0].state == 'R'),
	      "extents: one present run, reserved 0");
	errno = 0;
	gt_ok(gupnw_probe_extents(g, p, gt_page, 0, NULL, 4, NULL) == -1 &&
	      errno == EINVAL, "extents: library refuses a NULL array");
	munmap(p, gt_page);
}

static void case_feature(void)
{
	struct gupnw_module_info mi;

	gt_ok(!gupnw_module_info(g, &mi) &&
	      (mi.features & GUPNW_FEATURE_EXTENTS),
	      "extents: the module reports GUPNW_FEATURE_EXTENTS");
}

static const struct gt_case cases[] = {
	GT_CASE("feature", case_feature),
	GT_CASE("matches-bytes", test_matches_bytes),
	GT_CASE("small-ranges", test_small_ranges),
	GT_CASE("merge-across-holds", test_merge_across_holds),
	GT_CASE("resume", test_resume),
	GT_CASE("sparse-tib", test_sparse_tib),
	GT_CASE("errors", test_errors),
};

GT_FILE(cases, .lib = &g, .dev = &dev);
