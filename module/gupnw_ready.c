// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: READY without a worker thread (GUPNW_URING_READY_NOWORKER), and its
 * cancel, GUPNW_URING_CMD_CANCEL.
 *
 * A READY waits in an io_uring worker (gupnw_uring.c), and io-wq is per
 * submitting thread: a runtime whose N threads submit READYs gets N
 * workers or more.  A NOWORKER READY instead waits the way io_uring's own
 * buffered reads do, with no thread at all:
 *
 *  1. The walk decides the range as a NOWAIT probe would, starting the
 *     reads of every page not cached, and stops at the first page whose
 *     read is still under way (gupnw_walk.c gupnw_ready_nowait()).
 *  2. The command reads one byte of that page through the file's own
 *     ->read_iter() with IOCB_WAITQ (IOCB_NOWAIT clear): a folio still
 *     locked for its read gets our wait queue entry (__folio_lock_async(),
 *     6.12 mm/filemap.c:1708 and 2467-2496) and the read returns
 *     -EIOCBQUEUED.  ->read_iter() directly, not vfs_iocb_iter_read(): the
 *     probe raises no fsnotify access events (file_accessed() runs).
 *  3. The folio's unlock calls gupnw_ready_wake(), which queues task work
 *     for the submitting thread; there the walk goes on from that page
 *     (gupnw_ready_tw()), and completes the command at the end.
 *
 * What no folio wait covers - a swapped-out page, tmpfs, FUSE, another
 * process's memory, a file whose buffered reads cannot wait so - goes to
 * io-wq as a READY without the flag when it is the first thing met (the
 * issue returns -EAGAIN and io-wq walks the range again from the start),
 * and is looked at again every GUPNW_READY_LOOK_AGAIN when met later
 * (the delayed work only queues the task work).
 *
 * Cancel: IORING_OP_ASYNC_CANCEL and linked timeouts never reach a command
 * a driver completes by itself (6.12 io_uring/cancel.c io_try_cancel()),
 * so GUPNW_URING_CMD_CANCEL finds the READYs by the file, the process and
 * the argument block (gupnw_ready_list), and sets their cancel flag, which
 * the walk reads between holds (gupnw_walk_stop()).  A READY waiting for a
 * read ends when the read does: a wait queue entry cannot be taken off a
 * folio's queue by a module (folio_waitqueue() is static).  The
 * submitter exiting and the ring closing are seen at the next step, too.
 *
 * Lifetimes: the request holds the /dev/gupnw file, the file the module;
 * the command holds the mm (mmget) and its walk state (gupnw_ready, freed
 * at completion).  The wait queue entry lives in gupnw_ready, which is
 * freed only by the task work the wake queues; the folio needs no
 * reference (the entry is on a hashed queue, matched by pointer).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uio.h>
#include <linux/userfaultfd_k.h>
#include <linux/workqueue.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/* A page no folio wait covers: how soon to look again (10 ms). */
#define GUPNW_READY_LOOK_AGAIN	(HZ / 100 ?: 1)
/* Reads found finished before the wait could be queued, per step. */
#define GUPNW_READY_TRIES	4
/*
 * mmap_lock holds per step (of up to GUPNW_CHUNK_PAGES pages each): the
 * step runs under the ring's uring_lock (the submission, 7.x's task work),
 * so a READY of a large present range goes on in later task work rather
 * than keep the ring's other submitters waiting.
 */
#define GUPNW_READY_STEP_HOLDS	16

struct gupnw_ready {
	struct io_uring_cmd *ioucmd;
	struct wait_page_queue wpq;	/* on the folio being read */
	struct delayed_work again;	/* GUPNW_READY_LOOK_AGAIN */
	struct list_head node;		/* on gupnw_ready_list */
	struct file *dev;		/* cancel's scope: the /dev/gupnw file, */
	u64 args;			/* ... and its key: the argument block */
	bool cancel;			/* set under gupnw_ready_lock */
	bool looking;			/* 'again' queued; under the lock */
	u32 usize;
	struct gupnw_probe_args a;
	struct gupnw_range r;		/* r.mm held (mmget) */
	struct gupnw_walk *w;
};

