// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: probing one target and printing its report, as probe and
 * watch show it.  The probe comes as runs of pages in one state, and each
 * part of the report is built from them as they come: the map's cells, the
 * JSON "map" letters (written out, not kept), --ranges (held up to a
 * bound, then written out as they come).  Nothing holds a byte per page
 * of a range of any size, so a range of any size is answered.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "opts.h"
#include "report.h"

/*
 * --ranges, and the "ranges" of a JSON map too large to spell out.  Up to
 * RUNS_HELD runs are held and printed after the report, as ever; past
 * that they are printed as they come (the report after them), so memory
 * stays bounded however fragmented the range.  Only JSON with its "map"
 * spelled out cannot print them early (the letters are being written):
 * there, past RUNS_HELD, a byte per page stands for them, at most
 * JSON_MAP_MAX_PAGES bytes.
 */
#define RUNS_HELD	65536

struct run_sink {
	FILE *out;
	const struct probe_report *r;
	bool json;			/* "ranges" elements, else lines */
	bool spelled;			/* JSON with "map": cannot stream */
	const char *indent;
	struct runs held;
	unsigned char *states;		/* spelled, past RUNS_HELD */
	bool streaming;
	struct run pending;		/* streaming: the run not yet printed */
	uint64_t printed;		/* streaming: runs printed */
};

static void sink_print(struct run_sink *s, const struct run *run)
{
	if (s->json)
		print_json_range(s->out, s->r, run->start, run->end,
				 run->state, !s->printed);
	else
		print_range(s->out, s->r, run->start, run->end, run->state,
			    s->indent);
	s->printed++;
}

/* The held runs become the head of the output, the last one pending. */
static void sink_start_stream(struct run_sink *s)
{
	size_t k;

	if (s->json)
		fputs(",\"ranges\":[", s->out);
	for (k = 0; k + 1 < s->held.n; k++)
		sink_print(s, &s->held.v[k]);
	s->pending = s->held.v[k];
	runs_free(&s->held);
	s->streaming = true;
}

/* The held runs become a byte per page. */
static int sink_start_states(struct run_sink *s)
{
	size_t k;

	s->states = malloc(s->r->pages);
	if (!s->states)
		return -1;
	for (k = 0; k < s->held.n; k++)
		memset(s->states + s->held.v[k].start, s->held.v[k].state,
		       s->held.v[k].end - s->held.v[k].start);
	runs_free(&s->held);
	return 0;
}

static int sink_add(struct run_sink *s, uint64_t first, uint64_t n,
		    unsigned char state)
{
	if (s->states) {
		memset(s->states + first, state, n);
		return 0;
	}
	if (s->streaming) {
		if (s->pending.state == state && s->pending.end == first) {
			s->pending.end += n;
			return 0;
		}
		sink_print(s, &s->pending);
		s->pending = (struct run){ first, first + n, state };
		return 0;
	}
	if (runs_add_run(&s->held, first, n, state))
		return -1;
	if (s->held.n <= RUNS_HELD)
		return 0;
	if (!s->spelled) {
		sink_start_stream(s);
		return 0;
	}
	return sink_start_states(s);
}

/* Streaming: the last run, and the end of the JSON array. */
static void sink_end_stream(struct run_sink *s)
{
	if (!s->streaming)
		return;
	sink_print(s, &s->pending);
	if (s->json)
		putc(']', s->out);
}

/* Not streamed: the "ranges" array after the counts. */
static void sink_print_json(struct run_sink *s)
{
	struct run run = { 0 };
	uint64_t p;

	if (!s->states) {
		print_json_tail(s->out, s->r, &s->held, NULL);
		return;
	}
	print_json_counts(s->out, s->r->pages, &s->r->counts);
	fputs(",\"ranges\":[", s->out);
	for (p = 0; p <= s->r->pages; p++) {
		if (p < s->r->pages && p && s->states[p] == run.state)
			continue;
		if (p) {
			run.end = p;
			sink_print(s, &run);
		}
		if (p < s->r->pages)
			run = (struct run){ p, p, s->states[p] };
	}
	putc(']', s->out);
	print_json_end(s->out, NULL);
}

