// SPDX-License-Identifier: GPL-2.0
/* Unit test of the tool's reports (userspace/cli/output.c). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "output.h"

/* Run @print into a string; the caller frees it. */
#define CAPTURE(buf, print)						\
	do {								\
		size_t len_;						\
		FILE *f_ = open_memstream(&(buf), &len_);		\
									\
		print;							\
		fclose(f_);						\
	} while (0)

/* Render @npages states fed in windows of @window pages into @width cells. */
static char *render(const char *states, unsigned int width, size_t window)
{
	size_t n = strlen(states), i, step;
	struct state_map m;
	char *out;

	if (map_init(&m, n, width))
		return NULL;
	for (i = 0; i < n; i += step) {
		step = n - i < window ? n - i : window;
		map_add(&m, (const unsigned char *)states + i, step);
	}
	out = malloc(m.ncells + 1);
	if (out)
		map_render(&m, out);
	map_free(&m);
	return out;
}

static int render_is(const char *states, unsigned int width, size_t window,
		     const char *want)
{
	char *got = render(states, width, window);
	int ok = got && !strcmp(got, want);

	if (!ok)
		fprintf(stderr, "# map of \"%s\" in %u: got \"%s\", want \"%s\"\n",
			states, width, got ? got : "(null)", want);
	free(got);
	return ok;
}

static void test_map(void)
{
	struct state_map m;

	/* One cell per page when they fit. */
	CHECK(render_is("RFW.EN", 80, 100, "RFW.EN"));
	CHECK(render_is("RFW.EN", 6, 1, "RFW.EN"));
	/* Windows of any size give the same map. */
	CHECK(render_is("RRRWWWFFFF", 3, 100, "RWF"));
	CHECK(render_is("RRRWWWFFFF", 3, 1, "RWF"));
	CHECK(render_is("RRRWWWFFFF", 3, 4, "RWF"));
	/* 10 pages in 3 cells: 3, 3, 4; majority wins, lower case if mixed. */
	CHECK(render_is("RRWWWWFFFE", 3, 7, "rWf"));
	/* Ties go to what matters most: W before R, R before '.'. */
	CHECK(render_is("RW", 1, 1, "w"));
	CHECK(render_is("R.", 1, 1, "r"));
	CHECK(render_is("..", 1, 1, "."));
	CHECK(render_is(".R.", 1, 1, "."));
	/* A byte that is no state shows as '?', whatever else the cell has. */
	CHECK(render_is("Rx", 2, 1, "R?"));
	CHECK(render_is("Rx", 1, 1, "?"));

	/* No pages, no cells; too wide a map is capped. */
	CHECK(!map_init(&m, 0, 80) && m.ncells == 0);
	map_free(&m);
	CHECK(!map_init(&m, 1000000, 100000) && m.ncells == MAP_MAX_CELLS);
	map_free(&m);
}

static const struct probe_report file_report = {
	.file = "f", .start = 0, .length = 16384, .pages = 4,
	.page_size = 4096, .flags = 0,
	.counts = { .resident = 2, .faulted = 1, .retry = 1 },
};

