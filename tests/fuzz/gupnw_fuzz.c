// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw_fuzz - a user-space fuzzer of the /dev/gupnw ioctls.
 *
 *   gupnw-fuzz [-t seconds] [-s seed] [-d data-file] [-n name] [-u uid]
 *
 * -t defaults to $GUPNW_FUZZ_SECONDS, else 10; -d to $GUPNW_DATA/cold-64m;
 * -n names this run in its TAP lines ("fuzz (name): ..."); -u drops to that
 * uid (and gid) first, to fuzz as an unprivileged user.
 *
 * Prober threads call GUPNW_IOC_PROBE and GUPNW_IOC_GET_INFO (and ioctl
 * numbers that do not exist) with random arguments, valid and invalid:
 * flags with unknown bits, sizes around VER0, sizeof and PAGE_SIZE with zero
 * or non-zero tails, reserved fields, nr_extents, states buffers that are
 * good, NULL, kernel addresses, read-only, cut short by a guard page or inside
 * the arena below, target fds of /proc/self/mem, of a child that keeps
 * exiting, of other files, closed or never opened.  The ranges lie mostly in
 * an arena that mutator threads keep changing (mmap anon/file, munmap,
 * mprotect, mremap, MADV_DONTNEED/PAGEOUT, touching), so the walk races with
 * every change of the address space.
 *
 * It checks only what must hold whatever the arguments: the process does not
 * crash, no call hangs (a watchdog), every failure is a documented errno, and
 * a successful probe's counts add up to its 'done'.  The kernel side (KASAN,
 * lockdep, kmemleak) is checked by the harness on the kernel log.
 *
 * Output is TAP without numbers, like the guest tests; exit status 1 on a
 * failure.  The seed is printed first: -s SEED repeats the argument stream
 * of each thread (not the interleaving, which the scheduler decides).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/gupnw.h>

#define NR_PROBERS	3
#define NR_MUTATORS	3
#define ARENA_PAGES	4096		/* 16 MiB the mutators keep changing */
#define STATES_PAGES	(ARENA_PAGES + 64)
#define MAX_EXT		64
#define CHILD_FD	200		/* /proc/<child>/mem, replaced by dup2() */
#define HANG_SECONDS	60		/* no prober progress this long: hang */

static long page;
static char *arena;			/* ARENA_PAGES, changed all the time */
static unsigned char *states;		/* STATES_PAGES, good */
static unsigned char *states_ro;	/* read-only page(s) */
static unsigned char *states_short;	/* one page, then a guard page */
static __thread char *args_page;	/* per prober: args near the end, guard after */
static const char *data_path;
static int data_fd = -1;
static int dev_fd;
static int fds[8];			/* target fd candidates */
static int nr_fds;
static char tag[80] = "fuzz";	/* TAP name prefix */
static atomic_bool stop;
static atomic_ulong nr_calls;
static atomic_ulong calls_of[NR_PROBERS];	/* per prober, for the watchdog */
static atomic_ulong nr_bad;
static atomic_ulong by_errno[256];

/* xorshift64*: small, seedable, one state per thread. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

static int chance(uint64_t *s, unsigned int percent)
{
	return below(s, 100) < percent;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&nr_bad, 1);
	/* Only the first few: a systematic failure must not flood the log. */
	if (atomic_load(&nr_bad) > 20)
		return;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* --- the mutators: keep the arena changing under the probes --- */

