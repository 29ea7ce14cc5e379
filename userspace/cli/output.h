/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gupnw tool: human and JSON reports of a probe. */
#ifndef GUPNW_CLI_OUTPUT_H
#define GUPNW_CLI_OUTPUT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "gupnw.h"

#define MAP_MAX_CELLS	4096

/* What was probed, as the user asked for it, and what was found. */
struct probe_report {
	const char *file;		/* the path; NULL in pid mode */
	pid_t pid;			/* pid mode */
	uint64_t start;			/* OFFSET or ADDR, as given */
	uint64_t length;		/* bytes from start */
	uint64_t pages;			/* pages covering the range */
	unsigned int page_size;
	unsigned int flags;		/* GUPNW_WRITE | GUPNW_NOFAULT | ... */
	struct gupnw_counts counts;
};

/* The six states and '?' for a byte that is none of them. */
#define NR_STATES	7

/*
 * The human map: @npages pages summed up in @ncells cells, fed in page
 * order a window at a time, so a huge range needs no per-page array.
 */
struct state_map {
	uint64_t npages;
	unsigned int ncells;
	uint64_t pos;			/* pages added so far */
	unsigned int cell;		/* the cell page @pos falls in */
	uint64_t cell_end;		/* first page of the next cell */
	uint64_t (*tally)[NR_STATES];	/* per cell, pages in each state */
};

/*
 * Cells: at most @width (and MAP_MAX_CELLS), at most one per page.
 * 0, or -1 with errno.
 */
int map_init(struct state_map *m, uint64_t npages, unsigned int width);
void map_add(struct state_map *m, const unsigned char *states, size_t n);
/* @out gets m->ncells letters and a NUL. */
void map_render(const struct state_map *m, char *out);
void map_free(struct state_map *m);

void print_human(FILE *f, const struct probe_report *r,
		 const struct state_map *m);
/* @states: one byte per page, r->pages of them. */
void print_json(FILE *f, const struct probe_report *r,
		const unsigned char *states);
/* @s as a JSON string: escaped, invalid UTF-8 replaced by U+FFFD. */
void print_json_string(FILE *f, const char *s);

#endif /* GUPNW_CLI_OUTPUT_H */
