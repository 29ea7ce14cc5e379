// SPDX-License-Identifier: GPL-2.0
/*
 * t54_uring_ready_noworker: GUPNW_URING_CMD_READY with
 * GUPNW_URING_READY_NOWORKER, and GUPNW_URING_CMD_CANCEL.  On the throttled
 * disk a READY of cold file pages completes after their reads with every
 * page present, and no io_uring worker thread ever exists in the process;
 * the submitting thread neither waits nor faults.  Mixed ranges give the
 * states of a READY with a worker (R, '.', E; E past EOF).  A swapped-out
 * page, which no folio wait covers, still completes (through io-wq).  A
 * present range larger than one step completes (in several task works).
 * A block device's pages wait without a worker as a file's do.
 * GUPNW_URING_CMD_CANCEL ends a READY that would take minutes with
 * -ECANCELED and says how many it found, -ENOENT when none; the ring
 * closed and the submitter exiting end one too, without waiting for the
 * whole range.  Bad flags and reserved bits are refused with -EINVAL.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/gupnw.h>

#define P(n)	((size_t)(n) * gt_page)
#define MiB	(1024 * 1024)
/* A READY of this much cold data takes ~100 s at 20 x 4 KiB/s. */
#define BIG	(8 * MiB)

static struct gupnw *g;
static struct io_uring ring;
static int slow_fd = -1;
static char memcg[256];
static int in_memcg;

/* The SQE of a command, its payload's flags and reserved word as given. */
static void submit_cmd(uint32_t op, struct gupnw_req *req, uint32_t flags,
		       uint32_t reserved, uint64_t data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	struct gupnw_uring_cmd cmd;

	gupnw_prep_ready(sqe, gupnw_fd(g), req);
	memcpy(&cmd, sqe->cmd, sizeof(cmd));
	cmd.flags = flags;
	cmd.reserved = reserved;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
	sqe->cmd_op = op;
	io_uring_sqe_set_data64(sqe, data);
}

/* Through libgupnw's helpers, which the cases test too. */
static void submit_ready(struct gupnw_req *req, uint64_t data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	gupnw_prep_ready_noworker(sqe, gupnw_fd(g), req);
	io_uring_sqe_set_data64(sqe, data);
}

static void submit_cancel(struct gupnw_req *req, uint64_t data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	gupnw_prep_cancel(sqe, gupnw_fd(g), req);
	io_uring_sqe_set_data64(sqe, data);
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

/* Threads of this process named iou-wrk-*: io_uring's workers. */
static int iou_workers(void)
{
	char path[300], comm[64];
	struct dirent *d;
	int n = 0;
	DIR *dir = opendir("/proc/self/task");

	if (!dir)
		gt_bail("opendir /proc/self/task: %s", gt_errname(errno));
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 d->d_name);
		if (gt_read_file(path, comm, sizeof(comm)) > 0 &&
		    !strncmp(comm, "iou-wrk", 7))
			n++;
	}
	closedir(dir);
	return n;
}

static long thread_majflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_majflt;
}

