// SPDX-License-Identifier: GPL-2.0
/*
 * t48_walk_races_thp: the lockless page-table walk (module/gupnw_pte.c)
 * raced, in the prober's own mm and through GUPNW_PROBE_TARGET_FD in
 * another process's, against what t46 does not do: THP collapse of shmem
 * and of ext4 file mappings (MADV_COLLAPSE, and khugepaged made eager with
 * max_ptes_none 511: retract_page_tables() and pte_free_defer() free PTE
 * tables under the read lock only), truncation, MADV_DONTNEED of single
 * pages (a split) and of whole PMD ranges (7.x PT_RECLAIM frees the empty
 * PTE table), mremap and swap-out (MADV_PAGEOUT), for anon, shmem and file
 * memory.
 *
 * Each case runs a fixed number of mutation rounds, and a round starts only
 * once the probers have probed since the last one, so every round is raced
 * whatever the speed of the machine.  Every result must be valid for the
 * memory: the call succeeds, every state is a letter the mode can give,
 * the counts equal the states, and no page that is mapped and inside the
 * file is 'E' ('E' is only right on the PROT_NONE reservation next to the
 * region and, for shmem and file, on the tail a truncation cuts off for a
 * moment).  The cases run in a memory cgroup that must be empty again at
 * the end (a leaked page reference keeps its page charged); the harness
 * fails the run on any kernel splat (KASAN, KFENCE, lockdep, DEBUG_VM on
 * the debug kernel).
 *
 * A file THP needs READ_ONLY_THP_FOR_FS (the debug kernel has it) or, on
 * 7.x, ext4's large folios; 6.1 does not collapse files with MADV_COLLAPSE
 * at all (EINVAL).  Where a collapse fails the rest of the race runs all
 * the same; how many collapses succeeded is printed as a diagnostic.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif

#define P(n)		((size_t)(n) * gt_page)
#define THP		(2UL << 20)
#define NTHP		2			/* THPs raced over */
#define REGION		(NTHP * THP)
#define NKIND		8			/* mutations of one cycle */
#define ROUNDS		(3 * NKIND)
#define PROBERS		3
#define PROGRESS_S	60			/* probers stuck this long: fail */
#define LEAK_SLACK	(256 * 1024)
#define MEMCG		"/sys/fs/cgroup/gupnw-t48"
#define THPDIR		"/sys/kernel/mm/transparent_hugepage/"
#define KHUGE		THPDIR "khugepaged/"

enum kind { ANON, SHMEM, FILEMAP };
static const char *const kind_name[] = { "anon", "shmem", "file" };

static struct gupnw *g;

/* Shared between the probers and the mutator, which in pid mode is a child. */
struct race {
	enum kind kind;
	char *base;			/* region, then a PROT_NONE spare */
	size_t npages;			/* probed: region and spare */
	size_t e_from;			/* first page that may be 'E' */
	int modes;			/* 2: no WRITE (read-only file) */
	volatile int ready, go, done, release, stop;
	unsigned long probes, bad, rounds;
	unsigned long collapse_ok, collapse_fail, pageout_fail;
	int collapse_errno;		/* of the last failed MADV_COLLAPSE */
	char first_bad[256], setup_err[128];
	char path[256];			/* the file of FILEMAP */
};

static const unsigned int modes[] = {
	GUPNW_NOFAULT, 0, GUPNW_NOFAULT | GUPNW_WRITE,
};

struct prober {
	struct race *r;
	int fd;				/* /proc/PID/mem, or -1: own mm */
	int idx;
	pthread_t t;
};

static int letter_ok(unsigned char s, unsigned int flags)
{
	if (flags & GUPNW_NOFAULT)
		return strchr("R.ENCW", s) != NULL;
	/* C: past the I/O caps */
	return strchr("RFW.EC", s) != NULL;
}

static void *prober(void *arg)
{
	struct prober *pr = arg;
	struct race *r = pr->r;
	size_t n = r->npages, i;
	unsigned char *st = malloc(n);
	unsigned long k = pr->idx;

	if (!st)
		gt_bail("malloc");
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		unsigned int flags = modes[k++ % r->modes];
		struct gupnw_counts c;
		char why[160] = "";
		int ret, err;

		memset(&c, 0, sizeof(c));
		if (pr->fd >= 0)
			ret = gupnw_probe_memfd(g, pr->fd,
						(uint64_t)(uintptr_t)r->base,
						P(n), flags, st, &c);
		else
			ret = gupnw_probe(g, r->base, P(n), flags, st, &c);
		err = errno;
		if (ret) {
			snprintf(why, sizeof(why), "probe failed: %s",
				 gt_errname(err));
		} else {
			for (i = 0; i < n; i++) {
				if (!letter_ok(st[i], flags)) {
					snprintf(why, sizeof(why),
						 "page %zu: '%c', a letter the mode cannot give",
						 i, st[i]);
					break;
				}
				if (st[i] == 'E' && i < r->e_from) {
					snprintf(why, sizeof(why),
						 "page %zu: 'E' on mapped memory",
						 i);
					break;
				}
			}
			if (!why[0] && !gt_counts_tally_ok(&c, st, n))
				snprintf(why, sizeof(why),
					 "counts differ from the states");
		}
		if (why[0] && __atomic_fetch_add(&r->bad, 1, __ATOMIC_RELAXED) == 0)
			snprintf(r->first_bad, sizeof(r->first_bad),
				 "flags %#x: %s", flags, why);
		__atomic_add_fetch(&r->probes, 1, __ATOMIC_RELEASE);
	}
	free(st);
	return NULL;
}

