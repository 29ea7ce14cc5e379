// SPDX-License-Identifier: GPL-2.0
/*
 * t47_pid_mode_no_proc: pid mode (GUPNW_FEATURE_TARGET_FD) trusts only what
 * the module learnt of /proc/PID/mem at load, from procfs.  Loaded where
 * /proc is not mounted, it keeps pid mode off, says so once in the kernel
 * log, and no later call switches it on: not root's from the init
 * namespaces, nor uid 1000's from a user and mount namespace of its own with
 * a tmpfs on /proc and a FIFO (held open for writing) at /proc/self/mem -
 * where a lookup made for the caller would take the FIFO's f_op for
 * /proc/PID/mem's and then any pipe for an mm.  Probes with TARGET_FD fail
 * with EOPNOTSUPP.  The last case reloads the module normally: pid mode is
 * back.  The module is reloaded normally at the end whatever happened.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define USER_UID	1000
#define LOG_LINE	"probing other processes off"

static const char *ko;

/* Load the module in this process's namespaces; wait for the device. */
static int module_load_here(void)
{
	int fd, ret, i;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	for (i = 0; i < 100; i++) {
		if (!access(gt_dev_path(), F_OK))
			return 0;
		gt_sleep_ms(50);
	}
	return -ENODEV;
}

/* In a child: a mount namespace of its own without /proc, then load. */
static void load_no_proc_body(void *arg, int out)
{
	int ret;

	(void)arg;
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    umount2("/proc", MNT_DETACH))
		ret = -errno;
	else if (!access("/proc/self/mem", F_OK))
		ret = -EEXIST;
	else
		ret = module_load_here();
	gt_write_all(out, &ret, sizeof(ret));
}

static int module_load_no_proc(void)
{
	int ret = -EPIPE;

	if (gt_fork_result(load_no_proc_body, NULL, &ret, sizeof(ret), 60000,
			   NULL))
		return -EPIPE;
	return ret;
}

/* Whatever the module's state, a normally loaded one (pid mode on). */
static int module_reload_normally(void)
{
	if (gt_module_loaded() == 1 && gt_module_unload())
		return -EBUSY;
	return module_load_here();
}

/* GET_INFO's features, or 0 with errno. */
static uint64_t features(int d)
{
	struct gupnw_info info;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (gt_ioctl(d, GUPNW_IOC_GET_INFO, &info) < 0)
		return 0;
	return info.features;
}

/* A NOFAULT TARGET_FD probe of one page through target_fd: 0 or -errno. */
static long probe_fd(int d, int target_fd)
{
	static void *page;
	struct gupnw_probe_args a;
	unsigned char st[1];

	if (!page) {
		page = mmap(NULL, gt_page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED) {
			page = NULL;
			return -errno;
		}
	}
	gt_args_init(&a, page, gt_page, GUPNW_PROBE_NOFAULT |
		     GUPNW_PROBE_TARGET_FD, st);
	a.target_fd = target_fd;
	return gt_ioctl(d, GUPNW_IOC_PROBE, &a);
}

/* Lines of the kernel log holding LOG_LINE, or -1. */
static int log_count(void)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *p;
	int n = 0, len;

	if (size <= 0)
		return -1;
	buf = malloc(size + 1);
	if (!buf)
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (len < 0) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, LOG_LINE)); p++)
		n++;
	free(buf);
	return n;
}

/* What the cases share: the log count before the load without /proc. */
struct shared {
	int loaded_no_proc;
	int log_before;
};
static struct shared *sh;

static void case_load_without_proc(void)
{
	int ret;

	sh->log_before = log_count();
	if (gt_module_loaded() == 1 && gt_module_unload())
		gt_bail("rmmod gupnw: %s", gt_errname(errno));
	ret = module_load_no_proc();
	if (!gt_ok(!ret, "no-proc: the module loads where /proc is not mounted"))
		gt_diag("%s", gt_errname(-ret));
	sh->loaded_no_proc = !ret;
}

static void need_no_proc_module(void)
{
	if (!sh->loaded_no_proc)
		GT_SKIP("needs the load-without-proc case's module");
}

