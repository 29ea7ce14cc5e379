// SPDX-License-Identifier: GPL-2.0
/*
 * t46_walk_races: the page-table walk that takes no page reference
 * (module/gupnw_pte.c) raced against what changes page tables under it:
 * THP split (MADV_DONTNEED of one page of a THP, mprotect of part of one),
 * MADV_COLLAPSE, khugepaged (made eager for the test), mremap, munmap,
 * mprotect and fork - in the prober's own mm and, in pid mode, in another
 * process's mm, where only the mmap_lock and IRQs off keep the tables.
 *
 * Probers rotate through NOFAULT, NOWAIT and WRITE|NOFAULT.  Every result
 * must be well-formed: success (or ESRCH once the probed process exited),
 * letters the mode can give, counts equal to the states.  The kernel log
 * must stay clean (the harness checks; under the debug kernel KASAN and
 * lockdep watch the walk).
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

#define P(n)		((size_t)(n) * gt_page)
#define THP		(2UL << 20)
#define NTHP		4			/* THPs raced over */
#define REGION		(NTHP * THP)
#define RACE_MS		3000
#define MIN_ROUNDS	12			/* each mutation twice */
#define PROBERS		3
#define KHUGE		"/sys/kernel/mm/transparent_hugepage/khugepaged/"

static struct gupnw *g;

struct race {
	char *base;			/* 2 x REGION reserved, 2 MiB aligned */
	pid_t pid;			/* 0: own mm */
	volatile int stop;
	unsigned long probes, esrch, bad;
	pthread_mutex_t lock;
	char first_bad[256];
};

static const unsigned int modes[] = {
	GUPNW_NOFAULT, 0, GUPNW_NOFAULT | GUPNW_WRITE,
};

static int state_ok(unsigned char s, unsigned int flags)
{
	if (flags & GUPNW_NOFAULT)
		return strchr("R.ENCW", s) != NULL;
	return strchr("RFW.EC", s) != NULL;
}

static void *prober(void *arg)
{
	struct race *r = arg;
	size_t n = 2 * REGION / gt_page, i;
	unsigned char *st = malloc(n);
	unsigned long k = 0;

	if (!st)
		gt_bail("malloc");
	while (!r->stop) {
		unsigned int flags = modes[k++ % 3];
		struct gupnw_counts c;
		const char *why = NULL;
		int ret, err;

		if (r->pid)
			ret = gupnw_probe_pid(g, r->pid,
					      (uint64_t)(uintptr_t)r->base,
					      2 * REGION, flags, st, &c);
		else
			ret = gupnw_probe(g, r->base, 2 * REGION, flags, st,
					  &c);
		err = errno;
		pthread_mutex_lock(&r->lock);
		r->probes++;
		if (ret && r->pid && err == ESRCH) {
			r->esrch++;
		} else if (ret) {
			why = gt_errname(err);
		} else {
			for (i = 0; i < n && state_ok(st[i], flags); i++)
				;
			if (i < n)
				why = "a letter the mode cannot give";
			else if (!gt_counts_tally_ok(&c, st, n))
				why = "counts differ from the states";
		}
		if (why && !r->bad++)
			snprintf(r->first_bad, sizeof(r->first_bad),
				 "flags %#x: %s", flags, why);
		pthread_mutex_unlock(&r->lock);
		if (ret && r->pid && err == ESRCH)
			break;
	}
	free(st);
	return NULL;
}

static char *map_thps(char *at)
{
	char *p = mmap(at, REGION, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, REGION, MADV_HUGEPAGE);
	for (i = 0; i < REGION; i += gt_page)
		p[i] = 1;
	return p;
}

/* One round of everything that rewrites the page tables of the region. */
static void mutate(char *base, unsigned long round)
{
	char *p = base, *spare = base + REGION;
	size_t t;
	pid_t pid;

	switch (round % 6) {
	case 0:		/* fresh THPs */
		map_thps(p);
		break;
	case 1:		/* split each THP: a hole, and a read-only page */
		for (t = 0; t < NTHP; t++) {
			madvise(p + t * THP + P(round % 512), P(1),
				MADV_DONTNEED);
			mprotect(p + t * THP + P(7), P(3), PROT_READ);
			mprotect(p + t * THP + P(7), P(3),
				 PROT_READ | PROT_WRITE);
		}
		break;
	case 2:		/* and collapse them again */
		madvise(p, REGION, MADV_COLLAPSE);
		break;
	case 3:		/* move the region away and back */
		if (mremap(p, REGION, REGION, MREMAP_MAYMOVE | MREMAP_FIXED,
			   spare) != MAP_FAILED)
			mremap(spare, REGION, REGION,
			       MREMAP_MAYMOVE | MREMAP_FIXED, p);
		mmap(spare, REGION, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		     -1, 0);
		break;
	case 4:		/* fork write-protects every private page */
		pid = fork();
		if (!pid)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		mprotect(p, REGION, PROT_NONE);
		mprotect(p, REGION, PROT_READ | PROT_WRITE);
		break;
	case 5:		/* gone, and page tables freed with it */
		munmap(p, REGION);
		break;
	}
}