static void probers_start(struct race *r, struct prober *pr, int fd)
{
	int i;

	for (i = 0; i < PROBERS; i++) {
		pr[i] = (struct prober){ .r = r, .fd = fd, .idx = i };
		if (pthread_create(&pr[i].t, NULL, prober, &pr[i]))
			gt_bail("pthread_create");
	}
}

static void probers_stop(struct race *r, struct prober *pr)
{
	int i;

	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < PROBERS; i++)
		pthread_join(pr[i].t, NULL);
}

/* --- the memory and what changes it --- */

static int mem_fd = -1;		/* the memfd or the file, in the mutator */

static void touch(struct race *r)
{
	volatile char *p = (volatile char *)r->base;
	size_t i;

	for (i = 0; i < REGION; i += gt_page) {
		if (r->kind == FILEMAP)
			(void)p[i];
		else
			p[i] = (char)(i >> 12 | 1);
	}
}

/* The region over its reservation; "" or why not. */
static const char *map_region(struct race *r)
{
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED | MAP_FIXED;
	char *p;

	switch (r->kind) {
	case ANON:
		flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
		break;
	case SHMEM:
		mem_fd = memfd_create("gupnw-t48", MFD_CLOEXEC);
		if (mem_fd < 0 || ftruncate(mem_fd, REGION))
			return "memfd";
		break;
	case FILEMAP:
		/* read-only, no writer anywhere: READ_ONLY_THP_FOR_FS;
		 * 6.1 also wants VM_EXEC */
		mem_fd = open(r->path, O_RDONLY);
		if (mem_fd < 0)
			return "open the file read-only";
		prot = PROT_READ | PROT_EXEC;
		break;
	}
	p = mmap(r->base, REGION, prot, flags, mem_fd, 0);
	if (p != r->base)
		return "mmap the region";
	madvise(p, REGION, MADV_HUGEPAGE);
	touch(r);
	return "";
}

