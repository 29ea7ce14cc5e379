// SPDX-License-Identifier: GPL-2.0
/*
 * t06_ioctl_errors: every error path of the raw ABI (<linux/gupnw.h>) that
 * user space can reach, each with the errno the header specifies, and the
 * size-versioning rules of the argument structs.
 */
#include "gupnw_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NPAGES	4

static int dev;
static char *mem;			/* NPAGES touched anon pages */
static unsigned char states[NPAGES];

/* A valid NOFAULT probe of mem, to be broken in one field. */
static void good_args(struct gupnw_probe_args *a)
{
	gt_args_init(a, mem, NPAGES * gt_page, GUPNW_PROBE_NOFAULT, states);
}

static long probe(struct gupnw_probe_args *a)
{
	return gt_ioctl(dev, GUPNW_IOC_PROBE, a);
}

static void test_flags_and_reserved(void)
{
	struct gupnw_probe_args a;
	char bad[256] = "";
	int bit, i;
	long ret;

	good_args(&a);
	gt_err(probe(&a), 0, "ioctl: a valid probe succeeds");

	for (bit = 0; bit < 32; bit++) {
		if (GUPNW_PROBE_FLAGS_ALL & (1U << bit))
			continue;
		good_args(&a);
		a.flags |= 1U << bit;
		ret = probe(&a);
		if (ret != -EINVAL)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
				 " bit %d: %s", bit,
				 ret < 0 ? gt_errname(-ret) : "success");
	}
	if (!gt_ok(!bad[0], "ioctl: every unknown flag bit is EINVAL"))
		gt_diag("not EINVAL:%s", bad);

	good_args(&a);
	a.nr_extents = 1;
	gt_err(probe(&a), EINVAL,
	       "ioctl: nr_extents != 0 without EXTENTS is EINVAL");
	for (i = 0; i < (int)(sizeof(a.reserved) / sizeof(a.reserved[0]));
	     i++) {
		good_args(&a);
		a.reserved[i] = 1ULL << 63;
		gt_err(probe(&a), EINVAL, "ioctl: reserved[%d] != 0 is EINVAL", i);
	}
	good_args(&a);
	a.target_fd = 0;
	a.target_fd = dev;
	gt_err(probe(&a), EINVAL,
	       "ioctl: target_fd != 0 without TARGET_FD is EINVAL");
	good_args(&a);
	a.target_fd = -1;
	gt_err(probe(&a), EINVAL,
	       "ioctl: target_fd -1 without TARGET_FD is EINVAL");
	good_args(&a);
	a.flags = GUPNW_PROBE_NOFAULT | GUPNW_PROBE_WAIT;
	gt_err(probe(&a), EINVAL, "ioctl: NOFAULT|WAIT is EINVAL");
	good_args(&a);
	a.flags = GUPNW_PROBE_WRITE | GUPNW_PROBE_WAIT;
	gt_err(probe(&a), 0, "ioctl: WRITE|WAIT is accepted");
}

