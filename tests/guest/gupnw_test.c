// SPDX-License-Identifier: GPL-2.0
/* gupnw_test.c - shared helpers of the in-guest tests; see gupnw_test.h. */
#include "gupnw_test.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long gt_page = 4096;
static int gt_failures;		/* of this process since its gt_init() */

/*
 * What every process of a test program shares (forked cases, and children
 * that report on their own): the check counts of the file and of the running
 * case, the numbers of the top-level TAP lines, a case's skip reason.
 */
enum { GT_PASS, GT_FAIL, GT_SKIPPED };
struct gt_shared {
	long checks[3];		/* the file's, by GT_PASS... */
	long case_checks[3];	/* the running case's */
	long failures;		/* failed checks of any process */
	long lines;		/* checks outside a case */
	char skip_why[256];	/* the running case's GT_SKIP */
	char first_skip[256];	/* its first skipped check's reason */
};
static struct gt_shared gt_shared_fallback, *gt_shared;
static pid_t gt_owner;			/* the process that prints the plan */
static int gt_plan_done;
static char gt_cur_case[160];		/* the running case, "" outside */
static int gt_in_case;			/* this process is a forked case */
const struct gt_variant *gt_variant;	/* the running case's variant */

void gt_init(void)
{
	gt_failures = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
	gt_page = sysconf(_SC_PAGESIZE);
	if (gt_shared)
		return;		/* a forked child: keep counting with the parent */
	gt_shared = mmap(NULL, sizeof(*gt_shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (gt_shared == MAP_FAILED)
		gt_shared = &gt_shared_fallback;
	gt_owner = getpid();
}

/* "# checks: 12 passed, 0 failed, 1 skipped": what the host adds up. */
static void gt_print_checks(void)
{
	printf("# checks: %ld passed, %ld failed, %ld skipped\n",
	       gt_shared->checks[GT_PASS], gt_shared->checks[GT_FAIL],
	       gt_shared->checks[GT_SKIPPED]);
}

int gt_exit(void)
{
	struct gt_shared *sh = gt_shared;

	if (sh && getpid() == gt_owner && !gt_plan_done) {
		/*
		 * No case ran: the file skipped or bailed as a whole before
		 * them, its checks above.  One result for the file.
		 */
		gt_plan_done = 1;
		printf("1..1\n");
		if (sh->checks[GT_FAIL])
			printf("not ok 1 %s\n", gt_file_id());
		else if (!sh->checks[GT_PASS] && sh->checks[GT_SKIPPED])
			printf("ok 1 %s # SKIP %s\n", gt_file_id(),
			       sh->first_skip);
		else
			printf("ok 1 %s\n", gt_file_id());
		gt_print_checks();
	}
	fflush(stdout);
	return gt_failures ? 1 : 0;
}

const char *gt_file_id(void)
{
	static char id[64];
	const char *p = program_invocation_short_name;

	if (!id[0]) {
		snprintf(id, sizeof(id), "%s", p && *p ? p : "t??");
		id[strcspn(id, "_")] = '\0';
	}
	return id;
}

/* Does the file part of a GUPNW_TESTS pattern name this program? */
static int gt_file_match(const char *pat)
{
	const char *full = program_invocation_short_name;
	char with[160];

	snprintf(with, sizeof(with), "%s_*", pat);
	return !fnmatch(pat, gt_file_id(), 0) || !fnmatch(pat, full, 0) ||
	       !fnmatch(with, full, 0);
}

int gt_selected(const char *case_name)
{
	const char *env = getenv("GUPNW_TESTS");
	char list[1024], *save = NULL, *p;
	int file_named = 0;

	if (!env || !*env)
		return 1;
	snprintf(list, sizeof(list), "%s", env);
	for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(p, ':');

		if (colon)
			*colon = '\0';
		if (!gt_file_match(p))
			continue;
		file_named = 1;
		if (!colon || !case_name || !fnmatch(colon + 1, case_name, 0))
			return 1;
	}
	/* run by hand, or picked by a pattern we do not understand: all */
	return !file_named;
}

static pid_t gt_case_pid;
static void (*gt_case_setup)(void);
static volatile sig_atomic_t gt_case_expired;

static void gt_on_alarm(int sig)
{
	(void)sig;
	gt_case_expired = 1;
}

/* The file's own time limit (guest-tests.sh) ends the case's group too. */
static void gt_on_term(int sig)
{
	if (gt_case_pid > 0)
		kill(-gt_case_pid, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * One check: a comment line "# ok 3 t31:case - what" under the case's
 * "# RUN" line, numbered in the case; outside a case (a file that skips or
 * bails as a whole, in its .before) "# ok 1 t31 - what", numbered in the
 * file.  suffix is " # SKIP why" or NULL.
 */
static void gt_vresult(int pass, const char *fmt, va_list ap,
		       const char *suffix)
{
	int kind = !pass ? GT_FAIL : suffix ? GT_SKIPPED : GT_PASS;
	char what[1024];
	long n;

	if (!gt_shared)
		gt_init();
	if (!pass) {
		gt_failures++;
		__atomic_add_fetch(&gt_shared->failures, 1, __ATOMIC_SEQ_CST);
	}
	__atomic_add_fetch(&gt_shared->checks[kind], 1, __ATOMIC_SEQ_CST);
	vsnprintf(what, sizeof(what), fmt, ap);
	if (gt_cur_case[0]) {
		n = __atomic_add_fetch(&gt_shared->case_checks[kind], 1,
				       __ATOMIC_SEQ_CST);
		n += __atomic_load_n(&gt_shared->case_checks[(kind + 1) % 3],
				     __ATOMIC_SEQ_CST);
		n += __atomic_load_n(&gt_shared->case_checks[(kind + 2) % 3],
				     __ATOMIC_SEQ_CST);
	} else {
		n = __atomic_add_fetch(&gt_shared->lines, 1, __ATOMIC_SEQ_CST);
	}
	if (kind == GT_SKIPPED && !gt_shared->first_skip[0])
		snprintf(gt_shared->first_skip, sizeof(gt_shared->first_skip),
			 "%.200s", suffix + strlen(" # SKIP "));
	printf("# %s %ld %s%s%s%s%s%s\n", pass ? "ok" : "not ok", n,
	       gt_file_id(), gt_cur_case[0] ? ":" : "", gt_cur_case,
	       *what ? " - " : "", what, suffix ? suffix : "");
}

static void gt_result(int pass, const char *suffix, const char *fmt, ...)
	GT_PRINTF(3, 4);
static void gt_result(int pass, const char *suffix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gt_vresult(pass, fmt, ap, suffix);
	va_end(ap);
}

static unsigned int gt_case_limit(const struct gt_case *c)
{
	unsigned int limit = c->timeout_s ? c->timeout_s : GT_CASE_TIMEOUT;

	/* KASAN and lockdep slow the emulated CPU about tenfold */
	if (getenv("GUPNW_DEBUG"))
		limit *= 5;
	if (atoi(gt_env("GUPNW_CASE_TIMEOUT", "0")) > 0)
		limit = atoi(gt_env("GUPNW_CASE_TIMEOUT", "0"));
	return limit;
}

/* Run case c (variant v, or NULL) as TAP result number num. */
static int gt_run_case(const struct gt_case *c, const struct gt_variant *v,
		       long num)
{
	unsigned int limit = gt_case_limit(c);
	struct gt_shared *sh = gt_shared;
	struct sigaction sa;
	int status = 0, failed = 0;
	pid_t pid;

	snprintf(gt_cur_case, sizeof(gt_cur_case), "%s%s%s", c->name,
		 v ? "." : "", v ? v->name : "");
	gt_variant = v;
	memset(sh->case_checks, 0, sizeof(sh->case_checks));
	sh->skip_why[0] = sh->first_skip[0] = '\0';
	printf("# RUN %s:%s\n", gt_file_id(), gt_cur_case);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		gt_ok(0, "fork for the case: %s", gt_errname(errno));
		failed = 1;
		goto out;
	}
	if (!pid) {
		setpgid(0, 0);		/* its children die with it */
		signal(SIGALRM, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		gt_in_case = 1;
		gt_failures = 0;
		if (c->setup)
			c->setup();
		else if (gt_case_setup)
			gt_case_setup();
		c->fn();
		exit(gt_exit());
	}
	setpgid(pid, pid);
	gt_case_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gt_on_alarm;	/* no SA_RESTART: waitpid returns */
	sigaction(SIGALRM, &sa, NULL);
	gt_case_expired = 0;
	alarm(limit);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			break;
		if (gt_case_expired) {
			kill(-pid, SIGKILL);
			gt_case_expired = 2;
		}
	}
	alarm(0);
	kill(-pid, SIGKILL);		/* what it left behind */
	gt_case_pid = 0;
	failed = sh->case_checks[GT_FAIL] != 0;
	if (gt_case_expired) {
		gt_ok(0, "the case ends within %u s", limit);
		failed = 1;
	} else if (WIFSIGNALED(status)) {
		gt_ok(0, "the case is not killed (signal %d, %s)",
		      WTERMSIG(status), strsignal(WTERMSIG(status)));
		failed = 1;
	} else if (WEXITSTATUS(status) && !failed) {
		gt_ok(0, "the case exits with status 0, not %d",
		      WEXITSTATUS(status));
		failed = 1;
	} else if (!sh->case_checks[GT_PASS] && !sh->case_checks[GT_FAIL] &&
		   !sh->case_checks[GT_SKIPPED]) {
		/* it returned early without a word: say so, fail nothing */
		gt_result(1, " # SKIP the case made no check", "%s", "");
	}
out:
	if (failed)
		printf("not ok %ld %s:%s\n", num, gt_file_id(), gt_cur_case);
	else if (sh->skip_why[0])
		printf("ok %ld %s:%s # SKIP %s\n", num, gt_file_id(),
		       gt_cur_case, sh->skip_why);
	else if (!sh->case_checks[GT_PASS])
		printf("ok %ld %s:%s # SKIP %s\n", num, gt_file_id(),
		       gt_cur_case, sh->first_skip);
	else
		printf("ok %ld %s:%s\n", num, gt_file_id(), gt_cur_case);
	fflush(stdout);
	gt_cur_case[0] = '\0';
	gt_variant = NULL;
	return failed;
}

/* The number of TAP results the table gives: a case per variant. */
static size_t gt_count(const struct gt_case *cases, size_t n, int run,
		       long *num, int *failed)
{
	char name[160];
	size_t i, j, count = 0;

	for (i = 0; i < n; i++) {
		if (!cases[i].nvariants) {
			if (!gt_selected(cases[i].name))
				continue;
			count++;
			if (run)
				*failed |= gt_run_case(&cases[i], NULL, ++*num);
			continue;
		}
		for (j = 0; j < cases[i].nvariants; j++) {
			const struct gt_variant *v = &cases[i].variants[j];

			snprintf(name, sizeof(name), "%s.%s", cases[i].name,
				 v->name);
			if (!gt_selected(name))
				continue;
			count++;
			if (run)
				*failed |= gt_run_case(&cases[i], v, ++*num);
		}
	}
	return count;
}

int gt_main(const struct gt_case *cases, size_t n)
{
	return gt_main_setup(cases, n, NULL);
}

int gt_main_setup(const struct gt_case *cases, size_t n, void (*setup)(void))
{
	int failed = 0;
	long num = 0;

	gt_case_setup = setup;
	if (!gt_shared)
		gt_init();
	signal(SIGTERM, gt_on_term);
	if (!gt_plan_done) {
		gt_plan_done = 1;
		printf("1..%zu\n", gt_count(cases, n, 0, NULL, NULL));
	}
	gt_count(cases, n, 1, &num, &failed);
	gt_print_checks();
	fflush(stdout);
	return gt_exit() | failed;
}

/* The one main() of every test file (GT_FILE() registers the file). */
static const struct gt_file *gt_this_file;

void gt_register(const struct gt_file *f)
{
	gt_this_file = f;
}

__attribute__((weak)) int main(int argc, char **argv)
{
	const struct gt_file *f = gt_this_file;
	int status;

	if (!f) {
		printf("not ok 1 %s - the program registers its cases (GT_FILE)\n1..1\n",
		       gt_file_id());
		return 1;
	}
	if (argc > 1 && f->helper)
		return f->helper(argc, argv);
	gt_init();
#ifndef GT_NO_LIB
	if (f->lib && !(*f->lib = gupnw_open()))
		gt_bail("open %s: %s", gupnw_device_path(), gt_errname(errno));
#endif
	if (f->dev && (*f->dev = gt_dev_open()) < 0)
		gt_bail("open %s: %s", gt_dev_path(), gt_errname(errno));
	if (f->before && f->before())
		return gt_exit();	/* it skipped or bailed as a whole */
	status = gt_main_setup(f->cases, f->n, f->setup);
	if (f->after)
		status |= f->after();
#ifndef GT_NO_LIB
	if (f->lib)
		gupnw_close(*f->lib);
#endif
	if (f->dev)
		close(*f->dev);
	return gt_exit() | status;
}

static void gt_vline(const char *prefix, const char *fmt, va_list ap,
		     const char *suffix)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	printf("%s%s%s\n", prefix, buf, suffix ? suffix : "");
}

void gt_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gt_vline("# ", fmt, ap, NULL);
	va_end(ap);
}

