// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: the range walker.
 *
 * A range is decided chunk by chunk; each chunk under one mmap_read_lock
 * hold, VMA by VMA (holes and refused VMAs are filled without looking at
 * their pages), in two passes over each VMA's part of the chunk:
 *
 *  1. presence: which pages are mapped now, without faulting anything - the
 *     lock-free GUP fast path for the caller's own mm, then GUP with
 *     FOLL_NOFAULT for what it declines (zero page, another mm).  These are
 *     'R'.  Taking this snapshot first means a page mapped by the fault-around
 *     of a neighbour's fault in pass 2 is still reported as faulted, not as
 *     resident.
 *  2. faults: each absent page is faulted with GUP and FOLL_NOWAIT, one at a
 *     time, because GUP stops at the first page needing I/O (it returns 0
 *     after starting that I/O: 'W').  A page it returns is 'F' - unless the
 *     fault counted as major: then the read finished before the fault tried
 *     the folio lock (a fast device), and the page still needed I/O: 'W'.
 *     NOFAULT mode stops after pass 1 ('N'); WAIT mode faults without
 *     FOLL_NOWAIT.
 *
 * A file the caller may not learn the page-cache state of gets one answer
 * for all its pages (gupnw_policy.c).
 *
 * Every page reference taken is dropped before the chunk ends.  Between
 * chunks the lock is dropped, states are copied out, fatal signals are
 * honoured and we reschedule: kernel memory and lock hold times are bounded
 * whatever the range.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

#define GUPNW_ABSENT	0	/* pass 1 verdict, never copied out */

struct gupnw_walk {
	struct gupnw_range *r;
	bool local;			/* r->mm is ours: GUP-fast applies */
	unsigned int gup_flags;		/* FOLL_WRITE or 0 */
	u8 states[GUPNW_CHUNK_PAGES];
	struct page *pages[GUPNW_BATCH_PAGES];
};

static long gupnw_gup(struct gupnw_walk *w, unsigned long addr,
		      unsigned long nr, unsigned int extra_flags)
{
	unsigned int flags = w->gup_flags | extra_flags;

	nr = min_t(unsigned long, nr, GUPNW_BATCH_PAGES);
	if (w->local)
		return gupnw_gup_current(addr, nr, flags, w->pages);
	return gupnw_gup_remote(w->r->mm, addr, nr, flags, w->pages);
}

/*
 * Drop the references GUP took, one atomic per run of pages of the same
 * folio rather than one per page: a THP costs one put for its 512 pages.
 */
static void gupnw_put_pages(struct gupnw_walk *w, long nr)
{
	long i, run;

	for (i = 0; i < nr; i += run) {
		struct folio *folio = page_folio(w->pages[i]);

		for (run = 1; i + run < nr; run++)
			if (page_folio(w->pages[i + run]) != folio)
				break;
		folio_put_refs(folio, run);
	}
}

/* Pass 1: mark the pages mapped now 'R', the others GUPNW_ABSENT. */
static int gupnw_scan_present(struct gupnw_walk *w, struct vm_area_struct *vma,
			      unsigned long addr, unsigned long n, u8 *st)
{
	bool nofault_ok = gupnw_nofault_honoured(vma);
	unsigned long i = 0;

	while (i < n) {
		unsigned long a = addr + (i << PAGE_SHIFT);
		unsigned long want = min_t(unsigned long, n - i,
					   GUPNW_BATCH_PAGES);
		long got = 0;

		if (w->local)
			got = get_user_pages_fast_only(a, want, w->gup_flags,
						       w->pages);
		if (got <= 0 && nofault_ok) {
			got = gupnw_gup(w, a, want, FOLL_NOFAULT);
			if (got == -EINTR)
				return -EINTR;
			if (got < 0 && got != -EFAULT) {
				/* -ENOMEM, -EHWPOISON, -EEXIST: refused */
				st[i++] = GUPNW_STATE_ERROR;
				continue;
			}
		}
		if (got > 0) {
			gupnw_put_pages(w, got);
			memset(st + i, GUPNW_STATE_RESIDENT, got);
			i += got;
		} else {
			st[i++] = GUPNW_ABSENT;
		}
	}
	return 0;
}

/* Pass 2 for one absent page: 'F', 'W' or 'E', or -EINTR. */
static int gupnw_fault_one(struct gupnw_walk *w, unsigned long addr)
{
	unsigned int extra = (w->r->flags & GUPNW_PROBE_WAIT) ? 0 : FOLL_NOWAIT;
	unsigned long maj_flt = current->maj_flt;
	long got;

	got = gupnw_gup(w, addr, 1, extra);
	if (got == 1) {
		gupnw_put_pages(w, 1);
		/* the fault path counts a fault that read the page as major */
		return current->maj_flt != maj_flt ? GUPNW_STATE_RETRY :
						     GUPNW_STATE_FAULTED;
	}
	if (got == 0)		/* VM_FAULT_RETRY: I/O started, not waited for */
		return GUPNW_STATE_RETRY;
	if (got == -EINTR)
		return -EINTR;
	return GUPNW_STATE_ERROR;	/* SIGBUS past EOF, -ENOMEM, poison */
}

