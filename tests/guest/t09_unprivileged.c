// SPDX-License-Identifier: GPL-2.0
/*
 * t09_unprivileged: an ordinary user (uid 1000) can probe its own memory
 * and its own files; a mapping of a root-owned read-only file shows one
 * letter per mode, whatever its page cache holds (docs/security.md: the cache of a
 * file the caller could not open for writing is not revealed; t40 has the
 * details).
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

#define USER_UID	1000
#define USER_GID	1000

static void user_own_memory(struct gupnw *g)
{
	char *p = mmap(NULL, 4 * gt_page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		gt_bail("mmap");
	madvise(p, 4 * gt_page, MADV_NOHUGEPAGE);
	p[0] = 1;
	p[gt_page] = 1;
	mprotect(p + 3 * gt_page, gt_page, PROT_NONE);
	gt_expect_probe(g, 0, p, 4, GUPNW_NOFAULT, "RRNE", NULL,
			"unpriv: user probes own anon memory (NOFAULT)");
	gt_expect_probe(g, 0, p, 4, 0, "RRFE", NULL,
			"unpriv: user probes own anon memory (NOWAIT)");
	gt_expect_probe(g, 0, p, 2, GUPNW_WRITE, "RR", NULL,
			"unpriv: user WRITE-probes own written memory");
	munmap(p, 4 * gt_page);
}

static void user_own_file(struct gupnw *g)
{
	const size_t n = 16;
	char path[512], *buf, *p;
	int fd;

	snprintf(path, sizeof(path), "%s/t09-user-%d",
		 gt_env("GUPNW_DATA", "/mnt/data"), (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		struct stat sb;
		char why[800];

		/* the harness promises mode 1777; say what it is instead */
		if (stat(gt_env("GUPNW_DATA", "/mnt/data"), &sb))
			sb.st_mode = 0;
		snprintf(why, sizeof(why),
			 "uid %d cannot create %s: %s (directory mode %04o, uid %d)",
			 USER_UID, path, gt_errname(errno),
			 (unsigned int)(sb.st_mode & 07777), (int)sb.st_uid);
		gt_skip(why, "unpriv: own cold file is all C in NOFAULT");
		gt_skip(why, "unpriv: own cached file is R/F");
		return;
	}
	buf = malloc(n * gt_page);
	if (!buf)
		gt_bail("malloc");
	memset(buf, 0x77, n * gt_page);
	if (write(fd, buf, n * gt_page) != (ssize_t)(n * gt_page))
		gt_diag("write: %s", gt_errname(errno));
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	p = mmap(NULL, n * gt_page, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap own file: %s", gt_errname(errno));
	if (gt_resident(p, n * gt_page) == 0)
		gt_expect_probe(g, 0, p, n, GUPNW_NOFAULT, "CCCCCCCCCCCCCCCC",
				NULL, "unpriv: own cold file is all C in NOFAULT");
	else
		gt_skip("fadvise DONTNEED left pages resident",
			"unpriv: own cold file is all C in NOFAULT");
	/* its pages are visible to its owner once cached */
	if (pread(fd, buf, n * gt_page, 0) < 0)
		gt_diag("pread: %s", gt_errname(errno));
	gt_expect_probe(g, 0, p, n, 0, "rrrrrrrrrrrrrrrr", NULL,
			"unpriv: own cached file is R/F");
	munmap(p, n * gt_page);
	close(fd);
	unlink(path);
	free(buf);
}

