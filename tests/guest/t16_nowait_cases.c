// SPDX-License-Identifier: GPL-2.0
/*
 * t16_nowait_cases: the places where a vanilla FOLL_NOWAIT fault still
 * sleeps (docs/design.md) answer 'W' at once, on the throttled disk:
 *   - a cold page of a MADV_RANDOM mapping (filemap_fault reads it
 *     synchronously when readahead is off),
 *   - a cold page with the device's readahead set to 0,
 *   - more than 100 scattered cold pages of one mapping (past mmap_miss),
 *   - a WRITE probe of a shared file mapping (dirty throttling),
 *   - a swapped-out shmem (memfd) page, also while another thread swaps it
 *     in,
 * and the per-call I/O cap: pages past max_io_pages are 'C' (nothing
 * started).  "Without waiting" is counted, not timed: the probing thread's
 * voluntary context switches (/proc/thread-self/status) do not change
 * across the probe, as any sleep - on a page's I/O, a full request queue, a
 * lock - would change them.  The probe's time is printed next to one
 * blocking read of a cold page, for the reader.  Where the probe started
 * I/O, the pages must arrive without anyone waiting.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB	(1 << 20)

static struct gupnw *g;
static char slow[512];
static uint64_t t_ref;		/* one blocking read of a cold page, ns */

/* This thread's sleeps so far: each one is a voluntary context switch. */
static long sleeps(void)
{
	long n = gt_thread_status("voluntary_ctxt_switches");

	if (n < 0)
		gt_bail("no voluntary_ctxt_switches in /proc/thread-self/status");
	return n;
}

/* Wait up to 30 s for every page of [p, p + n pages) to be resident. */
static int wait_resident(const char *p, size_t n)
{
	uint64_t t0 = gt_now_ns();

	while (gt_now_ns() - t0 < 30ULL * 1000000000ULL) {
		if (gt_resident(p, n * gt_page) == (long)n)
			return 1;
		gt_sleep_ms(20);
	}
	return 0;
}

/* Probe n pages (a stride of 'stride' pages) and check: all W, no sleep. */
static int probe_fast_w(const char *what, const char *p, size_t n,
			size_t stride, unsigned int flags)
{
	unsigned char *st = calloc(n * stride, 1);
	struct gupnw_counts c;
	uint64_t t0, t;
	size_t i, w = 0;
	long slept;
	int ret;

	if (!st)
		gt_bail("calloc");
	slept = sleeps();
	t0 = gt_now_ns();
	ret = gupnw_probe(g, p, n * stride * gt_page, flags, st, &c);
	t = gt_now_ns() - t0;
	slept = sleeps() - slept;
	for (i = 0; i < n * stride; i += stride)
		w += st[i] == GUPNW_RETRY;
	gt_diag("%s: probe %.3f ms, reference blocking read %.3f ms", what,
		gt_ms(t), gt_ms(t_ref));
	if (!gt_ok(ret == 0 && w == n, "nowait: %s: every probed page is W",
		   what))
		gt_diag("ret %d, %zu of %zu W: %s", ret, w, n,
			gt_states_str(st, n * stride > 64 ? 64 : n * stride));
	gt_ok(slept == 0, "nowait: %s: the probe never slept (%ld sleeps)",
	      what, slept);
	free(st);
	return ret == 0 && w == n;
}

static char *map_cold(int fd, off_t off, size_t len, int shared)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       shared ? MAP_SHARED : MAP_PRIVATE, fd, off);

	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	return p;
}

static void test_madv_random(int fd)
{
	char *p = map_cold(fd, 4 * MIB, 4 * gt_page, 0);

	madvise(p, 4 * gt_page, MADV_RANDOM);
	if (probe_fast_w("MADV_RANDOM cold page", p, 1, 1, 0))
		gt_ok(wait_resident(p, 1),
		      "nowait: MADV_RANDOM: the page arrives (read was started)");
	munmap(p, 4 * gt_page);
}

static void test_readahead_off(void)
{
	const char *knob = "/sys/block/vdc/queue/read_ahead_kb";
	char old[32] = "128";
	char *p;
	int fd;

	if (gt_read_file(knob, old, sizeof(old)) <= 0 ||
	    gt_write_file(knob, "0")) {
		gt_skip("no writable /sys/block/vdc/queue/read_ahead_kb",
			"nowait: readahead off");
		return;
	}
	/* ra_pages is copied into the file at open: open it now */
	fd = open(slow, O_RDWR);
	if (fd < 0)
		gt_bail("open %s: %s", slow, gt_errname(errno));
	p = map_cold(fd, 12 * MIB, gt_page, 0);
	if (probe_fast_w("readahead off, cold page", p, 1, 1, 0))
		gt_ok(wait_resident(p, 1),
		      "nowait: readahead off: the page arrives");
	munmap(p, gt_page);
	close(fd);
	old[strcspn(old, "\n")] = '\0';
	gt_write_file(knob, old);
}