static void test_cold_pages(void)
{
	const size_t n = 16;
	unsigned char rst[16];
	struct io_uring_cqe *cqe;
	struct gupnw_counts c;
	struct gupnw_req req;
	uint64_t t0, t_submit, t_done, data;
	int res, peek, ret, workers = 0;
	long maj0, maj1;
	char *p;

	p = mmap(NULL, P(n), PROT_READ, MAP_SHARED, slow_fd, 24 * MiB);
	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	gt_drain_throttle(gt_env("GT_SLOW_FILE", ""));
	gt_ok(gt_resident(p, P(n)) == 0, "cold: no page resident before");

	gupnw_req_init(&req, p, P(n), 0, rst);
	maj0 = thread_majflt();
	t0 = gt_now_ns();
	submit_ready(&req, 7);
	ret = io_uring_submit(&ring);
	t_submit = gt_now_ns() - t0;
	peek = io_uring_peek_cqe(&ring, &cqe);
	gt_eq(1, ret, "cold: submitted");
	gt_ok(peek == -EAGAIN, "cold: no completion right after the submit");
	/* look for workers while it waits, every 10 ms */
	while ((ret = wait_one(10, &data, &res)) == -ETIME &&
	       gt_now_ns() - t0 < 60000000000ULL)
		workers += iou_workers();
	t_done = gt_now_ns() - t0;
	maj1 = thread_majflt();
	gt_ok(!ret && data == 7, "cold: completes");
	gt_eq(n, res, "cold: res is the number of pages present");
	gt_eq(n, gt_resident(p, P(n)),
	      "cold: on completion every page is resident (mincore)");
	if (!gt_ok(gt_match(rst, "RRRRRRRRRRRRRRRR", n) < 0,
		   "cold: states say R for every page"))
		gt_diag("states %s", gt_states_str(rst, n));
	gt_eq(n, gupnw_req_result(&req, &c), "cold: done covers the range");
	if (!gt_ok(c.resident == n && !c.error && !c.unmapped && !c.retry &&
		   !c.faulted && !c.io_started,
		   "cold: counts say %zu present, nothing else", n))
		gt_diag("%s", gt_counts_str(&c));
	gt_eq(0, workers + iou_workers(),
	      "cold: no io_uring worker thread while it waited, nor after");
	gt_diag("submit %.3f ms, READY completed after %.1f ms",
		gt_ms(t_submit), gt_ms(t_done));
	gt_ok(t_submit * 10 < t_done,
	      "cold: the submitter did not wait (submit < 1/10 of READY)");
	gt_eq(0, maj1 - maj0, "cold: no major fault in the submitting thread");
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
		gt_bail("mmap: %s", gt_errname(errno));
	p[0] = 1;
	munmap(p + P(2), P(1));
	mprotect(p + P(3), P(1), PROT_NONE);
	memset(st, 0, sizeof(st));
	gupnw_req_init(&req, p, P(4), 0, st);
	submit_ready(&req, 1);
	io_uring_submit(&ring);
	if (wait_one(10000, &data, &res))
		gt_bail("mixed range did not complete");
	gt_eq(2, res, "states: touched + untouched anon, hole, PROT_NONE: 2 present");
	if (!gt_ok(gt_match(st, "RR.E", 4) < 0, "states: R R . E"))
		gt_diag("states %s", gt_states_str(st, 4));
	gupnw_req_result(&req, &c);
	if (!gt_ok(c.resident == 2 && c.unmapped == 1 && c.error == 1 &&
		   !c.faulted && !c.retry && !c.notpresent && !c.io_started,
		   "states: counts 2 R, 1 '.', 1 E"))
		gt_diag("%s", gt_counts_str(&c));
	munmap(p, P(4));

	fd = open("/tmp/t54.eof", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, P(1)))
		gt_bail("/tmp/t54.eof: %s", gt_errname(errno));
	p = mmap(NULL, P(2), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	gupnw_req_init(&req, p, P(2), 0, st);
	submit_ready(&req, 2);
	io_uring_submit(&ring);
	if (wait_one(10000, &data, &res))
		gt_bail("EOF range did not complete");
	gt_eq(1, res, "states: one page in the file, one past EOF: 1 present");
	if (!gt_ok(gt_match(st, "RE", 2) < 0, "states: the page past EOF is E"))
		gt_diag("states %s", gt_states_str(st, 2));
	munmap(p, P(2));
	close(fd);
	unlink("/tmp/t54.eof");
}

