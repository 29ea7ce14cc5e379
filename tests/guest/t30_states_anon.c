// SPDX-License-Identifier: GPL-2.0
/*
 * t30_states_anon: the states of anonymous memory in each situation it can
 * be in - private (untouched, touched, swapped out and evicted, swapped out
 * but still in the swap cache), shared, mlocked, PROT_NONE, and a COW page
 * after fork probed for write in the child.
 *
 * Swap states are made with the recipe of docs/testing.md (a memory cgroup,
 * MADV_PAGEOUT, then memory.reclaim) and checked with mincore() and pagemap
 * before the probe, so a test cannot pass on a page that was never swapped.
 * The swap disk is throttled on reads (50 x 4 KiB per second): a swap-in
 * the probe starts is still in flight when the probe returns, and a probe
 * that waited for it would take seconds.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define P(n)		((size_t)(n) * gt_page)
#define SWAP_PAGES	256

static struct gupnw *g;
static char memcg[256];
static int in_memcg;

static char *map(size_t npages, int prot, int flags)
{
	return gt_map_anon(npages, prot, flags);
}

static char *pattern_of(char c, size_t n)
{
	static char buf[SWAP_PAGES + 1];

	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* The seed of each kind's page contents. */
struct fault_in {
	const struct gt_mem *mem;
	unsigned int seed;
};

static const struct fault_in private_anon = { &gt_mem_private_anon, 1 };
static const struct fault_in shared_anon = { &gt_mem_shared_anon, 4 };

/* Untouched, faulted in by a probe, touched: private and shared alike. */
static void test_fault_in(void)
{
	const struct fault_in *v = gt_variant->data;
	const char *kind = v->mem->name;
	char *p = v->mem->map(4, PROT_READ | PROT_WRITE);

	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "NNNN", NULL,
			"anon: untouched %s is N in NOFAULT", kind);
	gt_expect_probe(g, 0, p, 4, 0, "FFFF", NULL,
			"anon: untouched %s is F", kind);
	gt_expect_probe(g, 0, p, 4, 0, "RRRR", NULL,
			"anon: %s is R after the probe faulted it", kind);
	munmap(p, P(4));

	p = v->mem->map(4, PROT_READ | PROT_WRITE);
	gt_fill_pages(p, 4, v->seed);
	gt_expect_probe(g, 0, p, 4, 0, "RRRR", NULL,
			"anon: touched %s is R", kind);
	gt_expect_probe(g, 0, p, 4, GUPNW_WRITE, "RRRR", NULL,
			"anon: touched %s is R for WRITE", kind);
	munmap(p, P(4));
}

static const struct gt_variant anon_kinds[] = {
	{ "private", &private_anon },
	{ "shared", &shared_anon },
};

