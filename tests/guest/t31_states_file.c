// SPDX-License-Identifier: GPL-2.0
/*
 * t31_states_file: the states of file pages, in shared and private
 * mappings: cold, arriving after the probe started the read, cached, under
 * I/O, in a MADV_RANDOM mapping, past EOF after ftruncate() or cold just
 * before EOF, PROT_NONE; a WRITE of COW pages shared after fork; a file
 * system without a backing device.
 *
 * Cold pages on the fast disk must read W too (docs/abi.md: a page whose fault
 * read it from storage is W even if the read finished before the probe
 * moved on).  Timing and "under I/O" need the throttled disk, where a 128 KiB
 * readahead takes about 1.6 s (after its burst bucket is drained).
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#define P(n)	((size_t)(n) * gt_page)
#define MIB	(1 << 20)

static struct gupnw *g;

static char *map_file(int fd, off_t off, size_t npages, int prot, int flags)
{
	char *p = mmap(NULL, P(npages), prot, flags, fd, off);

	if (p == MAP_FAILED)
		gt_bail("mmap file at %lld: %s", (long long)off,
			gt_errname(errno));
	return p;
}

/* Open a cold-64m and make it cold; -1 (after SKIPping names) if not. */
static int open_cold(const char *env, const char *dflt, const char **names,
		     size_t nnames)
{
	char path[512];
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "%s/cold-64m", gt_env(env, dflt));
	fd = open(path, O_RDONLY);
	if (fd >= 0 && !gt_make_cold(fd))
		return fd;
	for (i = 0; i < nnames; i++)
		gt_skip(fd < 0 ? "no cold-64m" : "could not make it cold",
			"%s", names[i]);
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * Cold, arriving, cached: one page of a cold file through a shared or a
 * private mapping, from the probe that starts its read to a fresh mapping
 * of the cached page.
 */
static void test_cold_to_cached(int fd, off_t off, int flags,
				const char *kind)
{
	char *p = map_file(fd, off, 4, PROT_READ, flags);
	long r;

	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "CCCC", NULL,
			"file: cold page, %s mapping, is C in NOFAULT", kind);
	gt_expect_probe(g, 0, p, 1, 0, "W", NULL,
			"file: cold page, %s mapping, is W", kind);
	r = gt_wait_resident(p, P(1), 20000);
	gt_ok(r == 1, "file: the read the probe started brings the page in (%s)",
	      kind);
	/* R if the read had finished when the fault took the folio lock (the
	 * fault then mapped it), else F */
	gt_expect_probe(g, 0, p, 1, 0, "r", NULL,
			"file: page that arrived in the cache, %s mapping, is F or R",
			kind);
	gt_expect_probe(g, 0, p, 1, 0, "R", NULL,
			"file: page mapped by the last probe, %s mapping, is R",
			kind);
	munmap(p, P(4));

	/* the page cache is hot now: a fresh mapping of it */
	p = map_file(fd, off, 1, PROT_READ, flags);
	gt_expect_probe(g, 0, p, 1, GUPNW_NOFAULT, "N", NULL,
			"file: cached page, fresh %s mapping, is N in NOFAULT",
			kind);
	gt_expect_probe(g, 0, p, 1, 0, "F", NULL,
			"file: cached page, fresh %s mapping, is F", kind);
	munmap(p, P(1));
}

/* The cold file of the fast disk, or -1 after a SKIP line for name. */
static int open_fast(const char *name)
{
	return open_cold("GUPNW_DATA", "/mnt/data", &name, 1);
}

/* A mapping of the cold file, and where in the file it probes. */
struct cold_map {
	const char *kind;	/* "shared": MAP_SHARED */
	int flags;
	off_t off;
};

static const struct cold_map cold_shared = { "shared", MAP_SHARED, 20 * MIB };
static const struct cold_map cold_private = { "private", MAP_PRIVATE, 24 * MIB };

static const struct gt_variant cold_maps[] = {
	{ "shared", &cold_shared },
	{ "private", &cold_private },
};

static void case_cold(void)
{
	const struct cold_map *v = gt_variant->data;
	char name[96];
	int fd;
	char *p;

	snprintf(name, sizeof(name), "file: cold page, %s mapping, is W",
		 v->kind);
	fd = open_fast(name);
	if (fd < 0)
		return;
	test_cold_to_cached(fd, v->off, v->flags, v->kind);
	if (v->flags & MAP_PRIVATE) {
		/* a private writable mapping of a cached page: WRITE copies it */
		p = map_file(fd, v->off, 1, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE);
		gt_expect_probe(g, 0, p, 1, GUPNW_WRITE, "F", NULL,
				"file: WRITE on a cached page of a private mapping is F (COW)");
		gt_expect_probe(g, 0, p, 1, GUPNW_WRITE, "R", NULL,
				"file: WRITE on the private copy made by the last probe is R");
		munmap(p, P(1));
	}
	close(fd);
}

