// SPDX-License-Identifier: GPL-2.0
/*
 * t41_pid_refusals: who may probe another process.  The right is the
 * kernel's ptrace-attach check, made when /proc/PID/mem is opened: uid 1000
 * is refused another user's process, a non-dumpable process of its own, a
 * set-user-ID program it started, and what Yama's ptrace_scope forbids
 * (1: non-descendants, 2: everyone without CAP_SYS_PTRACE), each with
 * EACCES or EPERM, through gupnw_probe_pid(), gupnw_probe_pidfd() and the
 * CLI.  A /proc/PID/mem descriptor opened by root and inherited by uid 1000
 * works: the open is the check.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TPAGES		4
#define USER_UID	1000
#define NOBODY_UID	65534
#define YAMA		"/proc/sys/kernel/yama/ptrace_scope"

/* A process with pages R R (untouched) PROT_NONE: NOFAULT sees "RRNE". */
struct target {
	pid_t pid;
	uint64_t addr;
	int hold;		/* closing it lets the target exit */
};

enum { T_NONDUMPABLE = 1, T_PTRACER_ANY = 2 };

struct target_opts {
	uid_t uid;
	int opts;
};

/* In the target: become uid, apply the options, map the "RRNE" pages. */
static void target_body(void *arg, int out)
{
	const struct target_opts *o = arg;
	uint64_t addr;

	if (o->uid && gt_become(o->uid, o->uid))
		_exit(1);
	if ((o->opts & T_NONDUMPABLE) && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		_exit(1);
	if ((o->opts & T_PTRACER_ANY) &&
	    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0))
		_exit(1);
	addr = gt_map_rrne();
	if (!addr || gt_write_all(out, &addr, sizeof(addr)))
		_exit(1);
}

/* Start a target as uid (0: unchanged), with T_* options.  0 or -1. */
static int target_start(struct target *t, uid_t uid, int opts)
{
	struct target_opts o = { uid, opts };

	t->pid = gt_fork_held(target_body, &o, &t->addr, sizeof(t->addr),
			      &t->hold);
	return t->pid < 0 ? -1 : 0;
}

static void target_stop(struct target *t)
{
	gt_release(t->pid, t->hold);
}

/* How a prober process reaches its target. */
enum how {
	BY_PID,		/* gupnw_probe_pid() */
	BY_PIDFD,	/* pidfd_open() + gupnw_probe_pidfd() */
	OWN_CHILD,	/* starts its own target, gupnw_probe_pid() */
};

struct result {
	int setup_err;
	int ret, err;
	unsigned char st[TPAGES];
};

static void probe_body(struct gupnw *g, enum how how, const struct target *t,
		       struct result *r)
{
	struct target own;
	int pidfd;

	switch (how) {
	case BY_PID:
		r->ret = gupnw_probe_pid(g, t->pid, t->addr, TPAGES * gt_page,
					 GUPNW_NOFAULT, r->st, NULL);
		r->err = errno;
		break;
	case BY_PIDFD:
		/* anyone may get a pidfd: it grants nothing by itself */
		pidfd = syscall(SYS_pidfd_open, t->pid, 0);
		if (pidfd < 0) {
			r->setup_err = errno;
			break;
		}
		r->ret = gupnw_probe_pidfd(g, pidfd, t->addr,
					   TPAGES * gt_page, GUPNW_NOFAULT,
					   r->st, NULL);
		r->err = errno;
		close(pidfd);
		break;
	case OWN_CHILD:
		if (target_start(&own, 0, 0)) {
			r->setup_err = ECHILD;
			break;
		}
		r->ret = gupnw_probe_pid(g, own.pid, own.addr,
					 TPAGES * gt_page, GUPNW_NOFAULT,
					 r->st, NULL);
		r->err = errno;
		target_stop(&own);
		break;
	}
}

/* Probe t (or an own child) from a new process running as uid (0: root). */
static void probe_as(uid_t uid, enum how how, const struct target *t,
		     struct result *r)
{
	struct gupnw *g;
	int pr[2];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(pr))
		gt_bail("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		gt_bail("fork");
	if (!pid) {
		close(pr[0]);
		r->setup_err = uid ? -gt_become(uid, uid) : 0;
		g = r->setup_err ? NULL : gupnw_open();
		if (!r->setup_err && !g)
			r->setup_err = errno;
		if (g)
			probe_body(g, how, t, r);
		gupnw_close(g);
		gt_write_all(pr[1], r, sizeof(*r));
		_exit(0);
	}
	close(pr[1]);
	if (gt_read_all(pr[0], r, sizeof(*r)))
		r->setup_err = EPIPE;
	close(pr[0]);
	waitpid(pid, NULL, 0);
}

