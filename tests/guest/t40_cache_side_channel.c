// SPDX-License-Identifier: GPL-2.0
/*
 * t40_cache_side_channel: a probe does not reveal the page-cache state of a
 * file the caller could not open for writing (unless it owns it), as
 * mincore(2) does not since Linux 5.2.  As uid 1000, such a file reads all
 * 'R' with NOFAULT (what mincore says: all resident), all 'W' by default and
 * all 'F' with WAIT, whether root made it cold or cached it: the two answers
 * are identical byte for byte, and so are the counts of reads started and
 * of pages handed to the fault-in worker (io_started, async_faults).  'E' past EOF still shows (the size is
 * public).  Files the user owns or may write report the truth ('W' when
 * cold, 'R'/'F' when cached); root sees the truth on the read-only file.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define USER_UID	1000
#define USER_GID	1000
#define FPAGES		16		/* pages of the files made here */
#define MAXPAGES	257		/* root-ro's 256, plus one past EOF */

/* The files, and whether uid 1000 may see their cache. */
struct fcase {
	const char *tag;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	int hidden;
	char path[512];
	size_t n;		/* pages */
};

static struct fcase cases[] = {
	{ "root-ro (root 0444)", 0, 0, 0444, 1, "", 0 },
	{ "root 0644", 0, 0, 0644, 1, "", FPAGES },
	{ "own 0644", USER_UID, USER_GID, 0644, 0, "", FPAGES },
	{ "own 0444", USER_UID, USER_GID, 0444, 0, "", FPAGES },
	{ "root 0666", 0, 0, 0666, 0, "", FPAGES },
	{ "root:user 0664", 0, USER_GID, 0664, 0, "", FPAGES },
};
#define NCASES	(sizeof(cases) / sizeof(cases[0]))

/* What is asked of each file, in this order, each on a fresh mapping. */
enum kind {
	K_MINCORE,	/* mincore(2): '1'/'0' per page */
	K_NOFAULT,
	K_NOWAIT,
	K_WAIT,
	K_EOF_NOWAIT,	/* n + 1 pages: the last one is past EOF */
	K_EOF_WAIT,
	K_PRIV_WRITE,	/* WRITE probe of a private writable mapping */
	NKINDS
};
static const char *const kname[NKINDS] = {
	"mincore", "NOFAULT", "NOWAIT", "WAIT", "NOWAIT past EOF",
	"WAIT past EOF", "WRITE (private mapping)",
};

struct answer {
	int ret, err;
	int tally_ok;
	uint64_t io_started, async_faults;
	size_t n;
	unsigned char st[MAXPAGES];
};

struct report {
	int setup_err;
	struct answer a[NCASES][NKINDS];
};

static void ask(struct gupnw *g, const struct fcase *fc, enum kind k,
		struct answer *a)
{
	static const unsigned int flags[NKINDS] = {
		0, GUPNW_NOFAULT, 0, GUPNW_WAIT, 0, GUPNW_WAIT, GUPNW_WRITE,
	};
	int priv = k == K_PRIV_WRITE;
	struct gupnw_counts c;
	unsigned char vec[MAXPAGES];
	size_t i;
	char *p;
	int fd;

	memset(a, 0, sizeof(*a));
	a->n = fc->n + (k == K_EOF_NOWAIT || k == K_EOF_WAIT);
	fd = open(fc->path, O_RDONLY);
	if (fd < 0) {
		a->ret = -1;
		a->err = errno;
		return;
	}
	p = mmap(NULL, a->n * gt_page, PROT_READ | (priv ? PROT_WRITE : 0),
		 priv ? MAP_PRIVATE : MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		a->ret = -1;
		a->err = errno;
		return;
	}
	if (k == K_MINCORE) {
		a->ret = mincore(p, a->n * gt_page, vec);
		a->err = errno;
		for (i = 0; i < a->n; i++)
			a->st[i] = vec[i] & 1 ? '1' : '0';
		a->tally_ok = 1;
	} else {
		a->ret = gupnw_probe(g, p, a->n * gt_page, flags[k], a->st, &c);
		a->err = errno;
		a->tally_ok = !a->ret && gt_counts_tally_ok(&c, a->st, a->n);
		a->io_started = c.io_started;
		a->async_faults = c.async_faults;
	}
	munmap(p, a->n * gt_page);
}

