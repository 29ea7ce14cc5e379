// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: probing one target and printing its report, as probe and
 * watch show it.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "cli.h"
#include "opts.h"
#include "report.h"

/* What the report needs of each window. */
struct collect {
	struct state_map *map;		/* the single report's map */
	struct runs *runs;		/* --ranges */
};

static int collect_window(void *arg, uint64_t first, size_t n,
			  const unsigned char *states,
			  const struct gupnw_counts *c)
{
	struct collect *k = arg;

	(void)first;
	(void)c;
	if (k->map)
		map_add(k->map, states, n);
	if (k->runs && runs_add(k->runs, states, n))
		return -1;
	return 0;
}

int report_target(FILE *out, struct gupnw *g, const struct cli_opts *o,
		  struct probe_report *r, const struct target *t, bool multi,
		  const char *sep)
{
	struct runs rs = { 0 };
	struct state_map m = { 0 };
	struct collect k = { .runs = o->ranges ? &rs : NULL };
	struct window_walk w = {
		.flags = r->flags, .fn = collect_window, .arg = &k,
		.window_states = !multi || o->ranges, .progress = true,
	};
	int ret = EXIT_FAILED;

	if (o->json && r->pages && !(w.all = malloc(r->pages))) {
		fail("states of %" PRIu64 " pages", r->pages);
		goto out;
	}
	if (!o->json && !multi) {
		if (map_init(&m, r->pages, map_width(o))) {
			fail("map");
			goto out;
		}
		m.color = color_enabled(o->color);
		k.map = &m;
	}
	if (probe_windows(g, t, 0, r->pages, &w, &r->counts)) {
		if (r->file)
			fail("probe %s", r->file);
		else
			fail("probe pid %d", (int)r->pid);
		goto out;
	}

	if (o->json) {
		fputs(sep, out);
		/* An empty range has an empty map. */
		print_json_object(out, r, w.all ? w.all : (unsigned char *)"",
				  k.runs);
		if (!multi)
			putc('\n', out);
	} else if (multi) {
		print_table_row(out, r->flags, "", r->pages, &r->counts,
				r->name ? r->name : r->file);
	} else {
		print_human(out, r, &m);
	}
	if (k.runs && !o->json)
		print_ranges(out, r, k.runs, multi ? "  " : "");
	ret = EXIT_OK;
out:
	map_free(&m);
	runs_free(&rs);
	free(w.all);
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
	ret = fn(g, o, r, &t);
	gupnw_close(g);
out_target:
	target_close(&t);
	return ret;
}
