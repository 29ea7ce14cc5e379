// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw_fuzz - a user-space fuzzer of the /dev/gupnw ioctls and io_uring
 * commands.
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
 * every change of the address space.  One more thread does the same through
 * io_uring (IORING_OP_URING_CMD: PROBE, READY with and without a worker,
 * CANCEL, other cmd_op values, bad
 * payloads and SQE fields, cancels, linked timeouts, rings closed with
 * commands pending; see the io_uring section below).
 *
 * It checks only what must hold whatever the arguments: the process does not
 * crash, no call hangs (a watchdog), every failure is a documented errno, and
 * a successful probe's counts add up to its 'done' (a READY's: its result
 * and the pages it reports present, error and unmapped).  The kernel side (KASAN,
 * lockdep, kmemleak) is checked by the harness on the kernel log.
 *
 * Output is TAP without numbers, like the guest tests; exit status 1 on a
 * failure.  The seed is printed first: -s SEED repeats the argument stream
 * of each thread (not the interleaving, which the scheduler decides; the
 * io_uring thread's stream also depends on which of its commands have
 * completed when it picks the next free argument block).
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
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

#include <liburing.h>
#include <linux/gupnw.h>

#define NR_PROBERS	3
#define NR_MUTATORS	3
#define ARENA_PAGES	4096		/* 16 MiB the mutators keep changing */
#define STATES_PAGES	(ARENA_PAGES + 64)
#define MAX_EXT		64
#define CHILD_FD	200		/* /proc/<child>/mem, replaced by dup2() */
#define HANG_SECONDS	60		/* no prober progress this long: hang */
#define ARENA_HINT	((char *)0x100000000000ULL)	/* 16 TiB: see main() */

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
static atomic_ulong calls_of[NR_PROBERS + 1];	/* per prober and the uring
						 * thread, for the watchdog */
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

/* Random PROBE arguments (not placed yet: see place_args()). */
static void rnd_probe_args(uint64_t *s, struct gupnw_probe_args *a)
{
	memset(a, 0, sizeof(*a));
	a->flags = (uint32_t)below(s, GUPNW_PROBE_FLAGS_ALL + 1);
	if (chance(s, 5))
		a->flags |= 1U << (5 + below(s, 27));		/* unknown bit */
	if (chance(s, 30))
		a->flags &= ~GUPNW_PROBE_WAIT;	/* WAIT blocks on the disk: rarer */
	a->addr = rnd_addr(s);
	a->len = rnd_len(s);
	if (a->flags & GUPNW_PROBE_EXTENTS)
		a->nr_extents = chance(s, 5) ? 0 : 1 + (uint32_t)below(s, MAX_EXT);
	else if (chance(s, 3))
		a->nr_extents = (uint32_t)rnd(s);
	a->states = rnd_states(s);
	if (a->flags & GUPNW_PROBE_TARGET_FD)
		a->target_fd = rnd_fd(s);
	else if (chance(s, 3))
		a->target_fd = (int)rnd(s);
	if (chance(s, 3))
		a->reserved[below(s, sizeof(a->reserved) / sizeof(a->reserved[0]))] = rnd(s) | 1;
	/* Keep most byte-mode probes within the good states buffer. */
	if (a->states == (uintptr_t)states && !(a->flags & GUPNW_PROBE_EXTENTS) &&
	    a->len > (uint64_t)STATES_PAGES * page && chance(s, 90))
		a->len = (1 + below(s, ARENA_PAGES)) * page;
}

