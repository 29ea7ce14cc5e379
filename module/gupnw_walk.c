// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: the range walker.
 *
 * A range is decided in mmap_read_lock holds of bounded work (at most a
 * chunk of pages looked at, a bounded number of VMAs), VMA by VMA: a hole or
 * a refused VMA is one run whatever its size, never walked page by page.
 * The pages of a VMA are decided in two passes:
 *
 *  1. presence: which pages are mapped now, without faulting anything - the
 *     lock-free GUP fast path for the caller's own mm, then GUP with
 *     FOLL_NOFAULT for what it declines (zero page, another mm).  These are
 *     'R'.  Taking this snapshot first means a page mapped by the fault-around
 *     of a neighbour's fault in pass 2 is still reported as faulted, not as
 *     resident.
 *  2. faults: where such a fault could still sleep (a page-cache miss, a
 *     swapped shmem page, ...) gupnw_nowait.c decides the page without
 *     faulting it.  Each other absent page is faulted with GUP and
 *     FOLL_NOWAIT, one at a time, because GUP stops at the first page
 *     needing I/O (it returns 0 after starting that I/O: 'W').  A page it
 *     returns is 'F' - unless the fault counted as major: then the read
 *     finished before the fault tried the folio lock (a fast device), and
 *     the page still needed I/O: 'W'.
 *     NOFAULT mode stops after pass 1 ('N'); WAIT mode faults without
 *     FOLL_NOWAIT.
 *
 * A file the caller may not learn the page-cache state of gets one answer
 * for all its pages (gupnw_policy.c).
 *
 * What a hold decides is staged in the kernel - bytes, or runs with
 * GUPNW_PROBE_EXTENTS - and copied out after the lock is dropped (a fault on
 * the caller's buffer must not happen under mmap_lock).  Between holds fatal
 * signals are honoured and we reschedule; every page reference taken is
 * dropped before the hold ends.  Kernel memory and lock hold times are
 * bounded whatever the range.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

struct gupnw_walk {
	struct gupnw_range *r;
	bool local;			/* r->mm is ours: GUP-fast applies */
	unsigned int gup_flags;		/* FOLL_WRITE or 0 */
	unsigned long pos;		/* next address to decide */
	unsigned long end;
	/* decided under the lock, copied out after it */
	unsigned long nr_staged;	/* bytes staged in states[] */
	unsigned long tail_pages;	/* a run too long to stage, written */
	u8 tail_state;			/* straight out by the flush */
	unsigned int nr_ext;		/* extents staged in ext[] */
	u32 ext_base;			/* index of ext[0] in the user's array */
	u64 staged_pages;
	u64 staged_counts[GUPNW_NR_IDX];
	u8 states[GUPNW_CHUNK_PAGES];	/* byte staging, or per-page scratch */
	struct gupnw_probe_extent ext[GUPNW_EXTENT_BATCH];
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

/*
 * A file page past EOF: the kernel would refuse it (SIGBUS), so it is 'E'
 * in every mode - NOFAULT, which takes no fault to find out, asks here.
 * Not for hugetlbfs, whose page index is in huge pages.
 */
static bool gupnw_past_eof(struct vm_area_struct *vma, unsigned long addr)
{
	struct file *file = vma->vm_file;

	if (!file || vma_is_anonymous(vma) || is_vm_hugetlb_page(vma))
		return false;
	return linear_page_index(vma, addr) >=
	       DIV_ROUND_UP(i_size_read(file_inode(file)), PAGE_SIZE);
}

/*
 * After a file page was faulted in without I/O, fault-around has usually
 * mapped its cached neighbours too: take the following absent pages that
 * are now present in one GUP call, as 'F' (they were absent in pass 1),
 * instead of one GUP call each.  Returns how many.
 */
static unsigned long gupnw_take_faulted_around(struct gupnw_walk *w,
					       struct vm_area_struct *vma,
					       unsigned long addr, u8 *st,
					       unsigned long n)
{
	unsigned long m = 0;
	long got;

	if (!vma->vm_file)
		return 0;		/* anonymous faults map one page */
	while (m < n && m < GUPNW_BATCH_PAGES && st[m] == GUPNW_ABSENT)
		m++;
	if (!m)
		return 0;
	if (w->local)
		got = get_user_pages_fast_only(addr, m, w->gup_flags,
					       w->pages);
	else if (gupnw_nofault_honoured(vma))
		got = gupnw_gup(w, addr, m, FOLL_NOFAULT);
	else
		return 0;
	if (got <= 0)
		return 0;
	gupnw_put_pages(w, got);
	memset(st, GUPNW_STATE_FAULTED, got);
	return got;
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
			st[i] = gupnw_past_eof(vma, addr + (i << PAGE_SHIFT)) ?
				GUPNW_STATE_ERROR : GUPNW_STATE_NOTPRESENT;
			continue;
		}
		if (!(w->r->flags & GUPNW_PROBE_WAIT)) {
			unsigned long k;

			k = gupnw_nowait_check(w->r, vma,
					       addr + (i << PAGE_SHIFT),
					       st + i, n - i);
			if (k) {
				i += k - 1;
				continue;
			}
		}
		ret = gupnw_fault_one(w, addr + (i << PAGE_SHIFT));
		if (ret < 0)
			return ret;
		st[i] = ret;
		if (ret == GUPNW_STATE_FAULTED)
			i += gupnw_take_faulted_around(w, vma,
						       addr + ((i + 1) << PAGE_SHIFT),
						       st + i + 1, n - i - 1);
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

static int gupnw_state_idx(u8 state)
{
	switch (state) {
	case GUPNW_STATE_RESIDENT:
		return GUPNW_IDX_RESIDENT;
	case GUPNW_STATE_FAULTED:
		return GUPNW_IDX_FAULTED;
	case GUPNW_STATE_RETRY:
		return GUPNW_IDX_RETRY;
	case GUPNW_STATE_UNMAPPED:
		return GUPNW_IDX_UNMAPPED;
	case GUPNW_STATE_ERROR:
		return GUPNW_IDX_ERROR;
	case GUPNW_STATE_COLD:
		return GUPNW_IDX_COLD;
	default:
		return GUPNW_IDX_NOTPRESENT;
	}
}

static bool gupnw_extent_mode(const struct gupnw_walk *w)
{
	return w->r->flags & GUPNW_PROBE_EXTENTS;
}

/* Pages in arbitrary states that can be staged now. */
static unsigned long gupnw_room(const struct gupnw_walk *w)
{
	const struct gupnw_range *r = w->r;

	if (gupnw_extent_mode(w)) {
		u32 cap = min_t(u32, r->max_extents - w->ext_base,
				GUPNW_EXTENT_BATCH);

		/* worst case, every page starts a new run */
		return cap > w->nr_ext ? cap - w->nr_ext : 0;
	}
	if (r->states)
		return GUPNW_CHUNK_PAGES - w->nr_staged;
	return ULONG_MAX;		/* counts only */
}

/* Whether a run of @state at @addr continues the last staged extent. */
static bool gupnw_extends_last(const struct gupnw_walk *w, unsigned long addr,
			       u8 state)
{
	const struct gupnw_probe_extent *e;

	if (!w->nr_ext)
		return false;
	e = &w->ext[w->nr_ext - 1];
	return e->state == state &&
	       e->start + (e->nr_pages << PAGE_SHIFT) == addr;
}

/* Stage @n pages of @state at @addr; the caller made sure there is room. */
static void gupnw_stage_run(struct gupnw_walk *w, unsigned long addr,
			    u8 state, unsigned long n)
{
	w->staged_counts[gupnw_state_idx(state)] += n;
	w->staged_pages += n;

	if (gupnw_extent_mode(w)) {
		struct gupnw_probe_extent *e;

		if (gupnw_extends_last(w, addr, state)) {
			w->ext[w->nr_ext - 1].nr_pages += n;
			return;
		}
		e = &w->ext[w->nr_ext++];
		e->start = addr;
		e->nr_pages = n;
		e->state = state;
		e->reserved = 0;
	} else if (w->r->states) {
		memset(w->states + w->nr_staged, state, n);
		w->nr_staged += n;
	}
}

/* Stage the per-page states @st of the @n pages at w->pos, as runs. */
static void gupnw_stage_states(struct gupnw_walk *w, const u8 *st,
			       unsigned long n)
{
	unsigned long i, run;

	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n; run++)
			if (st[i + run] != st[i])
				break;
		gupnw_stage_run(w, w->pos + (i << PAGE_SHIFT), st[i], run);
	}
	w->pos += n << PAGE_SHIFT;
}