static void test_human(void)
{
	struct probe_report r = file_report;
	struct state_map m;
	char *out;

	CHECK(!map_init(&m, 4, 80));
	map_add(&m, (const unsigned char *)"RRWF", 4);
	CAPTURE(out, print_human(f_, &r, &m));
	CHECK(!strcmp(out,
		"f: offset 0, length 16384: 4 pages of 4096 bytes, mode nowait\n"
		"  R resident                2  50.0%\n"
		"  F faulted                 1  25.0%\n"
		"  W retry                   1  25.0%\n"
		"  in memory                 3  75.0%\n"
		"[RRWF]\n"
		"one cell = one page\n"));
	free(out);
	map_free(&m);

	/* Cells of uneven size say so. */
	CHECK(!map_init(&m, 4, 3));
	map_add(&m, (const unsigned char *)"RRWF", 4);
	CAPTURE(out, print_human(f_, &r, &m));
	CHECK(strstr(out, "\n[RRw]\none cell = 1-2 pages: "));
	free(out);
	map_free(&m);

	r = (struct probe_report){
		.pid = 42, .start = 0x7f0000000000, .length = 8192,
		.pages = 2, .page_size = 4096,
		.flags = GUPNW_NOFAULT | GUPNW_WRITE,
		.counts = { .error = 2 },
	};
	CHECK(!map_init(&m, 2, 1));
	map_add(&m, (const unsigned char *)"EE", 2);
	CAPTURE(out, print_human(f_, &r, &m));
	CHECK(!strcmp(out,
		"pid 42: addr 0x7f0000000000, length 8192: 2 pages of 4096 bytes, mode nofault+write\n"
		"  E error                   2 100.0%\n"
		"  in memory                 0   0.0%\n"
		"[E]\n"
		"one cell = 2 pages: the state of most of them, lower case when mixed\n"));
	free(out);
	map_free(&m);

	r = (struct probe_report){ .file = "empty", .page_size = 4096,
				   .flags = GUPNW_WAIT };
	CHECK(!map_init(&m, 0, 80));
	CAPTURE(out, print_human(f_, &r, &m));
	CHECK(!strcmp(out,
		"empty: offset 0, length 0: 0 pages of 4096 bytes, mode wait\n"
		"  (no pages)\n"));
	free(out);
	map_free(&m);
}

static void test_json(void)
{
	struct probe_report r = file_report;
	char *out;

	CAPTURE(out, print_json(f_, &r, (const unsigned char *)"RRWF"));
	CHECK(!strcmp(out,
		"{\"file\":\"f\",\"offset\":0,\"length\":16384,\"page_size\":4096,"
		"\"flags\":[],\"map\":\"RRWF\",\"pages\":4,\"resident\":2,"
		"\"faulted\":1,\"retry\":1,\"unmapped\":0,\"error\":0,"
		"\"notpresent\":0,\"cold\":0,\"io_started\":0,"
		"\"async_faults\":0}\n"));
	free(out);

	r = (struct probe_report){
		.pid = 42, .start = 65536, .length = 4096, .pages = 1,
		.page_size = 4096, .flags = GUPNW_WRITE | GUPNW_WAIT,
		.counts = { .unmapped = 1 },
	};
	CAPTURE(out, print_json(f_, &r, (const unsigned char *)"\x01"));
	CHECK(!strcmp(out,
		"{\"pid\":42,\"addr\":65536,\"length\":4096,\"page_size\":4096,"
		"\"clipped\":false,\"flags\":[\"write\",\"wait\"],\"map\":\"?\","
		"\"pages\":1,\"resident\":0,\"faulted\":0,\"retry\":0,"
		"\"unmapped\":1,\"error\":0,\"notpresent\":0,\"cold\":0,"
		"\"io_started\":0,\"async_faults\":0}\n"));
	free(out);
}

static int json_string_is(const char *s, const char *want)
{
	char *out;
	int ok;

	CAPTURE(out, print_json_string(f_, s));
	ok = !strcmp(out, want);
	if (!ok)
		fprintf(stderr, "# JSON string: got %s, want %s\n", out, want);
	free(out);
	return ok;
}

static void test_json_string(void)
{
	CHECK(json_string_is("", "\"\""));
	CHECK(json_string_is("/tmp/a b", "\"/tmp/a b\""));
	CHECK(json_string_is("a\"b\\c", "\"a\\\"b\\\\c\""));
	CHECK(json_string_is("\n\t\x1f\x7f", "\"\\u000a\\u0009\\u001f\x7f\""));
	/* Valid UTF-8 passes through: é, €, U+10348, U+10FFFF. */
	CHECK(json_string_is("\xc3\xa9\xe2\x82\xac\xf0\x90\x8d\x88\xf4\x8f\xbf\xbf",
			     "\"\xc3\xa9\xe2\x82\xac\xf0\x90\x8d\x88\xf4\x8f\xbf\xbf\""));
	/* Invalid bytes become U+FFFD, one each: stray, overlong, surrogate,
	 * beyond U+10FFFF, truncated. */
	CHECK(json_string_is("a\xff" "b", "\"a\\ufffdb\""));
	CHECK(json_string_is("\xc0\xaf", "\"\\ufffd\\ufffd\""));
	CHECK(json_string_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""));
	CHECK(json_string_is("\xf4\x90\x80\x80",
			     "\"\\ufffd\\ufffd\\ufffd\\ufffd\""));
	CHECK(json_string_is("\xe2\x82", "\"\\ufffd\\ufffd\""));
}