static void one_probe(uint64_t *s)
{
	struct gupnw_probe_args a, *at;
	uint32_t size;
	long ret;
	int i;

	rnd_probe_args(s, &a);
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

/*
 * --- io_uring: random GUPNW_URING_CMD_* submissions ---
 *
 * One thread with a ring of its own (now and then closed with commands
 * pending, and set up again with random flags: SQE128, SQPOLL, IOPOLL,
 * registered files, one io-wq worker) submits IORING_OP_URING_CMD SQEs:
 * PROBE and READY mostly, other cmd_op values, the args pointer good or
 * bad, the payload's reserved word, uring_cmd_flags, fds that are not
 * /dev/gupnw, IOSQE_ASYNC, linked timeouts (no IOSQE_IO_DRAIN: see below), IORING_OP_ASYNC_CANCEL of
 * pending commands (by user_data, fd, any), and argument blocks changed
 * while their command is pending.  Every CQE must carry a result or an
 * errno that command can give; a successful one counts that add up.
 */
#define URING_SLOTS	32		/* argument blocks, each 2 pages + guard */
#define URING_QUARANTINE 10		/* s a slot rests after its ring closed */
enum { U_CMD = 1, U_CANCEL, U_TIMEOUT };

struct uslot {
	char *mem;
	struct gupnw_probe_args *at;	/* where the block was placed */
	uint32_t op;			/* cmd_op sent */
	uint32_t size;
	uint32_t gen;
	uint8_t sqe_flags;
	int busy;
	int checkable;			/* the whole block is ours, unchanged */
	time_t since, rest_until;
};

static struct uslot uslots[URING_SLOTS];
static atomic_ulong u_sqes, u_cqes, u_rings, u_cancels, u_timeouts, u_scribbles;
static atomic_ulong u_res[3][256];	/* by kind (PROBE, READY, other): -res */
static atomic_ulong u_ready_pages;
/*
 * READYs whose argument block, when their CQE came, did not hold their
 * result.  6.12's io_uring copies the SQE of a command its driver sends to
 * io-wq (-EAGAIN) but leaves ioucmd->sqe pointing into the SQ ring (6.12
 * io_uring/uring_cmd.c:255-260), so the io-wq issue reads whatever SQE the
 * submitter has put into that slot since: READY (always sent to io-wq) runs
 * another command's payload and writes its result there.  Counted apart.
 */
static atomic_ulong u_misplaced, u_ready_checked;
static atomic_ulong u_submit_err[256];

static uint64_t u_ud(int type, unsigned int slot, uint32_t gen)
{
	return (uint64_t)gen << 16 | (uint64_t)type << 8 | slot;
}

static int u_kind(uint32_t op)
{
	return op == GUPNW_URING_CMD_PROBE ? 0 :
	       op == GUPNW_URING_CMD_READY ? 1 : 2;
}

static int u_errno_ok(int type, int e)
{
	switch (type) {
	case U_CMD:	/* the ioctl's, a cancel's, and io_uring's own */
		return documented(e) || e == ECANCELED;
	case U_CANCEL:
		return e == ENOENT || e == EALREADY || e == EINVAL ||
		       e == EBADF || e == ECANCELED;
	default:	/* a linked timeout */
		return e == ETIME || e == ECANCELED || e == ENOENT ||
		       e == EALREADY || e == EINVAL;
	}
}

static void u_check_cmd(struct uslot *us, int res)
{
	struct gupnw_probe_args a;
	uint64_t sum;

	atomic_fetch_add(&u_res[u_kind(us->op)][res < 0 ? -res & 255 : 0], 1);
	/* CANCEL: how many READYs it found, or none */
	if (us->op == GUPNW_URING_CMD_CANCEL && (res >= 0 || res == -ENOENT))
		return;
	if (res < 0) {
		if (!u_errno_ok(U_CMD, -res))
			fail("uring cmd_op %#x size %u: res %d (%s), not documented",
			     us->op, us->size, res, strerror(-res));
		return;
	}
	if (us->op != GUPNW_URING_CMD_READY && res > 0) {
		fail("uring cmd_op %#x: res %d, not 0 or -errno", us->op, res);
		return;
	}
	if (!us->checkable || us->size < sizeof(a))
		return;
	memcpy(&a, us->at, sizeof(a));
	if (us->op == GUPNW_URING_CMD_PROBE) {
		check_probe_result(&a, 0, us->size);
		return;
	}
	atomic_fetch_add(&u_ready_pages, (unsigned long)res);
	sum = a.nr_resident + a.nr_error + a.nr_unmapped;
	atomic_fetch_add(&u_ready_checked, 1);
	if ((a.nr_resident != (uint64_t)res || sum != a.done ||
	     a.nr_faulted || a.nr_retry || a.nr_notpresent || a.nr_cold) &&
	    atomic_fetch_add(&u_misplaced, 1) < 5)
		printf("# %s: uring READY addr %#llx len %#llx flags %#x size %u sqe flags %#x: res %d, done %llu, resident %llu error %llu unmapped %llu (others %llu %llu %llu %llu)\n",
		     tag, (unsigned long long)a.addr, (unsigned long long)a.len,
		     a.flags, us->size, us->sqe_flags, res, (unsigned long long)a.done,
		     (unsigned long long)a.nr_resident,
		     (unsigned long long)a.nr_error,
		     (unsigned long long)a.nr_unmapped,
		     (unsigned long long)a.nr_faulted,
		     (unsigned long long)a.nr_retry,
		     (unsigned long long)a.nr_notpresent,
		     (unsigned long long)a.nr_cold);
}

static unsigned long u_inflight;	/* SQEs queued whose CQE has not come */

static void u_reap(struct io_uring *ring, unsigned int wait_ms)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { 0, (long long)wait_ms * 1000000 };
	int ret;

	if (wait_ms && u_inflight) {
		ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
		if (ret && ret != -ETIME && ret != -EINTR && ret != -EAGAIN)
			atomic_fetch_add(&u_submit_err[-ret & 255], 1);
	}
	while (!io_uring_peek_cqe(ring, &cqe)) {
		uint64_t ud = cqe->user_data;
		int type = (ud >> 8) & 255, res = cqe->res;
		unsigned int slot = ud & 255, cqe_flags = cqe->flags;

		io_uring_cqe_seen(ring, cqe);
		atomic_fetch_add(&u_cqes, 1);
		if (u_inflight)
			u_inflight--;
		if (type == U_CMD && slot < URING_SLOTS &&
		    uslots[slot].busy && uslots[slot].gen == (uint32_t)(ud >> 16)) {
			u_check_cmd(&uslots[slot], res);
			uslots[slot].busy = 0;
		} else if (type == U_CMD) {
			fail("uring: CQE for a command not pending (user_data %#llx res %d flags %#x; ring flags %#x, slot gen %u busy %d rings %lu)",
			     (unsigned long long)ud, res, cqe_flags, ring->flags,
			     slot < URING_SLOTS ? uslots[slot].gen : 0,
			     slot < URING_SLOTS ? uslots[slot].busy : 0,
			     atomic_load(&u_rings));
		} else if (res < 0 && !u_errno_ok(type, -res)) {
			fail("uring: %s: res %d (%s), not documented",
			     type == U_CANCEL ? "ASYNC_CANCEL" : "LINK_TIMEOUT",
			     res, strerror(-res));
		}
	}
}

