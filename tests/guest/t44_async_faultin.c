// SPDX-License-Identifier: GPL-2.0
/*
 * t44_async_faultin: 'W' means "on its way".  A page whose read a fault
 * cannot start without waiting for it (a swapped-out shmem page; on 6.1 a
 * swapped-out anonymous page; a WRITE probe of a shared file page) is handed
 * to the module's fault-in worker, reported 'W', and arrives - mapped, seen
 * by mincore and by a later NOFAULT probe as 'R' - without anything else
 * touching it.  Past the per-call budget (max_io_pages) or the global cap
 * (max_async_faults) nothing is started and the page is 'C'; the budget
 * is one per call, for the worker and read-ahead together.  The swapped
 * COW copies of a private file mapping are swapped in (never read from the
 * file), here and in another process.  GET_INFO
 * reports the cap and the queue.  The worker is raced against munmap, the
 * target's exit and SIGKILL, swapoff and rmmod, and what the races charged
 * to their memory cgroup is freed afterwards.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"
#include "gupnw_test_trace.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/userfaultfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define P(n)		((size_t)(n) * gt_page)
#define NPAGES		64
#define PARAM		"/sys/module/gupnw/parameters/"
#define LEAK_SLACK	(256 << 10)
#define ASYNC_RUN	32	/* GUPNW_ASYNC_RUN: pages per work item */

static int fd;
static char memcg[256];

static int get_info(struct gupnw_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return gt_ioctl(fd, GUPNW_IOC_GET_INFO, info) ? -1 : 0;
}

static long probe(void *p, size_t n, unsigned int flags, unsigned char *st,
		  struct gupnw_probe_args *a)
{
	gt_args_init(a, p, P(n), flags, st);
	return gt_ioctl(fd, GUPNW_IOC_PROBE, a);
}

static size_t count(const unsigned char *st, size_t n, char c)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += st[i] == c;
	return k;
}

/* Wait up to ms for the worker's queue to be empty; 1 when it is. */
static int drained(unsigned int ms)
{
	struct gupnw_info info;
	uint64_t t0 = gt_now_ns();

	do {
		if (get_info(&info))
			return 0;
		if (!info.async_faults_queued)
			return 1;
		gt_sleep_ms(20);
	} while (gt_now_ns() - t0 < (uint64_t)ms * 1000000);
	gt_diag("%llu pages still queued after %u ms",
		(unsigned long long)info.async_faults_queued, ms);
	return 0;
}

static int set_param(const char *name, long v)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), PARAM "%s", name);
	snprintf(buf, sizeof(buf), "%ld\n", v);
	return gt_write_file(path, buf);
}

static long get_param(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), PARAM "%s", name);
	if (gt_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return atol(buf);
}

/* n pages of a memfd (anon == 0) or private anon, filled and swapped out. */
static char *swapped(size_t n, int anon, int *mfd)
{
	return gt_map_swapped(n, anon, memcg, 44, mfd);
}

static void test_info(void)
{
	struct gupnw_info info;

	if (!gt_ok(!get_info(&info), "async: GET_INFO works"))
		return;
	gt_ok(info.features & GUPNW_FEATURE_ASYNC_FAULT,
	      "async: GET_INFO has GUPNW_FEATURE_ASYNC_FAULT");
	gt_eq(get_param("max_async_faults"), info.max_async_faults,
	      "async: max_async_faults is the module parameter");
	gt_ok(info.max_async_faults > 0, "async: max_async_faults is non-zero");
	gt_ok(drained(30000), "async: nothing queued at rest");
}