static void ask_all(struct gupnw *g, size_t ci, struct report *r)
{
	int k;

	for (k = 0; k < NKINDS; k++)
		ask(g, &cases[ci], k, &r->a[ci][k]);
}

/* Every page one of the letters in set. */
static int all_in(const struct answer *a, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!a->st[i] || !strchr(set, a->st[i]))
			return 0;
	return 1;
}

static size_t count_of(const struct answer *a, unsigned char s)
{
	size_t i, k = 0;

	for (i = 0; i < a->n; i++)
		k += a->st[i] == s;
	return k;
}

/*
 * One test line: the answer succeeded, its counts add up, all of its first
 * n pages are in set, and (unless 0) the page after them is last.
 */
static void expect(const struct answer *a, const char *set, char last,
		   const char *who, const char *tag, const char *when,
		   enum kind k)
{
	size_t n = last ? a->n - 1 : a->n;
	int pass = !a->ret && a->tally_ok && all_in(a, n, set) &&
		   (!last || a->st[n] == last);

	char want[32];
	size_t i, w = 0;

	/* "all R|F then E" */
	for (i = 0; set[i] && w + 4 < sizeof(want); i++) {
		if (i)
			want[w++] = '|';
		want[w++] = set[i];
	}
	want[w] = '\0';
	if (last)
		snprintf(want + w, sizeof(want) - w, " then %c", last);
	if (!gt_ok(pass, "cache: %s, %s %s, %s: all %s", who, tag, when,
		   kname[k], want))
		gt_diag("ret %d (%s), counts %s, states %s", a->ret,
			a->ret ? gt_errname(a->err) : "-",
			a->tally_ok ? "ok" : "do not add up",
			gt_states_str(a->st, a->n));
}

/* What uid 1000 must see of a file it may not write, cold or cached. */
static void check_hidden(const struct report *r, size_t ci, const char *when)
{
	const struct answer *a = r->a[ci];
	const char *tag = cases[ci].tag;

	expect(&a[K_MINCORE], "1", 0, "user", tag, when, K_MINCORE);
	expect(&a[K_NOFAULT], "R", 0, "user", tag, when, K_NOFAULT);
	expect(&a[K_NOWAIT], "W", 0, "user", tag, when, K_NOWAIT);
	expect(&a[K_WAIT], "F", 0, "user", tag, when, K_WAIT);
	expect(&a[K_EOF_NOWAIT], "W", 'E', "user", tag, when, K_EOF_NOWAIT);
	expect(&a[K_EOF_WAIT], "F", 'E', "user", tag, when, K_EOF_WAIT);
	expect(&a[K_PRIV_WRITE], "W", 0, "user", tag, when, K_PRIV_WRITE);
	/* nothing beyond mincore: NOFAULT says what mincore says */
	if (!gt_ok(!a[K_MINCORE].ret && !a[K_NOFAULT].ret &&
		   count_of(&a[K_MINCORE], '1') == a[K_MINCORE].n &&
		   count_of(&a[K_NOFAULT], 'R') == a[K_NOFAULT].n,
		   "cache: user, %s %s: NOFAULT agrees with mincore (all resident)",
		   tag, when))
		gt_diag("mincore %s, NOFAULT %s",
			gt_states_str(a[K_MINCORE].st, a[K_MINCORE].n),
			gt_states_str(a[K_NOFAULT].st, a[K_NOFAULT].n));
}