/* The waiting NOWORKER READYs, for GUPNW_URING_CMD_CANCEL. */
static LIST_HEAD(gupnw_ready_list);
static DEFINE_SPINLOCK(gupnw_ready_lock);

static struct gupnw_uring_pdu *gupnw_ready_pdu(struct io_uring_cmd *ioucmd)
{
	return (struct gupnw_uring_pdu *)ioucmd->pdu;
}

/* The folio was unlocked: walk on in the submitter's task work. */
static int gupnw_ready_wake(struct wait_queue_entry *wait, unsigned int mode,
			    int sync, void *arg)
{
	struct wait_page_queue *wpq =
		container_of(wait, struct wait_page_queue, wait);
	struct gupnw_ready *rd = wait->private;

	if (!wake_page_match(wpq, arg))
		return 0;
	list_del_init(&wait->entry);
	gupnw_uring_cmd_in_task(rd->ioucmd);
	return 1;
}

/*
 * Read one byte of @file at @pos with IOCB_WAITQ: -EIOCBQUEUED when the
 * command now waits for the folio's read, 0 when the page is cached and up
 * to date (walk on), -EAGAIN when no wait was queued (not cached even
 * after the read-ahead it starts, not up to date after a failed read,
 * past the end of the file, an error).
 */
static int gupnw_ready_read_byte(struct gupnw_ready *rd, struct file *file,
				 loff_t pos)
{
	struct kiocb kiocb;
	struct iov_iter iter;
	struct kvec kv;
	ssize_t ret;
	char byte;

	init_sync_kiocb(&kiocb, file);
	kiocb.ki_pos = pos;
	/* the page cache, never O_DIRECT; waited for through rd->wpq */
	kiocb.ki_flags = IOCB_WAITQ;
	kiocb.ki_waitq = &rd->wpq;
	rd->wpq.wait.func = gupnw_ready_wake;
	rd->wpq.wait.private = rd;
	rd->wpq.wait.flags = 0;
	INIT_LIST_HEAD(&rd->wpq.wait.entry);
	kv.iov_base = &byte;
	kv.iov_len = 1;
	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, 1);
	ret = file->f_op->read_iter(&kiocb, &iter);
	if (ret == -EIOCBQUEUED)
		return ret;
	return ret > 0 ? 0 : -EAGAIN;
}

/*
 * Whether the read-fault of @addr reads the page cache of a file whose
 * buffered reads can wait through IOCB_WAITQ: a regular file's or a block
 * device's shared or private mapping, not tmpfs, hugetlbfs, DAX, nor armed
 * by userfaultfd.
 */
static bool gupnw_ready_waitable(struct vm_area_struct *vma)
{
	struct file *file = vma->vm_file;

	return file && !vma_is_anonymous(vma) && !is_vm_hugetlb_page(vma) &&
	       !vma_is_dax(vma) && !userfaultfd_armed(vma) &&
	       (S_ISREG(file_inode(file)->i_mode) ||
		S_ISBLK(file_inode(file)->i_mode)) &&
	       !shmem_mapping(file->f_mapping) &&
	       (file->f_mode & FMODE_READ) && file->f_op->read_iter &&
	       gupnw_file_buf_rasync(file);
}

/*
 * Wait for the page at @addr, where the walk stopped: on its file folio,
 * if the page is not mapped and its fault would read that folio.  Returns
 * -EIOCBQUEUED (waiting), 0 (present or read meanwhile: walk on), -EAGAIN
 * (no folio wait covers it) or -EINTR.
 */
static int gupnw_ready_wait(struct gupnw_ready *rd, unsigned long addr)
{
	struct mm_struct *mm = rd->r.mm;
	struct vm_area_struct *vma;
	struct file *file = NULL;
	u8 s = GUPNW_ASK;
	loff_t pos = 0;
	int ret;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, addr);
	if (vma && gupnw_ready_waitable(vma)) {
		gupnw_pte_scan(mm, addr, 1, rd->r.write, &s);
		/* not mapped: the fault reads the file (a swap entry does not) */
		if (s == GUPNW_ABSENT) {
			file = get_file(vma->vm_file);
			pos = (loff_t)linear_page_index(vma, addr) << PAGE_SHIFT;
		}
	}
	mmap_read_unlock(mm);
	if (s == GUPNW_STATE_RESIDENT)
		return 0;
	if (!file)
		return -EAGAIN;
	ret = gupnw_ready_read_byte(rd, file, pos);
	fput(file);
	return ret;
}

