// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: human and JSON reports of a probe.  Pure formatting on a
 * states array or a state_map and the counts, so it is unit-tested on the
 * host without the module.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output.h"

/* Index order of state_map.tally; "?" last. */
static const char state_letters[NR_STATES] = {
	GUPNW_RESIDENT, GUPNW_FAULTED, GUPNW_RETRY, GUPNW_UNMAPPED,
	GUPNW_ERROR, GUPNW_NOTPRESENT, GUPNW_COLD, '?',
};

/* Which state a cell shows on a tie, most worth noticing first: ?WCEFNR. */
static const unsigned char tie_order[NR_STATES] = { 7, 2, 6, 4, 1, 5, 0, 3 };

static unsigned int state_index(unsigned char c)
{
	const char *p = memchr(state_letters, c, NR_STATES - 1);

	return p ? (unsigned int)(p - state_letters) : NR_STATES - 1;
}

static uint64_t count_of(const struct gupnw_counts *c, unsigned int i)
{
	const uint64_t v[NR_STATES - 1] = {
		c->resident, c->faulted, c->retry,
		c->unmapped, c->error, c->notpresent, c->cold,
	};

	return v[i];
}

/*
 * Report-only: R, N and W are in the page cache (or swap cache), and
 * mincore(2) counts a page whose read is in flight as resident too, so
 * fincore and vmtouch say the same.  Other modes: what was there without
 * I/O, R and F.
 */
uint64_t counts_in_memory(const struct gupnw_counts *c, unsigned int flags)
{
	if (flags & GUPNW_NOFAULT)
		return c->resident + c->notpresent + c->retry;
	return c->resident + c->faulted;
}

/* First page of cell @c: cells split the pages as evenly as they can. */
static uint64_t cell_start(const struct state_map *m, uint64_t c)
{
	/* npages < 2^52 and ncells <= MAP_MAX_CELLS: no overflow. */
	return c * m->npages / m->ncells;
}

int map_init(struct state_map *m, uint64_t npages, unsigned int width)
{
	memset(m, 0, sizeof(*m));
	m->npages = npages;
	if (width > MAP_MAX_CELLS)
		width = MAP_MAX_CELLS;
	m->ncells = npages < width ? (unsigned int)npages : width;
	if (!m->ncells)
		return 0;
	m->tally = calloc(m->ncells, sizeof(*m->tally));
	if (!m->tally)
		return -1;
	m->cell_end = cell_start(m, 1);
	return 0;
}

void map_add_run(struct state_map *m, unsigned char state, uint64_t n)
{
	unsigned int i = state_index(state);
	uint64_t k;

	while (n && m->pos < m->npages) {
		while (m->pos >= m->cell_end)
			m->cell_end = cell_start(m, ++m->cell + 1);
		k = m->cell_end - m->pos;
		if (k > n)
			k = n;
		m->tally[m->cell][i] += k;
		m->pos += k;
		n -= k;
	}
}

void map_add(struct state_map *m, const unsigned char *states, size_t n)
{
	size_t i;

	for (i = 0; i < n && m->pos < m->npages; i++, m->pos++) {
		while (m->pos >= m->cell_end)
			m->cell_end = cell_start(m, ++m->cell + 1);
		m->tally[m->cell][state_index(states[i])]++;
	}
}

/* The state most pages of the cell are in; lower case if not all are. */
static char cell_letter(const uint64_t *tally)
{
	unsigned int i, best = tie_order[0];
	uint64_t total = 0;

	for (i = 0; i < NR_STATES; i++) {
		total += tally[tie_order[i]];
		if (tally[tie_order[i]] > tally[best])
			best = tie_order[i];
	}
	if (tally[best] == total)
		return state_letters[best];
	return tolower((unsigned char)state_letters[best]);
}

void map_render(const struct state_map *m, char *out)
{
	unsigned int c;

	for (c = 0; c < m->ncells; c++)
		out[c] = cell_letter(m->tally[c]);
	out[c] = '\0';
}

void map_free(struct state_map *m)
{
	free(m->tally);
	m->tally = NULL;
}

static const char *mode_name(unsigned int flags)
{
	if (flags & GUPNW_NOFAULT)
		return flags & GUPNW_WRITE ? "nofault+write" : "nofault";
	if (flags & GUPNW_WAIT)
		return flags & GUPNW_WRITE ? "wait+write" : "wait";
	return flags & GUPNW_WRITE ? "nowait+write" : "nowait";
}