/* cold, PROT_NONE: refused before anything is read */
static void case_prot_none(void)
{
	int fd = open_fast("file: PROT_NONE file mapping is E");
	char *p;

	if (fd < 0)
		return;
	p = map_file(fd, 28 * MIB, 2, PROT_NONE, MAP_SHARED);
	gt_expect_probe(g, 0, p, 2, 0, "EE", NULL,
			"file: PROT_NONE file mapping is E");
	munmap(p, P(2));
	gt_ok(gt_file_resident(fd, 28 * MIB, P(2)) == 0,
	      "file: the pages of a PROT_NONE mapping were not read");
	close(fd);
}

static char slow_path[512];	/* $GUPNW_SLOW/cold-64m */

/*
 * A page whose read is in flight: the second probe finds it in the page
 * cache, locked, not yet up to date.  The first probe started a 128 KiB
 * readahead that the throttled disk serves in about 1.6 s.
 */
static void test_under_io(int fd)
{
	const char *name = "file: page under I/O (read in flight) is W";
	const off_t off = 24 * MIB;
	unsigned char st[4];
	struct gupnw_counts c;
	long in_cache;
	char *p, *q;
	int ret;

	p = map_file(fd, off, 4, PROT_READ, MAP_SHARED);
	q = map_file(fd, off, 4, PROT_READ, MAP_SHARED);
	gt_drain_throttle(slow_path);
	gt_expect_probe(g, 0, p, 1, 0, "W", NULL,
			"file: cold page on the throttled disk is W");
	/* another mapping, so nothing is mapped: the fault meets the folio */
	ret = gupnw_probe(g, q, P(4), 0, st, &c);
	in_cache = gt_file_resident(fd, off, P(4));
	if (in_cache != 0) {
		gt_skip("the read finished before the second probe",
			"%s", name);
	} else if (!gt_ok(ret == 0 && !memcmp(st, "WWWW", 4) &&
			  gt_counts_tally_ok(&c, st, 4), "%s", name)) {
		gt_diag("ret %d, states %s", ret, gt_states_str(st, 4));
	}
	munmap(q, P(4));
	munmap(p, P(4));
}

/*
 * MADV_RANDOM turns readahead off for the mapping, and the kernel's fault
 * then reads the page synchronously.  A probe must not: it starts the read
 * itself and returns W at once.  A backlog of 64 x 4 KiB queued on the
 * throttled disk first makes any synchronous read take over 3 s.
 */
static void test_madv_random(int fd)
{
	const char *name = "file: cold page of a MADV_RANDOM mapping is W";
	const off_t off = 32 * MIB, backlog = 48 * MIB;
	unsigned char st = 0;
	struct gupnw_counts c;
	uint64_t t0, t_probe;
	long r;
	char *p;
	int ret;

	p = map_file(fd, off, 1, PROT_READ, MAP_SHARED);
	if (madvise(p, P(1), MADV_RANDOM)) {
		gt_skip("MADV_RANDOM failed", "%s", name);
		munmap(p, P(1));
		return;
	}
	gt_drain_throttle(slow_path);
	posix_fadvise(fd, backlog, 256 * 1024, POSIX_FADV_WILLNEED);
	t0 = gt_now_ns();
	ret = gupnw_probe(g, p, P(1), 0, &st, &c);
	t_probe = gt_now_ns() - t0;
	if (!gt_ok(ret == 0 && st == 'W' && c.retry == 1, "%s", name))
		gt_diag("ret %d (%s), state '%c'", ret,
			ret ? gt_errname(errno) : "-", st ? st : '?');
	if (!gt_ok(t_probe < 1000000000ULL,
		   "file: the probe of a MADV_RANDOM page returns at once (< 1 s; a synchronous read takes > 3 s here)"))
		gt_diag("the probe took %.1f ms: it waited for the read",
			gt_ms(t_probe));
	else
		gt_diag("the probe took %.2f ms", gt_ms(t_probe));
	t0 = gt_now_ns();
	r = gt_wait_resident(p, P(1), 30000);
	if (!gt_ok(r == 1,
		   "file: the MADV_RANDOM page arrives without being touched (the probe started its read)"))
		gt_diag("not resident 30 s after the probe");
	else
		gt_diag("resident %.0f ms after the probe",
			gt_ms(gt_now_ns() - t0));
	munmap(p, P(1));
}

/* The cold file of the throttled disk, or -1 after a SKIP line for name. */
static int open_slow(const char *name)
{
	snprintf(slow_path, sizeof(slow_path), "%s/cold-64m",
		 gt_env("GUPNW_SLOW", "/mnt/slow"));
	return open_cold("GUPNW_SLOW", "/mnt/slow", &name, 1);
}

