// SPDX-License-Identifier: GPL-2.0
/*
 * t43_nofault_predicts: report-only mode (NOFAULT) says what touching each
 * page would cost - 'R' mapped, 'N' in memory (a fault without I/O), 'W' a
 * read already in flight, 'C' cold (a read from storage) - and agrees page
 * by page with the kernel's own views: mincore(2) for the page cache (a
 * file with a known pattern of cached pages, made with POSIX_FADV_DONTNEED
 * and reads), /proc/self/pagemap for anonymous memory pushed to swap
 * through a memory cgroup.  In the caller's own mm and in pid mode (a
 * forked child sharing the same pages).  Then: a NOFAULT probe changes
 * nothing (page cache, page tables, fault counters).
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define P(n)		((size_t)(n) * gt_page)
#define FPAGES		64		/* pages of the test file */
#define APAGES		64		/* pages of the anonymous region */

static struct gupnw *g;
static char memcg[256];
static int in_memcg;

/* Pages of the file read into the cache: a known, irregular pattern. */
static int cached_by_pattern(size_t i)
{
	return i % 3 == 0 || (i >= 40 && i < 48);
}

/* A child that keeps the parent's mappings until killed. */
static pid_t fork_sleeper(void)
{
	pid_t pid = fork();

	if (pid < 0)
		gt_bail("fork: %s", gt_errname(errno));
	if (!pid) {
		for (;;)
			pause();
	}
	return pid;
}