static void print_cell_size(FILE *f, const struct state_map *m)
{
	uint64_t lo = m->npages / m->ncells;

	if (m->npages == m->ncells) {
		fputs("one cell = one page\n", f);
		return;
	}
	fprintf(f, "one cell = %" PRIu64, lo);
	if (m->npages % m->ncells)
		fprintf(f, "-%" PRIu64, lo + 1);
	fputs(" pages: the state of most of them, lower case when mixed\n",
	      f);
}

/*
 * SGR colour of each state, in state_letters order; '?' (a byte that is no
 * known state, from a newer module say) is reverse video.  Every entry is
 * set: print_colored() prints each one with %s.
 */
static const char *const state_colors[NR_STATES] = {
	"32", "36", "33", "2", "31", "34", "35", "7",
};

/* "[cells]" with each run of one state in its colour. */
static void print_colored(FILE *f, const char *cells)
{
	const char *color = NULL, *c;

	putc('[', f);
	for (; *cells; cells++) {
		c = state_colors[state_index(toupper((unsigned char)*cells))];
		if (c != color)
			fprintf(f, "\033[%sm", c);
		color = c;
		putc(*cells, f);
	}
	fputs("\033[0m]\n", f);
}

void print_human(FILE *f, const struct probe_report *r,
		 const struct state_map *m)
{
	char cells[MAP_MAX_CELLS + 1];
	unsigned int i;
	uint64_t n;

	if (r->file)
		fprintf(f, "%s: offset %" PRIu64, r->file, r->start);
	else
		fprintf(f, "pid %d: addr 0x%" PRIx64, (int)r->pid, r->start);
	fprintf(f, ", length %" PRIu64 ": %" PRIu64 " pages of %u bytes",
		r->length, r->pages, r->page_size);
	fprintf(f, ", mode %s\n", mode_name(r->flags));
	if (r->clipped)
		fprintf(f, "  (length cut at the end of user space, 0x%" PRIx64
			")\n", r->user_end);

	if (!r->pages) {
		fputs("  (no pages)\n", f);
		return;
	}
	for (i = 0; i < NR_STATES - 1; i++) {
		uint64_t n = count_of(&r->counts, i);

		if (n)
			fprintf(f, "  %c %-10s %14" PRIu64 " %5.1f%%\n",
				state_letters[i],
				gupnw_state_name(state_letters[i]),
				r->bytes ? n * r->page_size : n,
				100.0 * (double)n / (double)r->pages);
	}
	n = counts_in_memory(&r->counts, r->flags);
	fprintf(f, "  in memory    %14" PRIu64 " %5.1f%%\n",
		r->bytes ? n * r->page_size : n,
		100.0 * (double)n / (double)r->pages);

	map_render(m, cells);
	if (m->color)
		print_colored(f, cells);
	else
		fprintf(f, "[%s]\n", cells);
	print_cell_size(f, m);
}

/* Bytes of the valid UTF-8 sequence at @s, or 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;	/* overlong */
		hi = s[0] == 0xed ? 0x9f : 0xbf;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;	/* overlong */
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;	/* > U+10FFFF */
	} else {
		return 0;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void print_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	putc('"', f);
	while (*s) {
		n = utf8_len(s);
		if (!n) {
			fputs("\\ufffd", f);
			s++;
		} else if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s++);
		} else if (*s < 0x20) {
			fprintf(f, "\\u%04x", *s++);
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	putc('"', f);
}

void print_json_counts(FILE *f, uint64_t pages, const struct gupnw_counts *c)
{
	unsigned int i;

	fprintf(f, ",\"pages\":%" PRIu64, pages);
	for (i = 0; i < NR_STATES - 1; i++)
		fprintf(f, ",\"%s\":%" PRIu64,
			gupnw_state_name(state_letters[i]), count_of(c, i));
	fprintf(f, ",\"io_started\":%" PRIu64 ",\"async_faults\":%" PRIu64,
		c->io_started, c->async_faults);
}

/* First byte of the range: OFFSET or ADDR rounded down to a page. */
static uint64_t range_base(const struct probe_report *r)
{
	return r->start & ~((uint64_t)r->page_size - 1);
}