static void case_root_sees_it_off(void)
{
	uint64_t f;
	int d, mem;

	need_no_proc_module();
	d = gt_dev_open();
	if (d < 0)
		gt_bail("open %s: %s", gt_dev_path(), gt_errname(errno));
	f = features(d);
	gt_ok(f & GUPNW_FEATURE_PROBE,
	      "no-proc: GET_INFO works (features %#llx)",
	      (unsigned long long)f);
	gt_ok(!(f & GUPNW_FEATURE_TARGET_FD),
	      "no-proc: GET_INFO says TARGET_FD off");
	mem = open("/proc/self/mem", O_RDONLY);
	if (mem < 0)
		gt_bail("open /proc/self/mem: %s", gt_errname(errno));
	gt_err(probe_fd(d, mem), EOPNOTSUPP,
	       "no-proc: root's probe with a /proc/self/mem opened later fails");
	gt_ok(!(features(d) & GUPNW_FEATURE_TARGET_FD),
	      "no-proc: TARGET_FD still off after root's /proc is there");
	close(mem);
	close(d);
}

/* What uid 1000 found in its namespaces. */
struct user_report {
	int setup_err;		/* errno of the namespace set-up, or 0 */
	const char *setup_what;
	int info_err;
	uint64_t feat_before, feat_after;
	long pipe_ret, fifo_ret;
	int probed;		/* 0: TARGET_FD came on, not probed */
};

static void user_fail(struct user_report *r, const char *what, int out)
{
	r->setup_err = errno;
	r->setup_what = what;
	gt_write_all(out, r, sizeof(*r));
	_exit(0);
}

/* The holder: keep the FIFO open for writing until the prober is done. */
static pid_t hold_fifo(const char *path)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		/* O_RDWR: a FIFO open that does not wait for a reader */
		int fd = open(path, O_RDWR);

		close(ready[0]);
		if (fd < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(ready[0]);
	return pid;
}

static void user_body(void *arg, int out)
{
	struct user_report r;
	char map[64];
	int d, pfd[2], fifo;
	pid_t holder;

	(void)arg;
	memset(&r, 0, sizeof(r));
	if (gt_become(USER_UID, USER_UID))
		user_fail(&r, "become uid 1000", out);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
		user_fail(&r, "unshare(CLONE_NEWUSER | CLONE_NEWNS)", out);
	snprintf(map, sizeof(map), "0 %d 1", USER_UID);
	if (gt_write_file("/proc/self/setgroups", "deny") ||
	    gt_write_file("/proc/self/uid_map", map) ||
	    gt_write_file("/proc/self/gid_map", map))
		user_fail(&r, "write the id maps", out);
	if (mount("none", "/proc", "tmpfs", 0, "mode=0755"))
		user_fail(&r, "mount a tmpfs on /proc", out);
	if (mkdir("/proc/self", 0755) || mkfifo("/proc/self/mem", 0666))
		user_fail(&r, "mkfifo /proc/self/mem", out);
	holder = hold_fifo("/proc/self/mem");
	if (holder < 0)
		user_fail(&r, "hold the FIFO open for writing", out);

	d = gt_dev_open();
	if (d < 0) {
		kill(holder, SIGKILL);
		user_fail(&r, "open /dev/gupnw", out);
	}
	r.feat_before = features(d);
	r.info_err = r.feat_before ? 0 : errno;
	/* turned on, a pipe would pass for an mm: do not try */
	if (!(r.feat_before & GUPNW_FEATURE_TARGET_FD)) {
		r.probed = 1;
		r.pipe_ret = -EBADF;
		if (!pipe(pfd)) {
			r.pipe_ret = probe_fd(d, pfd[0]);
			close(pfd[0]);
			close(pfd[1]);
		}
		fifo = open("/proc/self/mem", O_RDONLY | O_NONBLOCK);
		r.fifo_ret = fifo < 0 ? -errno : probe_fd(d, fifo);
		if (fifo >= 0)
			close(fifo);
	}
	r.feat_after = features(d);
	close(d);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	gt_write_all(out, &r, sizeof(r));
}

