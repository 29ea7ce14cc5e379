// SPDX-License-Identifier: LGPL-2.1-or-later
/* gupnw tool: the messages and the device open every subcommand shares. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gupnw.h"

#include "cli.h"

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

	/* no device node: most likely the module is not loaded, say how */
	if (!g && errno == ENOENT)
		fprintf(stderr, "gupnw: %s: %s (is the module loaded? modprobe gupnw)\n",
			gupnw_device_path(), strerror(ENOENT));
	else if (!g)
		fail("%s", gupnw_device_path());
	return g;
}
