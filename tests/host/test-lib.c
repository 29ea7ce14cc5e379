// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of libgupnw without the module: the calls that need no device,
 * and every error the library itself decides.  /dev/null stands for a
 * device that is not gupnw: reaching it gives ENOTTY, so an EINVAL proves
 * the library refused the call before the ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/gupnw.h>

#include "check.h"
#include "gupnw.h"

static void test_names(void)
{
	CHECK(!strcmp(gupnw_version(), "0.4.0"));
	CHECK(!strcmp(gupnw_state_name('R'), "resident"));
	CHECK(!strcmp(gupnw_state_name(GUPNW_FAULTED), "faulted"));
	CHECK(!strcmp(gupnw_state_name(GUPNW_RETRY), "retry"));
	CHECK(!strcmp(gupnw_state_name(GUPNW_UNMAPPED), "unmapped"));
	CHECK(!strcmp(gupnw_state_name(GUPNW_ERROR), "error"));
	CHECK(!strcmp(gupnw_state_name(GUPNW_NOTPRESENT), "notpresent"));
	CHECK(!strcmp(gupnw_state_name(GUPNW_COLD), "cold"));
	CHECK(!strcmp(gupnw_state_name('r'), "unknown"));
	CHECK(!strcmp(gupnw_state_name(0), "unknown"));
	/* The library's states are the ABI's letters. */
	CHECK(GUPNW_RESIDENT == GUPNW_STATE_RESIDENT &&
	      GUPNW_FAULTED == GUPNW_STATE_FAULTED &&
	      GUPNW_RETRY == GUPNW_STATE_RETRY &&
	      GUPNW_UNMAPPED == GUPNW_STATE_UNMAPPED &&
	      GUPNW_ERROR == GUPNW_STATE_ERROR &&
	      GUPNW_NOTPRESENT == GUPNW_STATE_NOTPRESENT &&
	      GUPNW_COLD == GUPNW_STATE_COLD);
}

static void test_open(void)
{
	CHECK(!unsetenv("GUPNW_DEVICE"));
	CHECK(!strcmp(gupnw_device_path(), "/dev/gupnw"));
	CHECK(!setenv("GUPNW_DEVICE", "", 1));
	CHECK(!strcmp(gupnw_device_path(), "/dev/gupnw"));

	CHECK(!setenv("GUPNW_DEVICE", "/nonexistent/gupnw", 1));
	CHECK(!strcmp(gupnw_device_path(), "/nonexistent/gupnw"));
	errno = 0;
	CHECK(gupnw_open() == NULL && errno == ENOENT);

	gupnw_close(NULL);
}

