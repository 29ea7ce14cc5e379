// SPDX-License-Identifier: GPL-2.0
/*
 * t34_states_uffd: userfaultfd-registered memory.  A fault the monitor would
 * have to resolve is W, and - as FAULT_FLAG_RETRY_NOWAIT makes the kernel
 * return before queueing anything - the monitor gets no message (poll()
 * with timeout 0 says so).  Missing mode on private anon, minor mode on
 * shmem and hugetlbfs (where the kernel supports it).
 *
 * If a probe ever did wait for the monitor it would wait forever (nobody
 * answers): each probe runs in a thread with a 10 s deadline, after which
 * the test fails and closing the userfaultfd releases the thread.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif

#define P(n)	((size_t)(n) * gt_page)
#define HUGE	(2UL << 20)

static struct gupnw *g;

struct probe_call {
	const void *addr;
	size_t npages;
	unsigned int flags;
	unsigned char *st;
	struct gupnw_counts c;
	int ret, err;
	volatile int done;
};

static void *probe_thread(void *arg)
{
	struct probe_call *pc = arg;

	pc->ret = gupnw_probe(g, pc->addr, P(pc->npages), pc->flags, pc->st,
			      &pc->c);
	pc->err = errno;
	__atomic_store_n(&pc->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Probe in a thread; if it has not returned after 10 s, close *uffd (which
 * wakes a fault waiting for the monitor) and report the hang.  Returns 1
 * if the probe returned in time.
 */
static int probe_deadline(struct probe_call *pc, int *uffd)
{
	uint64_t t0 = gt_now_ns();
	pthread_t t;

	pc->done = 0;
	if (pthread_create(&t, NULL, probe_thread, pc))
		gt_bail("pthread_create");
	while (!__atomic_load_n(&pc->done, __ATOMIC_ACQUIRE)) {
		if (gt_now_ns() - t0 > 10000000000ULL) {
			gt_diag("the probe waited for the userfaultfd monitor (10 s): closing it");
			close(*uffd);
			*uffd = -1;
			pthread_join(t, NULL);
			return 0;
		}
		gt_sleep_ms(1);
	}
	pthread_join(t, NULL);
	return 1;
}

static int uffd_open(uint64_t features, uint64_t *supported)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		int err = errno;

		close(fd);
		return -err;
	}
	if (supported)
		*supported = api.features;
	return fd;
}

static int uffd_register(int fd, void *addr, size_t len, uint64_t mode)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = mode,
	};

	return ioctl(fd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

/* Nothing for the monitor to read: poll() with timeout 0. */
static int uffd_quiet(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&pfd, 1, 0) == 0;
}

/*
 * Probe a registered range expecting pattern, then check that no message
 * was queued.  name names the case ("missing anon", ...); the mode is added.
 */
static void expect_uffd(int *uffd, const void *addr, size_t npages,
			unsigned int flags, const char *pattern,
			const char *name)
{
	unsigned char st[512];
	struct probe_call pc = {
		.addr = addr, .npages = npages, .flags = flags, .st = st,
	};
	/* the whole pattern if short, else its first letter */
	int plen = npages <= 8 ? (int)npages : 1;
	const char *mode = flags & GUPNW_WRITE ? ", WRITE" :
			   flags & GUPNW_NOFAULT ? ", NOFAULT" : "";
	long bad = -1;

	memset(st, 0, sizeof(st));
	if (!probe_deadline(&pc, uffd)) {
		gt_ok(0, "uffd: %s%s: %.*s", name, mode, plen, pattern);
		gt_ok(0, "uffd: %s%s: no message queued to the monitor", name,
		      mode);
		return;
	}
	if (!pc.ret)
		bad = gt_match(st, pattern, npages);
	if (!gt_ok(!pc.ret && bad < 0 && gt_counts_tally_ok(&pc.c, st, npages),
		   "uffd: %s%s: %.*s", name, mode, plen, pattern))
		gt_diag("ret %d (%s), states %s", pc.ret,
			pc.ret ? gt_errname(pc.err) : "-",
			gt_states_str(st, npages));
	gt_ok(uffd_quiet(*uffd), "uffd: %s%s: no message queued to the monitor",
	      name, mode);
}

