// SPDX-License-Identifier: GPL-2.0
/*
 * t42_pidfd: gupnw_probe_pidfd() probes the process its pidfd refers to and
 * never another one.  A live child is probed; a zombie and a reaped child
 * are ESRCH; when the child's pid has been given to a newcomer (clone3 with
 * set_tid), probing by pid reaches the newcomer, probing by pidfd is ESRCH
 * and leaves the newcomer untouched - also when the target dies and its pid
 * is reused in the middle of the call, between the library's read of the
 * pid and its open of /proc/PID/mem.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TPAGES	4

/* clone3()'s argument up to set_tid (CLONE_ARGS_SIZE_VER1, Linux 5.5). */
struct gt_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size;
};

/*
 * Children are forks of this process and inherit this region: pages R R
 * (untouched) PROT_NONE at the same address in every one.  A NOWAIT probe
 * of a child would fault its untouched page in ('F'); NOFAULT shows
 * whether anything did ("RRNE" if not).
 */
static char *region;

struct child {
	pid_t pid;
	int hold;		/* closing it lets the child exit */
};

static void child_body(int ready, int hold)
{
	char c = 1;

	region[0] = 1;
	region[gt_page] = 1;
	if (mprotect(region + 3 * gt_page, gt_page, PROT_NONE) ||
	    write(ready, &c, 1) != 1)
		_exit(1);
	while (read(hold, &c, 1) > 0)
		;
	_exit(0);
}

/* fork(), or clone3() with the given pid (0: any).  0 or -errno. */
static int child_start(struct child *ch, pid_t want)
{
	struct gt_clone_args ca;
	int pr[2], ph[2];
	char c;
	long pid;

	if (pipe(pr) || pipe(ph))
		gt_bail("pipe");
	fflush(stdout);
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uintptr_t)&want;
	ca.set_tid_size = 1;
	pid = want ? syscall(SYS_clone3, &ca, sizeof(ca)) : fork();
	if (pid < 0) {
		int err = errno;

		close(pr[0]);
		close(pr[1]);
		close(ph[0]);
		close(ph[1]);
		return -err;
	}
	if (!pid) {
		close(pr[0]);
		close(ph[1]);
		child_body(pr[1], ph[0]);
	}
	close(pr[1]);
	close(ph[0]);
	ch->pid = pid;
	ch->hold = ph[1];
	if (read(pr[0], &c, 1) != 1)
		gt_bail("child %ld did not start", pid);
	close(pr[0]);
	return 0;
}

static void child_stop(struct child *ch)
{
	close(ch->hold);
	waitpid(ch->pid, NULL, 0);
}

/* Kill and reap: its pid is free for the next process. */
static void child_reap(struct child *ch)
{
	kill(ch->pid, SIGKILL);
	close(ch->hold);
	waitpid(ch->pid, NULL, 0);
}

static int pidfd_of(pid_t pid)
{
	int fd = syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		gt_bail("pidfd_open(%d): %s", (int)pid, gt_errname(errno));
	return fd;
}

static struct gupnw *g;

/* One test line: a pidfd probe fails with err. */
static void expect_pidfd_err(int pidfd, unsigned int flags, int err,
			     const char *what)
{
	unsigned char st[TPAGES];
	int ret;

	errno = 0;
	ret = gupnw_probe_pidfd(g, pidfd, (uintptr_t)region,
				TPAGES * gt_page, flags, st, NULL);
	if (!gt_ok(ret == -1 && errno == err, "pidfd: %s: %s", what,
		   gt_errname(err)))
		gt_diag("ret %d, errno %s", ret, ret ? gt_errname(errno) : "-");
}

/* One test line: a NOFAULT probe through pidfd sees pattern. */
static void expect_pidfd_states(int pidfd, unsigned int flags,
				const char *pattern, const char *what)
{
	unsigned char st[TPAGES];
	struct gupnw_counts c;
	int ret;

	memset(st, 0, sizeof(st));
	ret = gupnw_probe_pidfd(g, pidfd, (uintptr_t)region,
				TPAGES * gt_page, flags, st, &c);
	if (!gt_ok(ret == 0 && gt_match(st, pattern, TPAGES) < 0 &&
		   gt_counts_tally_ok(&c, st, TPAGES),
		   "pidfd: %s: %s", what, pattern))
		gt_diag("ret %d (%s), states %s", ret,
			ret ? gt_errname(errno) : "-",
			gt_states_str(st, TPAGES));
}

