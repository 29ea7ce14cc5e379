// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: which pages of a range are mapped now, read from the page tables
 * themselves, taking no page reference.
 *
 * GUP-fast takes and drops a reference on every page it returns (and marks
 * it referenced): about ten times what mincore(2) pays per 4 KiB page.  To
 * learn presence, the page-table entry is enough.  We read it as GUP-fast
 * does (6.12 mm/gup.c:2935-3388, gup_fast_pte_range() and up; 6.1
 * mm/gup.c:2449-2988), under the same contract:
 *
 *  - IRQs are off while a page-table page is read: page tables are freed
 *    only after an IPI or an RCU grace period (MMU_GATHER_RCU_TABLE_FREE),
 *    neither of which can complete on this CPU meanwhile.  One stretch
 *    covers at most one PMD (512 entries).
 *  - Each level is read once into a local; the PTEs are found from the local
 *    pmd copy; after the PTE loop the pmd is read again, and if it changed
 *    (THP collapse, page-table reclaim, munmap) the whole PMD is "ask GUP".
 *  - Another process's mm is walked only with its mmap_lock held and inside
 *    a VMA found under it (mmap_read_lock alone does not keep PTE tables
 *    alive on 6.12: khugepaged's retract_page_tables()).  hugetlb VMAs are
 *    never walked here (the caller hands them to GUP).
 *
 * Nothing is dereferenced but the page tables: no struct page is touched,
 * so a stale value is only a stale answer.  What is unusual - a NUMA-hinting
 * (PROT_NONE) entry, a special entry other than the zero page, a non-swap
 * entry (migration, device, marker, poison), a PUD leaf, a PMD being split -
 * is GUPNW_ASK: the caller asks GUP about that page as before.
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/swap.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/*
 * A swap entry of a real swap device (not migration, device, hwpoison or a
 * PTE marker, whose types lie at MAX_SWAPFILES and above).  Read with the
 * arch's own encoding: is_swap_pte() and pte_to_swp_entry() are gone in 7.x
 * (softleaf_from_pte(), include/linux/leafops.h), __swp_type() is the same
 * on every line we build for (6.12 arch/x86/include/asm/pgtable_64.h:225).
 */
static bool gupnw_pte_swapped(pte_t pte)
{
	return __swp_type(__pte_to_swp_entry(pte)) < MAX_SWAPFILES;
}

/*
 * The common case - a present, ordinary entry (writable, for WRITE) - in
 * one test of the raw value, with the masks in registers: through the
 * generic helpers every entry reloads physical_mask (pte_flags()) after
 * each state byte stored, which made the loop 1.3x mincore's under TCG.
 * A present entry is never PROT_NONE on x86 (6.12
 * arch/x86/include/asm/pgtable.h pte_protnone()).
 */
static pteval_t gupnw_pte_fast_mask(bool write)
{
#ifdef CONFIG_X86
	return _PAGE_PRESENT | _PAGE_SPECIAL | (write ? _PAGE_RW : 0);
#else
	return 0;
#endif
}

static pteval_t gupnw_pte_fast_want(bool write)
{
#ifdef CONFIG_X86
	return _PAGE_PRESENT | (write ? _PAGE_RW : 0);
#else
	return 1;	/* never matches: the generic path */
#endif
}

/* Eight 'R' state bytes in one word. */
#define GUPNW_R8	(0x0101010101010101ULL * GUPNW_STATE_RESIDENT)

static u8 gupnw_pte_state(pte_t pte, bool write)
{
	if (pte_none(pte))
		return GUPNW_ABSENT;
	if (!pte_present(pte))
		return gupnw_pte_swapped(pte) ? GUPNW_SWAPPED : GUPNW_ASK;
	if (pte_protnone(pte))
		return GUPNW_ASK;
	/* the zero page is what a NOFAULT GUP returns: 'R' */
	if (pte_special(pte) && !is_zero_pfn(pte_pfn(pte)))
		return GUPNW_ASK;
	if (write && !pte_write(pte))
		return GUPNW_RO_WRITE;	/* a write would fault (COW, ...) */
	return GUPNW_STATE_RESIDENT;
}

/*
 * An entry's raw value, for the fast test's flag bits only.  With
 * PARAVIRT_XXL pte_val() is a paravirt call, patched at load but still
 * instructions per entry; the flags read the same in Xen's form.
 */
static pteval_t gupnw_pte_bits(pte_t pte)
{
#ifdef CONFIG_X86
	return native_pte_val(pte);
#else
	return pte_val(pte);
#endif
}

static pteval_t gupnw_pte_raw(pte_t *ptep)
{
	return gupnw_pte_bits(ptep_get_lockless(ptep));
}

/* Take one entry into the AND and the OR of gupnw_pte_fast8(). */
static void gupnw_pte_acc(pte_t *ptep, pteval_t *and, pteval_t *or)
{
	pteval_t v = gupnw_pte_raw(ptep);

	*and &= v;
	*or |= v;
	/* folded now, not all eight reads first and spilled */
	OPTIMIZER_HIDE_VAR(*and);
	OPTIMIZER_HIDE_VAR(*or);
}

/*
 * Whether the 8 entries at @ptep all pass the fast test (see
 * gupnw_pte_fast_mask()): the bits that must be set are set in all of
 * them (their AND), the one that must be clear is clear in all (their
 * OR).  Unrolled, each entry folded in as it is read: under QEMU's TCG a
 * pass of a loop is a translation block run, and a register spilled to
 * the stack a memory access, each costing about an entry's read.  Each
 * entry is read once here; the caller reads a group that fails again,
 * entry by entry.
 */
static bool gupnw_pte_fast8(pte_t *ptep, pteval_t mask, pteval_t want)
{
	pteval_t and = ~(pteval_t)0, or = 0;

	gupnw_pte_acc(ptep, &and, &or);
	gupnw_pte_acc(ptep + 1, &and, &or);
	gupnw_pte_acc(ptep + 2, &and, &or);
	gupnw_pte_acc(ptep + 3, &and, &or);
	gupnw_pte_acc(ptep + 4, &and, &or);
	gupnw_pte_acc(ptep + 5, &and, &or);
	gupnw_pte_acc(ptep + 6, &and, &or);
	gupnw_pte_acc(ptep + 7, &and, &or);
	/* no fast test (mask 0, want 1): never */
	return ((and & mask & want) | (or & (mask & ~want))) == want;
}

/* A PMD leaf (THP, huge zero page): one answer for its pages. */
static u8 gupnw_pmd_leaf_state(pmd_t pmd, bool write)
{
	/* PROT_NONE, or invalidated while being split (6.12 pmdp_invalidate()) */
	if (pmd_protnone(pmd) || !pmd_access_permitted(pmd, false))
		return GUPNW_ASK;
	if (write && !pmd_write(pmd))
		return GUPNW_RO_WRITE;
	return GUPNW_STATE_RESIDENT;
}

/*
 * Fill st[0..n) for the pages from @addr on, all under one PMD; IRQs off.
 * Mirrors gup_fast_pgd_range() and below (6.12 mm/gup.c:3036-3388).
 * Returns true when every page is 'R'.
 */
static bool gupnw_pte_scan_pmd(struct mm_struct *mm, unsigned long addr,
			       unsigned long n, bool write, u8 *st)
{
	const pteval_t fast_mask = gupnw_pte_fast_mask(write);
	const pteval_t fast_want = gupnw_pte_fast_want(write);
	unsigned long i;
	u8 s, other = 0;
	pgd_t *pgdp, pgd;
	p4d_t *p4dp, p4d;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;
	pte_t *ptep;

	pgdp = pgd_offset(mm, addr);
	pgd = READ_ONCE(*pgdp);
	if (pgd_none(pgd))
		goto absent;
	if (pgd_leaf(pgd))
		goto ask;
	p4dp = p4d_offset_lockless(pgdp, pgd, addr);
	p4d = READ_ONCE(*p4dp);
	if (!p4d_present(p4d))
		goto absent;
	if (p4d_leaf(p4d))
		goto ask;
	pudp = pud_offset_lockless(p4dp, p4d, addr);
	pud = READ_ONCE(*pudp);
	if (!pud_present(pud))
		goto absent;
	if (pud_leaf(pud))
		goto ask;
	pmdp = pmd_offset_lockless(pudp, pud, addr);
	/* pmdp_get_lockless() is missing on 6.1; a pmd is one word on x86_64 */
	pmd = READ_ONCE(*pmdp);
	if (pmd_none(pmd))
		goto absent;
	if (!pmd_present(pmd))
		goto ask;		/* a THP migration entry */
	if (pmd_leaf(pmd)) {
		s = gupnw_pmd_leaf_state(pmd, write);
		gupnw_fill(st, s, n);
		return s == GUPNW_STATE_RESIDENT;
	}

	ptep = pte_offset_kernel(&pmd, addr);
	for (i = 0; i < n; i++) {
		pte_t pte;

		/* eight ordinary entries: one word of 'R' */
		if (!(i & 7) && i + 8 <= n &&
		    likely(gupnw_pte_fast8(ptep + i, fast_mask, fast_want))) {
			put_unaligned(GUPNW_R8, (u64 *)(st + i));
			i += 7;
			continue;
		}
		pte = ptep_get_lockless(ptep + i);

		if (likely((gupnw_pte_bits(pte) & fast_mask) == fast_want)) {
			st[i] = GUPNW_STATE_RESIDENT;
			continue;
		}
		s = gupnw_pte_state(pte, write);
		st[i] = s;
		other |= s ^ GUPNW_STATE_RESIDENT;
	}
	/* the table may have been freed or replaced while we read it */
	if (unlikely(pmd_val(pmd) != pmd_val(READ_ONCE(*pmdp))))
		goto ask;
	return !other;
absent:
	gupnw_fill(st, GUPNW_ABSENT, n);
	return false;
ask:
	gupnw_fill(st, GUPNW_ASK, n);
	return false;
}

/**
 * gupnw_pte_scan - what the page tables say about each page of a range
 * @mm:		the address space; the caller holds its mmap_lock, and one
 *		VMA, not hugetlb, holds all of [@addr, @addr + @n pages)
 * @addr:	first page
 * @n:		pages
 * @write:	whether a write access is probed (needs a writable entry)
 * @st:		out: per page GUPNW_STATE_RESIDENT, GUPNW_ABSENT (nothing
 *		mapped), GUPNW_SWAPPED (a swap entry), GUPNW_RO_WRITE (mapped
 *		read-only and @write: a write would fault) or GUPNW_ASK (ask
 *		GUP)
 *
 * Return: true when every page is GUPNW_STATE_RESIDENT (the common case:
 * the caller need not look at the states again).
 */
bool gupnw_pte_scan(struct mm_struct *mm, unsigned long addr, unsigned long n,
		    bool write, u8 *st)
{
	unsigned long end = addr + (n << PAGE_SHIFT);
	unsigned long flags;
	bool all = true;

	while (addr < end) {
		unsigned long next = pmd_addr_end(addr, end);
		unsigned long k = (next - addr) >> PAGE_SHIFT;

		local_irq_save(flags);
		all &= gupnw_pte_scan_pmd(mm, addr, k, write, st);
		local_irq_restore(flags);
		st += k;
		addr = next;
	}
	return all;
}
