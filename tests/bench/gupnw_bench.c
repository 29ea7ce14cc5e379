// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw_bench - what a gupnw probe costs, next to the kernel's other ways of
 * asking "is this page there?", measured in one run on one kernel (a QEMU
 * guest booted by tests/bench/run.sh; see BENCHMARKS.md).
 *
 * Every walk covers a whole range in one call; a figure is the median over
 * GUPNW_BENCH_RUNS runs (default 7, at least 5), the walks of one run
 * interleaved so that drift hits them alike.  Ratios are between medians of
 * the same run.  The target checks print PASS or MISS and never fail the
 * run: a benchmark measures, it does not assert.
 *
 * Output: the report between GUPNW-BENCH-BEGIN and GUPNW-BENCH-END lines on
 * stdout (the host keeps that part); progress on stderr.
 *
 * Environment (the guest's /init passes these on):
 *   GUPNW_BENCH_RUNS      runs per measurement (>= 5)
 *   GUPNW_BENCH_MB        resident ranges, MiB (default 256)
 *   GUPNW_BENCH_COLD_KB   cold range on the throttled disk, KiB (default 2048)
 *   GUPNW_DATA, GUPNW_SLOW  mount points of the fast and throttled disks
 *   GUPNW_GUP_TEST_STATUS what tests/bench/build-gup-test.sh said
 *   GUPNW_BENCH_ONLY      comma-separated parts (tests/bench/guest-bench.sh):
 *                         without "bench" or "all" but with "sweep", only the
 *                         range-size sweep runs; unset: everything
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include("gup_test.h")	/* extracted by build-gup-test.sh */
#include "gup_test.h"
#define HAVE_GUP_TEST 1
#else
#define HAVE_GUP_TEST 0
#endif

/* <linux/fs.h> of 6.7+ (the build host's may be older): PAGEMAP_SCAN ABI */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start, end, categories;
};

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask;
	uint64_t return_mask;
};
#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT	(1 << 3)
#endif

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define MiB (1024UL * 1024)
#define THP_SIZE (2 * MiB)

enum walk {
	W_NOWAIT, W_NOFAULT, W_WAIT, W_MINCORE, W_PAGEMAP, W_PMSCAN, W_GUPTEST,
	NW
};

static const char *const walk_name[NW] = {
	"NOWAIT", "NOFAULT", "WAIT", "mincore", "pagemap", "PM_SCAN", "gup_test",
};

struct scen {
	const char *name;
	char *addr;
	size_t len, pages;
	int fd;			/* >= 0: a file mapping, remapped per walk */
	int remap;
	int skip[NW];		/* not meaningful for this range */
	double med[NW];		/* ns per page; < 0: not measured */
	double best[NW];	/* ns per page of the fastest run */
	char why[NW][96];	/* why not measured */
	char check[NW][80];	/* what the last run found */
	char note[96];
};

static int runs = 7;
static int devfd = -1, pmfd = -1, gtfd = -1;
static char gt_why[256] = "not built";
static int pmscan_ok = -1;	/* unknown yet */
static char pmscan_why[96];
static unsigned char *states;	/* one byte per page of the largest range */
static unsigned char *mcvec;
static uint64_t *pmbuf;
static struct page_region *pmvec;
#define PMVEC_LEN 4096

/* -------------------------------------------------------------- helpers */

static void progress(const char *fmt, ...) GT_PRINTF(1, 2);
static void progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *xalloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		gt_bail("mmap %zu bytes: %s", n, strerror(errno));
	memset(p, 0, n);
	return p;
}