static void reserve_spare(struct race *r)
{
	mmap(r->base + REGION, REGION, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
}

/* Cut the tail (inside the last THP) off the file and give it back. */
static void truncate_tail(struct race *r, unsigned long round)
{
	off_t cut = REGION - THP / 2 - P(round % 7);

	if (r->kind == SHMEM) {
		if (ftruncate(mem_fd, cut) || ftruncate(mem_fd, REGION))
			gt_diag("ftruncate memfd: %s", gt_errname(errno));
	} else if (r->kind == FILEMAP) {
		/* truncate(2) by path: a writer for a moment only */
		if (truncate(r->path, cut) || truncate(r->path, REGION))
			gt_diag("truncate %s: %s", r->path, gt_errname(errno));
	} else {	/* anon: gone, tables freed, and fresh */
		munmap(r->base, REGION);
		mmap(r->base, REGION, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		madvise(r->base, REGION, MADV_HUGEPAGE);
	}
}

static void mutate(struct race *r, unsigned long round)
{
	char *p = r->base;
	size_t t;

	switch (round % NKIND) {
	case 0:
	case 4:
		touch(r);
		break;
	case 1:		/* collapse (khugepaged also runs, eager) */
		if (madvise(p, REGION, MADV_COLLAPSE)) {
			r->collapse_fail++;
			r->collapse_errno = errno;
		} else {
			r->collapse_ok++;
		}
		break;
	case 2:		/* split each PMD mapping, then map it all by PTEs */
		for (t = 0; t < NTHP; t++)
			madvise(p + t * THP + P(1 + round % 500), P(1),
				MADV_DONTNEED);
		touch(r);
		break;
	case 3:		/* whole PMD ranges: 7.x frees the empty PTE tables */
		madvise(p, REGION, MADV_DONTNEED);
		break;
	case 5:
		truncate_tail(r, round);
		touch(r);
		break;
	case 6:		/* away to the spare and back */
		if (mremap(p, REGION, REGION, MREMAP_MAYMOVE | MREMAP_FIXED,
			   p + REGION) != MAP_FAILED)
			mremap(p + REGION, REGION, REGION,
			       MREMAP_MAYMOVE | MREMAP_FIXED, p);
		reserve_spare(r);
		break;
	case 7:		/* swap-out (anon, shmem), clean page cache dropped */
		if (madvise(p, REGION, MADV_PAGEOUT))
			r->pageout_fail++;
		break;
	}
}

/* Wait until the probers probed since @since; 0 if they seem stuck. */
static int probed_since(struct race *r, unsigned long since)
{
	uint64_t end = gt_now_ns() + (uint64_t)PROGRESS_S * 1000000000ULL;

	while (__atomic_load_n(&r->probes, __ATOMIC_ACQUIRE) < since + PROBERS) {
		if (gt_now_ns() > end)
			return 0;
		sched_yield();
	}
	return 1;
}

static void mutate_rounds(struct race *r)
{
	unsigned long round, seen;

	for (round = 0; round < ROUNDS; round++) {
		seen = __atomic_load_n(&r->probes, __ATOMIC_ACQUIRE);
		mutate(r, round);
		r->rounds++;
		if (!probed_since(r, seen)) {
			snprintf(r->setup_err, sizeof(r->setup_err),
				 "no probe in %d s after round %lu",
				 PROGRESS_S, round);
			break;
		}
	}
}

/* --- the cases --- */

static struct race *race_new(enum kind kind)
{
	struct race *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	size_t len = 2 * REGION + THP;
	char *res;

	if (r == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	r->kind = kind;
	r->modes = kind == FILEMAP ? 2 : 3;
	r->npages = 2 * REGION / gt_page;
	/* 'E': the spare, and for shmem and file the tail truncation cuts */
	r->e_from = (kind == ANON ? REGION : REGION - THP) / gt_page;
	res = mmap(NULL, len, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		gt_bail("mmap reserve: %s", gt_errname(errno));
	r->base = (char *)(((uintptr_t)res + THP - 1) & ~(THP - 1));
	if (kind == FILEMAP) {
		static char buf[65536];
		size_t done;
		int fd;

		snprintf(r->path, sizeof(r->path), "%s/t48-thp.%d",
			 gt_env("GUPNW_DATA", "/mnt/data"), (int)getpid());
		fd = open(r->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			return NULL;
		memset(buf, 0x47, sizeof(buf));
		for (done = 0; done < REGION; done += sizeof(buf))
			if (write(fd, buf, sizeof(buf)) != sizeof(buf))
				gt_bail("write %s: %s", r->path,
					gt_errname(errno));
		/* a dirty page cannot be collapsed */
		if (fsync(fd) || close(fd))
			gt_bail("fsync %s: %s", r->path, gt_errname(errno));
	}
	return r;
}

static void race_report(struct race *r, const char *mode)
{
	if (!gt_ok(!r->bad && !r->setup_err[0] && r->rounds == ROUNDS &&
		   r->probes >= ROUNDS,
		   "walk races: %s, %s: every probe valid through %d rounds of collapse, split, DONTNEED, truncate, mremap, swap-out",
		   kind_name[r->kind], mode, ROUNDS)) {
		if (r->setup_err[0])
			gt_diag("%s", r->setup_err);
		gt_diag("%lu of %lu probes bad, first: %s", r->bad, r->probes,
			r->first_bad);
	}
	gt_diag("%s, %s: %lu probes, %lu rounds, MADV_COLLAPSE %lu ok %lu failed%s%s, MADV_PAGEOUT %lu failed",
		kind_name[r->kind], mode, r->probes, r->rounds, r->collapse_ok,
		r->collapse_fail, r->collapse_errno ? " last " : "",
		r->collapse_errno ? gt_errname(r->collapse_errno) : "",
		r->pageout_fail);
	if (r->path[0])
		unlink(r->path);
}

static void race_own(enum kind kind)
{
	struct race *r = race_new(kind);
	struct prober pr[PROBERS];
	const char *err;

	if (!r)
		GT_SKIP("cannot create a file in $GUPNW_DATA");
	reserve_spare(r);
	err = map_region(r);
	if (err[0])
		gt_bail("%s: %s", err, gt_errname(errno));
	probers_start(r, pr, -1);
	mutate_rounds(r);
	probers_stop(r, pr);
	munmap(r->base, 2 * REGION);
	if (mem_fd >= 0)
		close(mem_fd);
	race_report(r, "own mm");
}

static void race_pid(enum kind kind)
{
	struct race *r = race_new(kind);
	struct prober pr[PROBERS];
	int fd, status = 0;
	pid_t pid;

	if (!r)
		GT_SKIP("cannot create a file in $GUPNW_DATA");
	reserve_spare(r);
	pid = fork();
	if (pid < 0)
		gt_bail("fork: %s", gt_errname(errno));
	if (!pid) {
		const char *err = map_region(r);

		if (err[0]) {
			snprintf(r->setup_err, sizeof(r->setup_err),
				 "target: %s: %s", err, gt_errname(errno));
			_exit(1);
		}
		__atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
			sched_yield();
		mutate_rounds(r);
		/* stay until the probers stopped: no ESRCH to tell apart */
		__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&r->release, __ATOMIC_ACQUIRE))
			gt_sleep_ms(1);
		_exit(0);
	}
	while (!__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE)) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			gt_bail("target did not start: %s", r->setup_err);
		gt_sleep_ms(1);
	}
	fd = gupnw_open_pid_mem(pid, GUPNW_WRITE);
	if (fd < 0)
		gt_bail("open /proc/%d/mem: %s", (int)pid, gt_errname(errno));
	probers_start(r, pr, fd);
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			snprintf(r->setup_err, sizeof(r->setup_err),
				 "target died (status %#x)", status);
			pid = 0;
			break;
		}
		gt_sleep_ms(5);
	}
	probers_stop(r, pr);
	__atomic_store_n(&r->release, 1, __ATOMIC_RELEASE);
	if (pid)
		waitpid(pid, &status, 0);
	close(fd);
	race_report(r, "pid mode");
}

