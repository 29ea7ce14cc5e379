// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw_test_mem.h - helpers of the in-guest tests that put memory into a
 * given state: a memory cgroup, swapped out or in the swap cache, huge pages,
 * and ways to look at it (pagemap, smaps).  Linked into every guest test
 * with gupnw_test.c.
 */
#ifndef GUPNW_TEST_MEM_H
#define GUPNW_TEST_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* --- kinds of memory --- */
/*
 * A kind of memory one behaviour runs over, as mm/cow.c runs each COW test
 * over anonymous, THP and file memory: the data of a struct gt_variant
 * (gupnw_test.h), its name the variant's ("t30:fault-in.shared").
 */
struct gt_mem {
	const char *name;	/* in check names: "shared anon", "memfd" */
	int anon;		/* 1 anonymous, 0 shmem (for gt_swap_out) */
	/* npages of it, no THP, unmapped and untouched; bails on failure */
	char *(*map)(size_t npages, int prot);
};
extern const struct gt_mem gt_mem_private_anon;	/* MAP_PRIVATE anon */
extern const struct gt_mem gt_mem_shared_anon;	/* MAP_SHARED anon: shmem */
extern const struct gt_mem gt_mem_memfd;	/* a memfd, MAP_SHARED */
/* A variant row for kind k: { "shared-anon", &gt_mem_shared_anon }. */
#define GT_MEM_VARIANT(vname, k) { .name = (vname), .data = &(k) }
/* The running case's kind of memory (the data of its variant). */
#define GT_MEM() ((const struct gt_mem *)gt_variant->data)

/* --- memory cgroup (cgroup v2, mounted at /sys/fs/cgroup) --- */
/*
 * Create /sys/fs/cgroup/NAME with the memory controller on (path receives
 * the directory) and move the calling process into it.  Memory is charged
 * to the group that was current when it was first touched.  0 or -errno.
 */
int gt_memcg_enter(const char *name, char *path, size_t size);
/* gt_memcg_enter(), or one diagnostic line why not: 1 when in the group. */
int gt_memcg_join(const char *name, char *path, size_t size);
/* Move the calling process back to the root group and remove the group. */
int gt_memcg_leave(const char *path);
/* memory.current of the group in bytes, or -1. */
long long gt_memcg_current(const char *path);
/* Write bytes to memory.reclaim (EAGAIN, "could not reclaim it all", is
 * not an error here).  0 or -errno. */
int gt_memcg_reclaim(const char *path, size_t bytes);
/*
 * memory.current of an emptied group once what it still counts only in
 * per-CPU charge caches is drained: drops the page cache, then writes 0 to
 * memory.high (drains the caches, reclaims without an OOM kill) until at
 * most @slack bytes stay or 3 s pass.  A page held by a leaked reference
 * stays charged.  -1 if memory.current cannot be read.
 */
long long gt_memcg_drain(const char *path, long long slack);
/* One diagnostic line: the non-zero counts of memory.stat (with @detailed,
 * also the names holding a '_'). */
void gt_memcg_print_stat(const char *path, int detailed);

/* --- what the page tables say --- */
#define GT_PM_PRESENT	(1ULL << 63)
#define GT_PM_SWAP	(1ULL << 62)
#define GT_PM_PFN(e)	((e) & ((1ULL << 55) - 1))	/* root only */
/* /proc/self/pagemap entry of the page at addr, 0 on error. */
uint64_t gt_pagemap(const void *addr);
/* A field ("AnonHugePages", "VmFlags", ...) of the smaps entry of the
 * mapping holding addr, without the key and leading blanks: 0, or -1 if
 * there is no such mapping or field. */
int gt_smaps_field(const void *addr, const char *key, char *buf, size_t size);
/* The same for a field in kB ("AnonHugePages", "Rss", ...), or -1. */
long gt_smaps_kb(const void *addr, const char *key);

/* --- swap --- */
enum gt_swap_where {
	GT_SWAP_CACHE,		/* unmapped, still in the swap cache */
	GT_SWAP_EVICTED,	/* on the swap device only */
	GT_SWAP_ANY,		/* unmapped, on the swap device (anon only) */
};
/*
 * Swap out every page of [addr, addr + len) of this process, which must be
 * in the memory group memcg: MADV_PAGEOUT, and for GT_SWAP_EVICTED
 * memory.reclaim until the pages have left the swap cache too.  Checked per
 * page with mincore() (swap cache or page cache: 1; not for GT_SWAP_ANY)
 * and, for private anon (anon != 0), pagemap (a swap entry in the page
 * table).  Retries for a few seconds; 0 when every page is there, else -1.
 */
int gt_swap_out(void *addr, size_t len, const char *memcg, int anon,
		enum gt_swap_where where);
/*
 * npages of private anon (anon != 0) or of a memfd, filled with gt_fill_pages(seed)
 * and swapped out of memory and swap cache (GT_SWAP_EVICTED) through memcg.  The
 * memfd's descriptor goes to *mfd (closed if mfd is NULL; -1 for anon).  NULL, with
 * nothing left mapped or open, if the pages could not be swapped out.
 */
char *gt_map_swapped(size_t npages, int anon, const char *memcg,
		     unsigned int seed, int *mfd);
/*
 * Spend the burst allowance of a throttled disk (docs/testing.md) by reading
 * 128 KiB near the end of a block device with O_DIRECT (for the swap disk,
 * whose end no test fills).  Returns the time it took in ns, or -1.
 */
int64_t gt_drain_device(const char *dev);
/* Wait up to ms for all of [addr, addr + len) to be resident (mincore).
 * Returns the resident count at the end. */
long gt_wait_resident(const void *addr, size_t len, unsigned int ms);

/* --- huge pages --- */
/* Make at least n 2 MiB pages free in the hugetlb pool (raising
 * vm.nr_hugepages); returns the old nr_hugepages, or -1 if it could not. */
long gt_hugetlb_reserve(long n);
/* Put vm.nr_hugepages back. */
void gt_hugetlb_restore(long old);

/* --- fill and check page contents --- */
/* Fill each page with a pattern derived from seed and its index: no page
 * is zero (6.12 keeps zero-filled pages off the swap device) or alike. */
void gt_fill_pages(void *addr, size_t npages, unsigned int seed);
/* Index of the first page not holding the pattern, or -1. */
long gt_check_pages(const void *addr, size_t npages, unsigned int seed);

#endif /* GUPNW_TEST_MEM_H */
