// SPDX-License-Identifier: GPL-2.0
/*
 * t37_races: probes racing with everything that can change an address space
 * under them - munmap, mremap, mprotect, madvise(DONTNEED/PAGEOUT), fork,
 * exit of a probed process, truncate and hole punching of a mapped file,
 * swapoff - and many probers at once.
 *
 * Each race runs for RACE_MS with PROBERS threads probing (rotating through
 * NOWAIT, NOFAULT, WRITE and WAIT) while the main thread mutates.  Every
 * result must be well-formed: the call succeeds (or, on a process that
 * exited, fails with ESRCH), every state is a letter the mode can give,
 * the counts equal the states.  The kernel log must stay clean (the harness
 * checks).
 *
 * All of it runs in a child process inside a memory cgroup; when that child
 * has exited, everything it and its own children charged must come back
 * (memory.current of the emptied group, after its per-CPU charge caches are
 * drained): a page reference a probe leaked would keep its page charged.
 * Last, the module must unload and load again (it is left loaded).
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

#define P(n)		((size_t)(n) * gt_page)
#define RACE_MS		2000
#define PROBERS		4
#define ARENA		1024			/* pages raced over */
#define TARGET_PAGES	1024			/* 4 MiB per exiting target */
#define SWAP_RACE_PAGES	128			/* swapoff reads them at 50/s */
#define MANY_THREADS	8
#define MANY_PROBES	2000
#define LEAK_SLACK	(256 * 1024)		/* bytes left charged, at most */

static const unsigned int modes[] = {
	0, GUPNW_NOFAULT, GUPNW_WRITE, GUPNW_WAIT,
};

/* One race: what the probers probe, how, and what they found. */
struct race {
	const char *name;
	char *base;			/* own range, or the target's */
	size_t npages;
	int nmodes;			/* first nmodes of modes[] */
	int remote;			/* probe the process in target_pid */
	volatile int stop;
	/* remote: the current target, published by the mutator */
	volatile pid_t target_pid;
	volatile unsigned int target_gen;
	/* results */
	unsigned long probes, esrch, bad;
	char first_bad[256];
};

struct prober {
	struct race *r;
	int idx;
	struct gupnw *g;
	unsigned char *st;
	unsigned long probes, esrch, bad;
	char first_bad[256];
};

/* gt_states_str() and gt_counts_str() use static buffers */
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

/* A state letter the mode can give. */
static int state_ok(unsigned char s, unsigned int flags)
{
	if (flags & GUPNW_NOFAULT)
		return s == 'R' || s == '.' || s == 'E' || s == 'N' ||
		       s == 'W' || s == 'C';
	/* C: past the I/O caps (many probers share max_async_faults) */
	return s == 'R' || s == 'F' || s == 'W' || s == '.' || s == 'E' ||
	       s == 'C';
}

/* The counts agree with the states, 'C' counted in c->cold. */
static int counts_ok(const struct gupnw_counts *c, const unsigned char *s,
		     size_t n)
{
	return gt_counts_tally_ok(c, s, n);
}

static void check_result(struct prober *pr, unsigned int flags, int ret,
			 int err, const struct gupnw_counts *c)
{
	size_t n = pr->r->npages, i;

	if (ret) {
		if (pr->r->remote && err == ESRCH) {
			pr->esrch++;
			return;
		}
		if (!pr->bad++)
			snprintf(pr->first_bad, sizeof(pr->first_bad),
				 "flags %#x: probe failed: %s", flags,
				 gt_errname(err));
		return;
	}
	for (i = 0; i < n; i++)
		if (!state_ok(pr->st[i], flags))
			break;
	if (i < n || !counts_ok(c, pr->st, n)) {
		if (!pr->bad++) {
			pthread_mutex_lock(&report_lock);
			snprintf(pr->first_bad, sizeof(pr->first_bad),
				 "flags %#x: %s%s (counts %s)", flags,
				 i < n ? "bad state in " : "counts differ: ",
				 gt_states_str(pr->st, n), gt_counts_str(c));
			pthread_mutex_unlock(&report_lock);
		}
	}
}