static const char *how_name(enum how how)
{
	return how == BY_PID ? "gupnw_probe_pid" :
	       how == BY_PIDFD ? "gupnw_probe_pidfd" : "gupnw_probe_pid";
}

/* One test line: uid probes t and is refused with EACCES or EPERM. */
static void expect_refused(uid_t uid, enum how how, const struct target *t,
			   const char *what)
{
	struct result r;

	probe_as(uid, how, t, &r);
	if (!gt_ok(!r.setup_err && r.ret == -1 &&
		   (r.err == EACCES || r.err == EPERM),
		   "refuse: uid %d, %s, %s: EACCES/EPERM", (int)uid,
		   how_name(how), what))
		gt_diag("setup %s, ret %d, errno %s",
			r.setup_err ? gt_errname(r.setup_err) : "ok", r.ret,
			r.ret ? gt_errname(r.err) : "-");
	else
		gt_diag("uid %d, %s: refused with %s", (int)uid, what,
			gt_errname(r.err));
}

/* One test line: uid probes t and sees its pages. */
static void expect_allowed(uid_t uid, enum how how, const struct target *t,
			   const char *what)
{
	struct result r;

	probe_as(uid, how, t, &r);
	if (!gt_ok(!r.setup_err && r.ret == 0 &&
		   gt_match(r.st, "RRNE", TPAGES) < 0,
		   "refuse: uid %d, %s, %s: allowed (RRNE)", (int)uid,
		   how_name(how), what))
		gt_diag("setup %s, ret %d (%s), states %s",
			r.setup_err ? gt_errname(r.setup_err) : "ok", r.ret,
			r.ret ? gt_errname(r.err) : "-",
			gt_states_str(r.st, TPAGES));
}

static void test_other_user(void)
{
	const char *cli = gt_env("GUPNW_CLI", "/bin/gupnw");
	char pid[32], addr[32], out[4096], err[4096], *nl;
	char *argv[] = { (char *)cli, "probe", "--no-fault", "--pid", pid,
			 addr, "16K", NULL };
	struct target t;
	int st;

	if (target_start(&t, NOBODY_UID, 0))
		gt_bail("could not start a target as uid %d", NOBODY_UID);
	expect_allowed(0, BY_PID, &t, "process of uid 65534");
	expect_refused(USER_UID, BY_PID, &t, "process of uid 65534");
	expect_refused(USER_UID, BY_PIDFD, &t, "process of uid 65534");

	if (access(cli, X_OK)) {
		gt_skip("no CLI at $GUPNW_CLI or /bin/gupnw",
			"refuse: CLI --pid of another user's process");
	} else {
		snprintf(pid, sizeof(pid), "%d", (int)t.pid);
		snprintf(addr, sizeof(addr), "%#llx",
			 (unsigned long long)t.addr);
		st = gt_run(argv, USER_UID, USER_UID, 30, out, sizeof(out),
			    err, sizeof(err));
		nl = strchr(err, '\n');
		if (!gt_ok(st == 1 && !strncmp(err, "gupnw: ", 7) && nl &&
			   !nl[1] && (strstr(err, strerror(EACCES)) ||
				      strstr(err, strerror(EPERM))),
			   "refuse: CLI --pid of another user's process: exit 1, one 'gupnw:' line naming the errno"))
			gt_diag("exit %d, stdout \"%s\", stderr \"%s\"", st,
				out, err);
	}
	target_stop(&t);
}

static void test_nondumpable(void)
{
	struct target t;

	if (target_start(&t, USER_UID, 0))
		gt_bail("could not start a target as uid %d", USER_UID);
	expect_allowed(USER_UID, BY_PID, &t, "dumpable process of its own");
	target_stop(&t);

	if (target_start(&t, USER_UID, T_NONDUMPABLE))
		gt_bail("could not start a non-dumpable target");
	expect_refused(USER_UID, BY_PID, &t, "non-dumpable process of its own");
	expect_refused(USER_UID, BY_PIDFD, &t,
		       "non-dumpable process of its own");
	expect_allowed(0, BY_PID, &t, "non-dumpable process of uid 1000");
	target_stop(&t);
}

