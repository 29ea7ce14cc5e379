// SPDX-License-Identifier: GPL-2.0
/*
 * t18_compat32: the ioctls through the 32-bit compat path (compat_ioctl).
 * The structs have one layout for i386 and x86-64 (fixed-size types, __u64
 * pointers), so a 32-bit caller must get the same answers as a 64-bit one.
 *
 * Built as a freestanding i386 program (gcc -m32 -nostdlib: raw int $0x80
 * system calls, no libc), so it needs no gcc-multilib.  Where even that
 * cannot be built, the Makefile builds it with -DGT_NO_M32 as a 64-bit
 * program that reports a SKIP.
 *
 * Cases (GUPNW_TESTS=t18:errors): get-info, probe-states, errors.  Without
 * libc there is no fork: a case that cannot go on returns, and the next one
 * runs; one numbered TAP line per check and the plan last, as the shell
 * tests print them (tests/README.md): it cannot link the C harness.
 */
#ifdef GT_NO_M32
#include <stdio.h>

int main(void)
{
	static const char *const names[][2] = {
		{ "get-info", "compat32: GET_INFO works" },
		{ "probe-states", "compat32: probe of own memory gives R F . E" },
		{ "errors", "compat32: error paths" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		printf("ok %u t18:%s - %s # SKIP no 32-bit build on the build machine\n",
		       i + 1, names[i][0], names[i][1]);
	printf("1..%u\n", i);
	return 0;
}
#else /* freestanding i386 */

#include <linux/gupnw.h>

#if !defined(__i386__)
#error "t18_compat32 is built with gcc -m32, or with -DGT_NO_M32"
#endif

#define NR_exit_group	252
#define NR_write	4
#define NR_open		5
#define NR_close	6
#define NR_ioctl	54
#define NR_munmap	91
#define NR_mprotect	125
#define NR_mmap2	192

#define PROT_NONE	0
#define PROT_RW		3
#define MAP_PRIVATE_ANON 0x22
#define O_RDWR		2
#define EFAULT		14
#define EINVAL		22
#define ENOTTY		25
#define PAGE		4096

static int failed;

static long sys5(long nr, long a, long b, long c, long d, long e)
{
	long r;

	/* ebp would carry a 6th argument: 0 (mmap2's page offset) */
	__asm__ volatile("push %%ebp\n\txor %%ebp, %%ebp\n\tint $0x80\n\tpop %%ebp"
			 : "=a"(r)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory");
	return r;
}

#define sys3(nr, a, b, c) sys5(nr, (long)(a), (long)(b), (long)(c), 0, 0)

void *memset(void *s, int c, unsigned int n);
void *memset(void *s, int c, unsigned int n)
{
	volatile unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

static unsigned int slen(const char *s)
{
	unsigned int n = 0;

	while (s[n])
		n++;
	return n;
}

static void put(const char *s)
{
	sys3(NR_write, 1, s, slen(s));
}

static void put_num(long v)
{
	char buf[16], *p = buf + sizeof(buf) - 1;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	*p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put(p);
}

static long nr_results;
static const char *cur_case;

static int ok(int cond, const char *name)
{
	put(cond ? "ok " : "not ok ");
	put_num(++nr_results);
	put(" t18:");
	put(cur_case);
	put(" - compat32: ");
	put(name);
	put("\n");
	if (!cond)
		failed = 1;
	return cond;
}

/* ok if ret == -err (err 0: ret == 0); a diagnostic otherwise */
static void expect(long ret, long err, const char *name)
{
	if (!ok(ret == -err, name)) {
		put("# expected ");
		put_num(-err);
		put(", got ");
		put_num(ret);
		put("\n");
	}
}

static void args_init(struct gupnw_probe_args *a, void *addr, unsigned int len,
		      unsigned int flags, void *states)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = flags;
	a->addr = (unsigned long)addr;
	a->len = len;
	a->states = (unsigned long)states;
}

static int same(const unsigned char *s, const char *want, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (s[i] != (unsigned char)want[i])
			return 0;
	return 1;
}

static void show_states(const unsigned char *s, unsigned int n)
{
	char buf[16];
	unsigned int i;

	for (i = 0; i < n && i < sizeof(buf) - 1; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	buf[i] = '\0';
	put("# states ");
	put(buf);
	put("\n");
}

static long open_dev(int report)
{
	long dev = sys3(NR_open, "/dev/gupnw", O_RDWR, 0);

	if ((report || dev < 0) && !ok(dev >= 0, "open /dev/gupnw")) {
		put("# open: ");
		put_num(dev);
		put("\n");
	}
	return dev;
}

/* Four pages: touched, untouched, unmapped, PROT_NONE (R F . E). */
static char *map_rf_dot_e(void)
{
	char *p = (char *)sys5(NR_mmap2, 0, 4 * PAGE, PROT_RW, MAP_PRIVATE_ANON,
			       -1);

	if (!ok((unsigned long)p < 0xfffff000UL, "mmap 4 pages"))
		return 0;
	p[0] = 1;
	sys3(NR_munmap, p + 2 * PAGE, PAGE, 0);
	sys3(NR_mprotect, p + 3 * PAGE, PAGE, PROT_NONE);
	return p;
}

static void case_get_info(void)
{
	struct gupnw_info info;
	long dev, ret;

	dev = open_dev(1);
	if (dev < 0)
		return;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	ret = sys3(NR_ioctl, dev, GUPNW_IOC_GET_INFO, &info);
	expect(ret, 0, "GET_INFO works");
	ok(ret == 0 && info.abi_version == GUPNW_ABI_VERSION &&
	   info.page_size == PAGE && info.version[0],
	   "GET_INFO reports abi_version, page_size and version");
	sys3(NR_close, dev, 0, 0);
}

static void case_probe_states(void)
{
	struct gupnw_probe_args a;
	unsigned char st[4];
	long dev, ret;
	char *p;

	dev = open_dev(0);
	if (dev < 0)
		return;
	p = map_rf_dot_e();
	if (!p)
		goto out;

	memset(st, 0, sizeof(st));
	args_init(&a, p, 4 * PAGE, 0, st);
	ret = sys3(NR_ioctl, dev, GUPNW_IOC_PROBE, &a);
	expect(ret, 0, "probe of own memory succeeds");
	if (!ok(ret == 0 && same(st, "RF.E", 4) && a.done == 4 &&
		a.nr_resident == 1 && a.nr_faulted == 1 &&
		a.nr_unmapped == 1 && a.nr_error == 1,
		"probe of own memory gives R F . E, counts agree"))
		show_states(st, 4);

	memset(st, 0, sizeof(st));
	args_init(&a, p, 4 * PAGE, GUPNW_PROBE_NOFAULT, st);
	ret = sys3(NR_ioctl, dev, GUPNW_IOC_PROBE, &a);
	if (!ok(ret == 0 && same(st, "RR.E", 4),
		"NOFAULT probe gives R R . E"))
		show_states(st, 4);
	sys3(NR_munmap, p, 4 * PAGE, 0);
out:
	sys3(NR_close, dev, 0, 0);
}

static void case_errors(void)
{
	struct gupnw_probe_args a;
	unsigned char st[4];
	long dev;
	char *p;

	dev = open_dev(0);
	if (dev < 0)
		return;
	p = (char *)sys5(NR_mmap2, 0, PAGE, PROT_RW, MAP_PRIVATE_ANON, -1);
	if (!ok((unsigned long)p < 0xfffff000UL, "mmap 1 page"))
		goto out;

	args_init(&a, p, PAGE, 1U << 31, st);
	expect(sys3(NR_ioctl, dev, GUPNW_IOC_PROBE, &a), EINVAL,
	       "unknown flag is EINVAL");
	args_init(&a, p, PAGE, 0, st);
	a.reserved[0] = 1;
	expect(sys3(NR_ioctl, dev, GUPNW_IOC_PROBE, &a), EINVAL,
	       "reserved[0] != 0 is EINVAL");
	args_init(&a, p + 1, PAGE, 0, st);
	expect(sys3(NR_ioctl, dev, GUPNW_IOC_PROBE, &a), EINVAL,
	       "unaligned addr is EINVAL");
	args_init(&a, p, PAGE, 0, st);
	expect(sys3(NR_ioctl, dev,
		    _IOWR(GUPNW_IOC_MAGIC, 0x7f, struct gupnw_probe_args), &a),
	       ENOTTY, "unknown command is ENOTTY");
	expect(sys3(NR_ioctl, dev, GUPNW_IOC_PROBE, 8), EFAULT,
	       "args pointer 8 is EFAULT");
	/* a 64-bit states pointer a 32-bit process cannot reach */
	args_init(&a, p, PAGE, 0, 0);
	a.states = 0x100000000ULL;
	expect(sys3(NR_ioctl, dev, GUPNW_IOC_PROBE, &a), EFAULT,
	       "states pointer above 4 GiB is EFAULT");
	sys3(NR_munmap, p, PAGE, 0);
out:
	sys3(NR_close, dev, 0, 0);
}

/*
 * GUPNW_TESTS without libc: shell patterns with '*' and '?' (enough for the
 * names in use), the rules of gt_selected() in tests/guest/gupnw_test.c.
 */
static int match(const char *pat, const char *pe, const char *s, const char *se)
{
	for (; pat < pe; pat++, s++) {
		if (*pat == '*') {
			for (; s <= se; s++)
				if (match(pat + 1, pe, s, se))
					return 1;
			return 0;
		}
		if (s == se || (*pat != '?' && *pat != *s))
			return 0;
	}
	return s == se;
}

static int match_z(const char *pat, const char *pe, const char *s)
{
	return match(pat, pe, s, s + slen(s));
}

/* The file part names us: "t18", "t18_compat32" or "PAT_*" of the latter. */
static int file_match(const char *pat, const char *pe)
{
	static const char full[] = "t18_compat32";
	unsigned int i;

	if (match_z(pat, pe, "t18") || match_z(pat, pe, full))
		return 1;
	for (i = 0; full[i]; i++)
		if (full[i] == '_' && match(pat, pe, full, full + i))
			return 1;
	return 0;
}

static int prefixed(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return 0;
	return 1;
}

static const char *tests_env;

static int selected(const char *name)
{
	const char *p = tests_env, *end, *colon;
	int file_named = 0;

	if (!p || !*p)
		return 1;
	for (; *p; p = *end ? end + 1 : end) {
		for (end = p; *end && *end != ','; end++)
			;
		for (colon = p; colon < end && *colon != ':'; colon++)
			;
		if (!file_match(p, colon))
			continue;
		file_named = 1;
		if (colon == end || match_z(colon + 1, end, name))
			return 1;
	}
	return !file_named;
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "get-info", case_get_info },
	{ "probe-states", case_probe_states },
	{ "errors", case_errors },
};

__attribute__((used, noreturn)) void t18_main(long *sp);
void t18_main(long *sp)
{
	char **envp = (char **)(sp + 1 + sp[0] + 1);
	unsigned int i;

	for (; *envp; envp++)
		if (prefixed(*envp, "GUPNW_TESTS="))
			tests_env = *envp + 12;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!selected(cases[i].name))
			continue;
		cur_case = cases[i].name;
		cases[i].fn();
	}
	put("1..");
	put_num(nr_results);
	put("\n");
	sys3(NR_exit_group, failed, 0, 0);
	for (;;)
		;
}

/* The entry point: the kernel's stack (argc, argv, envp) to t18_main(). */
__asm__(".globl _start\n"
	"_start:\n\t"
	"xor %ebp, %ebp\n\t"
	"mov %esp, %eax\n\t"
	"and $-16, %esp\n\t"
	"sub $12, %esp\n\t"
	"push %eax\n\t"
	"call t18_main\n\t"
	"hlt\n");
#endif
