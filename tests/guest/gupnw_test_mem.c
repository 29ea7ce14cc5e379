// SPDX-License-Identifier: GPL-2.0
/* gupnw_test_mem.c - memory-state helpers of the guest tests; see the .h. */
#include "gupnw_test_mem.h"
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CGROOT	"/sys/fs/cgroup"

static int gt_cg_write(const char *dir, const char *file, const char *s)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return gt_write_file(p, s);
}

int gt_memcg_enter(const char *name, char *path, size_t size)
{
	char buf[256];
	int ret;

	if (gt_read_file(CGROOT "/cgroup.controllers", buf, sizeof(buf)) < 0 ||
	    !strstr(buf, "memory"))
		return -EOPNOTSUPP;
	ret = gt_cg_write(CGROOT, "cgroup.subtree_control", "+memory");
	if (ret)
		return ret;
	snprintf(path, size, CGROOT "/%s", name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return gt_cg_write(path, "cgroup.procs", "0");
}

int gt_memcg_join(const char *name, char *path, size_t size)
{
	int ret = gt_memcg_enter(name, path, size);

	if (ret)
		gt_diag("no memory cgroup: %s", gt_errname(-ret));
	return !ret;
}

int gt_memcg_leave(const char *path)
{
	int i, ret;

	ret = gt_cg_write(CGROOT, "cgroup.procs", "0");
	if (ret)
		return ret;
	/* exited children may take a moment to leave the group */
	for (i = 0; i < 50; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return 0;
		gt_sleep_ms(100);
	}
	return -errno;
}

long long gt_memcg_current(const char *path)
{
	char p[512], buf[64];

	snprintf(p, sizeof(p), "%s/memory.current", path);
	if (gt_read_file(p, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

long long gt_memcg_drain(const char *path, long long slack)
{
	long long cur = -1;
	char p[512];
	int i;

	gt_write_file("/proc/sys/vm/drop_caches", "3\n");
	snprintf(p, sizeof(p), "%s/memory.high", path);
	for (i = 0; i < 30; i++) {
		if (gt_write_file(p, "0\n"))
			gt_diag("could not write %s", p);
		cur = gt_memcg_current(path);
		if (cur >= 0 && cur <= slack)
			break;
		gt_sleep_ms(100);	/* frees deferred by RCU, remote drains */
	}
	return cur;
}

void gt_memcg_print_stat(const char *path, int detailed)
{
	char p[512], buf[8192], line[1024] = "", *l, *save = NULL;
	size_t len = 0;

	snprintf(p, sizeof(p), "%s/memory.stat", path);
	if (gt_read_file(p, buf, sizeof(buf)) <= 0)
		return;
	for (l = strtok_r(buf, "\n", &save); l && len < sizeof(line) - 64;
	     l = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(l, ' ');

		if (v && strtoll(v + 1, NULL, 10) > 0 &&
		    (detailed || !strchr(l, '_')))
			len += snprintf(line + len, sizeof(line) - len, "%s ",
					l);
	}
	gt_diag("memory.stat: %s", line);
}

int gt_memcg_reclaim(const char *path, size_t bytes)
{
	char s[32];
	int ret;

	snprintf(s, sizeof(s), "%zu", bytes);
	ret = gt_cg_write(path, "memory.reclaim", s);
	return ret == -EAGAIN ? 0 : ret;
}

uint64_t gt_pagemap(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e),
		  (off_t)((uintptr_t)addr / gt_page) * sizeof(e)) != sizeof(e))
		e = 0;
	close(fd);
	return e;
}

int gt_smaps_field(const void *addr, const char *key, char *buf, size_t size)
{
	uintptr_t a = (uintptr_t)addr;
	size_t klen = strlen(key);
	char line[1024];
	int in = 0, ret = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char *v;

		/* a mapping's first line is "lo-hi perms ...", a field's
		 * "Name: value" (no field name is hex digits and a '-') */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			if (in)
				break;
			in = a >= lo && a < hi;
			continue;
		}
		if (!in || strncmp(line, key, klen) || line[klen] != ':')
			continue;
		v = line + klen + 1;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(buf, size, "%s", v);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

long gt_smaps_kb(const void *addr, const char *key)
{
	char buf[64];

	if (gt_smaps_field(addr, key, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

long gt_wait_resident(const void *addr, size_t len, unsigned int ms)
{
	uint64_t end = gt_now_ns() + (uint64_t)ms * 1000000ULL;
	size_t n = (len + gt_page - 1) / gt_page;
	long r;

	for (;;) {
		r = gt_resident(addr, len);
		if (r < 0 || (size_t)r == n || gt_now_ns() > end)
			return r;
		gt_sleep_ms(20);
	}
}

int64_t gt_drain_device(const char *dev)
{
	const size_t len = 128 * 1024;
	uint64_t t0;
	void *buf;
	off_t end;
	ssize_t n;
	int fd;

	if (posix_memalign(&buf, 4096, len))
		return -1;
	fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	if (end < (off_t)(2 * len)) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return -1;
	}
	t0 = gt_now_ns();
	n = pread(fd, buf, len, (end - 2 * (off_t)len) & ~(off_t)4095);
	t0 = gt_now_ns() - t0;
	close(fd);
	free(buf);
	return n == (ssize_t)len ? (int64_t)t0 : -1;
}


/* --- kinds of memory --- */

static char *gt_mem_map_private(size_t npages, int prot)
{
	return gt_map_anon(npages, prot, MAP_PRIVATE);
}

static char *gt_mem_map_shared(size_t npages, int prot)
{
	return gt_map_anon(npages, prot, MAP_SHARED);
}

/* The mapping keeps the memfd's file: its descriptor is closed at once. */
static char *gt_mem_map_memfd(size_t npages, int prot)
{
	int fd = memfd_create("gupnw-test", MFD_CLOEXEC);
	char *p;

	if (fd < 0)
		gt_bail("memfd_create: %s", gt_errname(errno));
	if (ftruncate(fd, npages * gt_page))
		gt_bail("ftruncate memfd: %s", gt_errname(errno));
	p = mmap(NULL, npages * gt_page, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap memfd: %s", gt_errname(errno));
	madvise(p, npages * gt_page, MADV_NOHUGEPAGE);
	close(fd);
	return p;
}

const struct gt_mem gt_mem_private_anon = {
	.name = "private anon", .anon = 1, .map = gt_mem_map_private,
};
const struct gt_mem gt_mem_shared_anon = {
	.name = "shared anon", .anon = 0, .map = gt_mem_map_shared,
};
const struct gt_mem gt_mem_memfd = {
	.name = "memfd", .anon = 0, .map = gt_mem_map_memfd,
};

/* Is every page where it should be?  Returns the first page that is not, or
 * -1 when all are. */
static long gt_swap_check(const char *p, size_t n, int anon,
			  enum gt_swap_where where)
{
	unsigned char *vec = malloc(n);
	long bad = -1;
	size_t i;

	if (!vec || mincore((void *)p, n * gt_page, vec)) {
		free(vec);
		return 0;
	}
	for (i = 0; i < n && bad < 0; i++) {
		int cached = vec[i] & 1;

		if (anon) {
			uint64_t e = gt_pagemap(p + i * gt_page);

			if ((e & GT_PM_PRESENT) || !(e & GT_PM_SWAP))
				bad = (long)i;
		}
		if (where != GT_SWAP_ANY && cached != (where == GT_SWAP_CACHE))
			bad = (long)i;
	}
	free(vec);
	return bad;
}

int gt_swap_out(void *addr, size_t len, const char *memcg, int anon,
		enum gt_swap_where where)
{
	size_t n = (len + gt_page - 1) / gt_page;
	long bad = 0;
	int i;

	for (i = 0; i < 50; i++) {
		if (madvise(addr, len, MADV_PAGEOUT)) {
			gt_diag("MADV_PAGEOUT: %s", gt_errname(errno));
			return -1;
		}
		if (where == GT_SWAP_EVICTED && memcg)
			gt_memcg_reclaim(memcg, len + (4 << 20));
		bad = gt_swap_check(addr, n, anon, where);
		if (bad < 0)
			return 0;
		/* writeback still running, or reclaim skipped some pages */
		gt_sleep_ms(100);
	}
	gt_diag("swap_out: page %ld of %zu never got %s (pagemap %#llx, mincore %d)",
		bad, n, where == GT_SWAP_CACHE ? "into the swap cache" :
		where == GT_SWAP_ANY ? "swapped out" : "out of memory",
		(unsigned long long)gt_pagemap(
			(char *)addr + bad * gt_page),
		gt_page_resident((char *)addr + bad * gt_page));
	return -1;
}

static long gt_read_long(const char *path)
{
	char buf[64];

	if (gt_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

#define NR_HUGE	"/proc/sys/vm/nr_hugepages"
#define FREE_HUGE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

long gt_hugetlb_reserve(long n)
{
	long old = gt_read_long(NR_HUGE), free_now = gt_read_long(FREE_HUGE);
	char s[32];

	if (old < 0 || free_now < 0)
		return -1;
	if (free_now >= n)
		return old;
	snprintf(s, sizeof(s), "%ld", old + n - free_now);
	if (gt_write_file(NR_HUGE, s) || gt_read_long(FREE_HUGE) < n) {
		gt_hugetlb_restore(old);
		return -1;
	}
	return old;
}

void gt_hugetlb_restore(long old)
{
	char s[32];

	if (old < 0)
		return;
	snprintf(s, sizeof(s), "%ld", old);
	gt_write_file(NR_HUGE, s);
}

static uint64_t gt_pattern(unsigned int seed, size_t page, size_t word)
{
	uint64_t x = ((uint64_t)seed << 40) ^ ((uint64_t)page << 20) ^ word;

	/* splitmix64: never all-zero over a page, different everywhere */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (x ^ (x >> 31)) | 1;
}

void gt_fill_pages(void *addr, size_t npages, unsigned int seed)
{
	size_t words = gt_page / sizeof(uint64_t), i, j;
	uint64_t *p = addr;

	for (i = 0; i < npages; i++)
		for (j = 0; j < words; j++)
			p[i * words + j] = gt_pattern(seed, i, j);
}

long gt_check_pages(const void *addr, size_t npages, unsigned int seed)
{
	size_t words = gt_page / sizeof(uint64_t), i, j;
	const uint64_t *p = addr;

	for (i = 0; i < npages; i++)
		for (j = 0; j < words; j++)
			if (p[i * words + j] != gt_pattern(seed, i, j))
				return (long)i;
	return -1;
}

char *gt_map_swapped(size_t npages, int anon, const char *memcg,
		     unsigned int seed, int *mfd)
{
	size_t len = npages * (size_t)gt_page;
	int flags = MAP_SHARED, f = -1;
	char *p;

	if (anon) {
		flags = MAP_PRIVATE | MAP_ANONYMOUS;
	} else {
		f = memfd_create("gupnw-swapped", MFD_CLOEXEC);
		if (f < 0 || ftruncate(f, (off_t)len))
			gt_bail("memfd: %s", gt_errname(errno));
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, f, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	madvise(p, len, MADV_NOHUGEPAGE);
	gt_fill_pages(p, npages, seed);
	if (gt_swap_out(p, len, memcg, anon, GT_SWAP_EVICTED)) {
		munmap(p, len);
		if (f >= 0)
			close(f);
		return NULL;
	}
	if (mfd)
		*mfd = f;
	else if (f >= 0)
		close(f);
	return p;
}
