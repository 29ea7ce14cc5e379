// SPDX-License-Identifier: GPL-2.0
/*
 * probe_threads - N threads probing one process at once, with and without a
 * thread of that process mapping and unmapping memory meanwhile: probes per
 * second, ns per page, and what the probed process's mmap_lock costs both
 * sides (the probes hold it for reading, 1024 pages a hold; mmap and munmap
 * take it for writing).  Run by tests/bench/guest-bench.sh in the bench
 * guest; see BENCHMARKS.md.
 *
 * The probed range: GUPNW_BENCH_THREADS_MB MiB (default 64) of private
 * anonymous memory, MADV_NOHUGEPAGE, every page written (all resident,
 * 4 KiB PTEs).  Each probe covers the whole range in one GUPNW_IOC_PROBE,
 * counts only (no states buffer).  Two targets:
 *   pid   a child process's range, through its /proc/PID/mem
 *         (GUPNW_PROBE_TARGET_FD): what a monitor of another process does
 *   self  the prober's own range, no TARGET_FD: what a server does
 * The churn thread lives in the probed process (the child for pid, the
 * prober for self): mmap 4 pages, write each (4 faults), munmap, again.
 *
 * Per cell (target, mode NOFAULT or NOWAIT, N prober threads, churn on or
 * off), for GUPNW_BENCH_THREADS_MS ms (default 1000): probes/s of all
 * threads; ns/page of one probe (its time over its pages, averaged: with N
 * above the 2 vCPUs it includes waiting for a CPU); aggregate ns/page (the
 * cell's time over all pages probed); churn cycles/s.  Nothing is asserted:
 * a benchmark reports.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_THREADS	8
#define CHURN_PAGES	4
/* "flags" of a thread that only spins: the churn thread's CPU competition */
#define SPIN_ONLY	(~0U)

/* Shared between the prober and the child (MAP_SHARED). */
struct shared {
	/* [0] the child's churn thread, [1] the prober's own */
	atomic_int churn_on[2];	/* the churn thread cycles while set */
	atomic_int quit;
	atomic_ulong churn_cycles[2];
	atomic_ulong child_ready;
	uint64_t child_addr;
};

static struct shared *sh;
static int dev_fd;
static size_t range_len;

struct prober {
	pthread_t t;
	uint64_t addr;
	int target_fd;		/* -1: own mm */
	uint32_t flags;
	uint64_t probes, ns, errors;
	int last_err;
};

static atomic_int probers_stop;

