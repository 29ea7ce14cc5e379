// SPDX-License-Identifier: GPL-2.0
/*
 * t52_uring_lifetime: a READY that would take a minute (cold data on the
 * throttled disk) is pending when its ring is closed, its process exits or
 * is killed, or the process whose memory it waits for (GUPNW_PROBE_TARGET_FD)
 * dies.  Each case ends within seconds, and the module's reference count
 * comes back to where it was - nothing leaks, nothing stays pinned.  While
 * a READY is pending the module cannot be unloaded; once it is gone it can
 * (and is loaded again from $GUPNW_KO).  Closing the /dev/gupnw fd under a
 * pending READY does not disturb it.  A ring closed under a READY that
 * waits on a userfaultfd range whose monitor never answers lets the module
 * go within a second too (io_uring's exit work would otherwise wait, and
 * WARN after five minutes).
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB	(1024 * 1024)
#define BIG	(8 * MiB)		/* ~100 s to read at 20 x 4 KiB/s */

static char path[512];

static long refcnt(void)
{
	char buf[32];

	if (gt_read_file("/sys/module/gupnw/refcnt", buf, sizeof(buf)) < 0)
		return -1;
	return atol(buf);
}

/* Wait up to ms for the refcount to come back to base. */
static int refcnt_back(long base, unsigned int ms)
{
	unsigned int i;

	for (i = 0; i < ms / 50; i++) {
		if (refcnt() == base)
			return 1;
		gt_sleep_ms(50);
	}
	return refcnt() == base;
}

static char *map_cold(off_t off)
{
	int fd = open(path, O_RDONLY);
	char *p;

	if (fd < 0)
		gt_bail("lifetime: open %s: %s", path, gt_errname(errno));
	p = mmap(NULL, BIG, PROT_READ, MAP_SHARED, fd, off);
	close(fd);
	if (p == MAP_FAILED)
		gt_bail("lifetime: mmap: %s", gt_errname(errno));
	return p;
}

/*
 * Open a device fd and a ring, submit a READY of [p, p + BIG) (or, with
 * target_fd >= 0, of that address in the process behind it).
 */
static void start_ready(struct io_uring *ring, int *devfd,
			struct gupnw_probe_args *a, const void *p,
			int target_fd)
{
	struct io_uring_sqe *sqe;
	struct gupnw_uring_cmd cmd;

	*devfd = gt_dev_open();
	if (*devfd < 0 || io_uring_queue_init(8, ring, 0))
		gt_bail("lifetime: device or ring: %s", gt_errname(errno));
	gt_args_init(a, p, BIG, 0, NULL);
	if (target_fd >= 0) {
		a->flags |= GUPNW_PROBE_TARGET_FD;
		a->target_fd = target_fd;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.args = (uintptr_t)a;
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, *devfd, NULL, 0, 0);
	sqe->cmd_op = GUPNW_URING_CMD_READY;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
	if (io_uring_submit(ring) != 1)
		gt_bail("lifetime: submit");
}

/* Wait up to ms for child; 1 when it was reaped. */
static int reap(pid_t pid, unsigned int ms, int *status)
{
	unsigned int i;

	for (i = 0; i <= ms / 20; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		gt_sleep_ms(20);
	}
	return 0;
}

static void test_ring_close(long base, char *p)
{
	struct gupnw_probe_args a;
	struct io_uring ring;
	uint64_t t0;
	int devfd;

	start_ready(&ring, &devfd, &a, p, -1);
	gt_sleep_ms(200);
	gt_ok(refcnt() > base, "lifetime: a pending READY holds the module");
	t0 = gt_now_ns();
	io_uring_queue_exit(&ring);
	close(devfd);
	gt_ok(refcnt_back(base, 15000),
	      "lifetime: ring closed under a READY: module reference dropped");
	gt_diag("released %.1f ms after the close", gt_ms(gt_now_ns() - t0));
}

/*
 * The ring of a READY waiting in a userfaultfd fault (6.2+; on 6.1 READY
 * does not fault such a range and is done before the close) is closed:
 * the cancel must end the wait, so the module reference goes at once.
 */