/* Swapped-out pages: no folio wait covers them, a worker does. */
static void test_swapped(void)
{
	const size_t n = 16;
	unsigned char st[16];
	struct gupnw_req req;
	uint64_t data;
	char *p;
	int res;

	if (!in_memcg)
		GT_SKIP("no memory cgroup to swap pages out with");
	p = gt_map_swapped(n, 1, memcg, 54, NULL);
	if (!p)
		GT_SKIP("could not swap the pages out");
	gupnw_req_init(&req, p, P(n), 0, st);
	submit_ready(&req, 3);
	io_uring_submit(&ring);
	if (wait_one(60000, &data, &res))
		gt_bail("swapped range did not complete");
	gt_eq(n, res, "swapped: every page present");
	gt_eq(n, gt_resident(p, P(n)), "swapped: resident (mincore)");
	if (!gt_ok(gt_match(st, "RRRRRRRRRRRRRRRR", n) < 0,
		   "swapped: states all R"))
		gt_diag("states %s", gt_states_str(st, n));
	gt_ok(gt_check_pages(p, n, 54) < 0, "swapped: the data came back");
	munmap(p, P(n));
}

/*
 * A block device's pages wait without a worker too: /dev/vde, QEMU's
 * null-co disk whose every read takes 1 ms, which no other test reads.
 */
static void test_block_device(void)
{
	const size_t n = 64;
	unsigned char st[64];
	struct gupnw_req req;
	uint64_t t0, data;
	int fd, res, workers = 0, ret;
	char *p;

	fd = open("/dev/vde", O_RDONLY);
	if (fd < 0)
		GT_SKIP("no /dev/vde: %s", gt_errname(errno));
	p = mmap(NULL, P(n), PROT_READ, MAP_SHARED, fd, 256 * MiB);
	if (p == MAP_FAILED)
		gt_bail("mmap /dev/vde: %s", gt_errname(errno));
	madvise(p, P(n), MADV_RANDOM);
	gt_eq(0, gt_resident(p, P(n)), "blockdev: no page resident before");
	gupnw_req_init(&req, p, P(n), 0, st);
	t0 = gt_now_ns();
	submit_ready(&req, 5);
	io_uring_submit(&ring);
	while ((ret = wait_one(10, &data, &res)) == -ETIME &&
	       gt_now_ns() - t0 < 60000000000ULL)
		workers += iou_workers();
	gt_ok(!ret && data == 5, "blockdev: completes");
	gt_eq(n, res, "blockdev: every page present");
	gt_eq(n, gt_resident(p, P(n)), "blockdev: resident (mincore)");
	gt_eq(0, workers + iou_workers(),
	      "blockdev: no io_uring worker thread while it waited");
	munmap(p, P(n));
	close(fd);
}

/*
 * A range too large for one step (16 holds of 2048 pages): the READY goes
 * on in later task work and completes with every page present.
 */
static void test_large_present(void)
{
	const size_t n = 40000;		/* 156 MiB, 20 holds */
	struct gupnw_counts c;
	struct gupnw_req req;
	uint64_t data;
	size_t i;
	int res;
	char *p = gt_map_anon(n, PROT_READ | PROT_WRITE, MAP_PRIVATE);

	for (i = 0; i < n; i++)
		p[P(i)] = 1;
	gupnw_req_init(&req, p, P(n), 0, NULL);
	submit_ready(&req, 4);
	io_uring_submit(&ring);
	if (wait_one(60000, &data, &res))
		gt_bail("large range did not complete");
	gt_eq(n, res, "large: every page of a range of 20 holds present");
	gupnw_req_result(&req, &c);
	gt_eq(n, c.resident, "large: the counts say so");
	gt_eq(0, iou_workers(), "large: no io_uring worker thread");
	munmap(p, P(n));
}

/* READY of BIG cold bytes at off; returns the mapping. */
static char *map_big(off_t off)
{
	char *p = mmap(NULL, BIG, PROT_READ, MAP_SHARED, slow_fd, off);

	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	return p;
}

