// SPDX-License-Identifier: GPL-2.0
/*
 * A program built against libgupnw 0.1: it declares the 0.1 layouts of
 * struct gupnw_counts (48 bytes) and struct gupnw_module_info, and binds to
 * the GUPNW_0.1 versions of the calls that fill them, as a binary linked
 * against libgupnw.so.1 0.1 does.  Each call must write exactly the 0.1 size:
 * the guard bytes after the struct stay as they were.  Run with
 * fake-gupnw.so preloaded and GUPNW_DEVICE=/dev/null.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/gupnw.h>

#include "check.h"

/* libgupnw 0.1's <gupnw.h>, as far as this program uses it. */
struct gupnw;
struct gupnw_counts_01 {
	uint64_t resident, faulted, retry, unmapped, error, notpresent;
};
struct gupnw_module_info_01 {
	unsigned int abi_version;
	uint64_t features;
	unsigned int probe_flags;
	unsigned int page_size;
	char version[32];
};
struct gupnw_extent_01 {
	uint64_t start, pages;
	uint32_t state, reserved;
};
struct gupnw_req_01 {
	uint64_t opaque[16];
};
#define NOFAULT_01	(1u << 1)

_Static_assert(sizeof(struct gupnw_counts_01) == 48, "0.1 counts");
_Static_assert(sizeof(struct gupnw_module_info_01) == 56, "0.1 info");

struct gupnw *gupnw_open(void);
void gupnw_close(struct gupnw *g);
int probe01(struct gupnw *g, const void *addr, size_t len,
	    unsigned int flags, unsigned char *states,
	    struct gupnw_counts_01 *counts);
int probe_pid01(struct gupnw *g, pid_t pid, uint64_t addr, size_t len,
		unsigned int flags, unsigned char *states,
		struct gupnw_counts_01 *counts);
int probe_memfd01(struct gupnw *g, int mem_fd, uint64_t addr, size_t len,
		  unsigned int flags, unsigned char *states,
		  struct gupnw_counts_01 *counts);
int probe_pidfd01(struct gupnw *g, int pidfd, uint64_t addr, size_t len,
		  unsigned int flags, unsigned char *states,
		  struct gupnw_counts_01 *counts);
ssize_t probe_extents01(struct gupnw *g, const void *addr, size_t len,
			unsigned int flags, struct gupnw_extent_01 *ext,
			size_t max, struct gupnw_counts_01 *counts);
uint64_t req_result01(const struct gupnw_req_01 *req,
		      struct gupnw_counts_01 *counts);
int module_info01(struct gupnw *g, struct gupnw_module_info_01 *info);
int gupnw_open_pid_mem(pid_t pid, unsigned int flags);

/* What a program linked against libgupnw.so.1 0.1 has in its dynamic table. */
__asm__(".symver probe01, gupnw_probe@GUPNW_0.1");
__asm__(".symver probe_pid01, gupnw_probe_pid@GUPNW_0.1");
__asm__(".symver probe_memfd01, gupnw_probe_memfd@GUPNW_0.1");
__asm__(".symver probe_pidfd01, gupnw_probe_pidfd@GUPNW_0.1");
__asm__(".symver probe_extents01, gupnw_probe_extents@GUPNW_0.1");
__asm__(".symver req_result01, gupnw_req_result@GUPNW_0.1");
__asm__(".symver module_info01, gupnw_module_info@GUPNW_0.1");

#define GUARD	0xa5

/* The 0.1 struct followed by guard bytes the call must not write. */
struct counts_box {
	struct gupnw_counts_01 c;
	unsigned char guard[128];
};

static void box_init(struct counts_box *b)
{
	memset(b, GUARD, sizeof(*b));
}

/* Every guard byte intact, and the counts were written (they add up). */
static int box_ok(const struct counts_box *b, uint64_t pages)
{
	const struct gupnw_counts_01 *c = &b->c;
	size_t i;

	for (i = 0; i < sizeof(b->guard); i++)
		if (b->guard[i] != GUARD)
			return 0;
	return c->resident + c->faulted + c->retry + c->unmapped + c->error +
	       c->notpresent == pages;
}

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct {
		struct gupnw_module_info_01 info;
		unsigned char guard[256];
	} ib;
	struct gupnw_extent_01 ext[4];
	struct gupnw_req_01 req;
	unsigned char states[4];
	struct counts_box b;
	struct gupnw *g;
	char *buf;
	size_t i;
	int fd;

	g = gupnw_open();
	CHECK(g != NULL);
	if (!g)
		return 1;
	buf = aligned_alloc(ps, 4 * ps);
	CHECK(buf != NULL);

	box_init(&b);
	CHECK(probe01(g, buf, 4 * ps, 0, states, &b.c) == 0);
	CHECK(box_ok(&b, 4));

	box_init(&b);
	CHECK(probe_pid01(g, getpid(), (uintptr_t)buf, 4 * ps, NOFAULT_01,
			  NULL, &b.c) == 0);
	CHECK(box_ok(&b, 4));

	fd = gupnw_open_pid_mem(getpid(), 0);
	CHECK(fd >= 0);
	box_init(&b);
	CHECK(probe_memfd01(g, fd, (uintptr_t)buf, 4 * ps, 0, NULL, &b.c) == 0);
	CHECK(box_ok(&b, 4));
	close(fd);

	fd = syscall(SYS_pidfd_open, getpid(), 0);
	if (fd >= 0) {
		box_init(&b);
		CHECK(probe_pidfd01(g, fd, (uintptr_t)buf, 4 * ps, 0, NULL,
				    &b.c) == 0);
		CHECK(box_ok(&b, 4));
		close(fd);
	} else {
		fprintf(stderr, "# pidfd_open failed: gupnw_probe_pidfd@GUPNW_0.1 not tried\n");
	}

	box_init(&b);
	CHECK(probe_extents01(g, buf, 4 * ps, 0, ext, 4, &b.c) > 0);
	CHECK(box_ok(&b, 4));

	/* The kernel's answer sits in the request: counts of 3 pages. */
	memset(&req, 0, sizeof(req));
	req.opaque[offsetof(struct gupnw_probe_args, nr_resident) / 8] = 3;
	req.opaque[offsetof(struct gupnw_probe_args, done) / 8] = 3;
	box_init(&b);
	CHECK(req_result01(&req, &b.c) == 3);
	CHECK(box_ok(&b, 3) && b.c.resident == 3);

	memset(&ib, GUARD, sizeof(ib));
	CHECK(module_info01(g, &ib.info) == 0);
	CHECK(ib.info.page_size == (unsigned int)ps && ib.info.abi_version);
	for (i = 0; i < sizeof(ib.guard); i++)
		if (ib.guard[i] != GUARD)
			break;
	CHECK(i == sizeof(ib.guard));

	free(buf);
	gupnw_close(g);
	return CHECK_EXIT();
}
