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

/* Replace the states of a hidden mapping's pages by the mode's answer. */
void gupnw_hide_cache(u8 *st, unsigned long n, unsigned int flags)
{
	u8 answer = GUPNW_STATE_RETRY;
	unsigned long i;

	if (flags & GUPNW_PROBE_NOFAULT)
		answer = GUPNW_STATE_RESIDENT;
	else if (flags & GUPNW_PROBE_WAIT)
		answer = GUPNW_STATE_FAULTED;

	for (i = 0; i < n; i++)
		if (st[i] != GUPNW_STATE_ERROR)
			st[i] = answer;
}