/* A 2 MiB-aligned private anon range. */
static char *map_aligned(size_t len)
{
	char *p = mmap(NULL, len + THP_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		gt_bail("mmap %zu MiB: %s", len / MiB, strerror(errno));
	a = ((uintptr_t)p + THP_SIZE - 1) & ~(THP_SIZE - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((char *)a + len, (uintptr_t)p + THP_SIZE - a);
	return (char *)a;
}

/* "key:" of a /proc file in kB (AnonHugePages of smaps_rollup, ...). */
static long proc_kb(const char *path, const char *key)
{
	static char buf[8192];
	size_t klen = strlen(key);
	char *p;

	if (gt_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return strtol(p + klen + 1, NULL, 10);
	return -1;
}

static void counts_str(char *buf, size_t sz, const struct gupnw_probe_args *a)
{
	static const char letter[] = "RFW.EN";
	const uint64_t c[6] = { a->nr_resident, a->nr_faulted, a->nr_retry,
				a->nr_unmapped, a->nr_error,
				a->nr_notpresent };
	size_t pos = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < 6; i++)
		if (c[i] && pos < sz)
			pos += snprintf(buf + pos, sz - pos, "%s%c=%llu",
					pos ? " " : "", letter[i],
					(unsigned long long)c[i]);
}

/* ---------------------------------------------------------------- walks */

/* One probe of [a, a + len) in byte mode; ns, or -errno. */
static int64_t probe_bytes(char *a, size_t len, uint32_t flags,
			   struct gupnw_probe_args *args)
{
	uint64_t t0;
	long ret;

	gt_args_init(args, a, len, flags, states);
	t0 = gt_now_ns();
	ret = gt_ioctl(devfd, GUPNW_IOC_PROBE, args);
	t0 = gt_now_ns() - t0;
	return ret < 0 ? ret : (int64_t)t0;
}

/*
 * Time one walk of s; ns, or -errno with s->why set.  s->check says what it
 * found, so the table shows that each walk saw the pages it was meant to.
 */
static int64_t walk_once(struct scen *s, enum walk w)
{
	char *a = s->addr, *chk = s->check[w];
	size_t len = s->len, n = s->pages, i, cnt = 0;
	struct gupnw_probe_args args;
	uint64_t t0;
	int64_t ns;
	long ret;

	switch (w) {
	case W_NOWAIT:
	case W_NOFAULT:
	case W_WAIT: {
		static const uint32_t fl[] = { 0, GUPNW_PROBE_NOFAULT,
					       GUPNW_PROBE_WAIT };

		if (devfd < 0) {
			snprintf(s->why[w], sizeof(s->why[w]), "no /dev/gupnw");
			return -ENODEV;
		}
		ns = probe_bytes(a, len, fl[w], &args);
		if (ns < 0) {
			snprintf(s->why[w], sizeof(s->why[w]), "probe: %s",
				 gt_errname((int)-ns));
			return ns;
		}
		counts_str(chk, sizeof(s->check[w]), &args);
		return ns;
	}
	case W_MINCORE:
		t0 = gt_now_ns();
		ret = mincore(a, len, mcvec);
		t0 = gt_now_ns() - t0;
		if (ret) {
			snprintf(s->why[w], sizeof(s->why[w]), "mincore: %s",
				 strerror(errno));
			return -errno;
		}
		for (i = 0; i < n; i++)
			cnt += mcvec[i] & 1;
		snprintf(chk, sizeof(s->check[w]), "resident=%zu", cnt);
		return (int64_t)t0;
	case W_PAGEMAP: {
		ssize_t got;

		t0 = gt_now_ns();
		got = pread(pmfd, pmbuf, n * 8,
			    (off_t)((uintptr_t)a / gt_page) * 8);
		t0 = gt_now_ns() - t0;
		if (got != (ssize_t)(n * 8)) {
			snprintf(s->why[w], sizeof(s->why[w]),
				 "pread pagemap: %zd", got);
			return -EIO;
		}
		for (i = 0; i < n; i++)
			cnt += pmbuf[i] >> 63;
		snprintf(chk, sizeof(s->check[w]), "present=%zu", cnt);
		return (int64_t)t0;
	}
	case W_PMSCAN: {
		struct pm_scan_arg arg;
		uint64_t start = (uintptr_t)a, end = start + len;

		if (!pmscan_ok) {
			snprintf(s->why[w], sizeof(s->why[w]), "%s",
				 pmscan_why);
			return -ENOTTY;
		}
		t0 = gt_now_ns();
		while (start < end) {
			long k;

			memset(&arg, 0, sizeof(arg));
			arg.size = sizeof(arg);
			arg.start = start;
			arg.end = end;
			arg.vec = (uintptr_t)pmvec;
			arg.vec_len = PMVEC_LEN;
			arg.return_mask = PAGE_IS_PRESENT;
			ret = ioctl(pmfd, PAGEMAP_SCAN, &arg);
			if (ret < 0)
				break;
			for (k = 0; k < ret; k++)
				if (pmvec[k].categories & PAGE_IS_PRESENT)
					cnt += (pmvec[k].end - pmvec[k].start) /
					       gt_page;
			if (arg.walk_end <= start)
				break;
			start = arg.walk_end;
		}
		t0 = gt_now_ns() - t0;
		if (ret < 0) {
			int e = errno;

			pmscan_ok = 0;
			snprintf(pmscan_why, sizeof(pmscan_why),
				 "no PAGEMAP_SCAN (%s; added in 6.7)",
				 gt_errname(e));
			snprintf(s->why[w], sizeof(s->why[w]), "%s",
				 pmscan_why);
			return -e;
		}
		pmscan_ok = 1;
		snprintf(chk, sizeof(s->check[w]), "present=%zu", cnt);
		return (int64_t)t0;
	}
	case W_GUPTEST: {
#if HAVE_GUP_TEST
		struct gup_test g;

		if (gtfd < 0) {
			snprintf(s->why[w], sizeof(s->why[w]), "%.90s", gt_why);
			return -ENODEV;
		}
		memset(&g, 0, sizeof(g));
		g.addr = (uintptr_t)a;
		g.size = len;
		g.nr_pages_per_call = n;	/* all pages in one call */
		ret = gt_ioctl(gtfd, GUP_FAST_BENCHMARK, &g);
		if (ret < 0) {
			snprintf(s->why[w], sizeof(s->why[w]),
				 "GUP_FAST_BENCHMARK: %s", gt_errname((int)-ret));
			return ret;
		}
		snprintf(chk, sizeof(s->check[w]),
			 "pages=%llu get=%lluus put=%lluus",
			 (unsigned long long)(g.size / gt_page),
			 (unsigned long long)g.get_delta_usec,
			 (unsigned long long)g.put_delta_usec);
		/* the module times get + put itself, in microseconds */
		return (int64_t)(g.get_delta_usec + g.put_delta_usec) * 1000;
#else
		snprintf(s->why[w], sizeof(s->why[w]),
			 "bench built without gup_test.h");
		return -ENODEV;
#endif
	}
	default:
		return -EINVAL;
	}
}

/* Map s->fd afresh (a page-cache-resident file nobody has mapped yet). */
static void remap_file(struct scen *s)
{
	void *p;

	if (s->addr)
		munmap(s->addr, s->len);
	p = mmap(NULL, s->len, PROT_READ, MAP_SHARED, s->fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap file: %s", strerror(errno));
	s->addr = p;
}

/*
 * Every walk of s, runs times each, interleaved; medians into s->med.  Each
 * timed walk follows an untimed one of the same walk (not where the file is
 * mapped afresh: that walk would map it): timed warm, like the PTE-read
 * limit; and 2 ms after the walk before, so that what that one left
 * running in the guest (deferred work, say, on the other vCPU: both share
 * the host's cores) is not billed to the next.  Without both, the walk after gup_test - NOWAIT - paid about 1 ns/page
 * more than the next, which made NOWAIT look 1.3-1.5x NOFAULT on resident
 * memory, where the two run the same code (with NOFAULT first, NOFAULT was
 * the slower); with the warm walk alone, still 1.37x once NOFAULT was down
 * to 2 ns/page.
 */
static void measure(struct scen *s)
{
	uint64_t v[NW][64];
	int w, r, bad[NW] = { 0 };

	progress("%s: %d runs of each walk over %zu pages", s->name, runs,
		 s->pages);
	for (r = 0; r < runs; r++) {
		for (w = 0; w < NW; w++) {
			int64_t ns;

			if (s->skip[w] || bad[w])
				continue;
			usleep(2000);	/* settle, see above */
			if (s->remap)
				remap_file(s);
			else
				walk_once(s, w);	/* warm, see above */
			ns = walk_once(s, w);
			if (ns < 0)
				bad[w] = 1;
			else
				v[w][r] = (uint64_t)ns;
		}
	}
	for (w = 0; w < NW; w++) {
		s->med[w] = s->skip[w] || bad[w] ? -1 :
			    (double)median(v[w], runs) / s->pages;
		/* median() sorted v[w]: the fastest run is first */
		s->best[w] = s->med[w] < 0 ? -1 : (double)v[w][0] / s->pages;
	}
}

/* ------------------------------------------------------------ the report */

static void fmt_cell(char *buf, size_t sz, const struct scen *s, int w)
{
	if (s->skip[w])
		snprintf(buf, sz, "-");
	else if (s->med[w] < 0)
		snprintf(buf, sz, "n/a");
	else
		snprintf(buf, sz, "%.1f", s->med[w]);
}

static void print_table(struct scen *sc, int ns)
{
	char cell[32];
	int i, w;

	printf("%-28s %7s", "range (ns/page, median)", "pages");
	for (w = 0; w < NW; w++)
		printf(" %8s", walk_name[w]);
	printf("\n");
	for (i = 0; i < ns; i++) {
		printf("%-28s %7zu", sc[i].name, sc[i].pages);
		for (w = 0; w < NW; w++) {
			fmt_cell(cell, sizeof(cell), &sc[i], w);
			printf(" %8s", cell);
		}
		printf("\n");
	}
	printf("\nWhat each walk found (last run):\n");
	for (i = 0; i < ns; i++) {
		printf("  %s%s%s\n", sc[i].name, sc[i].note[0] ? ": " : "",
		       sc[i].note);
		for (w = 0; w < NW; w++) {
			if (sc[i].skip[w])
				continue;
			printf("    %-8s %s\n", walk_name[w],
			       sc[i].med[w] < 0 ? sc[i].why[w] :
						  sc[i].check[w]);
		}
	}
	printf("\nRatios (medians of this run; < 1 means gupnw is faster):\n");
	printf("%-28s %9s %9s %9s %9s %9s\n", "range", "NOWAIT/", "NOFAULT/",
	       "NOWAIT/", "NOWAIT/", "NOWAIT/");
	printf("%-28s %9s %9s %9s %9s %9s\n", "", "mincore", "mincore",
	       "pagemap", "WAIT", "gup_test");
	for (i = 0; i < ns; i++) {
		const double *m = sc[i].med;
		const int pair[5][2] = {
			{ W_NOWAIT, W_MINCORE }, { W_NOFAULT, W_MINCORE },
			{ W_NOWAIT, W_PAGEMAP }, { W_NOWAIT, W_WAIT },
			{ W_NOWAIT, W_GUPTEST },
		};
		int k;

		printf("%-28s", sc[i].name);
		for (k = 0; k < 5; k++) {
			double a = m[pair[k][0]], b = m[pair[k][1]];

			if (a < 0 || b <= 0)
				printf(" %9s", "n/a");
			else
				printf(" %9.2f", a / b);
		}
		printf("\n");
	}
	printf("\nThe same, fastest run of each walk (a loaded host slows some runs of one\n"
	       "walk and not the others; the fastest run is what the walk itself costs):\n");
	printf("%-28s %9s %9s\n", "range", "NOWAIT/", "NOFAULT/");
	printf("%-28s %9s %9s\n", "", "mincore", "mincore");
	for (i = 0; i < ns; i++) {
		const double *b = sc[i].best;

		printf("%-28s", sc[i].name);
		if (b[W_MINCORE] <= 0 || b[W_NOWAIT] < 0 || b[W_NOFAULT] < 0)
			printf(" %9s %9s\n", "n/a", "n/a");
		else
			printf(" %9.2f %9.2f\n", b[W_NOWAIT] / b[W_MINCORE],
			       b[W_NOFAULT] / b[W_MINCORE]);
	}
}

/* Target lines, printed at the end. */
static char targets[32][160];
static int ntargets;

static void target(const char *what, const char *limit, double measured,
		   int valid, int met, const char *unit, const char *ctx)
{
	if (ntargets >= 32)
		return;
	if (!valid)
		snprintf(targets[ntargets++], sizeof(targets[0]),
			 "%-42s %-9s %12s  n/a", what, limit, "n/a");
	else
		snprintf(targets[ntargets++], sizeof(targets[0]),
			 "%-42s %-9s %10.2f%-2s  %s%s%s", what, limit,
			 measured, unit, met ? "PASS" : "MISS",
			 *ctx ? "  " : "", ctx);
}

/*
 * A ratio target, with the same ratio for the kernel's own GUP-fast
 * (gup_test) beside it: the floor of any walk that takes a page reference.
 */
static void target_ratio(const char *what, const struct scen *s, int a,
			 int b, double limit)
{
	char lim[16], ctx[48] = "";
	double x = s->med[a], y = s->med[b], g = s->med[W_GUPTEST];
	int valid = x >= 0 && y > 0;

	snprintf(lim, sizeof(lim), "<= %.3gx", limit);
	if (g >= 0 && y > 0 && b != W_GUPTEST)
		snprintf(ctx, sizeof(ctx), "gup_test: %.2fx", g / y);
	target(what, lim, valid ? x / y : 0, valid, valid && x / y <= limit,
	       "x", ctx);
}

/*
 * A walk against the physical limit of a presence walk (pte_read_limit_ns(),
 * @lim ns/page), with the same ratio for gup_test beside.
 */
static void target_limit(const char *what, const struct scen *s, int a,
			 double lim, double limit)
{
	char l[16], ctx[48] = "";
	double x = s->med[a], g = s->med[W_GUPTEST];
	int valid = x >= 0 && lim > 0;

	snprintf(l, sizeof(l), "<= %.3gx", limit);
	if (g >= 0 && lim > 0)
		snprintf(ctx, sizeof(ctx), "gup_test: %.2fx", g / lim);
	target(what, l, valid ? x / lim : 0, valid, valid && x / lim <= limit,
	       "x", ctx);
}

/* --------------------------------------- the bound of a walk that faults */

/*
 * What mapping a cached file's pages costs the kernel itself: the floor of
 * any walk that maps them with faults, as NOWAIT does.  A fault on a file
 * page maps its cached neighbours too (fault-around: fault_around_bytes,
 * 64 KiB by default, the window aligned in the address space), so the
 * least a module that can only fault (GUP) pays is one fault per window.
 * Measured on a fresh mapping of the same cached file, in the same runs as
 * a NOWAIT probe of it: a user-space loop touching one byte per window
 * (one fault each: the exception entry too, which GUP does not pay), and
 * MADV_POPULATE_READ (the kernel's own GUP walk, a reference-free follow
 * per page and a fault per window); a WAIT probe too, which faults with
 * blocking GUP.  ns per page, medians.
 */
static struct {
	int ok;
	size_t window;		/* fault_around_bytes */
	int assumed;		/* not readable: the default */
	double touch, populate, nowait, wait;
	char why[96];
} fbound;

static void fault_bound(struct scen *s)
{
	uint64_t v[4][64];
	size_t win = 65536, off;
	int r, assumed = 1;
	FILE *f = fopen("/sys/kernel/debug/fault_around_bytes", "r");
	unsigned long fab;

	if (f) {
		if (fscanf(f, "%lu", &fab) == 1 && fab >= (unsigned long)gt_page) {
			win = fab;
			assumed = 0;
		}
		fclose(f);
	}
	fbound.window = win;
	fbound.assumed = assumed;
	if (devfd < 0) {
		snprintf(fbound.why, sizeof(fbound.why), "no /dev/gupnw");
		return;
	}
	progress("%s: the faults' own cost, %d runs", s->name, runs);
	for (r = 0; r < runs; r++) {
		struct gupnw_probe_args args;
		volatile char sink = 0;
		uint64_t t0;
		int64_t ns;

		remap_file(s);
		t0 = gt_now_ns();
		for (off = 0; off < s->len; off += win)
			sink += s->addr[off];
		v[0][r] = gt_now_ns() - t0;
		(void)sink;

		remap_file(s);
		t0 = gt_now_ns();
		if (madvise(s->addr, s->len, MADV_POPULATE_READ)) {
			snprintf(fbound.why, sizeof(fbound.why),
				 "MADV_POPULATE_READ: %s", strerror(errno));
			return;
		}
		v[1][r] = gt_now_ns() - t0;

		remap_file(s);
		ns = probe_bytes(s->addr, s->len, 0, &args);
		if (ns < 0) {
			snprintf(fbound.why, sizeof(fbound.why), "probe: %s",
				 gt_errname((int)-ns));
			return;
		}
		v[2][r] = (uint64_t)ns;

		remap_file(s);
		ns = probe_bytes(s->addr, s->len, GUPNW_PROBE_WAIT, &args);
		if (ns < 0) {
			snprintf(fbound.why, sizeof(fbound.why), "WAIT probe: %s",
				 gt_errname((int)-ns));
			return;
		}
		v[3][r] = (uint64_t)ns;
	}
	fbound.touch = (double)median(v[0], runs) / s->pages;
	fbound.populate = (double)median(v[1], runs) / s->pages;
	fbound.nowait = (double)median(v[2], runs) / s->pages;
	fbound.wait = (double)median(v[3], runs) / s->pages;
	fbound.ok = 1;
}

static void print_fault_bound(const struct scen *s)
{
	printf("\nBound of a walk that maps '%s' with faults (fault-around window %zu KiB%s):\n",
	       s->name, fbound.window / 1024,
	       fbound.assumed ? ", the default: fault_around_bytes unreadable" : "");
	if (!fbound.ok) {
		printf("  n/a (%s)\n", fbound.why);
		return;
	}
	printf("  user space, one touch per window     %8.1f ns/page\n",
	       fbound.touch);
	printf("  MADV_POPULATE_READ                   %8.1f ns/page\n",
	       fbound.populate);
	printf("  NOWAIT probe, the same runs          %8.1f ns/page = %.2fx the touch bound, %.2fx POPULATE_READ\n",
	       fbound.nowait, fbound.nowait / fbound.touch,
	       fbound.nowait / fbound.populate);
	printf("  WAIT probe, the same runs            %8.1f ns/page = %.2fx the touch bound\n",
	       fbound.wait, fbound.wait / fbound.touch);
	if (s->med[W_MINCORE] > 0)
		printf("  mincore (table above)                %8.1f ns/page: touch bound / mincore %.2fx\n",
		       s->med[W_MINCORE], fbound.touch / s->med[W_MINCORE]);
}

/* ------------------------------------------------- kernel memory (tracing) */

static const char *trdir;

static int tr_write(const char *file, const char *s)
{
	char path[512];

	snprintf(path, sizeof(path), "%.200s/%.200s", trdir, file);
	return gt_write_file(path, s);
}

static const char *const tr_events[] = {
	"kmem/kmalloc", "kmem/kfree", "kmem/kmem_cache_alloc",
	"kmem/kmem_cache_free", "kmem/mm_page_alloc", "kmem/mm_page_free",
	"kmem/mm_page_free_batched",
	/* allocations count only inside the probe ioctl */
	"syscalls/sys_enter_ioctl", "syscalls/sys_exit_ioctl",
};

/* 0, or -1 with why set. */
static int tr_setup(char *why, size_t sz)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char path[256];
	size_t i;
	int ret;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events/kmem/kmalloc/enable",
			 dirs[i]);
		if (!access(path, W_OK)) {
			trdir = dirs[i];
			break;
		}
	}
	if (!trdir) {
		snprintf(why, sz, "no tracefs with kmem events");
		return -1;
	}
	tr_write("tracing_on", "0");
	tr_write("buffer_size_kb", "8192");
	/* one clock for every CPU: a free on one CPU and the reuse of that
	 * pointer on another must replay in the order they happened */
	tr_write("trace_clock", "global");
	for (i = 0; i < sizeof(tr_events) / sizeof(tr_events[0]); i++) {
		snprintf(path, sizeof(path), "events/%s/enable", tr_events[i]);
		ret = tr_write(path, "1");
		if (ret) {
			snprintf(why, sz, "enable %s: %s", tr_events[i],
				 gt_errname(ret));
			return -1;
		}
	}
	return 0;
}