/* A probe's swapped pages are W and arrive by themselves. */
static void test_arrives(int anon)
{
	const char *kind = anon ? "swapped-out anon" : "swapped-out shmem";
	unsigned char st[NPAGES];
	struct gupnw_probe_args a;
	long ret, r;
	char *p = swapped(NPAGES, anon, NULL);

	if (!p) {
		gt_skip("could not swap the pages out", "async: %s arrives",
			kind);
		return;
	}
	gt_drain_device("/dev/vdb");
	ret = probe(p, NPAGES, 0, st, &a);
	if (!gt_ok(ret == 0 && count(st, NPAGES, 'W') == NPAGES &&
		   a.nr_retry == NPAGES, "async: %s pages are W", kind))
		gt_diag("ret %ld, states %s", ret, gt_states_str(st, NPAGES));
	if (!anon)
		gt_eq(NPAGES, a.async_faults,
		      "async: %s pages were handed to the worker", kind);
	else
		gt_diag("%s: %llu of %d pages handed to the worker", kind,
			(unsigned long long)a.async_faults, NPAGES);
	r = gt_wait_resident(p, P(NPAGES), 30000);
	if (!gt_ok(r == NPAGES,
		   "async: every %s page arrives with nothing else touching it",
		   kind))
		gt_diag("%ld of %d resident after 30 s", r, NPAGES);
	/* mincore sees a page once read, the worker maps it just after */
	gt_ok(drained(30000), "async: the queue drains (%s)", kind);
	if (!anon || a.async_faults == NPAGES) {
		ret = probe(p, NPAGES, GUPNW_PROBE_NOFAULT, st, &a);
		if (!gt_ok(ret == 0 && count(st, NPAGES, 'R') == NPAGES,
			   "async: the worker mapped the %s pages (NOFAULT: R)",
			   kind))
			gt_diag("states %s", gt_states_str(st, NPAGES));
	}
	gt_ok(gt_check_pages(p, NPAGES, 44) < 0,
	      "async: %s contents intact", kind);
	munmap(p, P(NPAGES));
}

/* Past the global cap, or the per-call budget, pages are C. */
static void test_cap(const char *param, long cap)
{
	long old = get_param(param);
	unsigned char st[NPAGES];
	struct gupnw_probe_args a;
	long ret;
	char *p;

	if (old < 0 || set_param(param, cap)) {
		gt_skip("no writable parameter", "async: %s cap", param);
		return;
	}
	p = swapped(NPAGES, 0, NULL);
	if (!p) {
		set_param(param, old);
		gt_skip("could not swap the pages out", "async: %s cap", param);
		return;
	}
	ret = probe(p, NPAGES, 0, st, &a);
	if (!gt_ok(ret == 0 && count(st, cap, 'W') == (size_t)cap &&
		   count(st + cap, NPAGES - cap, 'C') == (size_t)(NPAGES - cap),
		   "async: %s %ld: the first %ld pages W, the rest C",
		   param, cap, cap))
		gt_diag("ret %ld, states %s", ret, gt_states_str(st, NPAGES));
	gt_ok(a.nr_retry == (uint64_t)cap && a.nr_cold == (uint64_t)(NPAGES - cap) &&
	      a.async_faults == (uint64_t)cap,
	      "async: %s %ld: counts say %ld W, %ld C, %ld handed over",
	      param, cap, cap, NPAGES - cap, cap);
	set_param(param, old);
	gt_ok(gt_wait_resident(p, P(cap), 30000) == cap,
	      "async: %s %ld: the W pages arrive", param, cap);
	/*
	 * The worker's swap-in reads a few neighbours ahead into the swap
	 * cache (the kernel's swap read-ahead), so mincore may see some C
	 * pages; but only the W pages are faulted in and mapped.
	 */
	drained(30000);
	ret = probe(p + P(cap), NPAGES - cap, GUPNW_PROBE_NOFAULT, st, &a);
	if (!gt_ok(ret == 0 && count(st, NPAGES - cap, 'R') == 0,
		   "async: %s %ld: the C pages were not faulted in", param, cap))
		gt_diag("NOFAULT states %s", gt_states_str(st, NPAGES - cap));
	munmap(p, P(NPAGES));
}

