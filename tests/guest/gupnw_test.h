// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw_test.h - shared helpers of the in-guest tests (tests/guest/t*.c).
 *
 * A test file is a table of cases, registered with GT_FILE() and run by the
 * one main() of gupnw_test.c, as kselftest_harness.h's TEST_HARNESS_MAIN
 * runs a file's TEST()s:
 *
 *   static const struct gt_case cases[] = {
 *           GT_CASE("cold-madv-random", case_cold_madv_random),
 *           GT_CASE_VARIANTS("untouched", case_untouched, kinds),
 *   };
 *   GT_FILE(cases, .lib = &g, .setup = enter_memcg);
 *
 * Each case runs in a forked child of its own under a time limit, so a
 * crash, a gt_bail() or a hang fails that case and the next one still runs.
 * A case with variants (struct gt_variant, kselftest's FIXTURE_VARIANT: one
 * behaviour over the kinds of memory it applies to, as mm/cow.c does) runs
 * once per variant, named "untouched.private"; the body reads gt_variant.
 *
 * Output is TAP (tests/README.md), the plan first: one result line per case,
 * its checks as "#" lines between its "# RUN" line and its result, and the
 * file's check count last:
 *   1..2
 *   # RUN t31:cold.shared
 *   # ok 1 t31:cold.shared - file: cold page, shared mapping, is C ...
 *   # not ok 2 t31:cold.shared - file: cold page, shared mapping, is W
 *   # expected W, got R
 *   not ok 1 t31:cold.shared
 *   # RUN t31:cold-madv-random
 *   # ok 1 t31:cold-madv-random # SKIP no cold-64m
 *   ok 2 t31:cold-madv-random # SKIP no cold-64m
 *   # checks: 1 passed, 1 failed, 1 skipped
 * A case fails if a check of it fails, or it crashes, bails, times out or
 * exits non-zero; it is a SKIP if it skipped (GT_SKIP) or every check of it
 * did.  A file that skips or bails as a whole before its cases (in its
 * .before) prints its checks, then the plan "1..1" and one result for the
 * file: "ok 1 t60 # SKIP why" or "not ok 1 t05".  The program
 * exits non-zero when a case or a check failed.  GUPNW_TESTS
 * (tests/README.md) selects files and cases by name: "t31" or "t31*" a
 * whole file, "t31:cold-*" some of its cases, "t30:*.shared" a variant.
 */
#ifndef GUPNW_TEST_H
#define GUPNW_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/gupnw.h>
#ifndef GT_NO_LIB
#include <gupnw.h>
#endif

#define GT_PRINTF(a, b) __attribute__((format(printf, a, b)))

extern long gt_page;			/* page size, set by gt_init() */

/* --- cases --- */
/* One kind of memory (or other setting) a case with variants runs over. */
struct gt_variant {
	const char *name;	/* "shared": lower case, dashes */
	const void *data;	/* what the body needs to know of it */
};
struct gt_case {
	const char *name;	/* "cold-madv-random": lower case, dashes */
	void (*fn)(void);	/* sets up what it needs, checks, cleans up */
	unsigned int timeout_s;	/* 0: GT_CASE_TIMEOUT */
	void (*setup)(void);	/* NULL: gt_main_setup()'s, if any */
	const struct gt_variant *variants;	/* run once per variant */
	size_t nvariants;
};
/* The running case's variant (NULL in a case without variants). */
extern const struct gt_variant *gt_variant;
/* s; five times that on the debug kernel; $GUPNW_CASE_TIMEOUT overrides both */
#define GT_CASE_TIMEOUT 120
/* A table row: GT_CASE("cold-madv-random", case_cold_madv_random). */
#define GT_CASE(n, f) { .name = (n), .fn = (f) }
/* The same with its own time limit in seconds. */
#define GT_CASE_TIMED(n, f, s) { .name = (n), .fn = (f), .timeout_s = (s) }
/* The same with a setup of its own, called first in the case's process. */
#define GT_CASE_FIXTURE(n, f, s) { .name = (n), .fn = (f), .setup = (s) }
/* A case run once per row of vtable, a struct gt_variant array. */
#define GT_CASE_VARIANTS(n, f, vtable) { .name = (n), .fn = (f), \
	.variants = (vtable), .nvariants = GT_ARRAY_SIZE(vtable) }
