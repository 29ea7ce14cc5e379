// SPDX-License-Identifier: GPL-2.0
/*
 * t50_uring_probe: GUPNW_URING_CMD_PROBE.  256 probes go in one
 * io_uring_submit() and give, state for state and count for count, what the
 * ioctl gives for the same ranges (report-only on one region; faulting, and
 * WAIT through io-wq, on twin regions built alike).  Bad commands are refused
 * with the ioctl's errors.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NPROBE	256
#define CHUNK	4			/* pages per probe */
#define NPAGES	(NPROBE * CHUNK)
#define P(n)	((size_t)(n) * gt_page)

static struct gupnw *g;
static struct io_uring ring;

/*
 * A region whose pages are, by index: written (R), unmapped ('.'),
 * PROT_NONE (E), or untouched private anon (F, or N when report-only).
 */
static char *build_region(void)
{
	char *p = mmap(NULL, P(NPAGES), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t k;

	if (p == MAP_FAILED)
		gt_bail("uring probe: mmap: %s", gt_errname(errno));
	madvise(p, P(NPAGES), MADV_NOHUGEPAGE);
	for (k = 0; k < NPAGES; k++) {
		if (k % 11 == 5)
			munmap(p + P(k), P(1));
		else if (k % 13 == 6)
			mprotect(p + P(k), P(1), PROT_NONE);
		else if (k % 7 == 0)
			p[P(k)] = 1;
	}
	return p;
}

/* Counts of the ioctl probes, summed, to compare with the uring ones. */
static void ioctl_probe_all(char *p, unsigned int flags, unsigned char *st,
			    struct gupnw_counts *sum)
{
	struct gupnw_counts c;
	int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < NPROBE; i++) {
		if (gupnw_probe(g, p + P(i * CHUNK), P(CHUNK), flags,
				st + i * CHUNK, &c))
			gt_bail("uring probe: ioctl probe %d: %s", i,
				gt_errname(errno));
		sum->resident += c.resident;
		sum->faulted += c.faulted;
		sum->retry += c.retry;
		sum->unmapped += c.unmapped;
		sum->error += c.error;
		sum->notpresent += c.notpresent;
	}
}

/*
 * All NPROBE probes in one submit; checks every CQE and sums the counts.
 * Returns the number of probes that completed with res 0.
 */
static int uring_probe_all(const char *what, char *p, unsigned int flags,
			   unsigned char *st, struct gupnw_counts *sum)
{
	static struct gupnw_req req[NPROBE];
	unsigned char seen[NPROBE] = { 0 };
	struct io_uring_cqe *cqe;
	struct gupnw_counts c;
	int i, n, good = 0, dup = 0;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < NPROBE; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		if (!sqe)
			gt_bail("uring probe: no SQE for probe %d", i);
		if (gupnw_req_init(&req[i], p + P(i * CHUNK), P(CHUNK), flags,
				   st + i * CHUNK))
			gt_bail("uring probe: gupnw_req_init: %s",
				gt_errname(errno));
		gupnw_prep_probe(sqe, gupnw_fd(g), &req[i]);
		io_uring_sqe_set_data64(sqe, i);
	}
	n = io_uring_submit(&ring);
	gt_eq(NPROBE, n, "uring probe: %s: %d probes in one submit", what,
	      NPROBE);
	for (i = 0; i < n; i++) {
		unsigned long long k;

		if (io_uring_wait_cqe(&ring, &cqe))
			gt_bail("uring probe: wait_cqe");
		k = cqe->user_data;
		if (k < NPROBE && !seen[k]++ && cqe->res == 0)
			good++;
		else if (k < NPROBE && seen[k] > 1)
			dup++;
		else
			gt_diag("probe %llu: res %d", k, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
	}
	gt_eq(NPROBE, good, "uring probe: %s: every probe completed with 0",
	      what);
	gt_eq(0, dup, "uring probe: %s: one CQE per probe", what);
	n = 0;
	for (i = 0; i < NPROBE; i++) {
		if (gupnw_req_result(&req[i], &c) != CHUNK)
			n++;
		sum->resident += c.resident;
		sum->faulted += c.faulted;
		sum->retry += c.retry;
		sum->unmapped += c.unmapped;
		sum->error += c.error;
		sum->notpresent += c.notpresent;
	}
	gt_eq(0, n, "uring probe: %s: every probe decided its %d pages",
	      what, CHUNK);
	return good;
}

static void compare(const char *what, const unsigned char *a,
		    const unsigned char *b, const struct gupnw_counts *ca,
		    const struct gupnw_counts *cb, const char *must_have)
{
	const char *m;

	if (!gt_ok(!memcmp(a, b, NPAGES),
		   "uring probe: %s: states equal the ioctl's", what)) {
		gt_diag("uring: %s", gt_states_str(a, NPAGES));
		gt_diag("ioctl: %s", gt_states_str(b, NPAGES));
	}
	if (!gt_ok(!memcmp(ca, cb, sizeof(*ca)),
		   "uring probe: %s: counts equal the ioctl's", what))
		gt_diag("uring %s vs ioctl %s", gt_counts_str(ca),
			gt_counts_str(cb));
	gt_ok(gt_counts_tally_ok(ca, a, NPAGES),
	      "uring probe: %s: counts agree with the states", what);
	for (m = must_have; *m; m++)
		if (!memchr(a, *m, NPAGES))
			break;
	gt_ok(!*m, "uring probe: %s: the region holds all of %s", what,
	      must_have);
}

