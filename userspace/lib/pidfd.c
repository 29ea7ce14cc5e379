// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libgupnw: probing a process named by a pidfd, so that a pid reused by
 * another process after the target died cannot be probed by mistake.
 *
 * The module takes a /proc/PID/mem descriptor, and /proc only knows pids.
 * So: read the pid from the pidfd's fdinfo, open /proc/PID/mem, then ask
 * the kernel whether the pidfd's process is still alive.  If it is, the pid
 * was still its own when /proc/PID/mem was opened (a pid number is freed
 * only when its process is reaped), and the open file pins that process's
 * address space from then on.  If it is not, the file may belong to a
 * newcomer that took the pid: close it and fail with ESRCH.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gupnw.h"
#include "internal.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal	424	/* since Linux 5.1, on every arch */
#endif

/*
 * The pid behind pidfd, in the pid namespace of our /proc (the one
 * /proc/PID/mem will be opened in).  -1 with errno: EBADF (not open),
 * EINVAL (not a pidfd), ESRCH (its process was reaped, or is not visible
 * from here), ENOENT (no /proc mounted).
 */
static pid_t gupnw_pidfd_pid(int pidfd)
{
	char path[48], buf[1024], *p;
	ssize_t n, got = 0;
	long pid;
	int fd;

	if (pidfd < 0) {
		errno = EBADF;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* No fdinfo file: pidfd is not open, or there is no /proc. */
		if (errno == ENOENT && fcntl(pidfd, F_GETFD) < 0)
			errno = EBADF;
		return -1;
	}
	while (got < (ssize_t)sizeof(buf) - 1) {
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';

	/* "Pid:\t<n>" is printed for pidfds only; -1 once reaped, 0 when
	 * the process lives in a pid namespace our /proc cannot see. */
	p = strncmp(buf, "Pid:", 4) ? strstr(buf, "\nPid:") : buf;
	if (!p) {
		errno = EINVAL;
		return -1;
	}
	pid = strtol(p + (*p == '\n') + 4, NULL, 10);
	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return pid;
}

/*
 * 0 if the pidfd's process is alive (a zombie not yet reaped counts: its pid
 * is still taken), -1 with errno ESRCH if it is gone.
 */
static int gupnw_pidfd_alive(int pidfd)
{
	/* Signal 0 checks existence; EPERM says it exists but is not ours
	 * to signal (ptrace rights do not imply kill rights). */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 ||
	    errno == EPERM)
		return 0;
	return -1;
}

static int gupnw_probe_pidfd_sized(struct gupnw *g, int pidfd, uint64_t addr,
				   uint64_t len, unsigned int flags,
				   unsigned char *states,
				   struct gupnw_counts *counts, size_t csize)
{
	int fd, saved;
	pid_t pid;

	if (gupnw_check_call(g, addr, flags))
		return -1;
	pid = gupnw_pidfd_pid(pidfd);
	if (pid < 0)
		return -1;
	fd = gupnw_open_pid_mem(pid, flags);
	if (fd < 0) {
		/* EACCES from a newcomer on a recycled pid is not the answer */
		saved = errno;
		if (gupnw_pidfd_alive(pidfd) && errno == ESRCH)
			return -1;
		errno = saved;
		return -1;
	}
	if (gupnw_pidfd_alive(pidfd)) {
		gupnw_close_keep_errno(fd);
		return -1;
	}
	return gupnw_probe_memfd_closing(g, fd, addr, len, flags, states,
					 counts, csize);
}

GUPNW_DEFINE_PROBE_VERSIONS(gupnw_probe_pidfd, int, pidfd)