static void tr_teardown(void)
{
	size_t i;
	char path[256];

	if (!trdir)
		return;
	tr_write("tracing_on", "0");
	for (i = 0; i < sizeof(tr_events) / sizeof(tr_events[0]); i++) {
		snprintf(path, sizeof(path), "events/%s/enable", tr_events[i]);
		tr_write(path, "0");
	}
	tr_write("set_event_pid", "");
	tr_write("trace_clock", "local");
}

static void tr_start(const pid_t *tids, int n)
{
	char buf[512];
	size_t pos = 0;
	int i, fd;

	tr_write("tracing_on", "0");
	snprintf(buf, sizeof(buf), "%s/trace", trdir);
	fd = open(buf, O_WRONLY | O_TRUNC);	/* clears the buffer */
	if (fd >= 0)
		close(fd);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		pos += snprintf(buf + pos, sizeof(buf) - pos, "%d ", tids[i]);
	tr_write("set_event_pid", buf);
	tr_write("tracing_on", "1");
}

/* A tiny open-addressing map: allocation key -> bytes. */
#define TMAP 65536
struct tmap {
	uint64_t key[TMAP];
	uint64_t val[TMAP];
};

static uint64_t *tmap_slot(struct tmap *m, uint64_t key, int insert)
{
	uint64_t h = (key * 0x9e3779b97f4a7c15ULL) >> 48, i;

	for (i = 0; i < TMAP; i++, h = (h + 1) % TMAP) {
		if (m->key[h] == key + 1)
			return &m->val[h];
		if (!m->key[h]) {
			if (!insert)
				return NULL;
			m->key[h] = key + 1;
			return &m->val[h];
		}
	}
	return NULL;
}

static void tmap_del(struct tmap *m, uint64_t key)
{
	uint64_t *v = tmap_slot(m, key, 0);

	/* a tombstone: the value 0 adds nothing */
	if (v)
		*v = 0;
}

static uint64_t field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoull(p + strlen(key), NULL, 0) : 0;
}

