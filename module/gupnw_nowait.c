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
 *   POSIX_FADV_WILLNEED on a run of such pages, and report them 'W'.
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
#include <linux/backing-dev.h>
#include <linux/fadvise.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/rcupdate.h>
#include <linux/shmem_fs.h>
#include <linux/userfaultfd_k.h>
#include <linux/xarray.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/* 8 MiB: well below a virtio-blk queue's worth of 128 KiB requests. */
static unsigned int max_io_pages = 2048;
module_param(max_io_pages, uint, 0644);
MODULE_PARM_DESC(max_io_pages,
		 "Pages of read I/O one probe call may start (default 2048)");

/* Pages read ahead per run: the usual 128 KiB readahead window. */
#define GUPNW_RA_RUN_PAGES	32

unsigned int gupnw_max_io_pages(void)
{
	return READ_ONCE(max_io_pages);
}

/* Pages of the file behind @mapping: the first index past EOF. */
pgoff_t gupnw_eof(struct address_space *mapping)
{
	return DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE);
}

/* A folio (not a shadow or swap value) at @index: the pointer only. */
static bool gupnw_cached(struct address_space *mapping, pgoff_t index)
{
	void *entry = xa_load(&mapping->i_pages, index);

	return entry && !xa_is_value(entry);
}

/**
 * gupnw_cache_state - what the page cache holds at an index
 * @mapping:	the file's mapping
 * @index:	the page
 *
 * The folio's flags are read without a reference but inside the RCU read
 * section of the lookup, as the kernel's own reference-free tests do (6.12
 * mm/filemap.c:629-650 filemap_range_has_writeback()), never through a
 * pointer kept after RCU was dropped (xa_load() drops it before it
 * returns).  A folio removed and freed meanwhile is read as the kernel's
 * speculative lookups read one before their folio_try_get()
 * (filemap_get_entry()): a stale answer, nothing more.
 *
 * Return: GUPNW_PC_* flags, 0 for nothing there.
 */
unsigned int gupnw_cache_state(struct address_space *mapping, pgoff_t index)
{
	XA_STATE(xas, &mapping->i_pages, index);
	unsigned int ret = 0;
	struct folio *folio;

	rcu_read_lock();
	do {
		folio = xas_load(&xas);
	} while (xas_retry(&xas, folio));
	if (xa_is_value(folio))
		ret = GUPNW_PC_VALUE;
	else if (folio)
		ret = GUPNW_PC_FOLIO |
		      (folio_test_uptodate(folio) ? GUPNW_PC_UPTODATE : 0) |
		      (folio_test_locked(folio) ? GUPNW_PC_LOCKED : 0);
	rcu_read_unlock();
	return ret;
}

/* A shmem page whose fault would wait: swapped out (a value), or locked. */
static bool gupnw_shmem_would_wait(struct address_space *mapping,
				   pgoff_t index)
{
	return gupnw_cache_state(mapping, index) &
	       (GUPNW_PC_VALUE | GUPNW_PC_LOCKED);
}

/*
 * Whether POSIX_FADV_WILLNEED on @file may be called with mmap_lock held
 * and starts reads: generic_fadvise() only, called directly.
 *
 * Under mmap_lock: the callers come only for mappings whose ->fault is
 * filemap_fault() (gupnw_filemap_vma()), and generic WILLNEED
 * (force_page_cache_ra()) takes what filemap_fault()'s own read-ahead
 * takes, in the same order: mmap_lock, then invalidate_lock shared
 * (6.12 mm/readahead.c page_cache_ra_unbounded()), then ->readahead.  A
 * file system's own ->fadvise may take more: XFS's takes i_rwsem (6.12
 * fs/xfs/xfs_file.c:1159), which write(2) holds while it faults in its
 * buffer under mmap_lock, hence the kernel's madvise(MADV_WILLNEED) drops
 * mmap_lock around vfs_fadvise() (6.12 mm/madvise.c:300-311).  So a file
 * with its own ->fadvise is left to its fault handler.
 *
 * Starts reads: generic WILLNEED does nothing at all for DAX and for a
 * file system without a backing device (noop_backing_dev_info: ramfs;
 * 6.12 mm/fadvise.c:50-63); their faults do no I/O a module can start
 * ahead, so they are faulted too.
 */
static bool gupnw_willneed_ok(struct file *file)
{
	struct inode *inode = file->f_mapping->host;

	return !file->f_op->fadvise && !IS_DAX(inode) &&
	       inode_to_bdi(inode) != &noop_backing_dev_info;
}

/*
 * Whether WILLNEED reads anything: force_page_cache_ra() reads up to
 * max(io_pages, ra_pages) pages, none when both are 0 (6.12
 * mm/readahead.c:342-343) - and the fault then reads synchronously.
 */
static bool gupnw_willneed_reads(struct file *file)
{
	return file->f_ra.ra_pages ||
	       inode_to_bdi(file->f_mapping->host)->io_pages;
}

static void gupnw_start_read(struct vm_area_struct *vma, unsigned long addr,
			     unsigned long n)
{
	/* submits the reads and returns: nothing waits here for them */
	generic_fadvise(vma->vm_file,
			(loff_t)linear_page_index(vma, addr) << PAGE_SHIFT,
			(loff_t)n << PAGE_SHIFT, POSIX_FADV_WILLNEED);
}