static int u_ring_up(struct io_uring *ring, uint64_t *s, int *sqe128)
{
	struct io_uring_params p;
	unsigned int entries = 8U << below(s, 4);
	int ret, files[4];

	memset(&p, 0, sizeof(p));
	switch (below(s, 20)) {
	case 0:
	case 1:
		p.flags = IORING_SETUP_SQE128;
		break;
	case 2:
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 10;
		break;
	case 3:
		p.flags = IORING_SETUP_IOPOLL;	/* refused by the module */
		break;
	}
	ret = io_uring_queue_init_params(entries, ring, &p);
	if (ret && p.flags) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(entries, ring, &p);
	}
	if (ret)
		return ret;
	*sqe128 = !!(p.flags & IORING_SETUP_SQE128);
	atomic_fetch_add(&u_rings, 1);
	if (chance(s, 30)) {
		files[0] = dev_fd;
		files[1] = data_fd >= 0 ? data_fd : dev_fd;
		files[2] = fds[2];
		files[3] = dev_fd;
		io_uring_register_files(ring, files, 4);
	}
	if (chance(s, 20)) {	/* READYs queue behind one io-wq worker */
		unsigned int max[2] = { 1, 1 };

		io_uring_register_iowq_max_workers(ring, max);
	}
	return 0;
}

/* Close the ring with whatever is pending: io_uring cancels it. */
static void u_ring_down(struct io_uring *ring)
{
	time_t now = time(NULL);
	int i;

	io_uring_queue_exit(ring);
	for (i = 0; i < URING_SLOTS; i++)
		if (uslots[i].busy) {
			/* its write-back may still come: rest a while */
			uslots[i].busy = 0;
			uslots[i].rest_until = now + URING_QUARANTINE;
		}
	u_inflight = 0;
}

