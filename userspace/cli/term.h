/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gupnw tool: the terminal (width, colour, progress bar) and the clock. */
#ifndef GUPNW_CLI_TERM_H
#define GUPNW_CLI_TERM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum color_when { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

/* Columns of the terminal on @fd, else $COLUMNS, else 80. */
unsigned int term_columns(int fd);

/* AUTO: standard output is a terminal and $NO_COLOR is unset or empty. */
bool color_enabled(enum color_when when);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t now_ms(void);

/* Sleep @ms milliseconds (a signal cuts it short). */
void sleep_ms(uint64_t ms);

/*
 * The progress bar of a long probe, on standard error when that is a
 * terminal: shown once the probe has taken a second, or at once for a range
 * of PROGRESS_PAGES pages or more; erased when the probe ends.
 */
#define PROGRESS_PAGES	(256u * 1024)

struct progress {
	bool tty;			/* standard error is a terminal */
	bool drawn;			/* a bar is on the screen */
	uint64_t total;
	uint64_t start_ms, last_ms;
};

void progress_start(struct progress *p, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);

#endif /* GUPNW_CLI_TERM_H */