static int gt_vok(int cond, const char *fmt, va_list ap)
{
	gt_vresult(!!cond, fmt, ap, NULL);
	return !!cond;
}

int gt_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cond = gt_vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

void gt_skip(const char *why, const char *fmt, ...)
{
	char suffix[512];
	va_list ap;

	snprintf(suffix, sizeof(suffix), " # SKIP %s", why);
	va_start(ap, fmt);
	gt_vresult(1, fmt, ap, suffix);
	va_end(ap);
}

void gt_case_skip(const char *fmt, ...)
{
	char why[512], suffix[520];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(suffix, sizeof(suffix), " # SKIP %s", why);
	gt_result(1, suffix, "%s", "");
	if (gt_cur_case[0] && !gt_shared->skip_why[0])
		snprintf(gt_shared->skip_why, sizeof(gt_shared->skip_why),
			 "%.200s", why);
	if (gt_in_case)
		exit(gt_exit());
}

void gt_bail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gt_vresult(0, fmt, ap, NULL);
	va_end(ap);
	exit(gt_exit());
}

int gt_eq(uint64_t expect, uint64_t got, const char *fmt, ...)
{
	int cond = expect == got;
	va_list ap;

	va_start(ap, fmt);
	gt_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		gt_diag("expected %llu (%#llx), got %llu (%#llx)",
			(unsigned long long)expect, (unsigned long long)expect,
			(unsigned long long)got, (unsigned long long)got);
	return cond;
}

