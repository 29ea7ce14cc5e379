// SPDX-License-Identifier: GPL-2.0
/*
 * One program bound to both versions of the calls that fill a grown struct:
 * gupnw_probe and gupnw_module_info at GUPNW_0.1 (as test-abi01 binds them,
 * as a binary built against 0.1 has them) and at their default GUPNW_0.2
 * (through <gupnw.h>).  Built against the library as the build made it,
 * also with -flto (make lto): the 0.1 versions write the 0.1 sizes, the
 * defaults the whole struct.  Run with fake-gupnw.so preloaded and
 * GUPNW_DEVICE=/dev/null.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gupnw.h"

#define GUARD	0xa5

int probe01(struct gupnw *g, const void *addr, size_t len,
	    unsigned int flags, unsigned char *states,
	    struct gupnw_counts *counts);
int module_info01(struct gupnw *g, struct gupnw_module_info *info);
__asm__(".symver probe01, gupnw_probe@GUPNW_0.1");
__asm__(".symver module_info01, gupnw_module_info@GUPNW_0.1");

/* The first byte of @p[0, size) that is still GUARD, or size. */
static size_t first_guard(const void *p, size_t size)
{
	const unsigned char *b = p;
	size_t i = size;

	while (i > 0 && b[i - 1] == GUARD)
		i--;
	return i;
}

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct gupnw_module_info info;
	struct gupnw_counts c;
	struct gupnw *g;
	char *buf;

	g = gupnw_open();
	CHECK(g != NULL);
	buf = aligned_alloc(ps, 4 * ps);
	CHECK(buf != NULL);
	if (!g || !buf)
		return 1;

	/* 0.1: the six counts (48 bytes), nothing after them. */
	memset(&c, GUARD, sizeof(c));
	CHECK(probe01(g, buf, 4 * ps, 0, NULL, &c) == 0);
	CHECK(first_guard(&c, sizeof(c)) <= 6 * sizeof(uint64_t));
	CHECK(c.resident + c.faulted + c.retry + c.unmapped + c.error +
	      c.notpresent == 4);

	/* Default: the whole struct, its reserved words zeroed. */
	memset(&c, GUARD, sizeof(c));
	CHECK(gupnw_probe(g, buf, 4 * ps, 0, NULL, &c) == 0);
	CHECK(c.reserved[6] == 0 && c.cold == 0);

	memset(&info, GUARD, sizeof(info));
	CHECK(module_info01(g, &info) == 0);
	CHECK(first_guard(&info, sizeof(info)) <=
	      offsetof(struct gupnw_module_info, max_io_pages));
	CHECK(info.page_size == (unsigned int)ps);

	memset(&info, GUARD, sizeof(info));
	CHECK(gupnw_module_info(g, &info) == 0);
	CHECK(info.reserved[7] == 0 && info.page_size == (unsigned int)ps);

	free(buf);
	gupnw_close(g);
	return CHECK_EXIT();
}
