// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libgupnw: probing a range of the calling process, or of another one
 * through its /proc/PID/mem.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/gupnw.h>

#include "gupnw.h"
#include "internal.h"

/* The library's flags are the ABI's, bit for bit; TARGET_FD stays internal. */
_Static_assert(GUPNW_WRITE == GUPNW_PROBE_WRITE, "flag values differ");
_Static_assert(GUPNW_NOFAULT == GUPNW_PROBE_NOFAULT, "flag values differ");
_Static_assert(GUPNW_WAIT == GUPNW_PROBE_WAIT, "flag values differ");
_Static_assert(sizeof(struct gupnw_probe_args) == GUPNW_PROBE_ARGS_SIZE_VER0,
	       "struct gupnw_probe_args is not VER0");

/* The library's runs are the ABI's, so the kernel writes them in place. */
_Static_assert(sizeof(struct gupnw_extent) ==
	       sizeof(struct gupnw_probe_extent), "extent layouts differ");
_Static_assert(offsetof(struct gupnw_extent, pages) ==
	       offsetof(struct gupnw_probe_extent, nr_pages) &&
	       offsetof(struct gupnw_extent, state) ==
	       offsetof(struct gupnw_probe_extent, state),
	       "extent layouts differ");

#define GUPNW_PUBLIC_FLAGS	(GUPNW_WRITE | GUPNW_NOFAULT | GUPNW_WAIT)

/* Refuse a bad call before it reaches the device (or the target). */
int gupnw_check_call(const struct gupnw *g, uint64_t addr,
		     unsigned int flags)
{
	if ((addr & (g->page_size - 1)) || (flags & ~GUPNW_PUBLIC_FLAGS)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void gupnw_args_init(struct gupnw_probe_args *a, uint64_t addr,
			    size_t len, unsigned int flags, int target_fd)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = flags;
	a->addr = addr;
	a->len = len;
	if (target_fd >= 0) {
		a->flags |= GUPNW_PROBE_TARGET_FD;
		a->target_fd = target_fd;
	}
}

void gupnw_counts_from(struct gupnw_counts *counts,
		       const struct gupnw_probe_args *a)
{
	if (counts) {
		counts->resident = a->nr_resident;
		counts->faulted = a->nr_faulted;
		counts->retry = a->nr_retry;
		counts->unmapped = a->nr_unmapped;
		counts->error = a->nr_error;
		counts->notpresent = a->nr_notpresent;
		counts->cold = a->nr_cold;
		counts->io_started = a->io_started;
		counts->async_faults = a->async_faults;
		memset(counts->reserved, 0, sizeof(counts->reserved));
	}
}

/* target_fd < 0: the calling process. */
static int gupnw_do_probe(struct gupnw *g, uint64_t addr, size_t len,
			  unsigned int flags, int target_fd,
			  unsigned char *states, struct gupnw_counts *counts)
{
	struct gupnw_probe_args a;

	if (gupnw_check_call(g, addr, flags))
		return -1;
	gupnw_args_init(&a, addr, len, flags, target_fd);
	a.states = (uintptr_t)states;
	if (ioctl(g->fd, GUPNW_IOC_PROBE, &a) < 0)
		return -1;
	gupnw_counts_from(counts, &a);
	return 0;
}

ssize_t gupnw_probe_extents(struct gupnw *g, const void *addr, size_t len,
			    unsigned int flags, struct gupnw_extent *ext,
			    size_t max, struct gupnw_counts *counts)
{
	struct gupnw_probe_args a;

	if (gupnw_check_call(g, (uintptr_t)addr, flags))
		return -1;
	if (!ext || !max) {
		errno = EINVAL;
		return -1;
	}
	gupnw_args_init(&a, (uintptr_t)addr, len, flags | GUPNW_PROBE_EXTENTS,
			-1);
	a.states = (uintptr_t)ext;
	a.nr_extents = max > UINT32_MAX ? UINT32_MAX : max;
	if (ioctl(g->fd, GUPNW_IOC_PROBE, &a) < 0)
		return -1;
	gupnw_counts_from(counts, &a);
	return a.nr_extents;
}

int gupnw_probe(struct gupnw *g, const void *addr, size_t len,
		unsigned int flags, unsigned char *states,
		struct gupnw_counts *counts)
{
	return gupnw_do_probe(g, (uintptr_t)addr, len, flags, -1, states,
			      counts);
}

int gupnw_probe_memfd(struct gupnw *g, int mem_fd, uint64_t addr, size_t len,
		      unsigned int flags, unsigned char *states,
		      struct gupnw_counts *counts)
{
	if (mem_fd < 0) {
		errno = EBADF;
		return -1;
	}
	return gupnw_do_probe(g, addr, len, flags, mem_fd, states, counts);
}

int gupnw_open_pid_mem(pid_t pid, unsigned int flags)
{
	char path[32];
	int fd;

	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	/*
	 * This open is where the kernel checks ptrace-attach rights.  A write
	 * probe breaks COW in the target, as a write through this file would:
	 * the module wants the file open for writing then.
	 */
	fd = open(path, (flags & GUPNW_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		errno = ESRCH;
	return fd;
}

int gupnw_probe_pid(struct gupnw *g, pid_t pid, uint64_t addr, size_t len,
		    unsigned int flags, unsigned char *states,
		    struct gupnw_counts *counts)
{
	int fd, ret, saved;

	if (gupnw_check_call(g, addr, flags))
		return -1;
	fd = gupnw_open_pid_mem(pid, flags);
	if (fd < 0)
		return -1;
	ret = gupnw_probe_memfd(g, fd, addr, len, flags, states, counts);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}