/*
 * Stage a hole or a refused VMA: @n pages of one @state.  In byte mode what
 * does not fit becomes the tail, written by the flush without the lock.
 * Returns false when the hold must end (full, or a tail is pending).
 */
static bool gupnw_stage_span(struct gupnw_walk *w, u8 state, unsigned long n)
{
	unsigned long take = n;

	if (gupnw_extent_mode(w)) {
		if (!gupnw_room(w) && !gupnw_extends_last(w, w->pos, state))
			return false;
	} else if (w->r->states) {
		take = min(n, gupnw_room(w));
		w->tail_state = state;
		w->tail_pages = n - take;
	}
	gupnw_stage_run(w, w->pos, state, take);
	w->pos += n << PAGE_SHIFT;
	return !w->tail_pages;
}

/* One mmap_lock hold: decide and stage from w->pos, bounded. */
static int gupnw_walk_hold(struct gupnw_walk *w, unsigned long budget)
{
	bool write = w->r->flags & GUPNW_PROBE_WRITE;
	unsigned int vmas = GUPNW_HOLD_VMAS;
	int ret;

	while (w->pos < w->end && budget && vmas--) {
		struct vm_area_struct *vma = find_vma(w->r->mm, w->pos);
		unsigned long stop, n;
		u8 *st;

		if (!vma || vma->vm_start > w->pos) {
			stop = vma ? min(vma->vm_start, w->end) : w->end;
			if (!gupnw_stage_span(w, GUPNW_STATE_UNMAPPED,
					      (stop - w->pos) >> PAGE_SHIFT))
				break;
			continue;
		}
		stop = min(vma->vm_end, w->end);
		if (!gupnw_vma_allows(vma, write)) {
			if (!gupnw_stage_span(w, GUPNW_STATE_ERROR,
					      (stop - w->pos) >> PAGE_SHIFT))
				break;
			continue;
		}

		n = min3((stop - w->pos) >> PAGE_SHIFT, budget, gupnw_room(w));
		if (!n)
			break;
		/* in byte mode the pages are decided in place */
		st = w->r->states && !gupnw_extent_mode(w) ?
		     w->states + w->nr_staged : w->states;
		ret = gupnw_walk_vma(w, vma, w->pos, n, st);
		if (ret)
			return ret;
		if (!gupnw_cache_visible(vma))
			gupnw_hide_cache(st, n, w->r->flags);
		gupnw_stage_states(w, st, n);
		budget -= n;
	}
	return 0;
}

