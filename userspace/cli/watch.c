// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: the watch subcommand.  The probe of FILE (or of a range of
 * process PID) again every --interval: on a terminal the report is redrawn
 * in place (I/O arriving, pages being reclaimed); elsewhere each frame is
 * one line of counts, or one JSON object with --json.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gupnw.h"

#include "cli.h"
#include "opts.h"
#include "output.h"
#include "report.h"
#include "target.h"
#include "term.h"

#define WATCH_OPTS	(OPT_SET_PROBE | OPT_INTERVAL | OPT_COUNT)

static const char usage[] =
	"usage: gupnw watch [OPTIONS] [-p RANGE] FILE\n"
	"       gupnw watch [OPTIONS] --pid PID ADDR LENGTH\n"
	"\n"
	"The probe of FILE (or of a range of PID) again every --interval.\n"
	"\n"
	"      --interval SEC between frames (default 1)\n"
	"      --count N      stop after N frames\n"
	"  -p, --range RANGE  the part of FILE: START-END, START- or -END\n"
	"      --pid PID      ADDR LENGTH of process PID\n"
	"      --no-fault, --write, --wait, -J/--json, -b, -n, --raw, -o,\n"
	"      --map-width, --color: as for probe\n"
	"See gupnw-watch(1).\n";

#define DEFAULT_INTERVAL_MS	1000

/* One frame: the whole report, drawn at once so the screen does not flicker. */
static int draw_frame(struct gupnw *g, const struct cli_opts *o,
		      struct probe_report *r, const struct target *t,
		      uint64_t frame)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int ret;

	mem = open_memstream(&text, &len);
	if (!mem)
		return fail("frame");
	ret = report_target(mem, g, o, r, t, false, "");
	fprintf(mem, "frame %llu, every %.1f s; interrupt to stop\n",
		(unsigned long long)frame, (double)o->interval_ms / 1000);
	if (fclose(mem)) {
		free(text);
		return fail("frame");
	}
	if (!ret) {
		fputs("\033[H\033[2J", stdout);
		fwrite(text, 1, len, stdout);
	}
	free(text);
	return ret;
}

static int watch(struct gupnw *g, const struct cli_opts *o,
		 struct probe_report *r, const struct target *t)
{
	bool tty = !o->json && isatty(STDOUT_FILENO);
	uint64_t frame, start = now_ms();
	char label[64];
	int ret;

	for (frame = 1;; frame++) {
		memset(&r->counts, 0, sizeof(r->counts));
		if (tty) {
			ret = draw_frame(g, o, r, t, frame);
		} else {
			snprintf(label, sizeof(label), "frame %llu +%.1fs",
				 (unsigned long long)frame,
				 (double)(now_ms() - start) / 1000);
			r->name = label;
			if (frame == 1 && !o->json)
				print_table_header(stdout, &o->table, "",
						   "FRAME");
			ret = report_target(stdout, g, o, r, t, !o->json, "");
		}
		if (ret)
			return ret;
		if (fflush(stdout))
			return fail("standard output");
		if (o->count && frame >= o->count)
			return EXIT_OK;
		sleep_ms(o->interval_ms);
	}
}

static int cmd_watch(int argc, char **argv)
{
	struct cli_opts o = { .interval_ms = DEFAULT_INTERVAL_MS };
	int ret;

	ret = parse_probe_opts(argc, argv, &watch_command, &o);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : ret;
	return run_on_target(&o, "watch", argc - optind, argv + optind,
			     watch);
}

const struct command watch_command = {
	.name = "watch",
	.usage = usage,
	.opts = WATCH_OPTS,
	.run = cmd_watch,
};
