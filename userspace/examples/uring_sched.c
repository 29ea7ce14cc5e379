// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw-uring-sched: why "page ready" matters.
 *
 * TASKS tasks each read STEPS pages at random places of a large file mapped
 * with mmap(), doing WORK microseconds of computation on each page.  Three
 * ways to run them:
 *
 *   sched    one thread, a user-level scheduler: before running a task's
 *            next step it probes the page (GUPNW_URING_CMD_PROBE, all
 *            runnable tasks' probes in one io_uring_enter()); a task whose
 *            page is 'W' (read under way) or 'C' (a read not started: the
 *            probe's I/O budget, max_io_pages, was spent) is parked and a
 *            READY is queued for the page; the task runs again when the
 *            READY completes.  The thread never takes a major fault: it
 *            computes while the disk works.
 *   threads  one thread per task, plain blocking page faults.
 *   touch    one thread that just touches the pages, task after task.
 *
 * Before each mode the file's pages are dropped from the page cache
 * (POSIX_FADV_DONTNEED), so every mode starts cold.  Printed per mode: the
 * time, pages per second, a checksum of the bytes read (equal in every
 * mode), and how often a thread blocked on a page: major faults of the
 * thread(s) running tasks (getrusage), and of the whole process (which, in
 * sched mode, includes the io_uring workers that wait for READY).
 *
 * usage: gupnw-uring-sched [-t TASKS] [-s STEPS] [-w WORK_US] [-m MODE] FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gupnw.h>

struct task {
	uint64_t *pages;	/* page indexes, in order */
	unsigned int step;	/* next step */
	uint64_t sum;
	unsigned char state;	/* probe result of the next page */
	struct gupnw_req req;
};

static unsigned int ntasks = 16, nsteps = 8, work_us = 2000;
static long page;
static size_t map_len;
static char *map;
static struct task *tasks;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The computation of one step: WORK_US of CPU on the page's bytes. */
static uint64_t compute(const volatile unsigned char *p)
{
	double end = now() + work_us / 1e6;
	uint64_t h = p[0];

	do
		h = h * 6364136223846793005ULL + 1442695040888963407ULL;
	while (now() < end);
	return p[0] + (h == 42);	/* h keeps the loop honest */
}

static void run_step(struct task *t)
{
	t->sum += compute((unsigned char *)map + t->pages[t->step] * page);
	t->step++;
}

static long majflt(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_majflt;
}

static void *thread_main(void *arg)
{
	struct task *t = arg;
	long *maj = malloc(sizeof(*maj));
	long m0 = majflt(RUSAGE_THREAD);

	while (t->step < nsteps)
		run_step(t);
	*maj = majflt(RUSAGE_THREAD) - m0;
	return maj;
}

/*
 * The three modes share run_sched()'s arguments (for measure()); only
 * sched probes, or parks a task.
 */
static long run_threads(struct gupnw *g, long *parked)
{
	pthread_t *th = calloc(ntasks, sizeof(*th));
	long total = 0;
	unsigned int i;
	void *ret;

	(void)g;
	(void)parked;

	for (i = 0; i < ntasks; i++)
		if (pthread_create(&th[i], NULL, thread_main, &tasks[i])) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	for (i = 0; i < ntasks; i++) {
		pthread_join(th[i], &ret);
		total += *(long *)ret;
		free(ret);
	}
	free(th);
	return total;
}

static long run_touch(struct gupnw *g, long *parked)
{
	long m0 = majflt(RUSAGE_THREAD);
	unsigned int i;

	(void)g;
	(void)parked;

	for (i = 0; i < ntasks; i++)
		while (tasks[i].step < nsteps)
			run_step(&tasks[i]);
	return majflt(RUSAGE_THREAD) - m0;
}

#define UD_READY	(1ULL << 63)

static void queue_probe(struct io_uring *ring, struct gupnw *g, unsigned int i,
			int ready)
{
	struct task *t = &tasks[i];
	char *addr = map + t->pages[t->step] * page;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	gupnw_req_init(&t->req, addr, page, 0, &t->state);
	if (ready)
		gupnw_prep_ready(sqe, gupnw_fd(g), &t->req);
	else
		gupnw_prep_probe(sqe, gupnw_fd(g), &t->req);
	io_uring_sqe_set_data64(sqe, i | (ready ? UD_READY : 0));
}

static long run_sched(struct gupnw *g, long *parked)
{
	unsigned int done = 0, inflight = 0, i;
	unsigned int bounded[2] = { ntasks, 0 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	long m0 = majflt(RUSAGE_THREAD);
	int ret;

	*parked = 0;
	ret = io_uring_queue_init(2 * ntasks, &ring, 0);
	if (ret) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-ret));
		exit(1);
	}
	/* one io-wq worker per parked task may wait at the same time */
	io_uring_register_iowq_max_workers(&ring, bounded);
	for (i = 0; i < ntasks; i++, inflight++)
		queue_probe(&ring, g, i, 0);

	while (done < ntasks) {
		unsigned int head, seen = 0;

		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0) {
			fprintf(stderr, "io_uring_submit_and_wait: %s\n",
				strerror(-ret));
			exit(1);
		}
		io_uring_for_each_cqe(&ring, head, cqe) {
			uint64_t ud = cqe->user_data;
			struct task *t = &tasks[ud & ~UD_READY];
			int res = cqe->res;

			seen++;
			inflight--;
			if (res < 0 || ((ud & UD_READY) && res != 1) ||
			    (!(ud & UD_READY) &&
			     (t->state == GUPNW_UNMAPPED ||
			      t->state == GUPNW_ERROR))) {
				fprintf(stderr, "task %llu: %s failed: %s\n",
					(unsigned long long)(ud & ~UD_READY),
					ud & UD_READY ? "READY" : "PROBE",
					res < 0 ? strerror(-res) : "bad page");
				exit(1);
			}
			if (!(ud & UD_READY) && (t->state == GUPNW_RETRY ||
						 t->state == GUPNW_COLD)) {
				/*
				 * park: the module waits for the page (and
				 * starts its read if the probe did not);
				 * touching a C page here would block.
				 */
				(*parked)++;
				queue_probe(&ring, g, ud & ~UD_READY, 1);
				inflight++;
				continue;
			}
			run_step(t);
			if (t->step == nsteps) {
				done++;
				continue;
			}
			queue_probe(&ring, g, ud & ~UD_READY, 0);
			inflight++;
		}
		io_uring_cq_advance(&ring, seen);
	}
	io_uring_queue_exit(&ring);
	return majflt(RUSAGE_THREAD) - m0;
}

