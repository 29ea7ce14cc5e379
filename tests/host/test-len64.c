// SPDX-License-Identifier: GPL-2.0
/*
 * The calls on another process with a 64-bit length (GUPNW_0.3): a length
 * past 4 GiB reaches the module whole, also from a 32-bit program, whose
 * size_t would cut it (make m32 builds this test with -m32).  With
 * fake-gupnw.so standing in for the module (end of user space
 * 0x7ffffffff000, every page '.'); run with GUPNW_DEVICE=/dev/null.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "gupnw.h"

#define FAKE_USER_END	0x7ffffffff000ULL

int main(void)
{
	uint64_t ps = sysconf(_SC_PAGESIZE);
	uint64_t addr = 1ULL << 32, len = (8ULL << 30) + ps;
	struct gupnw_extent ext[4];
	struct gupnw_counts c;
	struct gupnw *g;
	int fd, pidfd;

	CHECK(!setenv("FAKE_GUPNW_STATE", ".", 1));
	g = gupnw_open();
	CHECK(g != NULL);
	if (!g)
		return 1;
	fd = gupnw_open_pid_mem(getpid(), 0);
	CHECK(fd >= 0);

	/* 8 GiB and a page: every page answered, at once. */
	CHECK(gupnw_probe_memfd64(g, fd, addr, len, GUPNW_NOFAULT, NULL,
				  &c) == 0 && c.unmapped == len / ps);
	CHECK(gupnw_probe_pid64(g, getpid(), addr, len, 0, NULL, &c) == 0 &&
	      c.unmapped == len / ps);
	CHECK(gupnw_probe_extents_memfd64(g, fd, addr, len, 0, ext, 4,
					  &c) == 1 &&
	      ext[0].start == addr && ext[0].pages == len / ps &&
	      c.unmapped == len / ps);
	pidfd = syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd >= 0) {
		CHECK(gupnw_probe_pidfd64(g, pidfd, addr, len, 0, NULL,
					  &c) == 0 && c.unmapped == len / ps);
	} else {
		fprintf(stderr, "# pidfd_open failed: gupnw_probe_pidfd64 not tried\n");
	}

	/* The whole address space, and past its end (EINVAL). */
	CHECK(gupnw_probe_pid64(g, getpid(), 0, FAKE_USER_END, 0, NULL,
				&c) == 0 && c.unmapped == FAKE_USER_END / ps);
	errno = 0;
	CHECK(gupnw_probe_memfd64(g, fd, 0, FAKE_USER_END + ps, 0, NULL,
				  &c) == -1 && errno == EINVAL);

	/* Refused by the library, as the size_t calls are. */
	errno = 0;
	CHECK(gupnw_probe_memfd64(g, -1, addr, len, 0, NULL, &c) == -1 &&
	      errno == EBADF);
	errno = 0;
	CHECK(gupnw_probe_extents_memfd64(g, -1, addr, len, 0, ext, 4,
					  &c) == -1 && errno == EBADF);
	errno = 0;
	CHECK(gupnw_probe_extents_memfd64(g, fd, addr, len, 0, ext, 0,
					  &c) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_pid64(g, getpid(), addr + 1, len, 0, NULL, &c) ==
	      -1 && errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_pid64(g, 0, addr, len, 0, NULL, &c) == -1 &&
	      errno == ESRCH);
	errno = 0;
	CHECK(gupnw_probe_pidfd64(g, -1, addr, len, 0, NULL, &c) == -1 &&
	      errno == EBADF);

	if (pidfd >= 0)
		close(pidfd);
	close(fd);
	gupnw_close(g);
	return CHECK_EXIT();
}