static void test_swapped_evicted(void)
{
	const char *name = "anon: swapped-out private anon (not in the swap cache) is W";
	char cluster[16] = "3";
	unsigned char st[SWAP_PAGES];
	char expect[SWAP_PAGES + 1];
	struct gupnw_counts c;
	uint64_t t0, t_probe;
	size_t i, mapped;
	long r, bad;
	int ret, all_w = 1;
	char *p;

	if (!in_memcg) {
		gt_skip("no memory cgroup", "%s", name);
		return;
	}
	/*
	 * The swap disk is rotational, so a swap-in anywhere in this process
	 * (its own stack and heap are in the group reclaim swaps out) reads
	 * ahead by swap slot and can pull these pages into the swap cache
	 * (6.12 mm/swap_state.c swap_cluster_readahead()): one slot per
	 * swap-in while this case runs.
	 */
	gt_read_file("/proc/sys/vm/page-cluster", cluster, sizeof(cluster));
	gt_write_file("/proc/sys/vm/page-cluster", "0");
	p = map(SWAP_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	gt_fill_pages(p, SWAP_PAGES, 2);
	if (gt_swap_out(p, P(SWAP_PAGES), memcg, 1, GT_SWAP_EVICTED)) {
		gt_skip("could not swap the pages out and evict them", "%s",
			name);
		munmap(p, P(SWAP_PAGES));
		gt_write_file("/proc/sys/vm/page-cluster", cluster);
		return;
	}
	gt_expect_probe(g, 0, p, SWAP_PAGES, GUPNW_NOFAULT,
			pattern_of('C', SWAP_PAGES), NULL,
			"anon: swapped-out private anon is C in NOFAULT");
	gt_ok(gt_resident(p, P(SWAP_PAGES)) == 0,
	      "anon: NOFAULT started no swap-in (mincore still 0)");

	gt_drain_device("/dev/vdb");
	memset(st, 0, sizeof(st));
	t0 = gt_now_ns();
	ret = gupnw_probe(g, p, P(SWAP_PAGES), 0, st, &c);
	t_probe = gt_now_ns() - t0;
	for (i = 0; i < SWAP_PAGES; i++)
		if (st[i] != 'W')
			all_w = 0;
	if (!gt_ok(ret == 0 && all_w && gt_counts_tally_ok(&c, st, SWAP_PAGES),
		   "%s", name))
		gt_diag("ret %d (%s), states %s", ret, ret ? gt_errname(errno) : "-",
			gt_states_str(st, SWAP_PAGES));
	/* reading them in would take seconds: 8 pages per read-ahead at 50/s */
	if (!gt_ok(t_probe < 1000000000ULL,
		   "anon: a probe of %d swapped-out pages returns at once (< 1 s)",
		   SWAP_PAGES))
		gt_diag("the probe took %.0f ms: it waited for swap-in",
			gt_ms(t_probe));
	else
		gt_diag("the probe took %.2f ms", gt_ms(t_probe));

	/* the swap-in was started: the pages arrive without being touched */
	t0 = gt_now_ns();
	r = gt_wait_resident(p, P(SWAP_PAGES), 20000);
	if (!gt_ok(r == SWAP_PAGES,
		   "anon: the swap-in the probe started brings every page in"))
		gt_diag("%ld of %d resident after 20 s", r, SWAP_PAGES);
	else
		gt_diag("all resident %.0f ms after the probe",
			gt_ms(gt_now_ns() - t0));
	/*
	 * They wait in the swap cache, unmapped (F) - except a page whose read
	 * finished before its fault took the folio lock: the fault mapped it
	 * (still W, docs/abi.md), so it is R now.
	 */
	for (i = 0, mapped = 0; i < SWAP_PAGES; i++) {
		expect[i] = gt_pagemap(p + P(i)) & GT_PM_PRESENT ? 'R' : 'F';
		mapped += expect[i] == 'R';
	}
	expect[SWAP_PAGES] = '\0';
	gt_diag("%zu of %d pages were mapped by the probe's own faults", mapped,
		SWAP_PAGES);
	gt_expect_probe(g, 0, p, SWAP_PAGES, 0, expect, NULL,
			"anon: swapped-in page in the swap cache is F");
	gt_expect_probe(g, 0, p, SWAP_PAGES, 0, pattern_of('R', SWAP_PAGES),
			NULL, "anon: swapped-in page is R once a probe mapped it");
	bad = gt_check_pages(p, SWAP_PAGES, 2);
	if (!gt_ok(bad < 0, "anon: contents survive swap-out and the probes"))
		gt_diag("page %ld differs", bad);
	munmap(p, P(SWAP_PAGES));
	gt_write_file("/proc/sys/vm/page-cluster", cluster);
}

/* Kernels before 6.3 (gupnw_compat.h, GUPNW_SWAPIN_MAY_WAIT). */
static int swapin_may_wait(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major < 6 || (major == 6 && minor < 3);
}

/* Wait up to 10 s for every page to be mapped (a NOFAULT probe: all R). */
static void wait_mapped(char *p, size_t n)
{
	unsigned char st[SWAP_PAGES];
	struct gupnw_counts c;
	int i;

	for (i = 0; i < 500; i++) {
		if (!gupnw_probe(g, p, P(n), GUPNW_NOFAULT, st, &c) &&
		    c.resident == n)
			return;
		gt_sleep_ms(20);
	}
}

static void test_swap_cache(void)
{
	const char *name = "anon: private anon in the swap cache is F";
	long bad;
	char *p;

	if (!in_memcg) {
		gt_skip("no memory cgroup", "%s", name);
		return;
	}
	p = map(SWAP_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	gt_fill_pages(p, SWAP_PAGES, 3);
	if (gt_swap_out(p, P(SWAP_PAGES), memcg, 1, GT_SWAP_CACHE)) {
		gt_skip("could not swap the pages out", "%s", name);
		munmap(p, P(SWAP_PAGES));
		return;
	}
	gt_expect_probe(g, 0, p, SWAP_PAGES, GUPNW_NOFAULT,
			pattern_of('C', SWAP_PAGES), NULL,
			"anon: private anon in the swap cache is C in NOFAULT (the swap cache is not visible to a module)");
	if (swapin_may_wait()) {
		/*
		 * Before 6.3 a swap-in fault may read synchronously, and a
		 * module cannot see the swap cache: every swap entry goes to
		 * the fault-in worker (module/gupnw_nowait.c), which maps it.
		 */
		gt_expect_probe(g, 0, p, SWAP_PAGES, 0,
				pattern_of('W', SWAP_PAGES), NULL,
				"anon: private anon in the swap cache is W before 6.3 (fault-in worker)");
		wait_mapped(p, SWAP_PAGES);
	} else {
		gt_expect_probe(g, 0, p, SWAP_PAGES, 0,
				pattern_of('F', SWAP_PAGES), NULL, "%s", name);
	}
	gt_expect_probe(g, 0, p, SWAP_PAGES, 0, pattern_of('R', SWAP_PAGES),
			NULL, "anon: swap-cache page is R once a probe mapped it");
	bad = gt_check_pages(p, SWAP_PAGES, 3);
	if (!gt_ok(bad < 0, "anon: contents survive the swap cache round trip"))
		gt_diag("page %ld differs", bad);
	munmap(p, P(SWAP_PAGES));
}

static void test_mlocked(void)
{
	char *p = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);

	gt_fill_pages(p, 4, 5);
	if (mlock(p, P(4))) {
		gt_skip("mlock failed", "anon: mlocked memory is R");
		munmap(p, P(4));
		return;
	}
	gt_expect_probe(g, 0, p, 4, 0, "RRRR", NULL,
			"anon: mlocked memory is R");
	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "RRRR", NULL,
			"anon: mlocked memory is R in NOFAULT");
	munlock(p, P(4));
	munmap(p, P(4));

	/* mlock() of untouched memory faults it in */
	p = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_LOCKED);
	gt_expect_probe(g, 0, p, 4, GUPNW_WRITE, "RRRR", NULL,
			"anon: MAP_LOCKED memory is R for WRITE");
	munmap(p, P(4));
}