static int u_free_slot(uint64_t *s)
{
	unsigned int i, start = (unsigned int)below(s, URING_SLOTS);
	time_t now = time(NULL);

	for (i = 0; i < URING_SLOTS; i++) {
		unsigned int k = (start + i) % URING_SLOTS;

		if (!uslots[k].busy && uslots[k].rest_until <= now)
			return (int)k;
	}
	return -1;
}

static int u_busy_slot(uint64_t *s)
{
	unsigned int i, start = (unsigned int)below(s, URING_SLOTS);

	for (i = 0; i < URING_SLOTS; i++)
		if (uslots[(start + i) % URING_SLOTS].busy)
			return (int)((start + i) % URING_SLOTS);
	return -1;
}

static uint32_t u_rnd_op(uint64_t *s)
{
	switch (below(s, 20)) {
	case 0:
		return (uint32_t)rnd(s);
	case 1:		/* a neighbour of ours */
		return _IOWR(GUPNW_IOC_MAGIC, 0x22 + below(s, 8),
			     struct gupnw_uring_cmd);
	case 2:
		return GUPNW_IOC_PROBE;
	case 3:
	case 4:
		return GUPNW_URING_CMD_CANCEL;
	default:
		return chance(s, 50) ? GUPNW_URING_CMD_PROBE :
				       GUPNW_URING_CMD_READY;
	}
}

/* One URING_CMD SQE, maybe with a linked timeout after it. */
static void u_one_cmd(struct io_uring *ring, uint64_t *s, int sqe128,
		      int slot)
{
	static const struct __kernel_timespec tss[] = {
		{ 0, 0 }, { 0, 100000 }, { 0, 2000000 }, { 0, 20000000 },
	};
	struct uslot *us = &uslots[slot];
	struct io_uring_sqe *sqe, *ts_sqe;
	struct gupnw_uring_cmd cmd;
	struct gupnw_probe_args a;
	int link = chance(s, 10);

	sqe = io_uring_get_sqe(ring);
	if (!sqe)
		return;
	if (link && io_uring_sq_space_left(ring) < 1)
		link = 0;
	us->op = u_rnd_op(s);
	rnd_probe_args(s, &a);
	/* READY takes WRITE and TARGET_FD only: mostly keep to those */
	if (us->op == GUPNW_URING_CMD_READY && chance(s, 80)) {
		a.flags &= GUPNW_PROBE_WRITE | GUPNW_PROBE_TARGET_FD;
		if (!(a.flags & GUPNW_PROBE_TARGET_FD))
			a.target_fd = 0;
		a.nr_extents = 0;
	}
	us->size = rnd_size(s);
	a.size = us->size;
	args_page = us->mem;
	us->at = place_args(s, us->size, &a, sizeof(a));
	us->checkable = (char *)us->at + sizeof(a) <= us->mem + 2 * page;

	memset(&cmd, 0, sizeof(cmd));
	cmd.args = (uintptr_t)us->at;
	if (chance(s, 10)) {
		cmd.args = rnd_states(s);	/* NULL, kernel, read-only, ... */
		us->checkable = 0;
	}
	/* READY without a worker half the time; flags anywhere, now and then */
	if (us->op == GUPNW_URING_CMD_READY && chance(s, 50))
		cmd.flags = GUPNW_URING_READY_NOWORKER;
	else if (chance(s, 4))
		cmd.flags = (uint32_t)rnd(s);
	if (chance(s, 4))
		cmd.reserved = (uint32_t)rnd(s) | 1;
	/* CANCEL names a READY by its block: mostly one that may be pending */
	if (us->op == GUPNW_URING_CMD_CANCEL) {
		if (chance(s, 80))
			cmd.args = (uintptr_t)uslots[below(s, URING_SLOTS)].at;
		us->checkable = 0;
	}

	memset(sqe, 0, sqe128 ? 128 : 64);
	sqe->opcode = IORING_OP_URING_CMD;
	switch (below(s, 20)) {
	case 0:
		sqe->fd = data_fd >= 0 ? data_fd : fds[2];
		break;
	case 1:
		sqe->fd = fds[below(s, nr_fds)];
		break;
	case 2:		/* a registered file, or an index that is none */
		sqe->fd = (int)below(s, 6);
		sqe->flags |= IOSQE_FIXED_FILE;
		break;
	case 3:
		sqe->fd = (int)rnd(s);
		break;
	default:
		sqe->fd = dev_fd;
		break;
	}
	sqe->cmd_op = us->op;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
	if (sqe128 && chance(s, 20))	/* the big SQE's tail: not ours */
		memset((char *)sqe->cmd + sizeof(cmd), (int)rnd(s), 64);
	if (chance(s, 3))
		sqe->uring_cmd_flags = (uint32_t)rnd(s);
	if (chance(s, 3))
		sqe->ioprio = (uint16_t)rnd(s);
	if (chance(s, 15))
		sqe->flags |= IOSQE_ASYNC;
	/*
	 * No IOSQE_IO_DRAIN.  A drained request, and every one submitted while
	 * it waits, is issued after io_uring_submit() returned, and 6.12's
	 * io_uring copies a uring_cmd's SQE at prep only with IOSQE_ASYNC
	 * (6.12 io_uring/uring_cmd.c:189-193): such a command read a later
	 * SQE from the reused SQ slot and ran another command's payload (seen
	 * here as READY results in the wrong argument block).  With ASYNC on
	 * every command after a DRAIN, 6.12 instead kept a drained command
	 * (an unknown cmd_op, -ENOTTY at once) deferred for 95 s, the io-wq
	 * worker idle and no thread in the module, and all later ones behind
	 * it.  Both are io_uring's own, not the module's.
	 */
	us->sqe_flags = sqe->flags | (link ? IOSQE_IO_LINK : 0);
	us->gen++;
	us->busy = 1;
	us->since = time(NULL);
	sqe->user_data = u_ud(U_CMD, (unsigned int)slot, us->gen);
	u_inflight++;
	atomic_fetch_add(&u_sqes, 1);
	if (!link)
		return;
	sqe->flags |= IOSQE_IO_LINK;
	ts_sqe = io_uring_get_sqe(ring);
	if (!ts_sqe) {		/* cannot happen: space was checked */
		sqe->flags &= ~IOSQE_IO_LINK;
		return;
	}
	io_uring_prep_link_timeout(ts_sqe, (struct __kernel_timespec *)
				   &tss[below(s, 4)], 0);
	ts_sqe->user_data = u_ud(U_TIMEOUT, 0, 0);
	u_inflight++;
	atomic_fetch_add(&u_sqes, 1);
	atomic_fetch_add(&u_timeouts, 1);
}