static void test_uffd_ring_close(long base)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	struct gupnw_probe_args a;
	struct io_uring ring;
	uint64_t t0;
	int devfd, uffd, back;
	char *p;

	p = mmap(NULL, BIG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		gt_bail("lifetime: mmap: %s", gt_errname(errno));
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		gt_case_skip("userfaultfd: %s", gt_errname(errno));
	reg.range.start = (uintptr_t)p;
	reg.range.len = BIG;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg))
		gt_bail("lifetime: userfaultfd setup: %s", gt_errname(errno));
	start_ready(&ring, &devfd, &a, p, -1);
	gt_sleep_ms(300);		/* in the fault now */
	t0 = gt_now_ns();
	io_uring_queue_exit(&ring);
	close(devfd);
	back = refcnt_back(base, 1000);
	gt_ok(back,
	      "uffd-ring-close: ring closed under a READY in a silent monitor's fault: module reference dropped within a second");
	if (back)
		gt_diag("released %.1f ms after the close",
			gt_ms(gt_now_ns() - t0));
	/* the monitor goes: a READY still waiting is released */
	close(uffd);
	if (!back)
		refcnt_back(base, 15000);
	munmap(p, BIG);
}

static void test_fd_close(void)
{
	struct io_uring_cqe *cqe;
	struct gupnw_probe_args a;
	struct io_uring ring;
	char *q;
	int devfd;

	q = mmap(NULL, BIG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(q, 1, BIG);
	start_ready(&ring, &devfd, &a, q, -1);
	close(devfd);
	if (!gt_ok(!io_uring_wait_cqe(&ring, &cqe) &&
		   cqe->res == (int)(BIG / gt_page),
		   "lifetime: closing the device fd does not disturb a READY"))
		gt_diag("res %d", cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	munmap(q, BIG);
}

/* how: 0 exit, 1 SIGKILL */
static void test_exit(long base, char *p, int how)
{
	const char *what = how ? "killed" : "exiting";
	struct gupnw_probe_args a;
	struct io_uring ring;
	int status, devfd;
	uint64_t t0;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		gt_bail("lifetime: fork: %s", gt_errname(errno));
	if (!pid) {
		start_ready(&ring, &devfd, &a, p, -1);
		gt_sleep_ms(200);
		if (!how)
			_exit(0);
		pause();
		_exit(1);
	}
	gt_sleep_ms(500);
	t0 = gt_now_ns();
	if (how)
		kill(pid, SIGKILL);
	if (!gt_ok(reap(pid, 15000, &status),
		   "lifetime: a process %s with a pending READY ends", what)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	gt_diag("%s process reaped after %.1f ms", what,
		gt_ms(gt_now_ns() - t0));
	gt_ok(refcnt_back(base, 15000),
	      "lifetime: ... and the module reference is dropped");
}

static void test_target_gone(long base)
{
	struct io_uring_cqe *cqe;
	struct gupnw_probe_args a;
	struct io_uring ring;
	int pfd[2], memfd, devfd, status, ret;
	char mem[64];
	uint64_t t0;
	char *q;
	pid_t pid;

	if (pipe(pfd))
		gt_bail("lifetime: pipe");
	pid = fork();
	if (!pid) {
		q = map_cold(16 * MiB);
		gt_write_all(pfd[1], &q, sizeof(q));
		pause();
		_exit(0);
	}
	if (gt_read_all(pfd[0], &q, sizeof(q)))
		gt_bail("lifetime: child address");
	snprintf(mem, sizeof(mem), "/proc/%d/mem", pid);
	memfd = open(mem, O_RDONLY);
	if (memfd < 0)
		gt_bail("lifetime: open %s: %s", mem, gt_errname(errno));
	start_ready(&ring, &devfd, &a, q, memfd);
	gt_sleep_ms(300);
	t0 = gt_now_ns();
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ret = io_uring_wait_cqe(&ring, &cqe);
	if (!gt_ok(!ret && cqe->res == -ESRCH,
		   "lifetime: READY on a process that dies ends with ESRCH"))
		gt_diag("ret %d res %d", ret, ret ? 0 : cqe->res);
	gt_diag("READY ended %.1f ms after the kill", gt_ms(gt_now_ns() - t0));
	gt_ok(gt_now_ns() - t0 < 20000000000ULL,
	      "lifetime: ... within 20 s (the whole READY takes ~100 s)");
	if (!ret)
		io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	close(devfd);
	close(memfd);
	gt_ok(refcnt_back(base, 15000),
	      "lifetime: ... and the module reference is dropped");
}

static void test_unload(long base, char *p)
{
	const char *ko = gt_env("GUPNW_KO", "/lib/gupnw/gupnw.ko");
	struct gupnw_probe_args a;
	struct io_uring ring;
	int status, devfd, ret, fd, i;
	pid_t pid;

	pid = fork();
	if (!pid) {
		start_ready(&ring, &devfd, &a, p, -1);
		close(devfd);	/* only the pending READY holds the file */
		pause();
		_exit(1);
	}
	gt_sleep_ms(500);
	ret = syscall(SYS_delete_module, "gupnw", O_NONBLOCK);
	gt_err(ret ? -errno : 0, EWOULDBLOCK,
	       "lifetime: rmmod with a pending READY fails (EWOULDBLOCK)");
	gt_ok(access("/dev/gupnw", F_OK) == 0,
	      "lifetime: ... and /dev/gupnw is still there");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (!gt_ok(refcnt_back(base, 15000),
		   "lifetime: the READY gone, the module is free"))
		return;
	ret = syscall(SYS_delete_module, "gupnw", O_NONBLOCK);
	gt_err(ret ? -errno : 0, 0, "lifetime: then rmmod succeeds");
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	ret = fd < 0 ? -1 : syscall(SYS_finit_module, fd, "", 0);
	gt_err(ret ? -errno : 0, 0, "lifetime: and %s loads again", ko);
	if (fd >= 0)
		close(fd);
	for (i = 0; i < 100 && access("/dev/gupnw", F_OK); i++)
		gt_sleep_ms(50);
	gt_ok(access("/dev/gupnw", F_OK) == 0, "lifetime: /dev/gupnw is back");
}

static long base;	/* the module's refcount before any case */

static void case_ring_close(void)
{
	char *p = map_cold(0);

	test_ring_close(base, p);
	munmap(p, BIG);
}

static void case_uffd_ring_close(void)
{
	test_uffd_ring_close(base);
}

static void case_exit(void)
{
	char *p = map_cold(8 * MiB);

	test_exit(base, p, 0);
	munmap(p, BIG);
}

static void case_sigkill(void)
{
	char *p = map_cold(24 * MiB);

	test_exit(base, p, 1);
	munmap(p, BIG);
}

static void case_target_gone(void)
{
	test_target_gone(base);
}

static void case_unload(void)
{
	char *p = map_cold(40 * MiB);

	test_unload(base, p);
	munmap(p, BIG);
}

static const struct gt_case cases[] = {
	GT_CASE("ring-close", case_ring_close),
	GT_CASE("fd-close", test_fd_close),
	GT_CASE("uffd-ring-close", case_uffd_ring_close),
	GT_CASE("exit", case_exit),
	GT_CASE("sigkill", case_sigkill),
	GT_CASE("target-gone", case_target_gone),
	GT_CASE("unload", case_unload),
};

static int before(void)
{
	struct io_uring ring;
	int fd;

	snprintf(path, sizeof(path), "%s/cold-64m",
		 gt_env("GUPNW_SLOW", "/mnt/slow"));
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		gt_skip("no $GUPNW_SLOW/cold-64m", "lifetime: pending READYs");
		return 1;
	}
	if (io_uring_queue_init(8, &ring, 0)) {
		gt_skip("io_uring_queue_init failed (io_uring disabled?)",
			"lifetime: pending READYs");
		return 1;
	}
	io_uring_queue_exit(&ring);
	if (gt_make_cold(fd))
		gt_bail("lifetime: could not make %s cold", path);
	close(fd);
	base = refcnt();
	if (base < 0)
		gt_bail("lifetime: no /sys/module/gupnw/refcnt");

	return 0;
}

GT_FILE(cases, .before = before);
