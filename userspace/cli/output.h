/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gupnw tool: human and JSON reports of a probe. */
#ifndef GUPNW_CLI_OUTPUT_H
#define GUPNW_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "gupnw.h"

#define MAP_MAX_CELLS	4096

/* What was probed, as the user asked for it, and what was found. */
struct probe_report {
	const char *file;		/* the path; NULL in pid mode */
	const char *name;		/* a table line's name, if not file */
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
	bool color;			/* print each state in its colour */
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

/* sum += c */
void counts_add(struct gupnw_counts *sum, const struct gupnw_counts *c);

/*
 * Room in *@v (*@cap elements of @size bytes, @n used) for one more,
 * doubling it.  0, or -1 with ENOMEM.
 */
int grow_array(void **v, size_t *cap, size_t n, size_t size);

/*
 * Runs of pages in one state, fed in page order a window at a time
 * (--ranges).  Pages are numbered from the first page of the range.
 */
struct run {
	uint64_t start, end;		/* pages [start, end) */
	unsigned char state;
};

struct runs {
	struct run *v;
	size_t n, cap;
};

/* 0, or -1 with ENOMEM. */
int runs_add(struct runs *rs, const unsigned char *states, size_t n);
void runs_free(struct runs *rs);

/*
 * "0x<start>-0x<end> <letter> <name>" a run, end exclusive, in bytes of
 * the file (offsets) or of the process (addresses) as @r was probed.
 */
void print_ranges(FILE *f, const struct probe_report *r,
		  const struct runs *rs, const char *indent);

/*
 * The JSON object of print_json() without its line end; @states may be
 * NULL (no "map"), @rs adds a "ranges" array.
 */
void print_json_object(FILE *f, const struct probe_report *r,
		       const unsigned char *states, const struct runs *rs);

/* "flags":["write","nofault","wait"] as set in @flags */
void print_json_flags(FILE *f, unsigned int flags);

/* ,"pages":N,"resident":N,... of JSON objects */
void print_json_counts(FILE *f, uint64_t pages, const struct gupnw_counts *c);

/*
 * The table of several files and of maps: a column of pages, one per state
 * the mode can give (R . E N with GUPNW_NOFAULT, R F W . E without), and
 * the share in memory (R and F).  @lead starts the line, @name ends it.
 */
void print_table_header(FILE *f, unsigned int flags, const char *lead,
			const char *name);
/* @c NULL: not probed, "-" in every column. */
void print_table_row(FILE *f, unsigned int flags, const char *lead,
		     uint64_t pages, const struct gupnw_counts *c,
		     const char *name);

/*
 * "LABEL [#####.....]  45% 123/456 pages" in at most @width columns; @out
 * holds @width + 1 bytes.
 */
void format_progress(char *out, unsigned int width, const char *label,
		     uint64_t done, uint64_t total);
/* @s as a JSON string: escaped, invalid UTF-8 replaced by U+FFFD. */
void print_json_string(FILE *f, const char *s);

#endif /* GUPNW_CLI_OUTPUT_H */