static void sink_free(struct run_sink *s)
{
	runs_free(&s->held);
	free(s->states);
	s->states = NULL;
}

/* What the report needs of each run. */
struct collect {
	struct state_map *map;		/* the single report's map */
	struct run_sink *sink;		/* --ranges, or a JSON map too large */
	FILE *json;			/* "map" letters go here */
};

static int collect_run(void *arg, uint64_t first, uint64_t n,
		       unsigned char state)
{
	struct collect *k = arg;

	if (k->map)
		map_add_run(k->map, state, n);
	if (k->json)
		print_json_letters(k->json, state, n);
	if (k->sink && sink_add(k->sink, first, n, state))
		return -1;
	return 0;
}

/* The one-line error of a failed probe. */
static void probe_failed(const struct probe_report *r)
{
	if (r->file)
		fail("probe %s", r->file);
	else
		fail("probe pid %d", (int)r->pid);
}

int report_target(FILE *out, struct gupnw *g, const struct cli_opts *o,
		  struct probe_report *r, const struct target *t, bool multi,
		  const char *sep)
{
	bool spell = r->pages <= JSON_MAP_MAX_PAGES;
	struct run_sink rs = {
		.out = out, .r = r, .json = o->json, .spelled = o->json && spell,
		.indent = multi ? "  " : "",
	};
	struct state_map m = { 0 };
	struct collect k = { 0 };
	struct run_walk w = {
		.flags = r->flags, .fn = collect_run, .arg = &k,
		.progress = true,
	};
	int ret = EXIT_FAILED, err;

	r->bytes = o->bytes;
	if (o->ranges || (o->json && !spell))
		k.sink = &rs;
	if (!o->json && !multi) {
		if (map_init(&m, r->pages, map_width(o))) {
			fail("map");
			goto out;
		}
		m.color = color_enabled(o->color);
		k.map = &m;
	}
	if (o->json) {
		/* Well-formed whatever happens: a failure closes the object. */
		fputs(sep, out);
		print_json_head(out, r);
		if (spell) {
			fputs(",\"map\":\"", out);
			k.json = out;
		} else {
			fputs(",\"map\":null", out);
		}
	}
	if (probe_runs(g, t, &w, &r->counts)) {
		err = errno;
		sink_end_stream(&rs);
		if (o->json) {
			if (spell)
				putc('"', out);
			print_json_counts(out, r->pages, &r->counts);
			print_json_end(out, strerror(err));
			if (!multi)
				putc('\n', out);
		}
		errno = err;
		probe_failed(r);
		goto out;
	}
	sink_end_stream(&rs);

	if (o->json) {
		if (spell)
			putc('"', out);
		if (!k.sink || rs.streaming) {
			print_json_counts(out, r->pages, &r->counts);
			print_json_end(out, NULL);
		} else {
			sink_print_json(&rs);
		}
		if (!multi)
			putc('\n', out);
	} else if (multi) {
		print_table_row(out, &o->table, "", r->pages, &r->counts,
				r->name ? r->name : r->file);
	} else {
		print_human(out, r, &m);
	}
	if (o->ranges && !o->json && !rs.streaming)
		print_ranges(out, r, &rs.held, rs.indent);
	ret = EXIT_OK;
out:
	map_free(&m);
	sink_free(&rs);
	return ret;
}

int run_on_target(const struct cli_opts *o, const char *cmd, int nargs,
		  char **args, target_fn *fn)
{
	struct probe_report r = { .page_size = sysconf(_SC_PAGESIZE) };
	struct target t = TARGET_INIT;
	struct gupnw *g;
	bool has_length;
	int ret;

	ret = parse_range(o, cmd, nargs, args, &r, &has_length);
	if (ret)
		return ret;
	ret = target_open(&t, &r, has_length);
	if (ret)
		goto out_target;
	g = device_open();
	if (!g) {
		ret = EXIT_FAILED;
		goto out_target;
	}
	ret = target_clip(g, &t, &r);
	if (!ret)
		ret = fn(g, o, &r, &t);
	gupnw_close(g);
out_target:
	target_close(&t);
	return ret;
}