static void *mutator(void *arg)
{
	uint64_t s = (uintptr_t)arg;

	while (!atomic_load(&stop)) {
		size_t first = below(&s, ARENA_PAGES);
		size_t n = 1 + below(&s, chance(&s, 80) ? 16 : 512);
		char *p = arena + first * page;
		int prot = (int)below(&s, 8) & (PROT_READ | PROT_WRITE | PROT_EXEC);

		if (first + n > ARENA_PAGES)
			n = ARENA_PAGES - first;
		switch (below(&s, 9)) {
		case 0:	/* fresh anonymous memory */
			mmap(p, n * page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
			     (chance(&s, 30) ? MAP_POPULATE : 0), -1, 0);
			break;
		case 1:	/* file pages, cold or cached, shared or private */
			if (data_fd >= 0)
				mmap(p, n * page, PROT_READ | (chance(&s, 50) ? PROT_WRITE : 0),
				     (chance(&s, 50) ? MAP_SHARED : MAP_PRIVATE) |
				     MAP_FIXED, data_fd,
				     (off_t)below(&s, 1024) * page);
			break;
		case 2:	/* a hole: the only place probes see '.' */
			munmap(p, n * page);
			break;
		case 3:
			mprotect(p, n * page, prot);
			break;
		case 4: {	/* move pages elsewhere in the arena */
			size_t to = below(&s, ARENA_PAGES - n + 1);

			if (to != first)
				mremap(p, n * page, n * page,
				       MREMAP_MAYMOVE | MREMAP_FIXED,
				       arena + to * page);
			break;
		}
		case 5:
			madvise(p, n * page, MADV_DONTNEED);
			break;
		case 6:
			madvise(p, n * page, MADV_PAGEOUT);
			break;
		default: {	/* fault pages in, where that is allowed */
			unsigned char vec[16];
			size_t i, m = n < 16 ? n : 16;

			if (mincore(p, m * page, vec))
				break;
			for (i = 0; i < m; i++)
				if (chance(&s, 50))
					((volatile char *)p)[i * page] = 0;
			break;
		}
		}
	}
	return NULL;
}

/*
 * The arena's writes above can fault on pages made PROT_NONE or read-only
 * by another mutator, or on file pages past the end of the file: those
 * signals are the arena doing its job, not a failure.  The faulting store is
 * skipped by jumping past it would need per-instruction decoding; instead
 * the page is made writable anonymous memory and the store retried.
 */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	char *a = si->si_addr;

	(void)sig;
	(void)uc;
	if (a >= arena && a < arena + (size_t)ARENA_PAGES * page) {
		a = (char *)((uintptr_t)a & ~(uintptr_t)(page - 1));
		mmap(a, page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		return;
	}
	/* A fault anywhere else is a real crash: die as one. */
	signal(sig, SIG_DFL);
}

/* --- the probers --- */

static int documented(int e)
{
	switch (e) {
	case EINVAL: case E2BIG: case EFAULT: case EOVERFLOW: case ENOTTY:
	case EBADF: case ESRCH: case ENOMEM: case EINTR: case EOPNOTSUPP:
		return 1;
	}
	return 0;
}

/* Odd values a fifth of the time; the arena, where the walk races, the rest. */
static uint64_t rnd_addr(uint64_t *s)
{
	switch (below(s, 20)) {
	case 0:
		return rnd(s);				/* anything */
	case 1:
		return rnd(s) | 0xffff800000000000ULL;	/* kernel */
	case 2:	/* just below the top of user space */
		return 0x00007ffffffff000ULL - below(s, 64) * page;
	case 3:
		return 0;
	default:
		return (uintptr_t)arena + below(s, ARENA_PAGES) * page +
		       (chance(s, 5) ? 1 + below(s, page - 1) : 0);
	}
}

static uint64_t rnd_len(uint64_t *s)
{
	switch (below(s, 20)) {
	case 0:
		return rnd(s);
	case 1:
		return UINT64_MAX - below(s, 2 * page);
	case 2:
		return below(s, 3 * page);		/* 0, partial pages */
	case 3:
		return (1ULL << (30 + below(s, 18)));	/* 1 GiB .. 128 TiB */
	default:
		return (1 + below(s, chance(s, 70) ? 64 : ARENA_PAGES)) * page;
	}
}

