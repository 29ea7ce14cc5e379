// SPDX-License-Identifier: LGPL-2.1-or-later
/* gupnw tool: the options of the subcommands, read in one place. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gupnw.h"

#include "cli.h"
#include "opts.h"
#include "output.h"
#include "parse.h"

/* getopt_long values: above every short option. */
enum { V_NO_FAULT = 256, V_WRITE, V_WAIT, V_PID, V_MAP_WIDTH,
       V_COLOR, V_RANGES, V_FAULT, V_INTERVAL, V_TIMEOUT, V_COUNT, V_RAW };

/*
 * Short options follow util-linux fincore where they mean the same: -J
 * JSON, -b bytes, -n no headings, -o columns.  fincore's -r (raw) is
 * --raw here: -r has always been --recursive in gupnw (gupnw-probe(1)).
 * -p is vmtouch's range.
 */

static const struct {
	unsigned int bit;
	struct option opt;
} all_options[] = {
	{ OPT_JSON,	{ "json",	no_argument,	   NULL, 'J' } },
	{ OPT_NO_FAULT,	{ "no-fault",	no_argument,	   NULL, V_NO_FAULT } },
	{ OPT_WRITE,	{ "write",	no_argument,	   NULL, V_WRITE } },
	{ OPT_WAIT,	{ "wait",	no_argument,	   NULL, V_WAIT } },
	{ OPT_PID,	{ "pid",	required_argument, NULL, V_PID } },
	{ OPT_MAP_WIDTH, { "map-width",	required_argument, NULL, V_MAP_WIDTH } },
	{ OPT_COLOR,	{ "color",	optional_argument, NULL, V_COLOR } },
	{ OPT_COLOR,	{ "colour",	optional_argument, NULL, V_COLOR } },
	{ OPT_RECURSIVE, { "recursive",	no_argument,	   NULL, 'r' } },
	{ OPT_RANGES,	{ "ranges",	no_argument,	   NULL, V_RANGES } },
	{ OPT_FAULT,	{ "fault",	no_argument,	   NULL, V_FAULT } },
	{ OPT_INTERVAL,	{ "interval",	required_argument, NULL, V_INTERVAL } },
	{ OPT_TIMEOUT,	{ "timeout",	required_argument, NULL, V_TIMEOUT } },
	{ OPT_COUNT,	{ "count",	required_argument, NULL, V_COUNT } },
	{ OPT_RANGE,	{ "range",	required_argument, NULL, 'p' } },
	{ OPT_TABLE,	{ "bytes",	no_argument,	   NULL, 'b' } },
	{ OPT_TABLE,	{ "noheadings",	no_argument,	   NULL, 'n' } },
	{ OPT_TABLE,	{ "raw",	no_argument,	   NULL, V_RAW } },
	{ OPT_TABLE,	{ "output",	required_argument, NULL, 'o' } },
};

/* The short options, each with the option bit that allows it. */
static const struct {
	unsigned int bit;
	const char *spec;
} short_options[] = {
	{ OPT_JSON, "J" },
	{ OPT_RECURSIVE, "r" },
	{ OPT_RANGE, "p:" },
	{ OPT_TABLE, "bno:" },
};

#define NR_OPTIONS	(sizeof(all_options) / sizeof(all_options[0]))

/* One option's argument.  EXIT_OK or EXIT_USAGE. */
static int set_value(int c, const char *arg, unsigned int allowed,
		     struct cli_opts *o)
{
	uint64_t v;

	switch (c) {
	case V_PID:
		if ((allowed & OPT_PID_SELF) && !strcmp(arg, "self")) {
			o->self = true;
			o->pid = getpid();
		} else if (parse_pid(arg, &o->pid)) {
			return usage_error("bad pid '%s'", arg);
		}
		return EXIT_OK;
	case V_MAP_WIDTH:
		if (parse_u64(arg, false, &v) || !v || v > MAP_MAX_CELLS)
			return usage_error("bad map width '%s'", arg);
		o->map_width = v;
		return EXIT_OK;
	case V_COLOR:
		if (!arg || !strcmp(arg, "always"))
			o->color = COLOR_ALWAYS;
		else if (!strcmp(arg, "auto"))
			o->color = COLOR_AUTO;
		else if (!strcmp(arg, "never"))
			o->color = COLOR_NEVER;
		else
			return usage_error("bad colour '%s' (auto, always or never)",
					   arg);
		return EXIT_OK;
	case V_INTERVAL:
		if (parse_seconds(arg, &o->interval_ms) || !o->interval_ms)
			return usage_error("bad interval '%s'", arg);
		return EXIT_OK;
	case V_TIMEOUT:
		/* 0: no limit */
		if (parse_seconds(arg, &o->timeout_ms))
			return usage_error("bad timeout '%s'", arg);
		return EXIT_OK;
	case V_COUNT:
		if (parse_u64(arg, false, &o->count) || !o->count)
			return usage_error("bad count '%s'", arg);
		return EXIT_OK;
	case 'p':
		if (parse_byte_range(arg, &o->range_start, &o->range_end,
				     &o->range_has_end))
			return usage_error("bad range '%s' (START-END, START- or -END)",
					   arg);
		o->has_range = true;
		return EXIT_OK;
	case 'o':
		o->columns = arg;
		return EXIT_OK;
	}
	return EXIT_OK;
}