static void test_prot_none(void)
{
	char *p = map(2, PROT_NONE, MAP_PRIVATE);

	gt_expect_probe(g, 0, p, 2, 0, "EE", NULL,
			"anon: PROT_NONE private anon is E");
	munmap(p, P(2));
	p = map(2, PROT_READ | PROT_WRITE, MAP_SHARED);
	gt_fill_pages(p, 2, 6);
	mprotect(p, P(2), PROT_NONE);
	gt_expect_probe(g, 0, p, 2, 0, "EE", NULL,
			"anon: touched shared anon made PROT_NONE is E");
	gt_expect_probe(g, 0, p, 2, GUPNW_NOFAULT, "EE", NULL,
			"anon: PROT_NONE shared anon is E in NOFAULT");
	munmap(p, P(2));
}

/* What the child of test_cow() saw. */
struct cow_report {
	int ret, err;
	unsigned char st[4];
	struct gupnw_counts c;
	uint64_t pfn_before, pfn_after;
	long bad;
};

/* In the fork child: probe the COW-shared pages for write, then scribble. */
static void cow_child(void *arg, int out)
{
	struct cow_report r;
	char *p = arg;

	memset(&r, 0, sizeof(r));
	r.pfn_before = GT_PM_PFN(gt_pagemap(p));
	r.ret = gupnw_probe(g, p, P(4), GUPNW_WRITE, r.st, &r.c);
	r.err = errno;
	r.pfn_after = GT_PM_PFN(gt_pagemap(p));
	r.bad = gt_check_pages(p, 4, 7);
	/* the child's copy is its own now: scribble on it */
	memset(p, 0xa5, P(4));
	gt_write_all(out, &r, sizeof(r));
}

static void test_cow(void)
{
	struct cow_report r;
	uint64_t parent_pfn;
	long bad;
	char *p;

	p = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	gt_fill_pages(p, 4, 7);
	parent_pfn = GT_PM_PFN(gt_pagemap(p));
	if (gt_fork_result(cow_child, p, &r, sizeof(r), 0, NULL))
		r.ret = -2;

	if (!gt_ok(r.ret == 0 && !memcmp(r.st, "FFFF", 4) &&
		   gt_counts_tally_ok(&r.c, r.st, 4),
		   "anon: WRITE probe of a COW page in a fork child is F"))
		gt_diag("ret %d (%s), states %s", r.ret,
			r.ret ? gt_errname(r.err) : "-", gt_states_str(r.st, 4));
	if (!parent_pfn || !r.pfn_before) {
		gt_skip("pagemap shows no PFN",
			"anon: the WRITE probe gave the child its own page");
	} else if (!gt_ok(r.pfn_before == parent_pfn &&
			  r.pfn_after != parent_pfn && r.pfn_after,
			  "anon: the WRITE probe gave the child its own page")) {
		gt_diag("pfn parent %#llx, child before %#llx, after %#llx",
			(unsigned long long)parent_pfn,
			(unsigned long long)r.pfn_before,
			(unsigned long long)r.pfn_after);
	}
	gt_ok(r.bad < 0, "anon: the child's copy holds the data after the COW");
	bad = gt_check_pages(p, 4, 7);
	if (!gt_ok(bad < 0, "anon: the parent's copy is unchanged by the child's probe and writes"))
		gt_diag("page %ld differs", bad);
	gt_expect_probe(g, 0, p, 4, 0, "RRRR", NULL,
			"anon: the parent's pages are still R");
	munmap(p, P(4));
}

/*
 * Each case enters the memory group itself: its pages shared with the
 * parent stay charged outside, so memory.reclaim evicts the case's test
 * pages and not its stack (whose swap-in read-ahead would bring test pages
 * back into the swap cache).
 */
static void enter_memcg(void)
{
	in_memcg = gt_memcg_join("gupnw-t30", memcg, sizeof(memcg));
}

static const struct gt_case cases[] = {
	GT_CASE_VARIANTS("fault-in", test_fault_in, anon_kinds),
	GT_CASE("swapped-evicted", test_swapped_evicted),
	GT_CASE("swap-cache", test_swap_cache),
	GT_CASE("mlocked", test_mlocked),
	GT_CASE("prot-none", test_prot_none),
	GT_CASE("cow", test_cow),
};

static int after(void)
{
	gt_memcg_leave("/sys/fs/cgroup/gupnw-t30");
	return 0;
}

GT_FILE(cases, .lib = &g, .setup = enter_memcg, .after = after);