/* Fresh mapping of a cold file, tasks reset to step 0. */
static void reset(int fd)
{
	unsigned int i;

	if (map)
		munmap(map, map_len);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	map = mmap(NULL, map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (i = 0; i < ntasks; i++) {
		tasks[i].step = 0;
		tasks[i].sum = 0;
	}
}

static void report(const char *mode, double t, long blocked_thr,
		   long blocked_proc, long parked)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < ntasks; i++)
		sum += tasks[i].sum;
	printf("%-8s time %8.3f s  %9.1f pages/s  checksum %llu  "
	       "task-thread majflt %ld  process majflt %ld",
	       mode, t, ntasks * nsteps / t, (unsigned long long)sum,
	       blocked_thr, blocked_proc);
	if (parked >= 0)
		printf("  parked %ld", parked);
	printf("\n");
	fflush(stdout);
}

static const struct mode {
	const char *name;
	long (*run)(struct gupnw *g, long *parked);
} modes[] = {
	{ "sched", run_sched },
	{ "threads", run_threads },
	{ "touch", run_touch },
};

#define NR_MODES	(sizeof(modes) / sizeof(modes[0]))

/* Mode @m on a cold file: its line of the report. */
static void measure(const struct mode *m, int fd, struct gupnw *g)
{
	long parked = -1, p0, thr;
	double t0;

	reset(fd);
	p0 = majflt(RUSAGE_SELF);
	t0 = now();
	thr = m->run(g, &parked);
	report(m->name, now() - t0, thr, majflt(RUSAGE_SELF) - p0, parked);
}

/* A whole decimal (or 0x) number from @min to @max, or a usage error. */
static unsigned int number(int opt, const char *arg, unsigned long min,
			   unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v < min ||
	    v > max) {
		fprintf(stderr, "gupnw-uring-sched: bad -%c '%s' (%lu to %lu)\n",
			opt, arg, min, max);
		exit(2);
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr, "usage: gupnw-uring-sched [-t TASKS] [-s STEPS] "
		"[-w WORK_US] [-m sched|threads|touch|all] FILE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode = "all";
	uint64_t npages, x = 88172645463325252ULL;
	struct gupnw *g;
	unsigned int i, j;
	struct stat sb;
	int opt, fd;

	while ((opt = getopt(argc, argv, "t:s:w:m:")) != -1) {
		switch (opt) {
		/* 2 * TASKS ring entries, at most io_uring's 32768 */
		case 't': ntasks = number(opt, optarg, 1, 16384); break;
		case 's': nsteps = number(opt, optarg, 1, 1U << 20); break;
		case 'w': work_us = number(opt, optarg, 0, 60000000); break;
		case 'm': mode = optarg; break;
		default: usage();
		}
	}
	for (i = 0; i < NR_MODES; i++)
		if (!strcmp(mode, modes[i].name))
			break;
	if (i == NR_MODES && strcmp(mode, "all")) {
		fprintf(stderr, "gupnw-uring-sched: bad -m '%s' (sched, threads, touch or all)\n",
			mode);
		return 2;
	}
	if (optind != argc - 1)
		usage();
	page = sysconf(_SC_PAGESIZE);
	fd = open(argv[optind], O_RDONLY);
	if (fd < 0 || fstat(fd, &sb) || sb.st_size < page) {
		fprintf(stderr, "gupnw-uring-sched: %s: %s\n", argv[optind],
			fd < 0 ? strerror(errno) : "too small");
		return 1;
	}
	g = gupnw_open();
	if (!g) {
		fprintf(stderr, "gupnw-uring-sched: %s: %s\n",
			gupnw_device_path(), strerror(errno));
		return 1;
	}
	npages = sb.st_size / page;
	map_len = npages * page;
	tasks = calloc(ntasks, sizeof(*tasks));
	for (i = 0; i < ntasks; i++) {
		tasks[i].pages = calloc(nsteps, sizeof(uint64_t));
		for (j = 0; j < nsteps; j++) {
			x ^= x << 13;	/* xorshift64: same pages every mode */
			x ^= x >> 7;
			x ^= x << 17;
			tasks[i].pages[j] = x % npages;
		}
	}
	printf("%u tasks x %u steps, %u us of work per step, %s (%llu pages)\n",
	       ntasks, nsteps, work_us, argv[optind],
	       (unsigned long long)npages);

	for (i = 0; i < NR_MODES; i++)
		if (!strcmp(mode, "all") || !strcmp(mode, modes[i].name))
			measure(&modes[i], fd, g);
	gupnw_close(g);
	return 0;
}