static void test_cancel(void)
{
	int res, got_ready = 0, got_cancel = 0, ready_res = 0, cancel_res = 0;
	uint64_t t0, t_cancel = 0, data;
	struct gupnw_req req;
	char *p = map_big(32 * MiB);

	gupnw_req_init(&req, p, BIG, 0, NULL);
	submit_ready(&req, 10);
	io_uring_submit(&ring);
	gt_sleep_ms(300);
	submit_cancel(&req, 11);
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
	gt_eq(1, cancel_res, "cancel: CANCEL found one READY");
	gt_diag("READY ended %.1f ms after the cancel; %llu of %zu pages done",
		gt_ms(t_cancel),
		(unsigned long long)gupnw_req_result(&req, NULL),
		(size_t)(BIG / gt_page));
	gt_ok(got_ready && t_cancel < 20000000000ULL,
	      "cancel: READY ends within 20 s (the whole READY takes ~100 s)");
	gt_ok(gupnw_req_result(&req, NULL) < (uint64_t)(BIG / gt_page),
	      "cancel: READY stopped before the end of the range");
	gt_eq(0, iou_workers(), "cancel: no io_uring worker thread");

	/* nothing pending with that argument block any more */
	submit_cancel(&req, 12);
	io_uring_submit(&ring);
	if (wait_one(10000, &data, &res))
		gt_bail("cancel: second CANCEL did not complete");
	gt_err(res, ENOENT, "cancel: CANCEL of nothing pending: ENOENT");
	munmap(p, BIG);
}

static void test_bad_flags(void)
{
	static const struct {
		uint32_t op, flags, reserved;
		const char *what;
	} bad[] = {
		{ GUPNW_URING_CMD_READY, 2, 0, "READY, an unknown flag" },
		{ GUPNW_URING_CMD_READY, GUPNW_URING_READY_NOWORKER, 1,
		  "READY, reserved set" },
		{ GUPNW_URING_CMD_PROBE, GUPNW_URING_READY_NOWORKER, 0,
		  "PROBE with READY's flag" },
		{ GUPNW_URING_CMD_CANCEL, GUPNW_URING_READY_NOWORKER, 0,
		  "CANCEL with READY's flag" },
		{ GUPNW_URING_CMD_CANCEL, 0, 1, "CANCEL, reserved set" },
	};
	unsigned char st[1];
	struct gupnw_req req;
	uint64_t data;
	unsigned int i;
	int res;
	char *p = gt_map_anon(1, PROT_READ | PROT_WRITE, MAP_PRIVATE);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gupnw_req_init(&req, p, P(1), 0, st);
		submit_cmd(bad[i].op, &req, bad[i].flags, bad[i].reserved, i);
		io_uring_submit(&ring);
		if (wait_one(10000, &data, &res))
			gt_bail("%s: no completion", bad[i].what);
		gt_err(res, EINVAL, "bad-flags: %s: EINVAL", bad[i].what);
	}
	munmap(p, P(1));
}

/* A READY pending when its ring is closed ends; the close does not hang. */
static void test_ring_close(void)
{
	struct gupnw_req req;
	uint64_t t0, t;
	char *p = map_big(40 * MiB);

	gupnw_req_init(&req, p, BIG, 0, NULL);
	submit_ready(&req, 20);
	io_uring_submit(&ring);
	gt_sleep_ms(300);
	t0 = gt_now_ns();
	io_uring_queue_exit(&ring);
	/* the close itself returns; the ring goes once the READY ends */
	t = gt_now_ns() - t0;
	gt_ok(t < 1000000000ULL, "ring-close: close returns (%.1f ms)", gt_ms(t));
	/* a new ring and READY of the same file works after */
	if (io_uring_queue_init(64, &ring, 0))
		gt_bail("ring-close: io_uring_queue_init again");
	gt_drain_throttle(gt_env("GT_SLOW_FILE", ""));
	t = gt_now_ns() - t0;
	gt_diag("the throttled disk was drained %.1f s after the close",
		gt_ms(t) / 1000);
	gt_ok(t < 30000000000ULL,
	      "ring-close: the closed ring's READY stopped reading (disk idle in 30 s, the READY takes ~100 s)");
	munmap(p, BIG);
}

struct exit_arg {
	char *p;
};

