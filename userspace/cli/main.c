// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw: show, per page of a range, whether touching it now would need I/O,
 * without waiting for that I/O.  This file dispatches the subcommands and
 * holds what they share: usage, version and error messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gupnw.h"

#include "cli.h"

#define STR(x)		#x
#define XSTR(x)		STR(x)
#define TOOL_VERSION	XSTR(GUPNW_VERSION_MAJOR) "." \
			XSTR(GUPNW_VERSION_MINOR) "." \
			XSTR(GUPNW_VERSION_PATCH)

void print_usage(FILE *f)
{
	fputs("usage: gupnw probe [OPTIONS] FILE [OFFSET [LENGTH]]\n"
	      "       gupnw probe [OPTIONS] --pid PID ADDR LENGTH\n"
	      "       gupnw probe [OPTIONS] FILE... | -r DIR...\n"
	      "       gupnw maps [--json] [--fault] --pid PID|self\n"
	      "       gupnw prefetch [--json] [--wait [--interval SEC] [--timeout SEC]] FILE...\n"
	      "       gupnw watch [OPTIONS] [--interval SEC] [--count N] FILE [OFFSET [LENGTH]]\n"
	      "       gupnw watch [OPTIONS] [--interval SEC] [--count N] --pid PID ADDR LENGTH\n"
	      "       gupnw --version\n"
	      "       gupnw --help\n"
	      "\n"
	      "Show, per page of a range, whether touching it now would need I/O,\n"
	      "without waiting for that I/O.  FILE is mapped read-only and shared.\n"
	      "\n"
	      "probe and watch options:\n"
	      "  --json         JSON: one object, with one state letter per page\n"
	      "  --no-fault     report only: fault nothing in, start no I/O\n"
	      "  --write        probe for write access\n"
	      "  --wait         ordinary blocking probe, as a baseline\n"
	      "  --pid PID      probe process PID (needs ptrace rights over it)\n"
	      "  --map-width N  cells of the map (default: terminal width)\n"
	      "  --color[=WHEN] colour the map: auto (default), always, never\n"
	      "  --ranges       (probe) runs of pages in one state: start-end state\n"
	      "  -r, --recursive (probe) the files below each DIR\n"
	      "  --interval SEC (watch) between frames (default 1)\n"
	      "  --count N      (watch) stop after N frames\n"
	      "maps: every mapping of PID with its pages per state, report only\n"
	      "  (--fault: NOWAIT probes, which fault in and start I/O).\n"
	      "prefetch: start the I/O of every page not in memory, wait for none;\n"
	      "  --wait: until all are resident, re-probing every --interval SEC\n"
	      "  (default 0.1) for at most --timeout SEC (default: no limit).\n"
	      "\n"
	      "Numbers are read as in C (42, 0x2a, 052); OFFSET and LENGTH may\n"
	      "end in K, M or G (powers of 1024).  LENGTH defaults to end of file.\n"
	      "States: R resident, F faulted, W retry (needs I/O), . unmapped,\n"
	      "E error, N not present (--no-fault).\n"
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

	if (!g)
		fail("%s", gupnw_device_path());
	return g;
}

/* Always succeeds: a missing module is information, not a failure. */
static int cmd_version(void)
{
	struct gupnw_module_info info;
	struct gupnw *g;

	printf("gupnw %s\n", TOOL_VERSION);
	printf("library: %s\n", gupnw_version());
	g = gupnw_open();
	if (g && !gupnw_module_info(g, &info))
		printf("module: %s (abi %u)\n", info.version,
		       info.abi_version);
	else
		printf("module: not loaded (%s: %s)\n", gupnw_device_path(),
		       strerror(errno));
	gupnw_close(g);
	return EXIT_OK;
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
	unsigned int i;

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
