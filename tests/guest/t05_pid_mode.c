// SPDX-License-Identifier: GPL-2.0
/*
 * t05_pid_mode: probing another process, through the library
 * (gupnw_probe_pid, gupnw_probe_memfd), the raw TARGET_FD ioctl and the CLI;
 * ptrace-attach rights are required; every TARGET_FD error path.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TPAGES	4
#define USER_UID	1000
#define USER_GID	1000

/* A process whose memory is known: pages R R (untouched) PROT_NONE. */
struct target {
	pid_t pid;
	uint64_t addr;
	int hold;		/* closing it lets the target exit */
};

static struct gupnw *g;

static void test_cli(const struct target *t);

/* The target's memory: TPAGES pages that read "RRNE" (gt_map_rrne()). */
static void target_body(void *arg, int out)
{
	uint64_t addr = gt_map_rrne();

	(void)arg;
	if (!addr || gt_write_all(out, &addr, sizeof(addr)))
		_exit(1);
}

/* Start a target; it exits when t->hold is closed.  0 or -1. */
static int target_start(struct target *t)
{
	t->pid = gt_fork_held(target_body, NULL, &t->addr, sizeof(t->addr),
			      &t->hold);
	return t->pid < 0 ? -1 : 0;
}

static void target_stop(struct target *t)
{
	gt_release(t->pid, t->hold);
}

