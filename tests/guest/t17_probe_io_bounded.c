// SPDX-License-Identifier: GPL-2.0
/*
 * t17_probe_io_bounded: the read I/O a probe of cold file pages causes is
 * the I/O it reports (io_started), on every kernel line, whatever the
 * device's read-ahead window and the page cache's folio sizes.  Measured
 * on the throttled disk from the sectors the block layer completed
 * (/sys/block/vdc/stat), after every request is done: an unbounded
 * read-ahead started by the probe would keep that disk busy for seconds and
 * make pages reported 'W' arrive late.  The same for a WAIT probe, whose
 * faults would otherwise read around each miss (the whole read-ahead
 * window, 8 MiB on a 7.3 guest).
 *
 * The device's read-ahead window is raised to 8 MiB for the test (what a
 * 7.3 guest has by default; the harness sets 128 KiB on every line), before
 * the file is opened (a struct file takes its window at open).
 *
 * Slack: ext4 may read a few metadata blocks (extent tree) for a file whose
 * caches were dropped; SLACK_SECTORS covers that, not a read-ahead window.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLACK_SECTORS	64	/* 32 KiB */

/* sectors read and requests in flight of a block device; 0 or -1 */
static int disk_stat(const char *dev, unsigned long long *sectors,
		     unsigned long long *inflight)
{
	unsigned long long f[11];
	char path[128], buf[512];

	snprintf(path, sizeof(path), "/sys/block/%s/stat", dev);
	if (gt_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	if (sscanf(buf, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7],
		   &f[8], &f[9], &f[10]) != 11)
		return -1;
	*sectors = f[2];
	*inflight = f[8];
	return 0;
}

/*
 * Sectors read once the disk is idle: no request in flight and the count
 * unchanged for 1 s (a read-ahead submitted late would show up), 60 s at
 * most.  0 or -1.
 */
static int settled_sectors(const char *dev, unsigned long long *sectors)
{
	unsigned long long s, last = ~0ULL, inflight;
	uint64_t t0 = gt_now_ns(), quiet = 0;

	while (gt_now_ns() - t0 < 60ULL * 1000000000ULL) {
		if (disk_stat(dev, &s, &inflight))
			return -1;
		if (inflight == 0 && s == last) {
			if (!quiet)
				quiet = gt_now_ns();
			else if (gt_now_ns() - quiet >= 1000000000ULL) {
				*sectors = s;
				return 0;
			}
		} else {
			quiet = 0;
		}
		last = s;
		gt_sleep_ms(50);
	}
	return -1;
}

