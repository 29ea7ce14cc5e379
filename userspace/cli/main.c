// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw: show, per page of a range, whether touching it now would need I/O,
 * without waiting for that I/O.  This file dispatches the subcommands and
 * holds what they share: usage, version and error messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gupnw.h"

#include "cli.h"

#define STR(x)		#x
#define XSTR(x)		STR(x)
#define TOOL_VERSION	XSTR(GUPNW_VERSION_MAJOR) "." \
			XSTR(GUPNW_VERSION_MINOR) "." \
			XSTR(GUPNW_VERSION_PATCH)

static const char usage_probe[] =
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

static const char usage_maps[] =
	"usage: gupnw maps [OPTIONS] --pid PID|self\n"
	"\n"
	"Every mapping of PID with its pages per state, in memory, out on swap\n"
	"and never touched.  Report only: changes nothing.\n"
	"\n"
	"      --pid PID|self the process (ptrace rights), or gupnw itself\n"
	"      --fault        NOWAIT probes instead: fault in, start I/O\n"
	"  -J, --json         one JSON object\n"
	"  -b, --bytes        amounts in bytes, not pages\n"
	"  -n, --noheadings   no heading lines\n"
	"      --raw          table without padding\n"
	"  -o, --output COLS  columns, of PAGES,R,F,W,C,N,.,E,MEM%,SWAP,\n"
	"                     UNTOUCHED,NAME\n"
	"See gupnw-maps(1).\n";

static const char usage_prefetch[] =
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

static const char usage_watch[] =
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

static const struct {
	const char *name;
	const char *usage;
} command_usage[] = {
	{ "probe", usage_probe },
	{ "maps", usage_maps },
	{ "prefetch", usage_prefetch },
	{ "watch", usage_watch },
};

void print_command_usage(FILE *f, const char *cmd)
{
	unsigned int i;

	for (i = 0; i < sizeof(command_usage) / sizeof(command_usage[0]); i++)
		if (!strcmp(cmd, command_usage[i].name)) {
			fputs(command_usage[i].usage, f);
			return;
		}
	print_usage(f);
}

void print_usage(FILE *f)
{
	fputs("usage: gupnw probe [OPTIONS] [-p RANGE] FILE...\n"
	      "       gupnw probe [OPTIONS] --pid PID ADDR LENGTH\n"
	      "       gupnw maps [OPTIONS] --pid PID|self\n"
	      "       gupnw prefetch [OPTIONS] FILE...\n"
	      "       gupnw watch [OPTIONS] [-p RANGE] FILE\n"
	      "       gupnw watch [OPTIONS] --pid PID ADDR LENGTH\n"
	      "       gupnw --version\n"
	      "       gupnw --help\n"
	      "\n"
	      "Show, per page of a range, whether touching it now would need I/O,\n"
	      "without waiting for that I/O.\n"
	      "\n"
	      "Commands:\n"
	      "  probe     per page, what a touch would cost (summary, map, JSON)\n"
	      "  maps      every mapping of a process: in memory, on swap, untouched\n"
	      "  prefetch  start the reads of what is not in memory, wait for none\n"
	      "  watch     probe again and again\n"
	      "'gupnw COMMAND --help' shows the options of COMMAND.\n"
	      "\n"
	      "Numbers are read as in C (42, 0x2a, 052); sizes may end in K, M, G\n"
	      "or T (powers of 1024).\n"
	      "States: R resident, F faulted, W retry (needs I/O), C cold,\n"
	      ". unmapped, E error, N not present (--no-fault).\n"
	      "Exit status: 0 probed, 1 could not probe, 2 usage error.\n"
	      "See gupnw(1), gupnw-probe(1), gupnw-maps(1), gupnw-prefetch(1),\n"
	      "gupnw-watch(1).\n", f);
}

int fail(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	fputs("gupnw: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err));
	return EXIT_FAILED;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("gupnw: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

struct gupnw *device_open(void)
{
	struct gupnw *g = gupnw_open();

	/* no device node: most likely the module is not loaded, say how */
	if (!g && errno == ENOENT)
		fprintf(stderr, "gupnw: %s: %s (is the module loaded? modprobe gupnw)\n",
			gupnw_device_path(), strerror(ENOENT));
	else if (!g)
		fail("%s", gupnw_device_path());
	return g;
}

/* "features: probe target_fd ..." of GET_INFO, as scripts may test them. */
static void print_features(uint64_t features)
{
	static const char *const names[] = {
		"probe", "target_fd", "extents", "io_cap", "uring_cmd", "cold",
		"async_fault",
	};
	unsigned int i;

	fputs("features:", stdout);
	for (i = 0; i < 64; i++) {
		if (!(features & (UINT64_C(1) << i)))
			continue;
		if (i < sizeof(names) / sizeof(names[0]))
			printf(" %s", names[i]);
		else
			printf(" bit%u", i);
	}
	putchar('\n');
}

/* Always succeeds: a missing module is information, not a failure. */
static int cmd_version(void)
{
	struct gupnw_module_info info;
	struct gupnw *g;

	printf("gupnw %s\n", TOOL_VERSION);
	printf("library: %s\n", gupnw_version());
	g = gupnw_open();
	if (g && !gupnw_module_info(g, &info)) {
		printf("module: %s (abi %u)\n", info.version,
		       info.abi_version);
		print_features(info.features);
	}
	else
		printf("module: not loaded (%s: %s)\n", gupnw_device_path(),
		       strerror(errno));
	gupnw_close(g);
	return EXIT_OK;
}

/* Edits (insert, delete, replace, swap two neighbours) from @a to @b. */
static unsigned int edit_distance(const char *a, const char *b)
{
	unsigned int d[16][16], i, j, la = strlen(a), lb = strlen(b), v;

	if (la >= 16 || lb >= 16)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

static int run(int argc, char **argv)
{
	const char *cmd;
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "probe", cmd_probe },
		{ "maps", cmd_maps },
		{ "prefetch", cmd_prefetch },
		{ "watch", cmd_watch },
	};
	unsigned int i, d, best_d = 99;
	const char *best = NULL;

	if (argc < 2)
		return usage_error("missing command (try 'gupnw --help')");
	cmd = argv[1];
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version"))
		return cmd_version();
	/* The nearest command, if it is near: a typo, or a prefix. */
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		d = edit_distance(cmd, commands[i].name);
		if (strlen(cmd) >= 2 &&
		    !strncmp(cmd, commands[i].name, strlen(cmd)) && d > 1)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = commands[i].name;
		}
	}
	/* One edit in four letters, two in eight: a typo, not a guess. */
	if (best && best_d <= (strlen(cmd) + 3) / 4)
		return usage_error("unknown command '%s': did you mean '%s'?",
				   cmd, best);
	return usage_error("unknown command '%s' (try 'gupnw --help')", cmd);
}

int main(int argc, char **argv)
{
	int ret = run(argc, argv);

	/* A report cut short (full disk, closed pipe) is a failure. */
	if (fclose(stdout) && ret == EXIT_OK)
		ret = fail("standard output");
	return ret;
}
