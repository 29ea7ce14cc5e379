// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: the places where a FOLL_NOWAIT fault would still sleep, decided
 * before faulting (docs/design.md, "Where FOLL_NOWAIT still waits").
 *
 * 'W' means the page is on its way: its read was started (by the fault,
 * by our read-ahead, or by the fault-in worker of gupnw_async.c) and it
 * arrives without anything else touching it.  A page that needs a read
 * nothing was started for, because a cap was reached, is 'C'.
 *
 * - A page-cache miss in a file mapping: filemap_fault() reads the page
 *   synchronously when readahead is off for the mapping (MADV_RANDOM,
 *   ra_pages == 0, or after 100 misses).  We never fault a page that is not
 *   in the page cache: we start the read ourselves, asynchronously, with
 *   POSIX_FADV_WILLNEED on a run of such pages, and report them 'W'
 *   (gupnw_readahead.c).
 *   A per-call cap bounds the I/O started (the block layer can make a
 *   submitter wait for a request slot); pages past it are 'C'.
 * - A swapped-out shmem/tmpfs/memfd page: shmem_fault() reads it and waits
 *   (6.1 mm/shmem.c:1786, 6.12 mm/shmem.c:2202), and a module cannot start
 *   that read asynchronously; a shmem folio under lock would make the fault
 *   wait on the lock.  Both go to the fault-in worker: 'W'.
 * - Before Linux 6.3, a swapped-out anonymous page whose swap read-ahead
 *   window has shrunk to one page is read synchronously by the fault
 *   (gupnw_compat.h, GUPNW_SWAPIN_MAY_WAIT); a module cannot see the window,
 *   nor whether the page is in the swap cache, so there every swap entry
 *   goes to the worker, in runs: 'W'.  From 6.3 on a FOLL_NOWAIT fault
 *   starts the swap-in and does not wait.  A swap entry holds an anonymous
 *   page even in a file mapping (the COW copy of a MAP_PRIVATE page): the
 *   file's page cache says nothing about it.
 * - A WRITE probe of a page mapped read-only: in a private mapping the
 *   fault copies the page, no I/O whatever the file's cache holds.
 * - A write fault on a shared file mapping can sleep in
 *   balance_dirty_pages(): a WRITE probe does not fault such a page but
 *   hands it to the worker (a read-ahead is started if it is not cached).
 *
 * Left to the kernel, and documented in README.md: anonymous pages on zram
 * or pmem swap (read synchronously; a module cannot tell the swap device),
 * migration entries, and contended folio locks in hugetlb.  Only
 * filemap_fault() mappings are taken over: another filesystem's fault
 * handler may behave differently.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/userfaultfd_k.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/* A shmem page whose fault would wait: swapped out (a value), or locked. */
static bool gupnw_shmem_would_wait(struct address_space *mapping,
				   pgoff_t index)
{
	return gupnw_cache_state(mapping, index) &
	       (GUPNW_PC_VALUE | GUPNW_PC_LOCKED);
}

/*
 * Hand the pages to the worker: those it took are 'W', a page it refused
 * (a cap) is 'C'.  Returns the number of pages decided.
 */
static unsigned long gupnw_to_worker(struct gupnw_range *r,
				     struct vm_area_struct *vma,
				     unsigned long addr, u8 *st, unsigned long n,
				     bool write)
{
	unsigned long q;

	/*
	 * userfaultfd: its handler decides when the page comes (a minor
	 * fault on shmem asks it even for a page on swap); 'W', as the
	 * kernel's own FOLL_NOWAIT fault says there, and nothing queued.
	 */
	if (userfaultfd_armed(vma)) {
		st[0] = GUPNW_STATE_RETRY;
		return 1;
	}
	q = gupnw_async_fault(r, addr, n, write);

	if (!q) {
		st[0] = GUPNW_STATE_COLD;
		return 1;
	}
	memset(st, GUPNW_STATE_RETRY, q);
	return q;
}

/**
 * gupnw_nowait_check - decide an absent page that a fault could sleep on
 * @r:		the probe (its I/O budget)
 * @vma:	the page's VMA; mmap_lock held
 * @addr:	the page
 * @st:		the pass-1 states from @addr on: st[0] is GUPNW_ABSENT (not
 *		mapped), GUPNW_SWAPPED or GUPNW_RO_WRITE
 * @n:		entries of @st
 *
 * Return: 0 when faulting the page with FOLL_NOWAIT cannot sleep, else the
 * number of pages from @addr on that were decided ('W' or 'C') without a
 * fault.
 */
unsigned long gupnw_nowait_check(struct gupnw_range *r,
				 struct vm_area_struct *vma,
				 unsigned long addr, u8 *st, unsigned long n)
{
	bool write = r->write;
	struct file *file = vma->vm_file;
	unsigned long i, done, io_before;
	struct address_space *mapping;
	pgoff_t index;

	if (is_vm_hugetlb_page(vma))
		return 0;
	/* anonymous pages, and the COW copies of a private file mapping */
	if (st[0] == GUPNW_SWAPPED) {
		if (!GUPNW_SWAPIN_MAY_WAIT)
			return 0;	/* the fault starts the swap-in */
		for (i = 1; i < n && st[i] == GUPNW_SWAPPED; i++)
			;
		return gupnw_to_worker(r, vma, addr, st, i, write);
	}
	/* mapped: a private mapping's write fault copies the page, no I/O */
	if (st[0] == GUPNW_RO_WRITE && !(vma->vm_flags & VM_SHARED))
		return 0;
	if (!file || vma_is_anonymous(vma))
		return 0;
	mapping = file->f_mapping;
	index = linear_page_index(vma, addr);

	if (shmem_mapping(mapping)) {
		if (!gupnw_shmem_would_wait(mapping, index))
			return 0;
		for (i = 1; i < n && st[i] == GUPNW_ABSENT &&
		     gupnw_shmem_would_wait(mapping, index + i); i++)
			;
		return gupnw_to_worker(r, vma, addr, st, i, write);
	}

	if (!vma->vm_ops || vma->vm_ops->fault != filemap_fault)
		return 0;
	/* past EOF the fault fails at once (SIGBUS): let it say 'E' */
	if (index >= gupnw_eof(mapping))
		return 0;

	if (gupnw_cached(mapping, index)) {
		/* a hit; but dirtying a shared page may be throttled */
		if (!(write && (vma->vm_flags & VM_SHARED)))
			return 0;
		return gupnw_to_worker(r, vma, addr, st, 1, write);
	}
	/* a miss we may not read ahead under mmap_lock: as elsewhere */
	if (!gupnw_filemap_vma(vma))
		return 0;

	io_before = r->io_started;
	done = gupnw_nowait_read(r, vma, addr, st, n);
	/* past the per-call cap nothing was started: cold */
	memset(st, r->io_started != io_before ? GUPNW_STATE_RETRY :
		   GUPNW_STATE_COLD, done);
	return done;
}