static void *prober_main(void *arg)
{
	struct prober *pr = arg;
	struct race *r = pr->r;
	unsigned int gen = ~0U, k = pr->idx;
	struct gupnw_counts c;
	int fd = -1, ret;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		unsigned int flags = modes[k++ % r->nmodes];

		memset(&c, 0, sizeof(c));
		if (r->remote) {
			unsigned int now = __atomic_load_n(&r->target_gen,
							   __ATOMIC_ACQUIRE);

			if (now != gen) {
				if (fd >= 0)
					close(fd);
				gen = now;
				fd = gupnw_open_pid_mem(r->target_pid,
							GUPNW_WRITE);
			}
			if (fd < 0) {
				sched_yield();
				continue;
			}
			ret = gupnw_probe_memfd(pr->g, fd,
						(uintptr_t)r->base,
						P(r->npages), flags, pr->st,
						&c);
		} else {
			ret = gupnw_probe(pr->g, r->base, P(r->npages), flags,
					  pr->st, &c);
		}
		check_result(pr, flags, ret, errno, &c);
		pr->probes++;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static struct prober probers[PROBERS];
static pthread_t threads[PROBERS];
/* states buffers, made before any race leaves holes a mapping could fill */
static unsigned char *prober_st[PROBERS];

/* The slowest mutation of the current race (time between loop tests). */
static uint64_t iter_t0, slowest;

static int race_more(uint64_t end)
{
	uint64_t now = gt_now_ns();

	if (iter_t0 && now - iter_t0 > slowest)
		slowest = now - iter_t0;
	iter_t0 = now;
	return now < end;
}

static void race_start(struct race *r)
{
	int i;

	r->stop = 0;
	r->probes = r->esrch = r->bad = 0;
	iter_t0 = slowest = 0;
	r->first_bad[0] = '\0';
	for (i = 0; i < PROBERS; i++) {
		struct prober *pr = &probers[i];

		memset(pr, 0, sizeof(*pr));
		pr->r = r;
		pr->idx = i;
		pr->g = gupnw_open();
		pr->st = prober_st[i];
		if (!pr->g)
			gt_bail("races: gupnw_open: %s", gt_errname(errno));
		if (pthread_create(&threads[i], NULL, prober_main, pr))
			gt_bail("races: pthread_create");
	}
}

/* Stop the probers and report the race as one test line. */
static int race_end(struct race *r, unsigned long mutations)
{
	int i;

	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < PROBERS; i++) {
		struct prober *pr = &probers[i];

		pthread_join(threads[i], NULL);
		r->probes += pr->probes;
		r->esrch += pr->esrch;
		if (pr->bad && !r->bad)
			snprintf(r->first_bad, sizeof(r->first_bad), "%s",
				 pr->first_bad);
		r->bad += pr->bad;
		gupnw_close(pr->g);
	}
	gt_diag("%s: %lu probes (%lu ESRCH) during %lu mutations (slowest %.0f ms)",
		r->name, r->probes, r->esrch, mutations, gt_ms(slowest));
	/* probes that found the process gone do not count as raced */
	if (!gt_ok(!r->bad && r->probes - r->esrch >= PROBERS && mutations > 0,
		   "races: %s: every probe well-formed", r->name)) {
		gt_diag("%lu bad results; first: %s", r->bad, r->first_bad);
		return 0;
	}
	return 1;
}

static uint64_t deadline(void)
{
	return gt_now_ns() + (uint64_t)RACE_MS * 1000000ULL;
}

static unsigned int rnd(unsigned int *seed, unsigned int n)
{
	*seed = *seed * 1103515245 + 12345;
	return (*seed >> 16) % n;
}