/* The child: a READY pending, then exit without waiting for it. */
static void exit_child(void *arg, int out)
{
	struct exit_arg *ea = arg;
	struct io_uring r;
	struct gupnw_req req;
	struct io_uring_sqe *sqe;
	int ok = 0;

	if (io_uring_queue_init(8, &r, 0))
		_exit(1);
	gupnw_req_init(&req, ea->p, BIG, 0, NULL);
	sqe = io_uring_get_sqe(&r);
	gupnw_prep_ready_noworker(sqe, gupnw_fd(g), &req);
	if (io_uring_submit(&r) == 1)
		ok = 1;
	gt_sleep_ms(300);
	gt_write_all(out, &ok, sizeof(ok));
	_exit(0);
}

static void test_submitter_exit(void)
{
	struct exit_arg ea = { .p = map_big(48 * MiB) };
	uint64_t t0 = gt_now_ns(), t;
	int ok = 0, ret;

	ret = gt_fork_result(exit_child, &ea, &ok, sizeof(ok), 60000, NULL);
	t = gt_now_ns() - t0;
	gt_ok(!ret && ok, "exit: the child submitted and exited");
	gt_ok(t < 20000000000ULL,
	      "exit: it exited within 20 s (%.1f s; the READY takes ~100 s)",
	      gt_ms(t) / 1000);
	/* what the READY read is still queued: the disk is idle in seconds */
	gt_drain_throttle(gt_env("GT_SLOW_FILE", ""));
	t = gt_now_ns() - t0;
	gt_ok(t < 30000000000ULL,
	      "exit: the exited READY stopped reading (disk idle after %.1f s)",
	      gt_ms(t) / 1000);
	munmap(ea.p, BIG);
}

/* Each case's own ring, in its own process. */
static void setup(void)
{
	int ret = io_uring_queue_init(64, &ring, 0);

	if (ret)
		gt_case_skip("io_uring_queue_init failed (io_uring disabled?): %s",
			     gt_errname(-ret));
}

static void need_slow(void (*test)(void))
{
	if (slow_fd < 0)
		GT_SKIP("no $GUPNW_SLOW/cold-64m");
	test();
}

static void case_cold_pages(void)
{
	need_slow(test_cold_pages);
}

static void case_cancel(void)
{
	need_slow(test_cancel);
}

static void case_ring_close(void)
{
	need_slow(test_ring_close);
}

static void case_submitter_exit(void)
{
	need_slow(test_submitter_exit);
}

static const struct gt_case cases[] = {
	GT_CASE("cold-pages", case_cold_pages),
	GT_CASE("states", test_states),
	GT_CASE("swapped", test_swapped),
	GT_CASE("large-present", test_large_present),
	GT_CASE("block-device", test_block_device),
	GT_CASE("cancel", case_cancel),
	GT_CASE("bad-flags", test_bad_flags),
	GT_CASE("ring-close", case_ring_close),
	GT_CASE("submitter-exit", case_submitter_exit),
};

static int before(void)
{
	static char path[512];
	struct gupnw_info info = { .size = sizeof(info) };

	if (gt_ioctl(gupnw_fd(g), GUPNW_IOC_GET_INFO, &info) ||
	    !(info.features & GUPNW_FEATURE_READY_NOWORKER))
		gt_bail("the module does not say GUPNW_FEATURE_READY_NOWORKER");
	snprintf(path, sizeof(path), "%s/cold-64m",
		 gt_env("GUPNW_SLOW", "/mnt/slow"));
	setenv("GT_SLOW_FILE", path, 1);
	slow_fd = open(path, O_RDONLY);
	if (slow_fd >= 0 && gt_make_cold(slow_fd))
		gt_bail("could not make %s cold", path);
	in_memcg = !gt_memcg_enter("gupnw-t54", memcg, sizeof(memcg));
	return 0;
}

static int after(void)
{
	if (in_memcg)
		gt_memcg_leave(memcg);
	return 0;
}

GT_FILE(cases, .lib = &g, .setup = setup, .before = before, .after = after);