static void test_many_misses(int fd)
{
	const size_t n = 120, stride = 16;	/* > MMAP_LOTSAMISS (100) */
	char *p = map_cold(fd, 16 * MIB, n * stride * gt_page, 0);
	size_t i;
	int all = 1;

	if (probe_fast_w("120 scattered cold pages (past mmap_miss)", p, n,
			 stride, 0)) {
		for (i = 0; i < n; i++)
			all &= wait_resident(p + i * stride * gt_page, 1);
		gt_ok(all, "nowait: scattered misses: every page arrives");
	}
	munmap(p, n * stride * gt_page);
}

static void test_shared_write(int fd)
{
	unsigned char st;
	char *p = map_cold(fd, 24 * MIB, gt_page, 1);
	char buf[16];

	/* cached, so only dirty throttling could make the fault wait */
	if (pread(fd, buf, sizeof(buf), 24 * MIB) != sizeof(buf))
		gt_bail("pread: %s", gt_errname(errno));
	probe_fast_w("WRITE probe of a shared file page", p, 1, 1,
		     GUPNW_WRITE);
	/*
	 * The probe did not fault it (it could be throttled); its fault-in
	 * worker does, so 'W' arrives: mapped writable without a touch.
	 */
	{
		uint64_t t0 = gt_now_ns();

		do {
			st = 0;
			gupnw_probe(g, p, gt_page, GUPNW_WRITE | GUPNW_NOFAULT,
				    &st, NULL);
			if (st == GUPNW_RESIDENT)
				break;
			gt_sleep_ms(20);
		} while (gt_now_ns() - t0 < 30ULL * 1000000000ULL);
	}
	gt_ok(st == GUPNW_RESIDENT,
	      "nowait: the shared page arrives writable (fault-in worker)");
	munmap(p, gt_page);
}