/* What the truth looks like on a fresh mapping of a cold file. */
static void check_truth_cold(const struct answer *a, const char *who,
			     const char *tag)
{
	expect(&a[K_MINCORE], "0", 0, who, tag, "cold", K_MINCORE);
	expect(&a[K_NOFAULT], "C", 0, who, tag, "cold", K_NOFAULT);
	if (!gt_ok(!a[K_NOWAIT].ret && a[K_NOWAIT].tally_ok &&
		   a[K_NOWAIT].st[0] == 'W' && all_in(&a[K_NOWAIT],
						      a[K_NOWAIT].n, "RFW"),
		   "cache: %s, %s cold, NOWAIT: the first page needs I/O (W), none hidden",
		   who, tag))
		gt_diag("ret %d (%s), states %s", a[K_NOWAIT].ret,
			a[K_NOWAIT].ret ? gt_errname(a[K_NOWAIT].err) : "-",
			gt_states_str(a[K_NOWAIT].st, a[K_NOWAIT].n));
	expect(&a[K_WAIT], "RFW", 0, who, tag, "cold", K_WAIT);
}

static void check_truth_cached(const struct answer *a, const char *who,
			       const char *tag)
{
	expect(&a[K_MINCORE], "1", 0, who, tag, "cached", K_MINCORE);
	/* a fresh mapping has no page-table entries, cached or not */
	expect(&a[K_NOFAULT], "N", 0, who, tag, "cached", K_NOFAULT);
	expect(&a[K_NOWAIT], "RF", 0, who, tag, "cached", K_NOWAIT);
	expect(&a[K_WAIT], "RF", 0, who, tag, "cached", K_WAIT);
	expect(&a[K_EOF_NOWAIT], "RF", 'E', who, tag, "cached",
	       K_EOF_NOWAIT);
}

/* The uid 1000 side: answer everything, send it back through out. */
static void user_body(int out)
{
	struct report *r = calloc(1, sizeof(*r));
	struct gupnw *g = NULL;
	size_t ci;

	if (!r)
		_exit(1);
	r->setup_err = -gt_become(USER_UID, USER_GID);
	if (!r->setup_err) {
		g = gupnw_open();
		if (!g)
			r->setup_err = errno;
	}
	for (ci = 0; g && ci < NCASES; ci++)
		ask_all(g, ci, r);
	gupnw_close(g);
	gt_write_all(out, r, sizeof(*r));
	_exit(0);
}

static void user_body_fn(void *arg, int out)
{
	(void)arg;
	user_body(out);
}

static int run_as_user(struct report *r)
{
	if (gt_fork_result(user_body_fn, NULL, r, sizeof(*r), 0, NULL))
		r->setup_err = EPIPE;
	if (!gt_ok(!r->setup_err, "cache: uid %d opens /dev/gupnw", USER_UID))
		gt_diag("%s", gt_errname(r->setup_err));
	return r->setup_err ? -1 : 0;
}

