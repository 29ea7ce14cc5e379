// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: probing one target and printing its report, as probe and
 * watch show it.  The probe comes as runs of pages in one state, and each
 * part of the report is built from them as they come: the map's cells, the
 * JSON "map" letters (written out, not kept), --ranges.  Nothing holds a
 * byte per page, so a range of any size is answered.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "report.h"

/* What the report needs of each run. */
struct collect {
	struct state_map *map;		/* the single report's map */
	struct runs *runs;		/* --ranges, or a JSON map too large */
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
	if (k->runs && runs_add_run(k->runs, first, n, state))
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
	struct runs rs = { 0 };
	struct state_map m = { 0 };
	struct collect k = { 0 };
	struct run_walk w = {
		.flags = r->flags, .fn = collect_run, .arg = &k,
		.progress = true,
	};
	int ret = EXIT_FAILED, err;

	r->bytes = o->bytes;
	if (o->ranges || (o->json && !spell))
		k.runs = &rs;
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
		if (o->json) {
			if (spell)
				putc('"', out);
			print_json_tail(out, r, NULL, strerror(err));
			if (!multi)
				putc('\n', out);
		}
		errno = err;
		probe_failed(r);
		goto out;
	}

	if (o->json) {
		if (spell)
			putc('"', out);
		print_json_tail(out, r, k.runs, NULL);
		if (!multi)
			putc('\n', out);
	} else if (multi) {
		print_table_row(out, &o->table, "", r->pages, &r->counts,
				r->name ? r->name : r->file);
	} else {
		print_human(out, r, &m);
	}
	if (o->ranges && !o->json)
		print_ranges(out, r, k.runs, multi ? "  " : "");
	ret = EXIT_OK;
out:
	map_free(&m);
	runs_free(&rs);
	return ret;
}

int run_on_target(const struct cli_opts *o, struct probe_report *r,
		  bool has_length, target_fn *fn)
{
	struct target t = TARGET_INIT;
	struct gupnw *g;
	int ret;

	ret = target_open(&t, r, has_length);
	if (ret)
		goto out_target;
	g = device_open();
	if (!g) {
		ret = EXIT_FAILED;
		goto out_target;
	}
	ret = target_clip(g, &t, r);
	if (!ret)
		ret = fn(g, o, r, &t);
	gupnw_close(g);
out_target:
	target_close(&t);
	return ret;
}