static void setup(void)
{
	char path[256];
	int ret = gt_memcg_enter("gupnw-t48", path, sizeof(path));

	if (ret)
		gt_bail("memory cgroup: %s", gt_errname(-ret));
}

static void anon_own(void)	{ race_own(ANON); }
static void anon_pid(void)	{ race_pid(ANON); }
static void shmem_own(void)	{ race_own(SHMEM); }
static void shmem_pid(void)	{ race_pid(SHMEM); }
static void file_own(void)	{ race_own(FILEMAP); }
static void file_pid(void)	{ race_pid(FILEMAP); }

/* Not a race: what every race charged to the group is freed. */
static void memory_freed(void)
{
	long long before = gt_memcg_current(MEMCG), cur;

	if (before < 0)
		GT_SKIP("no memory cgroup " MEMCG);
	cur = gt_memcg_drain(MEMCG, LEAK_SLACK);
	gt_diag("memory.current after the races: %lld bytes, %lld once drained",
		before, cur);
	if (!gt_ok(cur >= 0 && cur <= LEAK_SLACK,
		   "walk races: all memory the races charged is freed (memory.current <= %d KiB)",
		   LEAK_SLACK / 1024))
		gt_memcg_print_stat(MEMCG, 0);
	if (rmdir(MEMCG))
		gt_diag("rmdir %s: %s", MEMCG, gt_errname(errno));
}

/*
 * khugepaged without pauses and collapsing ranges with holes (511, the
 * kernel's default; the guest runs with 0: docs/testing.md), shmem THP on
 * MADV_HUGEPAGE - for the length of this file only.
 */
static const char *const knobs[] = {
	KHUGE "scan_sleep_millisecs", KHUGE "alloc_sleep_millisecs",
	KHUGE "pages_to_scan", KHUGE "max_ptes_none", THPDIR "shmem_enabled",
};
#define NKNOBS	(sizeof(knobs) / sizeof(knobs[0]))
static char saved[NKNOBS][64];

static void knobs_set(int on)
{
	static const char *const want[NKNOBS] = {
		"0", "0", "4096", "511", "advise",
	};
	size_t i;
	char *b, *e;

	for (i = 0; i < NKNOBS; i++) {
		if (!on) {
			if (saved[i][0])
				gt_write_file(knobs[i], saved[i]);
			continue;
		}
		if (gt_read_file(knobs[i], saved[i], sizeof(saved[i])) <= 0) {
			saved[i][0] = '\0';
			continue;
		}
		/* shmem_enabled reads "always within_size [advise] never ..." */
		b = strchr(saved[i], '[');
		e = b ? strchr(b, ']') : NULL;
		if (b && e) {
			*e = '\0';
			memmove(saved[i], b + 1, strlen(b + 1) + 1);
		}
		gt_write_file(knobs[i], want[i]);
	}
}

static const struct gt_case cases[] = {
	GT_CASE_FIXTURE("anon-own", anon_own, setup),
	GT_CASE_FIXTURE("anon-pid", anon_pid, setup),
	GT_CASE_FIXTURE("shmem-own", shmem_own, setup),
	GT_CASE_FIXTURE("shmem-pid", shmem_pid, setup),
	GT_CASE_FIXTURE("file-own", file_own, setup),
	GT_CASE_FIXTURE("file-pid", file_pid, setup),
	GT_CASE("memory-freed", memory_freed),
};

static int before(void)
{
	knobs_set(1);
	return 0;
}

static int after(void)
{
	knobs_set(0);
	return 0;
}

GT_FILE(cases, .lib = &g, .before = before, .after = after);