static void test_live_zombie_reaped(void)
{
	struct child ch;
	siginfo_t si;
	int pidfd;

	if (child_start(&ch, 0))
		gt_bail("fork");
	pidfd = pidfd_of(ch.pid);
	expect_pidfd_states(pidfd, GUPNW_NOFAULT, "RRNE",
			    "live child, NOFAULT");
	expect_pidfd_states(pidfd, 0, "RRFE", "live child, NOWAIT");
	/* WRITE opens /proc/PID/mem read-write: the zero page is COW'd */
	expect_pidfd_states(pidfd, GUPNW_WRITE, "RRFE", "live child, WRITE");

	/* exited, not yet reaped: its pid is still its own, its mm gone */
	close(ch.hold);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, ch.pid, &si, WEXITED | WNOWAIT))
		gt_bail("waitid: %s", gt_errname(errno));
	expect_pidfd_err(pidfd, GUPNW_NOFAULT, ESRCH, "zombie child");

	waitpid(ch.pid, NULL, 0);
	expect_pidfd_err(pidfd, GUPNW_NOFAULT, ESRCH, "reaped child");
	close(pidfd);

	expect_pidfd_err(-1, 0, EBADF, "fd -1");
	pidfd = open("/dev/null", O_RDONLY);
	expect_pidfd_err(pidfd, 0, EINVAL, "not a pidfd (/dev/null)");
	close(pidfd);
	expect_pidfd_err(pidfd, 0, EBADF, "closed fd");
}

/* Root's NOFAULT look at a child: did anybody fault its third page in? */
static void expect_untouched(const struct child *ch, const char *what)
{
	int pidfd = pidfd_of(ch->pid);

	expect_pidfd_states(pidfd, GUPNW_NOFAULT, "RRNE", what);
	close(pidfd);
}

static void test_recycled(void)
{
	struct child a, b;
	int pidfd, err;

	if (child_start(&a, 0))
		gt_bail("fork");
	pidfd = pidfd_of(a.pid);
	child_reap(&a);
	err = -child_start(&b, a.pid);
	if (err) {
		char why[96];

		snprintf(why, sizeof(why), "clone3 with set_tid %d: %s",
			 (int)a.pid, gt_errname(err));
		gt_skip(why, "pidfd: recycled pid");
		close(pidfd);
		return;
	}
	/* the hazard: the pid now names the newcomer */
	gt_expect_probe(g, a.pid, region, TPAGES, GUPNW_NOFAULT, "RRNE", NULL,
			"pidfd: recycled pid: gupnw_probe_pid reaches the newcomer");
	expect_pidfd_err(pidfd, 0, ESRCH,
			 "recycled pid: the old pidfd's NOWAIT probe");
	expect_untouched(&b, "recycled pid: the newcomer was not probed");
	child_stop(&b);
	close(pidfd);
}

/*
 * The library opens /proc/PID/mem with open(); this definition takes
 * precedence over libc's, so that the target can die and its pid be reused
 * right before that open, inside gupnw_probe_pidfd().
 */
static struct child *race_victim, race_newcomer;
static int race_err = -1;

int open(const char *path, int flags, ...)
{
	char want[64];
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (race_victim) {
		snprintf(want, sizeof(want), "/proc/%d/mem",
			 (int)race_victim->pid);
		if (!strcmp(path, want)) {
			child_reap(race_victim);
			race_err = -child_start(&race_newcomer,
						race_victim->pid);
			race_victim = NULL;
		}
	}
	return syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

static void test_race(void)
{
	struct child a;
	int pidfd;

	if (child_start(&a, 0))
		gt_bail("fork");
	pidfd = pidfd_of(a.pid);
	race_victim = &a;
	expect_pidfd_err(pidfd, 0, ESRCH,
			 "target reaped and pid reused during the call");
	race_victim = NULL;
	if (race_err) {
		gt_ok(0, "pidfd: the pid was reused at the open of /proc/PID/mem");
		gt_diag("%s", race_err < 0 ? "the open was not reached" :
			gt_errname(race_err));
	} else {
		gt_ok(race_newcomer.pid == a.pid,
		      "pidfd: the pid was reused at the open of /proc/PID/mem");
		expect_untouched(&race_newcomer,
				 "pid reused during the call: the newcomer was not probed");
		child_stop(&race_newcomer);
	}
	close(pidfd);
}

/* The region the targets inherit, mapped by each case's own process. */
static void setup(void)
{
	region = mmap(NULL, TPAGES * gt_page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		gt_bail("mmap");
	madvise(region, TPAGES * gt_page, MADV_NOHUGEPAGE);
}

static const struct gt_case cases[] = {
	GT_CASE("live-zombie-reaped", test_live_zombie_reaped),
	GT_CASE("recycled", test_recycled),
	GT_CASE("race", test_race),
};

GT_FILE(cases, .lib = &g, .setup = setup);