/* Create a file of FPAGES distinct pages with the case's owner and mode. */
static void make_file(struct fcase *fc, const char *dir)
{
	char *buf = malloc(FPAGES * gt_page);
	size_t i;
	int fd;

	snprintf(fc->path, sizeof(fc->path), "%s/t40-%d-%u", dir,
		 (int)getpid(), (unsigned int)(fc - cases));
	fd = open(fc->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (!buf || fd < 0)
		gt_bail("create %s: %s", fc->path, gt_errname(errno));
	for (i = 0; i < (size_t)(FPAGES * gt_page); i++)
		buf[i] = (char)(i * 7 + i / gt_page + 1);
	if (write(fd, buf, FPAGES * gt_page) != (ssize_t)(FPAGES * gt_page) ||
	    fsync(fd) || fchown(fd, fc->uid, fc->gid) ||
	    fchmod(fd, fc->mode))
		gt_bail("write %s: %s", fc->path, gt_errname(errno));
	close(fd);
	free(buf);
}

/* Root makes every file cold (cached 0) or reads it all in (cached 1). */
static void set_cache(int cached)
{
	static char buf[65536];
	size_t ci;
	long res;
	int fd;

	for (ci = 0; ci < NCASES; ci++) {
		fd = open(cases[ci].path, O_RDONLY);
		if (fd < 0)
			gt_bail("open %s: %s", cases[ci].path,
				gt_errname(errno));
		if (!cached) {
			if (gt_make_cold(fd))
				gt_bail("cannot make %s cold", cases[ci].path);
		} else {
			while (read(fd, buf, sizeof(buf)) > 0)
				;
			res = gt_file_resident(fd, 0, 0);
			if (res != (long)cases[ci].n)
				gt_bail("%s: %ld of %zu pages cached",
					cases[ci].path, res, cases[ci].n);
		}
		close(fd);
	}
}

/* What the cases learn, shared: a later case compares with an earlier one. */
struct shared {
	struct report cold, cached, root;
	int cold_ok, cached_ok;
};
static struct shared *sh;
static struct gupnw *g;

/* 1: root made everything cold; uid 1000 asks */
static void case_user_cold(void)
{
	size_t ci;

	set_cache(0);
	if (run_as_user(&sh->cold))
		return;
	sh->cold_ok = 1;
	for (ci = 0; ci < NCASES; ci++) {
		if (cases[ci].hidden)
			check_hidden(&sh->cold, ci, "cold");
		else
			check_truth_cold(sh->cold.a[ci], "user", cases[ci].tag);
	}
}

/* 2: root made everything cold again; root sees the truth */
static void case_root_cold(void)
{
	set_cache(0);
	ask_all(g, 0, &sh->root);
	check_truth_cold(sh->root.a[0], "root", cases[0].tag);
}

/* 3: root read everything in; uid 1000 asks again */
static void case_user_cached(void)
{
	size_t ci;

	set_cache(1);
	if (run_as_user(&sh->cached))
		return;
	sh->cached_ok = 1;
	for (ci = 0; ci < NCASES; ci++) {
		if (cases[ci].hidden)
			check_hidden(&sh->cached, ci, "cached");
		else
			check_truth_cached(sh->cached.a[ci], "user",
					   cases[ci].tag);
	}
}

/* the point: cold and cached look the same where the cache is hidden */
static void case_cold_equals_cached(void)
{
	const struct report *cold = &sh->cold, *cached = &sh->cached;
	size_t ci;
	int k;

	if (!sh->cold_ok || !sh->cached_ok)
		GT_SKIP("needs the user-cold and user-cached cases' answers");
	for (ci = 0; ci < NCASES; ci++) {
		if (!cases[ci].hidden)
			continue;
		for (k = 0; k < NKINDS; k++)
			if (!gt_ok(!memcmp(cold->a[ci][k].st,
					   cached->a[ci][k].st, MAXPAGES),
				   "cache: user, %s, %s: cold and cached answers are identical",
				   cases[ci].tag, kname[k]))
				gt_diag("cold %s / cached %s",
					gt_states_str(cold->a[ci][k].st,
						      cold->a[ci][k].n),
					gt_states_str(cached->a[ci][k].st,
						      cached->a[ci][k].n));
	}
}

/* ...and so do the counts: a read started or queued is a miss */
static void case_cold_equals_cached_counts(void)
{
	const struct report *cold = &sh->cold, *cached = &sh->cached;
	const struct answer *ac, *ah;
	size_t ci;
	int k;

	if (!sh->cold_ok || !sh->cached_ok)
		GT_SKIP("needs the user-cold and user-cached cases' answers");
	for (ci = 0; ci < NCASES; ci++) {
		if (!cases[ci].hidden)
			continue;
		for (k = K_NOFAULT; k < NKINDS; k++) {
			ac = &cold->a[ci][k];
			ah = &cached->a[ci][k];
			if (!gt_ok(!ac->ret && !ah->ret &&
				   ac->io_started == ah->io_started &&
				   ac->async_faults == ah->async_faults,
				   "cache: user, %s, %s: cold and cached count the same reads started and fault-ins",
				   cases[ci].tag, kname[k]))
				gt_diag("io_started %llu / %llu, async_faults %llu / %llu (cold / cached)",
					(unsigned long long)ac->io_started,
					(unsigned long long)ah->io_started,
					(unsigned long long)ac->async_faults,
					(unsigned long long)ah->async_faults);
		}
	}
}

/* uid 1000's answer to one kind of probe of one file */
struct one_ask {
	size_t ci;
	enum kind k;
};

static void user_one_body(void *arg, int out)
{
	const struct one_ask *q = arg;
	struct answer a;
	struct gupnw *ug;

	memset(&a, 0, sizeof(a));
	a.ret = -1;
	a.err = -gt_become(USER_UID, USER_GID);
	if (!a.err) {
		ug = gupnw_open();
		if (ug)
			ask(ug, &cases[q->ci], q->k, &a);
		else
			a.err = errno;
		gupnw_close(ug);
	}
	gt_write_all(out, &a, sizeof(a));
	_exit(0);
}

/*
 * The cold answers above come after a NOWAIT probe that already started
 * the reads: here WAIT meets the hidden file cold, then cached.
 */
static void case_wait_counts_cold_equals_cached(void)
{
	struct one_ask q = { 1, K_WAIT };	/* root 0644 */
	struct answer a[2];
	int i;

	for (i = 0; i < 2; i++) {
		set_cache(i);
		if (gt_fork_result(user_one_body, &q, &a[i], sizeof(a[i]), 0,
				   NULL))
			gt_bail("the uid %d child sent no answer", USER_UID);
		if (a[i].ret)
			gt_bail("uid %d's WAIT probe of %s: %s", USER_UID,
				cases[q.ci].path, gt_errname(a[i].err));
	}
	if (!gt_ok(a[0].io_started == a[1].io_started &&
		   a[0].async_faults == a[1].async_faults &&
		   !memcmp(a[0].st, a[1].st, MAXPAGES),
		   "cache: user, %s, WAIT on a cold file: the same states and counts as cached",
		   cases[q.ci].tag))
		gt_diag("io_started %llu / %llu, async_faults %llu / %llu, states %s / %s (cold / cached)",
			(unsigned long long)a[0].io_started,
			(unsigned long long)a[1].io_started,
			(unsigned long long)a[0].async_faults,
			(unsigned long long)a[1].async_faults,
			gt_states_str(a[0].st, a[0].n),
			gt_states_str(a[1].st, a[1].n));
}

/* 4: everything still cached; root sees the truth */
static void case_root_cached(void)
{
	if (!sh->cached_ok)
		GT_SKIP("needs the user-cached case (the cache filled)");
	ask_all(g, 0, &sh->root);
	check_truth_cached(sh->root.a[0], "root", cases[0].tag);
}

static const struct gt_case tcases[] = {
	GT_CASE("user-cold", case_user_cold),
	GT_CASE("root-cold", case_root_cold),
	GT_CASE("user-cached", case_user_cached),
	GT_CASE("cold-equals-cached", case_cold_equals_cached),
	GT_CASE("cold-equals-cached-counts", case_cold_equals_cached_counts),
	GT_CASE("wait-counts-cold-equals-cached",
		case_wait_counts_cold_equals_cached),
	GT_CASE("root-cached", case_root_cached),
};

static int before(void)
{
	const char *dir = gt_env("GUPNW_DATA", "/mnt/data");
	struct stat sb;
	size_t ci;

	snprintf(cases[0].path, sizeof(cases[0].path), "%s/root-ro", dir);
	if (stat(cases[0].path, &sb) || sb.st_uid != 0 ||
	    (sb.st_mode & 07777) != 0444 || sb.st_size != 256 * gt_page) {
		gt_skip("no root-owned 0444 1 MiB $GUPNW_DATA/root-ro",
			"cache: all");
		return 1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	cases[0].n = 256;
	for (ci = 1; ci < NCASES; ci++)
		make_file(&cases[ci], dir);
	return 0;
}

static int after(void)
{
	size_t ci;

	for (ci = 1; ci < NCASES; ci++)
		unlink(cases[ci].path);
	return 0;
}

GT_FILE(tcases, .lib = &g, .before = before, .after = after);
