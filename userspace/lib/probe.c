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
			    uint64_t len, unsigned int flags, int target_fd)
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

void gupnw_counts_from(struct gupnw_counts *counts, size_t size,
		       const struct gupnw_probe_args *a)
{
	struct gupnw_counts c = {
		.resident = a->nr_resident,
		.faulted = a->nr_faulted,
		.retry = a->nr_retry,
		.unmapped = a->nr_unmapped,
		.error = a->nr_error,
		.notpresent = a->nr_notpresent,
		.cold = a->nr_cold,
		.io_started = a->io_started,
		.async_faults = a->async_faults,
	};

	if (counts)
		memcpy(counts, &c, size);
}

/* target_fd < 0: the calling process. */
static int gupnw_do_probe(struct gupnw *g, uint64_t addr, uint64_t len,
			  unsigned int flags, int target_fd,
			  unsigned char *states, struct gupnw_counts *counts,
			  size_t csize)
{
	struct gupnw_probe_args a;

	if (gupnw_check_call(g, addr, flags))
		return -1;
	gupnw_args_init(&a, addr, len, flags, target_fd);
	a.states = (uintptr_t)states;
	if (ioctl(g->fd, GUPNW_IOC_PROBE, &a) < 0)
		return -1;
	gupnw_counts_from(counts, csize, &a);
	return 0;
}

/* target_fd < 0: the calling process. */
static ssize_t gupnw_do_extents(struct gupnw *g, uint64_t addr, uint64_t len,
				unsigned int flags, int target_fd,
				struct gupnw_extent *ext, size_t max,
				struct gupnw_counts *counts, size_t csize)
{
	struct gupnw_probe_args a;

	if (gupnw_check_call(g, addr, flags))
		return -1;
	if (!ext || !max) {
		errno = EINVAL;
		return -1;
	}
	gupnw_args_init(&a, addr, len, flags | GUPNW_PROBE_EXTENTS, target_fd);
	a.states = (uintptr_t)ext;
	a.nr_extents = max > UINT32_MAX ? UINT32_MAX : max;
	if (ioctl(g->fd, GUPNW_IOC_PROBE, &a) < 0)
		return -1;
	gupnw_counts_from(counts, csize, &a);
	return a.nr_extents;
}

GUPNW_SYMVER_0_2(gupnw_probe_extents);

ssize_t gupnw_probe_extents_0_2(struct gupnw *g, const void *addr, size_t len,
				unsigned int flags, struct gupnw_extent *ext,
				size_t max, struct gupnw_counts *counts)
{
	return gupnw_do_extents(g, (uintptr_t)addr, len, flags, -1, ext, max,
				counts, sizeof(*counts));
}

ssize_t gupnw_probe_extents_0_1(struct gupnw *g, const void *addr, size_t len,
				unsigned int flags, struct gupnw_extent *ext,
				size_t max, struct gupnw_counts *counts)
{
	return gupnw_do_extents(g, (uintptr_t)addr, len, flags, -1, ext, max,
				counts, GUPNW_COUNTS_SIZE_0_1);
}

static ssize_t gupnw_extents_memfd(struct gupnw *g, int mem_fd, uint64_t addr,
				   uint64_t len, unsigned int flags,
				   struct gupnw_extent *ext, size_t max,
				   struct gupnw_counts *counts)
{
	if (mem_fd < 0) {
		errno = EBADF;
		return -1;
	}
	return gupnw_do_extents(g, addr, len, flags, mem_fd, ext, max, counts,
				sizeof(*counts));
}

ssize_t gupnw_probe_extents_memfd(struct gupnw *g, int mem_fd, uint64_t addr,
				  size_t len, unsigned int flags,
				  struct gupnw_extent *ext, size_t max,
				  struct gupnw_counts *counts)
{
	return gupnw_extents_memfd(g, mem_fd, addr, len, flags, ext, max,
				   counts);
}