/* A WRITE probe of a cached page of a shared file mapping. */
static void test_write_shared(void)
{
	const char *path = "/mnt/data/t44-shared";
	unsigned char st[4];
	struct gupnw_probe_args a;
	char buf[4096];
	int f, i;
	long ret;
	char *p;

	f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f < 0) {
		gt_skip("no /mnt/data", "async: WRITE of a shared file page");
		return;
	}
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 4; i++)
		if (pwrite(f, buf, gt_page, P(i)) != gt_page)
			gt_bail("pwrite: %s", gt_errname(errno));
	fsync(f);
	p = mmap(NULL, P(4), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	ret = probe(p, 4, GUPNW_PROBE_WRITE, st, &a);
	if (!gt_ok(ret == 0 && count(st, 4, 'W') == 4 && a.async_faults == 4,
		   "async: WRITE of cached shared file pages: W, handed to the worker"))
		gt_diag("ret %ld, states %s", ret, gt_states_str(st, 4));
	drained(30000);
	ret = probe(p, 4, GUPNW_PROBE_WRITE | GUPNW_PROBE_NOFAULT, st, &a);
	if (!gt_ok(ret == 0 && count(st, 4, 'R') == 4,
		   "async: the worker mapped them writable (NOFAULT WRITE: R)"))
		gt_diag("states %s", gt_states_str(st, 4));
	munmap(p, P(4));
	close(f);
	unlink(path);
}

/* A userfaultfd range is its handler's: W, and nothing queued. */
static void test_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	unsigned char st[NPAGES];
	struct gupnw_probe_args a;
	int uffd;
	long ret;
	char *p;

	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		gt_skip("no userfaultfd", "async: userfaultfd shmem");
		if (uffd >= 0)
			close(uffd);
		return;
	}
	p = swapped(NPAGES, 0, NULL);
	if (!p) {
		gt_skip("could not swap out", "async: userfaultfd shmem");
		close(uffd);
		return;
	}
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)p;
	reg.range.len = P(NPAGES);
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		gt_skip("UFFDIO_REGISTER failed", "async: userfaultfd shmem");
	} else {
		ret = probe(p, NPAGES, 0, st, &a);
		if (!gt_ok(ret == 0 && count(st, NPAGES, 'W') == NPAGES &&
			   a.async_faults == 0,
			   "async: swapped shmem under userfaultfd: W, nothing handed to the worker"))
			gt_diag("ret %ld, %llu handed over, states %s", ret,
				(unsigned long long)a.async_faults,
				gt_states_str(st, NPAGES));
	}
	close(uffd);
	munmap(p, P(NPAGES));
}

static void race_munmap(void)
{
	unsigned char st[NPAGES];
	struct gupnw_probe_args a;
	char *p = swapped(NPAGES, 0, NULL);

	if (!p) {
		gt_skip("could not swap out", "async race: munmap");
		return;
	}
	probe(p, NPAGES, 0, st, &a);
	munmap(p, P(NPAGES));
	gt_ok(a.async_faults == NPAGES && drained(30000),
	      "async race: munmap right after the probe; the queue drains");
}

/*
 * A child probes its swapped pages and exits (how == 0) or waits to be
 * SIGKILLed (how == SIGKILL); either way it is reaped at once and its
 * queued work comes to nothing.
 */
