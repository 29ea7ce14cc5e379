// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: the range walker.
 *
 * A range is decided in mmap_read_lock holds of bounded work (at most a
 * chunk of pages looked at, a bounded number of VMAs), VMA by VMA: a hole or
 * a refused VMA is one run whatever its size, never walked page by page.
 * The pages of a VMA are decided in two passes:
 *
 *  1. presence: which pages are mapped now, without faulting anything and
 *     without taking a page reference - read from the page tables
 *     (gupnw_pte.c); hugetlb and the few entries that read finds unusual
 *     go to GUP (GUP-fast for the caller's own mm, then FOLL_NOFAULT).
 *     These are 'R'.  Taking this snapshot first means a page mapped by
 *     the fault-around of a neighbour's fault in pass 2 is still reported
 *     as faulted, not as resident.
 *  2. faults: where such a fault could still sleep (a page-cache miss, a
 *     swapped shmem page, ...) gupnw_nowait.c decides the page without
 *     faulting it.  Each other absent page is faulted with GUP and
 *     FOLL_NOWAIT, one at a time, because GUP stops at the first page
 *     needing I/O (it returns 0 after starting that I/O: 'W').  A page it
 *     returns is 'F' - unless the fault counted as major: then the read
 *     finished before the fault tried the folio lock (a fast device), and
 *     the page still needed I/O: 'W'.  A read of a page of a
 *     filemap_fault() mapping is faulted without GUP's walks around the
 *     fault (gupnw_fault_file()), the same fault with the same flags.
 *     WAIT mode faults without FOLL_NOWAIT.
 *     A swap entry (also the COW copy of a private file page) and a page
 *     mapped read-only that a WRITE probe would fault on are kept apart
 *     from the pages not mapped: their fault never reads the file.
 *     NOFAULT mode replaces pass 2 by a prediction that changes nothing:
 *     'N', 'W' or 'C' from the swap entry or the page cache, as mincore(2)
 *     looks (gupnw_predict()).
 *
 * io_uring READY (gupnw_uring.c) is a mode of this walker too: holes,
 * refusals, staging and the checks between holds are the same, but in
 * place of the two passes it faults the pages in with blocking GUP and
 * reports them 'R' (present), a batch of GUPNW_READY_BATCH pages per hold
 * (gupnw_fault_ready()), and an io_uring cancel ends it between holds
 * (gupnw_walk_stop()).
 *
 * A file the caller may not learn the page-cache state of gets one answer
 * for all its pages (gupnw_policy.c).
 *
 * What a hold decides is staged in the kernel - bytes, or runs with
 * GUPNW_PROBE_EXTENTS (gupnw_out.c) - and copied out after the lock is
 * dropped (a fault on the caller's buffer must not happen under mmap_lock).
 * Between holds fatal signals are honoured and we reschedule; every page
 * reference taken (by GUP, in pass 2 and for what pass 1 asks it) is
 * dropped before the hold ends.  Kernel memory and lock hold times are
 * bounded whatever the range.
 */
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/mmu_context.h>
#include <linux/pagemap.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/* A group stop the READY worker cannot take mid-command: how often to look. */
#define GUPNW_READY_STOP_POLL	(HZ / 20)

struct gupnw_walk {
	struct gupnw_range *r;
	bool local;			/* r->mm is ours: GUP-fast applies */
	unsigned int gup_flags;		/* FOLL_WRITE or 0 */
	unsigned long pos;		/* next address to decide */
	unsigned long end;
	/* WAIT and READY, after a fault dropped mmap_lock: */
	bool unlocked;			/* not held again: -EINTR */
	bool vma_changed;		/* held again, the VMA not the same */
	unsigned long cut;		/* ... pages of the VMA decided */
	/* NOWORKER READY: the page it stopped at, to wait for; or 0 */
	unsigned long blocked;
	struct gupnw_out out;		/* decided, not yet copied out */
	unsigned long pages_cap;
	struct page *pages[];		/* then out.ext[], out.states[] */
};

static long gupnw_gup(struct gupnw_walk *w, unsigned long addr,
		      unsigned long nr, unsigned int extra_flags)
{
	unsigned int flags = w->gup_flags | extra_flags;

	nr = min(nr, w->pages_cap);
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

/*
 * Presence from GUP, for what the page-table read leaves to it: 'R' for
 * the pages mapped now, 'E', or for the others what the page table says
 * now (GUPNW_SWAPPED, GUPNW_RO_WRITE, else GUPNW_ABSENT: a PMD that changed
 * under the first read must not turn a swap entry into a page-cache
 * question).  GUP-fast for the caller's own mm, then GUP with FOLL_NOFAULT
 * for what it declines.
 */
static int gupnw_gup_present(struct gupnw_walk *w, struct vm_area_struct *vma,
			     unsigned long addr, unsigned long n, u8 *st)
{
	bool nofault_ok = gupnw_nofault_honoured(vma);
	unsigned long i = 0;

	while (i < n) {
		unsigned long a = addr + (i << PAGE_SHIFT);
		unsigned long want = min(n - i, w->pages_cap);
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
			continue;
		}
		st[i] = GUPNW_ABSENT;
		if (!is_vm_hugetlb_page(vma)) {
			u8 s;

			gupnw_pte_scan(w->r->mm, a, 1, w->gup_flags & FOLL_WRITE,
				       &s);
			if (s == GUPNW_SWAPPED || s == GUPNW_RO_WRITE)
				st[i] = s;
		}
		i++;
	}
	return 0;
}

/*
 * Pass 1: 'R' for the pages mapped now; GUPNW_ABSENT, GUPNW_SWAPPED or 'E'
 * for the others.  The page tables are read directly (gupnw_pte.c); hugetlb
 * and whatever that read finds unusual are asked of GUP.  Returns 1 when
 * every page is 'R' (the common case, found with one word-at-a-time scan:
 * nothing else need look at the states), 0 otherwise, or -EINTR.
 */
static int gupnw_scan_present(struct gupnw_walk *w, struct vm_area_struct *vma,
			      unsigned long addr, unsigned long n, u8 *st)
{
	unsigned long i, run;
	int ret;

	if (is_vm_hugetlb_page(vma))
		return gupnw_gup_present(w, vma, addr, n, st);

	if (gupnw_pte_scan(w->r->mm, addr, n, w->gup_flags & FOLL_WRITE, st))
		return 1;
	for (i = 0; i < n; i += run) {
		run = 1;
		if (st[i] != GUPNW_ASK)
			continue;
		while (i + run < n && st[i + run] == GUPNW_ASK)
			run++;
		ret = gupnw_gup_present(w, vma, addr + (i << PAGE_SHIFT), run,
					st + i);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * WAIT's fault of one page of @vma.  With GUP's @locked protocol, as READY's
 * (gupnw_fault_ready()):
 * the fault waits (for I/O, a userfaultfd monitor) killably and with
 * mmap_lock dropped, and a userfaultfd fault may wait at all (without
 * FAULT_FLAG_ALLOW_RETRY it is SIGBUS, and a stack dump on DEBUG_VM).  GUP
 * takes @locked only in get_user_pages_remote(), so our own mm goes that
 * way too (its faults still count in current->maj_flt).  If the lock was
 * dropped it is taken again, and the walk goes on only if @vma is still
 * the VMA at @addr, unchanged; else w->vma_changed ends the hold (or
 * w->unlocked, with -EINTR, when a fatal signal kept the lock from us).
 */
static long gupnw_fault_wait(struct gupnw_walk *w, struct vm_area_struct *vma,
			     unsigned long addr)
{
	unsigned long start = vma->vm_start, end = vma->vm_end;
	unsigned long pgoff = vma->vm_pgoff, flags = vma->vm_flags;
	struct file *file = vma->vm_file;
	struct mm_struct *mm = w->r->mm;
	int locked = 1;
	long got;

	got = gupnw_gup_remote_locked(mm, addr, 1, w->gup_flags, &locked);
	if (locked)
		return got;
	if (fatal_signal_pending(current) || mmap_read_lock_killable(mm)) {
		w->unlocked = true;
		return -EINTR;
	}
	/* compared, not dereferenced, unless it is the VMA found now */
	if (vma_lookup(mm, addr) != vma || vma->vm_start != start ||
	    vma->vm_end != end || vma->vm_pgoff != pgoff ||
	    vma->vm_flags != flags || vma->vm_file != file)
		w->vma_changed = true;
	return got;
}

/*
 * READY's faults of up to @n pages of @vma from @addr (@avail to the end of
 * the VMA or the range): the pages present after them are 'R', whether they
 * were faulted in or already there, and the first that cannot be is 'E'.
 * Blocking GUP with the @locked protocol, as KVM's async_pf_execute(): the
 * faults wait for their I/O with mmap_lock dropped, and the hold then ends
 * (w->unlocked).  FOLL_INTERRUPTIBLE (6.2+): an io_uring cancel or a group
 * stop ends a wait for a userfaultfd monitor, which may never come; on 6.1
 * only the present pages of a userfaultfd range are taken (FOLL_NOFAULT;
 * gupnw_walk_refused()).  Returns the pages decided, or -EINTR for a
 * signal (gupnw_walk_range() tells a cancel from a stop).
 */
static long gupnw_fault_ready(struct gupnw_walk *w, struct vm_area_struct *vma,
			      unsigned long addr, unsigned long n,
			      unsigned long avail, u8 *st)
{
	unsigned int flags = w->gup_flags | GUPNW_FOLL_INTERRUPTIBLE;
	int locked = 1;
	long got;

	if (!GUPNW_FOLL_INTERRUPTIBLE && userfaultfd_armed(vma))
		flags |= FOLL_NOFAULT;
	/* no read-around of megabytes behind a miss: gupnw_ready_read() */
	n = min(n, gupnw_ready_read(vma, addr, avail));
	got = gupnw_gup_remote_locked(w->r->mm, addr, n, flags, &locked);
	if (!locked)
		w->unlocked = true;
	if (got > 0) {
		memset(st, GUPNW_STATE_RESIDENT, got);
		return got;
	}
	if (got == -EINTR || fatal_signal_pending(current))
		return -EINTR;
	/* -EFAULT (SIGBUS: I/O error, past EOF), -ENOMEM, -EHWPOISON, ... */
	st[0] = GUPNW_STATE_ERROR;
	return 1;
}

/* Pass 2 for one absent page: 'F', 'W' or 'E', or -EINTR. */
static int gupnw_fault_one(struct gupnw_walk *w, struct vm_area_struct *vma,
			   unsigned long addr)
{
	unsigned long maj_flt = current->maj_flt;
	long got;

	if (gupnw_mode_waits(w->r->mode)) {
		got = gupnw_fault_wait(w, vma, addr);
	} else {
		got = gupnw_gup(w, addr, 1, FOLL_NOWAIT);
		if (got == 1)
			gupnw_put_pages(w, 1);
	}
	if (got == 1) {
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
 * NOWAIT's read fault of an absent page of a filemap_fault() mapping: the
 * fault alone, handle_mm_fault() with the flags GUP's faultin_page() gives
 * a FOLL_NOWAIT read (6.12 mm/gup.c:1181; FAULT_FLAG_REMOTE for another
 * mm), without GUP's page-table walks before and after it and the
 * reference taken and dropped: a cached file is mapped a fault-around
 * window per fault, and GUP's own work around each fault is what the walk
 * adds to the faults' cost (BENCHMARKS.md).  A fault that needed I/O
 * returns VM_FAULT_RETRY without waiting ('W') or, the read having finished
 * first, VM_FAULT_MAJOR ('W', as gupnw_fault_one() tells from maj_flt).
 * With FAULT_FLAG_RETRY_NOWAIT the fault never drops mmap_lock (GUP
 * WARNs on VM_FAULT_COMPLETED there).  What is not plainly mapped after it
 * - an error (SIGBUS past EOF, OOM, poison), or the page gone again - is
 * GUPNW_ABSENT: left to GUP (gupnw_fault_one()), which faults it again and
 * says what it is.
 */
static int gupnw_fault_file(struct gupnw_walk *w, struct vm_area_struct *vma,
			    unsigned long addr)
{
	unsigned int flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT;
	vm_fault_t ret;
	u8 s;

	if (fatal_signal_pending(current))	/* as GUP checks per page */
		return -EINTR;
	if (!w->local)
		flags |= FAULT_FLAG_REMOTE;
	ret = handle_mm_fault(vma, addr, flags, NULL);
	if (ret & (VM_FAULT_ERROR | VM_FAULT_COMPLETED))
		return GUPNW_ABSENT;
	if (ret & VM_FAULT_RETRY)	/* I/O started, not waited for */
		return GUPNW_STATE_RETRY;
	gupnw_pte_scan(w->r->mm, addr, 1, false, &s);
	if (s != GUPNW_STATE_RESIDENT)
		return GUPNW_ABSENT;
	return ret & VM_FAULT_MAJOR ? GUPNW_STATE_RETRY : GUPNW_STATE_FAULTED;
}

/*
 * NOFAULT: what touching a page that is not mapped would cost, looked up
 * without a reference, as mincore(2) looks (6.12 mm/mincore.c:52-70): 'E'
 * past the end of the file (SIGBUS; not for hugetlbfs, whose index is in
 * huge pages), 'C' out on swap or not in the page cache, 'W' in the page
 * cache but not up to date (a read in flight), 'N' otherwise (a fault
 * without I/O: a cache hit, a never-touched anonymous, shmem or hugetlb
 * page).  This is the answer for a page of @pc (GUPNW_PC_* flags).
 */
static u8 gupnw_predict_pc(bool shmem, unsigned int pc)
{
	if (shmem)		/* a hole: the fault allocates */
		return (pc & GUPNW_PC_VALUE) ? GUPNW_STATE_COLD :
					       GUPNW_STATE_NOTPRESENT;
	if (!(pc & GUPNW_PC_FOLIO))	/* a miss, or a shadow */
		return GUPNW_STATE_COLD;
	return (pc & GUPNW_PC_UPTODATE) ? GUPNW_STATE_NOTPRESENT :
					  GUPNW_STATE_RETRY;
}

/*
 * NOFAULT: a run of @n pages of a file VMA from @addr, all GUPNW_ABSENT,
 * decided with one walk of the page cache (gupnw_cache_scan()), which
 * writes each page's state from a table of the answers per GUPNW_PC_*.
 */
static void gupnw_predict_run(struct vm_area_struct *vma, unsigned long addr,
			      u8 *st, unsigned long n)
{
	struct address_space *mapping = vma->vm_file->f_mapping;
	pgoff_t index = linear_page_index(vma, addr);
	pgoff_t eof = gupnw_eof(mapping);
	bool shmem = shmem_mapping(mapping);
	unsigned long in = 0;
	u8 map[GUPNW_PC_MAP];
	unsigned int pc;

	if (index < eof)
		in = min_t(unsigned long, n, eof - index);
	memset(st + in, GUPNW_STATE_ERROR, n - in);	/* SIGBUS */
	if (!in)
		return;
	for (pc = 0; pc < GUPNW_PC_MAP; pc++)
		map[pc] = gupnw_predict_pc(shmem, pc);
	gupnw_cache_scan(mapping, index, in, map, st);
}

/*
 * NOFAULT after pass 1: a swap entry is 'C' - the page may sit in the swap
 * cache, but a module cannot look there (the swap cache is not exported);
 * a page mapped read-only that a WRITE probe would fault on is 'N', a
 * copy or a write-enable without I/O, whatever the file's cache holds.
 * An absent page of anonymous, hugetlb or DAX memory is 'N'; a run of
 * absent pages of a file, gupnw_predict_run().
 */
static void gupnw_predict(struct vm_area_struct *vma, unsigned long addr,
			  u8 *st, unsigned long n)
{
	bool file = vma->vm_file && !vma_is_anonymous(vma) &&
		    !is_vm_hugetlb_page(vma) && !vma_is_dax(vma);
	unsigned long i, k;
	u8 *next;

	for (i = 0; i < n; i++) {
		if (st[i] == GUPNW_SWAPPED) {
			st[i] = GUPNW_STATE_COLD;
		} else if (st[i] == GUPNW_RO_WRITE) {
			st[i] = GUPNW_STATE_NOTPRESENT;
		} else if (st[i] == GUPNW_ABSENT && !file) {
			st[i] = GUPNW_STATE_NOTPRESENT;
		} else if (st[i] == GUPNW_ABSENT) {
			next = memchr_inv(st + i, GUPNW_ABSENT, n - i);
			k = next ? next - (st + i) : n - i;
			gupnw_predict_run(vma, addr + (i << PAGE_SHIFT),
					  st + i, k);
			i += k - 1;
		}
	}
}

/*
 * After a file page was faulted in without I/O, fault-around has usually
 * mapped its cached neighbours too: take the following absent pages that
 * are now present in one page-table read, as 'F' (they were absent in
 * pass 1), instead of one GUP call each.  Returns how many.
 */
static unsigned long gupnw_take_faulted_around(struct gupnw_walk *w,
					       struct vm_area_struct *vma,
					       unsigned long addr, u8 *st,
					       unsigned long n)
{
	unsigned long max = min_t(unsigned long, n, GUPNW_BATCH_PAGES);
	unsigned long i = 0, j, k;

	if (!vma->vm_file || is_vm_hugetlb_page(vma))
		return 0;		/* anonymous faults map one page */
	/* a step at a time: the walk stops where fault-around stopped */
	while (i < max) {
		for (k = 0; i + k < max && k < GUPNW_AROUND_STEP &&
		     st[i + k] == GUPNW_ABSENT; k++)
			;
		if (!k)
			break;
		gupnw_pte_scan(w->r->mm, addr + (i << PAGE_SHIFT), k,
			       w->gup_flags & FOLL_WRITE, st + i);
		for (j = 0; j < k && st[i + j] == GUPNW_STATE_RESIDENT; j++)
			st[i + j] = GUPNW_STATE_FAULTED;
		if (j < k) {
			/* decided one by one, as before the fault */
			memset(st + i + j, GUPNW_ABSENT, k - j);
			return i + j;
		}
		i += k;
	}
	return i;
}

/* Decide @n pages of @vma into @st: 1 when all are 'R', 0, or -EINTR. */
static int gupnw_walk_vma(struct gupnw_walk *w, struct vm_area_struct *vma,
			  unsigned long addr, unsigned long n, u8 *st)
{
	unsigned long i, wait_io;
	bool file_read;
	int ret;

	ret = gupnw_scan_present(w, vma, addr, n, st);
	if (ret)			/* all 'R', or -EINTR */
		return ret;
	if (!gupnw_mode_faults(w->r->mode)) {
		gupnw_predict(vma, addr, st, n);
		return 0;
	}
	/* NOWAIT's reads of a file: the fault alone, gupnw_fault_file() */
	file_read = !gupnw_mode_waits(w->r->mode) && !w->r->write &&
		    vma->vm_ops && vma->vm_ops->fault == filemap_fault &&
		    !is_vm_hugetlb_page(vma) && !userfaultfd_armed(vma);

	for (i = 0, wait_io = 0; i < n; i++) {
		/* not mapped, a swap entry, a write fault on a mapped page */
		if (st[i] != GUPNW_ABSENT && st[i] != GUPNW_SWAPPED &&
		    st[i] != GUPNW_RO_WRITE)
			continue;
		if (!gupnw_mode_waits(w->r->mode)) {
			unsigned long k;

			k = gupnw_nowait_check(w->r, vma,
					       addr + (i << PAGE_SHIFT),
					       st + i, n - i);
			if (k) {
				i += k - 1;
				continue;
			}
		}
		/*
		 * WAIT: read the misses ourselves, see gupnw_wait_read();
		 * never for a swap entry or a mapped page, whose file page
		 * the fault does not read
		 */
		if (gupnw_mode_waits(w->r->mode) && !wait_io &&
		    st[i] == GUPNW_ABSENT)
			wait_io = gupnw_wait_read(w->r, vma,
						  addr + (i << PAGE_SHIFT),
						  st + i, n - i);
		ret = GUPNW_ABSENT;
		if (file_read && st[i] == GUPNW_ABSENT)
			ret = gupnw_fault_file(w, vma, addr + (i << PAGE_SHIFT));
		if (ret == GUPNW_ABSENT)
			ret = gupnw_fault_one(w, vma, addr + (i << PAGE_SHIFT));
		if (ret < 0)
			return ret;
		if (wait_io) {
			wait_io--;
			if (ret == GUPNW_STATE_FAULTED)	/* it needed our read */
				ret = GUPNW_STATE_RETRY;
		}
		st[i] = ret;
		if (w->vma_changed) {	/* @vma is not ours to use any more */
			w->cut = i + 1;
			return 0;
		}
		if (ret == GUPNW_STATE_FAULTED)
			i += gupnw_take_faulted_around(w, vma,
						       addr + ((i + 1) << PAGE_SHIFT),
						       st + i + 1, n - i - 1);
	}
	return 0;
}

/*
 * What GUP's check_vma_flags() would refuse for the whole VMA, decided once
 * here so that it reads 'E' (never 'R' or 'N') in every mode and costs
 * nothing per page: VM_IO/VM_PFNMAP, secretmem (vma_is_secretmem() is not
 * exported: its file system's magic says the same), no permission for the
 * access probed, a write to a shadow stack, and what the caller's protection
 * keys deny (only for its own mm: pkeys do not apply to a remote access,
 * which arch_vma_access_permitted() tells from vma->vm_mm).
 */
static bool gupnw_vma_refused(struct vm_area_struct *vma, bool write)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		return true;
	if (vma->vm_file &&
	    file_inode(vma->vm_file)->i_sb->s_magic == SECRETMEM_MAGIC)
		return true;
	if (!(vma->vm_flags & (write ? VM_WRITE : VM_READ)))
		return true;
	if (write && (vma->vm_flags & GUPNW_VM_SHADOW_STACK))
		return true;
	return !arch_vma_access_permitted(vma, write, false, false);
}

/*
 * A VMA answered 'E' whole: what GUP refuses (gupnw_vma_refused()), and
 * for READY on 6.1 (no FOLL_INTERRUPTIBLE) a userfaultfd range where
 * FOLL_NOFAULT is not honoured (hugetlb): its faults could not be
 * cancelled.
 */
static bool gupnw_walk_refused(struct gupnw_walk *w,
			       struct vm_area_struct *vma)
{
	if (gupnw_mode_ready(w->r->mode) && !GUPNW_FOLL_INTERRUPTIBLE &&
	    userfaultfd_armed(vma) && !gupnw_nofault_honoured(vma))
		return true;
	return gupnw_vma_refused(vma, w->r->write);
}

/*
 * A NOWORKER READY's pages of @vma from @addr, decided as a NOWAIT probe
 * decides them (gupnw_walk_vma()): the faults never wait, and the reads
 * of the pages not cached are started, GUPNW_READY_IO_PAGES a hold, so
 * that a cancel waits for no more.  What is present after it - resident,
 * or faulted without I/O - is 'R', 'E' stays 'E'; the walk stops at the
 * first page whose read is still under way ('W') or was not started
 * ('C'), and w->blocked says where, for the command to wait on it
 * (gupnw_ready.c).
 * READY counts no I/O: the budget is lent for the hold and given back.
 * Returns the pages decided before that one, or -EINTR.
 */
static long gupnw_ready_nowait(struct gupnw_walk *w,
			       struct vm_area_struct *vma, unsigned long addr,
			       unsigned long n, u8 *st)
{
	struct gupnw_range *r = w->r;
	unsigned long i;
	int ret;

	r->mode = GUPNW_MODE_NOWAIT;
	r->io_limit = GUPNW_READY_IO_PAGES;
	ret = gupnw_walk_vma(w, vma, addr, n, st);
	r->mode = GUPNW_MODE_READY;
	r->io_limit = 0;
	r->io_started = 0;
	r->async_faults = 0;
	if (ret < 0)
		return ret;
	if (ret) {			/* all resident */
		memset(st, GUPNW_STATE_RESIDENT, n);
		return n;
	}
	for (i = 0; i < n; i++) {
		if (st[i] == GUPNW_STATE_FAULTED) {
			st[i] = GUPNW_STATE_RESIDENT;
		} else if (st[i] == GUPNW_STATE_RETRY ||
			   st[i] == GUPNW_STATE_COLD) {
			w->blocked = addr + (i << PAGE_SHIFT);
			break;
		}
	}
	return i;
}

/* One mmap_lock hold: decide and stage from w->pos, bounded. */
static int gupnw_walk_hold(struct gupnw_walk *w, unsigned long budget)
{
	unsigned int vmas = GUPNW_HOLD_VMAS;
	long ret;

	while (w->pos < w->end && budget && vmas--) {
		struct vm_area_struct *vma = find_vma(w->r->mm, w->pos);
		struct gupnw_hide_mark mark;
		unsigned long stop, n;
		bool visible;
		u8 *st;

		/* a hole, or a VMA GUP refuses: one run whatever its size */
		if (!vma || vma->vm_start > w->pos) {
			stop = vma ? min(vma->vm_start, w->end) : w->end;
			if (!gupnw_out_span(&w->out, w->pos,
					    GUPNW_STATE_UNMAPPED,
					    (stop - w->pos) >> PAGE_SHIFT))
				break;
			w->pos = stop;
			continue;
		}
		stop = min(vma->vm_end, w->end);
		if (gupnw_walk_refused(w, vma)) {
			if (!gupnw_out_span(&w->out, w->pos, GUPNW_STATE_ERROR,
					    (stop - w->pos) >> PAGE_SHIFT))
				break;
			w->pos = stop;
			continue;
		}

		n = min3((stop - w->pos) >> PAGE_SHIFT, budget,
			 gupnw_out_room(&w->out));
		if (!n)
			break;
		st = gupnw_out_scratch(&w->out);
		if (w->r->noworker) {
			ret = gupnw_ready_nowait(w, vma, w->pos, n, st);
			if (ret < 0)
				return ret;
			gupnw_out_states(&w->out, w->pos, st, ret);
			w->pos += ret << PAGE_SHIFT;
			budget -= ret;
			if (w->blocked)
				break;
			continue;
		}
		if (gupnw_mode_ready(w->r->mode)) {
			ret = gupnw_fault_ready(w, vma, w->pos, n,
						(stop - w->pos) >> PAGE_SHIFT,
						st);
			if (ret < 0)
				return ret;
			gupnw_out_states(&w->out, w->pos, st, ret);
			w->pos += ret << PAGE_SHIFT;
			break;	/* a batch a hold: the stop check between */
		}
		visible = gupnw_cache_visible(vma);	/* before @vma may go */
		mark.io_started = w->r->io_started;
		mark.async_faults = w->r->async_faults;
		ret = gupnw_walk_vma(w, vma, w->pos, n, st);
		if (ret < 0)
			return ret;
		if (w->vma_changed)	/* decided before the VMA changed */
			n = w->cut;
		if (!visible) {
			gupnw_hide_cache(w->r, &mark, st, n);
			ret = 0;
		}
		if (ret)
			gupnw_out_same(&w->out, w->pos, GUPNW_STATE_RESIDENT, n);
		else
			gupnw_out_states(&w->out, w->pos, st, n);
		w->pos += n << PAGE_SHIFT;
		budget -= n;
		if (w->vma_changed)	/* the next hold finds it again */
			break;
	}
	return 0;
}

/*
 * The walk state and its arrays, sized to a range of @nr_pages: a page
 * pointer per page up to a GUP batch, a state byte per page up to a chunk,
 * and with @extents a run per page, one more (the run a flush keeps), up to
 * a batch.  No array is ever asked for more than the range's pages, and a
 * probe of a few pages zeroes a few hundred bytes instead of 8 KiB (kzalloc,
 * and init_on_alloc, which Debian's kernels turn on).
 */
static size_t gupnw_walk_size(unsigned long nr_pages, bool extents,
			      struct gupnw_walk *w)
{
	unsigned long pages = min_t(unsigned long, nr_pages, GUPNW_BATCH_PAGES);
	unsigned long ext = extents ? min_t(unsigned long, nr_pages,
					    GUPNW_EXTENT_BATCH - 1) + 1 : 0;
	unsigned long states = min_t(unsigned long, nr_pages, GUPNW_CHUNK_PAGES);

	if (w) {
		w->pages_cap = pages;
		w->out.ext = (struct gupnw_probe_extent *)&w->pages[pages];
		w->out.ext_cap = ext;
		w->out.states = (u8 *)&w->out.ext[ext];
		w->out.states_cap = states;
	}
	return struct_size(w, pages, pages) +
	       ext * sizeof(struct gupnw_probe_extent) + states;
}

/* Kernel memory one probe allocates at most: the walk state, nothing else. */
size_t gupnw_walk_kmem(void)
{
	return kmalloc_size_roundup(gupnw_walk_size(GUPNW_CHUNK_PAGES, true,
						    NULL));
}

/* Pages decided per mmap_lock hold: fewer where faults may wait. */
static unsigned long gupnw_hold_pages(const struct gupnw_range *r)
{
	if (r->noworker)		/* its faults never wait */
		return GUPNW_CHUNK_PAGES;
	switch (r->mode) {
	case GUPNW_MODE_WAIT:
		return GUPNW_WAIT_CHUNK_PAGES;
	case GUPNW_MODE_READY:
		return GUPNW_READY_BATCH;
	default:
		return GUPNW_CHUNK_PAGES;
	}
}

/**
 * gupnw_walk_stop - whether a probe must end now, between holds or copies
 * @r:	the probe
 *
 * A fatal signal ends every probe.  READY runs in an io_uring worker
 * (gupnw_uring.c), where io-wq's cancel - IORING_OP_ASYNC_CANCEL, a linked
 * timeout, the ring closed, the submitter exiting - sets TIF_NOTIFY_SIGNAL
 * on the worker and nothing else.  Not signal_pending(): a group stop or a
 * freezer sets TIF_SIGPENDING on io workers too, and is no cancel.  A
 * NOWORKER READY runs in the submitter, where TIF_NOTIFY_SIGNAL only
 * means task work is pending: its cancel is r->cancel (gupnw_ready.c).
 *
 * Return: -EINTR, -ECANCELED, or 0 to go on.
 */
int gupnw_walk_stop(const struct gupnw_range *r)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	if (r->noworker)
		return r->cancel && READ_ONCE(*r->cancel) ? -ECANCELED : 0;
	if (gupnw_mode_ready(r->mode) && test_thread_flag(TIF_NOTIFY_SIGNAL))
		return -ECANCELED;
	return 0;
}

/**
 * gupnw_walk_new - the state of a walk of a validated range
 * @r: the range; r->mm must be held (mmget) by the caller while it is used
 *
 * Return: the walk, for gupnw_walk_run() and gupnw_walk_free(), or NULL.
 */
struct gupnw_walk *gupnw_walk_new(struct gupnw_range *r)
{
	struct gupnw_walk *w;

	w = kzalloc(gupnw_walk_size(r->nr_pages, !!r->extents, NULL),
		    GFP_KERNEL_ACCOUNT);
	if (!w)
		return NULL;
	gupnw_walk_size(r->nr_pages, !!r->extents, w);
	w->r = r;
	w->out.r = r;
	w->local = r->mm == current->mm;
	w->gup_flags = r->write ? FOLL_WRITE : 0;
	w->pos = r->start;
	w->end = r->start + (r->nr_pages << PAGE_SHIFT);
	return w;
}

void gupnw_walk_free(struct gupnw_walk *w)
{
	kfree(w);
}

/* Where a NOWORKER READY's walk stopped (GUPNW_WALK_BLOCKED). */
unsigned long gupnw_walk_blocked(const struct gupnw_walk *w)
{
	return w->blocked;
}

/**
 * gupnw_walk_run - decide the state of every page of the walk's range
 * @w: the walk (gupnw_walk_new()), from where it stopped
 *
 * Return: 0 with r->done == r->nr_pages (or fewer with GUPNW_PROBE_EXTENTS
 * when the caller's array filled), or -EINTR (fatal signal), -EFAULT (the
 * caller's buffer), -ENOMEM, and for READY -ECANCELED (gupnw_walk_stop())
 * or -ESRCH (the target exited), with r->done, r->counts and r->nr_extents
 * covering what was copied out before the failure.  A NOWORKER READY may
 * also stop at a page being read: GUPNW_WALK_BLOCKED, gupnw_walk_blocked()
 * says which; everything before it is copied out, and a later call goes
 * on from that page.  With r->max_holds it stops after that many holds:
 * GUPNW_WALK_PAUSED, and a later call goes on.
 */
int gupnw_walk_run(struct gupnw_walk *w)
{
	struct gupnw_range *r = w->r;
	unsigned long budget = gupnw_hold_pages(r);
	bool ready = gupnw_mode_ready(r->mode);
	unsigned int holds = 0;
	int ret = 0, err;

	w->blocked = 0;
	while (w->pos < w->end) {
		unsigned long from = w->pos;

		if (r->max_holds && holds++ == r->max_holds)
			return GUPNW_WALK_PAUSED;

		ret = gupnw_walk_stop(r);
		if (ret)
			break;
		/* READY: only our mmget() left, the target process has gone */
		if (ready && atomic_read(&r->mm->mm_users) <= 1) {
			ret = -ESRCH;
			break;
		}
		ret = mmap_read_lock_killable(r->mm);
		if (ret)
			break;
		ret = gupnw_walk_hold(w, budget);
		if (!w->unlocked)
			mmap_read_unlock(r->mm);
		w->unlocked = false;
		w->vma_changed = false;

		/* what was decided before a failure is still reported */
		err = gupnw_out_flush(&w->out);
		ret = ret ?: err;
		if (ready && !r->noworker && ret == -EINTR &&
		    !fatal_signal_pending(current)) {
			ret = gupnw_walk_stop(r);
			if (ret)	/* a cancel interrupted a fault */
				break;
			/*
			 * A group stop or a freeze interrupted a fault; this
			 * worker takes it only once the command ends, and an
			 * interruptible fault returns at once until then:
			 * look again a little later.
			 */
			schedule_timeout_killable(GUPNW_READY_STOP_POLL);
			continue;
		}
		if (!ret && w->blocked)
			return GUPNW_WALK_BLOCKED;
		if (ret || w->pos == from)	/* failed, or extents full */
			break;
		cond_resched();
	}
	return ret;
}

/**
 * gupnw_walk_range - decide the state of every page of a validated range
 * @r: the range; r->mm must be held (mmget) by the caller
 *
 * Return: as gupnw_walk_run(), never GUPNW_WALK_BLOCKED nor
 * GUPNW_WALK_PAUSED (@r is not a NOWORKER READY), or -ENOMEM.
 */
int gupnw_walk_range(struct gupnw_range *r)
{
	struct gupnw_walk *w = gupnw_walk_new(r);
	int ret;

	if (!w)
		return -ENOMEM;
	ret = gupnw_walk_run(w);
	gupnw_walk_free(w);
	return ret;
}