static void case_user_namespace_fifo(void)
{
	struct user_report r;

	need_no_proc_module();
	if (gt_fork_result(user_body, NULL, &r, sizeof(r), 60000, NULL))
		gt_bail("the uid %d child sent no report", USER_UID);
	if (r.setup_err == EPERM || r.setup_err == EINVAL ||
	    r.setup_err == ENOSPC || r.setup_err == EUSERS)
		GT_SKIP("uid 1000 cannot %s: %s", r.setup_what,
			gt_errname(r.setup_err));
	if (!gt_ok(!r.setup_err,
		   "no-proc: uid 1000 sets up its namespaces, a tmpfs /proc and a FIFO at /proc/self/mem"))
		gt_diag("%s: %s", r.setup_what, gt_errname(r.setup_err));
	if (r.setup_err)
		return;
	if (!gt_ok(!r.info_err && !(r.feat_before & GUPNW_FEATURE_TARGET_FD),
		   "no-proc: uid 1000's GET_INFO in its namespaces keeps TARGET_FD off"))
		gt_diag("GET_INFO %s, features %#llx", gt_errname(r.info_err),
			(unsigned long long)r.feat_before);
	if (!r.probed) {
		gt_ok(0, "no-proc: uid 1000's TARGET_FD probes # not tried: pid mode came on, a pipe would be taken for an mm");
		return;
	}
	gt_err(r.pipe_ret, EOPNOTSUPP,
	       "no-proc: uid 1000's TARGET_FD probe through a pipe fails");
	gt_err(r.fifo_ret, EOPNOTSUPP,
	       "no-proc: uid 1000's TARGET_FD probe through the FIFO fails");
	gt_ok(!(r.feat_after & GUPNW_FEATURE_TARGET_FD),
	      "no-proc: TARGET_FD still off after uid 1000's probes");
}

static void case_logged_once(void)
{
	int after;

	need_no_proc_module();
	after = log_count();
	if (sh->log_before < 0 || after < 0)
		GT_SKIP("cannot read the kernel log");
	if (!gt_eq(1, after - sh->log_before,
		   "no-proc: the kernel log says once that pid mode is off"))
		gt_diag("'%s' lines: %d before the load, %d now", LOG_LINE,
			sh->log_before, after);
}

static void case_reload_normally(void)
{
	uint64_t f = 0;
	int d, mem, ret;

	ret = module_reload_normally();
	if (!gt_ok(!ret, "no-proc: the module reloads with /proc mounted"))
		gt_diag("%s", gt_errname(-ret));
	d = gt_dev_open();
	if (d < 0)
		gt_bail("open %s: %s", gt_dev_path(), gt_errname(errno));
	f = features(d);
	gt_ok(f & GUPNW_FEATURE_TARGET_FD,
	      "no-proc: reloaded normally, GET_INFO says TARGET_FD on");
	mem = open("/proc/self/mem", O_RDONLY);
	if (mem < 0)
		gt_bail("open /proc/self/mem: %s", gt_errname(errno));
	gt_err(probe_fd(d, mem), 0,
	       "no-proc: reloaded normally, a /proc/self/mem probe works");
	close(mem);
	close(d);
}

static const struct gt_case cases[] = {
	GT_CASE("load-without-proc", case_load_without_proc),
	GT_CASE("root-sees-it-off", case_root_sees_it_off),
	GT_CASE("user-namespace-fifo", case_user_namespace_fifo),
	GT_CASE("logged-once", case_logged_once),
	GT_CASE("reload-normally", case_reload_normally),
};

/* pid mode on again, for the tests after this one */
static int leave_normal_module(void)
{
	int d = gt_dev_open(), on = 0;

	if (d >= 0) {
		on = !!(features(d) & GUPNW_FEATURE_TARGET_FD);
		close(d);
	}
	if (on || !module_reload_normally())
		return 0;
	printf("# t47: could not reload the module with pid mode on\n");
	return 1;
}

static int before(void)
{
	ko = gt_env("GUPNW_KO", "/lib/gupnw/gupnw.ko");
	if (access(ko, R_OK)) {
		gt_skip("no module file at $GUPNW_KO", "no-proc: all");
		return 1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	return 0;
}

static int after(void)
{
	return leave_normal_module();
}

GT_FILE(cases, .before = before, .after = after);