static void test_missing_anon(void)
{
	struct uffdio_copy copy;
	char *p, *src;
	int fd;

	fd = uffd_open(0, NULL);
	if (fd < 0) {
		gt_skip("no userfaultfd", "uffd: missing anon is W");
		return;
	}
	p = mmap(NULL, P(4), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, P(1), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || src == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	madvise(p, P(4), MADV_NOHUGEPAGE);
	if (uffd_register(fd, p, P(4), UFFDIO_REGISTER_MODE_MISSING))
		gt_bail("UFFDIO_REGISTER missing: %s", gt_errname(errno));

	expect_uffd(&fd, p, 4, GUPNW_NOFAULT, "NNNN", "missing anon");
	expect_uffd(&fd, p, 4, 0, "WWWW", "missing anon");
	expect_uffd(&fd, p, 4, GUPNW_WRITE, "WWWW", "missing anon");
	expect_uffd(&fd, p, 4, 0, "WWWW", "missing anon, probed again");

	/* the monitor fills page 1: it is mapped, the others still wait */
	memset(src, 0x77, P(1));
	copy = (struct uffdio_copy){ .dst = (uintptr_t)(p + P(1)),
				     .src = (uintptr_t)src, .len = P(1) };
	if (fd >= 0 && ioctl(fd, UFFDIO_COPY, &copy) == 0)
		expect_uffd(&fd, p, 4, 0, "WRWW",
			    "missing anon after UFFDIO_COPY of page 1");
	else
		gt_ok(0, "uffd: UFFDIO_COPY: %s", gt_errname(errno));
	if (fd >= 0)
		close(fd);
	munmap(p, P(4));
	munmap(src, P(1));
}

static void test_minor_shmem(void)
{
	const char *name = "uffd: minor shmem is W";
	struct uffdio_continue cont;
	uint64_t have = 0;
	char buf[4096];
	int fd, mfd, i;
	char *p;

	fd = uffd_open(0, &have);
	if (fd >= 0)
		close(fd);
	if (fd < 0 || !(have & UFFD_FEATURE_MINOR_SHMEM)) {
		gt_skip("no UFFD_FEATURE_MINOR_SHMEM", "%s", name);
		return;
	}
	fd = uffd_open(UFFD_FEATURE_MINOR_SHMEM, NULL);
	mfd = memfd_create("gupnw-t34", MFD_CLOEXEC);
	if (fd < 0 || mfd < 0 || ftruncate(mfd, P(4)))
		gt_bail("uffd/memfd: %s", gt_errname(errno));
	/* pages 0-2 in the page cache, page 3 a hole */
	memset(buf, 0x42, sizeof(buf));
	for (i = 0; i < 3; i++)
		if (pwrite(mfd, buf, sizeof(buf), P(i)) != (ssize_t)sizeof(buf))
			gt_bail("pwrite: %s", gt_errname(errno));
	p = mmap(NULL, P(4), PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap memfd: %s", gt_errname(errno));
	if (uffd_register(fd, p, P(4), UFFDIO_REGISTER_MODE_MINOR))
		gt_bail("UFFDIO_REGISTER minor: %s", gt_errname(errno));

	expect_uffd(&fd, p, 3, GUPNW_NOFAULT, "NNN", "minor shmem");
	expect_uffd(&fd, p, 3, 0, "WWW", "minor shmem");
	expect_uffd(&fd, p, 3, GUPNW_WRITE, "WWW", "minor shmem");
	/* minor mode traps pages in the cache only: a hole faults as usual */
	expect_uffd(&fd, p + P(3), 1, 0, "F", "minor shmem, a hole");

	cont = (struct uffdio_continue){
		.range = { .start = (uintptr_t)p, .len = P(1) } };
	if (fd >= 0 && ioctl(fd, UFFDIO_CONTINUE, &cont) == 0)
		expect_uffd(&fd, p, 3, 0, "RWW",
			    "minor shmem after UFFDIO_CONTINUE of page 0");
	else
		gt_ok(0, "uffd: UFFDIO_CONTINUE: %s", gt_errname(errno));
	if (fd >= 0)
		close(fd);
	munmap(p, P(4));
	close(mfd);
}

static void test_minor_hugetlbfs(void)
{
	const char *name = "uffd: minor hugetlbfs is W";
	char pattern[513];
	uint64_t have = 0;
	int fd, mfd;
	long old;
	char *p;

	fd = uffd_open(0, &have);
	if (fd >= 0)
		close(fd);
	if (fd < 0 || !(have & UFFD_FEATURE_MINOR_HUGETLBFS)) {
		gt_skip("no UFFD_FEATURE_MINOR_HUGETLBFS", "%s", name);
		return;
	}
	old = gt_hugetlb_reserve(1);
	if (old < 0) {
		gt_skip("could not reserve a 2 MiB page", "%s", name);
		return;
	}
	mfd = memfd_create("gupnw-t34h", MFD_CLOEXEC | MFD_HUGETLB);
	if (mfd < 0 || ftruncate(mfd, HUGE)) {
		gt_skip("no hugetlb memfd", "%s", name);
		goto out_restore;
	}
	/* put the page in the file through a first, unregistered mapping */
	p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap hugetlb memfd: %s", gt_errname(errno));
	memset(p, 0x24, HUGE);
	munmap(p, HUGE);

	fd = uffd_open(UFFD_FEATURE_MINOR_HUGETLBFS, NULL);
	p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (fd < 0 || p == MAP_FAILED)
		gt_bail("uffd/mmap: %s", gt_errname(errno));
	if (uffd_register(fd, p, HUGE, UFFDIO_REGISTER_MODE_MINOR))
		gt_bail("UFFDIO_REGISTER minor hugetlbfs: %s",
			gt_errname(errno));
	memset(pattern, 'W', 512);
	pattern[512] = '\0';
	expect_uffd(&fd, p, HUGE / gt_page, 0, pattern, "minor hugetlbfs");
	if (fd >= 0)
		close(fd);
	munmap(p, HUGE);
	close(mfd);
out_restore:
	gt_hugetlb_restore(old);
}

static const struct gt_case cases[] = {
	GT_CASE("missing-anon", test_missing_anon),
	GT_CASE("minor-shmem", test_minor_shmem),
	GT_CASE("minor-hugetlbfs", test_minor_hugetlbfs),
};

GT_FILE(cases, .lib = &g);
