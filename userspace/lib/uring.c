// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libgupnw: io_uring helpers - fill an SQE with a gupnw command.
 *
 * They only write SQE fields, so the library itself needs neither liburing
 * nor any io_uring system call: a program that uses them brings its own
 * ring (liburing or raw).  The layout is the kernel's <linux/io_uring.h>,
 * which liburing's struct io_uring_sqe mirrors.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/gupnw.h>
#include <linux/io_uring.h>

#include "gupnw.h"
#include "internal.h"

_Static_assert(sizeof(struct gupnw_req) >= sizeof(struct gupnw_probe_args),
	       "struct gupnw_req cannot hold the argument block");
_Static_assert(_Alignof(struct gupnw_req) >= _Alignof(struct gupnw_probe_args),
	       "struct gupnw_req is not aligned for the argument block");
_Static_assert(sizeof(struct gupnw_uring_cmd) == 16,
	       "the payload must fit a 64-byte SQE");

int gupnw_fd(const struct gupnw *g)
{
	return g->fd;
}

static struct gupnw_probe_args *gupnw_req_args(struct gupnw_req *req)
{
	return (struct gupnw_probe_args *)req->opaque;
}

int gupnw_req_init(struct gupnw_req *req, const void *addr, size_t len,
		   unsigned int flags, unsigned char *states)
{
	struct gupnw_probe_args *a = gupnw_req_args(req);
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	if (((uintptr_t)addr & (page - 1)) ||
	    (flags & ~(GUPNW_WRITE | GUPNW_NOFAULT | GUPNW_WAIT))) {
		errno = EINVAL;
		return -1;
	}
	memset(req, 0, sizeof(*req));
	a->size = sizeof(*a);
	a->flags = flags;
	a->addr = (uintptr_t)addr;
	a->len = len;
	a->states = (uintptr_t)states;
	return 0;
}

static void gupnw_prep_cmd(struct io_uring_sqe *sqe, int fd, uint32_t op,
			   struct gupnw_req *req, uint32_t flags)
{
	struct gupnw_uring_cmd cmd = {
		.args = (uintptr_t)gupnw_req_args(req),
		.flags = flags,
	};

	/* the first 64 bytes; a 128-byte SQE's tail is ours too, and unused */
	memset(sqe, 0, 64);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
}

void gupnw_prep_probe(struct io_uring_sqe *sqe, int fd, struct gupnw_req *req)
{
	gupnw_prep_cmd(sqe, fd, GUPNW_URING_CMD_PROBE, req, 0);
}

void gupnw_prep_ready(struct io_uring_sqe *sqe, int fd, struct gupnw_req *req)
{
	gupnw_prep_cmd(sqe, fd, GUPNW_URING_CMD_READY, req, 0);
}

void gupnw_prep_ready_noworker(struct io_uring_sqe *sqe, int fd,
			       struct gupnw_req *req)
{
	gupnw_prep_cmd(sqe, fd, GUPNW_URING_CMD_READY, req,
		       GUPNW_URING_READY_NOWORKER);
}

/* The READYs to end are named by their argument block, req's. */
void gupnw_prep_cancel(struct io_uring_sqe *sqe, int fd, struct gupnw_req *req)
{
	gupnw_prep_cmd(sqe, fd, GUPNW_URING_CMD_CANCEL, req, 0);
}

static uint64_t gupnw_req_result_sized(const struct gupnw_req *req,
				       struct gupnw_counts *counts,
				       size_t csize)
{
	const struct gupnw_probe_args *a =
		(const struct gupnw_probe_args *)req->opaque;

	gupnw_counts_from(counts, csize, a);
	return a->done;
}

GUPNW_SYMVER_0_2(gupnw_req_result);

uint64_t gupnw_req_result_0_2(const struct gupnw_req *req,
			      struct gupnw_counts *counts)
{
	return gupnw_req_result_sized(req, counts, sizeof(*counts));
}

uint64_t gupnw_req_result_0_1(const struct gupnw_req *req,
			      struct gupnw_counts *counts)
{
	return gupnw_req_result_sized(req, counts, GUPNW_COUNTS_SIZE_0_1);
}