static void one(struct gupnw *g, int fd, const char *path, const char *dev,
		off_t off, size_t npages, unsigned int flags)
{
	const char *mode = flags & GUPNW_WAIT ? "WAIT" : "NOWAIT";
	unsigned long long s0, s1, read;
	unsigned char *st = calloc(npages, 1);
	struct gupnw_counts c;
	struct gt_tally t;
	uint64_t bound;
	char *p;

	if (!st)
		gt_bail("io bounded: out of memory");
	if (gt_make_cold(fd))
		gt_bail("io bounded: could not make %s cold", path);
	p = mmap(NULL, npages * gt_page, PROT_READ, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		gt_bail("io bounded: mmap: %s", gt_errname(errno));
	/* the drain is a direct read: done when it returns, and counted */
	gt_drain_throttle(path);
	if (settled_sectors(dev, &s0))
		gt_bail("io bounded: %s never idle before the probe", dev);

	memset(&c, 0, sizeof(c));
	if (!gt_ok(gupnw_probe(g, p, npages * gt_page, flags, st, &c) == 0,
		   "io bounded: %s probe of %zu cold pages succeeds", mode, npages))
		goto out;
	gt_tally(st, npages, &t);
	gt_diag("%s, %zu cold pages: %s, io_started %llu", mode, npages,
		gt_states_str(st, npages), (unsigned long long)c.io_started);
	gt_ok(c.io_started >= 1 && c.io_started <= npages &&
	      c.io_started <= t.w,
	      "io bounded: %s, %zu cold pages: io_started is 1..%zu and no more than the W pages",
	      mode, npages, npages);

	if (settled_sectors(dev, &s1)) {
		gt_ok(0, "io bounded: %s, %zu cold pages: the disk is idle again within 60 s",
		      mode, npages);
		goto out;
	}
	read = s1 - s0;
	bound = c.io_started * (gt_page / 512) + SLACK_SECTORS;
	if (!gt_ok(read <= bound,
		   "io bounded: %s, %zu cold pages: sectors read <= io_started pages + %d",
		   mode, npages, SLACK_SECTORS))
		gt_diag("read %llu sectors, io_started %llu pages (%llu sectors): the probe read more than it reports",
			read, (unsigned long long)c.io_started,
			(unsigned long long)c.io_started * (gt_page / 512));
	else
		gt_diag("read %llu sectors for io_started %llu pages", read,
			(unsigned long long)c.io_started);
	/* what it reported it started does arrive */
	gt_ok(gt_resident(p, npages * gt_page) >= (long)c.io_started,
	      "io bounded: %s, %zu cold pages: the pages it started reading arrived",
	      mode, npages);
out:
	munmap(p, npages * gt_page);
	free(st);
}

static struct gupnw *g;
static const char *dev;

/*
 * One probe of npages cold pages of the throttled disk's file at off; a
 * SKIP line when there is no such file or no disk statistics.
 */
static void probe_cold(off_t off, size_t npages, unsigned int flags)
{
	unsigned long long s, inflight;
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/cold-64m",
		 gt_env("GUPNW_SLOW", "/mnt/slow"));
	/* after main() raised the window: a struct file takes it at open */
	fd = open(path, O_RDONLY);
	if (fd < 0 || disk_stat(dev, &s, &inflight)) {
		gt_skip("no $GUPNW_SLOW/cold-64m or /sys/block/vdc/stat",
			"io bounded: probe reads what it reports");
		if (fd >= 0)
			close(fd);
		return;
	}
	one(g, fd, path, dev, off, npages, flags);
	close(fd);
}

static void case_nowait_one_page(void)
{
	probe_cold(8 << 20, 1, 0);
}

static void case_nowait_16_pages(void)
{
	probe_cold(16 << 20, 16, 0);
}

/* the middle of a larger range, not aligned to a large folio */
static void case_nowait_64_pages_unaligned(void)
{
	probe_cold((24 << 20) + 3 * gt_page, 64, 0);
}

static void case_wait_one_page(void)
{
	probe_cold(32 << 20, 1, GUPNW_WAIT);
}

static void case_wait_64_pages_unaligned(void)
{
	probe_cold((40 << 20) + 3 * gt_page, 64, GUPNW_WAIT);
}

static const struct gt_case cases[] = {
	GT_CASE("nowait-one-page", case_nowait_one_page),
	GT_CASE("nowait-16-pages", case_nowait_16_pages),
	GT_CASE("nowait-64-pages-unaligned", case_nowait_64_pages_unaligned),
	GT_CASE("wait-one-page", case_wait_one_page),
	GT_CASE("wait-64-pages-unaligned", case_wait_64_pages_unaligned),
};

/* the slow disk's read-ahead, set for the file and restored after it */
static char ra_path[128], ra_old[32];

static int before(void)
{
	dev = gt_env("GUPNW_SLOW_DEV", "vdc");
	snprintf(ra_path, sizeof(ra_path), "/sys/block/%s/queue/read_ahead_kb",
		 dev);
	if (gt_read_file(ra_path, ra_old, sizeof(ra_old)) <= 0 ||
	    gt_write_file(ra_path, "8192"))
		gt_bail("io bounded: cannot set %s", ra_path);
	g = gupnw_open();
	if (!g) {
		gt_write_file(ra_path, ra_old);
		gt_bail("io bounded: gupnw_open: %s", gt_errname(errno));
	}
	return 0;
}

static int after(void)
{
	gupnw_close(g);
	gt_write_file(ra_path, ra_old);
	return 0;
}

GT_FILE(cases, .before = before, .after = after);
