// SPDX-License-Identifier: LGPL-2.1-or-later
/* gupnw tool: the terminal (width, colour, progress bar) and the clock. */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "parse.h"
#include "term.h"

/* Redraw a bar at most this often. */
#define PROGRESS_REDRAW_MS	100
#define PROGRESS_DELAY_MS	1000

unsigned int term_columns(int fd)
{
	const char *columns = getenv("COLUMNS");
	struct winsize ws;
	uint64_t v;

	if (!ioctl(fd, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	if (columns && !parse_u64(columns, false, &v) && v)
		return v < MAP_MAX_CELLS ? v : MAP_MAX_CELLS;
	return 80;
}

bool color_enabled(enum color_when when)
{
	const char *no_color = getenv("NO_COLOR");

	if (when != COLOR_AUTO)
		return when == COLOR_ALWAYS;
	return isatty(STDOUT_FILENO) && !(no_color && *no_color);
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sleep_ms(uint64_t ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	nanosleep(&ts, NULL);
}

void progress_start(struct progress *p, uint64_t total)
{
	p->tty = isatty(STDERR_FILENO);
	p->drawn = false;
	p->total = total;
	p->start_ms = p->last_ms = now_ms();
}

void progress_update(struct progress *p, uint64_t done)
{
	char line[MAP_MAX_CELLS + 64];
	unsigned int cols;
	uint64_t now;
	int saved = errno;

	if (!p->tty || !p->total)
		return;
	now = now_ms();
	if (now - p->start_ms < PROGRESS_DELAY_MS && p->total < PROGRESS_PAGES)
		return;
	if (p->drawn && now - p->last_ms < PROGRESS_REDRAW_MS)
		return;
	cols = term_columns(STDERR_FILENO);
	format_progress(line, cols <= sizeof(line) ? cols - 1 : sizeof(line) - 1,
			"probing", done, p->total);
	fprintf(stderr, "\r%s", line);
	fflush(stderr);
	p->drawn = true;
	p->last_ms = now;
	errno = saved;
}

void progress_end(struct progress *p)
{
	if (!p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = false;
}
