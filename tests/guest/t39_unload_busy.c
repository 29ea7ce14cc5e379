// SPDX-License-Identifier: GPL-2.0
/*
 * t39_unload_busy: the module cannot be unloaded under a running probe.
 * rmmod is refused while another process is probing (and its probes go on
 * working), and also while a probe is still running on a descriptor that
 * another thread has already closed (the ioctl holds the file); once the
 * prober is gone rmmod works, and insmod brings back a working module.
 * Leaves the module loaded.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIB	(1ULL << 30)

static const char *ko;

static int loaded(void)
{
	static char buf[65536];

	if (gt_read_file("/proc/modules", buf, sizeof(buf)) < 0)
		return -1;
	return !strncmp(buf, "gupnw ", 6) || strstr(buf, "\ngupnw ") != NULL;
}

static int run_cmd(const char *cmd, const char *arg, char *err, size_t size)
{
	char out[256];
	char *argv[] = { (char *)cmd, (char *)arg, NULL };

	return gt_run(argv, 0, 0, 30, out, sizeof(out), err, size);
}

static int rmmod(char *err, size_t size)
{
	return run_cmd("/sbin/rmmod", "gupnw", err, size);
}

static int insmod(char *err, size_t size)
{
	int rc = run_cmd("/sbin/insmod", ko, err, size), i;

	/* udev-less guest: devtmpfs creates the node, maybe a bit later */
	for (i = 0; !rc && i < 100 && access(gt_dev_path(), F_OK); i++)
		gt_sleep_ms(20);
	return rc;
}

/* Shared with the probing children: how many probes succeeded. */
struct progress {
	volatile unsigned long ok, failed;
	volatile int started;
};

