// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: the probe subcommand.  One FILE (or a range of process PID):
 * the full report, counts and map.  Several files, or directories with -r:
 * a line per file and a total, like vmtouch and fincore.
 */
#include <ctype.h>
#include <errno.h>
#include <fts.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gupnw.h"

#include "cli.h"
#include "opts.h"
#include "output.h"
#include "parse.h"
#include "report.h"
#include "target.h"

#define PROBE_OPTS	(OPT_JSON | OPT_NO_FAULT | OPT_WRITE | OPT_WAIT | \
			 OPT_PID | OPT_MAP_WIDTH | OPT_COLOR | OPT_RECURSIVE | \
			 OPT_RANGES)

/* One FILE or one range of PID: the report of gupnw(1) "OUTPUT". */
static int probe_single(struct gupnw *g, const struct cli_opts *o,
			struct probe_report *r, const struct target *t)
{
	return report_target(stdout, g, o, r, t, false, "");
}

/* Several files: what the total sums up. */
struct multi {
	struct gupnw *g;
	const struct cli_opts *o;
	unsigned int page_size;
	unsigned int files;		/* probed */
	uint64_t pages;
	struct gupnw_counts total;
	int status;
};

static void multi_file(struct multi *mu, const char *path)
{
	struct probe_report r = {
		.file = path, .page_size = mu->page_size,
		.flags = mu->o->flags,
	};
	struct target t = TARGET_INIT;

	if (target_open_file(&t, &r, false) ||
	    report_target(stdout, mu->g, mu->o, &r, &t, true,
			  mu->files ? "," : "")) {
		mu->status = EXIT_FAILED;
	} else {
		mu->files++;
		mu->pages += r.pages;
		counts_add(&mu->total, &r.counts);
	}
	target_close(&t);
}

static int by_name(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

/* -r: the regular files below @dir, in name order; links not followed. */
static void multi_tree(struct multi *mu, char *dir)
{
	char *paths[] = { dir, NULL };
	FTSENT *e;
	FTS *fts;

	fts = fts_open(paths, FTS_PHYSICAL | FTS_COMFOLLOW | FTS_NOCHDIR,
		       by_name);
	if (!fts) {
		mu->status = fail("%s", dir);
		return;
	}
	for (;;) {
		errno = 0;
		e = fts_read(fts);
		if (!e)
			break;
		switch (e->fts_info) {
		case FTS_F:
			multi_file(mu, e->fts_path);
			break;
		case FTS_DNR:
		case FTS_ERR:
		case FTS_NS:
			errno = e->fts_errno;
			mu->status = fail("%s", e->fts_path);
			break;
		default:	/* directories, links, devices, sockets */
			break;
		}
	}
	if (errno)
		mu->status = fail("%s", dir);
	fts_close(fts);
}

static int probe_multi(const struct cli_opts *o, char **files, int n)
{
	struct multi mu = {
		.o = o, .page_size = sysconf(_SC_PAGESIZE),
		.status = EXIT_OK,
	};
	char label[64];
	int i;

	mu.g = device_open();
	if (!mu.g)
		return EXIT_FAILED;
	if (o->json)
		fputs("{\"files\":[", stdout);
	else
		print_table_header(stdout, o->flags, "", "FILE");
	for (i = 0; i < n; i++) {
		if (o->recursive)
			multi_tree(&mu, files[i]);
		else
			multi_file(&mu, files[i]);
	}
	if (o->json) {
		printf("],\"total\":{\"files\":%u", mu.files);
		print_json_counts(stdout, mu.pages, &mu.total);
		fputs("}}\n", stdout);
	} else {
		snprintf(label, sizeof(label), "total (%u file%s)", mu.files,
			 mu.files == 1 ? "" : "s");
		print_table_row(stdout, o->flags, "", mu.pages, &mu.total,
				label);
	}
	gupnw_close(mu.g);
	return mu.status;
}

int cmd_probe(int argc, char **argv)
{
	struct probe_report r = { .page_size = sysconf(_SC_PAGESIZE) };
	struct cli_opts o = { 0 };
	bool has_length;
	int ret, nargs;

	ret = parse_opts(argc, argv, "probe", PROBE_OPTS, &o);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : ret;
	if (o.wait)
		o.flags |= GUPNW_WAIT;

	argv += optind;
	nargs = argc - optind;
	if (o.recursive && o.pid)
		return usage_error("-r and --pid exclude each other");
	/* A second argument that starts with a digit is an OFFSET. */
	if (!o.pid && nargs > 0 && (o.recursive ||
		       (nargs > 1 && !isdigit((unsigned char)argv[1][0]))))
		return probe_multi(&o, argv, nargs);
	ret = parse_range(&o, "probe", nargs, argv, &r, &has_length);
	if (ret)
		return ret;
	return run_on_target(&o, &r, has_length, probe_single);
}