static void u_one_cancel(struct io_uring *ring, uint64_t *s)
{
	static const unsigned int how[] = {
		0, IORING_ASYNC_CANCEL_ALL, IORING_ASYNC_CANCEL_ANY,
		IORING_ASYNC_CANCEL_FD, IORING_ASYNC_CANCEL_FD |
		IORING_ASYNC_CANCEL_ALL,
	};
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int slot = u_busy_slot(s);
	unsigned int flags = how[below(s, 5)];
	uint64_t target;

	if (!sqe)
		return;
	target = slot >= 0 && chance(s, 80) ?
		 u_ud(U_CMD, (unsigned int)slot, uslots[slot].gen) : rnd(s);
	if (chance(s, 5))
		flags |= 1U << below(s, 32);	/* unknown, or FD_FIXED */
	io_uring_prep_cancel64(sqe, target, (int)flags);
	if (flags & IORING_ASYNC_CANCEL_FD)
		sqe->fd = chance(s, 80) ? dev_fd : (int)below(s, 8);
	sqe->user_data = u_ud(U_CANCEL, 0, 0);
	u_inflight++;
	atomic_fetch_add(&u_sqes, 1);
	atomic_fetch_add(&u_cancels, 1);
}

/* Where each thread of ours (io-wq workers too) sleeps: for a hang. */
static void dump_tasks(void)
{
	static const char *const what[] = { "comm", "wchan", "stack" };
	char path[300], buf[2048];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	size_t k;
	ssize_t n;
	int fd;

	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		for (k = 0; k < 3; k++) {
			snprintf(path, sizeof(path), "/proc/self/task/%s/%s",
				 d->d_name, what[k]);
			fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
				printf("# %s: task %s %s: %s\n", tag, d->d_name,
				       what[k], l);
		}
	}
	if (dir)
		closedir(dir);
}

