// SPDX-License-Identifier: GPL-2.0
/*
 * t32_states_shmem: the states of shmem pages - a memfd and shared
 * anonymous memory (which is shmem too): untouched, cached, resident,
 * swapped out, PROT_NONE, read-only for WRITE.
 *
 * A swapped-out shmem page is the case where the kernel's own NOWAIT fault
 * still waits (shmem reads swap synchronously): the module hands it to its
 * fault-in worker and answers W without waiting for anything (that the
 * pages then arrive is t44_async_faultin's to check).  256 swapped pages on the swap disk (reads
 * throttled to 50 x 4 KiB per second) take seconds to read synchronously:
 * the probe must be done in well under one.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define P(n)		((size_t)(n) * gt_page)
#define SWAP_PAGES	256

static struct gupnw *g;
static char memcg[256];
static int in_memcg;

static int new_memfd(size_t npages)
{
	int fd = memfd_create("gupnw-t32", MFD_CLOEXEC);

	if (fd < 0)
		gt_bail("memfd_create: %s", gt_errname(errno));
	if (ftruncate(fd, P(npages)))
		gt_bail("ftruncate memfd: %s", gt_errname(errno));
	return fd;
}

static char *map_fd(int fd, size_t npages, int prot)
{
	char *p = mmap(NULL, P(npages), prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		gt_bail("mmap memfd: %s", gt_errname(errno));
	return p;
}

static void test_memfd(void)
{
	char buf[4096];
	int fd = new_memfd(4);
	char *p = map_fd(fd, 4, PROT_READ | PROT_WRITE);

	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "NNNN", NULL,
			"shmem: untouched memfd is N in NOFAULT");
	gt_expect_probe(g, 0, p, 4, 0, "FFFF", NULL,
			"shmem: untouched memfd (a hole) is F");
	gt_expect_probe(g, 0, p, 4, 0, "RRRR", NULL,
			"shmem: memfd is R once a probe mapped it");
	munmap(p, P(4));
	close(fd);

	/* written with write(): in the page cache, not mapped */
	fd = new_memfd(4);
	memset(buf, 0x6b, sizeof(buf));
	if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    pwrite(fd, buf, sizeof(buf), P(2)) != (ssize_t)sizeof(buf))
		gt_bail("pwrite memfd: %s", gt_errname(errno));
	p = map_fd(fd, 4, PROT_READ | PROT_WRITE);
	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "NNNN", NULL,
			"shmem: cached, unmapped memfd pages are N in NOFAULT");
	gt_expect_probe(g, 0, p, 4, 0, "FFFF", NULL,
			"shmem: cached memfd pages (and holes) are F");
	gt_fill_pages(p, 4, 11);
	gt_expect_probe(g, 0, p, 4, GUPNW_WRITE, "RRRR", NULL,
			"shmem: memfd written through the mapping is R for WRITE");
	munmap(p, P(4));

	p = map_fd(fd, 4, PROT_READ);
	gt_expect_probe(g, 0, p, 4, GUPNW_WRITE, "EEEE", NULL,
			"shmem: WRITE on a read-only memfd mapping is E");
	munmap(p, P(4));
	p = map_fd(fd, 4, PROT_NONE);
	gt_expect_probe(g, 0, p, 4, 0, "EEEE", NULL,
			"shmem: PROT_NONE memfd mapping is E");
	munmap(p, P(4));
	close(fd);
}

/*
 * Swap out the SWAP_PAGES pages at p (a shmem mapping), probe them, and
 * check W everywhere, a quick return, and intact contents afterwards.
 */
static void test_swapped(char *p, unsigned int seed, const char *kind)
{
	unsigned char st[SWAP_PAGES];
	struct gupnw_counts c;
	uint64_t t0, t_probe;
	size_t i, nw = 0;
	long bad, r;
	int ret;

	if (!in_memcg) {
		gt_skip("no memory cgroup", "shmem: swapped-out %s page is W",
			kind);
		return;
	}
	gt_fill_pages(p, SWAP_PAGES, seed);
	if (gt_swap_out(p, P(SWAP_PAGES), memcg, 0, GT_SWAP_EVICTED)) {
		gt_skip("could not swap the pages out",
			"shmem: swapped-out %s page is W", kind);
		return;
	}
	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "CCCC", NULL,
			"shmem: swapped-out %s page is C in NOFAULT", kind);

	gt_drain_device("/dev/vdb");
	memset(st, 0, sizeof(st));
	t0 = gt_now_ns();
	ret = gupnw_probe(g, p, P(SWAP_PAGES), 0, st, &c);
	t_probe = gt_now_ns() - t0;
	for (i = 0; i < SWAP_PAGES; i++)
		nw += st[i] == 'W';
	if (!gt_ok(ret == 0 && nw == SWAP_PAGES &&
		   gt_counts_tally_ok(&c, st, SWAP_PAGES),
		   "shmem: swapped-out %s page is W", kind))
		gt_diag("ret %d (%s), states %s", ret,
			ret ? gt_errname(errno) : "-",
			gt_states_str(st, SWAP_PAGES));
	if (!gt_ok(t_probe < 1000000000ULL,
		   "shmem: a probe of %d swapped-out %s pages returns at once (< 1 s)",
		   SWAP_PAGES, kind))
		gt_diag("the probe took %.0f ms: it waited for swap-in",
			gt_ms(t_probe));
	else
		gt_diag("the probe took %.2f ms", gt_ms(t_probe));
	r = gt_resident(p, P(SWAP_PAGES));
	gt_diag("%ld of %d pages resident right after the probe", r,
		SWAP_PAGES);

	/* touching reads them back (and waits, as it may): a few suffice */
	bad = gt_check_pages(p, 8, seed);
	if (!gt_ok(bad < 0, "shmem: %s contents survive swap-out and the probe",
		   kind))
		gt_diag("page %ld differs", bad);
	gt_expect_probe(g, 0, p, 4, 0, "RRRR", NULL,
			"shmem: %s swapped back in by touching is R", kind);
}

/* The seed of each kind's page contents. */
struct swapped {
	const struct gt_mem *mem;
	unsigned int seed;
};

static const struct swapped memfd = { &gt_mem_memfd, 12 };
static const struct swapped shared_anon = { &gt_mem_shared_anon, 13 };

static const struct gt_variant shmem_kinds[] = {
	{ "memfd", &memfd },
	{ "shared-anon", &shared_anon },
};

static void case_swapped(void)
{
	const struct swapped *v = gt_variant->data;
	char *p = v->mem->map(SWAP_PAGES, PROT_READ | PROT_WRITE);

	test_swapped(p, v->seed, v->mem->name);
	munmap(p, P(SWAP_PAGES));
}

/*
 * Each case enters the memory group itself: its pages shared with the
 * parent stay charged outside, so memory.reclaim evicts the case's test
 * pages and not its stack (whose swap-in read-ahead would bring test pages
 * back into the swap cache).
 */
static void enter_memcg(void)
{
	in_memcg = gt_memcg_join("gupnw-t32", memcg, sizeof(memcg));
}

static const struct gt_case cases[] = {
	GT_CASE("memfd", test_memfd),
	GT_CASE_VARIANTS("swapped", case_swapped, shmem_kinds),
};

static int after(void)
{
	gt_memcg_leave("/sys/fs/cgroup/gupnw-t32");
	return 0;
}

GT_FILE(cases, .lib = &g, .setup = enter_memcg, .after = after);
