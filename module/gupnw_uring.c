// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: io_uring commands on /dev/gupnw (IORING_OP_URING_CMD).
 *
 * GUPNW_URING_CMD_PROBE is the ioctl's probe, run when submitted, so that a
 * program can put many probes in one io_uring_enter() next to its other
 * I/O.  A WAIT probe may sleep on I/O: it goes to an io_uring worker.
 *
 * GUPNW_URING_CMD_READY is the second half of an asynchronous page fault,
 * "page ready": it faults the pages of a range in with ordinary blocking
 * GUP, as KVM's async_pf worker does, and completes once they are present.
 * The waiting is done in an io_uring worker (io-wq), never in the
 * submitting thread: the first, non-blocking issue returns -EAGAIN and
 * io_uring hands the command to io-wq (with what it read of the SQE,
 * below).
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
 * faults no page of a userfaultfd range (gupnw_ready_step()).
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
 * does.  Kernel memory per command: the stack frame below.
 *
 * io-wq runs uring_cmds on its bounded workers (IORING_OP_URING_CMD has no
 * unbound_nonreg_file): at most min(SQ entries, 4 * CPUs) READYs of a task
 * wait at the same time, the others queue in io-wq (and can be cancelled
 * there); IORING_REGISTER_IOWQ_MAX_WORKERS raises that.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/* Pages faulted per GUP call: what a cancel may have to wait for. */
#define GUPNW_READY_BATCH	8
/* States staged on the stack between copies to the caller. */
#define GUPNW_READY_STAGE	64
/* cqe->res is an int: a READY reports at most this many pages. */
#define GUPNW_READY_MAX_PAGES	((unsigned long)INT_MAX)
/* Staged runs between reschedules and signal checks over a long hole. */
#define GUPNW_READY_RESCHED	1024
/* A group stop the worker cannot take mid-command: how often to look. */
#define GUPNW_READY_STOP_POLL	(HZ / 20)

/*
 * What the first issue read from the SQE, kept in ioucmd->pdu for the
 * issue from io-wq: valid when @sqe is the SQE pointer of this issue.
 */
struct gupnw_uring_pdu {
	const void *sqe;
	u64 args;
};

static int gupnw_uring_probe(struct gupnw_probe_args __user *uargs,
			     unsigned int issue_flags)
{
	u32 flags;

	/* A WAIT probe sleeps on I/O: only in io-wq, never in the submitter. */
	if (issue_flags & IO_URING_F_NONBLOCK) {
		if (get_user(flags, &uargs->flags))
			return -EFAULT;
		if (flags & GUPNW_PROBE_WAIT)
			return -EAGAIN;
	}
	return gupnw_ioctl_probe(uargs);
}

struct gupnw_ready {
	struct mm_struct *mm;
	unsigned long pos, end;
	unsigned int gup_flags;
	bool write;
	u8 __user *states;		/* NULL: counts only */
	u64 done;			/* pages decided and copied out */
	u64 nr_present, nr_error, nr_unmapped;
	unsigned int nr_staged;
	u8 st[GUPNW_READY_STAGE];
};

static int gupnw_ready_flush(struct gupnw_ready *rd)
{
	if (rd->states && rd->nr_staged &&
	    copy_to_user(rd->states + rd->done, rd->st, rd->nr_staged))
		return -EFAULT;
	rd->done += rd->nr_staged;
	rd->nr_staged = 0;
	return 0;
}

/* io-wq's cancel: TIF_NOTIFY_SIGNAL on this worker, nothing else. */
static bool gupnw_ready_cancelled(void)
{
	return test_thread_flag(TIF_NOTIFY_SIGNAL);
}

/* Record @n pages of @state at rd->pos; mmap_lock not held. */
static int gupnw_ready_record(struct gupnw_ready *rd, u8 state,
			      unsigned long n)
{
	int ret;

	if (state == GUPNW_STATE_RESIDENT)
		rd->nr_present += n;
	else if (state == GUPNW_STATE_ERROR)
		rd->nr_error += n;
	else
		rd->nr_unmapped += n;
	rd->pos += n << PAGE_SHIFT;

	if (!rd->states) {		/* counts only: nothing to stage */
		rd->done += n;
		return 0;
	}
	while (n) {
		unsigned int take = min_t(unsigned long, n,
					  GUPNW_READY_STAGE - rd->nr_staged);

		memset(rd->st + rd->nr_staged, state, take);
		rd->nr_staged += take;
		n -= take;
		if (rd->nr_staged == GUPNW_READY_STAGE) {
			ret = gupnw_ready_flush(rd);
			if (ret)
				return ret;
			/* a hole of 2^31 pages is 2^25 copies */
			if (!(rd->done % (GUPNW_READY_STAGE *
					  GUPNW_READY_RESCHED))) {
				if (fatal_signal_pending(current) ||
				    gupnw_ready_cancelled())
					return -EINTR;
				cond_resched();
			}
		}
	}
	return 0;
}

/*
 * Decide the pages from rd->pos on: a hole or a refused VMA as one run, or
 * up to GUPNW_READY_BATCH pages faulted in, waiting for their I/O with
 * mmap_lock dropped (GUP's @locked protocol, as KVM's async_pf_execute()).
 */