/*
 * A set-user-ID-root program started by uid 1000: its real uid is 1000, but
 * it runs as root and the kernel marks it non-dumpable.  The program is a
 * root-owned 04755 copy of this test, waiting on stdin (--suid-wait).
 */
static void test_setuid(void)
{
	static const char copy[] = "/tmp/t41-suid";
	char buf[65536], exe[256], want[256], status[2048], *uid;
	int in, out, hold[2], n = 0;
	struct target t;
	ssize_t len;

	in = open("/proc/self/exe", O_RDONLY);
	out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	if (in < 0 || out < 0)
		gt_bail("copy to %s: %s", copy, gt_errname(errno));
	while ((len = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, len) != len)
			gt_bail("write %s: %s", copy, gt_errname(errno));
	close(in);
	if (fchown(out, 0, 0) || fchmod(out, 04755) || close(out) ||
	    pipe(hold))
		gt_bail("chmod %s: %s", copy, gt_errname(errno));

	fflush(stdout);
	t.pid = fork();
	if (!t.pid) {
		close(hold[1]);
		dup2(hold[0], 0);
		if (gt_become(USER_UID, USER_UID))
			_exit(126);
		execl(copy, copy, "--suid-wait", (char *)NULL);
		_exit(127);
	}
	close(hold[0]);
	t.hold = hold[1];
	t.addr = 0x10000;		/* refused before any address matters */
	/* wait for the exec: then /proc/PID/exe is the copy */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)t.pid);
	do {
		gt_sleep_ms(10);
		len = readlink(exe, want, sizeof(want) - 1);
		want[len > 0 ? len : 0] = '\0';
	} while (strcmp(want, copy) && ++n < 500);
	snprintf(exe, sizeof(exe), "/proc/%d/status", (int)t.pid);
	gt_read_file(exe, status, sizeof(status));
	uid = strstr(status, "Uid:");
	if (!gt_ok(!strcmp(want, copy) && uid &&
		   !strncmp(uid, "Uid:\t1000\t0\t", 12),
		   "refuse: set-user-ID-root program started by uid 1000 runs (real 1000, effective 0)"))
		gt_diag("exe \"%s\", %.40s", want, uid ? uid : "no Uid: line");
	else
		expect_refused(USER_UID, BY_PID, &t,
			       "set-user-ID-root program it started");
	target_stop(&t);
	unlink(copy);
}

/* A descriptor opened by root keeps root's answer: the open is the check. */
static void test_inherited_fd(void)
{
	unsigned char st[TPAGES];
	struct result r;
	struct target t;
	struct gupnw *g;
	int memfd, pr[2];
	char path[64];
	pid_t pid;

	if (target_start(&t, 0, 0))
		gt_bail("could not start a root target");
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)t.pid);
	memfd = open(path, O_RDONLY);
	if (memfd < 0 || pipe(pr))
		gt_bail("open %s: %s", path, gt_errname(errno));
	fflush(stdout);
	pid = fork();
	if (!pid) {
		struct result rr[3];

		close(pr[0]);
		memset(rr, 0, sizeof(rr));
		rr[0].setup_err = -gt_become(USER_UID, USER_UID);
		g = rr[0].setup_err ? NULL : gupnw_open();
		if (g) {
			rr[0].ret = gupnw_probe_memfd(g, memfd, t.addr,
						      TPAGES * gt_page,
						      GUPNW_NOFAULT, rr[0].st,
						      NULL);
			rr[0].err = errno;
			/* its own open of the same file is refused */
			rr[1].ret = open(path, O_RDONLY);
			rr[1].err = errno;
			/* a read-only descriptor cannot WRITE-probe */
			rr[2].ret = gupnw_probe_memfd(g, memfd, t.addr,
						      TPAGES * gt_page,
						      GUPNW_WRITE, st, NULL);
			rr[2].err = errno;
		}
		gupnw_close(g);
		gt_write_all(pr[1], rr, sizeof(rr));
		_exit(0);
	}
	close(pr[1]);
	{
		struct result rr[3];

		memset(rr, 0, sizeof(rr));
		if (gt_read_all(pr[0], rr, sizeof(rr)))
			rr[0].setup_err = EPIPE;
		r = rr[0];
		if (!gt_ok(!r.setup_err && r.ret == 0 &&
			   gt_match(r.st, "RRNE", TPAGES) < 0,
			   "refuse: uid 1000 probes a root process through a /proc/PID/mem fd root opened"))
			gt_diag("setup %s, ret %d (%s), states %s",
				r.setup_err ? gt_errname(r.setup_err) : "ok",
				r.ret, r.ret ? gt_errname(r.err) : "-",
				gt_states_str(r.st, TPAGES));
		if (!gt_ok(rr[1].ret == -1 &&
			   (rr[1].err == EACCES || rr[1].err == EPERM),
			   "refuse: ... while its own open of that file is refused (EACCES/EPERM)"))
			gt_diag("open: %d (%s)", rr[1].ret,
				gt_errname(rr[1].err));
		if (!gt_ok(rr[2].ret == -1 && rr[2].err == EBADF,
			   "refuse: ... and a WRITE probe through the read-only fd is EBADF"))
			gt_diag("ret %d (%s)", rr[2].ret,
				gt_errname(rr[2].err));
	}
	close(pr[0]);
	waitpid(pid, NULL, 0);
	close(memfd);
	target_stop(&t);
}

