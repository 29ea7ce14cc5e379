// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: the probe subcommand.  Every argument is a file, as with
 * vmtouch and fincore; -p picks the part of each.  One FILE (or a range of
 * process PID): the full report, counts and map.  Several files, or
 * directories with -r: a line per file and a total.
 */
#include <errno.h>
#include <fts.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gupnw.h"

#include "cli.h"
#include "opts.h"
#include "output.h"
#include "parse.h"
#include "report.h"
#include "target.h"

#define PROBE_OPTS	(OPT_SET_PROBE | OPT_RECURSIVE | OPT_RANGES)

static const char usage[] =
	"usage: gupnw probe [OPTIONS] [-p RANGE] FILE...\n"
	"       gupnw probe [OPTIONS] -r DIR...\n"
	"       gupnw probe [OPTIONS] --pid PID ADDR LENGTH\n"
	"\n"
	"Show, per page, what touching it now would cost, without waiting for\n"
	"any I/O.  Every argument is a file (mapped read-only and shared); one\n"
	"gets a summary and a map, several a line each and a total.\n"
	"\n"
	"  -p, --range RANGE  the part of each file: START-END, START- or -END\n"
	"                     (bytes, END exclusive, K/M/G/T suffixes)\n"
	"  -r, --recursive    the files below each DIR\n"
	"      --pid PID      ADDR LENGTH of process PID (ptrace rights); a\n"
	"                     LENGTH past the end of user space is cut there\n"
	"      --no-fault     report only: fault nothing in, start no I/O\n"
	"      --write        probe for write access\n"
	"      --wait         ordinary blocking probe, as a baseline\n"
	"  -J, --json         one JSON object (\"map\": a letter per page)\n"
	"      --ranges       runs of pages in one state: start-end state\n"
	"  -b, --bytes        amounts in bytes, not pages\n"
	"  -n, --noheadings   no heading line in the table\n"
	"      --raw          table without padding\n"
	"  -o, --output COLS  table columns, of PAGES,R,F,W,C,N,.,E,MEM%,NAME\n"
	"      --map-width N  cells of the map (default: terminal width)\n"
	"      --color[=WHEN] colour the map: auto (default), always, never\n"
	"\n"
	"States: R resident, F faulted, W retry (I/O under way), C cold (a read\n"
	"from storage, not started), . unmapped, E error, N in memory but not\n"
	"mapped (--no-fault).  See gupnw-probe(1).\n";

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
	unsigned int objects;		/* JSON objects written */
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
	bool has_length;
	int ret;

	apply_file_range(mu->o, &r, &has_length);
	if (target_open_file(&t, &r, has_length)) {
		mu->status = EXIT_FAILED;
		target_close(&t);
		return;
	}
	/* A failed probe still closes its JSON object: count it. */
	ret = report_target(stdout, mu->g, mu->o, &r, &t, true,
			    mu->objects ? "," : "");
	mu->objects++;
	if (ret) {
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
		case FTS_SLNONE:
			/*
			 * An operand that is a dangling link or a loop is an
			 * error as without -r; in the tree links are skipped.
			 */
			if (e->fts_level == FTS_ROOTLEVEL) {
				struct stat st;

				if (!stat(e->fts_accpath, &st))
					errno = ENOENT;	/* gone since */
				mu->status = fail("%s", e->fts_path);
			}
			break;
		case FTS_DEFAULT:
			/*
			 * An operand that is a FIFO, socket or device: a block
			 * device is probed, the rest refused, as without -r.
			 */
			if (e->fts_level == FTS_ROOTLEVEL)
				multi_file(mu, e->fts_path);
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
		print_table_header(stdout, &o->table, "", "FILE");
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
		print_table_row(stdout, &o->table, "", mu.pages, &mu.total,
				label);
	}
	gupnw_close(mu.g);
	return mu.status;
}

static int cmd_probe(int argc, char **argv)
{
	struct cli_opts o = { 0 };
	int ret, nargs;

	ret = parse_probe_opts(argc, argv, &probe_command, &o);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : ret;

	argv += optind;
	nargs = argc - optind;
	if (o.recursive && o.pid)
		return usage_error("-r and --pid exclude each other");
	if (!o.pid && nargs < 1)
		return usage_error("probe takes FILE... (try 'gupnw probe --help')");
	/* Every argument is a file: one gets the full report. */
	if (!o.pid && (o.recursive || nargs > 1))
		return probe_multi(&o, argv, nargs);
	return run_on_target(&o, "probe", nargs, argv, probe_single);
}

const struct command probe_command = {
	.name = "probe",
	.usage = usage,
	.opts = PROBE_OPTS,
	.run = cmd_probe,
};