/* A free, 2 MiB aligned range of len bytes (reserved, then released). */
static char *free_range(size_t len)
{
	char *p = mmap(NULL, len + (2 << 20), PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		gt_bail("races: reserve: %s", gt_errname(errno));
	a = ((uintptr_t)p + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1);
	munmap(p, len + (2 << 20));
	return (char *)a;
}

static int map_at(char *at, size_t len, int prot)
{
	char *p = mmap(at, len, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	if (p != at) {		/* kernel without MAP_FIXED_NOREPLACE */
		munmap(p, len);
		return -EEXIST;
	}
	return 0;
}

static void touch(char *p, size_t npages, size_t step)
{
	size_t i;

	for (i = 0; i < npages; i += step)
		p[P(i)] = (char)i;
}

static void race_munmap(void)
{
	struct race r = { .name = "munmap", .npages = ARENA, .nmodes = 4 };
	unsigned long n = 0;
	unsigned int seed = 1;
	uint64_t end;
	char *a = free_range(P(ARENA));

	if (map_at(a, P(ARENA), PROT_READ | PROT_WRITE))
		gt_bail("races: map arena");
	r.base = a;
	race_start(&r);
	for (end = deadline(); race_more(end); n++) {
		size_t off = rnd(&seed, ARENA), len = 1 + rnd(&seed, 256);

		if (len > ARENA - off)
			len = ARENA - off;
		touch(a + P(off), len, 3);
		munmap(a + P(off), P(len));
		if (map_at(a + P(off), P(len), PROT_READ | PROT_WRITE)) {
			gt_diag("munmap: re-mapping raced with another mapping");
			break;
		}
		if (!(n % 16)) {	/* now and then the whole arena */
			munmap(a, P(ARENA));
			if (map_at(a, P(ARENA), PROT_READ | PROT_WRITE))
				break;
		}
	}
	race_end(&r, n);
	munmap(a, P(ARENA));
}

/* Reserve [at, at + len) (PROT_NONE) so no other mapping can land there. */
static int reserve_at(char *at, size_t len)
{
	char *p = mmap(at, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	return p == at ? 0 : -1;
}

static void race_mremap(void)
{
	struct race r = { .name = "mremap", .npages = 2 * ARENA, .nmodes = 4 };
	const size_t half = P(ARENA);
	unsigned long n = 0;
	char *w = free_range(2 * half), *at = w, *to;
	uint64_t end;
	long bad;

	/* the arena in the first half of a window, the rest reserved */
	if (map_at(w, half, PROT_READ | PROT_WRITE) ||
	    reserve_at(w + half, half))
		gt_bail("races: map mremap window");
	gt_fill_pages(w, ARENA, 31);
	r.base = w;
	race_start(&r);
	for (end = deadline(); race_more(end); n++) {
		/* move the arena to the other half (over its reservation) */
		to = at == w ? w + half : w;
		if (mremap(at, half, half, MREMAP_MAYMOVE | MREMAP_FIXED,
			   to) == MAP_FAILED) {
			gt_diag("mremap: %s", gt_errname(errno));
			break;
		}
		if (reserve_at(at, half)) {
			gt_diag("mremap: could not reserve the vacated half");
			break;
		}
		at = to;
		/* cut its upper half (in two steps) and grow it back */
		if (mremap(at + half / 2, half / 2, half / 4, 0) == MAP_FAILED ||
		    mremap(at, half, half / 2, 0) == MAP_FAILED ||
		    mremap(at, half / 2, half, 0) == MAP_FAILED) {
			gt_diag("mremap in place: %s", gt_errname(errno));
			break;
		}
	}
	race_end(&r, n);
	/* the lower half moved with the arena every time; the upper was cut */
	bad = gt_check_pages(at, ARENA / 2, 31);
	if (!gt_ok(bad < 0, "races: mremap: the moved data is intact"))
		gt_diag("page %ld differs", bad);
	munmap(w, 2 * half);
}

static void race_mprotect(void)
{
	static const int prots[] = {
		PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
	};
	struct race r = { .name = "mprotect", .npages = ARENA, .nmodes = 4 };
	unsigned long n = 0;
	unsigned int seed = 2;
	char *a = free_range(P(ARENA));
	uint64_t end;

	if (map_at(a, P(ARENA), PROT_READ | PROT_WRITE))
		gt_bail("races: map arena");
	touch(a, ARENA, 2);
	r.base = a;
	race_start(&r);
	for (end = deadline(); race_more(end); n++) {
		size_t off = rnd(&seed, ARENA), len = 1 + rnd(&seed, ARENA - off);

		mprotect(a + P(off), P(len), prots[rnd(&seed, 3)]);
		if (!(n % 8)) {		/* merge the VMAs back */
			mprotect(a, P(ARENA), PROT_READ | PROT_WRITE);
			touch(a, ARENA, 5);
		}
	}
	race_end(&r, n);
	munmap(a, P(ARENA));
}

static void race_madvise(void)
{
	struct race r = { .name = "madvise(DONTNEED, PAGEOUT)", .npages = ARENA,
			  .nmodes = 4 };
	unsigned long n = 0;
	unsigned int seed = 3;
	char *a = free_range(P(ARENA));
	uint64_t end;

	if (map_at(a, P(ARENA), PROT_READ | PROT_WRITE))
		gt_bail("races: map arena");
	r.base = a;
	race_start(&r);
	for (end = deadline(); race_more(end); n++) {
		size_t off = rnd(&seed, ARENA), len = 1 + rnd(&seed, 256);

		if (len > ARENA - off)
			len = ARENA - off;
		/* paged-out pages come back at 50 per second: few of them */
		if (n % 4 == 3) {
			madvise(a + P(off), P(len < 8 ? len : 8), MADV_PAGEOUT);
		} else {
			touch(a + P(off), len, 1);
			madvise(a + P(off), P(len), MADV_DONTNEED);
		}
	}
	race_end(&r, n);
	munmap(a, P(ARENA));
}

static void race_fork(void)
{
	struct race r = { .name = "fork", .npages = ARENA, .nmodes = 4 };
	unsigned long n = 0;
	char *a = free_range(P(ARENA));
	uint64_t end;
	long bad;

	if (map_at(a, P(ARENA), PROT_READ | PROT_WRITE))
		gt_bail("races: map arena");
	gt_fill_pages(a, ARENA, 32);
	r.base = a;
	race_start(&r);
	for (end = deadline(); race_more(end); n++) {
		pid_t pid = fork();

		if (pid < 0) {
			gt_diag("fork: %s", gt_errname(errno));
			break;
		}
		if (!pid) {
			/* the child writes its own copies, then goes */
			touch(a, ARENA, 7);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	race_end(&r, n);
	bad = gt_check_pages(a, ARENA, 32);
	if (!gt_ok(bad < 0,
		   "races: fork: the parent's data is intact (children and WRITE probes broke COW)"))
		gt_diag("page %ld differs", bad);
	munmap(a, P(ARENA));
}

/* Targets that exit (or are killed) while they are probed. */
static void race_exit(void)
{
	struct race r = { .name = "exit of the probed process",
			  .npages = TARGET_PAGES, .nmodes = 4, .remote = 1 };
	unsigned long n = 0;
	unsigned int seed = 4;
	char *t = free_range(P(TARGET_PAGES));
	uint64_t end;
	int ready[2];

	/* mapped (untouched) here, so every target has it at the same place */
	if (map_at(t, P(TARGET_PAGES), PROT_READ | PROT_WRITE))
		gt_bail("races: map target area");
	if (pipe(ready))
		gt_bail("pipe");
	r.base = t;
	race_start(&r);
	for (end = deadline(); race_more(end); n++) {
		unsigned int linger = rnd(&seed, 20);
		char c = 0;
		pid_t pid = fork();

		if (pid < 0) {
			gt_diag("fork: %s", gt_errname(errno));
			break;
		}
		if (!pid) {
			struct timespec ts = { 0, (long)linger * 1000000L };

			touch(t, TARGET_PAGES, 1);
			if (write(ready[1], &c, 1) != 1)
				_exit(1);
			nanosleep(&ts, NULL);
			_exit(0);
		}
		if (read(ready[0], &c, 1) != 1)
			break;
		r.target_pid = pid;
		__atomic_add_fetch(&r.target_gen, 1, __ATOMIC_RELEASE);
		gt_sleep_ms(rnd(&seed, 20));
		if (n % 2)
			kill(pid, SIGKILL);	/* else it exits by itself */
		waitpid(pid, NULL, 0);
	}
	race_end(&r, n);
	close(ready[0]);
	close(ready[1]);
	munmap(t, P(TARGET_PAGES));
}

static void race_truncate(void)
{
	struct race r = { .name = "truncate and hole punching", .npages = 256,
			  .nmodes = 4 };
	unsigned long n = 0;
	unsigned int seed = 5;
	char path[512], buf[4096];
	uint64_t end;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "%s/t37-trunc.%d",
		 gt_env("GUPNW_DATA", "/mnt/data"), (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		gt_skip("cannot create a file in $GUPNW_DATA",
			"races: %s: every probe well-formed", r.name);
		return;
	}
	memset(buf, 0x5e, sizeof(buf));
	if (ftruncate(fd, P(r.npages)))
		gt_bail("ftruncate: %s", gt_errname(errno));
	p = mmap(NULL, P(r.npages), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap %s: %s", path, gt_errname(errno));
	r.base = p;
	race_start(&r);
	for (end = deadline(); race_more(end); n++) {
		size_t off = rnd(&seed, r.npages);

		switch (n % 3) {
		case 0:
			if (ftruncate(fd, P(rnd(&seed, r.npages + 1))))
				gt_diag("ftruncate: %s", gt_errname(errno));
			break;
		case 1:
			fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  P(off), P(1 + rnd(&seed, 16)));
			break;
		default:
			if (pwrite(fd, buf, sizeof(buf), P(off)) < 0)
				gt_diag("pwrite: %s", gt_errname(errno));
			break;
		}
	}
	race_end(&r, n);
	munmap(p, P(r.npages));
	close(fd);
	unlink(path);
}

static void race_swapoff(const char *memcg)
{
	struct race r = { .npages = SWAP_RACE_PAGES, .nmodes = 2 };
	char name[64];
	const char *swapdev = "/dev/vdb";
	int round, err = 0;
	uint64_t t0;
	long bad;
	char *a;

	a = mmap(NULL, P(SWAP_RACE_PAGES), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		gt_bail("races: mmap: %s", gt_errname(errno));
	madvise(a, P(SWAP_RACE_PAGES), MADV_NOHUGEPAGE);
	gt_fill_pages(a, SWAP_RACE_PAGES, 33);
	r.base = a;
	for (round = 0; round < 2 && !err; round++) {
		snprintf(name, sizeof(name), "swapoff, round %d", round + 1);
		r.name = name;
		/* mostly evicted; a page left in the swap cache is fine */
		gt_swap_out(a, P(SWAP_RACE_PAGES), memcg, 1, GT_SWAP_EVICTED);
		if (gt_swap_out(a, P(SWAP_RACE_PAGES), memcg, 1, GT_SWAP_ANY)) {
			gt_skip("could not swap the pages out",
				"races: %s: every probe well-formed", name);
			munmap(a, P(SWAP_RACE_PAGES));
			return;
		}
		race_start(&r);	/* NOWAIT and NOFAULT: WAIT would swap in */
		gt_sleep_ms(20);
		t0 = gt_now_ns();
		if (swapoff(swapdev))
			err = errno;
		slowest = gt_now_ns() - t0;
		if (swapon(swapdev, 0) && !err)
			err = errno;
		race_end(&r, 1);
	}
	if (err)
		gt_ok(0, "races: swapoff/swapon %s: %s", swapdev,
		      gt_errname(err));
	/* whatever happened, swap must be back on for later tests */
	if (swapon(swapdev, 0) && errno != EBUSY)
		gt_diag("swapon %s: %s", swapdev, gt_errname(errno));
	bad = gt_check_pages(a, SWAP_RACE_PAGES, 33);
	if (!gt_ok(bad < 0, "races: swapoff: the data came back intact"))
		gt_diag("page %ld differs", bad);
	munmap(a, P(SWAP_RACE_PAGES));
}

/*
 * Many probers, no mutator: every result must equal the first snapshot.
 * The range mixes touched anon, a hole, PROT_NONE, a file and shmem.
 */
struct many_arg {
	struct gupnw *g;
	const char *base, *expect;
	size_t npages;
	int idx;
	unsigned long done, bad;
};

static void *many_main(void *arg)
{
	struct many_arg *m = arg;
	unsigned char st[64];
	struct gupnw_counts c;
	int i;

	for (i = 0; i < MANY_PROBES; i++) {
		unsigned int flags = (i + m->idx) % 2 ? GUPNW_NOFAULT : 0;

		if (gupnw_probe(m->g, m->base, P(m->npages), flags, st, &c) ||
		    memcmp(st, m->expect, m->npages) ||
		    !gt_counts_tally_ok(&c, st, m->npages))
			m->bad++;
		m->done++;
	}
	return NULL;
}

static void many_probers(void)
{
	const size_t n = 64;
	struct many_arg args[MANY_THREADS];
	pthread_t t[MANY_THREADS];
	unsigned long done = 0, bad = 0;
	char path[512], expect[64];
	struct gupnw *g = gupnw_open();
	uint64_t t0;
	char *a, *s;
	int i, fd, mfd;

	a = free_range(P(n));
	if (!g || map_at(a, P(n), PROT_READ | PROT_WRITE))
		gt_bail("races: many: setup");
	madvise(a, P(n), MADV_NOHUGEPAGE);
	touch(a, 16, 1);			/* 0-15: anon, touched */
	munmap(a + P(16), P(4));		/* 16-19: hole */
	mprotect(a + P(20), P(4), PROT_NONE);	/* 20-23: refused */
	snprintf(path, sizeof(path), "%s/small",
		 gt_env("GUPNW_DATA", "/mnt/data"));
	fd = open(path, O_RDONLY);		/* 24-27: a file, cached */
	/*
	 * Read every page synchronously: a page still being read when the
	 * snapshot is taken is W there and R a moment later (read-ahead
	 * started by WILLNEED made this case fail now and then).
	 */
	for (i = 0; fd >= 0 && i < 4; i++)
		if (pread(fd, expect, 1, P(i)) < 0)
			gt_bail("races: many: pread %s: %s", path,
				gt_errname(errno));
	mfd = memfd_create("gupnw-t37", MFD_CLOEXEC);	/* 32-39: shmem */
	if (fd < 0 || mfd < 0 || ftruncate(mfd, P(8)) ||
	    mmap(a + P(24), P(4), PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) ==
	    MAP_FAILED ||
	    mmap(a + P(32), P(8), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, mfd, 0) == MAP_FAILED)
		gt_bail("races: many: file/shmem: %s", gt_errname(errno));
	touch(a + P(32), 8, 1);
	/* 28-31, 40-63: untouched anon, mapped (zero page) by this probe */
	if (gupnw_probe(g, a, P(n), 0, (unsigned char *)expect, NULL) ||
	    gupnw_probe(g, a, P(n), GUPNW_NOFAULT, (unsigned char *)expect,
			NULL))
		gt_bail("races: many: first probe: %s", gt_errname(errno));
	gt_diag("many: expected %s", gt_states_str((unsigned char *)expect, n));
	s = memchr(expect, 'N', n);
	if (!s)
		s = memchr(expect, 'W', n);
	if (s)
		gt_bail("races: many: page %ld not settled after a probe ('%c')",
			(long)(s - expect), *s);

	t0 = gt_now_ns();
	for (i = 0; i < MANY_THREADS; i++) {
		args[i] = (struct many_arg){ .g = g, .base = a, .expect = expect,
					     .npages = n, .idx = i };
		if (pthread_create(&t[i], NULL, many_main, &args[i]))
			gt_bail("pthread_create");
	}
	for (i = 0; i < MANY_THREADS; i++) {
		pthread_join(t[i], NULL);
		done += args[i].done;
		bad += args[i].bad;
	}
	gt_diag("many: %lu probes of %zu pages by %d threads in %.0f ms", done,
		n, MANY_THREADS, gt_ms(gt_now_ns() - t0));
	if (!gt_ok(done == MANY_THREADS * MANY_PROBES && !bad,
		   "races: %d threads x %d probes on one fd: every result exact",
		   MANY_THREADS, MANY_PROBES))
		gt_diag("%lu of %lu results differ from the snapshot", bad, done);
	munmap(a, P(n));
	close(fd);
	close(mfd);
	gupnw_close(g);
}

#define MEMCG	"/sys/fs/cgroup/gupnw-t37"

/*
 * Every race runs in a case of its own, inside the memory group, so that
 * memory-freed (below) can tell whether the races left memory charged.
 */
static void setup(void)
{
	char memcg[256];
	int ret, i;

	ret = gt_memcg_enter("gupnw-t37", memcg, sizeof(memcg));
	if (ret)
		gt_bail("races: memory cgroup: %s", gt_errname(-ret));
	for (i = 0; i < PROBERS; i++) {
		prober_st[i] = mmap(NULL, TARGET_PAGES, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (prober_st[i] == MAP_FAILED)
			gt_bail("races: mmap: %s", gt_errname(errno));
	}
}

static void case_swapoff(void)
{
	race_swapoff(MEMCG);
}

/*
 * What the races charged is freed.  memory.current of the emptied group
 * still counts charges cached per CPU (up to 64 pages each); writing 0 to
 * memory.high drains those caches (asynchronously on other CPUs) and
 * reclaims what can be reclaimed, without an OOM kill.  A page held by a
 * leaked reference stays charged.
 */
static void check_freed(const char *memcg)
{
	long long before, cur;

	before = gt_memcg_current(memcg);
	cur = gt_memcg_drain(memcg, LEAK_SLACK);
	gt_diag("memory.current after the races: %lld bytes, %lld once drained",
		before, cur);
	if (!gt_ok(cur >= 0 && cur <= LEAK_SLACK,
		   "races: all memory the races charged is freed (memory.current <= %d KiB)",
		   LEAK_SLACK / 1024) || getenv("GUPNW_T37_STAT"))
		gt_memcg_print_stat(memcg, 0);
	if (rmdir(memcg))
		gt_diag("rmdir %s: %s", memcg, gt_errname(errno));
}

static int reload_module(void)
{
	char *rm[] = { "/sbin/rmmod", "gupnw", NULL };
	char *ins[] = { "/sbin/insmod", (char *)gt_env("GUPNW_KO",
						       "/lib/gupnw/gupnw.ko"),
			NULL };
	char out[256], err[256];
	int rc;

	rc = gt_run(rm, 0, 0, 30, out, sizeof(out), err, sizeof(err));
	if (!gt_ok(rc == 0, "races: rmmod gupnw works after the races"))
		gt_diag("rmmod: exit %d: %s", rc, err);
	rc = gt_run(ins, 0, 0, 30, out, sizeof(out), err, sizeof(err));
	if (!gt_ok(rc == 0, "races: insmod brings it back"))
		gt_diag("insmod: exit %d: %s", rc, err);
	return rc;
}

/* Not a race: what every race charged to the group is freed. */
static void case_memory_freed(void)
{
	check_freed(MEMCG);
}

static void case_reload(void)
{
	reload_module();
}

static const struct gt_case cases[] = {
	GT_CASE_FIXTURE("munmap", race_munmap, setup),
	GT_CASE_FIXTURE("mremap", race_mremap, setup),
	GT_CASE_FIXTURE("mprotect", race_mprotect, setup),
	GT_CASE_FIXTURE("madvise", race_madvise, setup),
	GT_CASE_FIXTURE("fork", race_fork, setup),
	GT_CASE_FIXTURE("exit", race_exit, setup),
	GT_CASE_FIXTURE("truncate", race_truncate, setup),
	GT_CASE_FIXTURE("swapoff", case_swapoff, setup),
	GT_CASE_FIXTURE("many-probers", many_probers, setup),
	GT_CASE("memory-freed", case_memory_freed),
	GT_CASE("reload", case_reload),
};

GT_FILE(cases);
