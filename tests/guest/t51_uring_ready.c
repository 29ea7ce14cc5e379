// SPDX-License-Identifier: GPL-2.0
/*
 * t51_uring_ready: GUPNW_URING_CMD_READY.  On the throttled disk, a READY
 * for pages a probe found 'W' completes after their I/O and not before,
 * without the submitting thread waiting or faulting; per-page results for
 * holes, PROT_NONE and pages past EOF; IORING_OP_ASYNC_CANCEL and a linked
 * timeout end a READY that would take a minute with -ECANCELED, and a
 * linked timeout that does not fire changes nothing.  A group stop
 * (SIGSTOP/SIGCONT) or a cgroup freeze is no cancel; a READY waiting on a userfaultfd range
 * whose monitor never answers is still cancelled by ASYNC_CANCEL or a
 * linked timeout (on 6.1 it does not wait there: 'E').  More READYs than
 * io-wq workers, their SQ slots overwritten at once: each completes for
 * its own range.  A READY over a 2^31-page hole completes, with or
 * without 2^31 bytes of states, and can be killed meanwhile; it reports
 * only its own counts.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define P(n)	((size_t)(n) * gt_page)
#define MiB	(1024 * 1024)
/* A READY of this much cold data takes ~100 s at 20 x 4 KiB/s. */
#define BIG	(8 * MiB)

static struct gupnw *g;
static struct io_uring ring;
static int slow_fd = -1;

static long thread_majflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_majflt;
}

static void submit_ready(struct gupnw_req *req, uint64_t data,
			 unsigned int sqe_flags)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	gupnw_prep_ready(sqe, gupnw_fd(g), req);
	io_uring_sqe_set_data64(sqe, data);
	sqe->flags |= sqe_flags;
}

/* Wait up to ms for one CQE; returns 0 and fills data/res, or -ETIME. */
static int wait_one(unsigned int ms, uint64_t *data, int *res)
{
	struct __kernel_timespec ts = {
		.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L,
	};
	struct io_uring_cqe *cqe;
	int ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);

	if (ret)
		return ret;
	*data = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	return 0;
}

static void test_ready_after_io(void)
{
	const size_t n = 16;
	unsigned char st[16], rst[16];
	struct gupnw_counts c;
	struct gupnw_req req;
	struct io_uring_cqe *cqe;
	uint64_t t0, t_submit, t_done, data;
	long maj0, maj1;
	int res, peek, ret;
	long before;
	char *p;

	p = mmap(NULL, P(n), PROT_READ, MAP_SHARED, slow_fd, 24 * MiB);
	if (p == MAP_FAILED)
		gt_bail("ready: mmap: %s", gt_errname(errno));
	gt_drain_throttle(gt_env("GT_SLOW_FILE", ""));
	if (gupnw_probe(g, p, P(n), 0, st, &c))
		gt_bail("ready: probe: %s", gt_errname(errno));
	if (!gt_ok(c.retry > 0, "ready: the probe found cold pages 'W'"))
		gt_diag("states %s", gt_states_str(st, n));

	gupnw_req_init(&req, p, P(n), 0, rst);
	maj0 = thread_majflt();
	t0 = gt_now_ns();
	submit_ready(&req, 7, 0);
	ret = io_uring_submit(&ring);
	t_submit = gt_now_ns() - t0;
	peek = io_uring_peek_cqe(&ring, &cqe);
	before = gt_resident(p, P(n));
	gt_eq(1, ret, "ready: submitted");
	gt_ok(peek == -EAGAIN,
	      "ready: no completion right after the submit (I/O pending)");
	if (!gt_ok(before < (long)n, "ready: pages not all resident at that time"))
		gt_diag("%ld of %zu resident", before, n);

	ret = wait_one(60000, &data, &res);
	t_done = gt_now_ns() - t0;
	maj1 = thread_majflt();
	gt_ok(!ret && data == 7, "ready: completes");
	gt_eq(n, res, "ready: res is the number of pages present");
	gt_eq(n, gt_resident(p, P(n)),
	      "ready: on completion every page is resident (mincore)");
	if (!gt_ok(gt_match(rst, "RRRRRRRRRRRRRRRR", n) < 0,
		   "ready: states say R for every page"))
		gt_diag("states %s", gt_states_str(rst, n));
	gt_eq(n, gupnw_req_result(&req, &c), "ready: done covers the range");
	if (!gt_ok(c.resident == n && !c.error && !c.unmapped,
		   "ready: counts say %zu present", n))
		gt_diag("%s", gt_counts_str(&c));
	gt_expect_probe(g, 0, p, n, GUPNW_NOFAULT, "RRRRRRRRRRRRRRRR", NULL,
			"ready: a NOFAULT probe afterwards finds all R");
	gt_diag("submit %.3f ms, READY completed after %.1f ms",
		gt_ms(t_submit), gt_ms(t_done));
	gt_ok(t_submit * 10 < t_done,
	      "ready: the submitter did not wait (submit < 1/10 of READY)");
	gt_eq(0, maj1 - maj0, "ready: no major fault in the submitting thread");
	munmap(p, P(n));
}

