// SPDX-License-Identifier: GPL-2.0
/*
 * libgupnw on ranges of any size, with fake-gupnw.so standing in for the
 * module (its end of user space is 0x7ffffffff000, as x86-64's with 4-level
 * page tables): gupnw_user_end() finds that end, a range past it is refused
 * with EINVAL at once in both the own-mm and the pid form, and a whole
 * address space up to it is answered in runs.  Run with GUPNW_DEVICE=/dev/null
 * and fake-gupnw.so preloaded.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gupnw.h"

#define FAKE_USER_END	0x7ffffffff000ULL

int main(void)
{
	uint64_t ps = sysconf(_SC_PAGESIZE), pages;
	struct gupnw_extent ext[4];
	struct gupnw_counts c;
	struct gupnw *g;
	ssize_t n;
	int fd;

	g = gupnw_open();
	CHECK(g != NULL);
	if (!g)
		return 1;
	CHECK(gupnw_user_end(g) == FAKE_USER_END);
	CHECK(gupnw_user_end(g) == FAKE_USER_END);	/* kept */

	/* Past the end: EINVAL, own mm and pid form alike. */
	errno = 0;
	CHECK(gupnw_probe(g, (void *)(uintptr_t)(FAKE_USER_END - ps), 2 * ps,
			  GUPNW_NOFAULT, NULL, &c) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_pid(g, getpid(), 0, 0x7fffffffffffffffULL,
			      GUPNW_NOFAULT, NULL, &c) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_extents(g, NULL, FAKE_USER_END + ps, GUPNW_NOFAULT,
				  ext, 4, &c) == -1 && errno == EINVAL);
	/* Wrapping: EOVERFLOW. */
	errno = 0;
	CHECK(gupnw_probe(g, (void *)(uintptr_t)(UINT64_MAX & ~(ps - 1)),
			  2 * ps, 0, NULL, &c) == -1 && errno == EOVERFLOW);

	/* Up to the end: the whole address space, one run each form. */
	CHECK(!setenv("FAKE_GUPNW_STATE", ".", 1));
	pages = FAKE_USER_END / ps;
	n = gupnw_probe_extents(g, NULL, FAKE_USER_END, GUPNW_NOFAULT, ext, 4,
				&c);
	CHECK(n == 1 && ext[0].start == 0 && ext[0].pages == pages &&
	      ext[0].state == GUPNW_UNMAPPED && c.unmapped == pages);
	fd = gupnw_open_pid_mem(getpid(), 0);
	CHECK(fd >= 0);
	n = gupnw_probe_extents_memfd(g, fd, 0, FAKE_USER_END, 0, ext, 4, &c);
	CHECK(n == 1 && ext[0].pages == pages && c.unmapped == pages);
	close(fd);
	CHECK(gupnw_probe_pid(g, getpid(), 0, FAKE_USER_END, GUPNW_NOFAULT,
			      NULL, &c) == 0 && c.unmapped == pages);

	gupnw_close(g);
	return CHECK_EXIT();
}