static uint64_t rnd_states(uint64_t *s)
{
	switch (below(s, 12)) {
	case 0:
		return 0;
	case 1:
		return rnd(s);
	case 2:
		return rnd(s) | 0xffff800000000000ULL;
	case 3:
		return (uintptr_t)states_ro;
	case 4:	/* runs into the guard page after one page */
		return (uintptr_t)states_short + below(s, page);
	case 5:	/* inside the arena, which changes under the copy-out */
		return (uintptr_t)arena + below(s, ARENA_PAGES / 2) * page;
	default:	/* room for every page of the arena, or MAX_EXT runs */
		return (uintptr_t)states;
	}
}

static int rnd_fd(uint64_t *s)
{
	switch (below(s, 8)) {
	case 0:
		return -1;
	case 1:
		return (int)rnd(s);
	case 2:
		return 1000 + (int)below(s, 10);	/* never opened */
	case 3:
		return dev_fd;
	case 4:
	case 5:
		return CHILD_FD;
	default:
		return nr_fds ? fds[below(s, nr_fds)] : -1;
	}
}

static uint32_t rnd_size(uint64_t *s)
{
	static const uint32_t sizes[] = {
		0, 4, GUPNW_PROBE_ARGS_SIZE_VER0 - 8,
		GUPNW_PROBE_ARGS_SIZE_VER0 - 1, GUPNW_PROBE_ARGS_SIZE_VER0,
		GUPNW_PROBE_ARGS_SIZE_VER0 + 8,
		sizeof(struct gupnw_probe_args) - 8,
		sizeof(struct gupnw_probe_args),
		sizeof(struct gupnw_probe_args) + 1,
		sizeof(struct gupnw_probe_args) + 64,
	};

	switch (below(s, 10)) {
	case 0:
		return (uint32_t)page - (uint32_t)below(s, 2);
	case 1:
		return (uint32_t)page + 1 + (uint32_t)below(s, 2);
	case 2:
		return (uint32_t)rnd(s);
	case 3:
	case 4:
		return sizes[below(s, sizeof(sizes) / sizeof(sizes[0]))];
	default:
		return sizeof(struct gupnw_probe_args);
	}
}

/*
 * The argument struct sits at the end of args_page (a guard page follows),
 * so a large 'size' makes the kernel read or write past what is mapped.
 * Returns where it was put; 'size' bytes from there are valid when they fit.
 */
static void *place_args(uint64_t *s, uint32_t size, const void *a,
			size_t asize)
{
	size_t room = (size_t)2 * page;		/* two writable pages */
	size_t want = size > asize ? size : asize;
	char *at;

	if (want > room || chance(s, 10))
		at = args_page + room - asize;		/* hits the guard */
	else
		at = args_page + room - want;
	/* The tail beyond the struct: zero (valid) or not (E2BIG). */
	if (at + asize < args_page + room) {
		size_t tail = args_page + room - (at + asize);

		memset(at + asize, 0, tail);
		if (chance(s, 15))
			at[asize + below(s, tail)] = (char)(1 + below(s, 255));
	}
	memcpy(at, a, asize);
	return at;
}

static void check_probe_result(const struct gupnw_probe_args *a, long ret,
			       uint32_t size)
{
	uint64_t sum;

	if (ret || size < sizeof(*a))
		return;
	sum = a->nr_resident + a->nr_faulted + a->nr_retry + a->nr_unmapped +
	      a->nr_error + a->nr_notpresent + a->nr_cold;
	if (sum != a->done)
		fail("probe addr %#llx len %#llx flags %#x: counts add up to %llu, done %llu",
		     (unsigned long long)a->addr, (unsigned long long)a->len,
		     a->flags, (unsigned long long)sum,
		     (unsigned long long)a->done);
}

