// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: the three forms a probe's answer takes on its way out.
 *
 * The walker (gupnw_walk.c) decides pages under mmap_lock and hands them
 * here; they are staged in the kernel and copied to the caller by
 * gupnw_out_flush() after the lock is dropped (a fault on the caller's
 * buffer must not happen under mmap_lock):
 *  - bytes, one state per page (the caller's @states), a chunk at a time;
 *  - extents (GUPNW_PROBE_EXTENTS), runs of one state, merged across holds;
 *  - the long tail: in byte mode, a hole or refused VMA too long to stage
 *    is written straight out by the flush, a buffer at a time, so that one
 *    hold never decides more than it can stage.
 * Counts-only probes (no @states) stage only the counts.
 */
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/*
 * @n bytes of @s from @st, a word at a time: memset() is "rep stosb" on
 * CPUs with ERMS/FSRS, and QEMU's TCG executes a string instruction one
 * iteration at a time, as slow per byte as a loop iteration per page.
 */
void gupnw_fill(u8 *st, u8 s, unsigned long n)
{
	const u64 word = 0x0101010101010101ULL * s;
	unsigned long i = 0;

	for (; i + 8 <= n; i += 8) {
		put_unaligned(word, (u64 *)(st + i));
		barrier();	/* not turned back into memset() */
	}
	for (; i < n; i++)
		st[i] = s;
}

/*
 * copy_to_user() of @n state bytes, a word at a time: it is "rep movsb" on
 * CPUs with FSRM/ERMS, which QEMU's TCG executes an iteration at a time -
 * a cost per byte, so per page, as large as the page-table read itself.
 */
static int gupnw_put_states(u8 __user *to, const u8 *from, unsigned long n)
{
	unsigned long i = 0;

	if (!user_access_begin(to, n))
		return -EFAULT;
	for (; i < n && ((unsigned long)(to + i) & 7); i++)
		unsafe_put_user(from[i], to + i, efault);
	for (; i + 8 <= n; i += 8)
		unsafe_put_user(get_unaligned((const u64 *)(from + i)),
				(u64 __user *)(to + i), efault);
	for (; i < n; i++)
		unsafe_put_user(from[i], to + i, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
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

static bool gupnw_extent_mode(const struct gupnw_out *o)
{
	return o->r->extents;
}

/* Pages in arbitrary states that can be staged now. */
unsigned long gupnw_out_room(const struct gupnw_out *o)
{
	const struct gupnw_range *r = o->r;

	if (o->tail_pages)		/* nothing goes before the tail */
		return 0;
	if (gupnw_extent_mode(o)) {
		u32 cap = min_t(u32, r->max_extents - o->ext_base, o->ext_cap);

		/* worst case, every page starts a new run */
		return cap > o->nr_ext ? cap - o->nr_ext : 0;
	}
	if (r->states)
		return o->states_cap - o->nr_staged;
	return ULONG_MAX;		/* counts only */
}

/* Whether a run of @state at @addr continues the last staged extent. */
static bool gupnw_extends_last(const struct gupnw_out *o, unsigned long addr,
			       u8 state)
{
	const struct gupnw_probe_extent *e;

	if (!o->nr_ext)
		return false;
	e = &o->ext[o->nr_ext - 1];
	return e->state == state &&
	       e->start + (e->nr_pages << PAGE_SHIFT) == addr;
}

/* Stage @n pages of @state at @addr; the caller made sure there is room. */
static void gupnw_stage_run(struct gupnw_out *o, unsigned long addr,
			    u8 state, unsigned long n)
{
	o->staged_counts[gupnw_state_idx(state)] += n;
	o->staged_pages += n;

	if (gupnw_extent_mode(o)) {
		struct gupnw_probe_extent *e;

		if (gupnw_extends_last(o, addr, state)) {
			o->ext[o->nr_ext - 1].nr_pages += n;
			return;
		}
		e = &o->ext[o->nr_ext++];
		e->start = addr;
		e->nr_pages = n;
		e->state = state;
		e->reserved = 0;
	} else if (o->r->states) {
		gupnw_fill(o->states + o->nr_staged, state, n);
		o->nr_staged += n;
	}
}

/*
 * Where the walker decides up to gupnw_out_room() pages: in byte mode in
 * place, so that gupnw_out_states() finds them staged already.
 */
u8 *gupnw_out_scratch(struct gupnw_out *o)
{
	if (o->r->states && !gupnw_extent_mode(o))
		return o->states + o->nr_staged;
	return o->states;
}

/*
 * Stage the per-page states @st of the @n pages at @addr, as runs (found a
 * word at a time).  In byte mode @st is the scratch of gupnw_out_scratch():
 * the bytes are in place already, only the counts are taken.
 */
void gupnw_out_states(struct gupnw_out *o, unsigned long addr, const u8 *st,
		      unsigned long n)
{
	bool in_place = o->r->states && !gupnw_extent_mode(o);
	unsigned long i, run;

	for (i = 0; i < n; i += run) {
		const u8 *next = memchr_inv(st + i, st[i], n - i);

		run = next ? next - (st + i) : n - i;
		if (in_place) {
			o->staged_counts[gupnw_state_idx(st[i])] += run;
			o->staged_pages += run;
			o->nr_staged += run;
		} else {
			gupnw_stage_run(o, addr + (i << PAGE_SHIFT), st[i],
					run);
		}
	}
}

/* The same, when the walker knows all @n pages are @state. */
void gupnw_out_same(struct gupnw_out *o, unsigned long addr, u8 state,
		    unsigned long n)
{
	if (o->r->states && !gupnw_extent_mode(o)) {
		o->staged_counts[gupnw_state_idx(state)] += n;
		o->staged_pages += n;
		o->nr_staged += n;
	} else {
		gupnw_stage_run(o, addr, state, n);
	}
}

/*
 * Stage a hole or a refused VMA: @n pages of one @state.  In byte mode what
 * does not fit becomes the tail, written by the flush without the lock (the
 * hold ends then: gupnw_out_room() is 0 until the flush).  Returns false
 * when nothing was staged (extents full, or a tail pending): the pages are
 * left for the next hold.
 */
bool gupnw_out_span(struct gupnw_out *o, unsigned long addr, u8 state,
		    unsigned long n)
{
	unsigned long take = n;

	if (o->tail_pages)
		return false;
	if (gupnw_extent_mode(o)) {
		if (!gupnw_out_room(o) && !gupnw_extends_last(o, addr, state))
			return false;
	} else if (o->r->states) {
		take = min(n, gupnw_out_room(o));
		o->tail_state = state;
		o->tail_pages = n - take;
	}
	gupnw_stage_run(o, addr, state, take);
	return true;
}

/*
 * Write out a pending tail run, a staging buffer at a time: a hole of 2^31
 * pages is 2^21 copies, with a reschedule and gupnw_walk_stop() between.
 */
static int gupnw_flush_tail(struct gupnw_out *o)
{
	struct gupnw_range *r = o->r;
	int ret;

	gupnw_fill(o->states, o->tail_state, o->states_cap);
	while (o->tail_pages) {
		unsigned long n = min(o->tail_pages, o->states_cap);

		if (gupnw_put_states(r->states + r->done, o->states, n))
			return -EFAULT;
		r->done += n;
		r->counts[gupnw_state_idx(o->tail_state)] += n;
		o->tail_pages -= n;
		ret = gupnw_walk_stop(r);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

/* Copy out what the last hold staged; mmap_lock not held. */
int gupnw_out_flush(struct gupnw_out *o)
{
	struct gupnw_range *r = o->r;
	int i;

	if (gupnw_extent_mode(o) && o->nr_ext) {
		if (copy_to_user(r->extents + o->ext_base, o->ext,
				 o->nr_ext * sizeof(o->ext[0])))
			return -EFAULT;
		r->nr_extents = o->ext_base + o->nr_ext;
		/* the last run may go on in the next hold: rewrite it then */
		o->ext_base += o->nr_ext - 1;
		o->ext[0] = o->ext[o->nr_ext - 1];
		o->nr_ext = 1;
	} else if (r->states && o->nr_staged) {
		if (gupnw_put_states(r->states + r->done, o->states,
				     o->nr_staged))
			return -EFAULT;
		o->nr_staged = 0;
	}

	r->done += o->staged_pages;
	o->staged_pages = 0;
	for (i = 0; i < ARRAY_SIZE(o->staged_counts); i++) {
		r->counts[i] += o->staged_counts[i];
		o->staged_counts[i] = 0;
	}
	return o->tail_pages ? gupnw_flush_tail(o) : 0;
}