/* The run from @addr of absent, uncached pages inside the file and the VMA. */
static unsigned long gupnw_miss_run(struct vm_area_struct *vma,
				    unsigned long addr, const u8 *st,
				    unsigned long max)
{
	struct address_space *mapping = vma->vm_file->f_mapping;
	pgoff_t index = linear_page_index(vma, addr);
	pgoff_t eof = gupnw_eof(mapping);
	unsigned long n = 0;

	max = min3(max, (unsigned long)GUPNW_RA_RUN_PAGES,
		   (vma->vm_end - addr) >> PAGE_SHIFT);
	while (n < max && index + n < eof && (!st || st[n] == GUPNW_ABSENT) &&
	       !gupnw_cached(mapping, index + n))
		n++;
	return n;
}

/*
 * Start reading the pages of @vma's file from @addr on (a miss inside the
 * file), at most @max of them and as many as are absent from the caller's
 * view and from the page cache, up to EOF.  Returns the number of pages
 * covered (>= 1); r->io_started grows by the pages whose read was started,
 * none past the budget or where WILLNEED reads nothing.
 */
static unsigned long gupnw_read_ahead(struct gupnw_range *r,
				      struct vm_area_struct *vma,
				      unsigned long addr, const u8 *st,
				      unsigned long max)
{
	/* the caller found @addr absent, uncached and inside the file */
	unsigned long n = max(gupnw_miss_run(vma, addr, st, max), 1UL), budget;

	budget = gupnw_io_budget(r);
	n = min(n, max_t(unsigned long, budget, 1));
	if (budget && gupnw_willneed_reads(vma->vm_file)) {
		gupnw_start_read(vma, addr, n);
		r->io_started += n;
	}
	return n;
}

/*
 * Where a probe is going to wait anyway (WAIT, io_uring READY), a fault on a
 * page-cache miss would read around the page: the file's whole read-ahead
 * window (read_ahead_kb: 128 KiB on a 6.12 guest's virtio disk, 8 MiB on a
 * 7.3 guest's; 7.3 mm/filemap.c:3432 "mmap read-around"), in folios as large
 * as that window (7.3 mm/readahead.c page_cache_ra_order()), and wait for
 * the folio holding its page - megabytes, for seconds on a slow disk, none
 * of it asked for.  So these paths read the pages themselves first, as the
 * NOWAIT path does: the run of absent, uncached pages only, in order-0
 * folios with no read-ahead mark (POSIX_FADV_WILLNEED: force_page_cache_ra(),
 * 7.3 mm/readahead.c:356); the fault then finds its page in the cache and
 * waits for that page alone.  Only where the read-ahead may be started
 * under mmap_lock and does start reads (gupnw_willneed_ok()).
 */
static bool gupnw_filemap_vma(struct vm_area_struct *vma)
{
	return vma->vm_file && !vma_is_anonymous(vma) &&
	       !is_vm_hugetlb_page(vma) && vma->vm_ops &&
	       vma->vm_ops->fault == filemap_fault &&
	       !shmem_mapping(vma->vm_file->f_mapping) &&
	       gupnw_willneed_ok(vma->vm_file);
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
	done = gupnw_read_ahead(r, vma, addr, st, n);
	/* past the per-call cap nothing was started: cold */
	memset(st, r->io_started != io_before ? GUPNW_STATE_RETRY :
		   GUPNW_STATE_COLD, done);
	return done;
}

/*
 * Pages from @addr on, at most @max, that are absent (@st, if any) and not
 * in the page cache, stopping at EOF and at the VMA's end.
 */

/**
 * gupnw_wait_read - before a WAIT probe faults an absent page: read it
 * @r:		the probe (its I/O budget; io_started counts what is read)
 * @vma:	the page's VMA; mmap_lock held
 * @addr:	the page
 * @st:		the pass-1 states from @addr on
 * @n:		entries of @st
 *
 * Past the budget the fault is left to read as the kernel does.
 *
 * Return: the pages from @addr on whose read was started here (they needed
 * I/O: 'W' once faulted), or 0.
 */
unsigned long gupnw_wait_read(struct gupnw_range *r, struct vm_area_struct *vma,
			      unsigned long addr, const u8 *st, unsigned long n)
{
	unsigned long budget;

	if (!gupnw_filemap_vma(vma) || !gupnw_willneed_reads(vma->vm_file))
		return 0;
	budget = gupnw_io_budget(r);
	n = gupnw_miss_run(vma, addr, st, min(n, budget));
	if (n) {
		gupnw_start_read(vma, addr, n);
		r->io_started += n;
	}
	return n;
}

/**
 * gupnw_ready_read - before io_uring READY faults pages: read the misses
 * @vma:	the VMA; mmap_lock held
 * @addr:	the first page
 * @max:	pages from @addr on that READY is about to fault
 *
 * Return: how many pages from @addr on can be faulted without a page-cache
 * miss in the middle (a miss run whose read was started here, or a run of
 * cached pages), or @max when the mapping is not one read through
 * filemap_fault().
 */
unsigned long gupnw_ready_read(struct vm_area_struct *vma, unsigned long addr,
			       unsigned long max)
{
	struct address_space *mapping;
	unsigned long n;
	pgoff_t index;

	if (!max || !gupnw_filemap_vma(vma))
		return max;
	n = gupnw_miss_run(vma, addr, NULL, max);
	if (n) {
		gupnw_start_read(vma, addr, n);
		return n;
	}
	mapping = vma->vm_file->f_mapping;
	index = linear_page_index(vma, addr);
	n = 1;
	while (n < max && gupnw_cached(mapping, index + n))
		n++;
	return n;
}