static void test_color(void)
{
	struct probe_report r = file_report;
	struct state_map m;
	char *out;

	CHECK(!map_init(&m, 4, 80));
	m.color = true;
	map_add(&m, (const unsigned char *)"RRWF", 4);
	CAPTURE(out, print_human(f_, &r, &m));
	CHECK(strstr(out, "\n[\033[32mRR\033[33mW\033[36mF\033[0m]\n"));
	free(out);
	map_free(&m);
}

static void test_table(void)
{
	struct gupnw_counts c = { .resident = 3, .faulted = 1, .retry = 4 };
	struct row_mem x = { .in_memory = 2, .swap = 5, .untouched = 1 };
	struct table t;
	char *out;

	table_init(&t, 0, 4096);
	CAPTURE(out, print_table_header(f_, &t, "", "FILE"));
	CHECK(!strcmp(out, "    PAGES        R        F        W        C        .        E   MEM%  FILE\n"));
	free(out);
	CAPTURE(out, print_table_row(f_, &t, "", 8, &c, "f"));
	CHECK(!strcmp(out, "        8        3        1        4        0        0        0  50.0%  f\n"));
	free(out);
	/* NOFAULT gives no F; MEM% counts R, N and W, as mincore(2) does. */
	table_init(&t, GUPNW_NOFAULT, 4096);
	CAPTURE(out, print_table_header(f_, &t, "> ", "MAPPING"));
	CHECK(!strcmp(out, ">     PAGES        R        N        W        C        .        E   MEM%  MAPPING\n"));
	free(out);
	c = (struct gupnw_counts){ .resident = 1, .notpresent = 2, .retry = 1, .cold = 4 };
	CAPTURE(out, print_table_row(f_, &t, "", 8, &c, "f"));
	CHECK(!strcmp(out, "        8        1        2        1        4        0        0  50.0%  f\n"));
	free(out);
	CAPTURE(out, print_table_row(f_, &t, "> ", 1, NULL, "[vsyscall]"));
	CHECK(!strcmp(out, ">         1        -        -        -        -        -        -      -  [vsyscall]\n"));
	free(out);
	table_init(&t, 0, 4096);
	CAPTURE(out, print_table_row(f_, &t, "", 0, &(struct gupnw_counts){ 0 }, "empty"));
	CHECK(!strcmp(out, "        0        0        0        0        0        0        0      -  empty\n"));
	free(out);

	/* -o, -b, -n, --raw */
	CHECK(table_set_columns(&t, "pages,c,Mem%,name") == 0 && t.ncols == 4);
	t.bytes = true;
	CAPTURE(out, print_table_header(f_, &t, "", "FILE"));
	CHECK(!strcmp(out, "          BYTES               C   MEM%  FILE\n"));
	free(out);
	CAPTURE(out, print_table_row(f_, &t, "", 8, &c, "f"));
	CHECK(!strcmp(out, "          32768           16384  12.5%  f\n"));
	free(out);
	t.raw = true;
	t.noheadings = true;
	CAPTURE(out, print_table_header(f_, &t, "", "FILE"));
	CHECK(!strcmp(out, ""));
	free(out);
	CAPTURE(out, print_table_row(f_, &t, "", 8, &c, "f"));
	CHECK(!strcmp(out, "32768 16384 12.5 f\n"));
	free(out);
	CHECK(table_set_columns(&t, "pages,bogus") == -1);
	CHECK(table_set_columns(&t, "R,R") == -1);
	CHECK(table_set_columns(&t, "") == -1);

	/* maps: SWAP and UNTOUCHED from the row's own accounting */
	table_init_maps(&t, GUPNW_NOFAULT, 4096);
	CAPTURE(out, print_table_header(f_, &t, "", "MAPPING"));
	CHECK(!strcmp(out, "    PAGES        R        N        W        C        .        E   MEM%     SWAP UNTOUCHED  MAPPING\n"));
	free(out);
	CAPTURE(out, print_table_row_mem(f_, &t, "", 8, &c, &x, "[anon]"));
	CHECK(!strcmp(out, "        8        1        2        1        4        0        0  25.0%        5         1  [anon]\n"));
	free(out);
}