#define GT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* The table and its length, for gt_main(). */
#define GT_CASES(table) (table), GT_ARRAY_SIZE(table)

/*
 * A test file: its cases and what runs around them.  Every hook is
 * optional.  gupnw_test.c's main() runs helper() if the program has
 * arguments (a file that runs itself as a helper process, t41), else
 * gt_init(), opens *lib and *dev, before() (returning non-zero ends the
 * program there: it skipped or bailed as a whole), the cases (setup()
 * first in each case's process), then after(), whose result is or'ed into
 * the exit status.
 */
struct gt_file {
	const struct gt_case *cases;
	size_t n;
#ifndef GT_NO_LIB
	/* opened with gupnw_open() before before() (bails if it cannot be),
	 * closed after after(): the library handle the cases share */
	struct gupnw **lib;
#endif
	int *dev;	/* the same for the raw device (gt_dev_open()) */
	void (*setup)(void);
	int (*before)(void);
	int (*after)(void);
	int (*helper)(int argc, char **argv);
};
void gt_register(const struct gt_file *f);
/* GT_FILE(cases, .before = open_device, ...): register this file's table. */
#define GT_FILE(table, ...)						\
	static const struct gt_file gt_file_ = {			\
		.cases = (table), .n = GT_ARRAY_SIZE(table), __VA_ARGS__ \
	};								\
	__attribute__((constructor)) static void gt_file_register(void) \
	{								\
		gt_register(&gt_file_);					\
	}
/*
 * Print the plan, then run the selected cases of the table in order, each
 * in a child of its own (see above): what main() does with GT_FILE()'s.
 * Returns the exit status: 1 if any check failed or any case died, timed
 * out or exited non-zero.  Calls gt_init() if it has not been called.
 */
int gt_main(const struct gt_case *cases, size_t n);
/*
 * The same, with setup() called at the start of every case, in the case's
 * own process (the fixture: what each case needs fresh, such as memory in a
 * known state).  It may gt_bail() to fail the case.
 */
int gt_main_setup(const struct gt_case *cases, size_t n, void (*setup)(void));
/*
 * A case ends with exit(): atexit() handlers it registers run then, and so
 * would any the parent registered before gt_main() - register those after.
 */
/* Does GUPNW_TESTS select case_name (NULL: any case) of this program? */
int gt_selected(const char *case_name);
/* "t31" for t31_states_file: the program's number, its name in TAP lines. */
const char *gt_file_id(void);
/*
 * Skip the rest of the running case: a skipped check, and the case's result
 * "ok N t01:case # SKIP why" unless a check failed before.  Outside a case
 * it prints the line and returns.
 */
void gt_case_skip(const char *fmt, ...) GT_PRINTF(1, 2);
/* In a case function: skip, and return when not in a forked case. */
#define GT_SKIP(...) do { gt_case_skip(__VA_ARGS__); return; } while (0)

/* --- TAP --- */
void gt_init(void);		/* call first (and in a forked child that
				 * reports on its own): stdout line-buffered,
				 * no failures counted yet */
/* Exit status, 1 if a check of this process failed; in a program that ran
 * no case, the first call in the process that called gt_init() first
 * prints the plan, the file's one result and the check count. */
int gt_exit(void);
void gt_diag(const char *fmt, ...) GT_PRINTF(1, 2);
/* A check: "# ok N tNN:case - name" or "# not ok ..."; returns cond (0/1). */
int gt_ok(int cond, const char *fmt, ...) GT_PRINTF(2, 3);
void gt_skip(const char *why, const char *fmt, ...) GT_PRINTF(2, 3);
/* ok if got == expect; on failure a "# expected ..., got ..." line. */
int gt_eq(uint64_t expect, uint64_t got, const char *fmt, ...)
	GT_PRINTF(3, 4);
