// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: io_uring commands on /dev/gupnw (IORING_OP_URING_CMD).
 *
 * GUPNW_URING_CMD_PROBE is the ioctl's probe, run when submitted, so that a
 * program can put many probes in one io_uring_enter() next to its other
 * I/O.  A WAIT probe may sleep on I/O: it goes to an io_uring worker.
 *
 * GUPNW_URING_CMD_READY with GUPNW_URING_READY_NOWORKER waits without a
 * worker when it can, and GUPNW_URING_CMD_CANCEL cancels it: gupnw_ready.c.
 * What follows is the READY with a worker.
 *
 * GUPNW_URING_CMD_READY is the second half of an asynchronous page fault,
 * "page ready": it faults the pages of a range in with ordinary blocking
 * GUP, as KVM's async_pf worker does, and completes once they are present.
 * It is the walker's READY mode (gupnw_walk.c: gupnw_fault_ready(),
 * gupnw_walk_stop()); this file is the io_uring glue.  The waiting is done
 * in an io_uring worker (io-wq), never in the submitting thread: the
 * first, non-blocking issue returns -EAGAIN and io_uring hands the command
 * to io-wq (with what it read of the SQE, below).
 *
 * Why io-wq and not a workqueue of our own: io_uring cancels a uring_cmd
 * only while io-wq holds it.  IORING_OP_ASYNC_CANCEL and linked timeouts
 * look in io-wq, poll, timeouts (and, on 6.12, waitid and futex) but never
 * reach a command a driver completes later by itself (6.12
 * io_uring/cancel.c io_try_cancel()); IORING_URING_CMD_CANCELABLE is
 * called only at ring or task exit, and 6.1 does not have it at all.  In
 * io-wq a cancel - from IORING_OP_ASYNC_CANCEL, a linked timeout, the ring
 * being closed or the submitter exiting - drops a queued command at once
 * and sets TIF_NOTIFY_SIGNAL on the worker running one (io-wq.c
 * __io_wq_worker_cancel(), both kernels): READY tests that flag between
 * batches of a few pages and ends with -ECANCELED.  Not signal_pending():
 * a group stop (SIGSTOP, Ctrl-Z) or a freezer sets TIF_SIGPENDING on io
 * workers too, and is no cancel.  A cancel wakes only interruptible
 * sleeps: READY's faults wait killably for I/O (a batch at most), but
 * a userfaultfd range waits for its monitor, perhaps for ever, so READY
 * faults with FOLL_INTERRUPTIBLE (6.2+); on 6.1, where that is absent, it
 * faults no page of a userfaultfd range.
 *
 * The SQE is read once, on the first issue, and its argument pointer kept
 * in ioucmd->pdu: 6.12 (before upstream e663da62ba86, which Debian's
 * 6.12.118 lacks) copies the SQE on -EAGAIN but leaves ioucmd->sqe on the
 * ring slot, which user space reuses while the command waits in io-wq.
 *
 * Lifetimes: every command runs to its end inside ->uring_cmd(); nothing is
 * left behind in the module when it returns.  The request holds the file,
 * the file holds the module (fops.owner), so the module cannot go while a
 * command is pending; the worker is a thread of the submitting process and
 * shares its mm, and READY holds the mm it works on (mmget) as the ioctl
 * does.  Kernel memory per command: a probe's (gupnw_walk_kmem()).
 *
 * io-wq runs uring_cmds on its bounded workers (IORING_OP_URING_CMD has no
 * unbound_nonreg_file): at most min(SQ entries, 4 * CPUs) READYs of a task
 * wait at the same time, the others queue in io-wq (and can be cancelled
 * there); IORING_REGISTER_IOWQ_MAX_WORKERS raises that.
 */
