// SPDX-License-Identifier: GPL-2.0
/*
 * t49_walker_modes: what the one walker keeps across the VMAs of one call.
 *
 * hidden-counts-one-budget: the counts of a file whose page cache the
 * caller may not see are the mode's answer (gupnw_hide_cache(): every page
 * counted as a read started), but they are taken from the call's one I/O
 * budget, which the pages handed to the fault-in worker before share.  As
 * uid 1000, one WRITE probe over a shared mapping of its own cached file
 * (each page goes to the worker: async_faults) and, right after it, a
 * private mapping of a root-owned file: io_started + async_faults stay
 * within max_io_pages.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define USER_UID	1000
#define USER_GID	1000
#define OWN_PAGES	32	/* handed to the worker, a page each */
#define HIDDEN_PAGES	64
#define IO_CAP		48	/* max_io_pages for the case */

static const char *knob = "/sys/module/gupnw/parameters/max_io_pages";
static char own_path[512], root_path[512];

struct result {
	int setup_err;		/* errno of the child's setup, 0 */
	long ret;		/* the probe's, -errno */
	struct gupnw_probe_args a;
};

static void make_file(const char *path, size_t pages, uid_t uid, gid_t gid)
{
	size_t len = pages * gt_page;
	char *buf = malloc(len);
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (!buf || fd < 0)
		gt_bail("create %s: %s", path, gt_errname(errno));
	memset(buf, 0x5a, len);
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd) ||
	    fchown(fd, uid, gid) || fchmod(fd, 0644))
		gt_bail("write %s: %s", path, gt_errname(errno));
	close(fd);
	free(buf);
}

/* As uid 1000: the two files side by side, one WRITE probe over both. */
static void user_probe(void *arg, int out)
{
	size_t len = (OWN_PAGES + HIDDEN_PAGES) * gt_page;
	struct result res;
	int own, hidden, dev;
	char *p;

	(void)arg;
	memset(&res, 0, sizeof(res));
	res.setup_err = -gt_become(USER_UID, USER_GID);
	if (res.setup_err)
		goto out;
	own = open(own_path, O_RDWR);
	hidden = open(root_path, O_RDONLY);
	dev = gt_dev_open();
	p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (own < 0 || hidden < 0 || dev < 0 || p == MAP_FAILED ||
	    mmap(p, OWN_PAGES * gt_page, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, own, 0) == MAP_FAILED ||
	    mmap(p + OWN_PAGES * gt_page, HIDDEN_PAGES * gt_page,
		 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, hidden,
		 0) == MAP_FAILED) {
		res.setup_err = errno ? errno : EINVAL;
		goto out;
	}
	gt_args_init(&res.a, p, len, GUPNW_PROBE_WRITE, NULL);
	res.ret = gt_ioctl(dev, GUPNW_IOC_PROBE, &res.a);
out:
	gt_write_all(out, &res, sizeof(res));
	_exit(0);
}

static void case_hidden_counts_one_budget(void)
{
	const char *dir = gt_env("GUPNW_DATA", "/mnt/data");
	char old[32] = "2048";
	struct result res;
	int got;

	if (access(dir, W_OK))
		gt_case_skip("no writable %s", dir);
	if (gt_read_file(knob, old, sizeof(old)) <= 0)
		gt_case_skip("no max_io_pages parameter");
	old[strcspn(old, "\n")] = '\0';
	snprintf(own_path, sizeof(own_path), "%s/t49-own-%d", dir,
		 (int)getpid());
	snprintf(root_path, sizeof(root_path), "%s/t49-root-%d", dir,
		 (int)getpid());
	make_file(own_path, OWN_PAGES, USER_UID, USER_GID);
	make_file(root_path, HIDDEN_PAGES, 0, 0);
	if (gt_write_file(knob, "48"))
		gt_case_skip("max_io_pages is not writable");
	got = gt_fork_result(user_probe, NULL, &res, sizeof(res), 60000,
			     NULL);
	gt_write_file(knob, old);
	unlink(own_path);
	unlink(root_path);
	if (got || res.setup_err)
		gt_bail("hidden-counts: uid %d setup: %s", USER_UID,
			gt_errname(got ? EPIPE : res.setup_err));

	gt_diag("io_started %llu, async_faults %llu, cap %d",
		(unsigned long long)res.a.io_started,
		(unsigned long long)res.a.async_faults, IO_CAP);
	gt_ok(res.ret == 0, "hidden-counts: the WRITE probe over both returns 0");
	gt_eq(OWN_PAGES + HIDDEN_PAGES, res.a.done,
	      "hidden-counts: done covers both mappings");
	gt_eq(OWN_PAGES, res.a.async_faults,
	      "hidden-counts: each page of the own shared file went to the worker");
	gt_eq(OWN_PAGES + HIDDEN_PAGES, res.a.nr_retry,
	      "hidden-counts: every page is W (the hidden file's answer too)");
	gt_ok(res.a.io_started + res.a.async_faults <= IO_CAP,
	      "hidden-counts: io_started + async_faults stay within max_io_pages");
	gt_eq(IO_CAP - OWN_PAGES, res.a.io_started,
	      "hidden-counts: the hidden file counts what was left of the budget");
}

static const struct gt_case tcases[] = {
	GT_CASE("hidden-counts-one-budget", case_hidden_counts_one_budget),
};

GT_FILE(tcases);