/*
 * ret is what gt_ioctl() (or any call returning -errno) gave: ok if it is
 * -expect_errno.  expect_errno 0 means success is expected.
 */
int gt_err(long ret, int expect_errno, const char *fmt, ...) GT_PRINTF(3, 4);
/* ok if ret is -e1 or -e2. */
int gt_err2(long ret, int e1, int e2, const char *fmt, ...) GT_PRINTF(4, 5);
const char *gt_errname(int err);	/* "EINVAL", ... ("E?" if unknown) */
void gt_bail(const char *fmt, ...) GT_PRINTF(1, 2) __attribute__((noreturn));

/* --- the device, raw --- */
const char *gt_dev_path(void);		/* $GUPNW_DEVICE or /dev/gupnw */
int gt_dev_open(void);			/* O_RDWR fd, or -1 and errno */
/* ioctl(): its result when >= 0, else -errno. */
long gt_ioctl(int fd, unsigned long cmd, void *arg);
void gt_args_init(struct gupnw_probe_args *a, const void *addr, uint64_t len,
		  uint32_t flags, void *states);

/* --- states --- */
struct gt_tally {
	uint64_t r, f, w, u, e, n, other;
	uint64_t c;	/* 'C' */
};
void gt_tally(const unsigned char *s, size_t n, struct gt_tally *t);
/* A readable form for diagnostics: runs are compressed ("R*512 E*3"). */
const char *gt_states_str(const unsigned char *s, size_t n);
/*
 * Match states against a pattern of n characters: a state letter matches
 * itself, '?' anything, 'r' R or F (present now, reached without I/O), 'n' N or C
 * (in memory by mincore, but maybe in the swap cache a module cannot look in).
 * Returns -1 on a match, else the index of the first mismatch.
 */
long gt_match(const unsigned char *s, const char *pattern, size_t n);
/* Do the counts of the raw args agree with the tally of states? */
int gt_args_tally_ok(const struct gupnw_probe_args *a,
		     const unsigned char *s, size_t n);

#ifndef GT_NO_LIB
int gt_counts_tally_ok(const struct gupnw_counts *c,
		       const unsigned char *s, size_t n);
const char *gt_counts_str(const struct gupnw_counts *c);
/*
 * One test line: probe npages at addr (pid 0: this process) with the
 * library, expect success, states matching pattern (see gt_match) and
 * counts equal to the tally of the states.  out (may be NULL) receives the
 * states.  Returns 1 when the test passed.
 */
int gt_expect_probe(struct gupnw *g, pid_t pid, const void *addr,
		    size_t npages, unsigned int flags, const char *pattern,
		    unsigned char *out, const char *fmt, ...) GT_PRINTF(8, 9);
#endif

/*
 * npages of anonymous memory (flags: MAP_PRIVATE or MAP_SHARED) without
 * THP, so every page faults, swaps and is probed on its own; bails on
 * failure.
 */
char *gt_map_anon(size_t npages, int prot, int flags);
/* A NUL-terminated string of n times c (malloc'd; bails on failure). */
char *gt_repeat(char c, size_t n);

/* --- page cache, mincore --- */
/* Resident pages of [addr, addr + len) by mincore(), -1 on error. */
long gt_resident(const void *addr, size_t len);
int gt_page_resident(const void *addr);	/* 1, 0, or -1 */
/* Resident page-cache pages of [off, off + len) of fd (len 0: to EOF). */
long gt_file_resident(int fd, off_t off, size_t len);
int gt_drop_caches(void);		/* echo 3 > /proc/sys/vm/drop_caches */
/*
 * Make every page of fd cold: fsync, POSIX_FADV_DONTNEED, drop_caches, and
 * verify with mincore() that none is resident (retrying for up to 30 s,
 * while I/O started earlier on a throttled disk finishes).  0 or -1.
 */