/* Write out a pending tail run, a staging buffer at a time. */
static int gupnw_flush_tail(struct gupnw_walk *w)
{
	struct gupnw_range *r = w->r;

	memset(w->states, w->tail_state, sizeof(w->states));
	while (w->tail_pages) {
		unsigned long n = min_t(unsigned long, w->tail_pages,
					sizeof(w->states));

		if (copy_to_user(r->states + r->done, w->states, n))
			return -EFAULT;
		r->done += n;
		r->counts[gupnw_state_idx(w->tail_state)] += n;
		w->tail_pages -= n;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/* Copy out what the last hold staged; mmap_lock not held. */
static int gupnw_flush(struct gupnw_walk *w)
{
	struct gupnw_range *r = w->r;
	int i;

	if (gupnw_extent_mode(w) && w->nr_ext) {
		if (copy_to_user(r->extents + w->ext_base, w->ext,
				 w->nr_ext * sizeof(w->ext[0])))
			return -EFAULT;
		r->nr_extents = w->ext_base + w->nr_ext;
		/* the last run may go on in the next hold: rewrite it then */
		w->ext_base += w->nr_ext - 1;
		w->ext[0] = w->ext[w->nr_ext - 1];
		w->nr_ext = 1;
	} else if (r->states && w->nr_staged) {
		if (copy_to_user(r->states + r->done, w->states,
				 w->nr_staged))
			return -EFAULT;
		w->nr_staged = 0;
	}

	r->done += w->staged_pages;
	w->staged_pages = 0;
	for (i = 0; i < ARRAY_SIZE(w->staged_counts); i++) {
		r->counts[i] += w->staged_counts[i];
		w->staged_counts[i] = 0;
	}
	return w->tail_pages ? gupnw_flush_tail(w) : 0;
}

/* Kernel memory one probe allocates: the walk state, nothing else. */
size_t gupnw_walk_kmem(void)
{
	return kmalloc_size_roundup(sizeof(struct gupnw_walk));
}

/**
 * gupnw_walk_range - decide the state of every page of a validated range
 * @r: the range; r->mm must be held (mmget) by the caller
 *
 * Return: 0 with r->done == r->nr_pages (or fewer with GUPNW_PROBE_EXTENTS
 * when the caller's array filled), or -EINTR (fatal signal), -EFAULT (the
 * caller's buffer), -ENOMEM, with r->done, r->counts and r->nr_extents
 * covering what was copied out before the failure.
 */
int gupnw_walk_range(struct gupnw_range *r)
{
	unsigned long budget = (r->flags & GUPNW_PROBE_WAIT) ?
			       GUPNW_WAIT_CHUNK_PAGES : GUPNW_CHUNK_PAGES;
	struct gupnw_walk *w;
	int ret = 0, err;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->r = r;
	w->local = r->mm == current->mm;
	w->gup_flags = (r->flags & GUPNW_PROBE_WRITE) ? FOLL_WRITE : 0;
	w->pos = r->start;
	w->end = r->start + (r->nr_pages << PAGE_SHIFT);

	while (w->pos < w->end) {
		unsigned long from = w->pos;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = mmap_read_lock_killable(r->mm);
		if (ret)
			break;
		ret = gupnw_walk_hold(w, budget);
		mmap_read_unlock(r->mm);

		/* what was decided before a failure is still reported */
		err = gupnw_flush(w);
		ret = ret ?: err;
		if (ret || w->pos == from)	/* failed, or extents full */
			break;
		cond_resched();
	}
	kfree(w);
	return ret;
}
