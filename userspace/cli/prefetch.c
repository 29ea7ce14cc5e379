// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: the prefetch subcommand.  One default (NOWAIT) probe of each
 * file starts the I/O of every page that is not in memory and waits for
 * none of it; --wait then watches the pages arrive until every one is
 * resident (or --timeout).  A file is mapped only while it is probed, so
 * there is no limit on the number of files (vm.max_map_count, address
 * space).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gupnw.h"

#include "cli.h"
#include "opts.h"
#include "output.h"
#include "target.h"
#include "term.h"

#define PREFETCH_OPTS	(OPT_JSON | OPT_WAIT | OPT_INTERVAL | OPT_TIMEOUT | \
			 OPT_TABLE)

static const char usage[] =
	"usage: gupnw prefetch [OPTIONS] FILE...\n"
	"\n"
	"Start the I/O of every page of each FILE not in memory; wait for none.\n"
	"\n"
	"      --wait         until all are resident, re-probing every\n"
	"      --interval SEC (default 0.1) for at most\n"
	"      --timeout SEC  a file (default 600; 0: no limit)\n"
	"  -J, --json         one JSON object\n"
	"  -b, --bytes        amounts in bytes, not pages\n"
	"  -n, --noheadings   no heading line\n"
	"      --raw          table without padding\n"
	"  -o, --output COLS  table columns\n"
	"See gupnw-prefetch(1).\n";

#define DEFAULT_INTERVAL_MS	100
/* --wait gives up on a file after this long; gupnw-prefetch(1). */
#define DEFAULT_TIMEOUT_MS	(600 * 1000)

/* A file being prefetched. */
struct pf_file {
	struct probe_report r;		/* the counts of the first probe */
	bool ok;			/* opened and probed */
	uint64_t resident;		/* --wait: pages in memory at the end */
	uint64_t waited_ms;
};

/* Counts of one pass of --wait. */
struct pass {
	struct gupnw *g;
	const struct target *t;
	uint64_t resident;		/* in memory now */
	uint64_t settled;		/* unmapped or refused: never resident */
};

/*
 * A window of a pass has been looked at (NOFAULT).  Pages that arrived
 * since the last pass are in the page cache but not yet mapped, so NOFAULT
 * still reads them N; pages whose read was never started, or that were
 * evicted or swapped out since, read C.  Where there are either, a NOWAIT
 * probe maps the first (F) and starts the reads of the others (W), up to
 * the module's cap on I/O per call.
 */
static int pass_window(void *arg, uint64_t first, size_t n,
		       const unsigned char *states,
		       const struct gupnw_counts *c)
{
	struct window_walk nowait = { .flags = 0 };
	struct gupnw_counts again = { 0 };
	struct pass *p = arg;

	(void)states;
	p->settled += c->unmapped + c->error;
	if (!c->notpresent && !c->cold) {
		p->resident += c->resident;
		return 0;
	}
	if (probe_windows(p->g, p->t, first, n, &nowait, &again))
		return -1;
	p->resident += again.resident + again.faulted;
	return 0;
}

/* One line of progress: a bar on a terminal, else a line per change. */
static void show_progress(const struct pf_file *pf, uint64_t resident,
			  uint64_t pages, uint64_t ms, bool tty, bool last)
{
	char line[MAP_MAX_CELLS + 1];
	unsigned int cols;

	if (tty) {
		cols = term_columns(STDOUT_FILENO);
		format_progress(line, cols <= sizeof(line) ? cols - 1
							   : sizeof(line) - 1,
				pf->r.file, resident, pages);
		printf("\r%s%s", line, last ? "\n" : "");
	} else {
		printf("%s: %" PRIu64 "/%" PRIu64 " pages resident (%.1f%%) after %.1f s\n",
		       pf->r.file, resident, pages,
		       pages ? 100.0 * (double)resident / (double)pages : 100.0,
		       (double)ms / 1000);
	}
	fflush(stdout);
}

static int wait_passes(struct gupnw *g, const struct cli_opts *o,
		       struct pf_file *pf, const struct target *t)
{
	struct pass p = { .g = g, .t = t };
	struct window_walk nofault = {
		.flags = GUPNW_NOFAULT, .fn = pass_window, .arg = &p,
	};
	bool tty = !o->json && isatty(STDOUT_FILENO);
	uint64_t start = now_ms(), shown = UINT64_MAX, ms;
	struct gupnw_counts c;
	bool done;

	for (;;) {
		p.resident = p.settled = 0;
		memset(&c, 0, sizeof(c));
		if (probe_windows(g, t, 0, t->pages, &nofault, &c))
			return fail("probe %s", pf->r.file);
		ms = now_ms() - start;
		done = p.resident + p.settled >= t->pages;
		pf->resident = p.resident;
		pf->waited_ms = ms;
		if (!o->json && (tty || done || p.resident != shown))
			show_progress(pf, p.resident, t->pages, ms, tty, done);
		shown = p.resident;
		if (done)
			return EXIT_OK;
		if (o->timeout_ms && ms >= o->timeout_ms) {
			if (tty)
				putchar('\n');
			fprintf(stderr, "gupnw: prefetch %s: gave up after %.1f s (--timeout), %"
				PRIu64 " of %" PRIu64 " pages resident\n",
				pf->r.file, (double)ms / 1000, p.resident,
				t->pages);
			return EXIT_FAILED;
		}
		sleep_ms(o->interval_ms);
	}
}