static unsigned long swap_used_kb(void)
{
	char buf[4096], *s;
	unsigned long total = 0, free_kb = 0;

	if (gt_read_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return 0;
	s = strstr(buf, "SwapTotal:");
	if (s)
		total = strtoul(s + 10, NULL, 10);
	s = strstr(buf, "SwapFree:");
	if (s)
		free_kb = strtoul(s + 9, NULL, 10);
	return total - free_kb;
}

struct toucher {
	const volatile char *page;
	uint64_t ns;			/* how long the touch blocked */
};

static void *touch_page(void *arg)
{
	struct toucher *t = arg;
	uint64_t t0 = gt_now_ns();

	(void)*t->page;
	t->ns = gt_now_ns() - t0;
	return NULL;
}

static void test_shmem_swapped(void)
{
	const size_t n = 64;
	unsigned long before = swap_used_kb();
	struct toucher tt;
	unsigned char st = 0;
	uint64_t t0, t;
	long slept;
	pthread_t th;
	char *p;
	int fd;

	fd = memfd_create("gupnw-t16", 0);
	if (fd < 0 || ftruncate(fd, n * gt_page))
		gt_bail("memfd: %s", gt_errname(errno));
	p = map_cold(fd, 0, n * gt_page, 1);
	memset(p, 0x5a, n * gt_page);
	if (madvise(p, n * gt_page, MADV_PAGEOUT) ||
	    swap_used_kb() < before + n * gt_page / 1024 / 2) {
		gt_skip("MADV_PAGEOUT did not push the memfd to swap",
			"nowait: swapped shmem page");
		goto out;
	}
	probe_fast_w("swapped-out memfd page", p, 1, 1, 0);

	/*
	 * While another thread swaps page 8 in (its folio locked for the
	 * read), the probe must not wait for it.  Only meaningful when that
	 * swap-in really blocked for a while: the swap disk's burst bucket may
	 * serve it at once.
	 */
	tt.page = p + 8 * gt_page;
	pthread_create(&th, NULL, touch_page, &tt);
	gt_sleep_ms(2);
	slept = sleeps();
	t0 = gt_now_ns();
	gupnw_probe(g, p + 8 * gt_page, gt_page, 0, &st, NULL);
	t = gt_now_ns() - t0;
	slept = sleeps() - slept;
	pthread_join(th, NULL);
	gt_diag("memfd page being swapped in: probe %.3f ms ('%c'), swap-in %.3f ms",
		gt_ms(t), st, gt_ms(tt.ns));
	if (tt.ns < 100 * 1000000ULL)
		gt_skip("the swap-in finished too quickly to race with",
			"nowait: memfd page being swapped in");
	else
		gt_ok(st == GUPNW_RETRY && slept == 0,
		      "nowait: memfd page being swapped in: W, without waiting for the swap-in (%ld sleeps)",
		      slept);
out:
	munmap(p, n * gt_page);
	close(fd);
}

static void test_io_cap(int fd)
{
	const char *knob = "/sys/module/gupnw/parameters/max_io_pages";
	const size_t n = 1024, cap = 64;
	struct gupnw_probe_args a;
	char old[32] = "2048";
	char *p = map_cold(fd, 32 * MIB, n * gt_page, 0);
	int dev = gt_dev_open();
	uint64_t t0, t;
	long ret, slept;

	if (gt_read_file(knob, old, sizeof(old)) <= 0 ||
	    gt_write_file(knob, "64")) {
		gt_skip("no writable max_io_pages parameter", "nowait: I/O cap");
		goto out;
	}
	gt_args_init(&a, p, n * gt_page, 0, NULL);
	slept = sleeps();
	t0 = gt_now_ns();
	ret = gt_ioctl(dev, GUPNW_IOC_PROBE, &a);
	t = gt_now_ns() - t0;
	slept = sleeps() - slept;
	old[strcspn(old, "\n")] = '\0';
	gt_write_file(knob, old);
	gt_diag("cap 64: 1024 cold pages probed in %.3f ms, %llu started",
		gt_ms(t), (unsigned long long)a.io_started);
	gt_ok(ret == 0 && a.nr_retry == cap && a.nr_cold == n - cap &&
	      a.io_started == cap,
	      "nowait: cap 64: 64 cold pages W (reads started), the other 960 C");
	gt_ok(slept == 0, "nowait: cap: the probe never slept (%ld sleeps)",
	      slept);
	gt_ok(wait_resident(p, cap),
	      "nowait: cap: the 64 pages whose reads were started arrive");
	gt_ok(gt_resident(p + (n / 2) * gt_page, (n / 2) * gt_page) == 0,
	      "nowait: cap: pages past the cap were not read");
out:
	close(dev);
	munmap(p, n * gt_page);
}

/* FIEMAP walks, and so caches, the file's whole extent tree. */
static void warm_extent_tree(int fd)
{
	struct {
		struct fiemap map;
		struct fiemap_extent ext[32];
	} fm;

	memset(&fm, 0, sizeof(fm));
	fm.map.fm_length = FIEMAP_MAX_OFFSET;
	fm.map.fm_extent_count = 32;
	if (ioctl(fd, FS_IOC_FIEMAP, &fm.map))
		gt_diag("FIEMAP: %s", gt_errname(errno));
}

static int fd;

static void case_madv_random(void)
{
	test_madv_random(fd);
}

static void case_many_misses(void)
{
	test_many_misses(fd);
}

static void case_shared_write(void)
{
	test_shared_write(fd);
}

static void case_io_cap(void)
{
	test_io_cap(fd);
}

static const struct gt_case cases[] = {
	GT_CASE("madv-random", case_madv_random),
	GT_CASE("readahead-off", test_readahead_off),
	GT_CASE("many-misses", case_many_misses),
	GT_CASE("shared-write", case_shared_write),
	GT_CASE("shmem-swapped", test_shmem_swapped),
	GT_CASE("io-cap", case_io_cap),
};

static int before(void)
{
	char buf[4096];
	uint64_t t0;
	long slept;

	snprintf(slow, sizeof(slow), "%s/cold-64m",
		 gt_env("GUPNW_SLOW", "/mnt/slow"));
	fd = open(slow, O_RDWR);
	g = gupnw_open();
	if (fd < 0 || !g)
		gt_bail("open %s / device: %s", slow, gt_errname(errno));
	if (gt_make_cold(fd))
		gt_bail("could not make %s cold", slow);
	/*
	 * Read-ahead submission maps file offsets to blocks, and ext4 reads
	 * extent-tree blocks synchronously when they are not cached: a wait
	 * the kernel's own fault path shares and a module cannot avoid
	 * (README.md).  Load them now, so the cases time the data path.
	 */
	warm_extent_tree(fd);

	/* the reference: one blocking read of a cold page, bucket drained */
	gt_drain_throttle(slow);
	slept = sleeps();
	t0 = gt_now_ns();
	if (pread(fd, buf, sizeof(buf), 56 * MIB) != sizeof(buf))
		gt_bail("pread: %s", gt_errname(errno));
	t_ref = gt_now_ns() - t0;
	/* the instrument: a read that waits for the disk is seen to sleep */
	if (sleeps() == slept)
		gt_bail("a blocking read of a cold page did not count as a sleep");
	gt_diag("reference: blocking 4 KiB read of a cold page: %.3f ms",
		gt_ms(t_ref));

	return 0;
}

static int after(void)
{
	close(fd);
	gupnw_close(g);
	return 0;
}

GT_FILE(cases, .before = before, .after = after);