/*
 * Walk on from where the READY stopped, to its end or to a page being
 * read, and wait there.  Returns -EIOCBQUEUED (waiting for a folio, or
 * paused: more in the next task work), -EAGAIN (no folio wait covers the
 * page), or the walk's result.
 */
static int gupnw_ready_step(struct gupnw_ready *rd)
{
	int tries, ret;

	for (tries = 0; tries < GUPNW_READY_TRIES; tries++) {
		ret = gupnw_walk_run(rd->w);
		if (ret == GUPNW_WALK_PAUSED) {
			gupnw_uring_cmd_in_task(rd->ioucmd);
			return -EIOCBQUEUED;
		}
		if (ret != GUPNW_WALK_BLOCKED)
			return ret;
		ret = gupnw_ready_wait(rd, gupnw_walk_blocked(rd->w));
		if (ret)
			return ret;
	}
	return -EAGAIN;
}

/* Off the cancel list and out of the command's pdu; everything freed. */
static void gupnw_ready_free(struct gupnw_ready *rd)
{
	if (!list_empty(&rd->node)) {
		spin_lock(&gupnw_ready_lock);
		list_del(&rd->node);
		spin_unlock(&gupnw_ready_lock);
	}
	if (rd->ioucmd)
		gupnw_ready_pdu(rd->ioucmd)->ready = NULL;
	gupnw_walk_free(rd->w);
	mmput(rd->r.mm);
	kfree(rd);
}

/* Complete the command: its answer written back if @in_mm. */
static void gupnw_ready_end(struct gupnw_ready *rd, int ret, bool in_mm,
			    unsigned int issue_flags)
{
	struct io_uring_cmd *ioucmd = rd->ioucmd;

	if (in_mm)
		ret = gupnw_probe_finish(u64_to_user_ptr(rd->args), &rd->a,
					 rd->usize, &rd->r, ret);
	gupnw_ready_free(rd);
	gupnw_uring_cmd_done(ioucmd, ret, issue_flags);
}

/* GUPNW_READY_LOOK_AGAIN has passed: walk on in the task work. */
static void gupnw_ready_again(struct work_struct *work)
{
	struct gupnw_ready *rd =
		container_of(to_delayed_work(work), struct gupnw_ready, again);

	spin_lock(&gupnw_ready_lock);
	rd->looking = false;
	spin_unlock(&gupnw_ready_lock);
	gupnw_uring_cmd_in_task(rd->ioucmd);
}

/* Look again later, unless cancelled: false if cancelled. */
static bool gupnw_ready_later(struct gupnw_ready *rd)
{
	bool later;

	spin_lock(&gupnw_ready_lock);
	later = !rd->cancel;
	if (later) {
		rd->looking = true;
		gupnw_async_delay(&rd->again, GUPNW_READY_LOOK_AGAIN);
	}
	spin_unlock(&gupnw_ready_lock);
	return later;
}

/**
 * gupnw_ready_tw - a NOWORKER READY's next step, in its submitter's task
 * @ioucmd:	the command
 * @issue_flags: for io_uring_cmd_done()
 *
 * After the folio it waited for was unlocked, or GUPNW_READY_LOOK_AGAIN
 * passed, or a cancel.  The task work of a submitter that is exiting, or
 * that io_uring runs from its fallback worker (PF_KTHREAD), and that of a
 * ring being closed, ends the command: -ECANCELED.
 */