static void one_probe(uint64_t *s)
{
	struct gupnw_probe_args a, *at;
	uint32_t size;
	long ret;
	int i;

	memset(&a, 0, sizeof(a));
	a.flags = (uint32_t)below(s, GUPNW_PROBE_FLAGS_ALL + 1);
	if (chance(s, 5))
		a.flags |= 1U << (5 + below(s, 27));		/* unknown bit */
	if (chance(s, 30))
		a.flags &= ~GUPNW_PROBE_WAIT;	/* WAIT blocks on the disk: rarer */
	a.addr = rnd_addr(s);
	a.len = rnd_len(s);
	if (a.flags & GUPNW_PROBE_EXTENTS)
		a.nr_extents = chance(s, 5) ? 0 : 1 + (uint32_t)below(s, MAX_EXT);
	else if (chance(s, 3))
		a.nr_extents = (uint32_t)rnd(s);
	a.states = rnd_states(s);
	if (a.flags & GUPNW_PROBE_TARGET_FD)
		a.target_fd = rnd_fd(s);
	else if (chance(s, 3))
		a.target_fd = (int)rnd(s);
	if (chance(s, 3))
		a.reserved[below(s, sizeof(a.reserved) / sizeof(a.reserved[0]))] = rnd(s) | 1;
	/* Keep most byte-mode probes within the good states buffer. */
	if (a.states == (uintptr_t)states && !(a.flags & GUPNW_PROBE_EXTENTS) &&
	    a.len > (uint64_t)STATES_PAGES * page && chance(s, 90))
		a.len = (1 + below(s, ARENA_PAGES)) * page;
	size = rnd_size(s);
	a.size = size;

	at = place_args(s, size, &a, sizeof(a));
	ret = ioctl(dev_fd, GUPNW_IOC_PROBE, at);
	if (ret < 0) {
		i = errno;
		atomic_fetch_add(&by_errno[i & 255], 1);
		if (!documented(i))
			fail("PROBE size %u flags %#x addr %#llx len %#llx states %#llx fd %d nr_ext %u: errno %d (%s), not documented",
			     size, a.flags, (unsigned long long)a.addr,
			     (unsigned long long)a.len,
			     (unsigned long long)a.states, a.target_fd,
			     a.nr_extents, i, strerror(i));
		return;
	}
	atomic_fetch_add(&by_errno[0], 1);
	if (ret != 0)
		fail("PROBE returned %ld, not 0 or -1", ret);
	if ((char *)at + sizeof(a) <= args_page + 2 * page) {
		memcpy(&a, at, sizeof(a));
		check_probe_result(&a, ret, size);
	}
}

static void one_other(uint64_t *s)
{
	struct gupnw_info info;
	unsigned long cmd;
	void *at;
	long ret;
	int e;

	memset(&info, 0, sizeof(info));
	info.size = chance(s, 50) ? sizeof(info) :
		    (uint32_t)(chance(s, 50) ? below(s, 2 * page) : rnd(s));
	switch (below(s, 6)) {
	case 0:
		cmd = _IOC(below(s, 4), GUPNW_IOC_MAGIC, below(s, 256),
			   below(s, 1 << 14));
		break;
	case 1:
		cmd = (unsigned long)rnd(s);
		break;
	default:
		cmd = GUPNW_IOC_GET_INFO;
		break;
	}
	at = place_args(s, info.size, &info, sizeof(info));
	if (chance(s, 5))
		at = (void *)(uintptr_t)rnd_states(s);
	ret = ioctl(dev_fd, cmd, at);
	e = ret < 0 ? errno : 0;
	atomic_fetch_add(&by_errno[e & 255], 1);
	if (ret < 0 && !documented(e))
		fail("ioctl cmd %#lx size %u: errno %d (%s), not documented",
		     cmd, info.size, e, strerror(e));
}

struct prober_arg {
	uint64_t seed;
	char *args;		/* three pages, the last one PROT_NONE */
	int idx;
};

static void *prober(void *arg)
{
	struct prober_arg *pa = arg;
	uint64_t s = pa->seed;

	args_page = pa->args;
	while (!atomic_load(&stop)) {
		if (chance(&s, 90))
			one_probe(&s);
		else
			one_other(&s);
		atomic_fetch_add(&nr_calls, 1);
		atomic_fetch_add(&calls_of[pa->idx], 1);
	}
	return NULL;
}