static uint64_t fieldx(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

/* The pid of a trace line: "comm-PID [cpu] ..." (comm may hold '-'). */
static int line_pid(const char *line)
{
	const char *b = strstr(line, " [");

	if (!b)
		return -1;
	while (b > line && b[-1] == ' ')
		b--;
	while (b > line && b[-1] >= '0' && b[-1] <= '9')
		b--;
	return b > line && b[-1] == '-' ? atoi(b) : -1;
}

/* Whether a task is inside ioctl(), by pid (a few tasks at most). */
static int in_ioctl_pid[16], in_ioctl_on[16];

static int *in_ioctl(int pid)
{
	int i;

	for (i = 0; i < 16; i++)
		if (in_ioctl_pid[i] == pid || !in_ioctl_pid[i]) {
			in_ioctl_pid[i] = pid;
			return &in_ioctl_on[i];
		}
	return &in_ioctl_on[15];
}

struct kmem_result {
	uint64_t peak, net, allocs;
	uint64_t module_bytes;		/* allocated from [gupnw] call sites */
	uint64_t page_allocs;		/* pages from the page allocator */
	int lost;
};

/*
 * Stop tracing and replay the events of the traced tasks: the largest sum
 * of bytes allocated inside the probe ioctl and not yet freed (what the
 * tasks allocate around it - opening files, exiting - does not count).
 * kmalloc above 8 KiB comes from the page allocator, whose event counts it.
 */
static int tr_stop(struct kmem_result *res)
{
	static struct tmap slab, pages;
	char path[256], *buf, *line, *next;
	int64_t live = 0;
	size_t cap = 64 * MiB;
	long got;

	tr_write("tracing_on", "0");
	memset(res, 0, sizeof(*res));
	memset(&slab, 0, sizeof(slab));
	memset(&pages, 0, sizeof(pages));
	memset(in_ioctl_pid, 0, sizeof(in_ioctl_pid));
	memset(in_ioctl_on, 0, sizeof(in_ioctl_on));
	buf = malloc(cap);
	if (!buf)
		return -1;
	snprintf(path, sizeof(path), "%s/trace", trdir);
	got = gt_read_file(path, buf, cap);
	if (got < 0) {
		free(buf);
		return -1;
	}
	for (line = buf; line && *line; line = next) {
		uint64_t *v, n;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '#')
			continue;
		if (strstr(line, "LOST") && strstr(line, "EVENTS"))
			res->lost = 1;
		if (strstr(line, " sys_ioctl(")) {
			*in_ioctl(line_pid(line)) = 1;
			continue;
		}
		if (strstr(line, " sys_ioctl -> ")) {
			*in_ioctl(line_pid(line)) = 0;
			continue;
		}
		if (strstr(line, " kmalloc: ") ||
		    strstr(line, " kmem_cache_alloc: ")) {
			if (!*in_ioctl(line_pid(line)))
				continue;
			n = field(line, "bytes_alloc=");
			if (!fieldx(line, "ptr=") || n > 8192)
				continue;
			v = tmap_slot(&slab, fieldx(line, "ptr="), 1);
			if (!v)
				continue;
			live += (int64_t)n - (int64_t)*v;		/* *v != 0: its free was lost */
			*v = n;
			res->allocs++;
			if (strstr(line, "[gupnw]"))
				res->module_bytes += n;
		} else if (strstr(line, " kfree: ") ||
			   strstr(line, " kmem_cache_free: ")) {
			v = tmap_slot(&slab, fieldx(line, "ptr="), 0);
			if (v) {
				live -= *v;
				tmap_del(&slab, fieldx(line, "ptr="));
			}
		} else if (strstr(line, " mm_page_alloc: ")) {
			if (!*in_ioctl(line_pid(line)))
				continue;
			n = 4096ULL << field(line, "order=");
			v = tmap_slot(&pages, fieldx(line, "pfn=0x"), 1);
			if (!v)
				continue;
			live += (int64_t)n - (int64_t)*v;
			*v = n;
			res->allocs++;
			res->page_allocs += n / 4096;
		} else if (strstr(line, " mm_page_free: ") ||
			   strstr(line, " mm_page_free_batched: ")) {
			v = tmap_slot(&pages, fieldx(line, "pfn=0x"), 0);
			if (v) {
				live -= *v;
				tmap_del(&pages, fieldx(line, "pfn=0x"));
			}
		}
		if (live > (int64_t)res->peak)
			res->peak = live;
	}
	res->net = live > 0 ? live : 0;
	free(buf);
	return 0;
}

struct prober {
	pthread_t th;
	pid_t tid;
	char *addr;
	size_t len;
	int probes;
	unsigned char *st;
	pthread_barrier_t *go;
	long err;
};

static void *prober_main(void *arg)
{
	struct prober *p = arg;
	struct gupnw_probe_args a;
	int i;

	p->tid = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(p->go);	/* tids known */
	pthread_barrier_wait(p->go);	/* tracing on */
	for (i = 0; i < p->probes; i++) {
		gt_args_init(&a, p->addr, p->len, 0, p->st);
		p->err = gt_ioctl(devfd, GUPNW_IOC_PROBE, &a);
		if (p->err < 0)
			break;
	}
	return NULL;
}

/* Trace nthreads threads probing [addr, addr + len) concurrently. */
static int trace_probers(int nthreads, char *addr, size_t len, int probes,
			 struct kmem_result *res)
{
	struct prober p[8];
	pthread_barrier_t go;
	pid_t tids[8];
	int i, err = 0;

	pthread_barrier_init(&go, NULL, nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].addr = addr;
		p[i].len = len;
		p[i].probes = probes;
		p[i].go = &go;
		p[i].st = xalloc(len / gt_page);
		pthread_create(&p[i].th, NULL, prober_main, &p[i]);
	}
	pthread_barrier_wait(&go);
	for (i = 0; i < nthreads; i++)
		tids[i] = p[i].tid;
	tr_start(tids, nthreads);
	pthread_barrier_wait(&go);
	for (i = 0; i < nthreads; i++) {
		pthread_join(p[i].th, NULL);
		if (p[i].err < 0)
			err = (int)p[i].err;
		munmap(p[i].st, len / gt_page);
	}
	pthread_barrier_destroy(&go);
	if (tr_stop(res))
		return -1;
	return err;
}

/* ------------------------------------------------------------- sections */

static struct scen sc[8];
static int nsc;

static struct scen *new_scen(const char *name, char *addr, size_t len)
{
	struct scen *s = &sc[nsc++];

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->addr = addr;
	s->len = len;
	s->pages = len / gt_page;
	s->fd = -1;
	return s;
}

static char *anon_4k(size_t len)
{
	char *a = map_aligned(len);
	size_t i;

	if (madvise(a, len, MADV_NOHUGEPAGE))
		progress("MADV_NOHUGEPAGE: %s", strerror(errno));
	for (i = 0; i < len; i += gt_page)
		a[i] = 1;
	return a;
}

static char *anon_thp(size_t len, long *thp_kb)
{
	long before = proc_kb("/proc/self/smaps_rollup", "AnonHugePages");
	char *a = map_aligned(len);
	size_t i;

	if (madvise(a, len, MADV_HUGEPAGE))
		progress("MADV_HUGEPAGE: %s", strerror(errno));
	for (i = 0; i < len; i += gt_page)
		a[i] = 1;
	*thp_kb = proc_kb("/proc/self/smaps_rollup", "AnonHugePages") - before;
	return a;
}

/*
 * The physical limit of a presence walk: one 8-byte page-table entry read
 * per page.  Measured as a user-space loop reading an array the size of a
 * range's last-level page table (8 bytes per 4 KiB page), ns per entry.
 */
static double pte_read_limit_ns(size_t pages)
{
	volatile uint64_t *v = xalloc(pages * sizeof(*v));
	uint64_t t[64], t0, sum = 0;
	size_t i;
	int r;

	for (i = 0; i < pages; i++)
		v[i] = i;
	for (r = 0; r < runs; r++) {
		t0 = gt_now_ns();
		for (i = 0; i < pages; i++)
			sum += v[i];
		t[r] = gt_now_ns() - t0;
	}
	munmap((void *)v, pages * sizeof(*v));
	if (sum == 1)		/* keeps the reads */
		progress("sum %llu", (unsigned long long)sum);
	return (double)median(t, runs) / pages;
}

/* ---------------------------------------------------- the range-size sweep */

/*
 * ns/page of every walk against the size of the range walked.  Up to 256 MiB
 * the range is the start of the main table's resident 4 KiB anon range (every
 * page present); 4 GiB and 64 GiB are the start of a 64 GiB anonymous
 * MAP_NORESERVE mapping of which only SWEEP_PER_GIB pages at the start of
 * each GiB were written.  A run of a range smaller than SWEEP_BATCH pages
 * walks it SWEEP_BATCH / pages times; a cell is the median of every call of
 * every run; each cell starts 2 ms after the one before, and a range walked
 * once per run is walked once untimed just before (as in measure()).  Short
 * calls, not batches summed: on a loaded host a batch of many calls is
 * seldom spared a preemption, a single call often is.
 */
#define GiB (1024 * MiB)
#define SWEEP_N 7
#define SWEEP_BATCH 1024
#define SWEEP_PER_GIB 16
#define SWEEP_SPARSE (64 * GiB)