static void test_errors(void)
{
	unsigned long ps = sysconf(_SC_PAGESIZE);
	struct gupnw_counts c = { .resident = 7 };
	struct gupnw_module_info info;
	struct gupnw_extent ext;
	unsigned char states[2];
	char *buf, *page;
	struct gupnw *g;
	int fd;

	CHECK(!setenv("GUPNW_DEVICE", "/dev/null", 1));
	g = gupnw_open();
	CHECK(g != NULL);
	if (!g)
		return;
	buf = malloc(2 * ps);
	CHECK(buf != NULL);
	page = (char *)(((unsigned long)buf + ps - 1) & ~(ps - 1));

	/* Reaches the device, which is not gupnw; counts stay untouched. */
	errno = 0;
	CHECK(gupnw_probe(g, page, ps, 0, states, &c) == -1 && errno == ENOTTY);
	CHECK(c.resident == 7);
	errno = 0;
	CHECK(gupnw_module_info(g, &info) == -1 && errno == ENOTTY);

	/* Refused before the device. */
	errno = 0;
	CHECK(gupnw_probe(g, page + 1, ps, 0, states, &c) == -1 &&
	      errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe(g, page, ps, GUPNW_PROBE_TARGET_FD, states, &c) ==
	      -1 && errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe(g, page, ps, 1u << 31, NULL, NULL) == -1 &&
	      errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_memfd(g, -1, (uintptr_t)page, ps, 0, states, &c) ==
	      -1 && errno == EBADF);
	errno = 0;
	CHECK(gupnw_probe_extents(g, page, ps, 0, NULL, 4, &c) == -1 &&
	      errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_extents(g, page, ps, 0, &ext, 0, &c) == -1 &&
	      errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_extents(g, page + 1, ps, 0, &ext, 1, &c) == -1 &&
	      errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_extents(g, page, ps, 0, &ext, 1, &c) == -1 &&
	      errno == ENOTTY);
	errno = 0;
	CHECK(gupnw_probe_extents_memfd(g, -1, (uintptr_t)page, ps, 0, &ext,
					1, &c) == -1 && errno == EBADF);
	/* The device is asked, and is not gupnw. */
	errno = 0;
	CHECK(gupnw_user_end(g) == 0 && errno == ENOTTY);

	/* Pid mode: errors of the target, then of the device through it. */
	errno = 0;
	CHECK(gupnw_probe_pid(g, INT_MAX, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == ESRCH);
	errno = 0;
	CHECK(gupnw_probe_pid(g, 0, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == ESRCH);
	errno = 0;
	CHECK(gupnw_probe_pid(g, getpid(), 1, ps, 0, NULL, NULL) == -1 &&
	      errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_pid(g, getpid(), 0, ps, GUPNW_WRITE << 4, NULL,
			      NULL) == -1 && errno == EINVAL);
	/* ENOTTY survives the close of /proc/PID/mem. */
	errno = 0;
	CHECK(gupnw_probe_pid(g, getpid(), (uintptr_t)page, ps, 0, states,
			      &c) == -1 && errno == ENOTTY);

	fd = gupnw_open_pid_mem(getpid(), GUPNW_NOFAULT);
	CHECK(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	errno = 0;
	CHECK(gupnw_probe_memfd(g, fd, (uintptr_t)page, ps, GUPNW_NOFAULT,
				NULL, &c) == -1 && errno == ENOTTY);
	close(fd);
	/* A write probe needs /proc/PID/mem open for writing. */
	fd = gupnw_open_pid_mem(getpid(), GUPNW_WRITE);
	CHECK(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
	close(fd);
	errno = 0;
	CHECK(gupnw_open_pid_mem(-5, 0) == -1 && errno == ESRCH);

	free(buf);
	gupnw_close(g);
}

/*
 * The library opens /proc/PID/mem with open(); this definition takes
 * precedence over libc's, so that a test can kill the target right before
 * or right after that open, inside gupnw_probe_pidfd().
 */
static pid_t mem_victim;		/* killed and reaped at the open */
static int mem_victim_after;		/* after the real open, not before */
static int no_proc;			/* as if no /proc were mounted */

static void mem_victim_reap(void)
{
	kill(mem_victim, SIGKILL);
	waitpid(mem_victim, NULL, 0);
	mem_victim = 0;
}

int open(const char *path, int flags, ...)
{
	int victim = mem_victim && strstr(path, "/mem") != NULL;
	mode_t mode = 0;
	va_list ap;
	long fd;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (no_proc && !strncmp(path, "/proc/", 6)) {
		errno = ENOENT;
		return -1;
	}
	if (victim && !mem_victim_after)
		mem_victim_reap();
	fd = syscall(SYS_openat, AT_FDCWD, path, flags, mode);
	if (victim && mem_victim_after)
		mem_victim_reap();
	return fd;
}

/* A child that lives until killed; its pidfd in *pidfd (-1: none). */
static pid_t pidfd_child(int *pidfd)
{
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	*pidfd = pid > 0 ? syscall(SYS_pidfd_open, pid, 0) : -1;
	return pid;
}

/* The lowest free descriptor: the same before and after means no leak. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

static void test_pidfd(void)
{
	unsigned long ps = sysconf(_SC_PAGESIZE);
	int pidfd, nullfd, freefd;
	struct gupnw *g;
	pid_t pid;

	CHECK(!setenv("GUPNW_DEVICE", "/dev/null", 1));
	g = gupnw_open();
	CHECK(g != NULL);
	if (!g)
		return;

	errno = 0;
	CHECK(gupnw_probe_pidfd(g, -1, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == EBADF);
	nullfd = open("/dev/null", O_RDONLY);
	CHECK(nullfd >= 0);
	/* not a pidfd: its fdinfo has no "Pid:" line */
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, nullfd, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == EINVAL);
	close(nullfd);
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, nullfd, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == EBADF);

	pidfd = syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0) {
		fprintf(stderr, "# pidfd_open: %s: pidfd tests skipped\n",
			strerror(errno));
		gupnw_close(g);
		return;
	}
	/* refused before anything is opened */
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, pidfd, 1, ps, 0, NULL, NULL) == -1 &&
	      errno == EINVAL);
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, pidfd, 0, ps, 1u << 20, NULL, NULL) ==
	      -1 && errno == EINVAL);
	/* a live process: through /proc/self/mem to the device (ENOTTY) */
	freefd = lowest_free_fd();
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, pidfd, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == ENOTTY);
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, pidfd, 0, ps, GUPNW_WRITE, NULL, NULL) ==
	      -1 && errno == ENOTTY);
	CHECK(lowest_free_fd() == freefd);
	/* no /proc: the fdinfo cannot be read, and the pidfd is open */
	no_proc = 1;
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, pidfd, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == ENOENT);
	no_proc = 0;
	close(pidfd);

	/* exited and reaped before the call */
	pid = pidfd_child(&pidfd);
	CHECK(pid > 0 && pidfd >= 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, pidfd, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == ESRCH);
	close(pidfd);

	/* reaped while the library opens its /proc/PID/mem: before ... */
	pid = pidfd_child(&pidfd);
	CHECK(pid > 0 && pidfd >= 0);
	mem_victim = pid;
	mem_victim_after = 0;
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, pidfd, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == ESRCH);
	CHECK(mem_victim == 0);
	close(pidfd);

	/* ... and after: the open succeeded, the file is closed unused */
	pid = pidfd_child(&pidfd);
	CHECK(pid > 0 && pidfd >= 0);
	freefd = lowest_free_fd();
	mem_victim = pid;
	mem_victim_after = 1;
	errno = 0;
	CHECK(gupnw_probe_pidfd(g, pidfd, 0, ps, 0, NULL, NULL) == -1 &&
	      errno == ESRCH);
	CHECK(mem_victim == 0);
	CHECK(lowest_free_fd() == freefd);
	close(pidfd);

	gupnw_close(g);
}

int main(void)
{
	test_names();
	test_open();
	test_errors();
	test_pidfd();
	return CHECK_EXIT();
}
