// SPDX-License-Identifier: GPL-2.0
/*
 * t38_lock_and_signals: a probe of a huge range holds mmap_lock only in
 * bounded stretches, and dies promptly on a fatal signal.
 *
 * mmap_lock: in one process, a thread probes 64 GiB over and over (NOFAULT,
 * NOWAIT, WAIT in turn) while another maps, touches and unmaps a page in a
 * loop, timing each munmap (which needs mmap_lock for writing).  The
 * latencies are printed next to those of the same loop with no prober; the
 * test asserts only a generous bound on the worst one.
 *
 * Fatal signals: a process probing a huge range (in each mode, its own
 * memory or another process's, anon or a cold file) is SIGKILLed in the
 * middle of the probe and must be gone promptly.
 *
 * WAIT in a userfaultfd range: the fault waits for the monitor (and gets
 * the page it gives), killably, and without holding mmap_lock meanwhile.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIB		(1ULL << 30)
#define HUGE_LEN	(64 * GIB)
#define PHASE_MS	2000
#define MAX_SAMPLES	(1 << 18)
#define WRITER_BOUND_MS	1000.0		/* worst munmap allowed */
#define KILL_BOUND_MS	1000.0		/* SIGKILL to reaped, at most */

/* --- mmap_lock hold times, seen by a writer --- */