void gupnw_ready_tw(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct gupnw_ready *rd = gupnw_ready_pdu(ioucmd)->ready;
	int ret;

	if ((current->flags & (PF_EXITING | PF_KTHREAD)) ||
	    current->mm != rd->r.mm) {
		gupnw_ready_end(rd, -ECANCELED, false, issue_flags);
		return;
	}
	if (gupnw_uring_ring_dying(ioucmd))
		ret = -ECANCELED;
	else
		ret = gupnw_ready_step(rd);
	if (ret == -EIOCBQUEUED)
		return;
	if (ret == -EAGAIN) {
		if (gupnw_ready_later(rd))
			return;
		ret = -ECANCELED;
	}
	gupnw_ready_end(rd, ret, true, issue_flags);
}

/**
 * gupnw_ready_issue - the first issue of a NOWORKER READY
 * @ioucmd:	the command
 * @args:	its argument block (user pointer)
 * @issue_flags: IO_URING_F_* of this issue, which is non-blocking
 *
 * Return: -EIOCBQUEUED (waiting, or completed here), -EAGAIN to be issued
 * again from io-wq as a READY with a worker, or -errno for the CQE.
 */
int gupnw_ready_issue(struct io_uring_cmd *ioucmd, u64 args,
		      unsigned int issue_flags)
{
	struct gupnw_ready *rd;
	int ret;

	rd = kzalloc(sizeof(*rd), GFP_KERNEL_ACCOUNT);
	if (!rd)
		return -ENOMEM;
	INIT_LIST_HEAD(&rd->node);
	ret = gupnw_ready_prepare(u64_to_user_ptr(args), &rd->a, &rd->usize,
				  &rd->r);
	if (ret) {
		kfree(rd);
		return ret;
	}
	/* another process's memory: its faults wait in a worker */
	if (rd->r.mm != current->mm) {
		gupnw_ready_free(rd);
		return -EAGAIN;
	}
	rd->r.noworker = true;
	rd->r.cancel = &rd->cancel;
	rd->r.max_holds = GUPNW_READY_STEP_HOLDS;
	rd->w = gupnw_walk_new(&rd->r);
	if (!rd->w) {
		gupnw_ready_free(rd);
		return -ENOMEM;
	}
	rd->ioucmd = ioucmd;
	rd->dev = ioucmd->file;
	rd->args = args;
	INIT_DELAYED_WORK(&rd->again, gupnw_ready_again);
	gupnw_ready_pdu(ioucmd)->ready = rd;
	spin_lock(&gupnw_ready_lock);
	list_add_tail(&rd->node, &gupnw_ready_list);
	spin_unlock(&gupnw_ready_lock);

	ret = gupnw_ready_step(rd);
	if (ret == -EIOCBQUEUED)
		return ret;
	if (ret != -EAGAIN) {
		gupnw_ready_end(rd, ret, true, issue_flags);
		return -EIOCBQUEUED;
	}
	/* to io-wq, from the start: nothing waits on rd */
	gupnw_ready_free(rd);
	return ret;
}

/**
 * gupnw_ready_cancel - GUPNW_URING_CMD_CANCEL
 * @ioucmd:	the cancel command: its file is the READYs' scope
 * @args:	the argument block of the READYs to end
 *
 * Sets the cancel flag of every NOWORKER READY of this file and process
 * with that argument block.  One looking again later ends at once (its
 * delayed work is taken back and its task work queued here); one waiting
 * for a folio ends when the folio is unlocked.
 *
 * Return: how many were found, or -ENOENT.
 */
int gupnw_ready_cancel(struct io_uring_cmd *ioucmd, u64 args)
{
	struct gupnw_ready *rd;
	int found = 0;

	spin_lock(&gupnw_ready_lock);
	list_for_each_entry(rd, &gupnw_ready_list, node) {
		if (rd->dev != ioucmd->file || rd->r.mm != current->mm ||
		    rd->args != args)
			continue;
		WRITE_ONCE(rd->cancel, true);
		found++;
		/* not if its work already runs: that queues the task work */
		if (rd->looking && cancel_delayed_work(&rd->again)) {
			rd->looking = false;
			gupnw_uring_cmd_in_task(rd->ioucmd);
		}
	}
	spin_unlock(&gupnw_ready_lock);
	return found ?: -ENOENT;
}