ssize_t gupnw_probe_extents_memfd64(struct gupnw *g, int mem_fd,
				    uint64_t addr, uint64_t len,
				    unsigned int flags,
				    struct gupnw_extent *ext, size_t max,
				    struct gupnw_counts *counts)
{
	return gupnw_extents_memfd(g, mem_fd, addr, len, flags, ext, max,
				   counts);
}

GUPNW_SYMVER_0_2(gupnw_probe);

int gupnw_probe_0_2(struct gupnw *g, const void *addr, size_t len,
		    unsigned int flags, unsigned char *states,
		    struct gupnw_counts *counts)
{
	return gupnw_do_probe(g, (uintptr_t)addr, len, flags, -1, states,
			      counts, sizeof(*counts));
}

int gupnw_probe_0_1(struct gupnw *g, const void *addr, size_t len,
		    unsigned int flags, unsigned char *states,
		    struct gupnw_counts *counts)
{
	return gupnw_do_probe(g, (uintptr_t)addr, len, flags, -1, states,
			      counts, GUPNW_COUNTS_SIZE_0_1);
}

int gupnw_probe_memfd_sized(struct gupnw *g, int mem_fd, uint64_t addr,
			    uint64_t len, unsigned int flags,
			    unsigned char *states, struct gupnw_counts *counts,
			    size_t csize)
{
	if (mem_fd < 0) {
		errno = EBADF;
		return -1;
	}
	return gupnw_do_probe(g, addr, len, flags, mem_fd, states, counts,
			      csize);
}

GUPNW_DEFINE_PROBE_VERSIONS(gupnw_probe_memfd, int, mem_fd)

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

static int gupnw_probe_pid_sized(struct gupnw *g, pid_t pid, uint64_t addr,
				 uint64_t len, unsigned int flags,
				 unsigned char *states,
				 struct gupnw_counts *counts, size_t csize)
{
	int fd;

	if (gupnw_check_call(g, addr, flags))
		return -1;
	fd = gupnw_open_pid_mem(pid, flags);
	if (fd < 0)
		return -1;
	return gupnw_probe_memfd_closing(g, fd, addr, len, flags, states,
					 counts, csize);
}

GUPNW_DEFINE_PROBE_VERSIONS(gupnw_probe_pid, pid_t, pid)

/*
 * Whether a one-page probe ending at @end is accepted: the module refuses
 * (EINVAL) a range past the end of user space (TASK_SIZE_MAX), and a
 * report-only probe of one page changes nothing.  1, 0, or -1 with errno.
 */
static int gupnw_end_ok(struct gupnw *g, uint64_t end)
{
	struct gupnw_probe_args a;

	gupnw_args_init(&a, end - g->page_size, g->page_size,
			GUPNW_PROBE_NOFAULT, -1);
	if (!ioctl(g->fd, GUPNW_IOC_PROBE, &a))
		return 1;
	return errno == EINVAL ? 0 : -1;
}

uint64_t gupnw_user_end(struct gupnw *g)
{
	uint64_t ps = g->page_size, lo, hi, mid;
	int ok;

	/*
	 * Threads may share a handle: the cache is read and written whole
	 * (relaxed atomics).  Two first calls at once both ask the module and
	 * store the same answer.
	 */
	lo = __atomic_load_n(&g->user_end, __ATOMIC_RELAXED);
	if (lo)
		return lo;
	/* The last page-aligned end the module takes: ok(lo), !ok(hi). */
	lo = ps;
	hi = UINT64_MAX & ~(ps - 1);
	ok = gupnw_end_ok(g, lo);
	if (ok <= 0) {
		if (!ok)
			errno = EINVAL;
		return 0;
	}
	ok = gupnw_end_ok(g, hi);
	if (ok < 0)
		return 0;
	if (ok)
		lo = hi;
	while (hi - lo > ps) {
		mid = lo + (hi - lo) / 2 / ps * ps;
		ok = gupnw_end_ok(g, mid);
		if (ok < 0)
			return 0;
		if (ok)
			lo = mid;
		else
			hi = mid;
	}
	__atomic_store_n(&g->user_end, lo, __ATOMIC_RELAXED);
	return lo;
}