#include <linux/uaccess.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/*
 * READY's result is posted with io_uring_cmd_done(), not returned: 6.1's
 * io_uring_cmd() passes a positive return value up as if it were an error
 * (6.1 io_uring/uring_cmd.c:144-149, io_uring.c:1766), and io-wq completes
 * only negative ones (io_uring.c:1884) - the CQE would never come and the
 * request would pin the file for good.  Completing it ourselves is what
 * io_issue_sqe() does for a result from io-wq on both kernels.
 */
static int gupnw_uring_ready_done(struct io_uring_cmd *ioucmd,
				  struct gupnw_probe_args __user *uargs,
				  unsigned int issue_flags)
{
	int ret = gupnw_probe_cmd(uargs, true,
				  issue_flags & IO_URING_F_NONBLOCK);

	if (ret == -EAGAIN)
		return ret;
	gupnw_uring_cmd_done(ioucmd, ret, issue_flags);
	return -EIOCBQUEUED;
}

/**
 * gupnw_uring_cmd - the ->uring_cmd() of /dev/gupnw
 * @ioucmd: the command
 * @issue_flags: IO_URING_F_* of this issue
 *
 * Return: the result for cqe->res (0 or -errno), -EAGAIN to be issued
 * again, blocking, from io-wq, or -EIOCBQUEUED when the result was posted.
 */
int gupnw_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct gupnw_uring_pdu *pdu = (struct gupnw_uring_pdu *)ioucmd->pdu;
	const void *sqe = gupnw_uring_cmd_sqe_ptr(ioucmd);
	const struct gupnw_uring_cmd *payload;
	struct gupnw_probe_args __user *uargs;
	u32 flags = 0;
	u64 args;
	int ret;

	BUILD_BUG_ON(sizeof(*pdu) > sizeof(ioucmd->pdu));
	/*
	 * Issued again from io-wq on the SQE pointer of the first issue: on
	 * 6.12 that is still the ring slot, which user space may have
	 * reused meanwhile: take what the first issue read.  A kernel that
	 * gave us a stable copy has a new pointer; reading it is right too.
	 */
	if (!(issue_flags & IO_URING_F_NONBLOCK) && pdu->sqe == sqe) {
		args = pdu->args;
	} else {
		payload = gupnw_uring_cmd_payload(ioucmd,
						  struct gupnw_uring_cmd);
		args = READ_ONCE(payload->args);
		flags = READ_ONCE(payload->flags);
		if (READ_ONCE(payload->reserved))
			return -EINVAL;
		if (flags & ~(ioucmd->cmd_op == GUPNW_URING_CMD_READY ?
			      GUPNW_URING_READY_NOWORKER : 0))
			return -EINVAL;
	}
	uargs = u64_to_user_ptr(args);
	/*
	 * Gone with this issue, so that a recycled request never finds it;
	 * cleared now because READY's completion may free the request.
	 */
	pdu->sqe = NULL;

	switch (ioucmd->cmd_op) {
	case GUPNW_URING_CMD_PROBE:
		/* a WAIT probe sleeps on I/O: -EAGAIN, for io-wq */
		ret = gupnw_probe_cmd(uargs, false,
				      issue_flags & IO_URING_F_NONBLOCK);
		break;
	case GUPNW_URING_CMD_READY:
		/* without a worker, unless it needs one: gupnw_ready.c */
		if ((flags & GUPNW_URING_READY_NOWORKER) &&
		    (issue_flags & IO_URING_F_NONBLOCK))
			ret = gupnw_ready_issue(ioucmd, args, issue_flags);
		else
			ret = gupnw_uring_ready_done(ioucmd, uargs,
						     issue_flags);
		break;
	case GUPNW_URING_CMD_CANCEL:
		ret = gupnw_ready_cancel(ioucmd, args);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	/* to be issued again, from io-wq: nothing completed it */
	if (ret == -EAGAIN && (issue_flags & IO_URING_F_NONBLOCK)) {
		pdu->sqe = sqe;
		pdu->args = args;
	}
	return ret;
}