static void test_states(void)
{
	unsigned char st[4];
	struct gupnw_counts c;
	struct gupnw_req req;
	uint64_t data;
	int res, fd;
	char *p;

	p = mmap(NULL, P(4), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		gt_bail("ready: mmap: %s", gt_errname(errno));
	p[0] = 1;
	munmap(p + P(2), P(1));
	mprotect(p + P(3), P(1), PROT_NONE);
	memset(st, 0, sizeof(st));
	gupnw_req_init(&req, p, P(4), 0, st);
	submit_ready(&req, 1, 0);
	io_uring_submit(&ring);
	if (wait_one(10000, &data, &res))
		gt_bail("ready: mixed range did not complete");
	gt_eq(2, res, "ready: touched + untouched anon, hole, PROT_NONE: 2 present");
	if (!gt_ok(gt_match(st, "RR.E", 4) < 0, "ready: states R R . E"))
		gt_diag("states %s", gt_states_str(st, 4));
	gupnw_req_result(&req, &c);
	if (!gt_ok(c.resident == 2 && c.unmapped == 1 && c.error == 1 &&
		   !c.faulted && !c.retry && !c.notpresent,
		   "ready: counts 2 R, 1 '.', 1 E"))
		gt_diag("%s", gt_counts_str(&c));
	munmap(p, P(4));

	/* a page past the end of the file never will be: E */
	fd = open("/tmp/t51.eof", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, P(1)))
		gt_bail("ready: /tmp/t51.eof: %s", gt_errname(errno));
	p = mmap(NULL, P(2), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("ready: mmap: %s", gt_errname(errno));
	gupnw_req_init(&req, p, P(2), 0, st);
	submit_ready(&req, 2, 0);
	io_uring_submit(&ring);
	if (wait_one(10000, &data, &res))
		gt_bail("ready: EOF range did not complete");
	gt_eq(1, res, "ready: one page in the file, one past EOF: 1 present");
	if (!gt_ok(gt_match(st, "RE", 2) < 0, "ready: the page past EOF is E"))
		gt_diag("states %s", gt_states_str(st, 2));
	munmap(p, P(2));
	close(fd);
	unlink("/tmp/t51.eof");
}

/* READY of BIG cold bytes at off; returns the mapping. */
static char *map_big(off_t off)
{
	char *p = mmap(NULL, BIG, PROT_READ, MAP_SHARED, slow_fd, off);

	if (p == MAP_FAILED)
		gt_bail("ready: mmap: %s", gt_errname(errno));
	return p;
}

static void test_cancel(void)
{
	struct io_uring_sqe *sqe;
	struct gupnw_req req;
	int res, got_ready = 0, got_cancel = 0, ready_res = 0, cancel_res = 0;
	uint64_t t0, t_cancel = 0, data;
	char *p = map_big(32 * MiB);

	gupnw_req_init(&req, p, BIG, 0, NULL);
	submit_ready(&req, 10, 0);
	io_uring_submit(&ring);
	gt_sleep_ms(300);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_cancel64(sqe, 10, 0);
	io_uring_sqe_set_data64(sqe, 11);
	t0 = gt_now_ns();
	io_uring_submit(&ring);
	while ((!got_ready || !got_cancel) && !wait_one(30000, &data, &res)) {
		if (data == 10) {
			got_ready = 1;
			ready_res = res;
			t_cancel = gt_now_ns() - t0;
		} else if (data == 11) {
			got_cancel = 1;
			cancel_res = res;
		}
	}
	gt_ok(got_ready && got_cancel, "cancel: both CQEs arrive");
	gt_err(ready_res, ECANCELED, "cancel: READY ends with ECANCELED");
	gt_err2(cancel_res, 0, EALREADY,
		"cancel: ASYNC_CANCEL found it (0, or EALREADY while running)");
	gt_diag("READY ended %.1f ms after the cancel; %llu of %zu pages done",
		gt_ms(t_cancel),
		(unsigned long long)gupnw_req_result(&req, NULL),
		(size_t)(BIG / gt_page));
	gt_ok(got_ready && t_cancel < 20000000000ULL,
	      "cancel: READY ends within 20 s (the whole READY takes ~100 s)");
	gt_ok(gupnw_req_result(&req, NULL) < (uint64_t)(BIG / gt_page),
	      "cancel: READY stopped before the end of the range");
	munmap(p, BIG);
}

static void test_link_timeout(void)
{
	struct __kernel_timespec ts = { .tv_nsec = 300 * 1000000L };
	struct __kernel_timespec lts = { .tv_sec = 30 };
	int res, rres = 1, tres = 1, n = 0;
	struct io_uring_sqe *sqe;
	struct gupnw_req req;
	uint64_t t0, t_ready = 0, data;
	char *p = map_big(48 * MiB), *q;

	gupnw_req_init(&req, p, BIG, 0, NULL);
	submit_ready(&req, 20, IOSQE_IO_LINK);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_link_timeout(sqe, &ts, 0);
	io_uring_sqe_set_data64(sqe, 21);
	t0 = gt_now_ns();
	io_uring_submit(&ring);
	while (n < 2 && !wait_one(30000, &data, &res)) {
		n++;
		if (data == 20) {
			rres = res;
			t_ready = gt_now_ns() - t0;
		} else {
			tres = res;
		}
	}
	gt_eq(2, n, "timeout: both CQEs arrive");
	gt_err(rres, ECANCELED, "timeout: READY ends with ECANCELED");
	/*
	 * The timeout's own res: -ETIME if the READY was still queued,
	 * else what io_try_cancel() said of a running one: -EALREADY (6.1),
	 * -ENOENT (6.12 goes on to poll/timeout lists after io-wq's
	 * -EALREADY, cancel.c:127-146).  The READY's -ECANCELED is the proof.
	 */
	if (!gt_ok(tres == -ETIME || tres == -EALREADY || tres == -ENOENT,
		   "timeout: the linked timeout fired"))
		gt_diag("timeout res %d", tres);
	gt_diag("READY ended after %.1f ms (timeout 300 ms)", gt_ms(t_ready));
	gt_ok(t_ready >= 250000000ULL && t_ready < 20300000000ULL,
	      "timeout: READY ended after the timeout, within 20 s of it");
	munmap(p, BIG);

	/* a timeout that does not fire: the READY completes normally */
	q = mmap(NULL, P(8), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(q, 1, P(8));
	gupnw_req_init(&req, q, P(8), 0, NULL);
	submit_ready(&req, 30, IOSQE_IO_LINK);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_link_timeout(sqe, &lts, 0);
	io_uring_sqe_set_data64(sqe, 31);
	io_uring_submit(&ring);
	rres = tres = 1;
	for (n = 0; n < 2 && !wait_one(10000, &data, &res); n++) {
		if (data == 30)
			rres = res;
		else
			tres = res;
	}
	gt_eq(8, rres, "timeout: a READY faster than its timeout completes");
	gt_err(tres, ECANCELED, "timeout: ... and its timeout is cancelled");
	munmap(q, P(8));
}

/* The running kernel is at least major.minor. */
static int kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		gt_bail("ready: uname");
	return ma > major || (ma == major && mi >= minor);
}

/* A userfaultfd for missing faults on [p, p + len); its monitor is silent. */
static int uffd_silent(void *p, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		gt_case_skip("userfaultfd: %s", gt_errname(errno));
	if (ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg))
		gt_bail("ready: userfaultfd setup: %s", gt_errname(errno));
	return fd;
}