/* Probe a fresh mapping of the root-owned file: one letter per mode. */
static void user_root_file(struct gupnw *g, const char *path,
			   const char *when)
{
	static const unsigned int modes[] = {
		GUPNW_NOFAULT, 0, GUPNW_NOFAULT, GUPNW_WRITE,
	};
	static const char *const mnames[] = {
		"NOFAULT", "NOWAIT", "NOFAULT again", "WRITE",
	};
	/* E for WRITE: the mapping is read-only */
	static const char expect[] = { 'R', 'W', 'R', 'E' };
	struct gupnw_counts c;
	unsigned char *st;
	size_t n, i;
	int fd, ret;
	off_t size;
	char *p;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		gt_ok(0, "unpriv: user opens root-owned 0444 %s", path);
		gt_diag("open: %s", gt_errname(errno));
		return;
	}
	size = lseek(fd, 0, SEEK_END);
	n = (size + gt_page - 1) / gt_page;
	st = malloc(n);
	p = mmap(NULL, n * gt_page, PROT_READ, MAP_SHARED, fd, 0);
	if (!st || p == MAP_FAILED)
		gt_bail("mmap %s: %s", path, gt_errname(errno));
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		memset(st, 0, n);
		memset(&c, 0xff, sizeof(c));
		ret = gupnw_probe(g, p, n * gt_page, modes[i], st, &c);
		/* the counts agree with the states, and all are one letter */
		if (!gt_ok(ret == 0 && gt_counts_tally_ok(&c, st, n) &&
			   (expect[i] == 'R' ? c.resident :
			    expect[i] == 'W' ? c.retry : c.error) == n,
			   "unpriv: root-owned file (%s), %s: all %c",
			   when, mnames[i], expect[i]))
			gt_diag("ret %d (%s), counts %s, states %s", ret,
				ret ? gt_errname(errno) : "-",
				gt_counts_str(&c), gt_states_str(st, n));
	}
	munmap(p, n * gt_page);
	free(st);
	close(fd);
}

/* Runs as uid 1000 and prints its own TAP lines; exit status: failures. */
static int user_main(const char *root_ro, int phase)
{
	struct gupnw *g;
	int err = gt_become(USER_UID, USER_GID);

	if (err) {
		gt_ok(0, "unpriv: drop to uid %d", USER_UID);
		gt_diag("%s", gt_errname(err));
		return gt_exit();
	}
	g = gupnw_open();
	if (!gt_ok(g != NULL, "unpriv: uid %d opens /dev/gupnw (%s)",
		   USER_UID, phase ? "again" : "mode 0666"))
		return gt_exit();
	if (phase == 0) {
		user_own_memory(g);
		user_own_file(g);
		user_root_file(g, root_ro, "cold");
	} else {
		user_root_file(g, root_ro, "cached");
	}
	gupnw_close(g);
	return gt_exit();
}

static int child_failed;

static void run_as_user(const char *root_ro, int phase)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		gt_bail("fork");
	if (!pid) {
		gt_init();	/* its own failure count */
		_exit(user_main(root_ro, phase));
	}
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) {
		gt_ok(0, "unpriv: the uid %d process was not killed", USER_UID);
		gt_diag("killed by signal %d", WTERMSIG(status));
	} else if (WEXITSTATUS(status)) {
		/* its "not ok" lines are printed: only the exit status is ours */
		child_failed = 1;
	}
}

static char root_ro[512];
static int fd;

/* 1: the file is cold (main made it so) */
static void case_user_cold(void)
{
	run_as_user(root_ro, 0);
	if (child_failed)
		exit(1);
}

/* 2: root brings the file into the page cache, the user asks again */
static void case_user_cached(void)
{
	static char buf[65536];

	lseek(fd, 0, SEEK_SET);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	gt_diag("root-ro cached by root: %ld pages resident",
		gt_file_resident(fd, 0, 0));
	run_as_user(root_ro, 1);
	if (child_failed)
		exit(1);
}

static const struct gt_case cases[] = {
	GT_CASE("user-cold", case_user_cold),
	GT_CASE("user-cached", case_user_cached),
};

static int before(void)
{
	snprintf(root_ro, sizeof(root_ro), "%s/root-ro",
		 gt_env("GUPNW_DATA", "/mnt/data"));
	fd = open(root_ro, O_RDONLY);
	if (fd < 0 || gt_make_cold(fd)) {
		gt_skip("no cold $GUPNW_DATA/root-ro", "unpriv: all");
		return 1;
	}
	return 0;
}

static int after(void)
{
	close(fd);
	return 0;
}

GT_FILE(cases, .before = before, .after = after);
