/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gupnw tool: what a subcommand probes (a mapping of FILE, or a range of
 * process PID or of the tool itself) and probing it a window at a time.
 */
#ifndef GUPNW_CLI_TARGET_H
#define GUPNW_CLI_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gupnw.h"

#include "output.h"

/* Pages per call of probe_windows(): bounds prefetch's states buffer. */
#define WINDOW_PAGES	16384

/* The range to probe, once resolved to whole pages. */
struct target {
	uint64_t addr;			/* first page, in the target's mm */
	uint64_t pages;
	unsigned int page_size;
	int mem_fd;			/* /proc/PID/mem, or -1: our own mm */
	void *mapping;			/* file mode: our mapping, or NULL */
	size_t map_len;
};

#define TARGET_INIT	{ .mem_fd = -1 }

/*
 * Map r->file, from r->start for r->length bytes (to the end of the file
 * unless @has_length, and never past it); sets r->length and r->pages.  EXIT_OK, or
 * EXIT_FAILED once the error is printed.
 */
int target_open_file(struct target *t, struct probe_report *r,
		     bool has_length);
/*
 * Open the memory of r->pid for [r->start, r->start + r->length); the
 * pages are set by target_clip().
 */
int target_open_pid(struct target *t, struct probe_report *r);
/*
 * Pid mode: the pages of [r->start, r->start + r->length), the length cut
 * at the end of user space (r->clipped); a start past that end is refused.
 * EXIT_OK, or EXIT_FAILED once the error is printed.
 */
int target_clip(struct gupnw *g, struct target *t, struct probe_report *r);
/* r->file ? target_open_file() : target_open_pid() */
int target_open(struct target *t, struct probe_report *r, bool has_length);
/* Pages [@addr, @addr + @pages) of @mem_fd's process, or ours if -1. */
void target_set(struct target *t, int mem_fd, uint64_t addr, uint64_t pages,
		unsigned int page_size);
void target_close(struct target *t);

/*
 * Called after each window: its first page (counted from the target's
 * first), its pages, their states (NULL unless asked for) and counts.
 * 0, or -1 with errno to stop the walk.
 */
typedef int window_fn(void *arg, uint64_t first, size_t n,
		      const unsigned char *states,
		      const struct gupnw_counts *c);

struct window_walk {
	unsigned int flags;		/* GUPNW_* of each probe */
	bool window_states;		/* a window's states for @fn */
	bool progress;			/* a bar on a terminal if long */
	window_fn *fn;			/* or NULL */
	void *arg;
};

/*
 * Probe pages [@first, @first + @pages) of @t a window at a time, adding
 * the counts to @sum.  0, or -1 with errno.
 */
int probe_windows(struct gupnw *g, const struct target *t, uint64_t first,
		  uint64_t pages, const struct window_walk *w,
		  struct gupnw_counts *sum);

/* Extents per call: bounds the buffer whatever the size of the range. */
#define RUN_EXTENTS	4096

/*
 * Called for each run of pages in one state, in page order: its first page
 * (counted from the target's first) and its length.  0, or -1 with errno
 * to stop the walk.
 */
typedef int run_fn(void *arg, uint64_t first, uint64_t n,
		   unsigned char state);

struct run_walk {
	unsigned int flags;		/* GUPNW_* of each probe */
	bool progress;			/* a bar on a terminal if long */
	run_fn *fn;			/* or NULL: counts only */
	void *arg;
};

/*
 * Probe pages [0, t->pages) of @t as runs (GUPNW_PROBE_EXTENTS): the cost
 * and the memory follow what is mapped, not the size of the range, so a
 * whole address space is a few calls.  Adds the counts to @sum.  0, or -1
 * with errno.
 */
int probe_runs(struct gupnw *g, const struct target *t,
	       const struct run_walk *w, struct gupnw_counts *sum);

#endif /* GUPNW_CLI_TARGET_H */