/* Probe 64 MiB of anon (NOWAIT) over and over until killed. */
static void busy_prober(struct progress *pg)
{
	const size_t len = 64 << 20;
	struct gupnw *g = gupnw_open();
	struct gupnw_counts c;
	char *p = mmap(NULL, len, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (!g || p == MAP_FAILED)
		_exit(2);
	pg->started = 1;
	for (;;) {
		if (gupnw_probe(g, p, len, 0, NULL, &c))
			pg->failed++;
		else
			pg->ok++;
		madvise(p, len, MADV_DONTNEED);
	}
}

struct closed_probe {
	int fd;
	volatile int in_probe;
};

/* One very long probe (NOFAULT of 64 GiB) on cp->fd. */
static void *long_probe(void *arg)
{
	struct closed_probe *cp = arg;
	struct gupnw_probe_args a;
	void *p = mmap(NULL, 64 * GIB, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	gt_args_init(&a, p, 64 * GIB, GUPNW_PROBE_NOFAULT, NULL);
	cp->in_probe = 1;
	gt_ioctl(cp->fd, GUPNW_IOC_PROBE, &a);
	cp->in_probe = 2;
	return NULL;
}

/* A thread probes for a long time; this thread closes the fd under it. */
static void closed_fd_prober(struct progress *pg)
{
	struct closed_probe cp = { .fd = gt_dev_open() };
	pthread_t t;

	if (cp.fd < 0 || pthread_create(&t, NULL, long_probe, &cp))
		_exit(2);
	while (!cp.in_probe)
		gt_sleep_ms(1);
	gt_sleep_ms(100);		/* well inside the ioctl */
	close(cp.fd);
	pg->started = cp.in_probe == 1 ? 1 : -1;
	for (;;)
		pause();
}

static pid_t spawn(void (*body)(struct progress *), struct progress *pg)
{
	pid_t pid;
	int i;

	memset((void *)pg, 0, sizeof(*pg));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		gt_bail("fork: %s", gt_errname(errno));
	if (!pid)
		body(pg);
	for (i = 0; i < 1000 && !pg->started; i++)
		gt_sleep_ms(10);
	return pg->started == 1 ? pid : -pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_busy_prober(struct progress *pg)
{
	unsigned long before;
	char err[256];
	pid_t pid;
	int rc;

	pid = spawn(busy_prober, pg);
	if (pid < 0) {
		reap(-pid);
		gt_bail("unload: the prober did not start");
	}
	gt_sleep_ms(100);
	rc = rmmod(err, sizeof(err));
	if (!gt_ok(rc != 0, "unload: rmmod is refused while another process probes"))
		gt_diag("rmmod succeeded");
	else
		gt_diag("rmmod: %s", strtok(err, "\n") ? err : "(no message)");
	gt_ok(loaded() == 1, "unload: the module is still loaded");
	/*
	 * Two more probes end after the refused rmmod: one was running, one
	 * started after it.  No time limit of its own but the case's: a probe
	 * of 64 MiB takes over a second on the KASAN kernel under TCG.
	 */
	before = pg->ok;
	while (pg->ok < before + 2 && !pg->failed)
		gt_sleep_ms(10);
	if (!gt_ok(pg->ok > before && !pg->failed,
		   "unload: the prober's probes go on working after the refused rmmod"))
		gt_diag("%lu probes before, %lu after, %lu failed", before,
			pg->ok, pg->failed);
	reap(pid);
	rc = rmmod(err, sizeof(err));
	if (!gt_ok(rc == 0, "unload: rmmod works once the prober is gone"))
		gt_diag("rmmod: exit %d: %s", rc, err);
	rc = insmod(err, sizeof(err));
	if (!gt_ok(rc == 0, "unload: insmod loads it again"))
		gt_diag("insmod: exit %d: %s", rc, err);
}

static void test_closed_fd(struct progress *pg)
{
	char err[256];
	pid_t pid;
	int rc;

	pid = spawn(closed_fd_prober, pg);
	if (pid < 0) {
		reap(-pid);
		gt_skip("the probe ended before its fd was closed",
			"unload: rmmod is refused while a probe runs on a closed fd");
		return;
	}
	rc = rmmod(err, sizeof(err));
	if (!gt_ok(rc != 0,
		   "unload: rmmod is refused while a probe runs on a closed fd"))
		gt_diag("rmmod succeeded under a running probe");
	gt_ok(loaded() == 1, "unload: the module is still loaded under that probe");
	reap(pid);
	rc = rmmod(err, sizeof(err));
	if (!gt_ok(rc == 0, "unload: rmmod works once that prober is killed"))
		gt_diag("rmmod: exit %d: %s", rc, err);
	rc = insmod(err, sizeof(err));
	if (!gt_ok(rc == 0, "unload: insmod loads it again (2)"))
		gt_diag("insmod: exit %d: %s", rc, err);
}

static void test_works_after(void)
{
	struct gupnw *g = gupnw_open();
	char *p = mmap(NULL, 4 * gt_page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (!gt_ok(g != NULL, "unload: the reloaded module opens"))
		gt_diag("gupnw_open: %s", gt_errname(errno));
	if (g && p != MAP_FAILED) {
		memset(p, 1, 4 * gt_page);
		gt_expect_probe(g, 0, p, 4, 0, "RRRR", NULL,
				"unload: the reloaded module probes");
	}
	if (g)
		gupnw_close(g);
}

static struct progress *pg;

static void case_busy_prober(void)
{
	test_busy_prober(pg);
}

static void case_closed_fd(void)
{
	test_closed_fd(pg);
}

static const struct gt_case cases[] = {
	GT_CASE("busy-prober", case_busy_prober),
	GT_CASE("closed-fd", case_closed_fd),
	GT_CASE("works-after", test_works_after),
};

static int before(void)
{
	ko = gt_env("GUPNW_KO", "/lib/gupnw/gupnw.ko");
	pg = mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	if (loaded() != 1)
		gt_bail("unload: the module is not loaded at the start");
	return 0;
}

static int after(void)
{
	char err[256];

	/* whatever happened above, leave it loaded */
	if (loaded() != 1 && insmod(err, sizeof(err)))
		gt_diag("final insmod: %s", err);
	return 0;
}

GT_FILE(cases, .before = before, .after = after);
