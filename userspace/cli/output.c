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

#include "output.h"

/* Index order of state_map.tally; "?" last. */
static const char state_letters[NR_STATES] = {
	GUPNW_RESIDENT, GUPNW_FAULTED, GUPNW_RETRY, GUPNW_UNMAPPED,
	GUPNW_ERROR, GUPNW_NOTPRESENT, '?',
};

/* Which state a cell shows on a tie, most worth noticing first: ?WEFNR. */
static const unsigned char tie_order[NR_STATES] = { 6, 2, 4, 1, 5, 0, 3 };

static unsigned int state_index(unsigned char c)
{
	const char *p = memchr(state_letters, c, NR_STATES - 1);

	return p ? (unsigned int)(p - state_letters) : NR_STATES - 1;
}

static uint64_t count_of(const struct gupnw_counts *c, unsigned int i)
{
	const uint64_t v[NR_STATES - 1] = {
		c->resident, c->faulted, c->retry,
		c->unmapped, c->error, c->notpresent,
	};

	return v[i];
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

/* SGR colour of each state, in state_letters order. */
static const char *const state_colors[NR_STATES] = {
	"32", "36", "33", "2", "31", "34", "35",
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

	if (r->file)
		fprintf(f, "%s: offset %" PRIu64, r->file, r->start);
	else
		fprintf(f, "pid %d: addr 0x%" PRIx64, (int)r->pid, r->start);
	fprintf(f, ", length %" PRIu64 ": %" PRIu64 " pages of %u bytes",
		r->length, r->pages, r->page_size);
	fprintf(f, ", mode %s\n", mode_name(r->flags));

	if (!r->pages) {
		fputs("  (no pages)\n", f);
		return;
	}
	for (i = 0; i < NR_STATES - 1; i++) {
		uint64_t n = count_of(&r->counts, i);

		if (n)
			fprintf(f, "  %c %-10s %12" PRIu64 " %5.1f%%\n",
				state_letters[i],
				gupnw_state_name(state_letters[i]), n,
				100.0 * (double)n / (double)r->pages);
	}

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

void print_json_object(FILE *f, const struct probe_report *r,
		       const unsigned char *states, const struct runs *rs)
{
	uint64_t p, base = range_base(r), ps = r->page_size;
	size_t k;

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
	print_json_flags(f, r->flags);
	print_json_counts(f, r->pages, &r->counts);
	if (states) {
		fputs(",\"map\":\"", f);
		for (p = 0; p < r->pages; p++)
			putc(state_letters[state_index(states[p])], f);
		putc('"', f);
	}
	if (rs) {
		fputs(",\"ranges\":[", f);
		for (k = 0; k < rs->n; k++)
			fprintf(f, "%s{\"start\":%" PRIu64 ",\"end\":%" PRIu64
				",\"state\":\"%c\"}", k ? "," : "",
				base + rs->v[k].start * ps,
				base + rs->v[k].end * ps,
				state_letters[state_index(rs->v[k].state)]);
		putc(']', f);
	}
	putc('}', f);
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

void runs_free(struct runs *rs)
{
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

void print_ranges(FILE *f, const struct probe_report *r,
		  const struct runs *rs, const char *indent)
{
	uint64_t base = range_base(r), ps = r->page_size;
	unsigned char c;
	size_t k;

	for (k = 0; k < rs->n; k++) {
		c = state_letters[state_index(rs->v[k].state)];
		fprintf(f, "%s0x%" PRIx64 "-0x%" PRIx64 " %c %s\n", indent,
			base + rs->v[k].start * ps, base + rs->v[k].end * ps,
			c, gupnw_state_name(c));
	}
}

/* Table columns: the states a probe in mode @flags can give. */
static bool state_column(unsigned int flags, unsigned int i)
{
	char c = state_letters[i];

	if (flags & GUPNW_NOFAULT)
		return c != GUPNW_FAULTED && c != GUPNW_RETRY;
	return c != GUPNW_NOTPRESENT;
}

void print_table_header(FILE *f, unsigned int flags, const char *lead,
			const char *name)
{
	unsigned int i;

	fprintf(f, "%s%9s", lead, "PAGES");
	for (i = 0; i < NR_STATES - 1; i++)
		if (state_column(flags, i))
			fprintf(f, " %8c", state_letters[i]);
	fprintf(f, " %6s  %s\n", "MEM%", name);
}

void print_table_row(FILE *f, unsigned int flags, const char *lead,
		     uint64_t pages, const struct gupnw_counts *c,
		     const char *name)
{
	unsigned int i;

	fprintf(f, "%s%9" PRIu64, lead, pages);
	for (i = 0; i < NR_STATES - 1; i++) {
		if (!state_column(flags, i))
			continue;
		if (c)
			fprintf(f, " %8" PRIu64, count_of(c, i));
		else
			fprintf(f, " %8s", "-");
	}
	if (c && pages)
		fprintf(f, " %5.1f%%", 100.0 * (double)(c->resident + c->faulted) /
					(double)pages);
	else
		fprintf(f, " %6s", "-");
	fprintf(f, "  %s\n", name);
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