static void case_under_io(void)
{
	int fd = open_slow("file: page under I/O (read in flight) is W");

	if (fd < 0)
		return;
	test_under_io(fd);
	close(fd);
}

static void case_cold_madv_random(void)
{
	int fd = open_slow("file: cold page of a MADV_RANDOM mapping is W");

	if (fd < 0)
		return;
	test_madv_random(fd);
	close(fd);
}

static void test_truncated(void)
{
	char path[512], buf[4096];
	char *s, *pv;
	int fd, i;

	snprintf(path, sizeof(path), "%s/t31-trunc.%d",
		 gt_env("GUPNW_DATA", "/mnt/data"), (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		gt_skip("cannot create a file in $GUPNW_DATA",
			"file: mapping past EOF after ftruncate is E");
		return;
	}
	memset(buf, 0x3c, sizeof(buf));
	for (i = 0; i < 4; i++)
		if (pwrite(fd, buf, sizeof(buf), P(i)) != (ssize_t)sizeof(buf))
			gt_bail("pwrite %s: %s", path, gt_errname(errno));
	s = map_file(fd, 0, 4, PROT_READ | PROT_WRITE, MAP_SHARED);
	pv = map_file(fd, 0, 4, PROT_READ, MAP_PRIVATE);
	/* written through the shared mapping, read through the private one */
	for (i = 0; i < 4; i++)
		s[P(i)] = pv[P(i)] + 1;
	gt_expect_probe(g, 0, s, 4, 0, "RRRR", NULL,
			"file: shared file mapping, touched, is R");
	if (ftruncate(fd, gt_page))
		gt_bail("ftruncate: %s", gt_errname(errno));
	gt_expect_probe(g, 0, s, 4, 0, "REEE", NULL,
			"file: shared mapping past EOF after ftruncate is E");
	gt_expect_probe(g, 0, pv, 4, 0, "REEE", NULL,
			"file: private mapping past EOF after ftruncate is E");
	gt_expect_probe(g, 0, s, 4, GUPNW_WRITE, "REEE", NULL,
			"file: WRITE past EOF after ftruncate is E");
	munmap(s, P(4));
	munmap(pv, P(4));
	close(fd);
	unlink(path);
}

/*
 * A 6144-byte file mapped for 4 pages, cold: the read-ahead of the first
 * pages stops at EOF (page 1 holds the last bytes), the pages past it read
 * E in every mode, and io_started counts the pages inside the file only.
 */
static void test_past_eof_cold(void)
{
	static const char *const names[] = {
		"file: cold pages before EOF then past it, NOFAULT, are CCEE",
		"file: cold pages before EOF then past it, NOWAIT, are WWEE",
		"file: NOWAIT past EOF: io_started counts the 2 pages in the file",
		"file: cold pages before EOF then past it, WAIT, are WWEE",
	};
	struct gupnw_probe_args a;
	unsigned char st[4];
	char path[512], buf[6144];
	size_t i;
	char *p;
	int fd, dev;
	long ret;

	snprintf(path, sizeof(path), "%s/t31-eof.%d",
		 gt_env("GUPNW_DATA", "/mnt/data"), (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			gt_skip("cannot create a file in $GUPNW_DATA", "%s",
				names[i]);
		return;
	}
	memset(buf, 0x5a, sizeof(buf));
	if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		gt_bail("pwrite %s: %s", path, gt_errname(errno));
	p = map_file(fd, 0, 4, PROT_READ, MAP_SHARED);
	if (gt_make_cold(fd))
		gt_bail("could not make %s cold", path);
	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "CCEE", NULL, "%s",
			names[0]);

	gt_args_init(&a, p, P(4), 0, st);
	dev = gt_dev_open();
	if (dev < 0)
		gt_bail("open %s: %s", gt_dev_path(), gt_errname(errno));
	ret = gt_ioctl(dev, GUPNW_IOC_PROBE, &a);
	close(dev);
	if (!gt_ok(ret == 0 && gt_match(st, "WWEE", 4) < 0, "%s", names[1]))
		gt_diag("ret %ld, states %s", ret, gt_states_str(st, 4));
	if (!gt_eq(2, a.io_started, "%s", names[2]))
		gt_diag("states %s", gt_states_str(st, 4));

	munmap(p, P(4));
	p = map_file(fd, 0, 4, PROT_READ, MAP_SHARED);
	if (gt_make_cold(fd))
		gt_bail("could not make %s cold again", path);
	gt_expect_probe(g, 0, p, 4, GUPNW_WAIT, "WWEE", NULL, "%s", names[3]);
	munmap(p, P(4));
	close(fd);
	unlink(path);
}

static void held_child(void *arg, int out)
{
	char c = 1;

	(void)arg;
	gt_write_all(out, &c, 1);
}

/*
 * A WRITE probe of the pages of a private file mapping mapped read-only:
 * COW copies shared with a child after fork, the file's own pages evicted.
 * The write fault copies the page without I/O, whatever the file's cache
 * holds: F (N in NOFAULT), and no read of the file started.
 */
static void test_private_write_after_fork(void)
{
	static const char *const names[] = {
		"file: WRITE of COW pages shared after fork, private mapping, NOFAULT, is N",
		"file: WRITE of COW pages shared after fork, private mapping, is F",
		"file: WRITE of COW pages shared after fork: no read of the file",
		"file: WRITE of the copies made by the last probe is R",
	};
	unsigned char st[4];
	struct gupnw_counts c;
	char path[512], buf[4096];
	int fd, hold, i;
	char *p, ok;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/t31-cow.%d",
		 gt_env("GUPNW_DATA", "/mnt/data"), (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		for (i = 0; i < 4; i++)
			gt_skip("cannot create a file in $GUPNW_DATA", "%s",
				names[i]);
		return;
	}
	unlink(path);
	memset(buf, 0x3c, sizeof(buf));
	for (i = 0; i < 4; i++)
		if (pwrite(fd, buf, sizeof(buf), P(i)) != (ssize_t)sizeof(buf))
			gt_bail("pwrite %s: %s", path, gt_errname(errno));
	p = map_file(fd, 0, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	for (i = 0; i < 4; i++)
		p[P(i)] = (char)i;		/* the COW copies */
	if (gt_make_cold(fd))
		gt_bail("could not make %s cold", path);
	/* the child shares the copies: both map them read-only now */
	pid = gt_fork_held(held_child, NULL, &ok, 1, &hold);
	if (pid < 0)
		gt_bail("fork: %s", gt_errname(errno));
	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT | GUPNW_WRITE, "NNNN", NULL,
			"%s", names[0]);
	if (!gt_ok(gupnw_probe(g, p, P(4), GUPNW_WRITE, st, &c) == 0 &&
		   gt_match(st, "FFFF", 4) < 0, "%s", names[1]))
		gt_diag("states %s", gt_states_str(st, 4));
	gt_eq(0, c.io_started, "%s", names[2]);
	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT | GUPNW_WRITE, "RRRR", NULL,
			"%s", names[3]);
	for (i = 0; i < 4; i++)
		if (p[P(i)] != (char)i)
			break;
	gt_ok(i == 4, "file: the copies keep what was written");
	gt_release(pid, hold);
	munmap(p, P(4));
	close(fd);
}