static const struct {
	int err;
	const char *name;
} gt_errnames[] = {
	{ 0, "success" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" },
	{ ESRCH, "ESRCH" }, { EINTR, "EINTR" }, { EIO, "EIO" },
	{ EBADF, "EBADF" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" }, { EINVAL, "EINVAL" },
	{ ENOTTY, "ENOTTY" }, { ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" },
	{ ENOSYS, "ENOSYS" }, { EOVERFLOW, "EOVERFLOW" },
	{ E2BIG, "E2BIG" }, { EOPNOTSUPP, "EOPNOTSUPP" },
	{ ENXIO, "ENXIO" }, { EHWPOISON, "EHWPOISON" },
};

const char *gt_errname(int err)
{
	static char buf[32];
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(gt_errnames) / sizeof(gt_errnames[0]); i++)
		if (gt_errnames[i].err == err)
			return gt_errnames[i].name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static const char *gt_retname(long ret)
{
	static char buf[64];

	if (ret < 0)
		return gt_errname((int)-ret);
	snprintf(buf, sizeof(buf), "success (%ld)", ret);
	return buf;
}

int gt_err(long ret, int expect_errno, const char *fmt, ...)
{
	int cond = expect_errno ? ret == -expect_errno : ret >= 0;
	va_list ap;

	va_start(ap, fmt);
	gt_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		gt_diag("expected %s, got %s",
			expect_errno ? gt_errname(expect_errno) : "success",
			gt_retname(ret));
	return cond;
}

int gt_err2(long ret, int e1, int e2, const char *fmt, ...)
{
	int cond = ret == -e1 || ret == -e2;
	va_list ap;

	va_start(ap, fmt);
	gt_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		char want[64];

		snprintf(want, sizeof(want), "%s", gt_errname(e1));
		gt_diag("expected %s or %s, got %s", want, gt_errname(e2),
			gt_retname(ret));
	}
	return cond;
}

/* --- the device --- */

const char *gt_dev_path(void)
{
	return gt_env("GUPNW_DEVICE", "/dev/" GUPNW_DEVICE_NAME);
}

int gt_dev_open(void)
{
	return open(gt_dev_path(), O_RDWR | O_CLOEXEC);
}

long gt_ioctl(int fd, unsigned long cmd, void *arg)
{
	long ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

void gt_args_init(struct gupnw_probe_args *a, const void *addr, uint64_t len,
		  uint32_t flags, void *states)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = flags;
	a->addr = (uint64_t)(uintptr_t)addr;
	a->len = len;
	a->states = (uint64_t)(uintptr_t)states;
}

/* --- states --- */

void gt_tally(const unsigned char *s, size_t n, struct gt_tally *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case GUPNW_STATE_RESIDENT: t->r++; break;
		case GUPNW_STATE_FAULTED: t->f++; break;
		case GUPNW_STATE_RETRY: t->w++; break;
		case GUPNW_STATE_UNMAPPED: t->u++; break;
		case GUPNW_STATE_ERROR: t->e++; break;
		case GUPNW_STATE_NOTPRESENT: t->n++; break;
		case GUPNW_STATE_COLD: t->c++; break;
		default: t->other++; break;
		}
	}
}

