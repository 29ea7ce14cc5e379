// SPDX-License-Identifier: GPL-2.0
/*
 * t03_nofault_changes_nothing: a NOFAULT probe only reports.  It starts no
 * I/O on a cold file, takes no major fault, maps nothing and allocates
 * nothing in untouched anonymous memory.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct gupnw *g;

static char *pattern_of(char c, size_t n)
{
	return gt_repeat(c, n);
}

static void setup(void)
{
	g = gupnw_open();
	if (!g)
		gt_bail("nofault: gupnw_open: %s", gt_errname(errno));
}

static void case_cold_file(void)
{
	const size_t len = 4 << 20, n = len / gt_page;
	char path[512], *all_c = pattern_of('C', n);
	uint64_t t0 = gt_now_ns();
	long maj0, maj1, res;
	char *p;
	int fd;

	setup();
	snprintf(path, sizeof(path), "%s/cold-64m",
		 gt_env("GUPNW_DATA", "/mnt/data"));
	fd = open(path, O_RDONLY);
	if (fd < 0 || gt_make_cold(fd)) {
		gt_skip(fd < 0 ? "no $GUPNW_DATA/cold-64m" :
			"could not make the file cold",
			"nofault: cold file range is all C and stays cold");
		free(all_c);
		return;
	}
	gt_diag("made %s cold in %.1f ms", path, gt_ms(gt_now_ns() - t0));
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap %s: %s", path, gt_errname(errno));
	maj0 = gt_majflt();
	gt_expect_probe(g, 0, p, n, GUPNW_NOFAULT, all_c, NULL,
			"nofault: cold file range (4 MiB) is all C");
	gt_expect_probe(g, 0, p, n, GUPNW_NOFAULT, all_c, NULL,
			"nofault: a second NOFAULT probe still sees all C");
	maj1 = gt_majflt();
	/* any I/O started would finish on the fast disk within this time */
	gt_sleep_ms(300);
	res = gt_file_resident(fd, 0, len);
	if (!gt_eq(0, res, "nofault: no page of the cold file became resident"))
		gt_diag("%ld of %zu pages resident after NOFAULT", res, n);
	gt_ok(gt_resident(p, len) == 0, "nofault: mincore of the mapping is 0");
	if (!gt_eq(maj0, maj1, "nofault: no major fault was taken"))
		gt_diag("majflt before %ld, after %ld", maj0, maj1);
	munmap(p, len);
	close(fd);
	free(all_c);
}

static void case_untouched_anon(void)
{
	const size_t len = 64 << 20, n = len / gt_page;
	char *all_n = pattern_of('N', n), *all_f = pattern_of('F', n);
	unsigned char *st = malloc(n);
	long rss0, rss1, rss2, pte0, pte1;
	uint64_t t0;
	char *p;

	setup();
	if (!st)
		gt_bail("malloc");
	memset(st, 0, n);		/* the states buffer is resident now */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap 64 MiB: %s", gt_errname(errno));
	madvise(p, len, MADV_NOHUGEPAGE);

	t0 = gt_now_ns();
	rss0 = gt_status_kb("RssAnon");
	pte0 = gt_status_kb("VmPTE");
	gt_expect_probe(g, 0, p, n, GUPNW_NOFAULT, all_n, st,
			"nofault: untouched 64 MiB anon is all N");
	rss1 = gt_status_kb("RssAnon");
	gt_expect_probe(g, 0, p, n, GUPNW_NOFAULT | GUPNW_WRITE, all_n, st,
			"nofault: WRITE|NOFAULT on untouched anon is all N");
	rss2 = gt_status_kb("RssAnon");
	pte1 = gt_status_kb("VmPTE");
	/* 64 MiB faulted would be 65536 kB; allow unrelated noise */
	if (!gt_ok(rss0 >= 0 && rss1 - rss0 < 256 && rss2 - rss0 < 256,
		   "nofault: RssAnon unchanged over untouched 64 MiB"))
		gt_diag("RssAnon %ld -> %ld -> %ld kB", rss0, rss1, rss2);
	if (!gt_ok(pte0 >= 0 && pte1 - pte0 < 16,
		   "nofault: no page tables were allocated (VmPTE)"))
		gt_diag("VmPTE %ld -> %ld kB", pte0, pte1);
	gt_diag("two NOFAULT probes of 64 MiB: %.1f ms", gt_ms(gt_now_ns() - t0));
	gt_eq(0, gt_resident(p, len),
	      "nofault: mincore of the untouched anon range is 0");
	t0 = gt_now_ns();
	gt_expect_probe(g, 0, p, n, 0, all_f, st,
			"nofault: the region then reads back F (not R) on NOWAIT");
	gt_diag("NOWAIT probe of 64 MiB: %.1f ms", gt_ms(gt_now_ns() - t0));
	munmap(p, len);
	free(st);
	free(all_n);
	free(all_f);
}

static const struct gt_case cases[] = {
	GT_CASE("cold-file", case_cold_file),
	GT_CASE("untouched-anon", case_untouched_anon),
};

GT_FILE(cases);