/*
 * A READY of 4 untouched pages of a userfaultfd range whose monitor never
 * answers, ended by @how: "cancel" (IORING_OP_ASYNC_CANCEL) or "timeout"
 * (a linked timeout of 300 ms).  On 6.2+ the READY waits in the fault and
 * must end with -ECANCELED within a second of the cancel; on 6.1 it does
 * not fault a userfaultfd range at all: it completes at once, all 'E'.
 */
static void test_uffd_cancel(const char *how)
{
	struct __kernel_timespec ts = { .tv_nsec = 300 * 1000000L };
	int timeout = !strcmp(how, "timeout");
	int waits = kernel_at_least(6, 2);
	int res, rres = 1, n = 0, uffd, got_ready = 0;
	unsigned char st[4];
	struct io_uring_sqe *sqe;
	struct gupnw_req req;
	uint64_t t0, t_end = 0, data;
	char *p;

	p = mmap(NULL, P(4), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		gt_bail("ready: mmap: %s", gt_errname(errno));
	uffd = uffd_silent(p, P(4));
	memset(st, 0, sizeof(st));
	gupnw_req_init(&req, p, P(4), 0, st);
	submit_ready(&req, 40, timeout ? IOSQE_IO_LINK : 0);
	if (timeout) {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_link_timeout(sqe, &ts, 0);
		io_uring_sqe_set_data64(sqe, 41);
	}
	io_uring_submit(&ring);
	if (!timeout) {
		gt_sleep_ms(300);	/* the READY is in its fault now */
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_cancel64(sqe, 40, 0);
		io_uring_sqe_set_data64(sqe, 41);
		io_uring_submit(&ring);
	}
	t0 = gt_now_ns();
	/* the cancel's own CQE and the READY's, 1.3 s at most */
	while (n < 2 && !wait_one(1300, &data, &res)) {
		n++;
		if (data == 40) {
			got_ready = 1;
			rres = res;
			t_end = gt_now_ns() - t0;
		}
	}
	if (waits) {
		gt_ok(got_ready, "uffd-%s: READY in a silent monitor's fault ends within a second of the %s",
		      how, how);
		gt_err(rres, ECANCELED, "uffd-%s: ... with ECANCELED", how);
		if (got_ready)
			gt_diag("READY ended %.1f ms after the %s",
				gt_ms(t_end), how);
	} else {
		gt_ok(got_ready, "uffd-%s: 6.1: READY does not wait for a userfaultfd monitor",
		      how);
		gt_eq(0, rres, "uffd-%s: 6.1: no page present", how);
		if (!gt_ok(gt_match(st, "EEEE", 4) < 0,
			   "uffd-%s: 6.1: untouched userfaultfd pages are E",
			   how))
			gt_diag("states %s", gt_states_str(st, 4));
	}
	/* the monitor goes: whatever still waits is released */
	close(uffd);
	while (!got_ready && !wait_one(10000, &data, &res))
		got_ready = data == 40;
	munmap(p, P(4));
}

static void test_uffd_async_cancel(void)
{
	test_uffd_cancel("cancel");
}

static void test_uffd_link_timeout(void)
{
	test_uffd_cancel("timeout");
}

/*
 * SIGSTOP, then SIGCONT, while a READY of cold pages waits for their I/O:
 * a group stop sets TIF_SIGPENDING on io workers too, and is no cancel.
 */
static void test_stop_cont(void)
{
	const size_t n = 64;		/* ~3 s on the throttled disk */
	unsigned char st[64];
	struct gupnw_req req;
	uint64_t data = 0;
	pid_t parent = getpid(), kid;
	int res = 1, status, ret;
	char *p;

	p = mmap(NULL, P(n), PROT_READ, MAP_SHARED, slow_fd, 56 * MiB);
	if (p == MAP_FAILED)
		gt_bail("ready: mmap: %s", gt_errname(errno));
	gt_drain_throttle(gt_env("GT_SLOW_FILE", ""));
	gupnw_req_init(&req, p, P(n), 0, st);
	submit_ready(&req, 50, 0);
	io_uring_submit(&ring);
	kid = fork();
	if (kid < 0)
		gt_bail("ready: fork: %s", gt_errname(errno));
	if (!kid) {
		gt_sleep_ms(300);
		kill(parent, SIGSTOP);
		gt_sleep_ms(500);
		kill(parent, SIGCONT);
		_exit(0);
	}
	/* this thread was stopped too: its wait may end early */
	do
		ret = wait_one(60000, &data, &res);
	while (ret == -EINTR);
	if (!gt_ok(!ret && data == 50, "stop-cont: READY completes")) {
		gt_diag("wait %s, user_data %llu, res %d", gt_errname(-ret),
			(unsigned long long)data, res);
		res = 0;
	}
	waitpid(kid, &status, 0);
	gt_eq(n, res, "stop-cont: SIGSTOP/SIGCONT do not cancel a READY: every page present");
	gt_eq(n, gupnw_req_result(&req, NULL), "stop-cont: done covers the range");
	munmap(p, P(n));
}

#define FREEZE_CG	"/sys/fs/cgroup/t51-freeze"

/* The frozen child: a READY of n cold pages at p; reports 'S', then res. */
static void freeze_child(char *p, size_t n, int out)
{
	struct io_uring r;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct gupnw_req req;
	int res = 1, ret;
	char tag = 'S';

	if (gt_write_file(FREEZE_CG "/cgroup.procs", "0") ||
	    io_uring_queue_init(8, &r, 0))
		_exit(2);
	gupnw_req_init(&req, p, P(n), 0, NULL);
	sqe = io_uring_get_sqe(&r);
	gupnw_prep_ready(sqe, gupnw_fd(g), &req);
	io_uring_submit(&r);
	gt_write_all(out, &tag, 1);
	do
		ret = io_uring_wait_cqe(&r, &cqe);
	while (ret == -EINTR);
	if (!ret)
		res = cqe->res;
	gt_write_all(out, &res, sizeof(res));
	_exit(0);
}

/*
 * A cgroup v2 freeze, then a thaw, while a READY of cold pages waits for
 * their I/O: the freezer marks io workers as having a signal pending, and
 * is no cancel either.
 */
static void test_freeze_thaw(void)
{
	const size_t n = 64;
	int pr[2], res = 1, status;
	char tag = 0;
	pid_t kid;
	char *p;

	if (mkdir(FREEZE_CG, 0755) && errno != EEXIST)
		gt_case_skip("no cgroup v2 to freeze: %s", gt_errname(errno));
	if (access(FREEZE_CG "/cgroup.freeze", W_OK))
		gt_case_skip("no cgroup.freeze");
	p = mmap(NULL, P(n), PROT_READ, MAP_SHARED, slow_fd, 40 * MiB);
	if (p == MAP_FAILED || pipe(pr))
		gt_bail("ready: mmap/pipe: %s", gt_errname(errno));
	gt_drain_throttle(gt_env("GT_SLOW_FILE", ""));
	fflush(stdout);
	kid = fork();
	if (kid < 0)
		gt_bail("ready: fork: %s", gt_errname(errno));
	if (!kid) {
		close(pr[0]);
		freeze_child(p, n, pr[1]);
	}
	close(pr[1]);
	if (gt_read_all(pr[0], &tag, 1) || tag != 'S')
		gt_bail("freeze: the child did not submit");
	gt_sleep_ms(300);
	gt_write_file(FREEZE_CG "/cgroup.freeze", "1");
	gt_sleep_ms(500);
	gt_write_file(FREEZE_CG "/cgroup.freeze", "0");
	if (!gt_ok(!gt_read_all(pr[0], &res, sizeof(res)),
		   "freeze-thaw: READY completes"))
		res = 0;
	waitpid(kid, &status, 0);
	gt_eq(n, res, "freeze-thaw: a cgroup freeze and thaw do not cancel a READY: every page present");
	close(pr[0]);
	rmdir(FREEZE_CG);
	munmap(p, P(n));
}

/*
 * More READYs than io-wq has bounded workers (limited to 1 here): the
 * first waits for cold I/O, the others queue in io-wq, and the SQ slot of
 * each is overwritten as soon as it is submitted (zeros, or another
 * READY's argument).  Each must complete for its own range: i + 1 pages.
 * The same for WAIT probes (GUPNW_URING_CMD_PROBE), which io-wq runs too.
 */
#define REUSE_N	8
#define REUSE_W	4
static void test_sq_reuse(void)
{
	unsigned int workers[2] = { 1, 0 };
	struct gupnw_req req[REUSE_N + 1], wreq[REUSE_W];
	unsigned char st[REUSE_N][REUSE_N], wst[REUSE_W][REUSE_W];
	int res[REUSE_N + 1], wres[REUSE_W], seen = 0, r, i;
	struct io_uring_sqe *sqe;
	uint64_t data;
	char *blk, *q;

	if (io_uring_register_iowq_max_workers(&ring, workers))
		gt_case_skip("IORING_REGISTER_IOWQ_MAX_WORKERS unsupported");
	blk = mmap(NULL, P(32), PROT_READ, MAP_SHARED, slow_fd, 60 * MiB);
	q = mmap(NULL, P(REUSE_N * REUSE_N), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (blk == MAP_FAILED || q == MAP_FAILED)
		gt_bail("ready: mmap: %s", gt_errname(errno));
	gt_drain_throttle(gt_env("GT_SLOW_FILE", ""));
	/* the blocker: 32 cold pages, ~1.5 s */
	gupnw_req_init(&req[REUSE_N], blk, P(32), 0, NULL);
	submit_ready(&req[REUSE_N], 100, 0);
	io_uring_submit(&ring);
	memset(st, 0, sizeof(st));
	for (i = 0; i < REUSE_N; i++) {
		gupnw_req_init(&req[i], q + P(i * REUSE_N), P(i + 1), 0, st[i]);
		sqe = io_uring_get_sqe(&ring);
		gupnw_prep_ready(sqe, gupnw_fd(g), &req[i]);
		io_uring_sqe_set_data64(sqe, i);
		if (io_uring_submit(&ring) != 1)
			gt_bail("ready: submit %d", i);
		/* the slot is the application's again */
		if (i % 2)
			memset(sqe, 0, sizeof(*sqe));
		else
			gupnw_prep_ready(sqe, gupnw_fd(g),
					 &req[(i + 1) % REUSE_N]);
	}
	memset(wst, 0, sizeof(wst));
	for (i = 0; i < REUSE_W; i++) {
		gupnw_req_init(&wreq[i], q + P(i * REUSE_W), P(i + 1),
			       GUPNW_WAIT, wst[i]);
		sqe = io_uring_get_sqe(&ring);
		gupnw_prep_probe(sqe, gupnw_fd(g), &wreq[i]);
		io_uring_sqe_set_data64(sqe, 200 + i);
		if (io_uring_submit(&ring) != 1)
			gt_bail("ready: submit WAIT %d", i);
		memset(sqe, 0, sizeof(*sqe));
	}
	for (i = 0; i <= REUSE_N; i++)
		res[i] = 1000;
	for (i = 0; i < REUSE_W; i++)
		wres[i] = 1000;
	while (seen <= REUSE_N + REUSE_W && !wait_one(30000, &data, &r)) {
		if (data < REUSE_N)
			res[data] = r;
		else if (data == 100)
			res[REUSE_N] = r;
		else if (data >= 200 && data < 200 + REUSE_W)
			wres[data - 200] = r;
		seen++;
	}
	gt_eq(REUSE_N + REUSE_W + 1, seen,
	      "sq-reuse: every READY and WAIT probe completes");
	for (i = 0; i < REUSE_W; i++) {
		if (!gt_eq(0, wres[i],
			   "sq-reuse: WAIT probe %d queued in io-wq, its SQ slot reused: res 0",
			   i))
			continue;
		gt_eq(i + 1, gupnw_req_result(&wreq[i], NULL),
		      "sq-reuse: WAIT probe %d: done is its own %d pages",
		      i, i + 1);
	}
	for (i = 0; i < REUSE_N; i++) {
		if (!gt_eq(i + 1, res[i],
			   "sq-reuse: READY %d queued in io-wq, its SQ slot reused: res is its own %d pages",
			   i, i + 1))
			continue;
		gt_eq(i + 1, gupnw_req_result(&req[i], NULL),
		      "sq-reuse: READY %d: done is its own range", i);
		gt_ok(gt_match(st[i], "RRRRRRRR", i + 1) < 0,
		      "sq-reuse: READY %d: its states are R", i);
	}
	munmap(blk, P(32));
	munmap(q, P(REUSE_N * REUSE_N));
}

/*
 * READY over a PROT_NONE reservation of 2^31 - 1 pages (8 TiB: Go and JVM
 * heaps reserve so): one refused run, 'E' for every page, counts only or
 * with a states buffer.  The states buffer is 1 MiB, followed by a
 * PROT_NONE guard: a READY with it ends -EFAULT after exactly that much,
 * having written every byte of it.
 */
static void test_huge_hole(void)
{
	const size_t npages = (size_t)INT32_MAX;
	const size_t stlen = 1024 * 1024;
	struct gupnw_counts c;
	struct gupnw_req req;
	unsigned char *st;
	uint64_t data;
	int res = 1;
	char *p;

	p = mmap(NULL, P(npages), PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		gt_case_skip("no 8 TiB of address space: %s", gt_errname(errno));
	gupnw_req_init(&req, p, P(npages), 0, NULL);
	submit_ready(&req, 60, 0);
	io_uring_submit(&ring);
	if (!gt_ok(!wait_one(120000, &data, &res) && data == 60,
		   "huge-hole: counts-only READY of 2^31-1 PROT_NONE pages completes"))
		gt_bail("huge-hole: no completion");
	gt_eq(0, res, "huge-hole: no page present");
	gt_eq(npages, gupnw_req_result(&req, &c), "huge-hole: done is every page");
	gt_eq(npages, c.error, "huge-hole: every page E");

	st = mmap(NULL, stlen + gt_page, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED || mprotect(st + stlen, gt_page, PROT_NONE))
		gt_bail("huge-hole: states buffer: %s", gt_errname(errno));
	/* 2^31 bytes of states would need 2 GiB: stop the copy at 1 MiB */
	gupnw_req_init(&req, p, P(npages), 0, st);
	submit_ready(&req, 61, 0);
	io_uring_submit(&ring);
	if (!gt_ok(!wait_one(120000, &data, &res) && data == 61,
		   "huge-hole: READY with states over the hole completes"))
		gt_bail("huge-hole: no completion");
	gt_err(res, EFAULT, "huge-hole: the states buffer ends: EFAULT");
	gt_eq(stlen, gupnw_req_result(&req, NULL),
	      "huge-hole: done is what the buffer took");
	gt_ok(gt_match(st, gt_repeat('E', 64), 64) < 0 &&
	      gt_match(st + stlen - 64, gt_repeat('E', 64), 64) < 0,
	      "huge-hole: the buffer says E");
	munmap(st, stlen + gt_page);
	munmap(p, P(npages));
}

/*
 * A states buffer of 2^31 bytes in 2 MiB of memory: one 2 MiB memfd mapped
 * 1024 times side by side.  Returns the buffer; *fd is the memfd.
 */
static unsigned char *map_states_2g(int *fd)
{
	const size_t part = 2 * MiB, len = (size_t)1 << 31;
	unsigned char *b;
	size_t off;

	*fd = memfd_create("t51-states", MFD_CLOEXEC);
	if (*fd < 0 || ftruncate(*fd, part))
		gt_bail("huge-hole: memfd: %s", gt_errname(errno));
	b = mmap(NULL, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b == MAP_FAILED)
		gt_bail("huge-hole: reserve: %s", gt_errname(errno));
	for (off = 0; off < len; off += part)
		if (mmap(b + off, part, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, *fd, 0) == MAP_FAILED)
			gt_bail("huge-hole: map states: %s", gt_errname(errno));
	return b;
}

/*
 * The same hole with a whole states buffer: 2^25 copies of 64 bytes in
 * one step.  It completes with every byte 'E', and a SIGKILL while it
 * runs ends the process at once (the READY checks for fatal signals
 * between copies, and reschedules).
 */
static void test_huge_hole_states(void)
{
	const size_t npages = (size_t)INT32_MAX;
	struct gupnw_req req;
	unsigned char *st, *part;
	uint64_t t0, data;
	int res = 1, fd, status;
	pid_t kid;
	char *p;

	p = mmap(NULL, P(npages), PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		gt_case_skip("no 8 TiB of address space: %s", gt_errname(errno));
	st = map_states_2g(&fd);
	memset(st, 0, 2 * MiB);
	gupnw_req_init(&req, p, P(npages), 0, st);
	t0 = gt_now_ns();
	submit_ready(&req, 62, 0);
	io_uring_submit(&ring);
	if (!gt_ok(!wait_one(600000, &data, &res) && data == 62,
		   "huge-hole-states: READY with 2^31 bytes of states over the hole completes"))
		gt_bail("huge-hole-states: no completion");
	gt_diag("READY took %.1f ms", gt_ms(gt_now_ns() - t0));
	gt_eq(0, res, "huge-hole-states: no page present");
	gt_eq(npages, gupnw_req_result(&req, NULL),
	      "huge-hole-states: done is every page");
	part = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
	if (part == MAP_FAILED)
		gt_bail("huge-hole-states: mmap: %s", gt_errname(errno));
	gt_ok(gt_match(part, gt_repeat('E', 2 * MiB), 2 * MiB) < 0,
	      "huge-hole-states: every byte of the states is E");
	munmap(part, 2 * MiB);

	/* again in a child, killed while the READY copies */
	kid = fork();
	if (kid < 0)
		gt_bail("huge-hole-states: fork: %s", gt_errname(errno));
	if (!kid) {
		submit_ready(&req, 63, 0);
		io_uring_submit(&ring);
		wait_one(600000, &data, &res);
		_exit(0);
	}
	gt_sleep_ms(500);
	kill(kid, SIGKILL);
	t0 = gt_now_ns();
	waitpid(kid, &status, 0);
	gt_diag("child reaped %.1f ms after SIGKILL", gt_ms(gt_now_ns() - t0));
	gt_ok(gt_now_ns() - t0 < 3000000000ULL,
	      "huge-hole-states: SIGKILL during the copies ends the process within 3 s");
	munmap(st, (size_t)1 << 31);
	close(fd);
	munmap(p, P(npages));
}

/* READY returns its own counts, never what the caller left in the struct. */
static void test_own_counts(void)
{
	struct gupnw_probe_args *a;
	struct gupnw_req req;
	uint64_t data;
	int res = -1;
	char *p;

	p = mmap(NULL, P(4), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		gt_bail("ready: mmap: %s", gt_errname(errno));
	gupnw_req_init(&req, p, P(4), 0, NULL);
	a = (struct gupnw_probe_args *)req.opaque;
	a->io_started = 0x5a5a5a5a5a5a5a5aULL;
	a->async_faults = 0xa5a5a5a5a5a5a5a5ULL;
	submit_ready(&req, 70, 0);
	io_uring_submit(&ring);
	if (wait_one(10000, &data, &res))
		gt_bail("own-counts: no completion");
	gt_eq(4, res, "own-counts: READY of 4 anon pages: 4 present");
	gt_eq(0, a->io_started, "own-counts: io_started is READY's own 0, not the caller's junk");
	gt_eq(0, a->async_faults, "own-counts: async_faults is READY's own 0, not the caller's junk");
	munmap(p, P(4));
}

/* Each case's own ring, in its own process. */
static void setup(void)
{
	int ret = io_uring_queue_init(64, &ring, 0);

	if (ret)
		gt_case_skip("io_uring_queue_init failed (io_uring disabled?): %s",
			     gt_errname(-ret));
}

/* The cases on the throttled disk share its cold file (made cold once). */
static void need_slow(void (*test)(void))
{
	if (slow_fd < 0)
		GT_SKIP("no $GUPNW_SLOW/cold-64m");
	test();
}

static void case_ready_after_io(void)
{
	need_slow(test_ready_after_io);
}

static void case_cancel(void)
{
	need_slow(test_cancel);
}

static void case_link_timeout(void)
{
	need_slow(test_link_timeout);
}

static void case_stop_cont(void)
{
	need_slow(test_stop_cont);
}

static void case_freeze_thaw(void)
{
	need_slow(test_freeze_thaw);
}

static void case_sq_reuse(void)
{
	need_slow(test_sq_reuse);
}

static const struct gt_case cases[] = {
	GT_CASE("states", test_states),
	GT_CASE("ready-after-io", case_ready_after_io),
	GT_CASE("cancel", case_cancel),
	GT_CASE("link-timeout", case_link_timeout),
	GT_CASE("stop-cont", case_stop_cont),
	GT_CASE("freeze-thaw", case_freeze_thaw),
	GT_CASE("uffd-async-cancel", test_uffd_async_cancel),
	GT_CASE("uffd-link-timeout", test_uffd_link_timeout),
	GT_CASE("sq-reuse", case_sq_reuse),
	GT_CASE("huge-hole", test_huge_hole),
	GT_CASE_TIMED("huge-hole-states", test_huge_hole_states, 900),
	GT_CASE("own-counts", test_own_counts),
};

static int before(void)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/cold-64m",
		 gt_env("GUPNW_SLOW", "/mnt/slow"));
	setenv("GT_SLOW_FILE", path, 1);
	slow_fd = open(path, O_RDONLY);
	if (slow_fd >= 0 && gt_make_cold(slow_fd))
		gt_bail("ready: could not make %s cold", path);
	return 0;
}

GT_FILE(cases, .lib = &g, .setup = setup, .before = before);
