// SPDX-License-Identifier: LGPL-2.1-or-later
/* gupnw tool: the options of the subcommands, read in one place. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "gupnw.h"

#include "cli.h"
#include "opts.h"
#include "output.h"
#include "parse.h"

/* getopt_long values: above every short option. */
enum { V_JSON = 256, V_NO_FAULT, V_WRITE, V_WAIT, V_PID, V_MAP_WIDTH,
       V_COLOR, V_RANGES, V_FAULT, V_INTERVAL, V_TIMEOUT, V_COUNT };

static const struct {
	unsigned int bit;
	struct option opt;
} all_options[] = {
	{ OPT_JSON,	{ "json",	no_argument,	   NULL, V_JSON } },
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
		if (parse_seconds(arg, &o->timeout_ms) || !o->timeout_ms)
			return usage_error("bad timeout '%s'", arg);
		return EXIT_OK;
	case V_COUNT:
		if (parse_u64(arg, false, &o->count) || !o->count)
			return usage_error("bad count '%s'", arg);
		return EXIT_OK;
	}
	return EXIT_OK;
}

static void set_flag(int c, struct cli_opts *o)
{
	switch (c) {
	case V_JSON:
		o->json = true;
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

int parse_opts(int argc, char **argv, const char *cmd, unsigned int allowed,
	       struct cli_opts *o)
{
	struct option opts[NR_OPTIONS + 2];
	unsigned int i, n = 0;
	int c, ret;

	for (i = 0; i < NR_OPTIONS; i++)
		if (all_options[i].bit & allowed)
			opts[n++] = all_options[i].opt;
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };

	optind = 0;		/* a fresh scan, for every subcommand */
	opterr = 0;		/* one message of our own, not getopt's */
	while ((c = getopt_long(argc, argv,
				allowed & OPT_RECURSIVE ? ":hr" : ":h",
				opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout);
			return OPTS_HELP;
		case ':':
			return usage_error("missing argument to '%s' (try 'gupnw %s --help')",
					   argv[optind - 1], cmd);
		case '?':
			/* A bad short option may sit inside "-xy". */
			if (optopt > 0 && optopt < V_JSON)
				return usage_error("unknown option '-%c' (try 'gupnw %s --help')",
						   optopt, cmd);
			return usage_error("unknown option '%s' (try 'gupnw %s --help')",
					   argv[optind - 1], cmd);
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
	if (nargs < 1 || nargs > 3)
		return usage_error("%s takes FILE [OFFSET [LENGTH]] (try 'gupnw %s --help')",
				   cmd, cmd);
	r->file = args[0];
	if (nargs > 1 && (parse_u64(args[1], true, &r->start) ||
			  r->start > INT64_MAX))
		return usage_error("bad offset '%s'", args[1]);
	if (nargs > 2 && parse_u64(args[2], true, &r->length))
		return usage_error("bad length '%s'", args[2]);
	*has_length = nargs > 2;
	return EXIT_OK;
}
