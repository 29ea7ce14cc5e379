// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD stand-in for the gupnw module, so the tool's probe path can be
 * tested on a host that cannot load modules.  Point GUPNW_DEVICE at
 * /dev/null; this ioctl() answers the gupnw commands on any fd and passes
 * every other one to the real ioctl().
 *
 * It checks the argument struct as the module does (size, flags, reserved
 * fields, alignment, target_fd and its access mode, the end of user space
 * at FAKE_USER_END), so the library's filling of it is tested too: a
 * larger size than it knows is taken if the tail is zero, and only size
 * bytes are written back (tests/host/test-fake.c).  States
 * follow the page number: R F W . E N R F W ... by default, R N R N ...
 * with NOFAULT, all E with WRITE (as on a read-only mapping); with
 * $FAKE_GUPNW_CYCLE, its letters in turn (e.g. "RNC").  With
 * $FAKE_GUPNW_STATE set, every page is in the state of its first letter
 * instead (e.g. "R": all resident), and a range of any size is one run.
 * "X" in either is a byte no module sends (a newer module's state, say),
 * counted nowhere.  With $FAKE_GUPNW_READ_AFTER=n, every page is R once n
 * default (NOWAIT) probes have been made, as if their reads had finished.
 * With $FAKE_GUPNW_MAPPED_BELOW=ADDR, pages at and above ADDR are one run
 * of '.', so a huge range can be fragmented in part only.
 * With $FAKE_GUPNW_FAIL_AFTER=n, probes after the n-th fail with EINTR (as
 * on a fatal signal), so a report cut short can be tested.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/gupnw.h>

/* TASK_SIZE_MAX of x86-64 with 4-level page tables, whatever the host. */
#define FAKE_USER_END	0x7ffffffff000ULL

static int fake_probe(struct gupnw_probe_args *a)
{
	static const char letters[] = "RFW.ENCX";
	static unsigned long nowait_calls;
	const char *read_after = getenv("FAKE_GUPNW_READ_AFTER");
	const char *below = getenv("FAKE_GUPNW_MAPPED_BELOW");
	__u64 mapped_end = below ? strtoull(below, NULL, 0) : ~0ULL;
	__u64 unknown = 0;
	const char *all = getenv("FAKE_GUPNW_STATE");
	const char *cycle = getenv("FAKE_GUPNW_CYCLE");
	unsigned long ps = sysconf(_SC_PAGESIZE);
	unsigned char *states = (unsigned char *)(unsigned long)a->states;
	struct gupnw_probe_extent *e = (void *)states;
	__u64 i, page, n = (a->len + ps - 1) / ps, run;
	__u64 *nr[128] = { 0 };
	__u32 k = 0;
	unsigned int r;

	static unsigned long calls;
	const char *fail_after = getenv("FAKE_GUPNW_FAIL_AFTER");

	if (fail_after && ++calls > strtoul(fail_after, NULL, 0))
		return -EINTR;
	if (!cycle || !*cycle || cycle[strspn(cycle, letters)])
		cycle = "RFW.EN";
	if (all && (!all[0] || !strchr(letters, all[0])))
		all = NULL;
	if (read_after && nowait_calls >= strtoul(read_after, NULL, 0))
		all = "R";

	if (a->size != GUPNW_PROBE_ARGS_SIZE_VER0 ||
	    !(a->flags & GUPNW_PROBE_EXTENTS) != !a->nr_extents ||
	    (a->flags & ~GUPNW_PROBE_FLAGS_ALL) || (a->addr & (ps - 1)) ||
	    ((a->flags & GUPNW_PROBE_NOFAULT) && (a->flags & GUPNW_PROBE_WAIT)))
		return -EINVAL;
	for (r = 0; r < sizeof(a->reserved) / sizeof(a->reserved[0]); r++)
		if (a->reserved[r])
			return -EINVAL;
	if (a->len > ~0ULL - (ps - 1) || a->addr + n * ps < a->addr)
		return -EOVERFLOW;
	if (a->addr + n * ps > FAKE_USER_END)
		return -EINVAL;
	if (a->flags & GUPNW_PROBE_TARGET_FD) {
		int fl = fcntl(a->target_fd, F_GETFL);

		/* A write probe needs /proc/PID/mem open for writing. */
		if (fl < 0 || ((a->flags & GUPNW_PROBE_WRITE) &&
			       (fl & O_ACCMODE) == O_RDONLY))
			return -EBADF;
	} else if (a->target_fd) {
		return -EINVAL;
	}

	nr['R'] = &a->nr_resident;
	nr['F'] = &a->nr_faulted;
	nr['W'] = &a->nr_retry;
	nr['.'] = &a->nr_unmapped;
	nr['E'] = &a->nr_error;
	nr['N'] = &a->nr_notpresent;
	nr['C'] = &a->nr_cold;
	nr['X'] = &unknown;
	if (!(a->flags & (GUPNW_PROBE_NOFAULT | GUPNW_PROBE_WAIT)))
		nowait_calls++;
	for (i = 0; i < n; i += run) {
		unsigned char s;

		page = a->addr / ps + i;
		run = 1;
		if (page * ps >= mapped_end) {
			s = '.';
			run = n - i;
		} else if (all) {
			s = all[0];
			run = n - i;	/* one run, whatever the size */
		} else if (a->flags & GUPNW_PROBE_WRITE) {
			s = 'E';
			run = n - i;
		} else if (a->flags & GUPNW_PROBE_NOFAULT &&
			   !getenv("FAKE_GUPNW_CYCLE")) {
			s = page % 2 ? 'N' : 'R';
		} else {
			s = cycle[page % strlen(cycle)];
		}
		if (a->flags & GUPNW_PROBE_EXTENTS) {
			/* adjacent runs of one state merged, as the module */
			if (k && e[k - 1].state == s) {
				e[k - 1].nr_pages += run;
			} else {
				if (k == a->nr_extents)
					break;	/* the array bounds the pages */
				e[k].start = a->addr + i * ps;
				e[k].nr_pages = run;
				e[k].state = s;
				e[k].reserved = 0;
				k++;
			}
		} else if (states) {
			memset(states + i, s, run);
		}
		*nr[s] += run;
	}
	if (a->flags & GUPNW_PROBE_EXTENTS)
		a->nr_extents = k;
	a->done = i;
	return 0;
}

static int fake_info(struct gupnw_info *info)
{
	if (info->size < GUPNW_INFO_SIZE_VER0)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->abi_version = GUPNW_ABI_VERSION;
	info->features = GUPNW_FEATURE_PROBE | GUPNW_FEATURE_TARGET_FD |
			 GUPNW_FEATURE_EXTENTS | GUPNW_FEATURE_COLD;
	info->probe_flags = GUPNW_PROBE_FLAGS_ALL;
	info->page_size = sysconf(_SC_PAGESIZE);
	strcpy(info->version, "0.0.0-fake");
	return 0;
}

/*
 * The module's gupnw_get_usize() and, with @tail, copy_struct_from_user():
 * the caller's size is at least the first version's and at most a page,
 * bytes past what we know are zero; the struct copied to @k.
 */
static int fake_get(const void *uarg, size_t ver0, bool tail, void *k,
		    size_t ksize, __u32 *usize)
{
	const unsigned char *u = uarg;
	size_t i;

	memcpy(usize, uarg, sizeof(*usize));
	if (*usize < ver0)
		return -EINVAL;
	if (*usize > (size_t)sysconf(_SC_PAGESIZE))
		return -E2BIG;
	for (i = ksize; tail && i < *usize; i++)
		if (u[i])
			return -E2BIG;
	memset(k, 0, ksize);
	memcpy(k, uarg, *usize < ksize ? *usize : ksize);
	return 0;
}

/* The module's gupnw_put_sized(): @usize bytes back, zero past ours. */
static void fake_put(void *uarg, __u32 usize, const void *k, size_t ksize)
{
	memcpy(uarg, k, usize < ksize ? usize : ksize);
	if (usize > ksize)
		memset((char *)uarg + ksize, 0, usize - ksize);
}

int ioctl(int fd, unsigned long request, ...)
{
	int (*real_ioctl)(int, unsigned long, ...);
	struct gupnw_probe_args a;
	struct gupnw_info info;
	__u32 usize;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (request == GUPNW_IOC_PROBE) {
		ret = fake_get(arg, GUPNW_PROBE_ARGS_SIZE_VER0, true, &a,
			       sizeof(a), &usize);
		if (!ret) {
			a.size = sizeof(a);	/* the struct we know */
			ret = fake_probe(&a);
			a.size = usize;
			fake_put(arg, usize, &a, sizeof(a));
		}
	} else if (request == GUPNW_IOC_GET_INFO) {
		ret = fake_get(arg, GUPNW_INFO_SIZE_VER0, false, &info,
			       sizeof(info), &usize);
		if (!ret)
			ret = fake_info(&info);
		if (!ret)
			fake_put(arg, usize, &info, sizeof(info));
	} else {
		real_ioctl = (int (*)(int, unsigned long, ...))
			dlsym(RTLD_NEXT, "ioctl");
		return real_ioctl(fd, request, arg);
	}
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}