static void test_sizes(void)
{
	struct {
		struct gupnw_probe_args a;
		uint64_t extra;
		uint64_t canary[2];
	} big;
	unsigned char *huge;
	struct gupnw_probe_args a;
	long ret;

	good_args(&a);
	a.size = GUPNW_PROBE_ARGS_SIZE_VER0 - 8;
	gt_err(probe(&a), EINVAL, "ioctl: size < GUPNW_PROBE_ARGS_SIZE_VER0 is EINVAL");
	good_args(&a);
	a.size = 0;
	gt_err(probe(&a), EINVAL, "ioctl: size 0 is EINVAL");

	memset(&big, 0, sizeof(big));
	good_args(&big.a);
	big.a.size = sizeof(big.a) + 8;
	big.canary[0] = big.canary[1] = 0x5a5a5a5a5a5a5a5aULL;
	ret = probe(&big.a);
	gt_err(ret, 0, "ioctl: size sizeof+8 with zero trailing bytes is accepted");
	if (ret >= 0)
		gt_eq(NPAGES, big.a.done, "ioctl: ... and done is filled in");
	gt_ok(big.canary[0] == 0x5a5a5a5a5a5a5a5aULL,
	      "ioctl: nothing is written beyond size");

	memset(&big, 0, sizeof(big));
	good_args(&big.a);
	big.a.size = sizeof(big.a) + 8;
	big.extra = 1ULL << 56;		/* last trailing byte */
	gt_err(probe(&big.a), E2BIG,
	       "ioctl: a non-zero byte beyond the known struct is E2BIG");
	memset(&big, 0, sizeof(big));
	good_args(&big.a);
	big.a.size = sizeof(big.a) + 8;
	big.extra = 1;			/* first trailing byte */
	gt_err(probe(&big.a), E2BIG,
	       "ioctl: a non-zero first trailing byte is E2BIG");

	huge = calloc(1, 8192);
	if (!huge)
		gt_bail("calloc");
	good_args(&a);
	memcpy(huge, &a, sizeof(a));
	((struct gupnw_probe_args *)huge)->size = 4097;
	gt_err(probe((void *)huge), E2BIG, "ioctl: size > 4096 is E2BIG");
	((struct gupnw_probe_args *)huge)->size = 0xffffffffU;
	gt_err(probe((void *)huge), E2BIG, "ioctl: size 0xffffffff is E2BIG");
	free(huge);

	/* size == VER0: done and counts come back; bytes after it do not */
	memset(&big, 0, sizeof(big));
	good_args(&big.a);
	big.a.size = GUPNW_PROBE_ARGS_SIZE_VER0;
	big.a.done = 0xdead;
	big.a.nr_resident = 0xdead;
	big.extra = 0;
	memset(big.canary, 0xa5, sizeof(big.canary));
	ret = probe(&big.a);
	if (gt_err(ret, 0, "ioctl: size GUPNW_PROBE_ARGS_SIZE_VER0 is accepted")) {
		gt_ok(big.a.done == NPAGES && big.a.nr_resident == NPAGES &&
		      gt_args_tally_ok(&big.a, states, NPAGES),
		      "ioctl: a VER0 caller gets done and counts filled");
		if (big.a.done != NPAGES || big.a.nr_resident != NPAGES)
			gt_diag("done %llu, nr_resident %llu (expected %d)",
				(unsigned long long)big.a.done,
				(unsigned long long)big.a.nr_resident, NPAGES);
	}
	gt_ok(big.extra == 0 && big.canary[0] == 0xa5a5a5a5a5a5a5a5ULL,
	      "ioctl: a VER0 caller's memory past VER0 is untouched");
}