const char *gt_states_str(const unsigned char *s, size_t n)
{
	static char buf[2048];
	size_t i = 0, pos = 0;

	if (!s)
		return "(no states)";
	buf[0] = '\0';
	if (n <= 64) {
		for (i = 0; i < n; i++)
			buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
		buf[n] = '\0';
		return buf;
	}
	while (i < n && pos < sizeof(buf) - 40) {
		size_t j = i;
		unsigned char c = s[i];

		while (j < n && s[j] == c)
			j++;
		if (c < 0x20 || c >= 0x7f)
			pos += snprintf(buf + pos, sizeof(buf) - pos,
					"\\x%02x*%zu ", c, j - i);
		else
			pos += snprintf(buf + pos, sizeof(buf) - pos,
					"%c*%zu ", c, j - i);
		i = j;
	}
	if (i < n)
		snprintf(buf + pos, sizeof(buf) - pos, "...");
	return buf;
}

long gt_match(const unsigned char *s, const char *pattern, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char p = pattern[i];

		if (p == '?')
			continue;
		if (p == 'r' && (s[i] == 'R' || s[i] == 'F'))
			continue;
		if (p == 'n' && (s[i] == 'N' || s[i] == 'C'))
			continue;
		if (s[i] != (unsigned char)p)
			return (long)i;
	}
	return -1;
}