static int gupnw_ready_step(struct gupnw_ready *rd)
{
	unsigned int flags = rd->gup_flags | GUPNW_FOLL_INTERRUPTIBLE;
	struct vm_area_struct *vma;
	unsigned long stop, n;
	bool refused = false;
	int locked = 1;
	long got;

	if (mmap_read_lock_killable(rd->mm))
		return -EINTR;
	vma = find_vma(rd->mm, rd->pos);
	if (!vma || vma->vm_start > rd->pos) {
		stop = vma ? min(vma->vm_start, rd->end) : rd->end;
		mmap_read_unlock(rd->mm);
		return gupnw_ready_record(rd, GUPNW_STATE_UNMAPPED,
					  (stop - rd->pos) >> PAGE_SHIFT);
	}
	stop = min(vma->vm_end, rd->end);
	/*
	 * Without FOLL_INTERRUPTIBLE (6.1) a userfaultfd fault cannot be
	 * cancelled: only what is present is taken there, the rest is 'E'
	 * (and a 6.1 hugetlb VMA, which faults whatever FOLL_NOFAULT says,
	 * is 'E' whole).
	 */
	if (!GUPNW_FOLL_INTERRUPTIBLE && userfaultfd_armed(vma)) {
		if (!gupnw_nofault_honoured(vma))
			refused = true;
		flags |= FOLL_NOFAULT;
	}
	if (refused || gupnw_vma_refused(vma, rd->write)) {
		mmap_read_unlock(rd->mm);
		return gupnw_ready_record(rd, GUPNW_STATE_ERROR,
					  (stop - rd->pos) >> PAGE_SHIFT);
	}
	n = min_t(unsigned long, (stop - rd->pos) >> PAGE_SHIFT,
		  GUPNW_READY_BATCH);
	/* no read-around of megabytes behind a miss: gupnw_ready_read() */
	n = min(n, gupnw_ready_read(vma, rd->pos, (stop - rd->pos) >> PAGE_SHIFT));
	got = gupnw_gup_remote_locked(rd->mm, rd->pos, n, flags, &locked);
	if (locked)
		mmap_read_unlock(rd->mm);

	if (got > 0)
		return gupnw_ready_record(rd, GUPNW_STATE_RESIDENT, got);
	/* a signal (FOLL_INTERRUPTIBLE): gupnw_ready_run() says which */
	if (got == -EINTR || fatal_signal_pending(current))
		return -EINTR;
	/* -EFAULT (SIGBUS: I/O error, past EOF), -ENOMEM, -EHWPOISON, ... */
	return gupnw_ready_record(rd, GUPNW_STATE_ERROR, 1);
}

static int gupnw_ready_run(struct gupnw_ready *rd)
{
	int ret;

	while (rd->pos < rd->end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (gupnw_ready_cancelled())
			return -ECANCELED;
		/* Only our mmget() left: the target process has gone. */
		if (atomic_read(&rd->mm->mm_users) <= 1)
			return -ESRCH;
		ret = gupnw_ready_step(rd);
		if (ret == -EINTR && !fatal_signal_pending(current)) {
			if (gupnw_ready_cancelled())
				return -ECANCELED;
			/*
			 * A group stop or a freeze interrupted a fault; this
			 * worker takes it only once the command ends, and an
			 * interruptible fault returns at once until then:
			 * look again a little later.
			 */
			schedule_timeout_killable(GUPNW_READY_STOP_POLL);
			continue;
		}
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

static int gupnw_uring_ready(struct gupnw_probe_args __user *uargs,
			     unsigned int issue_flags)
{
	struct gupnw_probe_args a;
	struct gupnw_ready rd;
	unsigned long nr_pages;
	u32 usize;
	int ret;

	/* Waiting is io-wq's job: return -EAGAIN and io_uring queues us. */
	if (issue_flags & IO_URING_F_NONBLOCK)
		return -EAGAIN;

	memset(&rd, 0, sizeof(rd));
	rd.mm = gupnw_probe_args_get(uargs,
				     GUPNW_PROBE_WRITE | GUPNW_PROBE_TARGET_FD,
				     GUPNW_READY_MAX_PAGES, &a, &usize);
	if (IS_ERR(rd.mm))
		return PTR_ERR(rd.mm);
	nr_pages = PAGE_ALIGN(a.len) >> PAGE_SHIFT;
	rd.pos = a.addr;
	rd.end = a.addr + (nr_pages << PAGE_SHIFT);
	rd.write = a.flags & GUPNW_PROBE_WRITE;
	rd.gup_flags = rd.write ? FOLL_WRITE : 0;
	rd.states = u64_to_user_ptr(a.states);

	ret = gupnw_ready_run(&rd);
	mmput(rd.mm);
	if (gupnw_ready_flush(&rd))
		ret = ret ?: -EFAULT;

	/* As the ioctl: what was decided before a failure is reported. */
	a.done = rd.done;
	a.nr_resident = rd.nr_present;
	a.nr_faulted = 0;
	a.nr_retry = 0;
	a.nr_unmapped = rd.nr_unmapped;
	a.nr_error = rd.nr_error;
	a.nr_notpresent = 0;
	a.nr_cold = 0;
	/* READY counts no I/O: 0, never what the caller left there */
	a.io_started = 0;
	a.async_faults = 0;
	if (gupnw_put_sized(uargs, usize, &a, sizeof(a)))
		return -EFAULT;
	return ret ?: (int)rd.nr_present;
}

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
	int ret = gupnw_uring_ready(uargs, issue_flags);

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
		if (READ_ONCE(payload->reserved))
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
		ret = gupnw_uring_probe(uargs, issue_flags);
		break;
	case GUPNW_URING_CMD_READY:
		ret = gupnw_uring_ready_done(ioucmd, uargs, issue_flags);
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