static void test_ranges(void)
{
	struct probe_report r = file_report;
	struct runs rs = { 0 };
	char *out;

	/* Runs carry across windows. */
	CHECK(!runs_add(&rs, (const unsigned char *)"RR", 2));
	CHECK(!runs_add(&rs, (const unsigned char *)"RW", 2));
	CHECK(!runs_add(&rs, (const unsigned char *)"W\x01", 2));
	CHECK(rs.n == 3);
	r.start = 0x1234;		/* rounded down to its page */
	r.pages = 6;
	CAPTURE(out, print_ranges(f_, &r, &rs, "  "));
	CHECK(!strcmp(out,
		"  0x1000-0x4000 R resident\n"
		"  0x4000-0x6000 W retry\n"
		"  0x6000-0x7000 ? unknown\n"));
	free(out);
	r.counts = (struct gupnw_counts){ .resident = 3, .retry = 2 };
	CAPTURE(out, print_json_object(f_, &r, NULL, &rs));
	CHECK(strstr(out, "\"async_faults\":0,\"ranges\":[{\"start\":4096,\"end\":16384,\"state\":\"R\"},"
			  "{\"start\":16384,\"end\":24576,\"state\":\"W\"},"
			  "{\"start\":24576,\"end\":28672,\"state\":\"?\"}]}"));
	CHECK(!strstr(out, "\"map\""));
	free(out);
	runs_free(&rs);
	CHECK(!rs.v && !rs.n);

	/* Runs as the probe gives them: adjacent ones of one state merge. */
	CHECK(!runs_add_run(&rs, 0, 2, 'R'));
	CHECK(!runs_add_run(&rs, 2, 3, 'R'));
	CHECK(!runs_add_run(&rs, 5, 0, 'W'));
	CHECK(!runs_add_run(&rs, 5, 1, 'C'));
	CHECK(rs.n == 2 && rs.v[0].end == 5 && rs.v[1].start == 5 &&
	      rs.v[1].state == 'C');
	runs_free(&rs);
}

static void test_map_runs(void)
{
	struct state_map m;
	char out[8];

	/* 2^35 pages (128 TiB) in 4 cells, fed as three runs. */
	CHECK(!map_init(&m, 1ULL << 35, 4));
	map_add_run(&m, 'R', 1ULL << 33);
	map_add_run(&m, '.', (1ULL << 34) + 1);
	map_add_run(&m, 'C', (1ULL << 33) - 1);
	map_render(&m, out);
	CHECK(!strcmp(out, "R..c"));
	map_free(&m);
}

static void test_progress(void)
{
	char out[41];

	format_progress(out, 40, "f", 5, 10);
	CHECK(!strcmp(out, "f [##########..........]  50% 5/10 pages"));
	CHECK(strlen(out) <= 40);
	format_progress(out, 40, "f", 0, 0);
	CHECK(!strcmp(out, "f [#####################] 100% 0/0 pages"));
	/* No room for a bar: the numbers, cut to the width. */
	format_progress(out, 12, "file", 1, 4);
	CHECK(!strcmp(out, "file  25% 1/"));
}

int main(void)
{
	test_map();
	test_human();
	test_json();
	test_json_string();
	test_color();
	test_table();
	test_ranges();
	test_map_runs();
	test_progress();
	return CHECK_EXIT();
}