static const size_t sweep_len[SWEEP_N] = {
	4096, 64 * 1024, MiB, 16 * MiB, 256 * MiB, 4 * GiB, 64 * GiB,
};
static const char *const sweep_size[SWEEP_N] = {
	"4 KiB", "64 KiB", "1 MiB", "16 MiB", "256 MiB", "4 GiB", "64 GiB",
};
static double sweep_med[SWEEP_N][NW];	/* ns per page; < 0: not measured */
static char sweep_why[SWEEP_N][NW][96];	/* why not measured, or what it found */
static int sweep_ran;
static char sweep_fail[128];
static size_t pm_pages;			/* entries pmbuf holds */
static size_t sweep_dense;		/* bytes of the resident range */

static int is_sparse(int i)
{
	return sweep_len[i] > 256 * MiB;
}

/*
 * One walk w of [a, a + len) as the main table times it, ns, or -errno with
 * why set; found gets what it found.  pagemap is read into pmbuf (the main
 * table's size) piece by piece; gup_test is timed around its ioctl here
 * (kvcalloc of the page array, get, put), as its own microsecond counters
 * cannot resolve a walk of a few pages.
 */
static int64_t sweep_walk(char *a, size_t len, enum walk w, char *found,
			  size_t fsz)
{
	size_t chunk = len, off;
	int64_t sum = 0, ns;
	size_t present = 0, c;
	struct scen t;

#if HAVE_GUP_TEST
	if (w == W_GUPTEST && gtfd >= 0) {
		struct gup_test g;
		uint64_t t0;
		long ret;

		memset(&g, 0, sizeof(g));
		g.addr = (uintptr_t)a;
		g.size = len;
		g.nr_pages_per_call = len / gt_page;
		t0 = gt_now_ns();
		ret = gt_ioctl(gtfd, GUP_FAST_BENCHMARK, &g);
		t0 = gt_now_ns() - t0;
		if (ret < 0) {
			snprintf(found, fsz, "GUP_FAST_BENCHMARK: %s",
				 gt_errname((int)-ret));
			return ret;
		}
		snprintf(found, fsz, "pages=%llu",
			 (unsigned long long)(g.size / gt_page));
		return (int64_t)t0;
	}
#endif
	if (w == W_PAGEMAP && len / gt_page > pm_pages)
		chunk = pm_pages * gt_page;
	for (off = 0; off < len; off += chunk) {
		memset(&t, 0, sizeof(t));
		t.addr = a + off;
		t.len = len - off < chunk ? len - off : chunk;
		t.pages = t.len / gt_page;
		t.fd = -1;
		ns = walk_once(&t, w);
		if (ns < 0) {
			snprintf(found, fsz, "%s", t.why[w]);
			return ns;
		}
		sum += ns;
		if (sscanf(t.check[w], "present=%zu", &c) == 1)
			present += c;
	}
	if (chunk < len)
		snprintf(found, fsz, "present=%zu (%zu reads of %zu entries)",
			 present, len / chunk, pm_pages);
	else
		snprintf(found, fsz, "%s", t.check[w]);
	return sum;
}

/*
 * The sweep: dense is the resident 4 KiB anon range of dense_len bytes.  The
 * buffers of the walks grow to the largest range for its duration.
 */
static void sweep_measure(char *dense, size_t dense_len)
{
	unsigned char *st0 = states, *mc0 = mcvec;
	static uint64_t *v[SWEEP_N][NW];
	static size_t nv[SWEEP_N][NW];
	static int bad[SWEEP_N][NW];
	size_t maxp = SWEEP_SPARSE / gt_page, g, p;
	char *sparse;
	int i, w, r;

	sweep_ran = 1;
	sweep_dense = dense_len;
	for (i = 0; i < SWEEP_N; i++)
		for (w = 0; w < NW; w++)
			sweep_med[i][w] = -1;
	sparse = mmap(NULL, SWEEP_SPARSE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sparse == MAP_FAILED) {
		snprintf(sweep_fail, sizeof(sweep_fail),
			 "mmap 64 GiB MAP_NORESERVE: %s", strerror(errno));
		sparse = NULL;
	} else {
		/* no THP: exactly the pages written are present */
		if (madvise(sparse, SWEEP_SPARSE, MADV_NOHUGEPAGE))
			progress("sweep: MADV_NOHUGEPAGE: %s", strerror(errno));
		for (g = 0; g < SWEEP_SPARSE / GiB; g++)
			for (p = 0; p < SWEEP_PER_GIB; p++)
				sparse[g * GiB + p * gt_page] = 1;
		states = xalloc(maxp);
		mcvec = xalloc(maxp);
	}

	for (i = 0; i < SWEEP_N; i++) {
		for (w = 0; w < NW; w++) {
			char *why = sweep_why[i][w];

			bad[i][w] = 1;
			if (!sparse && is_sparse(i))
				snprintf(why, 96, "%.90s", sweep_fail);
			else if (!is_sparse(i) && sweep_len[i] > dense_len)
				snprintf(why, 96, "larger than the resident range (GUPNW_BENCH_MB)");
			else if (is_sparse(i) && (w == W_NOWAIT || w == W_WAIT ||
						  w == W_GUPTEST))
				/* they would fault in every page never touched */
				snprintf(why, 96, "-");
			else
				bad[i][w] = 0;
		}
	}
	/* run by run over every size and walk, so that drift hits them alike */
	for (r = 0; r < runs; r++) {
		progress("sweep: run %d of %d", r + 1, runs);
		for (i = 0; i < SWEEP_N; i++) {
			size_t len = sweep_len[i], pages = len / gt_page, k;
			size_t batch = pages < SWEEP_BATCH ? SWEEP_BATCH / pages : 1;
			char *a = is_sparse(i) ? sparse : dense;

			for (w = 0; w < NW; w++) {
				if (!v[i][w])
					v[i][w] = xalloc(runs * batch *
							 sizeof(uint64_t));
				/* settle, and warm a single call: see measure() */
				usleep(2000);
				if (batch == 1 && !bad[i][w])
					sweep_walk(a, len, w, sweep_why[i][w],
						   sizeof(sweep_why[i][w]));
				for (k = 0; k < batch && !bad[i][w]; k++) {
					int64_t ns = sweep_walk(a, len, w,
								sweep_why[i][w],
								sizeof(sweep_why[i][w]));

					if (ns < 0)
						bad[i][w] = 1;
					else
						v[i][w][nv[i][w]++] = (uint64_t)ns;
				}
			}
		}
	}
	for (i = 0; i < SWEEP_N; i++) {
		size_t pages = sweep_len[i] / gt_page;
		size_t batch = pages < SWEEP_BATCH ? SWEEP_BATCH / pages : 1;

		for (w = 0; w < NW; w++) {
			if (!bad[i][w])
				sweep_med[i][w] = (double)median(v[i][w], nv[i][w]) /
						  pages;
			munmap(v[i][w], runs * batch * sizeof(uint64_t));
		}
	}

	if (sparse) {
		munmap(sparse, SWEEP_SPARSE);
		munmap(states, maxp);
		munmap(mcvec, maxp);
		states = st0;
		mcvec = mc0;
	}
}

static void print_sweep(void)
{
	char cell[32];
	int i, w;

	if (!sweep_ran)
		return;
	printf("\nRange-size sweep: ns/page of each walk against the size of the range walked in\n"
	       "one call, median of every call of %d runs (a run walks a range of fewer than %d\n"
	       "pages %d/pages times; one walked once is walked once untimed just before).\n"
	       "  4 KiB .. 256 MiB: the start of a resident %zu MiB anon range (MADV_NOHUGEPAGE,\n"
	       "  every page written: all present, 4 KiB pages).\n"
	       "  4 GiB, 64 GiB (sparse): the start of a 64 GiB MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE\n"
	       "  mapping, MADV_NOHUGEPAGE, of which %d pages at the start of each GiB were written and\n"
	       "  no other page touched (1 page in %d present). NOWAIT, WAIT and gup_test do not\n"
	       "  run there (-): they would fault in every page never touched.\n"
	       "  pagemap: pread() of at most %zu entries at a time; gup_test: its ioctl's wall time.\n",
	       runs, SWEEP_BATCH, SWEEP_BATCH, sweep_dense / MiB, SWEEP_PER_GIB,
	       (int)(GiB / gt_page / SWEEP_PER_GIB), pm_pages);
	if (sweep_fail[0])
		printf("  (%s)\n", sweep_fail);
	printf("%-10s %9s", "size", "pages");
	for (w = 0; w < NW; w++)
		printf(" %8s", walk_name[w]);
	printf("\n");
	for (i = 0; i < SWEEP_N; i++) {
		printf("%-10s %9zu", sweep_size[i], sweep_len[i] / gt_page);
		for (w = 0; w < NW; w++) {
			if (sweep_med[i][w] >= 0)
				snprintf(cell, sizeof(cell), "%.1f",
					 sweep_med[i][w]);
			else
				snprintf(cell, sizeof(cell), "%s",
					 strcmp(sweep_why[i][w], "-") ? "n/a" : "-");
			printf(" %8s", cell);
		}
		printf("\n");
	}
	printf("What each walk found on the sparse ranges (last run), and why a cell is n/a:\n");
	for (i = 0; i < SWEEP_N; i++)
		for (w = 0; w < NW; w++)
			if (is_sparse(i) && sweep_med[i][w] >= 0)
				printf("  %-7s %-8s %s\n", sweep_size[i],
				       walk_name[w], sweep_why[i][w]);
	/* each reason once per walk, with the sizes it stopped */
	for (w = 0; w < NW; w++) {
		for (i = 0; i < SWEEP_N; i++) {
			const char *why = sweep_why[i][w];
			int j, first = 1;

			if (sweep_med[i][w] >= 0 || !strcmp(why, "-"))
				continue;
			for (j = 0; j < i; j++)
				if (sweep_med[j][w] < 0 && !strcmp(sweep_why[j][w], why))
					break;
			if (j < i)
				continue;	/* printed with its first size */
			printf("  %-8s n/a at", walk_name[w]);
			for (j = i; j < SWEEP_N; j++)
				if (sweep_med[j][w] < 0 && !strcmp(sweep_why[j][w], why)) {
					printf("%s %s", first ? "" : ",", sweep_size[j]);
					first = 0;
				}
			printf(": %s\n", why);
		}
	}
	/* for tests/bench/plot.sh: walk, range bytes, ns per page */
	for (i = 0; i < SWEEP_N; i++)
		for (w = 0; w < NW; w++)
			if (sweep_med[i][w] >= 0)
				printf("sweep %s %zu %.2f\n", walk_name[w],
				       sweep_len[i], sweep_med[i][w]);
}

