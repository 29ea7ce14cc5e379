// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: everything the module reads itself, and how much.
 *
 * A page-cache miss in a file read through filemap_fault() is read here
 * before any fault could read it, with POSIX_FADV_WILLNEED on the run of
 * absent, uncached pages (gupnw_miss_run()): the read is started and not
 * waited for, in order-0 folios with no read-ahead mark, so that
 *  - NOWAIT reports the run 'W' without faulting it (gupnw_nowait_read(),
 *    for gupnw_nowait.c): a fault with readahead off would read it
 *    synchronously;
 *  - WAIT (gupnw_wait_read()) and io_uring READY (gupnw_ready_read())
 *    then fault a page that is in the cache and wait for that page alone,
 *    not for the fault's read-around of the file's whole read-ahead window.
 * One probe call starts at most max_io_pages pages of reads, shared with
 * what it hands to the fault-in worker (gupnw_io_budget()); READY, which
 * waits for what it reads, has no budget.
 *
 * Also here: what the page cache holds at an index (gupnw_cache_state(),
 * gupnw_cached()) or over a run in one walk (gupnw_cache_scan()), and
 * where the file ends (gupnw_eof()), for the no-wait decisions and
 * NOFAULT's prediction.
 */
#include <linux/backing-dev.h>
#include <linux/fadvise.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/rcupdate.h>
#include <linux/shmem_fs.h>
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
bool gupnw_cached(struct address_space *mapping, pgoff_t index)
{
	void *entry = xa_load(&mapping->i_pages, index);

	return entry && !xa_is_value(entry);
}

/* GUPNW_PC_* of a folio (not a value entry) with flags word @fl. */
static inline unsigned int gupnw_pc_of_flags(unsigned long fl)
{
	return GUPNW_PC_FOLIO |
	       (fl & BIT(PG_uptodate) ? GUPNW_PC_UPTODATE : 0) |
	       (fl & BIT(PG_locked) ? GUPNW_PC_LOCKED : 0);
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
 * (filemap_get_entry()): a stale answer, nothing more - and never through
 * folio_flags(), whose debug checks would BUG() on a folio reused as a tail
 * page (gupnw_folio_flags_nocheck()).
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
		ret = gupnw_pc_of_flags(gupnw_folio_flags_nocheck(folio));
	rcu_read_unlock();
	return ret;
}

/* The byte @map gives for @entry: a folio, a value entry, or nothing. */
static inline u8 gupnw_pc_byte(const u8 *map, void *entry)
{
	if (!entry || xa_is_internal(entry))	/* a hole, or no page here */
		return map[0];
	if (xa_is_value(entry))
		return map[GUPNW_PC_VALUE];
	/* one read of the flags for both bits */
	return map[gupnw_pc_of_flags(gupnw_folio_flags_nocheck(entry))];
}

/*
 * The rest of the leaf node @node from slot @off on, at most @max slots,
 * into @out; the slot at @off holds @f or a sibling of it.  Each slot is
 * read once: a folio's flags, a value entry, a hole, or a sibling entry,
 * which repeats the byte of the entry it follows (a large folio or a
 * multi-index shadow: its flags are read once).  Return: the slots
 * written, fewer than asked where a retry entry says the node is going
 * (the caller looks up the rest again).
 */
static unsigned long gupnw_cache_leaf(struct xarray *xa, struct xa_node *node,
				      unsigned int off, unsigned long max,
				      const u8 *map, u8 f, u8 *out)
{
	unsigned long i, n = min_t(unsigned long, max, XA_CHUNK_SIZE - off);
	void *entry;

	out[0] = f;
	for (i = 1; i < n; i++) {
		entry = xa_entry(xa, node, off + i);
		if (unlikely(xa_is_internal(entry))) {
			if (xa_is_retry(entry))
				return i;
			if (!xa_is_sibling(entry))
				f = map[0];
		} else {
			f = gupnw_pc_byte(map, entry);
		}
		out[i] = f;
	}
	return n;
}

/**
 * gupnw_cache_scan - what the page cache holds over a run, in one walk
 * @mapping:	the file's mapping
 * @index:	the first page
 * @n:		pages from @index on (at most a walk's chunk)
 * @map:	the byte to write for each combination of GUPNW_PC_* flags
 *		(GUPNW_PC_MAP entries; map[0]: nothing there)
 * @out:	out: map[the page's flags] per page
 *
 * One walk of the tree under RCU over the run, as cachestat(2) walks one
 * (6.12 mm/filemap.c:4310 filemap_cachestat()), instead of a descent per
 * page: one descent per leaf node (64 pages), whose slots are then read in
 * order, each once (gupnw_cache_leaf()); a hole or a large entry above the
 * leaves (a PMD-sized folio) is one step whatever it covers, its extent
 * read from the tree itself (xas_get_order(), never from the folio).
 * Value entries (shadows, shmem swap) are told apart from folios.  No
 * reference is taken: the tree's nodes are freed only after an RCU grace
 * period, and a folio's flags word is read once, inside the same RCU read
 * section that found it, as gupnw_cache_state() reads it (a folio freed
 * meanwhile is read as the kernel's speculative lookups read one before
 * their folio_try_get(): a stale answer, never a fault; struct folio
 * memory is never unmapped).  Nothing is kept past rcu_read_unlock() but
 * the flags.
 */