int gt_args_tally_ok(const struct gupnw_probe_args *a,
		     const unsigned char *s, size_t n)
{
	struct gt_tally t;

	gt_tally(s, n, &t);
	return !t.other && a->nr_resident == t.r && a->nr_faulted == t.f &&
	       a->nr_retry == t.w && a->nr_unmapped == t.u &&
	       a->nr_error == t.e && a->nr_notpresent == t.n &&
	       a->nr_cold == t.c;
}

#ifndef GT_NO_LIB
int gt_counts_tally_ok(const struct gupnw_counts *c,
		       const unsigned char *s, size_t n)
{
	struct gt_tally t;

	gt_tally(s, n, &t);
	return !t.other && c->resident == t.r && c->faulted == t.f &&
	       c->retry == t.w && c->unmapped == t.u && c->error == t.e &&
	       c->notpresent == t.n && c->cold == t.c;
}

const char *gt_counts_str(const struct gupnw_counts *c)
{
	static char buf[256];

	snprintf(buf, sizeof(buf),
		 "R=%llu F=%llu W=%llu .=%llu E=%llu N=%llu C=%llu",
		 (unsigned long long)c->resident,
		 (unsigned long long)c->faulted, (unsigned long long)c->retry,
		 (unsigned long long)c->unmapped, (unsigned long long)c->error,
		 (unsigned long long)c->notpresent,
		 (unsigned long long)c->cold);
	return buf;
}