static void *churn_thread(void *arg)
{
	size_t len = CHURN_PAGES * gt_page;
	int who = (int)(intptr_t)arg;

	while (!atomic_load(&sh->quit)) {
		char *p;
		size_t i;

		if (!atomic_load(&sh->churn_on[who])) {
			gt_sleep_ms(1);
			continue;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			continue;
		for (i = 0; i < len; i += gt_page)
			p[i] = 1;
		munmap(p, len);
		atomic_fetch_add(&sh->churn_cycles[who], 1);
	}
	return NULL;
}

static char *map_range(void)
{
	char *p = mmap(NULL, range_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		gt_bail("mmap %zu bytes: %s", range_len, strerror(errno));
	madvise(p, range_len, MADV_NOHUGEPAGE);
	memset(p, 0x5a, range_len);
	return p;
}

static void *probe_thread(void *arg)
{
	struct prober *pr = arg;
	struct gupnw_probe_args a;

	while (pr->flags == SPIN_ONLY && !atomic_load(&probers_stop))
		;
	while (pr->flags != SPIN_ONLY && !atomic_load(&probers_stop)) {
		uint64_t t0 = gt_now_ns();
		long r;

		gt_args_init(&a, (void *)(uintptr_t)pr->addr, range_len,
			     pr->flags, NULL);
		if (pr->target_fd >= 0) {
			a.flags |= GUPNW_PROBE_TARGET_FD;
			a.target_fd = pr->target_fd;
		}
		r = gt_ioctl(dev_fd, GUPNW_IOC_PROBE, &a);
		pr->ns += gt_now_ns() - t0;
		if (r < 0 || a.done * gt_page != range_len) {
			pr->errors++;
			pr->last_err = r < 0 ? (int)-r : 0;
			continue;
		}
		pr->probes++;
	}
	return NULL;
}

struct cell {
	double probes_s, ns_page, aggr_ns_page, churn_s;
	uint64_t errors;
	int last_err;
};

static struct cell run_cell(uint64_t addr, int target_fd, uint32_t flags,
			    int n, int churn, unsigned int ms)
{
	struct prober pr[MAX_THREADS];
	struct cell c = { 0 };
	uint64_t pages = range_len / gt_page, probes = 0, ns = 0;
	unsigned long c0;
	uint64_t t0, el;
	int who = target_fd >= 0 ? 0 : 1;
	int i;

	memset(pr, 0, sizeof(pr));
	atomic_store(&sh->churn_on[who], churn);
	gt_sleep_ms(20);	/* the churn thread is cycling */
	atomic_store(&probers_stop, 0);
	c0 = atomic_load(&sh->churn_cycles[who]);
	t0 = gt_now_ns();
	for (i = 0; i < n; i++) {
		pr[i].addr = addr;
		pr[i].target_fd = target_fd;
		pr[i].flags = flags;
		if (pthread_create(&pr[i].t, NULL, probe_thread, &pr[i]))
			gt_bail("pthread_create");
	}
	gt_sleep_ms(ms);
	atomic_store(&probers_stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(pr[i].t, NULL);
	el = gt_now_ns() - t0;
	c.churn_s = (atomic_load(&sh->churn_cycles[who]) - c0) * 1e9 / el;
	atomic_store(&sh->churn_on[who], 0);
	for (i = 0; i < n; i++) {
		probes += pr[i].probes;
		ns += pr[i].ns;
		c.errors += pr[i].errors;
		if (pr[i].errors)
			c.last_err = pr[i].last_err;
	}
	c.probes_s = probes * 1e9 / el;
	c.ns_page = probes ? (double)ns / (probes * pages) : 0;
	c.aggr_ns_page = probes ? (double)el / (probes * pages) : 0;
	return c;
}

static pid_t start_child(void)
{
	pid_t pid = fork();

	if (pid < 0)
		gt_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		pthread_t t;
		char *p = map_range();

		if (pthread_create(&t, NULL, churn_thread, (void *)0))
			_exit(1);
		sh->child_addr = (uint64_t)(uintptr_t)p;
		atomic_store(&sh->child_ready, 1);
		while (!atomic_load(&sh->quit))
			gt_sleep_ms(10);
		pthread_join(t, NULL);
		_exit(0);
	}
	while (!atomic_load(&sh->child_ready))
		gt_sleep_ms(10);
	return pid;
}

int main(void)
{
	static const int ns[] = { 1, 2, 8 };
	static const struct {
		const char *name;
		uint32_t flags;
	} modes[] = {
		{ "NOFAULT", GUPNW_PROBE_NOFAULT },
		{ "NOWAIT", 0 },
	};
	unsigned int ms = atoi(gt_env("GUPNW_BENCH_THREADS_MS", "1000"));
	unsigned long mb = strtoul(gt_env("GUPNW_BENCH_THREADS_MB", "64"), NULL, 0);
	char path[64], *self_range;
	pthread_t self_churn;
	int target, m, i, churn;
	struct cell alone_pid, alone_self;
	pid_t child;

	gt_init();
	if (ms < 100)
		ms = 100;
	if (!mb)
		mb = 64;
	range_len = (size_t)mb << 20;
	dev_fd = gt_dev_open();
	if (dev_fd < 0)
		gt_bail("open %s: %s", gt_dev_path(), strerror(errno));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		gt_bail("mmap shared: %s", strerror(errno));
	memset(sh, 0, sizeof(*sh));

	child = start_child();
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)child);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		gt_bail("open %s: %s", path, strerror(errno));
	/* The prober's own range and churn thread, for the self rows; idle
	 * (churn off) while the child is probed.
	 */
	self_range = map_range();
	if (pthread_create(&self_churn, NULL, churn_thread, (void *)1))
		gt_bail("pthread_create");

	printf("N threads probing one process's %lu MiB resident anon range (%zu pages of %ld bytes, MADV_NOHUGEPAGE),\n",
	       mb, range_len / gt_page, gt_page);
	printf("each probe the whole range in one call, counts only; %u ms per cell, 2 vCPUs.\n", ms);
	printf("pid = a child process through its /proc/PID/mem (GUPNW_PROBE_TARGET_FD); self = the prober's own mm.\n");
	printf("churn = a thread of the probed process: mmap %d pages, write each, munmap, in a loop.\n",
	       CHURN_PAGES);
	printf("ns/page: one probe's time over its pages (with N > 2 it waits for a CPU too); aggr: the cell's time over all pages probed.\n");

	alone_pid = run_cell(0, target, 0, 0, 1, ms);
	alone_self = run_cell(0, -1, 0, 0, 1, ms);
	printf("churn alone (no prober): pid %.0f cycles/s, self %.0f cycles/s\n",
	       alone_pid.churn_s, alone_self.churn_s);
	/* The churn thread shares 2 vCPUs with the probers: what that alone costs it. */
	printf("churn next to N threads that only spin (CPU, no mmap_lock): pid");
	for (i = 0; i < 3; i++) {
		struct cell c = run_cell(sh->child_addr, target, SPIN_ONLY, ns[i], 1, ms);

		printf(" N=%d %.0f (%.2fx)", ns[i], c.churn_s,
		       alone_pid.churn_s ? c.churn_s / alone_pid.churn_s : 0);
	}
	printf("\n\n");

	printf("%-5s %-8s %2s %-6s %10s %9s %9s %10s %8s %9s\n", "mm", "mode", "N",
	       "churn", "probes/s", "ns/page", "aggr", "churn/s", "x alone", "x nochurn");
	for (int t = 0; t < 2; t++) {
		uint64_t addr = t == 0 ? sh->child_addr : (uint64_t)(uintptr_t)self_range;
		int fd = t == 0 ? target : -1;
		double alone = t == 0 ? alone_pid.churn_s : alone_self.churn_s;

		for (m = 0; m < 2; m++) {
			for (i = 0; i < 3; i++) {
				double base = 0;

				for (churn = 0; churn < 2; churn++) {
					struct cell c = run_cell(addr, fd, modes[m].flags,
								 ns[i], churn, ms);
					char xa[16] = "-", xn[16] = "-";

					if (churn) {
						snprintf(xa, sizeof(xa), "%.2f",
							 alone ? c.churn_s / alone : 0);
						snprintf(xn, sizeof(xn), "%.2f",
							 base ? c.probes_s / base : 0);
					} else {
						base = c.probes_s;
					}
					printf("%-5s %-8s %2d %-6s %10.0f %9.1f %9.1f %10.0f %8s %9s",
					       t == 0 ? "pid" : "self", modes[m].name, ns[i],
					       churn ? "yes" : "no", c.probes_s, c.ns_page,
					       c.aggr_ns_page, churn ? c.churn_s : 0.0, xa, xn);
					if (c.errors)
						printf("  (%llu failed probes, last %s)",
						       (unsigned long long)c.errors,
						       gt_errname(c.last_err));
					printf("\n");
				}
			}
		}
	}
	printf("x alone: churn cycles/s next to the probes over churn alone; x nochurn: probes/s with churn over without.\n");

	atomic_store(&sh->quit, 1);
	pthread_join(self_churn, NULL);
	waitpid(child, NULL, 0);
	return 0;
}