static int open_mem(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* One raw TARGET_FD probe: test name, expected states or NULL, or errno. */
static void raw_target_probe(int dev, int memfd, uint64_t addr,
			     const char *pattern, int expect_err,
			     const char *name)
{
	unsigned char st[TPAGES];
	struct gupnw_probe_args a;
	long ret;

	memset(st, 0, sizeof(st));
	gt_args_init(&a, (void *)(uintptr_t)addr, TPAGES * gt_page,
		     GUPNW_PROBE_NOFAULT | GUPNW_PROBE_TARGET_FD, st);
	a.target_fd = memfd;
	ret = gt_ioctl(dev, GUPNW_IOC_PROBE, &a);
	if (expect_err || ret < 0) {
		gt_err(ret, expect_err, "%s", name);
		return;
	}
	if (!gt_ok(gt_match(st, pattern, TPAGES) < 0 &&
		   gt_args_tally_ok(&a, st, TPAGES) && a.done == TPAGES,
		   "%s", name)) {
		gt_diag("expected %s, got %s, done %llu", pattern,
			gt_states_str(st, TPAGES), (unsigned long long)a.done);
	}
}

static void test_root_probes_child(int dev)
{
	struct target t;
	int memfd;

	if (target_start(&t))
		gt_bail("pid: could not start a target process");
	gt_expect_probe(g, t.pid, (void *)(uintptr_t)t.addr, TPAGES,
			GUPNW_NOFAULT, "RRNE", NULL,
			"pid: gupnw_probe_pid NOFAULT sees the child's pages");
	memfd = open_mem(t.pid);
	if (memfd < 0) {
		gt_ok(0, "pid: open /proc/<child>/mem");
		gt_diag("open: %s", gt_errname(errno));
	} else {
		raw_target_probe(dev, memfd, t.addr, "RRNE", 0,
				 "pid: raw TARGET_FD probe of /proc/<child>/mem");
	}
	gt_expect_probe(g, t.pid, (void *)(uintptr_t)t.addr, TPAGES, 0,
			"RRFE", NULL,
			"pid: gupnw_probe_pid faults the child's untouched page: F");
	if (memfd >= 0) {
		unsigned char st[TPAGES];
		struct gupnw_counts c;
		int ret = gupnw_probe_memfd(g, memfd, t.addr,
					    TPAGES * gt_page, GUPNW_NOFAULT,
					    st, &c);

		if (!gt_ok(ret == 0 && gt_match(st, "RRRE", TPAGES) < 0 &&
			   gt_counts_tally_ok(&c, st, TPAGES),
			   "pid: gupnw_probe_memfd sees the page the probe faulted in"))
			gt_diag("ret %d (%s), states %s, counts %s", ret,
				ret ? gt_errname(errno) : "-",
				gt_states_str(st, TPAGES), gt_counts_str(&c));
		close(memfd);
	}
	target_stop(&t);
}

/* What an unprivileged helper process reports back through a pipe. */
struct user_report {
	int foreign_ret, foreign_err;	/* probe of a root process */
	int own_ret, own_err;		/* probe of its own child */
	unsigned char own_states[TPAGES];
	struct gupnw_counts own_counts;
	int setup_err;
};

static void user_body(pid_t root_pid, uint64_t root_addr, int out)
{
	struct user_report r;
	struct gupnw *ug;
	struct target t;

	memset(&r, 0, sizeof(r));
	r.setup_err = -gt_become(USER_UID, USER_GID);
	ug = r.setup_err ? NULL : gupnw_open();
	if (!ug && !r.setup_err)
		r.setup_err = errno;
	if (ug) {
		r.foreign_ret = gupnw_probe_pid(ug, root_pid, root_addr,
						TPAGES * gt_page, 0, NULL, NULL);
		r.foreign_err = errno;
		if (target_start(&t)) {
			r.setup_err = ESRCH;
		} else {
			r.own_ret = gupnw_probe_pid(ug, t.pid, t.addr,
						    TPAGES * gt_page, 0,
						    r.own_states,
						    &r.own_counts);
			r.own_err = errno;
			target_stop(&t);
		}
		gupnw_close(ug);
	}
	gt_write_all(out, &r, sizeof(r));
	_exit(0);
}

static void test_unprivileged(void)
{
	struct user_report r;
	struct target t;
	char scope[16] = "";
	int restore_scope = 0, pr[2];
	pid_t pid;

	if (gt_read_file("/proc/sys/kernel/yama/ptrace_scope", scope,
			 sizeof(scope)) > 0) {
		gt_diag("yama ptrace_scope %.1s", scope);
		if (scope[0] != '0' &&
		    !gt_write_file("/proc/sys/kernel/yama/ptrace_scope", "0"))
			restore_scope = 1;
	}
	if (target_start(&t))
		gt_bail("pid: could not start a root target");
	if (pipe(pr))
		gt_bail("pipe");
	fflush(stdout);
	pid = fork();
	if (!pid) {
		close(pr[0]);
		user_body(t.pid, t.addr, pr[1]);
	}
	close(pr[1]);
	memset(&r, 0, sizeof(r));
	if (gt_read_all(pr[0], &r, sizeof(r)))
		r.setup_err = EPIPE;
	close(pr[0]);
	waitpid(pid, NULL, 0);

	if (r.setup_err) {
		gt_ok(0, "pid: unprivileged helper set up (uid %d)", USER_UID);
		gt_diag("setup: %s", gt_errname(r.setup_err));
	} else {
		if (!gt_ok(r.foreign_ret == -1 && (r.foreign_err == EACCES ||
						   r.foreign_err == EPERM),
			   "pid: uid %d cannot probe a root process (EACCES/EPERM)",
			   USER_UID))
			gt_diag("expected -1 and EACCES or EPERM, got %d and %s",
				r.foreign_ret, gt_errname(r.foreign_err));
		if (!gt_ok(r.own_ret == 0 &&
			   gt_match(r.own_states, "RRFE", TPAGES) < 0 &&
			   gt_counts_tally_ok(&r.own_counts, r.own_states,
					      TPAGES),
			   "pid: uid %d probes its own child", USER_UID))
			gt_diag("ret %d (%s), states %s (expected RRFE), counts %s",
				r.own_ret, r.own_ret ? gt_errname(r.own_err) : "-",
				gt_states_str(r.own_states, TPAGES),
				gt_counts_str(&r.own_counts));
	}
	test_cli(&t);
	target_stop(&t);
	if (restore_scope)
		gt_write_file("/proc/sys/kernel/yama/ptrace_scope", scope);
}

/* The value of "key" in a one-line JSON object: copies the string or number. */
static int json_value(const char *json, const char *key, char *val,
		      size_t size)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(json, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p == '"')
		p++;
	while (*p && *p != '"' && *p != ',' && *p != '}' && n + 1 < size)
		val[n++] = *p++;
	val[n] = '\0';
	return 0;
}

static int one_line_gupnw(const char *err)
{
	const char *nl = strchr(err, '\n');

	return !strncmp(err, "gupnw: ", 7) && nl && !nl[1];
}