/* --wait: the file mapped again, only while its pages are waited for. */
static int wait_resident(struct gupnw *g, const struct cli_opts *o,
			 struct pf_file *pf)
{
	struct probe_report r = {
		.file = pf->r.file, .page_size = pf->r.page_size,
	};
	struct target t = TARGET_INIT;
	int ret;

	ret = target_open_file(&t, &r, false);
	if (!ret)
		ret = wait_passes(g, o, pf, &t);
	target_close(&t);
	return ret;
}

/* The first probe: starts the I/O, waits for nothing, unmaps the file. */
static int start_file(struct gupnw *g, struct pf_file *pf)
{
	struct window_walk nowait = { .flags = 0, .progress = true };
	struct target t = TARGET_INIT;
	int ret = EXIT_FAILED;

	pf->r.page_size = sysconf(_SC_PAGESIZE);
	if (target_open_file(&t, &pf->r, false))
		goto out;
	if (probe_windows(g, &t, 0, t.pages, &nowait, &pf->r.counts)) {
		fail("probe %s", pf->r.file);
		goto out;
	}
	pf->ok = true;
	ret = EXIT_OK;
out:
	target_close(&t);
	return ret;
}

static void print_file_json(const struct cli_opts *o, const struct pf_file *pf,
			    const char *sep)
{
	printf("%s{\"file\":", sep);
	print_json_string(stdout, pf->r.file);
	print_json_counts(stdout, pf->r.pages, &pf->r.counts);
	if (o->wait)
		printf(",\"resident_after_wait\":%" PRIu64 ",\"waited_ms\":%" PRIu64,
		       pf->resident, pf->waited_ms);
	putchar('}');
}

static void print_summary(const struct cli_opts *o, const struct pf_file *pf,
			  int n)
{
	struct gupnw_counts total = { 0 };
	uint64_t pages = 0;
	unsigned int files = 0;
	char label[64];
	int i;

	if (o->json)
		fputs("{\"files\":[", stdout);
	for (i = 0; i < n; i++) {
		if (!pf[i].ok)
			continue;
		if (o->json)
			print_file_json(o, &pf[i], files ? "," : "");
		files++;
		pages += pf[i].r.pages;
		counts_add(&total, &pf[i].r.counts);
	}
	if (o->json) {
		printf("],\"total\":{\"files\":%u", files);
		print_json_counts(stdout, pages, &total);
		fputs("}}\n", stdout);
		return;
	}
	snprintf(label, sizeof(label), "total (%u file%s)", files,
		 files == 1 ? "" : "s");
	print_table_row(stdout, &o->table, "", pages, &total, label);
}

static int cmd_prefetch(int argc, char **argv)
{
	struct cli_opts o = {
		.interval_ms = DEFAULT_INTERVAL_MS,
		.timeout_ms = DEFAULT_TIMEOUT_MS,
	};
	struct pf_file *pf;
	struct gupnw *g;
	int i, n, ret;

	ret = parse_opts(argc, argv, &prefetch_command, &o);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : ret;
	n = argc - optind;
	if (n < 1)
		return usage_error("prefetch takes FILE... (try 'gupnw prefetch --help')");
	if (!o.wait && (o.timeout_ms != DEFAULT_TIMEOUT_MS ||
			o.interval_ms != DEFAULT_INTERVAL_MS))
		return usage_error("--interval and --timeout go with --wait");
	ret = setup_table(&o, 0);
	if (ret)
		return ret;

	g = device_open();
	if (!g)
		return EXIT_FAILED;
	pf = calloc(n, sizeof(*pf));
	if (!pf) {
		ret = fail("prefetch");
		goto out_close;
	}
	if (!o.json)
		print_table_header(stdout, &o.table, "", "FILE");
	for (i = 0; i < n; i++) {
		pf[i].r.file = argv[optind + i];
		if (start_file(g, &pf[i]))
			ret = EXIT_FAILED;
		else if (!o.json)
			print_table_row(stdout, &o.table, "", pf[i].r.pages,
					&pf[i].r.counts, pf[i].r.file);
	}
	if (!o.json && n > 1)
		print_summary(&o, pf, n);
	fflush(stdout);
	for (i = 0; o.wait && i < n; i++)
		if (pf[i].ok && wait_resident(g, &o, &pf[i]))
			ret = EXIT_FAILED;
	if (o.json)
		print_summary(&o, pf, n);

	free(pf);
out_close:
	gupnw_close(g);
	return ret;
}

const struct command prefetch_command = {
	.name = "prefetch",
	.usage = usage,
	.opts = PREFETCH_OPTS,
	.run = cmd_prefetch,
};