static char *reserve(void)
{
	size_t len = 2 * REGION + THP;
	char *r = mmap(NULL, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *a;

	if (r == MAP_FAILED)
		gt_bail("mmap reserve: %s", gt_errname(errno));
	a = (char *)(((uintptr_t)r + THP - 1) & ~(THP - 1));
	return a;
}

static unsigned long mutate_for(char *base, unsigned int ms)
{
	uint64_t end = gt_now_ns() + (uint64_t)ms * 1000000;
	unsigned long round = 0;

	while (gt_now_ns() < end || round < MIN_ROUNDS)
		mutate(base, round++);
	return round;
}

static void report(struct race *r, unsigned long rounds, const char *name)
{
	if (!gt_ok(!r->bad && r->probes > r->esrch && rounds >= MIN_ROUNDS,
		   "%s", name))
		gt_diag("%lu of %lu probes bad, first: %s", r->bad, r->probes,
			r->first_bad);
	gt_diag("%s: %lu probes (%lu ESRCH), %lu mutation rounds%s", name,
		r->probes, r->esrch, rounds, r->pid ? " at least" : "");
}

static void start(struct race *r, pthread_t *t)
{
	int i;

	for (i = 0; i < PROBERS; i++)
		if (pthread_create(&t[i], NULL, prober, r))
			gt_bail("pthread_create");
}

static void stop(struct race *r, pthread_t *t)
{
	int i;

	r->stop = 1;
	for (i = 0; i < PROBERS; i++)
		pthread_join(t[i], NULL);
}

static void race_own(void)
{
	struct race r = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t t[PROBERS];
	unsigned long rounds;

	r.base = reserve();
	start(&r, t);
	rounds = mutate_for(r.base, RACE_MS);
	stop(&r, t);
	report(&r, rounds,
	       "walk races: own mm, THP split/collapse, mremap, munmap, mprotect, fork");
}

static void race_pid(void)
{
	struct race r = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t t[PROBERS];
	int ready[2], status = 0;
	char c = 0;
	pid_t pid;

	r.base = reserve();
	if (pipe(ready))
		gt_bail("pipe: %s", gt_errname(errno));
	pid = fork();
	if (pid < 0)
		gt_bail("fork: %s", gt_errname(errno));
	if (!pid) {
		map_thps(r.base);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		_exit(mutate_for(r.base, RACE_MS) >= MIN_ROUNDS ? 0 : 1);
	}
	if (read(ready[0], &c, 1) != 1)
		gt_bail("child did not start");
	r.pid = pid;
	start(&r, t);
	waitpid(pid, &status, 0);
	/* the probers end on ESRCH, or here */
	stop(&r, t);
	close(ready[0]);
	close(ready[1]);
	report(&r, WIFEXITED(status) && !WEXITSTATUS(status) ? MIN_ROUNDS : 0,
	       "walk races: pid mode, the target splits, collapses, moves, unmaps and exits");
}

/*
 * khugepaged without pauses, for the length of the test, and collapsing
 * ranges with holes as it does by default (the guest sets max_ptes_none to
 * 0: tests/vm/guest-init.sh): main() sets it around the cases, so a case
 * run alone has it too.
 */
static char saved[4][32];
static const char *const knobs[4] = {
	KHUGE "scan_sleep_millisecs", KHUGE "alloc_sleep_millisecs",
	KHUGE "pages_to_scan", KHUGE "max_ptes_none",
};

static void khugepaged_eager(int on)
{
	static const char *const eager[4] = { "0", "0", "4096", "511" };
	int i;

	for (i = 0; i < 4; i++) {
		if (on) {
			if (gt_read_file(knobs[i], saved[i], sizeof(saved[i])) <= 0)
				saved[i][0] = '\0';
			gt_write_file(knobs[i], eager[i]);
		} else if (saved[i][0]) {
			gt_write_file(knobs[i], saved[i]);
		}
	}
}

static const struct gt_case cases[] = {
	GT_CASE("own-mm", race_own),
	GT_CASE("pid-mode", race_pid),
};

static int before(void)
{
	khugepaged_eager(1);
	return 0;
}

static int after(void)
{
	khugepaged_eager(0);
	return 0;
}

GT_FILE(cases, .lib = &g, .before = before, .after = after);
