/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gupnw tool: what the subcommands share. */
#ifndef GUPNW_CLI_H
#define GUPNW_CLI_H

#include <stdio.h>

/* Exit status, as gupnw(1) documents it. */
#define EXIT_OK		0	/* the probe ran, whatever the states */
#define EXIT_FAILED	1	/* it could not run */
#define EXIT_USAGE	2	/* bad command line */

/*
 * A subcommand: main.c dispatches on @name; each is defined beside its
 * code, with its usage.
 */
struct command {
	const char *name;
	const char *usage;	/* gupnw NAME --help */
	unsigned int opts;	/* the OPT_* it takes (opts.h) */
	int (*run)(int argc, char **argv);	/* argv[0] is @name */
};

extern const struct command probe_command;
extern const struct command maps_command;
extern const struct command prefetch_command;
extern const struct command watch_command;

/* gupnw --version: tool, library, module and its features; exit 0. */
int cmd_version(void);

/* "gupnw: WHAT: strerror(errno)" on stderr; returns EXIT_FAILED. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "gupnw: MESSAGE" on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct gupnw;

/* gupnw_open(), or NULL once "gupnw: DEVICE: why" is printed. */
struct gupnw *device_open(void);

#endif /* GUPNW_CLI_H */
