/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gupnw tool: probing one target and printing its report, as probe and
 * watch show it.
 */
#ifndef GUPNW_CLI_REPORT_H
#define GUPNW_CLI_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "gupnw.h"

#include "opts.h"
#include "output.h"
#include "target.h"

/*
 * Probe @t and print its report on @out: the whole of it, or (@multi) its
 * line of the table, named r->name or r->file, or its object in "files"
 * (@sep before it); --ranges adds the runs.  EXIT_OK, or EXIT_FAILED once
 * the error is printed.
 */
int report_target(FILE *out, struct gupnw *g, const struct cli_opts *o,
		  struct probe_report *r, const struct target *t, bool multi,
		  const char *sep);

/* What run_on_target() runs, with the device open. */
typedef int target_fn(struct gupnw *g, const struct cli_opts *o,
		      struct probe_report *r, const struct target *t);

/*
 * Open the target the operands @args of subcommand @cmd name (FILE, or ADDR
 * LENGTH with --pid: parse_range()) and the device, run @fn on them and
 * close them: @fn's exit status, or EXIT_USAGE or EXIT_FAILED once the
 * error is printed.
 */
int run_on_target(const struct cli_opts *o, const char *cmd, int nargs,
		  char **args, target_fn *fn);

#endif /* GUPNW_CLI_REPORT_H */