static void kill_sleeper(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * One test line: a NOFAULT probe of npages at p (own mm, or pid) agrees
 * page by page with want[] (a state letter per page, computed from mincore
 * or pagemap by the caller) and its counts with its states.
 */
static void expect_agrees(pid_t pid, const char *p, size_t npages,
			  const char *want, const char *name)
{
	unsigned char *st = malloc(npages + 1);
	struct gupnw_counts c;
	long bad;
	int ret;

	if (!st)
		gt_bail("malloc");
	memset(&c, 0xff, sizeof(c));
	if (pid)
		ret = gupnw_probe_pid(g, pid, (uint64_t)(uintptr_t)p,
				      P(npages), GUPNW_NOFAULT, st, &c);
	else
		ret = gupnw_probe(g, p, P(npages), GUPNW_NOFAULT, st, &c);
	bad = ret ? 0 : gt_match(st, want, npages);
	if (!gt_ok(!ret && bad < 0 && gt_counts_tally_ok(&c, st, npages),
		   "%s%s", name, pid ? " (pid mode)" : "")) {
		if (ret) {
			gt_diag("probe: %s", gt_errname(errno));
		} else {
			gt_diag("want %s", gt_states_str((const unsigned char *)want,
							 npages));
			gt_diag("got  %s", gt_states_str(st, npages));
			gt_diag("counts %s", gt_counts_str(&c));
		}
	}
	free(st);
}

/* 'N' where mincore says cached, 'C' where not; past EOF 'E'. */
static void want_from_mincore(const char *p, size_t npages, size_t eof,
			      char *want)
{
	size_t i;

	for (i = 0; i < npages; i++)
		want[i] = i >= eof ? 'E' :
			  gt_page_resident(p + P(i)) == 1 ? 'N' : 'C';
	want[npages] = '\0';
}

static int make_file(char *path, size_t size)
{
	char *buf;
	size_t i;
	int fd;

	snprintf(path, size, "%s/t43-pattern",
		 gt_env("GUPNW_DATA", "/mnt/data"));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	buf = malloc(P(FPAGES));
	if (!buf)
		gt_bail("malloc");
	for (i = 0; i < P(FPAGES); i++)
		buf[i] = (char)(i / gt_page + 1);
	if (write(fd, buf, P(FPAGES)) != (ssize_t)P(FPAGES)) {
		free(buf);
		close(fd);
		return -1;
	}
	free(buf);
	return fd;
}

/* Cache exactly the pages cached_by_pattern() picks; -1 if it did not hold. */
static int cache_pattern(int fd)
{
	char c;
	size_t i;

	if (gt_make_cold(fd))
		return -1;
	/* no readahead around the reads: only what is read gets cached */
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	for (i = 0; i < FPAGES; i++)
		if (cached_by_pattern(i) && pread(fd, &c, 1, P(i)) != 1)
			return -1;
	for (i = 0; i < FPAGES; i++) {
		long r = gt_file_resident(fd, P(i), P(1));

		if (r != cached_by_pattern(i)) {
			gt_diag("page %zu: resident %ld after the reads", i, r);
			return -1;
		}
	}
	return 0;
}

static void test_file_pattern(void)
{
	static const char *names[] = {
		"predicts: file, shared mapping afresh: N where mincore says cached, C elsewhere, E past EOF",
		"predicts: file, private mapping afresh: the same",
		"predicts: file, pages read through the mapping are R, the rest unchanged",
	};
	const size_t npages = FPAGES + 4;	/* 4 pages past EOF */
	char path[512], want[FPAGES + 8], *s, *pv;
	volatile char sink;
	size_t i, k;
	pid_t pid;
	int fd;

	fd = make_file(path, sizeof(path));
	if (fd < 0 || cache_pattern(fd)) {
		for (k = 0; k < 3; k++)
			gt_skip(fd < 0 ? "cannot create the file" :
				"could not make the cache pattern", "%s",
				names[k]);
		if (fd >= 0)
			close(fd);
		return;
	}
	s = mmap(NULL, P(npages), PROT_READ, MAP_SHARED, fd, 0);
	pv = mmap(NULL, P(npages), PROT_READ, MAP_PRIVATE, fd, 0);
	if (s == MAP_FAILED || pv == MAP_FAILED)
		gt_bail("mmap %s: %s", path, gt_errname(errno));
	/* the madvise keeps fault-around of the reads below to one page */
	madvise(s, P(npages), MADV_RANDOM);

	want_from_mincore(s, npages, FPAGES, want);
	for (i = 0; i < FPAGES; i++)
		if ((want[i] == 'N') != cached_by_pattern(i))
			gt_bail("mincore disagrees with the reads at page %zu",
				i);
	pid = fork_sleeper();
	expect_agrees(0, s, npages, want, names[0]);
	expect_agrees(pid, s, npages, want, names[0]);
	expect_agrees(0, pv, npages, want, names[1]);
	expect_agrees(pid, pv, npages, want, names[1]);
	kill_sleeper(pid);

	/* touch a few cached pages through the shared mapping */
	for (i = 0; i < FPAGES; i += 9)
		if (cached_by_pattern(i)) {
			sink = s[P(i)];
			want[i] = 'R';
		}
	(void)sink;
	/* fault-around may have mapped cached neighbours: mincore can't tell */
	for (i = 0; i < FPAGES; i++)
		if (want[i] == 'N' && gt_pagemap(s + P(i)) & GT_PM_PRESENT)
			want[i] = 'R';
	expect_agrees(0, s, npages, want, names[2]);
	/* fork copies no PTE of a shared file mapping: the child's are 'N' */
	pid = fork_sleeper();
	for (i = 0; i < FPAGES; i++)
		if (want[i] == 'R')
			want[i] = 'N';
	expect_agrees(pid, s, npages, want,
		      "predicts: file, a forked child's fresh view of the same pages is N");
	kill_sleeper(pid);

	munmap(s, P(npages));
	munmap(pv, P(npages));
	close(fd);
	unlink(path);
}

/* A read started by POSIX_FADV_WILLNEED on the throttled disk: 'W'. */
static void test_file_in_flight(void)
{
	const char *name = "predicts: file pages whose read is in flight are W (then N)";
	const size_t n = 32;
	const off_t off = 24 << 20;
	unsigned char st[32];
	char path[512], *p;
	size_t i, w = 0, other = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/cold-64m",
		 gt_env("GUPNW_SLOW", "/mnt/slow"));
	fd = open(path, O_RDONLY);
	if (fd < 0 || gt_make_cold(fd)) {
		gt_skip(fd < 0 ? "no $GUPNW_SLOW/cold-64m" :
			"could not make the file cold", "%s", name);
		if (fd >= 0)
			close(fd);
		return;
	}
	p = mmap(NULL, P(n), PROT_READ, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	gt_drain_throttle(path);
	posix_fadvise(fd, off, P(n), POSIX_FADV_WILLNEED);
	if (gupnw_probe(g, p, P(n), GUPNW_NOFAULT, st, NULL))
		gt_bail("probe: %s", gt_errname(errno));
	for (i = 0; i < n; i++) {
		if (st[i] == 'W')
			w++;
		else if (st[i] != 'N' && st[i] != 'C')
			other++;
	}
	/* 32 reads at 20 per second: most are still in flight */
	if (!gt_ok(w > 0 && !other, "%s", name))
		gt_diag("states %s", gt_states_str(st, n));
	gt_wait_resident(p, P(n), 20000);
	gt_expect_probe(g, 0, p, n, GUPNW_NOFAULT,
			"NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN", NULL,
			"predicts: once the reads finished, the pages are N");
	munmap(p, P(n));
	close(fd);
}

/* 'R' present, 'C' a swap entry, 'N' neither (never touched). */
static void want_from_pagemap(const char *p, size_t npages, char *want)
{
	size_t i;

	for (i = 0; i < npages; i++) {
		uint64_t e = gt_pagemap(p + P(i));

		want[i] = e & GT_PM_PRESENT ? 'R' : e & GT_PM_SWAP ? 'C' : 'N';
	}
	want[npages] = '\0';
}

/*
 * Memory partly pushed to swap, as one kind of memory (a variant of the
 * case "swap") leaves it: the range to probe, what NOFAULT must say of each
 * page (want), and what to free.
 */
struct swapped {
	char *p;		/* the range to probe */
	size_t n;		/* its pages */
	char *want;		/* n letters and a NUL */
	char *map;		/* the mapping to unmap, of maplen bytes */
	size_t maplen;
	int fd;
};

struct swap_kind {
	const char *check;	/* the name of the agreement check */
	/* 0, or -1 after a SKIP line for check */
	int (*prepare)(const struct swap_kind *k, struct swapped *s);
	/* checks after the agreement, or NULL */
	void (*after)(struct swapped *s);
};

/* Private anon: pages 0-31 swapped out, 32-47 resident, 48-63 untouched. */
static int swap_anon(const struct swap_kind *k, struct swapped *s)
{
	size_t i, nswap = 0, nr = 0, nn = 0;

	s->n = APAGES;
	s->maplen = P(APAGES);
	s->map = mmap(NULL, s->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->map == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	s->p = s->map;
	madvise(s->p, P(APAGES), MADV_NOHUGEPAGE);
	gt_fill_pages(s->p, 48, 43);
	if (gt_swap_out(s->p, P(32), memcg, 1, GT_SWAP_EVICTED)) {
		gt_skip("could not swap the pages out", "%s", k->check);
		return -1;
	}
	want_from_pagemap(s->p, APAGES, s->want);
	for (i = 0; i < APAGES; i++) {
		nswap += s->want[i] == 'C';
		nr += s->want[i] == 'R';
		nn += s->want[i] == 'N';
	}
	gt_diag("pagemap: %zu swapped, %zu present, %zu untouched", nswap, nr,
		nn);
	return 0;
}

static void swap_anon_after(struct swapped *s)
{
	gt_ok(gt_resident(s->p, P(32)) == 0,
	      "predicts: NOFAULT of swapped anon started no swap-in (mincore 0)");
}

/* THP-backed anon: two THPs, the first pushed to swap (split or not). */
static int swap_thp(const struct swap_kind *k, struct swapped *s)
{
	const size_t thp = 2 << 20;

	s->n = 2 * thp / gt_page;
	s->maplen = 3 * thp;
	s->map = mmap(NULL, s->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->map == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	s->p = (char *)(((uintptr_t)s->map + thp - 1) & ~(uintptr_t)(thp - 1));
	madvise(s->p, 2 * thp, MADV_HUGEPAGE);
	gt_fill_pages(s->p, s->n, 46);
	gt_diag("AnonHugePages before the swap-out: %ld kB",
		gt_smaps_kb(s->p, "AnonHugePages"));
	if (gt_swap_out(s->p, thp, memcg, 1, GT_SWAP_EVICTED)) {
		gt_skip("could not swap the first THP out", "%s", k->check);
		return -1;
	}
	want_from_pagemap(s->p, s->n, s->want);
	return 0;
}

/*
 * A memfd: pages 0-31 swapped out, 32-47 in memory, 48-63 holes, probed
 * through a fresh mapping (nothing mapped: the answer is the page cache's).
 */
static int swap_memfd(const struct swap_kind *k, struct swapped *s)
{
	size_t i;

	s->n = APAGES;
	s->maplen = P(APAGES);
	s->fd = memfd_create("gupnw-t43", MFD_CLOEXEC);
	if (s->fd < 0 || ftruncate(s->fd, P(APAGES)))
		gt_bail("memfd: %s", gt_errname(errno));
	s->map = mmap(NULL, P(APAGES), PROT_READ | PROT_WRITE, MAP_SHARED,
		      s->fd, 0);
	if (s->map == MAP_FAILED)
		gt_bail("mmap memfd: %s", gt_errname(errno));
	madvise(s->map, P(APAGES), MADV_NOHUGEPAGE);
	gt_fill_pages(s->map, 48, 44);
	if (gt_swap_out(s->map, P(32), memcg, 0, GT_SWAP_EVICTED)) {
		gt_skip("could not swap the pages out", "%s", k->check);
		return -1;
	}
	munmap(s->map, P(APAGES));
	s->map = mmap(NULL, P(APAGES), PROT_READ, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED)
		gt_bail("mmap memfd: %s", gt_errname(errno));
	s->p = s->map;
	/*
	 * mincore(2) looks a shmem swap entry up in the swap cache; a module
	 * cannot (README.md, "What --no-fault answers"), so a page reclaim
	 * swapped out and something read back into the swap cache since may
	 * read 'C' where mincore says resident: 'n' accepts either.  A page
	 * mincore calls cold must read 'C'.
	 */
	for (i = 0; i < APAGES; i++)
		s->want[i] = i >= 48 ? 'N' :
			     gt_page_resident(s->p + P(i)) == 1 ? 'n' : 'C';
	s->want[APAGES] = '\0';
	return 0;
}

static const struct swap_kind swap_anon_kind = {
	"predicts: private anon: R present, C on swap, N untouched, as pagemap says",
	swap_anon, swap_anon_after,
};
static const struct swap_kind swap_thp_kind = {
	"predicts: THP anon: R in THPs, C on swap, as pagemap says",
	swap_thp, NULL,
};
static const struct swap_kind swap_memfd_kind = {
	"predicts: memfd: C out on swap, N cached or a hole, as mincore says",
	swap_memfd, NULL,
};

static const struct gt_variant swap_kinds[] = {
	{ "anon", &swap_anon_kind },
	{ "thp", &swap_thp_kind },
	{ "memfd", &swap_memfd_kind },
};

/*
 * NOFAULT agrees with the kernel's view of memory partly on swap, in the
 * caller's mm and in pid mode (a forked child shares the swap entries and
 * the pages in memory).
 */
static void case_swap(void)
{
	const struct swap_kind *k = gt_variant->data;
	struct swapped s = { .fd = -1 };
	pid_t pid;

	if (!in_memcg) {
		gt_skip("no memory cgroup", "%s", k->check);
		return;
	}
	s.want = malloc(2 * (2 << 20) / gt_page + 1);
	if (!s.want)
		gt_bail("malloc");
	if (!k->prepare(k, &s)) {
		expect_agrees(0, s.p, s.n, s.want, k->check);
		pid = fork_sleeper();
		expect_agrees(pid, s.p, s.n, s.want, k->check);
		kill_sleeper(pid);
		if (k->after)
			k->after(&s);
	}
	if (s.map && s.map != MAP_FAILED)
		munmap(s.map, s.maplen);
	if (s.fd >= 0)
		close(s.fd);
	free(s.want);
}

/* Fields 10 (minflt) and 12 (majflt) of /proc/self/stat. */
static void faults(long *minflt, long *majflt)
{
	char buf[1024], *s, *tok, *save;
	int field = 3;

	*minflt = *majflt = -1;
	if (gt_read_file("/proc/self/stat", buf, sizeof(buf)) <= 0)
		return;
	s = strrchr(buf, ')');
	if (!s)
		return;
	for (tok = strtok_r(s + 1, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save), field++) {
		if (field == 10)
			*minflt = strtol(tok, NULL, 10);
		if (field == 12) {
			*majflt = strtol(tok, NULL, 10);
			break;
		}
	}
}

static void test_changes_nothing(void)
{
	const size_t n = 2 * FPAGES;
	char path[512], *a, *f, before[FPAGES + 1], after[FPAGES + 1];
	uint64_t *pm0 = calloc(n, sizeof(*pm0));
	long min0, maj0, min1, maj1, pte0, pte1;
	size_t i, same = 0;
	int fd;

	if (!pm0)
		gt_bail("calloc");
	fd = make_file(path, sizeof(path));
	if (fd < 0 || cache_pattern(fd)) {
		gt_skip("no file with a cache pattern",
			"predicts: NOFAULT changes nothing (page cache, page tables, fault counters)");
		if (fd >= 0)
			close(fd);
		free(pm0);
		return;
	}
	/* one region: FPAGES of anon (half touched), FPAGES of the file */
	a = mmap(NULL, P(n), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	madvise(a, P(FPAGES), MADV_NOHUGEPAGE);
	gt_fill_pages(a, FPAGES / 2, 45);
	f = mmap(a + P(FPAGES), P(FPAGES), PROT_READ, MAP_SHARED | MAP_FIXED,
		 fd, 0);
	if (f == MAP_FAILED)
		gt_bail("mmap file: %s", gt_errname(errno));
	want_from_mincore(f, FPAGES, FPAGES, before);
	for (i = 0; i < n; i++)
		pm0[i] = gt_pagemap(a + P(i));
	/* the first call may fault in the library's and the stack's pages */
	if (gupnw_probe(g, a, P(n), GUPNW_NOFAULT, NULL, NULL))
		gt_bail("probe: %s", gt_errname(errno));
	faults(&min0, &maj0);
	pte0 = gt_status_kb("VmPTE");
	faults(&min0, &maj0);
	for (i = 0; i < 4; i++)
		if (gupnw_probe(g, a, P(n), GUPNW_NOFAULT, NULL, NULL))
			gt_bail("probe: %s", gt_errname(errno));
	faults(&min1, &maj1);
	pte1 = gt_status_kb("VmPTE");
	want_from_mincore(f, FPAGES, FPAGES, after);
	for (i = 0; i < n; i++)
		same += gt_pagemap(a + P(i)) == pm0[i];

	gt_ok(!strcmp(before, after),
	      "predicts: NOFAULT left the page cache as it was (mincore)");
	if (!gt_eq(n, same, "predicts: NOFAULT left the page tables as they were (pagemap)"))
		gt_diag("%zu of %zu pagemap entries unchanged", same, n);
	gt_eq(pte0, pte1, "predicts: NOFAULT allocated no page table (VmPTE)");
	if (!gt_ok(min0 >= 0 && min0 == min1 && maj0 == maj1,
		   "predicts: NOFAULT took no fault (minflt, majflt)"))
		gt_diag("minflt %ld -> %ld, majflt %ld -> %ld", min0, min1,
			maj0, maj1);
	munmap(a, P(n));
	close(fd);
	unlink(path);
	free(pm0);
}

/* What a NOFAULT probe answers is advertised. */
static void case_feature_cold(void)
{
	struct gupnw_module_info info;

	memset(&info, 0, sizeof(info));
	if (!gupnw_module_info(g, &info))
		gt_ok(info.features & GUPNW_FEATURE_COLD,
		      "predicts: GET_INFO advertises GUPNW_FEATURE_COLD");
	else
		gt_ok(0, "predicts: GET_INFO: %s", gt_errname(errno));
}

/*
 * Each case enters the memory group itself: its pages shared with the
 * parent stay charged outside, so memory.reclaim evicts the case's test
 * pages and not its stack.
 */
static void enter_memcg(void)
{
	in_memcg = gt_memcg_join("gupnw-t43", memcg, sizeof(memcg));
}

static const struct gt_case cases[] = {
	GT_CASE("feature-cold", case_feature_cold),
	GT_CASE("file-pattern", test_file_pattern),
	GT_CASE("file-in-flight", test_file_in_flight),
	GT_CASE_VARIANTS("swap", case_swap, swap_kinds),
	GT_CASE("changes-nothing", test_changes_nothing),
};

static int after(void)
{
	gt_memcg_leave("/sys/fs/cgroup/gupnw-t43");
	return 0;
}

GT_FILE(cases, .lib = &g, .setup = enter_memcg, .after = after);
