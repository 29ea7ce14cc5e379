// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: what a probe may reveal about the page cache.
 *
 * mincore(2) since Linux 5.2 (can_do_mincore()) and cachestat(2) do not tell
 * a caller which pages of a file are cached unless it could open the file
 * for writing, owns it, or is privileged: a precise, non-destructive view of
 * a shared file's cache is a side channel ("page cache attacks").  A probe
 * would reopen it twice over: 'F' against 'W' is a cache hit against a miss,
 * and even 'R' against 'N' leaks, because fault-around maps the cached
 * neighbours of every page touched.
 *
 * So for a mapping of such a file every page gets the same answer, decided
 * by the mode alone (errors such as SIGBUS past EOF stay 'E', the file size
 * being public):
 *   NOFAULT  'R' - what mincore(2) reports there ("resident").
 *   NOWAIT   'W' - the faults are still taken and any I/O still started, but
 *                  the caller is only told that a page may need I/O; a
 *                  scheduler that parks on 'W' stays correct, never blocked.
 *   WAIT     'F' - every page was faulted in and waited for.
 */
#include <linux/fs.h>
#include <linux/mm.h>

#include "gupnw_compat.h"
#include "gupnw_internal.h"

/* Mirrors can_do_mincore(): current's credentials against the file. */
bool gupnw_cache_visible(struct vm_area_struct *vma)
{
	struct file *file = vma->vm_file;

	if (vma_is_anonymous(vma))
		return true;
	if (!file)
		return false;
	return inode_owner_or_capable(gupnw_file_idmap(file),
				      file_inode(file)) ||
	       inode_permission(gupnw_file_idmap(file), file_inode(file),
				MAY_WRITE) == 0;
}

/**
 * gupnw_hide_cache - give a hidden mapping's pages the mode's answer
 * @r:		the probe; its counts grew while the pages were walked
 * @mark:	its counts before
 * @st:		the pages' states
 * @n:		entries of @st
 *
 * The counts would tell a hit from a miss as well as the states do: a
 * cached page starts no read and queues no fault-in, a cold one does.  So
 * they too say what the answer says, whatever was done: NOWAIT and WAIT
 * count every page of the run but the 'E' ones as a read started (up to
 * what was left of the probe's one budget before the run,
 * gupnw_io_budget()), none as handed to the fault-in worker; NOFAULT
 * starts nothing.  No page is read or queued twice, so the counts stay at
 * least what the run really used of the budget, which still bounds the
 * probe's I/O.
 */
void gupnw_hide_cache(struct gupnw_range *r,
		      const struct gupnw_hide_mark *mark, u8 *st,
		      unsigned long n)
{
	u8 answer = GUPNW_STATE_RETRY;
	unsigned long i, pages = 0;

	if (!gupnw_mode_faults(r->mode))
		answer = GUPNW_STATE_RESIDENT;
	else if (gupnw_mode_waits(r->mode))
		answer = GUPNW_STATE_FAULTED;

	for (i = 0; i < n; i++) {
		if (st[i] != GUPNW_STATE_ERROR) {
			st[i] = answer;
			pages++;
		}
	}

	if (!gupnw_mode_faults(r->mode))
		return;
	r->io_started = mark->io_started;
	r->async_faults = mark->async_faults;
	r->io_started += min(pages, gupnw_io_budget(r));
}
