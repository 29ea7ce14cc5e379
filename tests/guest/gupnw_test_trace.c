// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw_test_trace.c - tracefs for the in-guest tests; why events are turned
 * on at boot rather than here is in gupnw_test_trace.h.
 */
#include "gupnw_test_trace.h"
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define TRACING		"/sys/kernel/tracing"

int gt_trace_has_event(const char *event)
{
	char path[256];

	/* the initramfs mounts sysfs only */
	if (access(TRACING "/trace", F_OK))
		mount("tracefs", TRACING, "tracefs", 0, NULL);
	snprintf(path, sizeof(path), TRACING "/events/%s/enable", event);
	return !access(path, F_OK);
}

int gt_trace_write(const char *file, const char *s)
{
	char path[256];
	int f, ret;

	snprintf(path, sizeof(path), TRACING "/%s", file);
	f = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (f < 0)
		return -errno;
	ret = gt_write_all(f, s, strlen(s)) ? -EIO : 0;
	close(f);
	return ret;
}

/* events/EVENT/FILE, relative to TRACING */
static void gt_trace_path(char *path, size_t size, const char *event,
			  const char *file)
{
	snprintf(path, size, "events/%s/%s", event, file);
}

int gt_trace_event_on(const char *event, int *mine)
{
	char path[256], on[8];

	*mine = 0;
	gt_trace_path(path, sizeof(path), event, "enable");
	if (gt_trace_read(path, on, sizeof(on)) > 0 && on[0] == '1')
		return gt_trace_filter(event, "0");
	*mine = 1;
	return gt_trace_write(path, "1");
}

void gt_trace_event_off(const char *event, int mine)
{
	char path[256];

	if (!mine) {
		gt_trace_filter(event, GT_TRACE_QUIET);
		return;
	}
	gt_trace_filter(event, "0");
	gt_trace_path(path, sizeof(path), event, "enable");
	gt_trace_write(path, "0");
}

int gt_trace_filter(const char *event, const char *filter)
{
	char path[256];

	gt_trace_path(path, sizeof(path), event, "filter");
	return gt_trace_write(path, filter);
}

long gt_trace_read(const char *file, char *buf, size_t size)
{
	char path[320];		/* TRACING plus an events/ path of 256 */

	snprintf(path, sizeof(path), TRACING "/%s", file);
	return gt_read_file(path, buf, size);
}