/* Whether GUPNW_BENCH_ONLY (comma-separated parts) is unset, or names "all" or part. */
static int bench_part(const char *part)
{
	const char *only = getenv("GUPNW_BENCH_ONLY"), *p, *want[2] = { "all", part };
	size_t n;
	int k;

	if (!only || !*only)
		return 1;
	for (k = 0; k < 2; k++)
		for (n = strlen(want[k]), p = only; (p = strstr(p, want[k])); p += n)
			if ((p == only || p[-1] == ',') && (!p[n] || p[n] == ','))
				return 1;
	return 0;
}

/* ------------------------------------------------------------------ main */

struct info_result {
	int ok;
	struct gupnw_info info;
};

int main(void)
{
	size_t mb = strtoul(gt_env("GUPNW_BENCH_MB", "256"), NULL, 10);
	size_t cold_kb = strtoul(gt_env("GUPNW_BENCH_COLD_KB", "2048"), NULL, 10);
	const char *data = gt_env("GUPNW_DATA", "/mnt/data");
	const char *slow = gt_env("GUPNW_SLOW", "/mnt/slow");
	size_t len, maxpages;
	struct scen *s4k, *sthp, *sfile, *sfile2;
	struct info_result ir;
	char path[512], why[160];
	long thp_kb;
	uint64_t t_start = gt_now_ns();

	gt_init();
	runs = atoi(gt_env("GUPNW_BENCH_RUNS", "7"));
	if (runs < 5)
		runs = 5;
	if (runs > 64)
		runs = 64;
	if (!mb)
		mb = 256;
	len = mb * MiB;
	maxpages = len / gt_page;

	devfd = gt_dev_open();
	if (devfd < 0)
		progress("open %s: %s", gt_dev_path(), strerror(errno));
	memset(&ir, 0, sizeof(ir));
	if (devfd >= 0) {
		ir.info.size = sizeof(ir.info);
		ir.ok = gt_ioctl(devfd, GUPNW_IOC_GET_INFO, &ir.info) >= 0;
	}
	pmfd = open("/proc/self/pagemap", O_RDONLY);
	{
		const char *st = gt_env("GUPNW_GUP_TEST_STATUS",
					"failed: gup_test.ko not built");

		if (!strncmp(st, "ok ", 3))
			snprintf(gt_why, sizeof(gt_why),
				 "mm/gup_test.c of %s, GUP_FAST_BENCHMARK, all pages in one call, get + put",
				 st + 3);
		else
			snprintf(gt_why, sizeof(gt_why), "n/a: %s",
				 !strncmp(st, "failed ", 7) ? st + 7 : st);
	}
	gtfd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (gtfd < 0 && strncmp(gt_why, "n/a", 3))
		snprintf(gt_why, sizeof(gt_why),
			 "/sys/kernel/debug/gup_test: %s (insmod failed?)",
			 strerror(errno));

	states = xalloc(maxpages);
	mcvec = xalloc(maxpages);
	pmbuf = xalloc(maxpages * 8);
	pmvec = xalloc(PMVEC_LEN * sizeof(*pmvec));
	pm_pages = maxpages;

	if (!bench_part("bench")) {
		/* GUPNW_BENCH_ONLY=sweep: the sweep alone */
		char kv[256] = "?";

		if (bench_part("sweep")) {
			progress("faulting in %zu MiB of 4 KiB anon pages", mb);
			sweep_measure(anon_4k(len), len);
		}
		gt_read_file("/proc/sys/kernel/osrelease", kv, sizeof(kv));
		kv[strcspn(kv, "\n")] = '\0';
		printf("GUPNW-BENCH-BEGIN\n");
		printf("gupnw benchmark - kernel %s, QEMU TCG guest (2 vCPU, 2 GiB), GUPNW_BENCH_ONLY=%s\n",
		       kv, getenv("GUPNW_BENCH_ONLY"));
		print_sweep();
		printf("\nbench ran for %.0f s\n", (gt_now_ns() - t_start) / 1e9);
		printf("GUPNW-BENCH-END\n");
		return 0;
	}

	/* 1. resident private anon, 4 KiB pages */
	progress("faulting in %zu MiB of 4 KiB anon pages", mb);
	s4k = new_scen("anon, 4 KiB pages", anon_4k(len), len);
	snprintf(s4k->note, sizeof(s4k->note), "MADV_NOHUGEPAGE, written");
	measure(s4k);

	/* 2. the same range backed by THP */
	progress("faulting in %zu MiB of THP-backed anon", mb);
	sthp = new_scen("anon, THP (2 MiB folios)", anon_thp(len, &thp_kb), len);
	snprintf(sthp->note, sizeof(sthp->note),
		 "MADV_HUGEPAGE, %ld of %zu MiB in THPs", thp_kb / 1024, mb);
	measure(sthp);

	/* 3. a page-cache-resident file: mapped, and not mapped yet */
	snprintf(path, sizeof(path), "%s/cold-64m", data);
	{
		int fd = open(path, O_RDONLY);
		struct stat st;
		char *buf = malloc(MiB);
		ssize_t n;

		if (fd < 0 || fstat(fd, &st) || !buf)
			gt_bail("open %s: %s", path, strerror(errno));
		progress("reading %s into the page cache", path);
		while ((n = read(fd, buf, MiB)) > 0)
			;
		free(buf);
		sfile = new_scen("file, cached, mapped", NULL, st.st_size);
		sfile->fd = fd;
		remap_file(sfile);
		if (madvise(sfile->addr, sfile->len, MADV_POPULATE_READ))
			progress("MADV_POPULATE_READ: %s", strerror(errno));
		snprintf(sfile->note, sizeof(sfile->note),
			 "%.40s, read(), mmap MAP_SHARED, POPULATE_READ",
			 path);
		measure(sfile);

		sfile2 = new_scen("file, cached, not mapped", NULL, st.st_size);
		sfile2->fd = fd;
		sfile2->remap = 1;
		snprintf(sfile2->note, sizeof(sfile2->note),
			 "same file, mapped afresh before each walk");
		measure(sfile2);
		fault_bound(sfile2);
		munmap(sfile2->addr, sfile2->len);
	}

	/* the range-size sweep, on s4k's pages and a sparse 64 GiB */
	sweep_measure(s4k->addr, s4k->len);

	/* 4. a 1 TiB PROT_NONE reservation with a few thousand pages mapped */
	const size_t tib = 1ULL << 40, clusters = 256, per = 16;
	uint64_t sp_ns[2][64], pte_delta[2] = { 0, 0 }, pm1t[64];
	uint64_t ext_n = 0, sp_pages = 0;
	long pte_before = 0, pte_after = 0;
	int sp_ok = 0, pm1t_ok = 0;
	struct gupnw_probe_extent *ext = xalloc(4096 * sizeof(*ext));
	char *res = mmap(NULL, tib, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (res == MAP_FAILED) {
		snprintf(why, sizeof(why), "mmap 1 TiB: %s", strerror(errno));
	} else {
		size_t c, p;
		int r, k;

		progress("1 TiB reservation: mapping %zu pages", clusters * per);
		for (c = 0; c < clusters; c++) {
			char *a = res + c * (tib / clusters) + 7 * THP_SIZE;

			if (mprotect(a, per * gt_page, PROT_READ | PROT_WRITE))
				gt_bail("mprotect: %s", strerror(errno));
			for (p = 0; p < per; p++)
				a[p * gt_page] = 1;
		}
		sp_ok = 1;
		for (r = 0; r < runs && sp_ok; r++) {
			for (k = 0; k < 2 && sp_ok; k++) {
				struct gupnw_probe_args a;
				uint64_t t0;
				long before = gt_status_kb("VmPTE"), ret;

				gt_args_init(&a, res, tib, GUPNW_PROBE_EXTENTS |
					     (k ? GUPNW_PROBE_NOFAULT : 0), ext);
				a.nr_extents = 4096;
				t0 = gt_now_ns();
				ret = gt_ioctl(devfd, GUPNW_IOC_PROBE, &a);
				sp_ns[k][r] = gt_now_ns() - t0;
				if (ret < 0 || a.done != tib / gt_page) {
					snprintf(why, sizeof(why),
						 "probe of 1 TiB: %s, done %llu",
						 ret < 0 ? gt_errname((int)-ret) : "ok",
						 (unsigned long long)a.done);
					sp_ok = 0;
					break;
				}
				pte_after = gt_status_kb("VmPTE");
				pte_before = before;
				if (pte_after != before)
					pte_delta[k] += pte_after - before;
				ext_n = a.nr_extents;
				sp_pages = a.nr_resident + a.nr_faulted;
			}
			if (pmscan_ok) {
				struct scen tmp;

				memset(&tmp, 0, sizeof(tmp));
				tmp.addr = res;
				tmp.len = tib;
				tmp.pages = tib / gt_page;
				uint64_t t0 = gt_now_ns();
				int64_t ns = walk_once(&tmp, W_PMSCAN);

				pm1t[r] = gt_now_ns() - t0;
				pm1t_ok = ns >= 0;
			}
		}
	}

	/* 5. kernel memory per probe: GET_INFO, and what tracing sees */
	struct kmem_result k1 = { 0 }, k1t = { 0 }, kn = { 0 };
	char trwhy[128] = "";
	int tr_ok = 0, kn_ok = 0, k1t_ok = 0;
	const int nthreads = 4;

	if (devfd >= 0 && !tr_setup(trwhy, sizeof(trwhy))) {
		pid_t me = (pid_t)syscall(SYS_gettid);
		struct gupnw_probe_args a;

		progress("tracing the kernel memory of probes");
		tr_start(&me, 1);
		probe_bytes(s4k->addr, s4k->len, 0, &a);
		tr_ok = !tr_stop(&k1);
		if (sp_ok) {
			tr_start(&me, 1);
			gt_args_init(&a, res, tib, GUPNW_PROBE_EXTENTS, ext);
			a.nr_extents = 4096;
			gt_ioctl(devfd, GUPNW_IOC_PROBE, &a);
			k1t_ok = !tr_stop(&k1t);
		}
		kn_ok = !trace_probers(nthreads, s4k->addr, s4k->len, 5, &kn);
		tr_teardown();
	}

	/* 6. cold pages on the throttled disk */
	size_t clen = cold_kb * 1024, cpages = clen / gt_page;
	uint64_t t_pop = 0, t_read = 0, t_probe[64], t_nofault = 0;
	uint64_t t_nf[64], t_mc[64], t_mincore = 0;
	int64_t t_drain = -1;
	int cold_ok = 0, cruns = 5;
	char cold_why[160] = "", cold_chk[160] = "", nf_chk[96] = "";

	snprintf(path, sizeof(path), "%s/cold-64m", slow);
	{
		int fd = open(path, O_RDONLY);
		struct stat st;
		char *m, *buf;

		if (fd < 0 || fstat(fd, &st)) {
			snprintf(cold_why, sizeof(cold_why), "open %.100s: %s",
				 path, strerror(errno));
		} else if ((size_t)st.st_size < (2 + cruns) * 2 * clen + clen + MiB) {
			snprintf(cold_why, sizeof(cold_why),
				 "%.100s too small for %zu KiB ranges", path,
				 cold_kb);
		} else if (gt_make_cold(fd)) {
			snprintf(cold_why, sizeof(cold_why),
				 "could not make %.100s cold", path);
		} else if ((m = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED,
				     fd, 0)) == MAP_FAILED ||
			   !(buf = malloc(clen))) {
			snprintf(cold_why, sizeof(cold_why), "mmap: %s",
				 strerror(errno));
		} else {
			/* each measurement gets its own cold range, 2 apart */
			size_t gap = 2 * clen;
			struct gupnw_probe_args a;
			uint64_t t0;
			int r;

			progress("cold range: draining the throttle bucket");
			t_drain = gt_drain_throttle(path);
			progress("cold range: MADV_POPULATE_READ of %zu KiB (slow)",
				 cold_kb);
			t0 = gt_now_ns();
			cold_ok = !madvise(m, clen, MADV_POPULATE_READ);
			t_pop = gt_now_ns() - t0;
			if (!cold_ok)
				snprintf(cold_why, sizeof(cold_why),
					 "MADV_POPULATE_READ: %s", strerror(errno));
			progress("cold range: read() of %zu KiB (slow)", cold_kb);
			t0 = gt_now_ns();
			if (pread(fd, buf, clen, gap) != (ssize_t)clen && cold_ok) {
				cold_ok = 0;
				snprintf(cold_why, sizeof(cold_why),
					 "read: %s", strerror(errno));
			}
			t_read = gt_now_ns() - t0;
			/*
			 * the probes last: they leave their I/O queued; NOFAULT
			 * and mincore change nothing, so each gets runs of the
			 * same never-read range
			 */
			for (r = 0; r < runs; r++) {
				char *cm = m + 2 * gap;
				int64_t ns = probe_bytes(cm, clen,
							 GUPNW_PROBE_NOFAULT, &a);

				t_nf[r] = ns > 0 ? (uint64_t)ns : 0;
				counts_str(nf_chk, sizeof(nf_chk), &a);
				t0 = gt_now_ns();
				if (mincore(cm, clen, mcvec))
					t_mc[r] = 0;
				else
					t_mc[r] = gt_now_ns() - t0;
			}
			t_nofault = median(t_nf, runs);
			t_mincore = median(t_mc, runs);
			progress("cold range: %d NOWAIT probes", cruns);
			for (r = 0; r < cruns && cold_ok; r++) {
				int64_t ns = probe_bytes(m + (2 + r) * gap, clen,
							 0, &a);

				if (ns < 0 || devfd < 0) {
					cold_ok = 0;
					snprintf(cold_why, sizeof(cold_why),
						 "probe: %s", devfd < 0 ?
						 "no /dev/gupnw" :
						 gt_errname((int)-ns));
					break;
				}
				t_probe[r] = (uint64_t)ns;
				if (!r)
					counts_str(cold_chk, sizeof(cold_chk), &a);
			}
			free(buf);
		}
	}

	/* ================================================= the report */
	char kv[256] = "?";

	gt_read_file("/proc/sys/kernel/osrelease", kv, sizeof(kv));
	kv[strcspn(kv, "\n")] = '\0';

	printf("GUPNW-BENCH-BEGIN\n");
	printf("gupnw benchmark - kernel %s, QEMU TCG guest (2 vCPU, 2 GiB)\n",
	       kv);
	if (ir.ok)
		printf("module %s, ABI %u, %llu pages per mmap_lock hold\n",
		       ir.info.version, ir.info.abi_version,
		       (unsigned long long)ir.info.max_chunk_pages);
	else
		printf("module: not loaded or GET_INFO failed\n");
	printf("Median of %d runs per cell; every walk covers the whole range in one call, 2 ms\n"
	       "after the walk before and right after an untimed one of its own (warm; not where\n"
	       "the file is mapped afresh).\n",
	       runs);
	printf("NOWAIT/NOFAULT/WAIT: GUPNW_IOC_PROBE in that mode, one state byte per page.\n");
	printf("gup_test: %s\n\n", gt_why);

	print_table(sc, nsc);
	print_sweep();

	/* sparse */
	printf("\n1 TiB PROT_NONE|MAP_NORESERVE reservation, %zu pages mapped (%zu clusters of %zu), GUPNW_PROBE_EXTENTS:\n",
	       clusters * per, clusters, per);
	if (!sp_ok) {
		printf("  n/a: %s\n", why);
	} else {
		uint64_t mnw = median(sp_ns[0], runs), mnf = median(sp_ns[1], runs);

		printf("  NOWAIT  %9.3f ms  (%llu extents, %llu pages R/F)\n",
		       mnw / 1e6, (unsigned long long)ext_n,
		       (unsigned long long)sp_pages);
		printf("  NOFAULT %9.3f ms  VmPTE %ld kB after, change over %d runs: %llu kB\n",
		       mnf / 1e6, pte_after, runs,
		       (unsigned long long)pte_delta[1]);
		printf("  (NOWAIT VmPTE change over %d runs: %llu kB; before the last NOFAULT run %ld kB)\n",
		       runs, (unsigned long long)pte_delta[0], pte_before);
		if (pm1t_ok)
			printf("  PAGEMAP_SCAN of the same 1 TiB: %.3f ms\n",
			       median(pm1t, runs) / 1e6);
		target("1 TiB sparse: NOWAIT probe time", "< 50 ms", mnw / 1e6,
		       1, mnw < 50000000, "ms", "");
		target("1 TiB sparse: NOFAULT probe time", "< 50 ms", mnf / 1e6,
		       1, mnf < 50000000, "ms", "");
		target("1 TiB sparse: NOFAULT page tables added", "0 kB",
		       (double)pte_delta[1], 1, pte_delta[1] == 0, "kB", "");
	}

	/* cold */
	printf("\nCold file range on the throttled disk (20 x 4 KiB I/O per s), %zu KiB = %zu pages, each on its own cold range:\n",
	       cold_kb, cpages);
	if (!cold_ok) {
		printf("  n/a: %s\n", cold_why);
	} else {
		uint64_t mp = median(t_probe, cruns);

		printf("  throttle drain (128 KiB O_DIRECT) %10.1f ms\n",
		       t_drain / 1e6);
		printf("  MADV_POPULATE_READ                %10.1f ms  (1 run)\n",
		       t_pop / 1e6);
		printf("  read()                            %10.1f ms  (1 run)\n",
		       t_read / 1e6);
		printf("  gupnw NOWAIT probe returns after  %10.3f ms  (median of %d; first: %s)\n",
		       mp / 1e6, cruns, cold_chk);
		printf("  gupnw NOFAULT probe               %10.3f ms  (median of %d; %s)\n",
		       t_nofault / 1e6, runs, nf_chk);
		printf("  mincore                           %10.3f ms  (median of %d): NOFAULT / mincore %.2fx\n",
		       t_mincore / 1e6, runs,
		       t_mincore ? (double)t_nofault / t_mincore : 0.0);
		printf("  POPULATE_READ / probe %.0fx, read() / probe %.0fx\n",
		       (double)t_pop / mp, (double)t_read / mp);
		target("cold: MADV_POPULATE_READ / NOWAIT probe", ">= 100x",
		       (double)t_pop / mp, 1, t_pop >= 100 * mp, "x", "");
	}

	/* kernel memory */
	printf("\nKernel memory a probe allocates:\n");
	if (ir.ok) {
		printf("  GET_INFO probe_kmem: at most %u bytes per call, whatever the range\n",
		       ir.info.probe_kmem);
		printf("  peak with N concurrent probers: at most N x %u bytes (%d threads: %u bytes)\n",
		       ir.info.probe_kmem, nthreads,
		       nthreads * ir.info.probe_kmem);
	} else {
		printf("  GET_INFO: n/a\n");
	}
	if (!tr_ok) {
		printf("  traced: n/a (%s)\n", trwhy[0] ? trwhy : "tracing failed");
	} else {
		printf("  traced (kmem events inside the probe ioctl: peak of bytes allocated and not yet freed):\n");
		printf("    one NOWAIT probe, %zu MiB resident:  peak %llu bytes, %llu from [gupnw], %llu allocations, %llu pages, left %llu%s\n",
		       mb, (unsigned long long)k1.peak,
		       (unsigned long long)k1.module_bytes,
		       (unsigned long long)k1.allocs,
		       (unsigned long long)k1.page_allocs,
		       (unsigned long long)k1.net, k1.lost ? " (events lost)" : "");
		if (k1t_ok)
			printf("    one NOWAIT probe, 1 TiB sparse:    peak %llu bytes, %llu from [gupnw], %llu allocations, %llu pages, left %llu%s\n",
			       (unsigned long long)k1t.peak,
			       (unsigned long long)k1t.module_bytes,
			       (unsigned long long)k1t.allocs,
			       (unsigned long long)k1t.page_allocs,
			       (unsigned long long)k1t.net,
			       k1t.lost ? " (events lost)" : "");
		if (kn_ok)
			printf("    %d threads x 5 probes at once:     peak %llu bytes (%llu allocations)%s\n",
			       nthreads, (unsigned long long)kn.peak,
			       (unsigned long long)kn.allocs,
			       kn.lost ? " (events lost)" : "");
	}
	if (ir.ok) {
		uint64_t worst = ir.info.probe_kmem;

		if (tr_ok && k1.peak > worst)
			worst = k1.peak;
		if (k1t_ok && k1t.peak > worst)
			worst = k1t.peak;
		target("kernel memory per probe call", "<= 64 KiB",
		       worst / 1024.0, 1, worst <= 65536, "K", "");
	}

	/* the physical limit */
	double lim = pte_read_limit_ns(maxpages);
	{
		const struct scen *rows[4] = { s4k, sthp, sfile, sfile2 };
		int k;

		printf("\nPhysical limit of a presence walk: one 8-byte PTE read per page = %.2f ns/page\n",
		       lim);
		printf("  (a user-space loop over %zu entries, the page table of %zu MiB; a walk also\n"
		       "  writes a state byte per page, and a THP's 512 pages share one PMD entry)\n",
		       maxpages, mb);
		for (k = 0; k < 4; k++)
			if (rows[k] && rows[k]->med[W_NOFAULT] >= 0)
				printf("  %-28s NOFAULT %6.2f ns/page = %5.2fx the limit, mincore %5.2fx\n",
				       rows[k]->name, rows[k]->med[W_NOFAULT],
				       rows[k]->med[W_NOFAULT] / lim,
				       rows[k]->med[W_MINCORE] / lim);
	}

	if (sfile2)
		print_fault_bound(sfile2);

	/* targets */
	printf("\nTargets (ratios of medians of this run; a benchmark reports, never fails):\n");
	printf("%-42s %-9s %12s  %-4s  %s\n", "target", "limit", "measured",
	       "result", "same ratio for the kernel's GUP-fast");
	{
		char all[32][160];
		int n = ntargets, j;

		memcpy(all, targets, sizeof(all));
		ntargets = 0;
		target_ratio("anon 4 KiB: NOWAIT / mincore", s4k, W_NOWAIT,
			     W_MINCORE, 1.25);
		target_ratio("anon 4 KiB: NOFAULT / mincore", s4k, W_NOFAULT,
			     W_MINCORE, 1);
		target_ratio("anon THP: NOFAULT / mincore", sthp, W_NOFAULT,
			     W_MINCORE, 1);
		target_ratio("file mapped: NOFAULT / mincore", sfile,
			     W_NOFAULT, W_MINCORE, 1);
		target_ratio("file not mapped: NOFAULT / mincore", sfile2,
			     W_NOFAULT, W_MINCORE, 1);
		target_ratio("file not mapped: NOFAULT / mincore", sfile2,
			     W_NOFAULT, W_MINCORE, 0.15);
		target_ratio("file not mapped: NOWAIT / mincore", sfile2,
			     W_NOWAIT, W_MINCORE, 1);
		target("file not mapped: NOWAIT / touch bound", "<= 1.25x",
		       fbound.ok ? fbound.nowait / fbound.touch : 0, fbound.ok,
		       fbound.ok && fbound.nowait <= 1.25 * fbound.touch, "x",
		       "");
		target_ratio("anon THP: NOWAIT / mincore", sthp, W_NOWAIT,
			     W_MINCORE, 1.25);
		target_ratio("file mapped: NOWAIT / mincore", sfile, W_NOWAIT,
			     W_MINCORE, 1.25);
		target_ratio("anon 4 KiB: NOWAIT / pagemap", s4k, W_NOWAIT,
			     W_PAGEMAP, 0.5);
		target_ratio("anon THP: NOWAIT / pagemap", sthp, W_NOWAIT,
			     W_PAGEMAP, 0.5);
		target_ratio("file mapped: NOWAIT / pagemap", sfile, W_NOWAIT,
			     W_PAGEMAP, 0.5);
		target_ratio("anon 4 KiB: NOWAIT / WAIT (blocking GUP)", s4k,
			     W_NOWAIT, W_WAIT, 1.2);
		target_ratio("anon THP: NOWAIT / WAIT (blocking GUP)", sthp,
			     W_NOWAIT, W_WAIT, 1.2);
		target_ratio("file mapped: NOWAIT / WAIT (blocking GUP)", sfile,
			     W_NOWAIT, W_WAIT, 1.2);
		target_limit("anon 4 KiB: NOFAULT / PTE-read limit", s4k,
			     W_NOFAULT, lim, 2);
		target_limit("anon THP: NOFAULT / PTE-read limit", sthp,
			     W_NOFAULT, lim, 1.2);
		target_ratio("anon 4 KiB: NOWAIT / NOFAULT", s4k, W_NOWAIT,
			     W_NOFAULT, 1.25);
		target_ratio("anon THP: NOWAIT / NOFAULT", sthp, W_NOWAIT,
			     W_NOFAULT, 1.25);
		for (j = 0; j < ntargets; j++)
			printf("%s\n", targets[j]);
		for (j = 0; j < n; j++)
			printf("%s\n", all[j]);
	}
	printf("\nbench ran for %.0f s\n", (gt_now_ns() - t_start) / 1e9);
	printf("GUPNW-BENCH-END\n");
	return 0;
}