void print_json_flags(FILE *f, unsigned int flags)
{
	static const struct {
		unsigned int flag;
		const char *name;
	} flag_names[] = {
		{ GUPNW_WRITE, "write" },
		{ GUPNW_NOFAULT, "nofault" },
		{ GUPNW_WAIT, "wait" },
	};
	const char *sep = "";
	unsigned int i;

	fputs("\"flags\":[", f);
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (flags & flag_names[i].flag) {
			fprintf(f, "%s\"%s\"", sep, flag_names[i].name);
			sep = ",";
		}
	}
	putc(']', f);
}

void print_json_head(FILE *f, const struct probe_report *r)
{
	if (r->file) {
		fputs("{\"file\":", f);
		print_json_string(f, r->file);
		fprintf(f, ",\"offset\":%" PRIu64, r->start);
	} else {
		fprintf(f, "{\"pid\":%d,\"addr\":%" PRIu64, (int)r->pid,
			r->start);
	}
	fprintf(f, ",\"length\":%" PRIu64 ",\"page_size\":%u,",
		r->length, r->page_size);
	if (!r->file)
		fprintf(f, "\"clipped\":%s,", r->clipped ? "true" : "false");
	print_json_flags(f, r->flags);
}

void print_json_letters(FILE *f, unsigned char state, uint64_t n)
{
	char c = state_letters[state_index(state)];

	while (n--)
		putc(c, f);
}

void print_json_range(FILE *f, const struct probe_report *r,
		      uint64_t start, uint64_t end, unsigned char state,
		      bool first)
{
	uint64_t base = range_base(r), ps = r->page_size;

	fprintf(f, "%s{\"start\":%" PRIu64 ",\"end\":%" PRIu64
		",\"state\":\"%c\"}", first ? "" : ",", base + start * ps,
		base + end * ps, state_letters[state_index(state)]);
}

void print_json_end(FILE *f, const char *error)
{
	if (error) {
		fputs(",\"probe_error\":", f);
		print_json_string(f, error);
	}
	putc('}', f);
}

void print_json_tail(FILE *f, const struct probe_report *r,
		     const struct runs *rs, const char *error)
{
	size_t k;

	print_json_counts(f, r->pages, &r->counts);
	if (rs) {
		fputs(",\"ranges\":[", f);
		for (k = 0; k < rs->n; k++)
			print_json_range(f, r, rs->v[k].start, rs->v[k].end,
					 rs->v[k].state, !k);
		putc(']', f);
	}
	print_json_end(f, error);
}

void print_json_object(FILE *f, const struct probe_report *r,
		       const unsigned char *states, const struct runs *rs)
{
	uint64_t p;

	print_json_head(f, r);
	if (states) {
		fputs(",\"map\":\"", f);
		for (p = 0; p < r->pages; p++)
			print_json_letters(f, states[p], 1);
		putc('"', f);
	}
	print_json_tail(f, r, rs, NULL);
}

void print_json(FILE *f, const struct probe_report *r,
		const unsigned char *states)
{
	print_json_object(f, r, states, NULL);
	putc('\n', f);
}

void counts_add(struct gupnw_counts *sum, const struct gupnw_counts *c)
{
	sum->resident += c->resident;
	sum->faulted += c->faulted;
	sum->retry += c->retry;
	sum->unmapped += c->unmapped;
	sum->error += c->error;
	sum->notpresent += c->notpresent;
	sum->cold += c->cold;
	sum->io_started += c->io_started;
	sum->async_faults += c->async_faults;
}

int grow_array(void **v, size_t *cap, size_t n, size_t size)
{
	size_t new_cap = *cap ? 2 * *cap : 64;
	void *p;

	if (n < *cap)
		return 0;
	if (new_cap > SIZE_MAX / size) {
		errno = ENOMEM;
		return -1;
	}
	p = realloc(*v, new_cap * size);
	if (!p)
		return -1;
	*v = p;
	*cap = new_cap;
	return 0;
}

int runs_add(struct runs *rs, const unsigned char *states, size_t n)
{
	uint64_t pos = rs->n ? rs->v[rs->n - 1].end : 0;
	size_t i;

	for (i = 0; i < n; i++, pos++) {
		if (rs->n && rs->v[rs->n - 1].state == states[i]) {
			rs->v[rs->n - 1].end = pos + 1;
			continue;
		}
		if (grow_array((void **)&rs->v, &rs->cap, rs->n,
			       sizeof(*rs->v)))
			return -1;
		rs->v[rs->n++] = (struct run){ pos, pos + 1, states[i] };
	}
	return 0;
}