int gt_expect_probe(struct gupnw *g, pid_t pid, const void *addr,
		    size_t npages, unsigned int flags, const char *pattern,
		    unsigned char *out, const char *fmt, ...)
{
	struct gupnw_counts c;
	unsigned char *s = out ? out : malloc(npages + 1);
	int ret, err, pass;
	long bad = -1;
	va_list ap;

	if (!s)
		gt_bail("malloc states");
	memset(s, 0, npages);
	memset(&c, 0xff, sizeof(c));
	if (pid)
		ret = gupnw_probe_pid(g, pid, (uint64_t)(uintptr_t)addr,
				      npages * gt_page, flags, s, &c);
	else
		ret = gupnw_probe(g, addr, npages * gt_page, flags, s, &c);
	err = errno;
	pass = ret == 0;
	if (pass) {
		bad = gt_match(s, pattern, npages);
		pass = bad < 0 && gt_counts_tally_ok(&c, s, npages);
	}
	va_start(ap, fmt);
	gt_vok(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		if (ret)
			gt_diag("probe failed: %s (%s)", gt_errname(err),
				strerror(err));
		else {
			gt_diag("expected %.*s%s", npages > 64 ? 64 : (int)npages,
				pattern, npages > 64 ? "..." : "");
			gt_diag("got      %s", gt_states_str(s, npages));
			if (bad >= 0)
				gt_diag("first mismatch at page %ld: '%c'",
					bad, s[bad]);
			gt_diag("counts   %s%s", gt_counts_str(&c),
				gt_counts_tally_ok(&c, s, npages) ? "" :
				" (do not match the states)");
		}
	}
	if (!out)
		free(s);
	return pass;
}
#endif

