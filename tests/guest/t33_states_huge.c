// SPDX-License-Identifier: GPL-2.0
/*
 * t33_states_huge: pages behind 2 MiB mappings - transparent huge pages
 * (checked in smaps to really be THP-backed) and hugetlb pages from a pool
 * reserved here through vm.nr_hugepages (private, and a hugetlb memfd).
 * Every 4 KiB page of such a mapping gets its own state.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif

#define HUGE		(2UL << 20)
#define HUGE_PAGES	2			/* per mapping */
#define LEN		(HUGE_PAGES * HUGE)

static struct gupnw *g;
static size_t npages;				/* 4 KiB pages in LEN */
static char *all_r, *all_f, *all_n, *all_e;

static char *pattern(char c)
{
	return gt_repeat(c, npages);
}

/* LEN bytes of anonymous memory aligned to 2 MiB. */
static char *map_aligned(void)
{
	char *p = mmap(NULL, LEN + HUGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	a = ((uintptr_t)p + HUGE - 1) & ~(HUGE - 1);
	if ((char *)a > p)
		munmap(p, (char *)a - p);
	munmap((char *)a + LEN, p + HUGE - (char *)a);
	return (char *)a;
}

static void test_thp(void)
{
	const char *name = "huge: THP-backed resident range is R";
	char *p = map_aligned();
	long kb;
	size_t i;

	if (madvise(p, LEN, MADV_HUGEPAGE)) {
		gt_skip("MADV_HUGEPAGE failed (no THP)", "%s", name);
		munmap(p, LEN);
		return;
	}
	for (i = 0; i < LEN; i += HUGE)
		p[i] = 1;
	kb = gt_smaps_kb(p, "AnonHugePages");
	gt_diag("AnonHugePages of the mapping: %ld kB", kb);
	if (kb < (long)(LEN >> 10)) {
		gt_skip("the kernel gave no THP", "%s", name);
		munmap(p, LEN);
		return;
	}
	gt_expect_probe(g, 0, p, npages, 0, all_r, NULL, "%s", name);
	gt_expect_probe(g, 0, p, npages, GUPNW_NOFAULT, all_r, NULL,
			"huge: THP-backed range is R in NOFAULT");
	gt_expect_probe(g, 0, p, npages, GUPNW_WRITE, all_r, NULL,
			"huge: THP-backed range is R for WRITE");
	gt_ok(gt_smaps_kb(p, "AnonHugePages") == kb,
	      "huge: the probes left the THPs whole (smaps)");
	munmap(p, LEN);

	/* untouched, THP-eligible: a probe faults without I/O */
	p = map_aligned();
	madvise(p, LEN, MADV_HUGEPAGE);
	gt_expect_probe(g, 0, p, npages, GUPNW_NOFAULT, all_n, NULL,
			"huge: untouched THP-eligible range is N in NOFAULT");
	gt_expect_probe(g, 0, p, npages, GUPNW_WRITE, all_f, NULL,
			"huge: untouched THP-eligible range is F for WRITE");
	gt_expect_probe(g, 0, p, npages, 0, all_r, NULL,
			"huge: THP-eligible range faulted by a WRITE probe is R");
	munmap(p, LEN);
}

static void test_hugetlb_private(void)
{
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (p == MAP_FAILED) {
		gt_skip("MAP_HUGETLB failed", "huge: untouched hugetlb is F");
		return;
	}
	gt_expect_probe(g, 0, p, npages, GUPNW_NOFAULT, all_n, NULL,
			"huge: untouched hugetlb is N in NOFAULT");
	gt_expect_probe(g, 0, p, npages, 0, all_f, NULL,
			"huge: untouched hugetlb is F");
	gt_expect_probe(g, 0, p, npages, 0, all_r, NULL,
			"huge: hugetlb is R once a probe faulted it");
	/* a read fault maps a private hugetlb page read-only */
	gt_expect_probe(g, 0, p, npages, GUPNW_WRITE, all_f, NULL,
			"huge: read-faulted private hugetlb is F for WRITE");
	gt_expect_probe(g, 0, p, npages, GUPNW_WRITE, all_r, NULL,
			"huge: write-faulted private hugetlb is R for WRITE");
	munmap(p, LEN);

	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		gt_bail("MAP_HUGETLB again: %s", gt_errname(errno));
	memset(p, 0x11, LEN);
	gt_expect_probe(g, 0, p, npages, 0, all_r, NULL,
			"huge: touched hugetlb is R");
	mprotect(p, LEN, PROT_NONE);
	gt_expect_probe(g, 0, p, npages, 0, all_e, NULL,
			"huge: PROT_NONE hugetlb is E");
	munmap(p, LEN);
}

static void test_hugetlb_memfd(void)
{
	const char *name = "huge: untouched hugetlb memfd is F";
	int fd = memfd_create("gupnw-t33", MFD_CLOEXEC | MFD_HUGETLB);
	char *p;

	if (fd < 0 || ftruncate(fd, LEN)) {
		gt_skip("no hugetlb memfd", "%s", name);
		if (fd >= 0)
			close(fd);
		return;
	}
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		gt_skip("mmap of the hugetlb memfd failed", "%s", name);
		close(fd);
		return;
	}
	gt_expect_probe(g, 0, p, npages, GUPNW_NOFAULT, all_n, NULL,
			"huge: untouched hugetlb memfd is N in NOFAULT");
	gt_expect_probe(g, 0, p, npages, 0, all_f, NULL, "%s", name);
	gt_expect_probe(g, 0, p, npages, GUPNW_WRITE, all_r, NULL,
			"huge: hugetlb memfd is R for WRITE once faulted");
	munmap(p, LEN);

	/* a second mapping of the same pages: in the file, not mapped here */
	p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap hugetlb memfd again: %s", gt_errname(errno));
	gt_expect_probe(g, 0, p, npages, 0, all_f, NULL,
			"huge: hugetlb memfd pages in the file, fresh mapping, are F");
	munmap(p, LEN);
	close(fd);
}

/* A kind of hugetlb memory: what its states are checked with. */
struct hugetlb_kind {
	void (*test)(void);
};

static const struct hugetlb_kind hugetlb_private = { test_hugetlb_private };
static const struct hugetlb_kind hugetlb_memfd = { test_hugetlb_memfd };

static const struct gt_variant hugetlb_kinds[] = {
	{ "private", &hugetlb_private },
	{ "memfd", &hugetlb_memfd },
};

/* Hugetlb memory of a kind; 2 mappings of HUGE_PAGES each may be alive. */
static void case_hugetlb(void)
{
	const struct hugetlb_kind *k = gt_variant->data;
	long old = gt_hugetlb_reserve(2 * HUGE_PAGES);

	if (old < 0)
		GT_SKIP("could not reserve 2 MiB pages (vm.nr_hugepages)");
	k->test();
	gt_hugetlb_restore(old);
}

static const struct gt_case cases[] = {
	GT_CASE("thp", test_thp),
	GT_CASE_VARIANTS("hugetlb", case_hugetlb, hugetlb_kinds),
};

static int before(void)
{
	npages = LEN / gt_page;
	all_r = pattern('R');
	all_f = pattern('F');
	all_n = pattern('N');
	all_e = pattern('E');

	return 0;
}

GT_FILE(cases, .lib = &g, .before = before);