static void race_exit(int how)
{
	const char *what = how ? "SIGKILL" : "exit";
	int pfd[2], status;
	uint64_t t0, t_reap;
	pid_t pid;
	char c;

	if (pipe(pfd))
		gt_bail("pipe: %s", gt_errname(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		gt_bail("fork: %s", gt_errname(errno));
	if (!pid) {
		unsigned char st[4 * NPAGES];
		struct gupnw_probe_args a;
		char *p = swapped(4 * NPAGES, 0, NULL);

		c = p && !probe(p, 4 * NPAGES, 0, st, &a) &&
		    a.async_faults > 0 ? 'y' : 'n';
		if (write(pfd[1], &c, 1) != 1 || how == 0)
			_exit(0);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1)
		c = 'n';
	close(pfd[0]);
	t0 = gt_now_ns();
	if (how)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	t_reap = gt_now_ns() - t0;
	if (c != 'y') {
		gt_skip("the child could not queue work", "async race: %s", what);
		return;
	}
	gt_diag("%s: reaped %.1f ms after", what, gt_ms(t_reap));
	gt_ok(drained(30000),
	      "async race: the target's %s with work queued; the queue drains",
	      what);
}

/* swapoff reads everything in while the worker does the same. */
static void race_swapoff(void)
{
	char *off[] = { "/sbin/swapoff", "/dev/vdb", NULL };
	char *on[] = { "/sbin/swapon", "/dev/vdb", NULL };
	unsigned char st[NPAGES];
	struct gupnw_probe_args a;
	char out[256], err[256];
	char *p = swapped(NPAGES, 0, NULL);
	int rc;

	if (!p) {
		gt_skip("could not swap out", "async race: swapoff");
		return;
	}
	probe(p, NPAGES, 0, st, &a);
	rc = gt_run(off, 0, 0, 120, out, sizeof(out), err, sizeof(err));
	if (!gt_ok(rc == 0, "async race: swapoff with work queued"))
		gt_diag("swapoff: exit %d: %s", rc, err);
	gt_ok(drained(30000) && gt_check_pages(p, NPAGES, 44) < 0,
	      "async race: swapoff: the queue drains, contents intact");
	rc = gt_run(on, 0, 0, 60, out, sizeof(out), err, sizeof(err));
	if (!gt_ok(rc == 0, "async race: swapon again"))
		gt_diag("swapon: exit %d: %s", rc, err);
	munmap(p, P(NPAGES));
}

/* rmmod while the worker has a queue of slow swap-ins. */
static void race_rmmod(void)
{
	char *rm[] = { "/sbin/rmmod", "gupnw", NULL };
	char *ins[] = { "/sbin/insmod",
			(char *)gt_env("GUPNW_KO", "/lib/gupnw/gupnw.ko"), NULL };
	const size_t n = 4 * NPAGES;
	unsigned char st[4 * NPAGES];
	struct gupnw_probe_args a;
	struct gupnw_info info;
	char out[256], err[256];
	uint64_t t0;
	int rc, i;
	char *p = swapped(n, 0, NULL);

	if (!p) {
		gt_skip("could not swap out", "async race: rmmod");
		return;
	}
	gt_drain_device("/dev/vdb");
	probe(p, n, 0, st, &a);
	get_info(&info);
	close(fd);
	fd = -1;
	/* 256 swap-ins at 50 reads per second take seconds */
	gt_ok(info.async_faults_queued > 0 &&
	      info.async_faults_queued <= info.max_async_faults,
	      "async: GET_INFO counts the pages queued (%llu of at most %llu)",
	      (unsigned long long)info.async_faults_queued,
	      (unsigned long long)info.max_async_faults);
	t0 = gt_now_ns();
	rc = gt_run(rm, 0, 0, 60, out, sizeof(out), err, sizeof(err));
	if (!gt_ok(rc == 0, "async race: rmmod with work queued works"))
		gt_diag("rmmod: exit %d: %s", rc, err);
	gt_diag("rmmod took %.1f ms", gt_ms(gt_now_ns() - t0));
	rc = gt_run(ins, 0, 0, 30, out, sizeof(out), err, sizeof(err));
	for (i = 0; !rc && i < 100 && access(gt_dev_path(), F_OK); i++)
		gt_sleep_ms(20);
	if (!gt_ok(rc == 0, "async race: insmod brings it back"))
		gt_diag("insmod: exit %d: %s", rc, err);
	fd = gt_dev_open();
	if (fd < 0)
		gt_bail("open %s: %s", gt_dev_path(), gt_errname(errno));
	gt_ok(gt_check_pages(p, n, 44) < 0,
	      "async race: rmmod: contents intact");
	gt_ok(drained(1000), "async race: the new module has nothing queued");
	munmap(p, P(n));
}

/*
 * Each race case runs in the memory group gupnw-t44r (its fixture puts it
 * there); the runs of all of them are counted in a shared mapping, so the
 * last case can tell whether every race that started ran to its end.
 */
static struct {
	unsigned int started, finished;
} *runs;
static int in_memcg;

static int need_memcg(const char *what)
{
	if (!in_memcg)
		gt_skip("no memory cgroup", "%s", what);
	return in_memcg;
}

static void run_race(void (*race)(void))
{
	if (!need_memcg("async races"))
		return;
	__atomic_add_fetch(&runs->started, 1, __ATOMIC_SEQ_CST);
	race();
	__atomic_add_fetch(&runs->finished, 1, __ATOMIC_SEQ_CST);
}

static void race_exit_normal(void)
{
	race_exit(0);
}

static void race_exit_sigkill(void)
{
	race_exit(SIGKILL);
}

static void case_race_munmap(void)
{
	run_race(race_munmap);
}

static void case_race_exit(void)
{
	run_race(race_exit_normal);
}

static void case_race_sigkill(void)
{
	run_race(race_exit_sigkill);
}

static void case_race_swapoff(void)
{
	run_race(race_swapoff);
}

static void case_race_rmmod(void)
{
	run_race(race_rmmod);
}

/*
 * A MAP_PRIVATE file mapping of n pages whose pages were all written (COW
 * copies, filled with seed 44), the copies swapped out and the file's own
 * pages evicted: the .data of a program or library, long idle.  NULL (and
 * a diagnostic) if that could not be made.
 */
static char *private_file_swapped(size_t n, const char *name)
{
	char path[256], buf[4096];
	size_t i;
	char *p;
	int f;

	snprintf(path, sizeof(path), "/mnt/data/t44-%s.%d", name,
		 (int)getpid());
	f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f < 0)
		return NULL;
	unlink(path);
	memset(buf, 'f', sizeof(buf));
	for (i = 0; i < n; i++)
		if (pwrite(f, buf, gt_page, P(i)) != gt_page)
			gt_bail("pwrite: %s", gt_errname(errno));
	p = mmap(NULL, P(n), PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	gt_fill_pages(p, n, 44);
	if (gt_swap_out(p, P(n), memcg, 1, GT_SWAP_EVICTED) ||
	    gt_make_cold(f)) {
		munmap(p, P(n));
		p = NULL;
	}
	close(f);
	return p;
}

#define PF_PAGES	8

/*
 * The swapped-out COW copies of a private file mapping are swapped in, not
 * read from the file: W, no file read started (io_started 0), and they
 * arrive (mincore: in memory) with their contents.
 */
static void test_private_file_swapped(void)
{
	const char *what = "async: swapped COW pages of a private file mapping";
	unsigned char st[PF_PAGES];
	struct gupnw_counts c;
	struct gupnw *g;
	long r;
	char *p;

	p = private_file_swapped(PF_PAGES, "pfs");
	if (!p) {
		gt_skip("could not swap the pages out", "%s", what);
		return;
	}
	g = gupnw_open();
	if (!g)
		gt_bail("gupnw_open: %s", gt_errname(errno));
	gt_expect_probe(g, 0, p, PF_PAGES, GUPNW_NOFAULT, "CCCCCCCC", NULL,
			"%s are C in NOFAULT", what);
	/* F: a page the swap-ins before it read ahead into the swap cache */
	if (!gt_ok(gupnw_probe(g, p, P(PF_PAGES), 0, st, &c) == 0 &&
		   st[0] == 'W' &&
		   count(st, PF_PAGES, 'W') + count(st, PF_PAGES, 'F') ==
		   PF_PAGES, "%s are W (or F)", what))
		gt_diag("states %s", gt_states_str(st, PF_PAGES));
	gt_eq(0, c.io_started, "%s: no read of the file started", what);
	r = gt_wait_resident(p, P(PF_PAGES), 30000);
	if (!gt_ok(r == PF_PAGES, "%s arrive with nothing else touching them",
		   what))
		gt_diag("%ld of %d in memory after 30 s", r, PF_PAGES);
	drained(30000);
	gt_expect_probe(g, 0, p, PF_PAGES, 0, "rrrrrrrr", NULL,
			"%s, arrived, are F or R", what);
	gt_ok(gt_check_pages(p, PF_PAGES, 44) < 0, "%s: contents intact",
	      what);
	gupnw_close(g);
	munmap(p, P(PF_PAGES));
}

/* What the target of the pid case reports back, in a shared mapping. */
static struct pf_shared {
	int probed;		/* set by the prober */
	long arrived;		/* set by the target: pages in memory, or -1 */
} *pf;

static void pf_target(void *arg, int out)
{
	uint64_t addr = (uintptr_t)private_file_swapped(PF_PAGES, "pfp");
	uint64_t t0;

	(void)arg;
	if (gt_write_all(out, &addr, sizeof(addr)) || !addr)
		return;
	for (t0 = gt_now_ns(); !__atomic_load_n(&pf->probed, __ATOMIC_SEQ_CST);)
		if (gt_now_ns() - t0 > 60ULL * 1000000000ULL)
			return;
		else
			gt_sleep_ms(10);
	pf->arrived = gt_wait_resident((void *)(uintptr_t)addr, P(PF_PAGES),
				       30000);
	if (gt_check_pages((void *)(uintptr_t)addr, PF_PAGES, 44) >= 0)
		pf->arrived = -1;
	__atomic_store_n(&pf->probed, 2, __ATOMIC_SEQ_CST);
}

/* The same in another process, probed through /proc/PID/mem. */
static void test_private_file_swapped_pid(void)
{
	const char *what = "async: another process's swapped COW pages of a private file mapping";
	unsigned char st[PF_PAGES];
	struct gupnw_counts c;
	struct gupnw *g;
	uint64_t addr = 0, t0;
	int hold;
	pid_t pid;

	pf = mmap(NULL, sizeof(*pf), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pf == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	pid = gt_fork_held(pf_target, NULL, &addr, sizeof(addr), &hold);
	if (pid < 0 || !addr) {
		if (pid > 0)
			gt_release(pid, hold);
		gt_skip("could not swap the pages out", "%s", what);
		return;
	}
	g = gupnw_open();
	if (!g)
		gt_bail("gupnw_open: %s", gt_errname(errno));
	gt_expect_probe(g, pid, (void *)(uintptr_t)addr, PF_PAGES,
			GUPNW_NOFAULT, "CCCCCCCC", NULL,
			"%s are C in NOFAULT", what);
	if (!gt_ok(gupnw_probe_pid(g, pid, addr, P(PF_PAGES), 0, st, &c) == 0 &&
		   st[0] == 'W' &&
		   count(st, PF_PAGES, 'W') + count(st, PF_PAGES, 'F') ==
		   PF_PAGES, "%s are W (or F)", what))
		gt_diag("states %s", gt_states_str(st, PF_PAGES));
	gt_eq(0, c.io_started, "%s: no read of the file started", what);
	__atomic_store_n(&pf->probed, 1, __ATOMIC_SEQ_CST);
	for (t0 = gt_now_ns(); __atomic_load_n(&pf->probed, __ATOMIC_SEQ_CST) != 2 &&
	     gt_now_ns() - t0 < 40ULL * 1000000000ULL;)
		gt_sleep_ms(20);
	if (!gt_ok(pf->arrived == PF_PAGES,
		   "%s arrive with nothing else touching them, contents intact",
		   what))
		gt_diag("target: %ld of %d in memory (-1: contents differ)",
			pf->arrived, PF_PAGES);
	drained(30000);
	gt_expect_probe(g, pid, (void *)(uintptr_t)addr, PF_PAGES, 0,
			"rrrrrrrr", NULL, "%s, arrived, are F or R", what);
	gupnw_close(g);
	gt_release(pid, hold);
}

/*
 * One I/O budget per call: pages handed to the worker (swapped shmem,
 * first in the range) and pages read ahead (a cold file, after it) together
 * stay within max_io_pages.
 */
static void test_one_budget(void)
{
	const char *what = "async: worker and read-ahead share one max_io_pages budget";
	const long cap = 8, ns = 4, nf = 16;
	unsigned char st[4 + 16];
	struct gupnw_counts c;
	long old = get_param("max_io_pages");
	struct gupnw *g;
	char *res, *p;
	int mfd, f;

	f = open("/mnt/data/cold-64m", O_RDONLY);
	if (old < 0 || f < 0 || gt_make_cold(f)) {
		gt_skip(f < 0 ? "no /mnt/data/cold-64m" : "no parameter, or not cold",
			"%s", what);
		if (f >= 0)
			close(f);
		return;
	}
	p = swapped(ns, 0, &mfd);
	if (!p) {
		close(f);
		gt_skip("could not swap the pages out", "%s", what);
		return;
	}
	/* the swapped memfd pages, then the cold file pages, one range */
	res = mmap(NULL, P(ns + nf), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (res == MAP_FAILED ||
	    mmap(res, P(ns), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 mfd, 0) == MAP_FAILED ||
	    mmap(res + P(ns), P(nf), PROT_READ, MAP_SHARED | MAP_FIXED, f,
		 36 << 20) == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	munmap(p, P(ns));
	g = gupnw_open();
	if (!g || set_param("max_io_pages", cap))
		gt_bail("gupnw_open or max_io_pages: %s", gt_errname(errno));
	if (!gt_ok(gupnw_probe(g, res, P(ns + nf), 0, st, &c) == 0 &&
		   count(st, ns + nf, 'W') == (size_t)cap &&
		   count(st, ns + nf, 'C') == (size_t)(ns + nf - cap),
		   "%s: %ld W, the rest C", what, cap))
		gt_diag("states %s", gt_states_str(st, ns + nf));
	set_param("max_io_pages", old);
	gt_ok(c.async_faults == (uint64_t)ns && c.io_started == (uint64_t)(cap - ns),
	      "%s: %ld handed over, %ld read ahead (got %llu, %llu)", what, ns,
	      cap - ns, (unsigned long long)c.async_faults,
	      (unsigned long long)c.io_started);
	drained(30000);
	gupnw_close(g);
	munmap(res, P(ns + nf));
	close(mfd);
	close(f);
}

/*
 * 6.1 hands swapped anonymous pages to the worker: a run of them goes in
 * work items of up to GUPNW_ASYNC_RUN (32) pages, not one item per page.
 * Counted with the workqueue_queue_work trace event of gupnw_async_fn.
 */
static void test_swapped_runs(void)
{
	const char *what = "async: swapped anon pages reach the worker in runs of 32";
	const char *ev = "workqueue/workqueue_queue_work";
	static char buf[1 << 16];
	unsigned char st[NPAGES];
	struct gupnw_probe_args a;
	long n, items = 0;
	int mine;
	char *p, *s;

	if (!gt_trace_has_event(ev)) {
		gt_skip("no workqueue_queue_work trace event", "%s", what);
		return;
	}
	p = swapped(NPAGES, 1, NULL);
	if (!p) {
		gt_skip("could not swap the pages out", "%s", what);
		return;
	}
	if (gt_trace_write("tracing_on", "0") || gt_trace_write("trace", "") ||
	    gt_trace_event_on(ev, &mine) || gt_trace_write("tracing_on", "1"))
		gt_bail("tracefs set-up failed");
	probe(p, NPAGES, 0, st, &a);
	gt_trace_write("tracing_on", "0");
	n = gt_trace_read("trace", buf, sizeof(buf));
	gt_trace_event_off(ev, mine);
	for (s = buf; n > 0 && (s = strstr(s, "gupnw_async_fn")); s++)
		items++;
	if (!a.async_faults) {
		gt_skip("this kernel swaps anonymous pages in without the worker (6.3+)",
			"%s", what);
	} else if (!gt_ok(a.async_faults == NPAGES &&
			  items == (NPAGES + ASYNC_RUN - 1) / ASYNC_RUN,
			  "%s", what)) {
		gt_diag("%llu pages handed over in %ld work items",
			(unsigned long long)a.async_faults, items);
	}
	drained(30000);
	munmap(p, P(NPAGES));
}

/*
 * After the race cases (their processes gone) and the queue drained, what
 * they charged to their group is freed (as t37_races.c checks: a page the
 * worker kept a reference to, or an address space it kept alive, would
 * stay charged).
 */
static void case_races_freed(void)
{
	const char *group = "/sys/fs/cgroup/gupnw-t44r";
	long long cur;

	if (access(group, F_OK))
		GT_SKIP("no race case ran before it");
	gt_ok(runs->started == runs->finished,
	      "async races: the race runner ran to its end");
	drained(30000);
	cur = gt_memcg_drain(group, LEAK_SLACK);
	if (!gt_ok(cur >= 0 && cur <= LEAK_SLACK,
		   "async races: what they charged is freed (memory.current %lld <= %d KiB)",
		   cur, LEAK_SLACK / 1024))
		gt_memcg_print_stat(group, 1);
	rmdir(group);
}

static void case_shmem_arrives(void)
{
	if (need_memcg("async: swapped pages"))
		test_arrives(0);
}

static void case_anon_arrives(void)
{
	if (need_memcg("async: swapped pages"))
		test_arrives(1);
}

static void case_cap_max_async_faults(void)
{
	if (need_memcg("async: swapped pages"))
		test_cap("max_async_faults", 8);
}

static void case_cap_max_io_pages(void)
{
	if (need_memcg("async: swapped pages"))
		test_cap("max_io_pages", 16);
}

static void case_private_file_swapped(void)
{
	if (need_memcg("async: swapped COW pages of a private file mapping"))
		test_private_file_swapped();
}

static void case_private_file_swapped_pid(void)
{
	if (need_memcg("async: another process's swapped COW pages"))
		test_private_file_swapped_pid();
}

static void case_one_io_budget(void)
{
	if (need_memcg("async: one max_io_pages budget"))
		test_one_budget();
}

static void case_swapped_runs(void)
{
	if (need_memcg("async: swapped anon pages in runs"))
		test_swapped_runs();
}

static void case_write_shared(void)
{
	if (need_memcg("async: swapped pages"))
		test_write_shared();
}

static void case_uffd_shmem(void)
{
	if (need_memcg("async: swapped pages"))
		test_uffd();
}

/*
 * Every case opens the device itself: the parent holds no descriptor, so
 * the rmmod race can unload the module.
 */
static void open_dev(void)
{
	fd = gt_dev_open();
	if (fd < 0)
		gt_bail("open %s: %s", gt_dev_path(), gt_errname(errno));
}

/* the group entered by the case: reclaim evicts its pages, not the stack */
static void setup_swap(void)
{
	open_dev();
	in_memcg = gt_memcg_join("gupnw-t44", memcg, sizeof(memcg));
}

static void setup_race(void)
{
	open_dev();
	in_memcg = gt_memcg_join("gupnw-t44r", memcg, sizeof(memcg));
}

static const struct gt_case cases[] = {
	GT_CASE_FIXTURE("info", test_info, open_dev),
	GT_CASE_FIXTURE("shmem-arrives", case_shmem_arrives, setup_swap),
	GT_CASE_FIXTURE("anon-arrives", case_anon_arrives, setup_swap),
	GT_CASE_FIXTURE("cap-max-async-faults", case_cap_max_async_faults,
			setup_swap),
	GT_CASE_FIXTURE("cap-max-io-pages", case_cap_max_io_pages, setup_swap),
	GT_CASE_FIXTURE("write-shared", case_write_shared, setup_swap),
	GT_CASE_FIXTURE("private-file-swapped", case_private_file_swapped,
			setup_swap),
	GT_CASE_FIXTURE("private-file-swapped-pid",
			case_private_file_swapped_pid, setup_swap),
	GT_CASE_FIXTURE("one-io-budget", case_one_io_budget, setup_swap),
	GT_CASE_FIXTURE("swapped-runs", case_swapped_runs, setup_swap),
	GT_CASE_FIXTURE("uffd-shmem", case_uffd_shmem, setup_swap),
	GT_CASE_FIXTURE("race-munmap", case_race_munmap, setup_race),
	GT_CASE_FIXTURE("race-exit", case_race_exit, setup_race),
	GT_CASE_FIXTURE("race-sigkill", case_race_sigkill, setup_race),
	GT_CASE_FIXTURE("race-swapoff", case_race_swapoff, setup_race),
	GT_CASE_FIXTURE("race-rmmod", case_race_rmmod, setup_race),
	GT_CASE_FIXTURE("races-freed", case_races_freed, open_dev),
};

static int before(void)
{
	runs = mmap(NULL, sizeof(*runs), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (runs == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	return 0;
}

static int after(void)
{
	gt_memcg_leave("/sys/fs/cgroup/gupnw-t44");
	gt_memcg_leave("/sys/fs/cgroup/gupnw-t44r");
	return 0;
}

GT_FILE(cases, .before = before, .after = after);