int runs_add_run(struct runs *rs, uint64_t first, uint64_t n,
		 unsigned char state)
{
	struct run *last = rs->n ? &rs->v[rs->n - 1] : NULL;

	if (!n)
		return 0;
	if (last && last->state == state && last->end == first) {
		last->end += n;
		return 0;
	}
	if (grow_array((void **)&rs->v, &rs->cap, rs->n, sizeof(*rs->v)))
		return -1;
	rs->v[rs->n++] = (struct run){ first, first + n, state };
	return 0;
}

void runs_free(struct runs *rs)
{
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

void print_range(FILE *f, const struct probe_report *r, uint64_t start,
		 uint64_t end, unsigned char state, const char *indent)
{
	uint64_t base = range_base(r), ps = r->page_size;
	unsigned char c = state_letters[state_index(state)];

	fprintf(f, "%s0x%" PRIx64 "-0x%" PRIx64 " %c %s\n", indent,
		base + start * ps, base + end * ps, c, gupnw_state_name(c));
}

void print_ranges(FILE *f, const struct probe_report *r,
		  const struct runs *rs, const char *indent)
{
	size_t k;

	for (k = 0; k < rs->n; k++)
		print_range(f, r, rs->v[k].start, rs->v[k].end,
			    rs->v[k].state, indent);
}

static const struct {
	const char *name, *alias;
	char head[10];
} col_info[NR_COLS] = {
	[COL_PAGES] = { "PAGES", "BYTES", "PAGES" },
	[COL_R] = { "R", "resident", "R" },
	[COL_F] = { "F", "faulted", "F" },
	[COL_W] = { "W", "retry", "W" },
	[COL_C] = { "C", "cold", "C" },
	[COL_N] = { "N", "notpresent", "N" },
	[COL_U] = { ".", "unmapped", "." },
	[COL_E] = { "E", "error", "E" },
	[COL_MEM] = { "MEM%", "MEM", "MEM%" },
	[COL_SWAP] = { "SWAP", "swapped", "SWAP" },
	[COL_UNTOUCHED] = { "UNTOUCHED", "new", "UNTOUCHED" },
	[COL_NAME] = { "NAME", "FILE", "" },
};

static void table_add(struct table *t, enum table_col c)
{
	t->cols[t->ncols++] = c;
}

void table_init(struct table *t, unsigned int flags, unsigned int page_size)
{
	memset(t, 0, sizeof(*t));
	t->flags = flags;
	t->page_size = page_size;
	table_add(t, COL_PAGES);
	table_add(t, COL_R);
	table_add(t, flags & GUPNW_NOFAULT ? COL_N : COL_F);
	table_add(t, COL_W);
	table_add(t, COL_C);
	table_add(t, COL_U);
	table_add(t, COL_E);
	table_add(t, COL_MEM);
	table_add(t, COL_NAME);
}

void table_init_maps(struct table *t, unsigned int flags,
		     unsigned int page_size)
{
	table_init(t, flags, page_size);
	if (!(flags & GUPNW_NOFAULT))
		return;
	t->ncols--;			/* NAME goes last */
	table_add(t, COL_SWAP);
	table_add(t, COL_UNTOUCHED);
	table_add(t, COL_NAME);
}

int table_set_columns(struct table *t, const char *list)
{
	const char *p = list, *end;
	unsigned int c, i;
	size_t n;

	t->ncols = 0;
	for (;;) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		for (c = 0; c < NR_COLS; c++)
			if ((strlen(col_info[c].name) == n &&
			     !strncasecmp(p, col_info[c].name, n)) ||
			    (strlen(col_info[c].alias) == n &&
			     !strncasecmp(p, col_info[c].alias, n)))
				break;
		if (c == NR_COLS)
			return -1;
		for (i = 0; i < t->ncols; i++)
			if (t->cols[i] == c)
				return -1;
		table_add(t, c);
		if (!end)
			return 0;
		p = end + 1;
	}
}