static void *uring_fuzzer(void *arg)
{
	struct prober_arg *pa = arg;
	uint64_t s = pa->seed;
	struct io_uring ring;
	unsigned long iter = 0;
	int up = 0, sqe128 = 0, i, ret, slot, dumped = 0;
	time_t now;

	while (!atomic_load(&stop)) {
		iter++;
		atomic_fetch_add(&calls_of[pa->idx], 1);
		if (!up) {
			ret = u_ring_up(&ring, &s, &sqe128);
			if (ret) {
				printf("# %s: uring: no ring (%s): the uring part does not run\n",
				       tag, strerror(-ret));
				return NULL;
			}
			up = 1;
		}
		/* every block in use: wait for a CQE, not a spin of cancels */
		for (i = u_free_slot(&s) < 0 ? 0 : 1 + (int)below(&s, 4); i > 0;
		     i--) {
			if (chance(&s, 10)) {
				u_one_cancel(&ring, &s);
				continue;
			}
			slot = u_free_slot(&s);
			if (slot >= 0)
				u_one_cmd(&ring, &s, sqe128, slot);
		}
		/* a pending command's argument block changes under it */
		if (chance(&s, 3) && (slot = u_busy_slot(&s)) >= 0) {
			uslots[slot].mem[below(&s, 2 * page)] = (char)rnd(&s);
			uslots[slot].checkable = 0;
			atomic_fetch_add(&u_scribbles, 1);
		}
		ret = io_uring_submit(&ring);
		if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && ret != -EINTR)
			fail("uring: io_uring_submit: %s", strerror(-ret));
		if (ret < 0)
			atomic_fetch_add(&u_submit_err[-ret & 255], 1);
		u_reap(&ring, u_inflight > URING_SLOTS / 2 || u_free_slot(&s) < 0 ?
			      50 : 0);
		now = time(NULL);
		for (i = 0; i < URING_SLOTS; i++)
			if (!dumped && uslots[i].busy &&
			    now - uslots[i].since > 20) {
				dumped = 1;
				printf("# %s: uring: slot %d cmd_op %#x size %u sqe flags %#x pending 20 s (ring flags %#x)\n",
				       tag, i, uslots[i].op, uslots[i].size,
				       uslots[i].sqe_flags, ring.flags);
				dump_tasks();
			}
		for (i = 0; i < URING_SLOTS; i++)
			if (uslots[i].busy && now - uslots[i].since > HANG_SECONDS) {
				fail("uring: cmd_op %#x pending for %d s",
				     uslots[i].op, HANG_SECONDS);
				uslots[i].since = now;	/* once a minute */
			}
		if (chance(&s, 1)) {	/* pending commands and all */
			u_ring_down(&ring);
			up = 0;
		}
	}
	if (up) {
		/* let what is pending finish, then close */
		time_t end = time(NULL) + HANG_SECONDS;

		io_uring_submit(&ring);
		while (u_inflight && time(NULL) < end) {
			atomic_fetch_add(&calls_of[pa->idx], 1);
			u_reap(&ring, 100);
		}
		if (u_inflight) {
			fail("uring: %lu SQEs without a CQE %d s after the end (ring flags %#x)",
			     u_inflight, HANG_SECONDS, ring.flags);
			for (i = 0; i < URING_SLOTS; i++)
				if (uslots[i].busy)
					printf("# %s: uring: pending: slot %d cmd_op %#x size %u sqe flags %#x, %ld s\n",
					       tag, i, uslots[i].op, uslots[i].size,
					       uslots[i].sqe_flags,
					       (long)(time(NULL) - uslots[i].since));
			dump_tasks();
		}
		u_ring_down(&ring);
	}
	return NULL;
}

