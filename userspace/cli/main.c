// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw: show, per page of a range, whether touching it now would need I/O,
 * without waiting for that I/O.  This file dispatches: each subcommand, its
 * usage and its options are in its own file (probe.c, maps.c, prefetch.c,
 * watch.c; --version in version.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "parse.h"

static const struct command *const commands[] = {
	&probe_command,
	&maps_command,
	&prefetch_command,
	&watch_command,
};

#define NR_COMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
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

/* An unknown command: the nearest one, if it is near (a typo, a prefix). */
static int unknown_command(const char *cmd)
{
	unsigned int i, d, best_d = 99;
	const char *best = NULL, *name;

	for (i = 0; i < NR_COMMANDS; i++) {
		name = commands[i]->name;
		d = edit_distance(cmd, name);
		if (strlen(cmd) >= 2 && !strncmp(cmd, name, strlen(cmd)) &&
		    d > 1)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = name;
		}
	}
	/* One edit in four letters, two in eight: a typo, not a guess. */
	if (best && best_d <= (strlen(cmd) + 3) / 4)
		return usage_error("unknown command '%s': did you mean '%s'?",
				   cmd, best);
	return usage_error("unknown command '%s' (try 'gupnw --help')", cmd);
}

static int run(int argc, char **argv)
{
	const char *cmd;
	unsigned int i;

	if (argc < 2)
		return usage_error("missing command (try 'gupnw --help')");
	cmd = argv[1];
	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(cmd, commands[i]->name))
			return commands[i]->run(argc - 1, argv + 1);
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version"))
		return cmd_version();
	return unknown_command(cmd);
}

int main(int argc, char **argv)
{
	int ret = run(argc, argv);

	/* A report cut short (full disk, closed pipe) is a failure. */
	if (fclose(stdout) && ret == EXIT_OK)
		ret = fail("standard output");
	return ret;
}