static void test_cli(const struct target *t)
{
	const char *cli = gt_env("GUPNW_CLI", "/bin/gupnw");
	char pid[32], addr[32], out[4096], err[4096], val[64];
	char *argv[] = { (char *)cli, "probe", "--json", "--pid", pid, addr,
			 "16K", NULL };
	int st;

	if (access(cli, X_OK)) {
		gt_skip("no CLI at $GUPNW_CLI or /bin/gupnw",
			"pid: CLI probe --pid of a child exits 0");
		gt_skip("no CLI", "pid: CLI probe --pid of a root process as a user exits 1");
		return;
	}
	snprintf(pid, sizeof(pid), "%d", (int)t->pid);
	snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)t->addr);

	st = gt_run(argv, 0, 0, 30, out, sizeof(out), err, sizeof(err));
	if (!gt_eq(0, st, "pid: CLI probe --pid of a child exits 0"))
		gt_diag("stderr: %s", err);
	if (!gt_ok(!json_value(out, "map", val, sizeof(val)) &&
		   !strcmp(val, "RRFE"),
		   "pid: CLI --pid map agrees with the library (RRFE)"))
		gt_diag("stdout: %s", out);

	st = gt_run(argv, USER_UID, USER_GID, 30, out, sizeof(out), err,
		    sizeof(err));
	if (!gt_eq(1, st, "pid: CLI probe --pid of a root process as a user exits 1"))
		gt_diag("stdout: %s stderr: %s", out, err);
	if (!gt_ok(one_line_gupnw(err),
		   "pid: CLI failure is one 'gupnw: ' line on stderr"))
		gt_diag("stderr: \"%s\"", err);
}

static void test_target_fd_errors(int dev)
{
	char path[512], comm[64] = "";
	struct target t;
	int fd;

	raw_target_probe(dev, -1, 0x10000, NULL, EBADF,
			 "pid: TARGET_FD with fd -1 is EBADF");

	snprintf(path, sizeof(path), "%s/small",
		 gt_env("GUPNW_DATA", "/mnt/data"));
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fd = open("/proc/self/exe", O_RDONLY);
	raw_target_probe(dev, fd, 0x10000, NULL, EINVAL,
			 "pid: TARGET_FD with a regular file is EINVAL");
	close(fd);

	fd = open("/proc/self/maps", O_RDONLY);
	raw_target_probe(dev, fd, 0x10000, NULL, EINVAL,
			 "pid: TARGET_FD with /proc/self/maps is EINVAL");
	close(fd);

	if (target_start(&t))
		gt_bail("pid: could not start a target");
	fd = open_mem(t.pid);
	kill(t.pid, SIGKILL);
	target_stop(&t);
	if (fd < 0) {
		gt_ok(0, "pid: TARGET_FD of an exited process is ESRCH");
		gt_diag("open /proc/%d/mem: %s", (int)t.pid, gt_errname(errno));
	} else {
		raw_target_probe(dev, fd, t.addr, NULL, ESRCH,
				 "pid: TARGET_FD of an exited process is ESRCH");
		close(fd);
	}

	gt_read_file("/proc/2/comm", comm, sizeof(comm));
	fd = open("/proc/2/mem", O_RDONLY);
	if (fd < 0 || strncmp(comm, "kthreadd", 8)) {
		char why[96];

		snprintf(why, sizeof(why), "%s",
			 fd < 0 ? "the kernel refuses to open /proc/2/mem: " :
			 "pid 2 is not kthreadd");
		if (fd < 0)
			strncat(why, gt_errname(errno),
				sizeof(why) - strlen(why) - 1);
		gt_skip(why, "pid: TARGET_FD of a kernel thread is ESRCH or EINVAL");
	} else {
		struct gupnw_probe_args a;

		gt_args_init(&a, (void *)0x10000, 4096,
			     GUPNW_PROBE_NOFAULT | GUPNW_PROBE_TARGET_FD, NULL);
		a.target_fd = fd;
		gt_err2(gt_ioctl(dev, GUPNW_IOC_PROBE, &a), ESRCH, EINVAL,
			"pid: TARGET_FD of a kernel thread is ESRCH or EINVAL");
	}
	if (fd >= 0)
		close(fd);

	/* nothing is mapped below mmap_min_addr */
	fd = open("/proc/self/mem", O_RDONLY);
	raw_target_probe(dev, fd, 0, "....", 0,
			 "pid: TARGET_FD of /proc/self/mem probes this process");
	if (fd >= 0)
		close(fd);
}

static int dev;

static void case_root_probes_child(void)
{
	test_root_probes_child(dev);
}

static void case_target_fd_errors(void)
{
	test_target_fd_errors(dev);
}

static const struct gt_case cases[] = {
	GT_CASE("root-probes-child", case_root_probes_child),
	GT_CASE("unprivileged", test_unprivileged),
	GT_CASE("target-fd-errors", case_target_fd_errors),
};

GT_FILE(cases, .lib = &g, .dev = &dev);