static void uring_report(void)
{
	static const char *const kinds[3] = { "PROBE", "READY", "other" };
	int k, i;

	printf("# %s: uring: %lu SQEs (%lu cancels, %lu linked timeouts, %lu blocks changed while pending) on %lu rings, %lu CQEs, READY made %lu pages present\n",
	       tag, atomic_load(&u_sqes), atomic_load(&u_cancels),
	       atomic_load(&u_timeouts), atomic_load(&u_scribbles),
	       atomic_load(&u_rings), atomic_load(&u_cqes),
	       atomic_load(&u_ready_pages));
	for (k = 0; k < 3; k++)
		for (i = 0; i < 256; i++)
			if (atomic_load(&u_res[k][i]))
				printf("# %s:   uring %-5s %-12s %lu\n", tag, kinds[k],
				       i ? strerrorname_np(i) : "res >= 0",
				       atomic_load(&u_res[k][i]));
	for (i = 0; i < 256; i++)
		if (atomic_load(&u_submit_err[i]))
			printf("# %s:   uring enter  %-12s %lu\n", tag,
			       strerrorname_np(i), atomic_load(&u_submit_err[i]));
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
	pthread_t th[NR_PROBERS + NR_MUTATORS + 1];
	const char *env = getenv("GUPNW_FUZZ_SECONDS");
	unsigned long seconds = env ? strtoul(env, NULL, 0) : 10;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	struct prober_arg pa[NR_PROBERS + 1];
	unsigned long last_calls[NR_PROBERS + 1] = { 0 }, calls;
	time_t start, last_progress[NR_PROBERS + 1];
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
	printf("# gupnw-fuzz: %s: seed %#" PRIx64 " (-s to repeat), %lu s, %d probers, %d mutators, 1 io_uring submitter\n",
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

	/*
	 * Far below everything else: the holes the mutators punch must never
	 * be the first free range the kernel finds for a later mapping of our
	 * own (thread stacks, io_uring rings), which the mutators would then
	 * overwrite.  Seen: ring memory mapped into a hole, then replaced.
	 */
	arena = mmap(ARENA_HINT, (size_t)ARENA_PAGES * page,
		     PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED) {
		printf("not ok - %s: setup: mmap arena: %s\n", tag,
		       strerror(errno));
		return 1;
	}
	if (arena != ARENA_HINT)
		printf("# %s: arena at %p, not %p\n", tag, (void *)arena,
		       ARENA_HINT);
	states = map_or_die((size_t)STATES_PAGES * page, PROT_READ | PROT_WRITE,
			    MAP_POPULATE);
	ro = map_or_die((size_t)page, PROT_READ, 0);
	states_ro = (unsigned char *)ro;
	states_short = map_or_die((size_t)2 * page, PROT_READ | PROT_WRITE, 0);
	mprotect(states_short + page, page, PROT_NONE);
	for (i = 0; i < URING_SLOTS; i++) {
		uslots[i].mem = map_or_die((size_t)3 * page,
					   PROT_READ | PROT_WRITE, MAP_POPULATE);
		mprotect(uslots[i].mem + 2 * page, page, PROT_NONE);
	}
	for (i = 0; i <= NR_PROBERS; i++) {	/* [NR_PROBERS]: uring */
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
	pthread_create(&th[NR_MUTATORS + NR_PROBERS], NULL, uring_fuzzer,
		       &pa[NR_PROBERS]);

	/* The main thread: children, the clock and the watchdog. */
	start = time(NULL);
	for (i = 0; i <= NR_PROBERS; i++)
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
		for (i = 0; i <= NR_PROBERS; i++) {
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
		printf("not ok - %s: an ioctl or io_uring_enter did not return for %d s (seed %#" PRIx64 ")\n",
		       tag, HANG_SECONDS, seed);
		fflush(stdout);
		_exit(1);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < NR_PROBERS + NR_MUTATORS + 1; i++)
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
	uring_report();
	if (!atomic_load(&by_errno[0]))
		fail("not one call succeeded: the fuzzer tests only argument checks");
	printf("%s - %s: %lu ioctls and %lu uring_cmd SQEs with random arguments over a changing address space: only documented errnos, consistent counts (seed %#" PRIx64 ")\n",
	       atomic_load(&nr_bad) ? "not ok" : "ok", tag,
	       atomic_load(&nr_calls), atomic_load(&u_sqes), seed);
	printf("ok - %s: no ioctl, io_uring_enter or uring_cmd took %d s\n", tag,
	       HANG_SECONDS);
	printf("%s - %s: every uring READY's result is in its own argument block (%lu of %lu not: the io-wq issue ran another SQE's payload)\n",
	       atomic_load(&u_misplaced) ? "not ok" : "ok", tag,
	       atomic_load(&u_misplaced), atomic_load(&u_ready_checked));
	return atomic_load(&nr_bad) || atomic_load(&u_misplaced) ? 1 : 0;
}
