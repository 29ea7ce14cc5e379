// SPDX-License-Identifier: GPL-2.0
/*
 * fake-gupnw.so takes the argument structs' size as the module does
 * (module/gupnw_dev.c): at least the first version's, at most a page, a
 * larger size than it knows with a zero tail (E2BIG otherwise), and only
 * size bytes written back, the part past its struct zeroed.  The ioctls go
 * straight to the fake; run with it preloaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/gupnw.h>

#include "check.h"

#define GUARD	0xa5
#define BIG	256	/* a size from a newer header */

/* Every byte of @p[from, to) is @v. */
static int all(const void *p, size_t from, size_t to, unsigned char v)
{
	const unsigned char *b = p;

	for (; from < to; from++)
		if (b[from] != v)
			return 0;
	return 1;
}

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	union {
		struct gupnw_info info;
		struct gupnw_probe_args a;
		unsigned char b[2 * BIG];
	} u;
	static unsigned char page[1 << 16] __attribute__((aligned(1 << 16)));
	int fd = open("/dev/null", O_RDONLY);

	CHECK(fd >= 0);

	/* Info: a larger size answered, size bytes written, zero past ours. */
	memset(&u, GUARD, sizeof(u));
	u.info.size = BIG;
	CHECK(ioctl(fd, GUPNW_IOC_GET_INFO, &u) == 0);
	CHECK(u.info.size == sizeof(u.info) && u.info.page_size == ps);
	CHECK(all(&u, sizeof(u.info), BIG, 0));
	CHECK(all(&u, BIG, sizeof(u), GUARD));
	memset(&u, 0, sizeof(u));
	u.info.size = GUPNW_INFO_SIZE_VER0 - 8;
	errno = 0;
	CHECK(ioctl(fd, GUPNW_IOC_GET_INFO, &u) == -1 && errno == EINVAL);

	/* Probe: a larger size with a zero tail is a probe like any other. */
	memset(&u, 0, sizeof(u));
	memset(u.b + BIG, GUARD, sizeof(u) - BIG);
	u.a.size = BIG;
	u.a.flags = GUPNW_PROBE_NOFAULT;
	u.a.addr = (uintptr_t)page;
	u.a.len = ps;
	CHECK(ioctl(fd, GUPNW_IOC_PROBE, &u) == 0);
	CHECK(u.a.done == 1 && u.a.size == BIG);
	CHECK(all(&u, sizeof(u.a), BIG, 0));
	CHECK(all(&u, BIG, sizeof(u), GUARD));
	/* ... a non-zero byte past what it knows: E2BIG */
	u.b[BIG - 1] = 1;
	errno = 0;
	CHECK(ioctl(fd, GUPNW_IOC_PROBE, &u) == -1 && errno == E2BIG);
	/* ... larger than a page: E2BIG; smaller than VER0: EINVAL */
	u.b[BIG - 1] = 0;
	u.a.size = ps + 8;
	errno = 0;
	CHECK(ioctl(fd, GUPNW_IOC_PROBE, &u) == -1 && errno == E2BIG);
	u.a.size = GUPNW_PROBE_ARGS_SIZE_VER0 - 8;
	errno = 0;
	CHECK(ioctl(fd, GUPNW_IOC_PROBE, &u) == -1 && errno == EINVAL);

	close(fd);
	return CHECK_EXIT();
}