static int gupnw_walk_vma(struct gupnw_walk *w, struct vm_area_struct *vma,
			  unsigned long addr, unsigned long n, u8 *st)
{
	unsigned long i;
	int ret;

	ret = gupnw_scan_present(w, vma, addr, n, st);
	if (ret)
		return ret;

	for (i = 0; i < n; i++) {
		if (st[i] != GUPNW_ABSENT)
			continue;
		if (w->r->flags & GUPNW_PROBE_NOFAULT) {
			st[i] = GUPNW_STATE_NOTPRESENT;
			continue;
		}
		ret = gupnw_fault_one(w, addr + (i << PAGE_SHIFT));
		if (ret < 0)
			return ret;
		st[i] = ret;
	}
	return 0;
}

/*
 * What GUP's check_vma_flags() would refuse for the whole VMA, decided once
 * here so that it reads 'E' (never 'N') in every mode and costs nothing per
 * page: VM_IO/VM_PFNMAP, and no permission for the access probed.
 */
static bool gupnw_vma_allows(struct vm_area_struct *vma, bool write)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		return false;
	return vma->vm_flags & (write ? VM_WRITE : VM_READ);
}

/* Decide pages [start, start + n pages) into w->states; mmap_lock held. */
static int gupnw_walk_chunk(struct gupnw_walk *w, unsigned long start,
			    unsigned long n)
{
	unsigned long end = start + (n << PAGE_SHIFT);
	bool write = w->r->flags & GUPNW_PROBE_WRITE;
	unsigned long addr = start;
	u8 *st = w->states;
	int ret;

	while (addr < end) {
		struct vm_area_struct *vma = find_vma(w->r->mm, addr);
		unsigned long stop, cnt;

		if (!vma || vma->vm_start > addr) {
			stop = vma ? min(vma->vm_start, end) : end;
			cnt = (stop - addr) >> PAGE_SHIFT;
			memset(st, GUPNW_STATE_UNMAPPED, cnt);
		} else {
			stop = min(vma->vm_end, end);
			cnt = (stop - addr) >> PAGE_SHIFT;
			if (!gupnw_vma_allows(vma, write)) {
				memset(st, GUPNW_STATE_ERROR, cnt);
			} else {
				ret = gupnw_walk_vma(w, vma, addr, cnt, st);
				if (ret)
					return ret;
				if (!gupnw_cache_visible(vma))
					gupnw_hide_cache(st, cnt, w->r->flags);
			}
		}
		st += cnt;
		addr = stop;
	}
	return 0;
}

static void gupnw_tally(struct gupnw_range *r, const u8 *st, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		switch (st[i]) {
		case GUPNW_STATE_RESIDENT:
			r->counts[GUPNW_IDX_RESIDENT]++;
			break;
		case GUPNW_STATE_FAULTED:
			r->counts[GUPNW_IDX_FAULTED]++;
			break;
		case GUPNW_STATE_RETRY:
			r->counts[GUPNW_IDX_RETRY]++;
			break;
		case GUPNW_STATE_UNMAPPED:
			r->counts[GUPNW_IDX_UNMAPPED]++;
			break;
		case GUPNW_STATE_ERROR:
			r->counts[GUPNW_IDX_ERROR]++;
			break;
		case GUPNW_STATE_NOTPRESENT:
			r->counts[GUPNW_IDX_NOTPRESENT]++;
			break;
		}
	}
}

/**
 * gupnw_walk_range - decide the state of every page of a validated range
 * @r: the range; r->mm must be held (mmget) by the caller
 *
 * Return: 0 with r->done == r->nr_pages, or -EINTR (fatal signal), -EFAULT
 * (states buffer), -ENOMEM, with r->done and r->counts covering the pages
 * copied out before the failure.
 */
int gupnw_walk_range(struct gupnw_range *r)
{
	unsigned long chunk = (r->flags & GUPNW_PROBE_WAIT) ?
			      GUPNW_WAIT_CHUNK_PAGES : GUPNW_CHUNK_PAGES;
	struct gupnw_walk *w;
	unsigned long pos, n;
	int ret = 0;

	w = kmalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->r = r;
	w->local = r->mm == current->mm;
	w->gup_flags = (r->flags & GUPNW_PROBE_WRITE) ? FOLL_WRITE : 0;

	for (pos = 0; pos < r->nr_pages; pos += n) {
		n = min(r->nr_pages - pos, chunk);

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = mmap_read_lock_killable(r->mm);
		if (ret)
			break;
		ret = gupnw_walk_chunk(w, r->start + (pos << PAGE_SHIFT), n);
		mmap_read_unlock(r->mm);
		if (ret)
			break;

		if (r->states && copy_to_user(r->states + pos, w->states, n)) {
			ret = -EFAULT;
			break;
		}
		gupnw_tally(r, w->states, n);
		r->done += n;
		cond_resched();
	}
	kfree(w);
	return ret;
}
