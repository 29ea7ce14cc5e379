// SPDX-License-Identifier: GPL-2.0
/*
 * t60_fault_injection: every allocation failure path returns a clean error.
 *
 * With /proc/self/fail-nth (CONFIG_FAULT_INJECTION), the N-th allocation this
 * task makes fails - any slab (failslab) or page (fail_page_alloc)
 * allocation, in the module or in the kernel code it calls.  For each kind of
 * call, N = 1, 2, ... fails the N-th allocation of that one system call until
 * N exceeds the number of allocations the call makes (fail-nth reads back
 * non-zero: nothing was failed), and each injected failure must give success
 * or -ENOMEM, never another error, a wrong result or a kernel splat (the
 * harness scans the log, and kmemleak runs at the end of the guest).
 *
 * The calls: GET_INFO (allocates nothing), PROBE of resident pages, of pages
 * to fault in, with EXTENTS, with TARGET_FD, with WAIT on a cold file; and
 * loading the module (finit_module, called directly: busybox insmod retries
 * with init_module and would hide a one-shot failure).
 *
 * A kernel allocation that fails may log a report with a stack dump
 * (warn_alloc: "vmalloc error: ...", "page allocation failure: ..."): the
 * test brackets its injection with "gupnw-fault-injection: begin/end" lines
 * in the kernel log, between which tests/vm/scan-log.sh takes such reports
 * as expected rather than as splats.
 *
 * SKIPs on a kernel without fault injection (Debian's cloud kernels): it is
 * meant for the debug kernel of "make check-debug".
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_NTH		2000	/* far more than any of these calls makes */
#define NPAGES		16

static int nth_fd = -1;
static int dev = -1;

/* Arm fail-nth: the n-th allocation from now on fails (0 disarms). */
static int nth_set(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(nth_fd, buf, len, 0) == len ? 0 : -1;
}

