// SPDX-License-Identifier: GPL-2.0
/*
 * t02_states: every state letter, each from the real situation it names,
 * through the library's gupnw_probe().  gt_expect_probe() also checks that
 * the counts equal the tally of the states array in every case.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define P(n)	((size_t)(n) * gt_page)

static struct gupnw *g;

/* Private anonymous memory without THP, so every page faults on its own. */
static char *map_anon(size_t npages, int prot)
{
	return gt_map_anon(npages, prot, MAP_PRIVATE);
}

/* Each case opens the library in its own (forked) process. */
static void setup(void)
{
	g = gupnw_open();
	if (!g)
		gt_bail("states: gupnw_open: %s", gt_errname(errno));
}

static void case_anon_untouched(void)
{
	char *p;

	setup();
	p = map_anon(4, PROT_READ | PROT_WRITE);

	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "NNNN", NULL,
			"states: untouched anon is N in NOFAULT");
	gt_ok(gt_resident(p, P(4)) == 0,
	      "states: NOFAULT left untouched anon unmapped (mincore)");
	gt_expect_probe(g, 0, p, 4, 0, "FFFF", NULL,
			"states: untouched anon is F");
	gt_expect_probe(g, 0, p, 4, 0, "RRRR", NULL,
			"states: anon faulted in by a probe is R next time");
	gt_expect_probe(g, 0, p, 4, GUPNW_WRITE, "FFFF", NULL,
			"states: WRITE on zero-page-mapped anon breaks COW: F");
	gt_expect_probe(g, 0, p, 4, GUPNW_WRITE, "RRRR", NULL,
			"states: WRITE on anon after COW is R");
	munmap(p, P(4));
}

static void case_anon_touched(void)
{
	char *p;

	setup();
	p = map_anon(4, PROT_READ | PROT_WRITE);
	memset(p, 0x5a, P(4));
	gt_expect_probe(g, 0, p, 4, 0, "RRRR", NULL,
			"states: touched anon is R");
	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "RRRR", NULL,
			"states: touched anon is R in NOFAULT");
	munmap(p, P(4));
}

static void case_anon_write(void)
{
	char *p;

	setup();
	p = map_anon(2, PROT_READ | PROT_WRITE);
	gt_expect_probe(g, 0, p, 2, GUPNW_WRITE, "FF", NULL,
			"states: WRITE on untouched private anon is F");
	gt_expect_probe(g, 0, p, 2, GUPNW_WRITE, "RR", NULL,
			"states: WRITE on private anon is R the second time");
	gt_ok(gt_resident(p, P(2)) == 2,
	      "states: WRITE probe left the pages mapped (mincore)");
	munmap(p, P(2));
}

static void case_hole(void)
{
	char *p;

	setup();
	p = map_anon(3, PROT_READ | PROT_WRITE);
	munmap(p + P(1), P(1));
	gt_expect_probe(g, 0, p, 3, 0, "F.F", NULL,
			"states: hole between two mappings is '.'");
	gt_expect_probe(g, 0, p, 3, GUPNW_NOFAULT, "R.R", NULL,
			"states: hole is '.' in NOFAULT too");
	munmap(p, P(3));
}

static void case_prot_none(void)
{
	char *p;

	setup();
	p = map_anon(2, PROT_NONE);
	gt_expect_probe(g, 0, p, 2, 0, "EE", NULL,
			"states: PROT_NONE is E");
	gt_expect_probe(g, 0, p, 2, GUPNW_NOFAULT, "EE", NULL,
			"states: PROT_NONE is E in NOFAULT (E has precedence)");
	gt_expect_probe(g, 0, p, 2, GUPNW_WAIT, "EE", NULL,
			"states: PROT_NONE is E in WAIT");
	munmap(p, P(2));
}

/* A read-only mapping of one kind of memory: anon, or a cached file. */
struct read_only {
	const char *kind;	/* in the check names */
	char *(*map)(size_t npages);	/* NULL after a SKIP line */
};

static char *map_anon_ro(size_t npages)
{
	return map_anon(npages, PROT_READ);
}

static char *map_file_ro(size_t npages)
{
	char path[512], buf[64];
	char *p;
	int fd;

	snprintf(path, sizeof(path), "%s/small",
		 gt_env("GUPNW_DATA", "/mnt/data"));
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		gt_skip("no $GUPNW_DATA/small",
			"states: WRITE on a read-only file mapping is E");
		return NULL;
	}
	if (pread(fd, buf, sizeof(buf), 0) < 0)
		gt_diag("pread %s: %s", path, gt_errname(errno));
	p = mmap(NULL, P(npages), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap %s: %s", path, gt_errname(errno));
	close(fd);
	return p;
}

static const struct read_only ro_anon = { "anon", map_anon_ro };
static const struct read_only ro_file = { "file", map_file_ro };

static const struct gt_variant read_only_kinds[] = {
	{ "anon", &ro_anon },
	{ "file", &ro_file },
};

/* WRITE is refused before anything is faulted, with or without NOFAULT. */
static void case_write_read_only(void)
{
	const struct read_only *v = gt_variant->data;
	char *p;

	setup();
	p = v->map(1);
	if (!p)
		return;
	gt_expect_probe(g, 0, p, 1, GUPNW_WRITE, "E", NULL,
			"states: WRITE on a read-only %s mapping is E", v->kind);
	gt_expect_probe(g, 0, p, 1, GUPNW_WRITE | GUPNW_NOFAULT, "E", NULL,
			"states: WRITE|NOFAULT on a read-only %s mapping is E",
			v->kind);
	munmap(p, P(1));
}

