// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: the fault-in worker, for the pages a probe cannot start the I/O of
 * without waiting for it (gupnw_nowait.c decides which).
 *
 * As KVM's asynchronous page fault does (6.12 virt/kvm/async_pf.c), a probe
 * queues a work item and reports the pages 'W'; the worker faults them in
 * with ordinary, blocking GUP on the target mm, mapping them there, so a
 * page reported 'W' arrives without anything else touching it.
 *
 * Bounded: a work item covers at most GUPNW_ASYNC_RUN pages of one VMA; one
 * probe call hands over at most what is left of its one I/O budget
 * (max_io_pages, shared with its read-ahead: gupnw_io_budget()), and all
 * probes together at most max_async_faults pages
 * queued or in progress.  A page refused by either cap is 'C' (cold,
 * nothing started), never 'W'.
 *
 * Lifetimes: a queued item holds the mm_struct (mmgrab), not the address
 * space; the worker takes the address space with mmget_not_zero() only for
 * the duration of its GUP calls, so a target that exits (or is killed)
 * tears down its memory at once and never waits for the worker, and an item
 * of an exited mm does nothing.  Module unload stops the worker: items not
 * started do nothing, an item under way stops after its current page, and
 * destroy_workqueue() waits for them.
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>
#include <linux/workqueue.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/* 4 MiB of 4 KiB pages: a few seconds of a slow disk, little memory. */
static unsigned int max_async_faults = 1024;
module_param(max_async_faults, uint, 0644);
MODULE_PARM_DESC(max_async_faults,
		 "Pages the fault-in worker may hold queued or in progress, all probes together (default 1024)");

static struct workqueue_struct *gupnw_async_wq;
static atomic_long_t gupnw_async_pages;	/* queued or in progress */
static bool gupnw_async_stopping;

struct gupnw_async_work {
	struct work_struct work;
	struct mm_struct *mm;		/* mmgrab()ed */
	unsigned long addr;
	unsigned int nr_pages;
	unsigned int gup_flags;		/* FOLL_WRITE or 0 */
};

u64 gupnw_async_max(void)
{
	return READ_ONCE(max_async_faults);
}

u64 gupnw_async_queued(void)
{
	return atomic_long_read(&gupnw_async_pages);
}

static void gupnw_async_fn(struct work_struct *work)
{
	struct gupnw_async_work *aw =
		container_of(work, struct gupnw_async_work, work);
	struct mm_struct *mm = aw->mm;
	struct vm_area_struct *vma;
	unsigned int i;

	/* an exiting target: nothing to bring in, nothing to wait for */
	if (!READ_ONCE(gupnw_async_stopping) && mmget_not_zero(mm)) {
		for (i = 0; i < aw->nr_pages; i++) {
			int locked = 1;

			/* ours the only user left: the target exited */
			if (READ_ONCE(gupnw_async_stopping) ||
			    atomic_read(&mm->mm_users) <= 1)
				break;
			mmap_read_lock(mm);
			/*
			 * A userfaultfd range is its handler's to fill: a
			 * fault there would wait for the handler, perhaps
			 * for ever (the range may have been remapped and
			 * registered since the probe).
			 */
			vma = vma_lookup(mm, aw->addr + i * PAGE_SIZE);
			if (!vma || userfaultfd_armed(vma)) {
				mmap_read_unlock(mm);
				continue;
			}
			/*
			 * Blocking GUP without a page array: the fault reads
			 * the page and maps it; with @locked it may drop
			 * mmap_lock while it waits for I/O, as KVM's does.
			 * Errors (the range unmapped meanwhile, SIGBUS, no
			 * memory) leave the page as it is.
			 */
			gupnw_gup_remote_locked(mm, aw->addr + i * PAGE_SIZE,
						1, aw->gup_flags, &locked);
			if (locked)
				mmap_read_unlock(mm);
			cond_resched();
		}
		mmput(mm);
	}
	mmdrop(mm);
	atomic_long_sub(aw->nr_pages, &gupnw_async_pages);
	kfree(aw);
}

/**
 * gupnw_async_fault - hand pages to the fault-in worker
 * @r:		the probe: its mm (held by the caller) and I/O budget
 * @addr:	the first page; its VMA covers all @n pages, mmap_lock held
 * @n:		pages wanted
 * @write:	fault them for write
 *
 * Return: the pages from @addr on that were queued (0 to @n, at most
 * GUPNW_ASYNC_RUN); the caller reports them 'W' and the ones refused 'C'.
 */
unsigned long gupnw_async_fault(struct gupnw_range *r, unsigned long addr,
				unsigned long n, bool write)
{
	unsigned long budget = gupnw_io_budget(r);
	long cap = READ_ONCE(max_async_faults), cur;
	struct gupnw_async_work *aw;

	n = min3(n, budget, (unsigned long)GUPNW_ASYNC_RUN);
	if (!n || !gupnw_async_wq || READ_ONCE(gupnw_async_stopping))
		return 0;
	/* take what fits under the global cap */
	cur = atomic_long_read(&gupnw_async_pages);
	do {
		if (cur >= cap)
			return 0;
		n = min(n, (unsigned long)(cap - cur));
	} while (!atomic_long_try_cmpxchg(&gupnw_async_pages, &cur, cur + n));
	aw = kmalloc(sizeof(*aw), GFP_KERNEL | __GFP_NOWARN);
	if (!aw) {
		atomic_long_sub(n, &gupnw_async_pages);
		return 0;
	}
	INIT_WORK(&aw->work, gupnw_async_fn);
	mmgrab(r->mm);
	aw->mm = r->mm;
	aw->addr = addr;
	aw->nr_pages = n;
	aw->gup_flags = write ? FOLL_WRITE : 0;
	queue_work(gupnw_async_wq, &aw->work);
	r->async_faults += n;
	return n;
}

/*
 * Run @dw in @delay jiffies on the worker's workqueue (gupnw_ready.c's
 * looks again): sooner if it is queued already.  Module unload waits for
 * it as for the fault-in items.
 */
void gupnw_async_delay(struct delayed_work *dw, unsigned long delay)
{
	mod_delayed_work(gupnw_async_wq, dw, delay);
}

int gupnw_async_init(void)
{
	/*
	 * Unbound: a worker blocked on a slow disk must not hold up other
	 * items, nor run on the prober's CPU; WQ_MEM_RECLAIM is not needed,
	 * nothing in reclaim waits for us.
	 */
	gupnw_async_wq = alloc_workqueue("gupnw_async", WQ_UNBOUND, 0);
	return gupnw_async_wq ? 0 : -ENOMEM;
}

/* Stop the worker: what is queued does nothing, what runs stops soon. */
void gupnw_async_exit(void)
{
	WRITE_ONCE(gupnw_async_stopping, true);
	destroy_workqueue(gupnw_async_wq);
	gupnw_async_wq = NULL;
}