static void set_flag(int c, struct cli_opts *o)
{
	switch (c) {
	case 'J':
		o->json = true;
		break;
	case 'b':
		o->bytes = true;
		break;
	case 'n':
		o->noheadings = true;
		break;
	case V_RAW:
		o->raw = true;
		break;
	case V_NO_FAULT:
		o->flags |= GUPNW_NOFAULT;
		break;
	case V_WRITE:
		o->flags |= GUPNW_WRITE;
		break;
	case V_WAIT:
		o->wait = true;
		break;
	case 'r':
		o->recursive = true;
		break;
	case V_RANGES:
		o->ranges = true;
		break;
	case V_FAULT:
		o->fault = true;
		break;
	}
}

int parse_opts(int argc, char **argv, const struct command *cmd,
	       struct cli_opts *o)
{
	unsigned int i, n = 0, allowed = cmd->opts;
	struct option opts[NR_OPTIONS + 2];
	char shorts[32] = ":h";
	int c, ret;

	for (i = 0; i < NR_OPTIONS; i++)
		if (all_options[i].bit & allowed)
			opts[n++] = all_options[i].opt;
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	for (i = 0; i < sizeof(short_options) / sizeof(short_options[0]); i++)
		if (short_options[i].bit & allowed)
			strcat(shorts, short_options[i].spec);

	optind = 0;		/* a fresh scan, for every subcommand */
	opterr = 0;		/* one message of our own, not getopt's */
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(cmd->usage, stdout);
			return OPTS_HELP;
		case ':':
			return usage_error("missing argument to '%s' (try 'gupnw %s --help')",
					   argv[optind - 1], cmd->name);
		case '?':
			/*
			 * A short option this command does not take (inside
			 * "-xy" optind has not moved on, so argv[optind - 1]
			 * is the argument before it).  A '?' with optopt one
			 * of our short options is a long one given a value
			 * it does not take ("--json=1"); optopt 0 an unknown
			 * long one: both are argv[optind - 1].
			 */
			if (optopt > 0 && optopt < V_NO_FAULT &&
			    (optopt == ':' || !strchr(shorts, optopt)))
				return usage_error("unknown option '-%c' (try 'gupnw %s --help')",
						   optopt, cmd->name);
			return usage_error("unknown option '%s' (try 'gupnw %s --help')",
					   argv[optind - 1], cmd->name);
		default:
			set_flag(c, o);
			ret = set_value(c, optarg, allowed, o);
			if (ret)
				return ret;
		}
	}
	if ((o->flags & GUPNW_NOFAULT) && o->wait && (allowed & OPT_NO_FAULT))
		return usage_error("--no-fault and --wait exclude each other");
	return EXIT_OK;
}

int parse_probe_opts(int argc, char **argv, const struct command *cmd,
		     struct cli_opts *o)
{
	int ret = parse_opts(argc, argv, cmd, o);

	if (ret)
		return ret;
	if (o->wait)
		o->flags |= GUPNW_WAIT;
	return setup_table(o, o->flags);
}

unsigned int map_width(const struct cli_opts *o)
{
	unsigned int cols;

	if (o->map_width)
		return o->map_width;
	cols = term_columns(STDOUT_FILENO);
	/* The brackets take two columns; a map has at least one cell. */
	return cols > 3 ? cols - 2 : 1;
}

int parse_range(const struct cli_opts *o, const char *cmd, int nargs,
		char **args, struct probe_report *r, bool *has_length)
{
	r->flags = o->flags;
	if (o->pid) {
		if (o->has_range)
			return usage_error("-p goes with FILE; --pid takes ADDR and LENGTH");
		if (nargs != 2)
			return usage_error("--pid takes ADDR and LENGTH (try 'gupnw %s --help')",
					   cmd);
		r->pid = o->pid;
		if (parse_u64(args[0], false, &r->start))
			return usage_error("bad address '%s'", args[0]);
		if (parse_u64(args[1], true, &r->length))
			return usage_error("bad length '%s'", args[1]);
		*has_length = true;
		return EXIT_OK;
	}
	if (nargs != 1)
		return usage_error("%s takes one FILE (try 'gupnw %s --help')",
				   cmd, cmd);
	r->file = args[0];
	apply_file_range(o, r, has_length);
	return EXIT_OK;
}

void apply_file_range(const struct cli_opts *o, struct probe_report *r,
		      bool *has_length)
{
	r->start = o->has_range ? o->range_start : 0;
	*has_length = o->has_range && o->range_has_end;
	r->length = *has_length ? o->range_end - o->range_start : 0;
}

int setup_table(struct cli_opts *o, unsigned int flags)
{
	table_init(&o->table, flags, sysconf(_SC_PAGESIZE));
	o->table.bytes = o->bytes;
	o->table.raw = o->raw;
	o->table.noheadings = o->noheadings;
	if (o->columns && table_set_columns(&o->table, o->columns))
		return usage_error("bad columns '%s' (of %s)", o->columns,
				   TABLE_COLUMN_NAMES);
	return EXIT_OK;
}
