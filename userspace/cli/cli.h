/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gupnw tool: what the subcommands share. */
#ifndef GUPNW_CLI_H
#define GUPNW_CLI_H

#include <stdio.h>

/* Exit status, as gupnw(1) documents it. */
#define EXIT_OK		0	/* the probe ran, whatever the states */
#define EXIT_FAILED	1	/* it could not run */
#define EXIT_USAGE	2	/* bad command line */

void print_usage(FILE *f);
/* The usage of subcommand @cmd (gupnw CMD --help). */
void print_command_usage(FILE *f, const char *cmd);

/* "gupnw: WHAT: strerror(errno)" on stderr; returns EXIT_FAILED. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "gupnw: MESSAGE" on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct gupnw;

/* gupnw_open(), or NULL once "gupnw: DEVICE: why" is printed. */
struct gupnw *device_open(void);

int cmd_probe(int argc, char **argv);
int cmd_maps(int argc, char **argv);
int cmd_prefetch(int argc, char **argv);
int cmd_watch(int argc, char **argv);

#endif /* GUPNW_CLI_H */