/*
 * A file system without a backing device (ramfs): POSIX_FADV_WILLNEED does
 * nothing there (6.12 mm/fadvise.c:50-63), so a read the probe "started"
 * would never come.  A hole of a ramfs file is faulted instead (zero-filled;
 * the kernel counts the fault major, so W or F) and no read is counted: the
 * pages are mapped when the probe returns.
 */
static void test_no_backing_device(void)
{
	const char *what = "file: hole of a ramfs file (no backing device): faulted, no read counted";
	char dir[] = "/tmp/t31-ramfs.XXXXXX", path[64];
	unsigned char st[4];
	struct gupnw_counts c;
	char *p;
	int fd;

	if (!mkdtemp(dir) || mount("none", dir, "ramfs", 0, NULL)) {
		gt_skip("cannot mount a ramfs", "%s", what);
		return;
	}
	snprintf(path, sizeof(path), "%s/hole", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, P(4)))
		gt_bail("ramfs file: %s", gt_errname(errno));
	p = map_file(fd, 0, 4, PROT_READ, MAP_SHARED);
	if (!gt_ok(gupnw_probe(g, p, P(4), 0, st, &c) == 0 &&
		   !c.io_started && !c.cold && !c.error, "%s", what))
		gt_diag("states %s, io_started %llu", gt_states_str(st, 4),
			(unsigned long long)c.io_started);
	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "RRRR", NULL,
			"file: the ramfs pages the probe faulted are mapped (R)");
	munmap(p, P(4));
	close(fd);
	umount(dir);
	rmdir(dir);
}

static const struct gt_case cases[] = {
	GT_CASE_VARIANTS("cold", case_cold, cold_maps),
	GT_CASE("prot-none", case_prot_none),
	GT_CASE("under-io", case_under_io),
	GT_CASE("cold-madv-random", case_cold_madv_random),
	GT_CASE("truncated", test_truncated),
	GT_CASE("past-eof-cold", test_past_eof_cold),
	GT_CASE("private-write-after-fork", test_private_write_after_fork),
	GT_CASE("no-backing-device", test_no_backing_device),
};

GT_FILE(cases, .lib = &g);