void gupnw_cache_scan(struct address_space *mapping, pgoff_t index,
		      unsigned long n, const u8 *map, u8 *out)
{
	XA_STATE(xas, &mapping->i_pages, index);
	unsigned long done = 0, span;
	struct xa_node *node;
	unsigned int order;
	void *entry;
	pgoff_t pos;

	rcu_read_lock();
	while (done < n) {
		pos = index + done;
		xas_set(&xas, pos);
		entry = xas_load(&xas);
		if (xa_is_retry(entry))		/* a node going: again */
			continue;
		node = xas.xa_node;
		if (node == XAS_BOUNDS) {	/* nothing from here on */
			memset(out + done, map[0], n - done);
			break;
		}
		if (!node) {			/* the root's single entry */
			out[done++] = gupnw_pc_byte(map, entry);
			continue;
		}
		if (!node->shift) {
			done += gupnw_cache_leaf(xas.xa, node,
						 pos & XA_CHUNK_MASK, n - done,
						 map, gupnw_pc_byte(map, entry),
						 out + done);
			continue;
		}
		/* above the leaves: a hole, or a large entry, all one byte */
		order = entry ? xas_get_order(&xas) : node->shift;
		span = min_t(unsigned long, n - done,
			     (round_down(pos, 1UL << order) +
			      (1UL << order)) - pos);
		memset(out + done, gupnw_pc_byte(map, entry), span);
		done += span;
	}
	rcu_read_unlock();
}

static_assert(GUPNW_PC_MAP > (GUPNW_PC_FOLIO | GUPNW_PC_VALUE |
			      GUPNW_PC_UPTODATE | GUPNW_PC_LOCKED));

/* For gupnw_cache_scan(): the flags themselves. */
static const u8 gupnw_pc_flags[GUPNW_PC_MAP] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
};

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
	u8 pc[GUPNW_RA_RUN_PAGES];
	unsigned long n = 0;

	max = min3(max, (unsigned long)GUPNW_RA_RUN_PAGES,
		   (vma->vm_end - addr) >> PAGE_SHIFT);
	if (index >= eof)
		return 0;
	max = min_t(unsigned long, max, eof - index);
	while (n < max && (!st || st[n] == GUPNW_ABSENT))
		n++;
	if (!n)
		return 0;
	/* one walk of the run, then its uncached head */
	gupnw_cache_scan(mapping, index, n, gupnw_pc_flags, pc);
	max = n;
	for (n = 0; n < max && !(pc[n] & GUPNW_PC_FOLIO); n++)
		;
	return n;
}

/**
 * gupnw_nowait_read - NOWAIT's read of a page-cache miss, instead of a fault
 * @r:		the probe (its I/O budget; io_started counts what is read)
 * @vma:	the page's VMA, read through filemap_fault() (gupnw_filemap_vma());
 *		mmap_lock held
 * @addr:	the page: absent, not cached, inside the file
 * @st:		the pass-1 verdicts from @addr on
 * @max:	entries of @st
 *
 * Start reading the pages of @vma's file from @addr on, at most @max of
 * them and as many as are absent from the caller's view and from the page
 * cache, up to EOF.
 *
 * Return: the number of pages covered (>= 1); r->io_started grows by the
 * pages whose read was started, none past the budget or where WILLNEED
 * reads nothing.
 */
unsigned long gupnw_nowait_read(struct gupnw_range *r,
				struct vm_area_struct *vma, unsigned long addr,
				const u8 *st, unsigned long max)
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
bool gupnw_filemap_vma(struct vm_area_struct *vma)
{
	return vma->vm_file && !vma_is_anonymous(vma) &&
	       !is_vm_hugetlb_page(vma) && vma->vm_ops &&
	       vma->vm_ops->fault == filemap_fault &&
	       !shmem_mapping(vma->vm_file->f_mapping) &&
	       gupnw_willneed_ok(vma->vm_file);
}

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
 * Return: how many pages from @addr on, at most @max and a read-ahead run,
 * can be faulted without a page-cache miss in the middle (a miss run whose
 * read was started here, or a run of cached pages), or that many when the
 * mapping is not one read through filemap_fault().  Bounded, so that a
 * cached file costs a few lookups per batch, not one per page to its end.
 */
unsigned long gupnw_ready_read(struct vm_area_struct *vma, unsigned long addr,
			       unsigned long max)
{
	u8 pc[GUPNW_RA_RUN_PAGES];
	unsigned long n;

	max = min_t(unsigned long, max, GUPNW_RA_RUN_PAGES);
	if (!max || !gupnw_filemap_vma(vma))
		return max;
	n = gupnw_miss_run(vma, addr, NULL, max);
	if (n) {
		gupnw_start_read(vma, addr, n);
		return n;
	}
	/* the run of cached pages, in one walk */
	gupnw_cache_scan(vma->vm_file->f_mapping, linear_page_index(vma, addr),
			 max, gupnw_pc_flags, pc);
	for (n = 1; n < max && (pc[n] & GUPNW_PC_FOLIO); n++)
		;
	return n;
}