static void test_pointers(void)
{
	struct gupnw_probe_args a;
	char *ro, *none;
	long ret;

	none = mmap(NULL, gt_page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ro = mmap(NULL, gt_page, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (none == MAP_FAILED || ro == MAP_FAILED)
		gt_bail("mmap");

	gt_err(gt_ioctl(dev, GUPNW_IOC_PROBE, NULL), EFAULT,
	       "ioctl: PROBE with a NULL args pointer is EFAULT");
	gt_err(gt_ioctl(dev, GUPNW_IOC_PROBE, (void *)8), EFAULT,
	       "ioctl: PROBE with args pointer 8 is EFAULT");
	gt_err(gt_ioctl(dev, GUPNW_IOC_PROBE, none), EFAULT,
	       "ioctl: PROBE with args in a PROT_NONE page is EFAULT");
	good_args(&a);
	memcpy(ro, &a, sizeof(a));
	mprotect(ro, gt_page, PROT_READ);
	gt_err(gt_ioctl(dev, GUPNW_IOC_PROBE, ro), EFAULT,
	       "ioctl: PROBE with read-only args is EFAULT (cannot write back)");

	good_args(&a);
	a.states = 8;
	a.done = 0xdead;
	ret = probe(&a);
	gt_err(ret, EFAULT, "ioctl: states pointer 8 is EFAULT");
	if (!gt_eq(0, a.done, "ioctl: ... and done reports no page written"))
		gt_diag("done is %#llx (0xdead: not written back)",
			(unsigned long long)a.done);

	good_args(&a);
	a.states = (uintptr_t)ro;
	a.done = 0xdead;
	gt_err(probe(&a), EFAULT, "ioctl: states in a read-only buffer is EFAULT");
	gt_eq(0, a.done, "ioctl: ... and done is 0");

	/* states run off a writable page after 2 bytes */
	{
		char *two = mmap(NULL, 2 * gt_page, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (two == MAP_FAILED)
			gt_bail("mmap");
		mprotect(two + gt_page, gt_page, PROT_NONE);
		good_args(&a);
		a.states = (uintptr_t)(two + gt_page - 2);
		a.done = 0xdead;
		ret = probe(&a);
		gt_err(ret, EFAULT,
		       "ioctl: states running into PROT_NONE is EFAULT");
		if (!gt_ok(a.done <= 2, "ioctl: ... and done <= the bytes that fit (2)"))
			gt_diag("done %#llx", (unsigned long long)a.done);
		else if (a.done)
			gt_ok(gt_match((unsigned char *)two + gt_page - 2,
				       "RR", a.done) < 0,
			      "ioctl: ... and states[0..done) are valid");
		munmap(two, 2 * gt_page);
	}

	good_args(&a);
	a.states = 0;
	ret = probe(&a);
	gt_err(ret, 0, "ioctl: states 0 (counts only) is accepted");
	gt_ok(a.done == NPAGES && a.nr_resident == NPAGES,
	      "ioctl: counts-only probe still fills done and counts");

	munmap(none, gt_page);
	munmap(ro, gt_page);
}

static void test_ranges(void)
{
	uint64_t top = gt_user_top();
	struct gupnw_probe_args a;
	long ret;

	gt_diag("user address limit %#llx", (unsigned long long)top);
	good_args(&a);
	a.addr += 1;
	gt_err(probe(&a), EINVAL, "ioctl: unaligned addr is EINVAL");
	good_args(&a);
	a.addr += gt_page / 2;
	gt_err(probe(&a), EINVAL, "ioctl: addr half a page in is EINVAL");

	good_args(&a);
	a.addr = 0x10000;
	a.len = ~0ULL - 0x8000;
	a.states = 0;
	gt_err(probe(&a), EOVERFLOW, "ioctl: addr + len wrapping is EOVERFLOW");
	good_args(&a);
	a.addr = 0x10000;
	a.len = ~0ULL;
	a.states = 0;
	gt_err(probe(&a), EOVERFLOW,
	       "ioctl: len rounding up past 2^64 is EOVERFLOW");

	good_args(&a);
	a.addr = 0xffff800000000000ULL;
	a.len = gt_page;
	gt_err(probe(&a), EINVAL, "ioctl: a kernel address is EINVAL");
	good_args(&a);
	a.addr = 0xffffffffff600000ULL;	/* vsyscall page */
	a.len = gt_page;
	gt_err(probe(&a), EINVAL, "ioctl: the vsyscall page is EINVAL");
	good_args(&a);
	a.addr = top - gt_page;
	a.len = 2 * gt_page;
	gt_err(probe(&a), EINVAL, "ioctl: a range crossing the user limit is EINVAL");
	good_args(&a);
	a.addr = top;
	a.len = gt_page;
	gt_err(probe(&a), EINVAL, "ioctl: a range starting at the user limit is EINVAL");
	good_args(&a);
	a.addr = top - gt_page;
	a.len = gt_page;
	a.states = 0;
	gt_err(probe(&a), 0, "ioctl: the last user page is accepted");

	good_args(&a);
	a.len = 0;
	a.done = 0xdead;
	ret = probe(&a);
	gt_err(ret, 0, "ioctl: len 0 succeeds");
	gt_ok(a.done == 0 && !a.nr_resident && !a.nr_faulted && !a.nr_retry &&
	      !a.nr_unmapped && !a.nr_error && !a.nr_notpresent,
	      "ioctl: len 0 reports 0 pages");

	good_args(&a);
	a.len = 1;
	ret = probe(&a);
	gt_err(ret, 0, "ioctl: len 1 succeeds");
	gt_eq(1, a.done, "ioctl: len 1 is rounded up to one page");
}

static void test_commands(void)
{
	struct gupnw_probe_args a;
	struct {
		struct gupnw_info i;
		uint64_t canary;
	} info;

	good_args(&a);
	gt_err(gt_ioctl(dev, _IOWR(GUPNW_IOC_MAGIC, 0x7f,
				   struct gupnw_probe_args), &a),
	       ENOTTY, "ioctl: unknown command number 0x7f is ENOTTY");
	gt_err(gt_ioctl(dev, _IOWR(GUPNW_IOC_MAGIC, 0x02,
				   struct gupnw_probe_args), &a),
	       ENOTTY, "ioctl: unknown command number 0x02 is ENOTTY");
	gt_err(gt_ioctl(dev, _IOWR(GUPNW_IOC_MAGIC + 1, 0x01,
				   struct gupnw_probe_args), &a),
	       ENOTTY, "ioctl: a different magic is ENOTTY");
	gt_err(gt_ioctl(dev, 0x5401 /* TCGETS */, &a), ENOTTY,
	       "ioctl: TCGETS is ENOTTY");

	memset(&info, 0, sizeof(info));
	info.i.size = GUPNW_INFO_SIZE_VER0 - 8;
	gt_err(gt_ioctl(dev, GUPNW_IOC_GET_INFO, &info.i), EINVAL,
	       "ioctl: GET_INFO with size < GUPNW_INFO_SIZE_VER0 is EINVAL");
	info.i.size = 0;
	gt_err(gt_ioctl(dev, GUPNW_IOC_GET_INFO, &info.i), EINVAL,
	       "ioctl: GET_INFO with size 0 is EINVAL");
	gt_err(gt_ioctl(dev, GUPNW_IOC_GET_INFO, NULL), EFAULT,
	       "ioctl: GET_INFO with a NULL pointer is EFAULT");
	gt_err(gt_ioctl(dev, GUPNW_IOC_GET_INFO, (void *)8), EFAULT,
	       "ioctl: GET_INFO with pointer 8 is EFAULT");

	memset(&info, 0, sizeof(info));
	info.i.size = GUPNW_INFO_SIZE_VER0;
	info.canary = 0x5a5a5a5a5a5a5a5aULL;
	if (gt_err(gt_ioctl(dev, GUPNW_IOC_GET_INFO, &info.i), 0,
		   "ioctl: GET_INFO with size VER0 succeeds")) {
		gt_eq(GUPNW_ABI_VERSION, info.i.abi_version,
		      "ioctl: ... and abi_version is filled in");
		gt_ok(info.canary == 0x5a5a5a5a5a5a5a5aULL,
		      "ioctl: GET_INFO writes nothing beyond size");
	}
}

/* Each case's own touched pages (a fork's copies would be COW-shared). */
static void setup(void)
{
	mem = mmap(NULL, NPAGES * gt_page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		gt_bail("mmap");
	memset(mem, 1, NPAGES * gt_page);
}

static const struct gt_case cases[] = {
	GT_CASE("flags-and-reserved", test_flags_and_reserved),
	GT_CASE("sizes", test_sizes),
	GT_CASE("pointers", test_pointers),
	GT_CASE("ranges", test_ranges),
	GT_CASE("commands", test_commands),
};

GT_FILE(cases, .dev = &dev, .setup = setup);