/* --- targets: a child that keeps exiting --- */

static pid_t child_start(uint64_t *s)
{
	unsigned int ms = 1 + (unsigned int)below(s, 300);
	char path[64];
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		size_t n = 64;
		char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		if (p != MAP_FAILED)
			memset(p, 1, n * page / 2);
		nanosleep(&ts, NULL);
		_exit(0);
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, chance(s, 50) ? O_RDWR : O_RDONLY);
	if (fd >= 0) {
		/* Atomically replaces the one the probers may be using. */
		dup2(fd, CHILD_FD);
		close(fd);
	}
	return pid;
}

static void usage(void)
{
	fprintf(stderr, "usage: gupnw-fuzz [-t seconds] [-s seed] [-d data-file] [-n name] [-u uid]\n");
	exit(2);
}

static void *map_or_die(size_t len, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED) {
		printf("not ok - %s: setup: mmap: %s\n", tag, strerror(errno));
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	pthread_t th[NR_PROBERS + NR_MUTATORS];
	const char *env = getenv("GUPNW_FUZZ_SECONDS");
	unsigned long seconds = env ? strtoul(env, NULL, 0) : 10;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	struct prober_arg pa[NR_PROBERS];
	unsigned long last_calls[NR_PROBERS] = { 0 }, calls;
	time_t start, last_progress[NR_PROBERS];
	struct sigaction sa;
	uint64_t cs;
	pid_t child = -1;
	int opt, i, stuck = 0;
	uid_t uid = (uid_t)-1;
	char data_buf[256];
	char *ro;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("GUPNW_DATA")) {
		snprintf(data_buf, sizeof(data_buf), "%s/cold-64m",
			 getenv("GUPNW_DATA"));
		data_path = data_buf;
	}
	while ((opt = getopt(argc, argv, "t:s:d:n:u:")) != -1) {
		switch (opt) {
		case 't':
			seconds = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			data_path = optarg;
			break;
		case 'n':
			snprintf(tag, sizeof(tag), "fuzz (%s)", optarg);
			break;
		case 'u':
			uid = (uid_t)strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	/* Dumpable again after setuid: /proc/self/mem needs it. */
	if (uid != (uid_t)-1 &&
	    (setgroups(0, NULL) || setgid(uid) || setuid(uid) ||
	     prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))) {
		printf("not ok - %s: setup: become uid %u: %s\n", tag,
		       (unsigned int)uid, strerror(errno));
		return 1;
	}
	if (!seed)
		seed = 1;		/* xorshift's one bad seed */
	printf("# gupnw-fuzz: %s: seed %#" PRIx64 " (-s to repeat), %lu s, %d probers, %d mutators\n",
	       tag, seed, seconds, NR_PROBERS, NR_MUTATORS);

	page = sysconf(_SC_PAGESIZE);
	dev_fd = open(getenv("GUPNW_DEVICE") ? getenv("GUPNW_DEVICE") : "/dev/gupnw",
		      O_RDWR);
	if (dev_fd < 0) {
		printf("not ok - %s: open /dev/gupnw: %s\n", tag, strerror(errno));
		return 1;
	}
	if (data_path)
		data_fd = open(data_path, O_RDWR);
	if (data_path && data_fd < 0)
		data_fd = open(data_path, O_RDONLY);

	arena = map_or_die((size_t)ARENA_PAGES * page, PROT_READ | PROT_WRITE,
			   MAP_NORESERVE);
	states = map_or_die((size_t)STATES_PAGES * page, PROT_READ | PROT_WRITE,
			    MAP_POPULATE);
	ro = map_or_die((size_t)page, PROT_READ, 0);
	states_ro = (unsigned char *)ro;
	states_short = map_or_die((size_t)2 * page, PROT_READ | PROT_WRITE, 0);
	mprotect(states_short + page, page, PROT_NONE);
	for (i = 0; i < NR_PROBERS; i++) {
		pa[i].args = map_or_die((size_t)3 * page, PROT_READ | PROT_WRITE,
					MAP_POPULATE);
		mprotect(pa[i].args + 2 * page, page, PROT_NONE);
		pa[i].seed = seed * (2 * i + 101) | 1;
		pa[i].idx = i;
	}

	/* Target candidates; /proc/self/mem read-only and read-write. */
	fds[nr_fds++] = open("/proc/self/mem", O_RDONLY);
	fds[nr_fds++] = open("/proc/self/mem", O_RDWR);
	fds[nr_fds++] = open("/dev/null", O_RDONLY);
	fds[nr_fds++] = open("/proc/self/maps", O_RDONLY);
	if (data_fd >= 0)
		fds[nr_fds++] = data_fd;
	i = open("/dev/null", O_RDONLY);	/* a closed descriptor */
	close(i);
	fds[nr_fds++] = i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	cs = seed ^ 0x9e3779b97f4a7c15ULL;
	child = child_start(&cs);
	for (i = 0; i < NR_MUTATORS; i++)
		pthread_create(&th[i], NULL, mutator,
			       (void *)(uintptr_t)(seed * (2 * i + 3) | 1));
	for (i = 0; i < NR_PROBERS; i++)
		pthread_create(&th[NR_MUTATORS + i], NULL, prober, &pa[i]);

	/* The main thread: children, the clock and the watchdog. */
	start = time(NULL);
	for (i = 0; i < NR_PROBERS; i++)
		last_progress[i] = start;
	while ((unsigned long)(time(NULL) - start) < seconds) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
		if (child > 0 && waitpid(child, NULL, WNOHANG) == child) {
			/* Sometimes keep the dead child's fd a while: ESRCH. */
			if (chance(&cs, 50))
				child = child_start(&cs);
			else
				child = 0;
		} else if (child == 0 && chance(&cs, 20)) {
			child = child_start(&cs);
		}
		/* Each prober on its own: one stuck call is a hang. */
		for (i = 0; i < NR_PROBERS; i++) {
			calls = atomic_load(&calls_of[i]);
			if (calls != last_calls[i]) {
				last_calls[i] = calls;
				last_progress[i] = time(NULL);
			} else if (time(NULL) - last_progress[i] > HANG_SECONDS) {
				stuck = 1;
			}
		}
		if (stuck)
			break;
	}
	if (stuck) {
		/* The probers are stuck in the kernel: joining would hang. */
		printf("not ok - %s: an ioctl did not return for %d s (seed %#" PRIx64 ")\n",
		       tag, HANG_SECONDS, seed);
		fflush(stdout);
		_exit(1);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < NR_PROBERS + NR_MUTATORS; i++)
		pthread_join(th[i], NULL);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}

	printf("# gupnw-fuzz: %s: %lu ioctls in %ld s\n",
	       tag, atomic_load(&nr_calls), (long)(time(NULL) - start));
	for (i = 0; i < 256; i++)
		if (atomic_load(&by_errno[i]))
			printf("# %s:   %-12s %lu\n", tag, i ? strerrorname_np(i) : "success",
			       atomic_load(&by_errno[i]));
	if (!atomic_load(&by_errno[0]))
		fail("not one call succeeded: the fuzzer tests only argument checks");
	printf("%s - %s: %lu ioctls with random arguments over a changing address space: only documented errnos, consistent counts (seed %#" PRIx64 ")\n",
	       atomic_load(&nr_bad) ? "not ok" : "ok", tag,
	       atomic_load(&nr_calls), seed);
	printf("ok - %s: no ioctl took %d s\n", tag, HANG_SECONDS);
	return atomic_load(&nr_bad) ? 1 : 0;
}