/* What is left of the count: 0 when the failure was injected. */
static long nth_left(void)
{
	char buf[16];
	ssize_t n = pread(nth_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* The window in which scan-log.sh expects allocation-failure reports. */
static void kmsg_mark(const char *what)
{
	char line[64];

	snprintf(line, sizeof(line), "<4>gupnw-fault-injection: %s\n", what);
	gt_write_file("/dev/kmsg", line);
}

static int debugfs_set(const char *attr, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s", attr);
	return gt_write_file(path, val);
}

/*
 * failslab and fail_page_alloc skip sleeping allocations, highmem and
 * order-0 pages by default: count every allocation.  verbose 1 logs one line
 * per injected failure and no stack trace (which the harness would read as
 * a splat).
 */
static int setup_injection(void)
{
	static const char *const set[][2] = {
		{ "failslab/ignore-gfp-wait", "N" },
		{ "failslab/verbose", "1" },
		{ "fail_page_alloc/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "fail_page_alloc/min-order", "0" },
		{ "fail_page_alloc/verbose", "1" },
	};
	unsigned int i;
	int ret;

	if (access("/sys/kernel/debug/failslab", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		ret = debugfs_set(set[i][0], set[i][1]);
		if (ret) {
			gt_diag("%s: %s", set[i][0], gt_errname(-ret));
			return -1;
		}
	}
	return 0;
}

/* One kind of call, run with fail-nth = 1, 2, ... */
struct fi_case {
	const char *name;
	/* Before each attempt (untimed, not under injection); 0 or -1. */
	int (*prepare)(void *ctx);
	/* The call under injection: 0 or -errno. */
	long (*call)(void *ctx);
	/* After a call that succeeded: is its result right? */
	int (*check)(void *ctx, int injected);
	void *ctx;
	int expect_no_alloc;	/* the call must not allocate at all */
};

static void run_case(const struct fi_case *c)
{
	unsigned int n, injected = 0, enomem = 0, ok_despite = 0;
	long ret, left;

	for (n = 1; n <= MAX_NTH; n++) {
		if (c->prepare && c->prepare(c->ctx)) {
			gt_ok(0, "fail-nth: %s: setup of attempt %u", c->name, n);
			return;
		}
		if (nth_set(n))
			gt_bail("write /proc/self/fail-nth: %s",
				gt_errname(errno));
		ret = c->call(c->ctx);
		left = nth_left();
		nth_set(0);
		if (left != 0) {
			/* Fewer than n allocations: nothing was failed. */
			if (!gt_ok(ret == 0 && (!c->check || c->check(c->ctx, 0)),
				   "fail-nth: %s: succeeds without injection", c->name))
				gt_diag("ret %s", ret ? gt_errname((int)-ret) : "0");
			break;
		}
		injected++;
		if (ret == -ENOMEM) {
			enomem++;
			continue;
		}
		if (ret == 0 && (!c->check || c->check(c->ctx, 1))) {
			ok_despite++;	/* an optional allocation, or a retry */
			continue;
		}
		gt_ok(0, "fail-nth: %s: allocation %u failed: clean -ENOMEM or success",
		      c->name, n);
		gt_diag("got %s", ret ? gt_errname((int)-ret) : "success with a wrong result");
		return;
	}
	if (n > MAX_NTH) {
		gt_ok(0, "fail-nth: %s: ends within %u allocations", c->name,
		      MAX_NTH);
		return;
	}
	if (c->expect_no_alloc) {
		gt_eq(0, injected, "fail-nth: %s: allocates nothing", c->name);
		return;
	}
	gt_diag("%s: %u allocations failed in turn: %u gave ENOMEM, %u succeeded anyway",
		c->name, injected, enomem, ok_despite);
	gt_ok(injected > 0,
	      "fail-nth: %s: each of its %u allocations failed gives -ENOMEM or success",
	      c->name, injected);
}

/* --- the probes --- */

struct probe_ctx {
	char *buf;			/* NPAGES */
	unsigned char states[NPAGES];
	struct gupnw_probe_extent ext[NPAGES];
	struct gupnw_probe_args a;
	uint32_t flags;
	int target_fd;
	int fd;				/* file for the cold case */
	const char *expect;		/* states pattern (gt_match) when it worked */
};

static long probe_call(void *ctx)
{
	struct probe_ctx *p = ctx;
	int ext = p->flags & GUPNW_PROBE_EXTENTS;

	gt_args_init(&p->a, p->buf, (uint64_t)NPAGES * gt_page, p->flags,
		     ext ? (void *)p->ext : (void *)p->states);
	if (ext)
		p->a.nr_extents = NPAGES;
	if (p->flags & GUPNW_PROBE_TARGET_FD)
		p->a.target_fd = p->target_fd;
	return gt_ioctl(dev, GUPNW_IOC_PROBE, &p->a);
}

/* A successful probe: all pages done, counts agree, states as expected. */
static int probe_check(void *ctx, int injected)
{
	struct probe_ctx *p = ctx;
	uint64_t sum = p->a.nr_resident + p->a.nr_faulted + p->a.nr_retry +
		       p->a.nr_unmapped + p->a.nr_error + p->a.nr_notpresent;
	unsigned char flat[NPAGES];
	uint64_t i, j, k = 0;

	if (p->a.done != NPAGES || sum != NPAGES)
		return 0;
	if (p->flags & GUPNW_PROBE_EXTENTS) {
		for (i = 0; i < p->a.nr_extents && k <= NPAGES; i++)
			for (j = 0; j < p->ext[i].nr_pages && k < NPAGES; j++)
				flat[k++] = (unsigned char)p->ext[i].state;
		if (k != NPAGES)
			return 0;
	} else {
		if (!gt_args_tally_ok(&p->a, p->states, NPAGES))
			return 0;
		memcpy(flat, p->states, NPAGES);
	}
	/*
	 * A fault that failed to allocate is 'E' (the kernel refused): allowed
	 * only when a failure was injected.
	 */
	for (i = 0; i < NPAGES; i++)
		if (gt_match(&flat[i], injected && flat[i] == 'E' ? "E" :
			     &p->expect[i], 1) != -1)
			return 0;
	return 1;
}

/* Fresh, untouched anonymous pages: the probe must fault them in. */
static int prepare_untouched(void *ctx)
{
	struct probe_ctx *p = ctx;

	if (p->buf)
		munmap(p->buf, NPAGES * gt_page);
	p->buf = mmap(NULL, NPAGES * gt_page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->buf == MAP_FAILED) {
		p->buf = NULL;
		return -1;
	}
	madvise(p->buf, NPAGES * gt_page, MADV_NOHUGEPAGE);
	return 0;
}

/* The same, all written: resident. */
static int prepare_resident(void *ctx)
{
	struct probe_ctx *p = ctx;

	if (prepare_untouched(ctx))
		return -1;
	memset(p->buf, 1, NPAGES * gt_page);
	return 0;
}

/* A cold file mapping: WAIT must read it (page cache, bios, readahead). */
static int prepare_cold(void *ctx)
{
	struct probe_ctx *p = ctx;
	int i;

	if (p->buf)
		munmap(p->buf, NPAGES * gt_page);
	p->buf = NULL;
	/* Pages under a read a NOWAIT probe started cannot drop yet: retry. */
	for (i = 0;; i++) {
		posix_fadvise(p->fd, 0, NPAGES * gt_page, POSIX_FADV_DONTNEED);
		if (gt_file_resident(p->fd, 0, NPAGES * gt_page) == 0)
			break;
		if (i == 300)
			return -1;
		gt_sleep_ms(10);
	}
	p->buf = mmap(NULL, NPAGES * gt_page, PROT_READ, MAP_SHARED, p->fd, 0);
	if (p->buf == MAP_FAILED) {
		p->buf = NULL;
		return -1;
	}
	return 0;
}

static long info_call(void *ctx)
{
	struct gupnw_info *info = ctx;

	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return gt_ioctl(dev, GUPNW_IOC_GET_INFO, info);
}

static int info_check(void *ctx, int injected)
{
	struct gupnw_info *info = ctx;

	(void)injected;
	return info->abi_version == GUPNW_ABI_VERSION && info->page_size == gt_page;
}

/* The patterns a successful probe must match. */
static char pat_r[NPAGES + 1], pat_f[NPAGES + 1], pat_any[NPAGES + 1];

static void patterns(void)
{
	memset(pat_r, 'R', NPAGES);
	pat_r[NPAGES] = '\0';
	memset(pat_f, 'r', NPAGES);		/* R or F */
	pat_f[NPAGES] = '\0';
	memset(pat_any, '?', NPAGES);
	pat_any[NPAGES] = '\0';
}

static void case_get_info(void)
{
	struct gupnw_info info;
	struct fi_case c;

	memset(&c, 0, sizeof(c));
	c.name = "GET_INFO";
	c.call = info_call;
	c.check = info_check;
	c.ctx = &info;
	c.expect_no_alloc = 1;
	run_case(&c);
}

/* One PROBE case of name with flags, prepare and the pattern expect. */
static void probe_case(const char *name, uint32_t flags,
		       int (*prepare)(void *ctx), const char *expect)
{
	struct probe_ctx p;
	struct fi_case c;

	memset(&p, 0, sizeof(p));
	p.fd = -1;
	p.flags = flags;
	p.expect = expect;
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.prepare = prepare;
	c.call = probe_call;
	c.check = probe_check;
	c.ctx = &p;
	run_case(&c);
	if (p.buf)
		munmap(p.buf, NPAGES * gt_page);
}

static void case_probe_resident(void)
{
	probe_case("PROBE of resident pages", 0, prepare_resident, pat_r);
}

static void case_probe_extents_resident(void)
{
	probe_case("PROBE with EXTENTS of resident pages", GUPNW_PROBE_EXTENTS,
		   prepare_resident, pat_r);
}

static void case_probe_fault_in(void)
{
	probe_case("PROBE of pages to fault in", 0, prepare_untouched, pat_f);
}

static void case_probe_write_fault_in(void)
{
	probe_case("PROBE WRITE of pages to fault in", GUPNW_PROBE_WRITE,
		   prepare_untouched, pat_f);
}

/*
 * Another process's memory, through its /proc/PID/mem: resident pages
 * mapped before fork(), so the child has them too.
 */
static void case_probe_target_fd(void)
{
	struct probe_ctx p;
	struct fi_case c;
	pid_t child;
	int pipefd[2];
	char mem[64];

	memset(&p, 0, sizeof(p));
	p.fd = -1;
	if (prepare_resident(&p) || pipe(pipefd))
		gt_bail("setup of the TARGET_FD case");
	child = fork();
	if (child == 0) {
		char x;

		close(pipefd[1]);
		(void)!read(pipefd[0], &x, 1);	/* until the parent closes it */
		_exit(0);
	}
	close(pipefd[0]);
	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)child);
	p.target_fd = open(mem, O_RDWR);
	if (p.target_fd < 0) {
		gt_skip(gt_errname(errno), "fail-nth: PROBE TARGET_FD of another process");
	} else {
		memset(&c, 0, sizeof(c));
		c.name = "PROBE TARGET_FD of another process";
		c.call = probe_call;
		c.check = probe_check;
		c.ctx = &p;
		p.flags = GUPNW_PROBE_TARGET_FD;
		p.expect = pat_r;
		run_case(&c);
		close(p.target_fd);
	}
	close(pipefd[1]);
	waitpid(child, NULL, 0);
	munmap(p.buf, NPAGES * gt_page);
}

/*
 * A cold file: page cache, bios, readahead.  WAIT reads it; NOWAIT starts
 * the read of some pages: either reports any letter per page, but must
 * succeed when nothing was failed.
 */
static void probe_cold_file(const char *name, uint32_t flags)
{
	const char *data = gt_env("GUPNW_DATA", "/mnt/data");
	struct probe_ctx p;
	struct fi_case c;
	char path[256];

	memset(&p, 0, sizeof(p));
	snprintf(path, sizeof(path), "%s/cold-64m", data);
	p.fd = open(path, O_RDONLY);
	if (p.fd < 0) {
		gt_skip(gt_errname(errno), "fail-nth: PROBE of a cold file (%s)", path);
		return;
	}
	p.expect = pat_any;
	p.flags = flags;
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.prepare = prepare_cold;
	c.call = probe_call;
	c.check = probe_check;
	c.ctx = &p;
	run_case(&c);
	if (p.buf)
		munmap(p.buf, NPAGES * gt_page);
	close(p.fd);
}

static void case_probe_wait_cold_file(void)
{
	probe_cold_file("PROBE WAIT of a cold file", GUPNW_PROBE_WAIT);
}

static void case_probe_nowait_cold_file(void)
{
	probe_cold_file("PROBE of a cold file (NOWAIT)", 0);
}

/* --- loading the module --- */

static long load_call(void *ctx)
{
	int fd = *(int *)ctx;

	return syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
}

/* The module loaded under injection must work: device, GET_INFO, a probe. */
static int load_check(void *ctx, int injected)
{
	struct gupnw_info info;
	int i, d = -1, good;

	(void)ctx;
	(void)injected;
	for (i = 0; i < 100 && d < 0; i++) {
		d = open("/dev/gupnw", O_RDWR);
		if (d < 0)
			gt_sleep_ms(20);
	}
	if (d < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	good = gt_ioctl(d, GUPNW_IOC_GET_INFO, &info) == 0 &&
	       info.abi_version == GUPNW_ABI_VERSION;
	close(d);
	return good;
}

/* Before each attempt: no module (a load under injection may succeed). */
static int load_prepare(void *ctx)
{
	(void)ctx;
	if (gt_module_loaded() && gt_module_unload())
		return -1;
	return 0;
}

static void test_module_load(void)
{
	const char *ko = gt_env("GUPNW_KO", "/lib/gupnw/gupnw.ko");
	struct fi_case c;
	int fd;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gt_skip(gt_errname(errno), "fail-nth: loading the module (%s)", ko);
		return;
	}
	if (dev >= 0) {
		close(dev);
		dev = -1;
	}
	if (load_prepare(NULL)) {
		gt_ok(0, "fail-nth: loading the module: the module unloads first");
		close(fd);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.name = "loading the module (finit_module)";
	c.prepare = load_prepare;
	c.call = load_call;
	c.check = load_check;
	c.ctx = &fd;
	run_case(&c);
	/* Leave it loaded for the tests after this one. */
	if (gt_module_loaded() != 1)
		syscall(SYS_finit_module, fd, "", 0);
	gt_ok(gt_module_loaded() == 1 && load_check(NULL, 0),
	      "fail-nth: after the failed loads the module loads and works");
	close(fd);
}

/*
 * What every case needs in its own process: fail-nth is per task, so each
 * case opens its own /proc/self/fail-nth; and a descriptor of the device.
 */
static void setup(void)
{
	nth_fd = open("/proc/self/fail-nth", O_RDWR);
	if (nth_fd < 0)
		gt_bail("open /proc/self/fail-nth: %s", gt_errname(errno));
	dev = gt_dev_open();
	if (dev < 0)
		gt_bail("open %s: %s", gt_dev_path(), gt_errname(errno));
}

static const struct gt_case cases[] = {
	GT_CASE("get-info", case_get_info),
	GT_CASE("probe-resident", case_probe_resident),
	GT_CASE("probe-extents-resident", case_probe_extents_resident),
	GT_CASE("probe-fault-in", case_probe_fault_in),
	GT_CASE("probe-write-fault-in", case_probe_write_fault_in),
	GT_CASE("probe-target-fd", case_probe_target_fd),
	GT_CASE("probe-wait-cold-file", case_probe_wait_cold_file),
	GT_CASE("probe-nowait-cold-file", case_probe_nowait_cold_file),
	/* one load of the module per allocation it makes: the longest case */
	GT_CASE_TIMED("module-load", test_module_load, 300),
};

static int before(void)
{
	int fd;

	fd = open("/proc/self/fail-nth", O_RDWR);
	if (fd < 0) {
		gt_skip("no /proc/self/fail-nth: kernel without CONFIG_FAULT_INJECTION (the debug kernel of make check-debug has it)",
			"fail-nth: allocation failures give clean errors");
		return 1;
	}
	close(fd);
	if (setup_injection()) {
		gt_skip("no failslab/fail_page_alloc in debugfs: kernel without CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC or CONFIG_FAULT_INJECTION_DEBUG_FS",
			"fail-nth: allocation failures give clean errors");
		return 1;
	}
	patterns();
	/*
	 * The window of expected reports: opened and closed here, around the
	 * cases, so it closes even when a case crashes or times out.
	 */
	kmsg_mark("begin");
	return 0;
}

static int after(void)
{
	kmsg_mark("end");
	return 0;
}

GT_FILE(cases, .setup = setup, .before = before, .after = after);
