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
	bool clipped;			/* length cut at the end of user space */
	uint64_t user_end;		/* that end, when clipped */
	bool bytes;			/* -b: amounts in bytes, not pages */
	struct gupnw_counts counts;
};

/* The seven states and '?' for a byte that is none of them. */
#define NR_STATES	8

/*
 * Letters of "map" in JSON for a range of at most this many pages (64 GiB
 * of 4 KiB pages); a larger one has "map":null and its runs in "ranges".
 */
#define JSON_MAP_MAX_PAGES	(UINT64_C(1) << 24)

/* Pages in memory: what mincore(2), fincore and vmtouch count as resident. */
uint64_t counts_in_memory(const struct gupnw_counts *c, unsigned int flags);

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
/* @n pages in @state, next in page order. */
void map_add_run(struct state_map *m, unsigned char state, uint64_t n);
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
/* Pages [@first, @first + @n) in @state, after the runs so far. */
int runs_add_run(struct runs *rs, uint64_t first, uint64_t n,
		 unsigned char state);
void runs_free(struct runs *rs);

/*
 * "0x<start>-0x<end> <letter> <name>" a run, end exclusive, in bytes of
 * the file (offsets) or of the process (addresses) as @r was probed.
 */
void print_ranges(FILE *f, const struct probe_report *r,
		  const struct runs *rs, const char *indent);
/* One such line: pages [@start, @end) in @state. */
void print_range(FILE *f, const struct probe_report *r, uint64_t start,
		 uint64_t end, unsigned char state, const char *indent);

/*
 * The JSON object of print_json() without its line end; @states may be
 * NULL (no "map"), @rs adds a "ranges" array.
 */
void print_json_object(FILE *f, const struct probe_report *r,
		       const unsigned char *states, const struct runs *rs);

/*
 * The same object in pieces, so that "map" can be written while the probe
 * runs: the head (what was probed) up to the flags, then ,"map":" and the
 * letters (print_json_letters()) and a closing quote, then the tail (the
 * counts, "ranges" from @rs if not NULL, "probe_error" if @error, and
 * "}").
 */
void print_json_head(FILE *f, const struct probe_report *r);
void print_json_letters(FILE *f, unsigned char state, uint64_t n);
void print_json_tail(FILE *f, const struct probe_report *r,
		     const struct runs *rs, const char *error);
/* One element of "ranges", with a comma before it unless @first. */
void print_json_range(FILE *f, const struct probe_report *r,
		      uint64_t start, uint64_t end, unsigned char state,
		      bool first);
/* The end of the tail: "probe_error" if @error, and "}". */
void print_json_end(FILE *f, const char *error);

/* "flags":["write","nofault","wait"] as set in @flags */
void print_json_flags(FILE *f, unsigned int flags);

/* ,"pages":N,"resident":N,... ,"cold":N,"io_started":N,"async_faults":N */
void print_json_counts(FILE *f, uint64_t pages, const struct gupnw_counts *c);

/*
 * The table of several files, of maps, of prefetch and watch: a line per
 * target.  Columns: PAGES, one per state the mode can give (R F W C . E by
 * default, R N W C . E with GUPNW_NOFAULT), MEM% (the share in memory:
 * counts_in_memory()) and the name; -o chooses others, -b counts bytes,
 * -n drops the heading, --raw drops the padding.
 */
enum table_col {
	COL_PAGES, COL_R, COL_F, COL_W, COL_C, COL_N, COL_U, COL_E, COL_MEM,
	COL_SWAP, COL_UNTOUCHED, COL_NAME, NR_COLS
};

/*
 * What a row's pages mean for memory where the counts alone cannot say
 * (maps: N is never-touched memory in an anonymous mapping, page cache in
 * a file's): pages in memory, out on swap, never touched.
 */
struct row_mem {
	uint64_t in_memory, swap, untouched;
};

struct table {
	unsigned int flags;		/* GUPNW_NOFAULT, ...: the mode */
	unsigned int page_size;		/* for -b */
	bool bytes, raw, noheadings;
	unsigned char cols[NR_COLS];
	unsigned int ncols;
};

/* The default columns of mode @flags. */
void table_init(struct table *t, unsigned int flags, unsigned int page_size);
/*
 * -o LIST: comma-separated column names (PAGES, R, F, W, C, N, ., E, MEM%,
 * NAME, or the states' names: resident, ...), any case.  0, or -1 on an
 * unknown or repeated name.
 */
int table_set_columns(struct table *t, const char *list);
/* The column names -o takes, for a usage message. */
#define TABLE_COLUMN_NAMES	"PAGES,R,F,W,C,N,.,E,MEM%,SWAP,UNTOUCHED,NAME"

/* maps's default: the report-only states, MEM%, SWAP, UNTOUCHED. */
void table_init_maps(struct table *t, unsigned int flags,
		     unsigned int page_size);

/* @lead starts the line, @name heads the name column. */
void print_table_header(FILE *f, const struct table *t, const char *lead,
			const char *name);
/*
 * @c NULL: not probed, "-" in every column.  @x NULL: MEM% from
 * counts_in_memory(), "-" for SWAP and UNTOUCHED.
 */
void print_table_row_mem(FILE *f, const struct table *t, const char *lead,
			 uint64_t pages, const struct gupnw_counts *c,
			 const struct row_mem *x, const char *name);
void print_table_row(FILE *f, const struct table *t, const char *lead,
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