/* One raw command; its cqe->res. */
static int raw_cmd(uint32_t op, uint64_t args, uint64_t reserved)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	struct gupnw_uring_cmd cmd = { .args = args, .reserved = reserved };
	struct io_uring_cqe *cqe;
	int res;

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, gupnw_fd(g), NULL, 0, 0);
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
	if (io_uring_submit(&ring) != 1 || io_uring_wait_cqe(&ring, &cqe))
		gt_bail("uring probe: raw submit");
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	return res;
}

static void test_errors(void)
{
	struct gupnw_probe_args a;
	char *p = mmap(NULL, P(2), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	uint64_t ua = (uintptr_t)&a;

	gt_args_init(&a, p, P(2), 0, NULL);
	gt_err(raw_cmd(GUPNW_URING_CMD_PROBE, ua, 0), 0,
	       "uring probe: a raw command succeeds");
	gt_eq(2, a.done, "uring probe: ... and writes back done");
	gt_err(raw_cmd(GUPNW_URING_CMD_PROBE, ua, 1), EINVAL,
	       "uring probe: non-zero payload reserved is EINVAL");
	gt_err(raw_cmd(GUPNW_URING_CMD_PROBE + 0x10, ua, 0), ENOTTY,
	       "uring probe: unknown cmd_op is ENOTTY");
	gt_err(raw_cmd(GUPNW_IOC_PROBE, ua, 0), ENOTTY,
	       "uring probe: the ioctl number is no uring command (ENOTTY)");
	gt_err(raw_cmd(GUPNW_URING_CMD_PROBE, 0, 0), EFAULT,
	       "uring probe: NULL argument block is EFAULT");
	gt_args_init(&a, p, P(2), 1u << 31, NULL);
	gt_err(raw_cmd(GUPNW_URING_CMD_PROBE, ua, 0), EINVAL,
	       "uring probe: unknown flag is EINVAL");
	gt_args_init(&a, p + 1, P(2), 0, NULL);
	gt_err(raw_cmd(GUPNW_URING_CMD_PROBE, ua, 0), EINVAL,
	       "uring probe: unaligned address is EINVAL");
	gt_args_init(&a, p, P(2), 0, NULL);
	a.size = 8;
	gt_err(raw_cmd(GUPNW_URING_CMD_PROBE, ua, 0), EINVAL,
	       "uring probe: size below VER0 is EINVAL");
	gt_args_init(&a, p, P(2), 0, NULL);
	a.reserved[0] = 1;
	gt_err(raw_cmd(GUPNW_URING_CMD_PROBE, ua, 0), EINVAL,
	       "uring probe: non-zero args reserved is EINVAL");
	gt_args_init(&a, p, P(2), GUPNW_PROBE_NOFAULT, NULL);
	gt_err(raw_cmd(GUPNW_URING_CMD_READY, ua, 0), EINVAL,
	       "uring ready: NOFAULT is EINVAL");
	gt_args_init(&a, p, P(2), GUPNW_PROBE_WAIT, NULL);
	gt_err(raw_cmd(GUPNW_URING_CMD_READY, ua, 0), EINVAL,
	       "uring ready: WAIT is EINVAL");
	gt_args_init(&a, p, P(2), GUPNW_PROBE_EXTENTS, NULL);
	a.nr_extents = 1;
	gt_err(raw_cmd(GUPNW_URING_CMD_READY, ua, 0), EINVAL,
	       "uring ready: EXTENTS is EINVAL");
	munmap(p, P(2));
}

static void case_feature(void)
{
	struct gupnw_module_info info;

	if (gupnw_module_info(g, &info))
		gt_bail("uring probe: module info: %s", gt_errname(errno));
	gt_ok(info.features & GUPNW_FEATURE_URING_CMD,
	      "uring probe: GET_INFO reports GUPNW_FEATURE_URING_CMD");
}

/* Each case's own ring, in its own process. */
static void setup(void)
{
	int ret = io_uring_queue_init(NPROBE, &ring, 0);

	if (ret)
		gt_case_skip("io_uring_queue_init failed (io_uring disabled?): %s",
			     gt_errname(-ret));
}

/* report-only: the same region, twice */
static void case_nofault(void)
{
	static unsigned char su[NPAGES], si[NPAGES];
	struct gupnw_counts cu, ci;
	char *a;

	a = build_region();
	ioctl_probe_all(a, GUPNW_NOFAULT, si, &ci);
	uring_probe_all("NOFAULT", a, GUPNW_NOFAULT, su, &cu);
	compare("NOFAULT", su, si, &cu, &ci, "RN.E");
	munmap(a, P(NPAGES));
}

/* Faulting changes the region: the ring and the ioctl probe twins built alike. */
static void twins(const char *name, unsigned int flags)
{
	static unsigned char su[NPAGES], si[NPAGES];
	struct gupnw_counts cu, ci;
	char *a, *b;

	a = build_region();
	b = build_region();
	uring_probe_all(name, a, flags, su, &cu);
	ioctl_probe_all(b, flags, si, &ci);
	compare(name, su, si, &cu, &ci, "RF.E");
	munmap(a, P(NPAGES));
	munmap(b, P(NPAGES));
}

static void case_nowait(void)
{
	twins("NOWAIT", 0);
}

/* WAIT probes are handed to io-wq; same answers */
static void case_wait(void)
{
	twins("WAIT", GUPNW_WAIT);
}

static const struct gt_case cases[] = {
	GT_CASE("feature", case_feature),
	GT_CASE("nofault", case_nofault),
	GT_CASE("nowait", case_nowait),
	GT_CASE("wait", case_wait),
	GT_CASE("errors", test_errors),
};

GT_FILE(cases, .lib = &g, .setup = setup);
