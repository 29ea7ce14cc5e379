/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gupnw tool: the options of the subcommands, read in one place. */
#ifndef GUPNW_CLI_OPTS_H
#define GUPNW_CLI_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "output.h"
#include "term.h"

/* Which options a subcommand takes. */
#define OPT_JSON	(1u << 0)
#define OPT_NO_FAULT	(1u << 1)
#define OPT_WRITE	(1u << 2)
#define OPT_WAIT	(1u << 3)
#define OPT_PID		(1u << 4)
#define OPT_PID_SELF	(1u << 5)	/* --pid self */
#define OPT_MAP_WIDTH	(1u << 6)
#define OPT_COLOR	(1u << 7)
#define OPT_RECURSIVE	(1u << 8)
#define OPT_RANGES	(1u << 9)
#define OPT_FAULT	(1u << 10)
#define OPT_INTERVAL	(1u << 11)
#define OPT_TIMEOUT	(1u << 12)
#define OPT_COUNT	(1u << 13)
#define OPT_RANGE	(1u << 14)	/* -p START-END */
#define OPT_TABLE	(1u << 15)	/* -b, -n, --raw, -o */

/* What a probe of a range takes, in probe and watch alike. */
#define OPT_SET_PROBE	(OPT_JSON | OPT_NO_FAULT | OPT_WRITE | OPT_WAIT | \
			 OPT_PID | OPT_MAP_WIDTH | OPT_COLOR | OPT_RANGE | \
			 OPT_TABLE)

struct cli_opts {
	bool json, ranges, recursive, fault, wait;
	bool bytes, raw, noheadings;	/* -b, --raw, -n */
	const char *columns;		/* -o, or NULL */
	bool has_range, range_has_end;	/* -p START-END */
	uint64_t range_start, range_end;
	struct table table;		/* set by setup_table() */
	unsigned int flags;		/* GUPNW_NOFAULT, GUPNW_WRITE */
	unsigned int map_width;		/* 0: from the terminal */
	pid_t pid;			/* 0: no --pid */
	bool self;			/* --pid self */
	enum color_when color;
	uint64_t interval_ms;		/* 0: the subcommand's default */
	uint64_t timeout_ms;		/* 0: none; prefetch has a default */
	uint64_t count;			/* 0: no limit */
};

/* parse_opts() printed the usage for --help: exit 0. */
#define OPTS_HELP	(-1)

struct command;

/*
 * Read the options of subcommand @cmd, those in cmd->opts; operands start
 * at argv[optind] then.  EXIT_OK, OPTS_HELP, or EXIT_USAGE once the message
 * is printed.
 */
int parse_opts(int argc, char **argv, const struct command *cmd,
	       struct cli_opts *o);

/*
 * parse_opts() for a probe of a range (probe, watch): --wait is
 * GUPNW_WAIT, and o->table is set up for the mode.  As parse_opts().
 */
int parse_probe_opts(int argc, char **argv, const struct command *cmd,
		     struct cli_opts *o);

struct probe_report;

/*
 * The operands of a probe of one target (probe, watch): FILE (its part
 * -p), or ADDR LENGTH with --pid, into @r (file, pid, start, length,
 * flags); @has_length says whether a length was given.  EXIT_OK, or
 * EXIT_USAGE once the message is printed.
 */
int parse_range(const struct cli_opts *o, const char *cmd, int nargs,
		char **args, struct probe_report *r, bool *has_length);

/* @r's part of its file: -p START-END, or the whole file. */
void apply_file_range(const struct cli_opts *o, struct probe_report *r,
		      bool *has_length);

/*
 * o->table for mode @flags from -b, -n, --raw and -o.  EXIT_OK, or
 * EXIT_USAGE once the message is printed.
 */
int setup_table(struct cli_opts *o, unsigned int flags);

/* Cells of the map: --map-width, else the terminal's width. */
unsigned int map_width(const struct cli_opts *o);

#endif /* GUPNW_CLI_OPTS_H */
