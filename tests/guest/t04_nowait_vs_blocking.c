// SPDX-License-Identifier: GPL-2.0
/*
 * t04_nowait_vs_blocking: on the throttled disk, a NOWAIT probe of a cold
 * page returns W at once, far sooner than a blocking read of another cold
 * page takes, and the I/O it started does bring the page in.
 *
 * No absolute thresholds: the probe must be more than 10x faster than the
 * blocking read, both measured in the same conditions (docs/testing.md: drain
 * the throttle's burst bucket first, or the "blocking" read does not block).
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static void case_cold_page(void)
{
	const off_t off_a = 8 << 20;	/* probed page */
	const off_t off_b = 40 << 20;	/* blocking baseline, far from A */
	uint64_t t0, t_probe, t_read, t_res = 0;
	struct gupnw_counts c;
	unsigned char st = 0;
	struct gupnw *g;
	char path[512], buf[4096];
	int64_t drain;
	int ret, err, fd, res = 0;
	ssize_t n;
	char *p;

	snprintf(path, sizeof(path), "%s/cold-64m",
		 gt_env("GUPNW_SLOW", "/mnt/slow"));
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		gt_skip("no $GUPNW_SLOW/cold-64m",
			"nowait: probe of a cold page is 10x faster than a read");
		return;
	}
	g = gupnw_open();
	if (!g)
		gt_bail("nowait: gupnw_open: %s", gt_errname(errno));
	if (gt_make_cold(fd))
		gt_bail("nowait: could not make %s cold", path);
	p = mmap(NULL, gt_page, PROT_READ, MAP_SHARED, fd, off_a);
	if (p == MAP_FAILED)
		gt_bail("nowait: mmap: %s", gt_errname(errno));

	drain = gt_drain_throttle(path);
	gt_diag("throttle drain (128 KiB direct read): %.1f ms",
		drain < 0 ? -1.0 : gt_ms(drain));

	t0 = gt_now_ns();
	ret = gupnw_probe(g, p, gt_page, 0, &st, &c);
	t_probe = gt_now_ns() - t0;
	err = errno;

	t0 = gt_now_ns();
	n = pread(fd, buf, sizeof(buf), off_b);
	t_read = gt_now_ns() - t0;

	gt_diag("NOWAIT probe of a cold page: %.3f ms, state '%c'",
		gt_ms(t_probe), st ? st : '?');
	gt_diag("blocking pread of a cold 4 KiB: %.3f ms", gt_ms(t_read));

	if (!gt_err(ret ? -err : 0, 0, "nowait: probe of a cold page succeeds"))
		return;
	if (!gt_ok(st == GUPNW_RETRY, "nowait: cold page on the slow disk is W"))
		gt_diag("state '%c' (counts %s)", st, gt_counts_str(&c));
	gt_ok(c.retry == 1 && c.resident + c.faulted + c.unmapped + c.error +
	      c.notpresent == 0, "nowait: counts say one W page");
	gt_ok(n == (ssize_t)sizeof(buf), "nowait: the baseline read succeeded");
	if (!gt_ok(t_probe * 10 < t_read,
		   "nowait: the probe is over 10x faster than a blocking read"))
		gt_diag("probe %.3f ms vs read %.3f ms: the probe waited?",
			gt_ms(t_probe), gt_ms(t_read));

	/* The probe started the I/O: the page arrives without anyone waiting. */
	t0 = gt_now_ns();
	while (gt_now_ns() - t0 < 30ULL * 1000000000ULL) {
		res = gt_page_resident(p);
		if (res == 1) {
			t_res = gt_now_ns() - t0;
			break;
		}
		gt_sleep_ms(20);
	}
	if (gt_ok(res == 1, "nowait: the probed page became resident (I/O was started)"))
		gt_diag("resident %.1f ms after the read returned", gt_ms(t_res));
	else
		gt_diag("page still not resident 30 s after the probe");

	munmap(p, gt_page);
	close(fd);
	gupnw_close(g);
}

static const struct gt_case cases[] = {
	GT_CASE("cold-page", case_cold_page),
};

GT_FILE(cases);
