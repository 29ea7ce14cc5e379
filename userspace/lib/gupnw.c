// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libgupnw: the handle on /dev/gupnw and what the running module reports
 * about itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/gupnw.h>

#include "gupnw.h"
#include "internal.h"

const char *gupnw_device_path(void)
{
	const char *path = getenv("GUPNW_DEVICE");

	return path && *path ? path : "/dev/" GUPNW_DEVICE_NAME;
}

struct gupnw *gupnw_open(void)
{
	struct gupnw *g;
	int saved;

	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->page_size = sysconf(_SC_PAGESIZE);
	g->fd = open(gupnw_device_path(), O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		saved = errno;
		free(g);
		errno = saved;
		return NULL;
	}
	return g;
}

void gupnw_close(struct gupnw *g)
{
	if (!g)
		return;
	close(g->fd);
	free(g);
}

static int gupnw_module_info_sized(struct gupnw *g,
				   struct gupnw_module_info *out, size_t size)
{
	struct gupnw_module_info full, *info = &full;
	struct gupnw_info ki;

	memset(&ki, 0, sizeof(ki));
	ki.size = sizeof(ki);
	if (ioctl(g->fd, GUPNW_IOC_GET_INFO, &ki) < 0)
		return -1;

	memset(info, 0, sizeof(*info));
	info->abi_version = ki.abi_version;
	info->features = ki.features;
	info->probe_flags = ki.probe_flags;
	info->page_size = ki.page_size;
	/* The module NUL-terminates; do not rely on it. */
	memcpy(info->version, ki.version, sizeof(info->version) - 1);
	info->max_io_pages = ki.max_io_pages;
	info->max_chunk_pages = ki.max_chunk_pages;
	info->probe_kmem = ki.probe_kmem;
	info->max_async_faults = ki.max_async_faults;
	info->async_faults_queued = ki.async_faults_queued;
	memcpy(out, info, size);
	return 0;
}

GUPNW_SYMVER_0_2(gupnw_module_info);

int gupnw_module_info_0_2(struct gupnw *g, struct gupnw_module_info *info)
{
	return gupnw_module_info_sized(g, info, sizeof(*info));
}

int gupnw_module_info_0_1(struct gupnw *g, struct gupnw_module_info *info)
{
	return gupnw_module_info_sized(g, info, GUPNW_INFO_SIZE_0_1);
}