int gt_make_cold(int fd);
/*
 * Drain the burst bucket of a throttled disk (docs/testing.md): one 128 KiB
 * read that must reach the disk, from the last 128 KiB of path (tests keep
 * away from the last MiB).  Returns the time it took in ns, or -1.
 */
int64_t gt_drain_throttle(const char *path);

/* --- time --- */
uint64_t gt_now_ns(void);			/* CLOCK_MONOTONIC */
double gt_ms(uint64_t ns);
void gt_sleep_ms(unsigned int ms);

/* --- processes and files --- */
const char *gt_env(const char *name, const char *dflt);
int gt_write_file(const char *path, const char *s);	/* 0 or -errno */
/* Read a small file into buf (NUL-terminated); bytes read or -errno. */
long gt_read_file(const char *path, char *buf, size_t size);
long gt_status_kb(const char *key);	/* /proc/self/status "key:" in kB */
/* The calling thread's /proc/thread-self/status "key:" (a number), or -1. */
long gt_thread_status(const char *key);
long gt_majflt(void);			/* /proc/self/stat field 12 */
/* setgroups(0), setgid, setuid, then PR_SET_DUMPABLE 1. 0 or -errno. */
int gt_become(uid_t uid, gid_t gid);
/* gupnw in /proc/modules: 1 loaded, 0 not, -1 unreadable. */
int gt_module_loaded(void);
/*
 * Unload gupnw (delete_module, O_NONBLOCK), retrying for 5 s while an fd of
 * a child or an earlier test is still closing.  0 (also: not loaded) or -1.
 */
int gt_module_unload(void);
/*
 * Run argv, wait (timeout_s seconds at most, then SIGKILL) and capture
 * stdout/stderr (NUL-terminated, truncated to the sizes).  Returns the exit
 * status, 128 + signal, or -1 if it could not run.  If uid != 0 the child
 * drops to uid/gid first.
 */
int gt_run(char *const argv[], uid_t uid, gid_t gid, unsigned int timeout_s,
	   char *out, size_t outsz, char *err, size_t errsz);
/* Write/read exactly len bytes (for result pipes). 0 or -1. */
int gt_write_all(int fd, const void *buf, size_t len);
int gt_read_all(int fd, void *buf, size_t len);
/*
 * Fork a child that runs body(arg, out) and writes its result to out with
 * gt_write_all(); it exits 0 when body returns (body may _exit itself).
 * The parent reads exactly size bytes into result (zeroed first), waiting
 * at most timeout_ms (0: no limit), then kills the child if it is still
 * there and reaps it; *status (may be NULL) gets its wait status.
 * Returns 0 when the whole result arrived, else -1.
 */
int gt_fork_result(void (*body)(void *arg, int out), void *arg, void *result,
		   size_t size, unsigned int timeout_ms, int *status);
/*
 * Fork a target that stays alive until released: the child runs
 * body(arg, out), which writes size bytes the parent waits for (an address,
 * say) into result, then waits until gt_release() closes *hold, and exits.
 * Returns the child's pid, or -1 (nothing left running).
 */
pid_t gt_fork_held(void (*body)(void *arg, int out), void *arg, void *result,
		   size_t size, int *hold);
/* Let a gt_fork_held() child exit, and reap it. */
void gt_release(pid_t pid, int hold);
/*
 * Map 4 pages of private anonymous memory (no THP) that a NOFAULT probe
 * reads as "RRNE": pages 0 and 1 touched, 2 untouched, 3 PROT_NONE - the
 * target of the tests that probe another process.  Its address, or 0.
 */
uint64_t gt_map_rrne(void);
/* Highest user address + 1 of this machine (47-bit or 56-bit paging). */
uint64_t gt_user_top(void);

#endif /* GUPNW_TEST_H */