static void case_mixed_range(void)
{
	char *p;

	setup();
	/* anon R, anon F, hole, PROT_NONE, anon R, read-only untouched F */
	p = map_anon(6, PROT_READ | PROT_WRITE);
	p[0] = 1;
	p[P(4)] = 1;
	munmap(p + P(2), P(1));
	mprotect(p + P(3), P(1), PROT_NONE);
	mprotect(p + P(5), P(1), PROT_READ);
	gt_expect_probe(g, 0, p, 6, 0, "RF.ERF", NULL,
			"states: mixed range (anon, hole, PROT_NONE) in one call");
	munmap(p, P(6));
}

static void case_past_eof(void)
{
	char path[512], buf[4 * 4096 + 100];
	char *p;
	int fd;

	setup();
	snprintf(path, sizeof(path), "%s/small",
		 gt_env("GUPNW_DATA", "/mnt/data"));
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		gt_skip("no $GUPNW_DATA/small", "states: mapping past EOF is E");
		return;
	}
	/* page-cache hot, so pages 0..3 need no I/O */
	if (pread(fd, buf, sizeof(buf), 0) < 0)
		gt_diag("pread %s: %s", path, gt_errname(errno));
	p = mmap(NULL, P(8), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap %s: %s", path, gt_errname(errno));
	gt_expect_probe(g, 0, p, 8, GUPNW_NOFAULT, "????EEEE", NULL,
			"states: NOFAULT: past EOF is E, never N (E takes precedence)");
	gt_expect_probe(g, 0, p, 8, 0, "rrrrEEEE", NULL,
			"states: file mapping past EOF is E (SIGBUS area)");
	gt_expect_probe(g, 0, p, 8, GUPNW_NOFAULT, "RRRREEEE", NULL,
			"states: NOFAULT after the probe sees pages 0-3 as R, past EOF E");
	munmap(p, P(8));
	close(fd);
}

static char *map_file(int fd, off_t off, size_t npages)
{
	char *p = mmap(NULL, P(npages), PROT_READ, MAP_SHARED, fd, off);

	if (p == MAP_FAILED)
		gt_bail("mmap slow file: %s", gt_errname(errno));
	return p;
}

static void case_cold_file(void)
{
	const char *names[] = {
		"states: NOFAULT of a cold file is C",
		"states: cold file page is W",
		"states: cached file page in a fresh mapping is F",
		"states: cached file page touched through the mapping is R",
		"states: WAIT on a cold file page is W (it needed I/O)",
	};
	const off_t wait_off = 16 << 20;
	char path[512], c;
	unsigned char st[16];
	size_t i;
	char *p;
	int fd;

	setup();
	snprintf(path, sizeof(path), "%s/cold-64m",
		 gt_env("GUPNW_SLOW", "/mnt/slow"));
	fd = open(path, O_RDONLY);
	if (fd < 0 || gt_make_cold(fd)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			gt_skip(fd < 0 ? "no $GUPNW_SLOW/cold-64m" :
				"could not make the file cold", "%s", names[i]);
		if (fd >= 0)
			close(fd);
		return;
	}
	p = map_file(fd, 0, 16);
	gt_expect_probe(g, 0, p, 16, GUPNW_NOFAULT, "CCCCCCCCCCCCCCCC", NULL,
			"%s", names[0]);
	gt_ok(gt_file_resident(fd, 0, P(16)) == 0,
	      "states: NOFAULT of a cold file started no I/O (mincore)");
	gt_expect_probe(g, 0, p, 1, 0, "W", NULL, "%s", names[1]);
	munmap(p, P(16));

	/* page-cache hit: pread waits for the I/O the probe started */
	if (pread(fd, &c, 1, 0) != 1)
		gt_diag("pread: %s", gt_errname(errno));
	p = map_file(fd, 0, 1);
	gt_expect_probe(g, 0, p, 1, 0, "F", NULL, "%s", names[2]);
	munmap(p, P(1));
	p = map_file(fd, 0, 1);
	c = *(volatile char *)p;
	gt_expect_probe(g, 0, p, 1, 0, "R", NULL, "%s", names[3]);
	munmap(p, P(1));

	if (gt_make_cold(fd)) {
		gt_skip("could not make the file cold again", "%s", names[4]);
	} else {
		p = map_file(fd, wait_off, 1);
		gt_expect_probe(g, 0, p, 1, GUPNW_WAIT, "W", st, "%s",
				names[4]);
		gt_ok(gt_page_resident(p) == 1,
		      "states: WAIT returned with the page resident");
		munmap(p, P(1));
	}
	close(fd);
}

static const struct gt_case cases[] = {
	GT_CASE("anon-untouched", case_anon_untouched),
	GT_CASE("anon-touched", case_anon_touched),
	GT_CASE("anon-write", case_anon_write),
	GT_CASE("hole", case_hole),
	GT_CASE("prot-none", case_prot_none),
	GT_CASE_VARIANTS("write-read-only", case_write_read_only,
			 read_only_kinds),
	GT_CASE("mixed-range", case_mixed_range),
	GT_CASE("past-eof", case_past_eof),
	GT_CASE("cold-file", case_cold_file),
};

GT_FILE(cases);
