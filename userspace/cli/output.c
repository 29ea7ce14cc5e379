// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: human and JSON reports of a probe.  Pure formatting on a
 * states array or a state_map and the counts, so it is unit-tested on the
 * host without the module.
 */
#include <ctype.h>
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

void print_json(FILE *f, const struct probe_report *r,
		const unsigned char *states)
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
	uint64_t p;

	if (r->file) {
		fputs("{\"file\":", f);
		print_json_string(f, r->file);
		fprintf(f, ",\"offset\":%" PRIu64, r->start);
	} else {
		fprintf(f, "{\"pid\":%d,\"addr\":%" PRIu64, (int)r->pid,
			r->start);
	}
	fprintf(f, ",\"length\":%" PRIu64 ",\"page_size\":%u,\"flags\":[",
		r->length, r->page_size);
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (r->flags & flag_names[i].flag) {
			fprintf(f, "%s\"%s\"", sep, flag_names[i].name);
			sep = ",";
		}
	}
	fprintf(f, "],\"pages\":%" PRIu64, r->pages);
	for (i = 0; i < NR_STATES - 1; i++)
		fprintf(f, ",\"%s\":%" PRIu64,
			gupnw_state_name(state_letters[i]),
			count_of(&r->counts, i));
	fputs(",\"map\":\"", f);
	for (p = 0; p < r->pages; p++)
		putc(state_letters[state_index(states[p])], f);
	fputs("\"}\n", f);
}