struct latency {
	unsigned long n, probes;
	double max_ms, p50_ms, p99_ms, max_mmap_ms;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct hog {
	const char *p;
	unsigned int flags;
	volatile unsigned long probes;
};

/* Probe 64 GiB again and again until the process is killed. */
static void *hog_main(void *arg)
{
	struct hog *h = arg;
	struct gupnw *g = gupnw_open();
	struct gupnw_counts c;

	if (!g)
		return NULL;
	for (;;) {
		gupnw_probe(g, h->p, HUGE_LEN, h->flags, NULL, &c);
		h->probes++;
	}
	return NULL;
}

/*
 * In a child: time mmap + touch + munmap of one page for PHASE_MS, with a
 * hog thread probing 64 GiB in mode flags (no hog if flags < 0).  The
 * result goes to the parent, which then kills the child.
 */
static void writer_child(int flags, int out)
{
	static uint32_t us[MAX_SAMPLES];
	struct latency l = { 0 };
	struct hog h = { 0 };
	uint64_t end, t0, t1, t2;
	pthread_t t;
	char *p;

	if (flags >= 0) {
		h.p = mmap(NULL, HUGE_LEN, PROT_READ,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		h.flags = flags;
		if (h.p == MAP_FAILED || pthread_create(&t, NULL, hog_main, &h))
			_exit(2);
		gt_sleep_ms(100);	/* let the hog get going */
	}
	end = gt_now_ns() + PHASE_MS * 1000000ULL;
	while ((t0 = gt_now_ns()) < end && l.n < MAX_SAMPLES) {
		p = mmap(NULL, gt_page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		p[0] = 1;
		t1 = gt_now_ns();
		munmap(p, gt_page);
		t2 = gt_now_ns();
		us[l.n++] = (uint32_t)((t2 - t1) / 1000);
		if (gt_ms(t1 - t0) > l.max_mmap_ms)
			l.max_mmap_ms = gt_ms(t1 - t0);
	}
	qsort(us, l.n, sizeof(us[0]), cmp_u32);
	l.max_ms = us[l.n - 1] / 1000.0;
	l.p50_ms = us[l.n / 2] / 1000.0;
	l.p99_ms = us[l.n * 99 / 100] / 1000.0;
	l.probes = h.probes;
	gt_write_all(out, &l, sizeof(l));
	pause();
	_exit(0);
}

/*
 * Run one phase; returns 0 and fills l, or -1 (also when the writer is
 * still blocked 10 s after its phase should have ended: a probe that holds
 * mmap_lock for all of a 64 GiB range).
 */
static void writer_body(void *arg, int out)
{
	writer_child(*(int *)arg, out);
}

static int run_phase(int flags, struct latency *l)
{
	return gt_fork_result(writer_body, &flags, l, sizeof(*l),
			      PHASE_MS + 10000, NULL);
}

static void test_writer_latency(void)
{
	static const struct {
		int flags;
		const char *name;
	} phases[] = {
		{ GUPNW_NOFAULT, "NOFAULT" },
		{ 0, "NOWAIT" },
		{ GUPNW_WAIT, "WAIT" },
	};
	struct latency base, l;
	size_t i;

	if (run_phase(-1, &base))
		gt_bail("mmap_lock: the baseline writer failed");
	gt_diag("munmap alone: max %.2f ms, p99 %.2f ms, median %.3f ms (%lu)",
		base.max_ms, base.p99_ms, base.p50_ms, base.n);
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		if (run_phase(phases[i].flags, &l)) {
			gt_ok(0, "mmap_lock: munmap beside a 64 GiB %s probe never waits %.0f ms",
			      phases[i].name, WRITER_BOUND_MS);
			gt_diag("the writer did not report within %d s",
				PHASE_MS / 1000 + 10);
			continue;
		}
		gt_diag("munmap beside a 64 GiB %s probe: max %.2f ms, p99 %.2f ms, median %.3f ms (%lu); mmap max %.2f ms; %lu probes finished",
			phases[i].name, l.max_ms, l.p99_ms, l.p50_ms, l.n,
			l.max_mmap_ms, l.probes);
		gt_ok(l.n > 0 && l.max_ms < WRITER_BOUND_MS,
		      "mmap_lock: munmap beside a 64 GiB %s probe never waits %.0f ms",
		      phases[i].name, WRITER_BOUND_MS);
	}
}

/* --- SIGKILL in the middle of a probe --- */

struct victim {
	const char *name;
	unsigned int flags;
	int with_states;
	int remote;		/* probe a helper process's memory */
	int cold_file;		/* $GUPNW_DATA/cold-64m instead of anon */
};

/*
 * The prober: tells the parent 'S' just before the probe and 'D' after it
 * (if it ever ends).  For a remote probe it forks a target holding the
 * range and probes that through /proc/PID/mem.
 */
static void victim_child(const struct victim *v, int out)
{
	size_t len = v->cold_file ? 64 << 20 : HUGE_LEN;
	unsigned char *st = NULL;
	struct gupnw *g = gupnw_open();
	char path[512], tag;
	char *p;
	int fd = -1, ret;

	if (!g)
		_exit(2);
	if (v->cold_file) {
		snprintf(path, sizeof(path), "%s/cold-64m",
			 gt_env("GUPNW_DATA", "/mnt/data"));
		fd = open(path, O_RDONLY);
		if (fd < 0 || gt_make_cold(fd))
			_exit(3);
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	} else {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (v->with_states)
		st = mmap(NULL, len / gt_page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED || st == MAP_FAILED)
		_exit(4);
	if (v->remote) {
		/* the target: a copy of this process, idle until killed */
		pid_t target = fork();

		if (!target) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		fd = gupnw_open_pid_mem(target, v->flags);
		if (fd < 0)
			_exit(5);
		tag = 'S';
		gt_write_all(out, &tag, 1);
		ret = gupnw_probe_memfd(g, fd, (uintptr_t)p, len, v->flags, st,
					NULL);
		kill(target, SIGKILL);
	} else {
		tag = 'S';
		gt_write_all(out, &tag, 1);
		ret = gupnw_probe(g, p, len, v->flags, st, NULL);
	}
	tag = ret ? 'E' : 'D';
	gt_write_all(out, &tag, 1);
	_exit(0);
}

/*
 * Kill the victim 200 ms into its probe.  Returns the time from SIGKILL to
 * its reaping in ms, 0 if the probe ended before the kill (nothing to
 * test), or -1 if the victim could not start or outlived 30 s.
 */
static double kill_mid_probe(const struct victim *v)
{
	uint64_t t_kill;
	int pr[2], status;
	char tag = 0;
	pid_t pid;

	if (pipe(pr))
		gt_bail("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		gt_bail("fork: %s", gt_errname(errno));
	if (!pid) {
		close(pr[0]);
		victim_child(v, pr[1]);
	}
	close(pr[1]);
	if (gt_read_all(pr[0], &tag, 1) || tag != 'S') {
		close(pr[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		gt_diag("%s: the prober did not start (exit %d)", v->name,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	gt_sleep_ms(200);
	t_kill = gt_now_ns();
	kill(pid, SIGKILL);
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (gt_now_ns() - t_kill > 30000000000ULL) {
			close(pr[0]);
			return -1;
		}
		gt_sleep_ms(1);
	}
	t_kill = gt_now_ns() - t_kill;
	tag = 0;
	if (!gt_read_all(pr[0], &tag, 1) && (tag == 'D' || tag == 'E')) {
		close(pr[0]);
		return 0;
	}
	close(pr[0]);
	return gt_ms(t_kill);
}

static void test_sigkill(void)
{
	static const struct victim victims[] = {
		{ "NOWAIT of 64 GiB anon", 0, 0, 0, 0 },
		{ "NOWAIT of 64 GiB anon with states", 0, 1, 0, 0 },
		{ "WAIT of 64 GiB anon", GUPNW_WAIT, 0, 0, 0 },
		{ "WRITE of 64 GiB anon with states", GUPNW_WRITE, 1, 0, 0 },
		{ "NOFAULT of another process's 64 GiB", GUPNW_NOFAULT, 1, 1, 0 },
		{ "NOWAIT of another process's 64 GiB", 0, 0, 1, 0 },
		{ "NOWAIT of a cold 64 MiB file", 0, 1, 0, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(victims) / sizeof(victims[0]); i++) {
		const struct victim *v = &victims[i];
		double ms = kill_mid_probe(v);

		if (ms == 0) {
			gt_skip("the probe ended within 200 ms",
				"signals: SIGKILL ends a %s promptly", v->name);
			continue;
		}
		gt_ok(ms > 0 && ms < KILL_BOUND_MS,
		      "signals: SIGKILL ends a %s promptly (< %.0f ms)",
		      v->name, KILL_BOUND_MS);
		if (ms < 0)
			gt_diag("still alive 30 s after SIGKILL");
		else
			gt_diag("gone %.1f ms after SIGKILL", ms);
	}
}

/* --- WAIT in a userfaultfd range --- */

#define UFFD_PAGES	4

/* A userfaultfd for missing faults on [p, p + len). */
static int uffd_on(void *p, size_t len, int flags)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | flags);

	if (fd < 0)
		gt_case_skip("userfaultfd: %s", gt_errname(errno));
	if (ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg))
		gt_bail("uffd: setup: %s", gt_errname(errno));
	return fd;
}

static volatile int monitor_stop;

/* The monitor: answers every missing fault with a zero page. */
static void *monitor_main(void *arg)
{
	struct pollfd pfd = { .fd = *(int *)arg, .events = POLLIN };
	struct uffd_msg msg;

	while (!monitor_stop) {
		struct uffdio_zeropage z = {
			.range = { .len = gt_page },
		};

		if (poll(&pfd, 1, 100) != 1 ||
		    read(pfd.fd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		z.range.start = msg.arg.pagefault.address &
				~((uint64_t)gt_page - 1);
		if (msg.event == UFFD_EVENT_PAGEFAULT)
			ioctl(pfd.fd, UFFDIO_ZEROPAGE, &z);
	}
	return NULL;
}

/*
 * WAIT on a userfaultfd range whose monitor answers: each fault waits for
 * it and gets the page.  Before, WAIT faulted without
 * FAULT_FLAG_ALLOW_RETRY: SIGBUS ('E'), and "FAULT_FLAG_ALLOW_RETRY
 * missing" with a stack dump on DEBUG_VM kernels (the log scan fails it).
 */
static void test_wait_uffd_answered(void)
{
	unsigned char st[UFFD_PAGES];
	struct gupnw_counts c;
	struct gupnw *g = gupnw_open();
	pthread_t mon;
	int fd, ret;
	char *p;

	p = mmap(NULL, UFFD_PAGES * gt_page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!g || p == MAP_FAILED)
		gt_bail("uffd: setup: %s", gt_errname(errno));
	fd = uffd_on(p, UFFD_PAGES * gt_page, O_NONBLOCK);
	if (pthread_create(&mon, NULL, monitor_main, &fd))
		gt_bail("uffd: pthread_create");
	ret = gupnw_probe(g, p, UFFD_PAGES * gt_page, GUPNW_WAIT, st, &c);
	gt_eq(0, ret, "wait-uffd: WAIT probe of a userfaultfd range returns 0");
	if (!gt_ok(!c.error && c.retry + c.faulted == UFFD_PAGES,
		   "wait-uffd: every page faulted in by the monitor, none E"))
		gt_diag("states %s", gt_states_str(st, UFFD_PAGES));
	gt_eq(UFFD_PAGES, gt_resident(p, UFFD_PAGES * gt_page),
	      "wait-uffd: the pages are present afterwards");
	monitor_stop = 1;
	pthread_join(mon, NULL);
	close(fd);
	gupnw_close(g);
	munmap(p, UFFD_PAGES * gt_page);
}

struct silent {
	struct gupnw *g;
	char *p;
	int out;
};

static void *silent_prober(void *arg)
{
	struct silent *s = arg;
	unsigned char st[UFFD_PAGES];
	char tag = 'D';

	gupnw_probe(s->g, s->p, UFFD_PAGES * gt_page, GUPNW_WAIT, st, NULL);
	gt_write_all(s->out, &tag, 1);
	return NULL;
}

/*
 * A child whose thread WAIT-probes a userfaultfd range with a silent
 * monitor; it reports 'M' once an mmap()/munmap() of its own (which need
 * mmap_lock for writing) was done while the probe waits, and the probe's
 * end 'D' (if it ever ends).
 */
static void silent_child(void *arg, int out)
{
	struct silent s = { .g = gupnw_open(), .out = out };
	pthread_t t;
	char tag = 'M';
	void *q;

	(void)arg;
	s.p = mmap(NULL, UFFD_PAGES * gt_page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!s.g || s.p == MAP_FAILED)
		_exit(2);
	uffd_on(s.p, UFFD_PAGES * gt_page, O_NONBLOCK);
	if (pthread_create(&t, NULL, silent_prober, &s))
		_exit(3);
	gt_sleep_ms(300);		/* the probe waits in the fault now */
	q = mmap(NULL, gt_page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q != MAP_FAILED && !munmap(q, gt_page))
		gt_write_all(out, &tag, 1);
	for (;;)
		pause();
}

/*
 * While the WAIT probe waits for a monitor that never answers: the
 * process maps and unmaps (mmap_lock is not held across the wait), the
 * probe has not ended, and SIGKILL ends the process within a second.
 */
static void test_wait_uffd_silent(void)
{
	uint64_t t_kill = 0;
	int pr[2], status, reaped = 0;
	char tag[2] = { 0, 0 };
	struct pollfd pfd;
	pid_t pid;

	if (pipe(pr))
		gt_bail("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		gt_bail("fork: %s", gt_errname(errno));
	if (!pid) {
		close(pr[0]);
		silent_child(NULL, pr[1]);
	}
	close(pr[1]);
	pfd.fd = pr[0];
	pfd.events = POLLIN;
	/* the first byte: 'M' (mapped while the probe waits) or 'D' */
	if (poll(&pfd, 1, 3000) == 1)
		read(pr[0], &tag[0], 1);
	gt_ok(tag[0] == 'M',
	      "wait-uffd-silent: mmap/munmap while WAIT waits for the monitor: mmap_lock is not held");
	if (tag[0] == 'M' && poll(&pfd, 1, 0) == 1)
		read(pr[0], &tag[1], 1);
	gt_ok(tag[0] == 'M' && tag[1] != 'D',
	      "wait-uffd-silent: the WAIT probe is still waiting for the silent monitor");
	if (tag[0] == 'D' || tag[1] == 'D')
		gt_diag("the probe ended before the monitor answered");
	t_kill = gt_now_ns();
	kill(pid, SIGKILL);
	while (gt_now_ns() - t_kill < 10000000000ULL) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			break;
		}
		gt_sleep_ms(1);
	}
	t_kill = gt_now_ns() - t_kill;
	gt_ok(reaped && t_kill < 1000000000ULL,
	      "wait-uffd-silent: SIGKILL ends a WAIT probe waiting for a monitor within a second");
	if (reaped)
		gt_diag("gone %.1f ms after SIGKILL", gt_ms(t_kill));
	else
		waitpid(pid, &status, 0);
	close(pr[0]);
}

static const struct gt_case cases[] = {
	GT_CASE("writer-latency", test_writer_latency),
	GT_CASE("sigkill", test_sigkill),
	GT_CASE("wait-uffd-answered", test_wait_uffd_answered),
	GT_CASE("wait-uffd-silent", test_wait_uffd_silent),
};

GT_FILE(cases);