char *gt_map_anon(size_t npages, int prot, int flags)
{
	char *p = mmap(NULL, npages * gt_page, prot, flags | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		gt_bail("mmap %zu anon pages: %s", npages, gt_errname(errno));
	madvise(p, npages * gt_page, MADV_NOHUGEPAGE);
	return p;
}

char *gt_repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		gt_bail("malloc");
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* --- page cache, mincore --- */

long gt_resident(const void *addr, size_t len)
{
	size_t n = (len + gt_page - 1) / gt_page, i;
	unsigned char *vec = malloc(n ? n : 1);
	long count = 0;

	if (!vec)
		return -1;
	if (mincore((void *)addr, len, vec)) {
		free(vec);
		return -1;
	}
	for (i = 0; i < n; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

int gt_page_resident(const void *addr)
{
	unsigned char v;

	if (mincore((void *)addr, gt_page, &v))
		return -1;
	return v & 1;
}

long gt_file_resident(int fd, off_t off, size_t len)
{
	struct stat st;
	void *p;
	long r;

	if (fstat(fd, &st))
		return -1;
	if (!len)
		len = st.st_size - off;
	if (!len)
		return 0;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		return -1;
	r = gt_resident(p, len);
	munmap(p, len);
	return r;
}

int gt_drop_caches(void)
{
	sync();
	return gt_write_file("/proc/sys/vm/drop_caches", "3\n");
}

int gt_make_cold(int fd)
{
	uint64_t end = gt_now_ns() + 30ULL * 1000000000ULL;
	long r = -1;

	for (;;) {
		fsync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		gt_drop_caches();
		r = gt_file_resident(fd, 0, 0);
		if (r == 0)
			return 0;
		if (gt_now_ns() > end)
			break;
		gt_sleep_ms(200);
	}
	gt_diag("make_cold: %ld pages still resident after 30 s", r);
	return -1;
}

int64_t gt_drain_throttle(const char *path)
{
	const size_t len = 128 * 1024;
	uint64_t t0;
	struct stat st;
	void *buf;
	off_t off;
	int fd;
	ssize_t n;

	if (posix_memalign(&buf, 4096, len))
		return -1;
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		/* No O_DIRECT: make the range cold and read it buffered. */
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			free(buf);
			return -1;
		}
	}
	if (fstat(fd, &st) || st.st_size < (off_t)len) {
		close(fd);
		free(buf);
		return -1;
	}
	off = (st.st_size - len) & ~(off_t)4095;
	posix_fadvise(fd, off, len, POSIX_FADV_DONTNEED);
	t0 = gt_now_ns();
	n = pread(fd, buf, len, off);
	t0 = gt_now_ns() - t0;
	close(fd);
	free(buf);
	return n == (ssize_t)len ? (int64_t)t0 : -1;
}

/* --- time --- */

uint64_t gt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

double gt_ms(uint64_t ns)
{
	return ns / 1e6;
}

void gt_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* --- processes and files --- */

const char *gt_env(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

int gt_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return 0;
}

long gt_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (got + 1 < size) {
		n = read(fd, buf + got, size - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		got += n;
	}
	buf[got] = '\0';
	close(fd);
	return (long)got;
}

static long gt_status_number(const char *path, const char *key)
{
	char buf[4096], *p;
	size_t klen = strlen(key);

	if (gt_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return strtol(p + klen + 1, NULL, 10);
	return -1;
}

long gt_status_kb(const char *key)
{
	return gt_status_number("/proc/self/status", key);
}

long gt_thread_status(const char *key)
{
	return gt_status_number("/proc/thread-self/status", key);
}

long gt_majflt(void)
{
	char buf[1024], *p;
	int field;

	if (gt_read_file("/proc/self/stat", buf, sizeof(buf)) < 0)
		return -1;
	/* comm may hold spaces: count fields after the last ')' (field 2) */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	for (field = 2; field < 12 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtol(p + 1, NULL, 10) : -1;
}

int gt_module_loaded(void)
{
	char buf[65536];

	if (gt_read_file("/proc/modules", buf, sizeof(buf)) < 0)
		return -1;
	return !strncmp(buf, "gupnw ", 6) || strstr(buf, "\ngupnw ") != NULL;
}

int gt_module_unload(void)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (!syscall(SYS_delete_module, "gupnw", O_NONBLOCK))
			return 0;
		if (errno == ENOENT)
			return 0;
		gt_sleep_ms(100);
	}
	return -1;
}

int gt_become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
		return -errno;
	/* A credential change clears "dumpable"; ptrace and /proc/PID/mem
	 * of this process by the same user need it back. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -errno;
	return 0;
}

/* read() or write() until len bytes went through: 0, or -1 (EOF, error). */
static int gt_xfer_all(int fd, char *p, size_t len, int wr)
{
	ssize_t n;

	while (len) {
		n = wr ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int gt_write_all(int fd, const void *buf, size_t len)
{
	return gt_xfer_all(fd, (char *)buf, len, 1);
}

int gt_read_all(int fd, void *buf, size_t len)
{
	return gt_xfer_all(fd, buf, len, 0);
}

/* One read from fd into buf; returns what read() returned (0: EOF). */
static ssize_t gt_drain_into(int fd, char *buf, size_t size, size_t *got)
{
	char scratch[512];
	ssize_t n;

	if (*got + 1 < size) {
		n = read(fd, buf + *got, size - 1 - *got);
		if (n > 0)
			*got += n;
	} else {
		n = read(fd, scratch, sizeof(scratch));
	}
	return n;
}

int gt_run(char *const argv[], uid_t uid, gid_t gid, unsigned int timeout_s,
	   char *out, size_t outsz, char *err, size_t errsz)
{
	int po[2], pe[2], status;
	size_t gout = 0, gerr = 0;
	uint64_t deadline;
	pid_t pid;
	int open_o = 1, open_e = 1;

	if (pipe(po))
		return -1;
	if (pipe(pe)) {
		close(po[0]);
		close(po[1]);
		return -1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		if (uid && gt_become(uid, gid))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	deadline = gt_now_ns() + (uint64_t)timeout_s * 1000000000ULL;
	while (open_o || open_e) {
		struct pollfd pfd[2] = {
			{ open_o ? po[0] : -1, POLLIN, 0 },
			{ open_e ? pe[0] : -1, POLLIN, 0 },
		};
		int64_t left = (int64_t)(deadline - gt_now_ns());

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(pfd, 2, (int)(left / 1000000 + 1)) < 0 &&
		    errno != EINTR)
			break;
		if (pfd[0].revents &&
		    gt_drain_into(po[0], out, outsz, &gout) <= 0)
			open_o = 0;
		if (pfd[1].revents &&
		    gt_drain_into(pe[0], err, errsz, &gerr) <= 0)
			open_e = 0;
	}
	close(po[0]);
	close(pe[0]);
	if (outsz)
		out[gout] = '\0';
	if (errsz)
		err[gerr] = '\0';
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int gt_fork_result(void (*body)(void *arg, int out), void *arg, void *result,
		   size_t size, unsigned int timeout_ms, int *status)
{
	int pr[2], st = 0, got = -1;
	pid_t pid;

	memset(result, 0, size);
	if (pipe(pr))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(pr[0]);
		close(pr[1]);
		return -1;
	}
	if (!pid) {
		close(pr[0]);
		body(arg, pr[1]);
		_exit(0);
	}
	close(pr[1]);
	if (timeout_ms) {
		struct pollfd pfd = { .fd = pr[0], .events = POLLIN };

		if (poll(&pfd, 1, (int)timeout_ms) == 1)
			got = gt_read_all(pr[0], result, size);
	} else {
		got = gt_read_all(pr[0], result, size);
	}
	close(pr[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	if (status)
		*status = st;
	return got;
}

pid_t gt_fork_held(void (*body)(void *arg, int out), void *arg, void *result,
		   size_t size, int *hold)
{
	int pa[2], ph[2];
	pid_t pid;
	char c;

	if (pipe(pa))
		return -1;
	if (pipe(ph)) {
		close(pa[0]);
		close(pa[1]);
		return -1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(pa[0]);
		close(pa[1]);
		close(ph[0]);
		close(ph[1]);
		return -1;
	}
	if (!pid) {
		close(pa[0]);
		close(ph[1]);
		body(arg, pa[1]);
		close(pa[1]);
		while (read(ph[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(pa[1]);
	close(ph[0]);
	if (gt_read_all(pa[0], result, size)) {
		close(pa[0]);
		gt_release(pid, ph[1]);
		return -1;
	}
	close(pa[0]);
	*hold = ph[1];
	return pid;
}

void gt_release(pid_t pid, int hold)
{
	close(hold);
	waitpid(pid, NULL, 0);
}

uint64_t gt_map_rrne(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	madvise(p, 4 * pg, MADV_NOHUGEPAGE);
	p[0] = 1;
	p[pg] = 1;
	if (mprotect(p + 3 * pg, pg, PROT_NONE)) {
		munmap(p, 4 * pg);
		return 0;
	}
	return (uintptr_t)p;
}

uint64_t gt_user_top(void)
{
	static char buf[65536];

	/* 5-level paging: user space reaches 2^56 - one guard page. */
	if (gt_read_file("/proc/cpuinfo", buf, sizeof(buf)) > 0 &&
	    strstr(buf, " la57"))
		return 0x00fffffffffff000ULL;
	return 0x00007ffffffff000ULL;
}