static char yama_saved[16];

/* Put back the scope found at the start, even after a bail-out. */
static void yama_restore(void)
{
	if (yama_saved[0])
		gt_write_file(YAMA, yama_saved);
}

static int yama_set(const char *v)
{
	char now[16] = "";

	if (gt_write_file(YAMA, v) || gt_read_file(YAMA, now, sizeof(now)) <= 0 ||
	    now[0] != v[0]) {
		gt_diag("cannot set %s to %s (reads %.1s)", YAMA, v, now);
		return -1;
	}
	return 0;
}

static void test_yama(void)
{
	struct target t, tp;

	if (gt_read_file(YAMA, yama_saved, sizeof(yama_saved)) <= 0 ||
	    yama_saved[0] != '0') {
		const char *why = yama_saved[0] ? "Yama ptrace_scope is not 0 at the start" :
				  "no Yama (no " YAMA ")";

		yama_saved[0] = '\0';
		gt_skip(why, "refuse: Yama ptrace_scope 1 and 2");
		gt_skip(why, "refuse: Yama ptrace_scope 3");
		return;
	}
	yama_saved[1] = '\0';		/* "0", no newline */
	atexit(yama_restore);

	if (target_start(&t, USER_UID, 0) ||
	    target_start(&tp, USER_UID, T_PTRACER_ANY))
		gt_bail("could not start targets as uid %d", USER_UID);
	if (yama_set("1")) {
		gt_ok(0, "refuse: set Yama ptrace_scope 1");
	} else {
		expect_refused(USER_UID, BY_PID, &t,
			       "scope 1, own non-descendant process");
		expect_refused(USER_UID, BY_PIDFD, &t,
			       "scope 1, own non-descendant process");
		expect_allowed(USER_UID, OWN_CHILD, NULL,
			       "scope 1, own child (a descendant)");
		expect_allowed(USER_UID, BY_PID, &tp,
			       "scope 1, non-descendant that set PR_SET_PTRACER_ANY");
		expect_allowed(0, BY_PID, &t, "scope 1, process of uid 1000");
	}
	if (yama_set("2")) {
		gt_ok(0, "refuse: set Yama ptrace_scope 2");
	} else {
		expect_refused(USER_UID, OWN_CHILD, NULL,
			       "scope 2, own child");
		expect_refused(USER_UID, BY_PID, &tp,
			       "scope 2, process that set PR_SET_PTRACER_ANY");
		expect_allowed(0, BY_PID, &t,
			       "scope 2, process of uid 1000 (CAP_SYS_PTRACE)");
	}
	gt_skip("scope 3 cannot be lowered again until reboot, and later tests of this boot need pid mode",
		"refuse: Yama ptrace_scope 3");
	yama_restore();
	gt_ok(!yama_set("0"), "refuse: Yama ptrace_scope restored to 0");
	expect_allowed(USER_UID, BY_PID, &t,
		       "scope 0 again, own non-descendant process");
	/* tp inherited t's hold pipe: it must go first */
	target_stop(&tp);
	target_stop(&t);
}

static const struct gt_case cases[] = {
	GT_CASE("other-user", test_other_user),
	GT_CASE("nondumpable", test_nondumpable),
	GT_CASE("setuid", test_setuid),
	GT_CASE("inherited-fd", test_inherited_fd),
	GT_CASE("yama", test_yama),
};

/* The program run with --suid-wait: a set-uid target that waits on stdin. */
static int helper(int argc, char **argv)
{
	char c;

	if (argc > 1 && !strcmp(argv[1], "--suid-wait")) {
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	return 2;
}

GT_FILE(cases, .helper = helper);