/* A column's cell: right-aligned to @width, or bare with --raw. */
static void table_cell(FILE *f, const struct table *t, bool first,
		       int width, const char *s)
{
	if (t->raw)
		fprintf(f, "%s%s", first ? "" : " ", s);
	else
		fprintf(f, "%s%*s", first ? "" : " ", width, s);
}

static int col_width(const struct table *t, enum table_col c)
{
	if (c == COL_MEM)
		return 6;
	if (c == COL_UNTOUCHED)
		return 9;
	if (c == COL_PAGES || t->bytes)
		return t->bytes ? 15 : 9;
	return 8;
}

void print_table_header(FILE *f, const struct table *t, const char *lead,
			const char *name)
{
	unsigned int i;
	const char *h;

	if (t->noheadings)
		return;
	fputs(lead, f);
	for (i = 0; i < t->ncols; i++) {
		h = col_info[t->cols[i]].head;
		if (t->cols[i] == COL_PAGES && t->bytes)
			h = "BYTES";
		if (t->cols[i] == COL_NAME)
			fprintf(f, "%s%s", t->raw || !i ? (i ? " " : "") : "  ",
				name);
		else
			table_cell(f, t, !i, col_width(t, t->cols[i]), h);
	}
	putc('\n', f);
}

void print_table_row(FILE *f, const struct table *t, const char *lead,
		     uint64_t pages, const struct gupnw_counts *c,
		     const char *name)
{
	print_table_row_mem(f, t, lead, pages, c, NULL, name);
}

void print_table_row_mem(FILE *f, const struct table *t, const char *lead,
			 uint64_t pages, const struct gupnw_counts *c,
			 const struct row_mem *x, const char *name)
{
	static const unsigned char state_of[NR_COLS] = {
		[COL_R] = 0, [COL_F] = 1, [COL_W] = 2, [COL_U] = 3,
		[COL_E] = 4, [COL_N] = 5, [COL_C] = 6,
	};
	uint64_t mult = t->bytes ? t->page_size : 1, v;
	enum table_col col;
	char cell[32];
	unsigned int i;

	fputs(lead, f);
	for (i = 0; i < t->ncols; i++) {
		col = t->cols[i];
		switch (col) {
		case COL_NAME:
			fprintf(f, "%s%s", t->raw || !i ? (i ? " " : "") : "  ",
				name);
			continue;
		case COL_PAGES:
			snprintf(cell, sizeof(cell), "%" PRIu64, pages * mult);
			break;
		case COL_MEM:
			if (!c || !pages) {
				strcpy(cell, "-");
				break;
			}
			v = x ? x->in_memory : counts_in_memory(c, t->flags);
			snprintf(cell, sizeof(cell), t->raw ? "%.1f" : "%.1f%%",
				 100.0 * (double)v / (double)pages);
			break;
		case COL_SWAP:
		case COL_UNTOUCHED:
			if (!c || !x) {
				strcpy(cell, "-");
				break;
			}
			v = col == COL_SWAP ? x->swap : x->untouched;
			snprintf(cell, sizeof(cell), "%" PRIu64, v * mult);
			break;
		default:
			if (!c) {
				strcpy(cell, "-");
				break;
			}
			v = count_of(c, state_of[col]);
			snprintf(cell, sizeof(cell), "%" PRIu64, v * mult);
			break;
		}
		table_cell(f, t, !i, col_width(t, col), cell);
	}
	putc('\n', f);
}

void format_progress(char *out, unsigned int width, const char *label,
		     uint64_t done, uint64_t total)
{
	unsigned int pct = total ? (unsigned int)(100 * done / total) : 100;
	unsigned int head, bar, fill, i;
	char tail[64];
	int n;

	snprintf(tail, sizeof(tail), " %3u%% %" PRIu64 "/%" PRIu64 " pages",
		 pct, done, total);
	head = strlen(label) + 2;		/* "LABEL [" */
	n = head + 1 + strlen(tail);		/* "]" */
	if ((int)width < n + 5) {		/* no room for a bar */
		snprintf(out, width + 1, "%s%s", label, tail);
		return;
	}
	bar = width - n;
	fill = total ? (unsigned int)((uint64_t)bar * done / total) : bar;
	n = snprintf(out, width + 1, "%s [", label);
	for (i = 0; i < bar; i++)
		out[n + i] = i < fill ? '#' : '.';
	snprintf(out + n + bar, width + 1 - n - bar, "]%s", tail);
}
