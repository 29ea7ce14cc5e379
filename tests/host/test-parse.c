// SPDX-License-Identifier: GPL-2.0
/* Unit test of the tool's parsing (userspace/cli/parse.c). */
#include <stdint.h>

#include "check.h"
#include "parse.h"

static int u64_is(const char *s, bool suffix, uint64_t want)
{
	uint64_t v = ~want;

	return !parse_u64(s, suffix, &v) && v == want;
}

static int u64_bad(const char *s, bool suffix)
{
	uint64_t v = 12345;

	/* A refused string leaves the output alone. */
	return parse_u64(s, suffix, &v) == -1 && v == 12345;
}

static void test_u64(void)
{
	CHECK(u64_is("0", false, 0));
	CHECK(u64_is("42", false, 42));
	CHECK(u64_is("0x2a", false, 42));
	CHECK(u64_is("0X2A", false, 42));
	CHECK(u64_is("052", false, 42));
	CHECK(u64_is("18446744073709551615", false, UINT64_MAX));
	CHECK(u64_is("0xffffffffffffffff", false, UINT64_MAX));
	CHECK(u64_bad("18446744073709551616", false));
	CHECK(u64_bad("", false));
	CHECK(u64_bad("-1", false));
	CHECK(u64_bad("+1", false));
	CHECK(u64_bad(" 1", false));
	CHECK(u64_bad("1 ", false));
	CHECK(u64_bad("1x", false));
	CHECK(u64_bad("08", false));
	CHECK(u64_bad("0x", false));
	CHECK(u64_bad("1.5", false));
	CHECK(u64_bad("xyz", false));
	/* No suffix where none is allowed (an address). */
	CHECK(u64_bad("4K", false));
}

static void test_suffix(void)
{
	CHECK(u64_is("4K", true, 4096));
	CHECK(u64_is("4k", true, 4096));
	CHECK(u64_is("1M", true, 1 << 20));
	CHECK(u64_is("1m", true, 1 << 20));
	CHECK(u64_is("2G", true, 2ULL << 30));
	CHECK(u64_is("0x10K", true, 16 << 10));
	CHECK(u64_is("010K", true, 8 << 10));
	CHECK(u64_is("0K", true, 0));
	CHECK(u64_is("17179869183G", true, 17179869183ULL << 30));
	CHECK(u64_is("42", true, 42));
	CHECK(u64_bad("17179869184G", true));		/* 2^64 */
	CHECK(u64_bad("18014398509481984K", true));	/* 2^64 */
	CHECK(u64_bad("K", true));
	CHECK(u64_bad("4KB", true));
	CHECK(u64_bad("4KK", true));
	CHECK(u64_is("4T", true, 4ULL << 40));
	CHECK(u64_is("128t", true, 128ULL << 40));
	CHECK(u64_bad("16777216T", true));		/* 2^64 */
	CHECK(u64_bad("4P", true));
	CHECK(u64_bad("4 K", true));
}

/* vmtouch's -p: START-END, START-, -END; END exclusive. */
static int range_is(const char *s, uint64_t start, uint64_t end, bool has_end)
{
	uint64_t a = 1, b = 1;
	bool h = !has_end;

	return !parse_byte_range(s, &a, &b, &h) && a == start && b == end &&
	       h == has_end;
}

static int range_bad(const char *s)
{
	uint64_t a, b;
	bool h;

	return parse_byte_range(s, &a, &b, &h) == -1;
}

static void test_byte_range(void)
{
	CHECK(range_is("4K-1M", 4096, 1 << 20, true));
	CHECK(range_is("1M-", 1 << 20, UINT64_MAX, false));
	CHECK(range_is("-64K", 0, 64 << 10, true));
	CHECK(range_is("0x1000-0x2000", 4096, 8192, true));
	CHECK(range_is("8K-8K", 8192, 8192, true));	/* empty */
	CHECK(range_is("0-16T", 0, 16ULL << 40, true));
	CHECK(range_bad("-"));
	CHECK(range_bad("4K"));		/* no dash: not a range */
	CHECK(range_bad("1M-4K"));	/* END before START */
	CHECK(range_bad("1-2-3"));
	CHECK(range_bad("x-1M"));
	CHECK(range_bad("4K-y"));
	CHECK(range_bad("4K--1"));
	CHECK(range_bad(""));
}

static int pid_is(const char *s, pid_t want)
{
	pid_t v = 0;

	return !parse_pid(s, &v) && v == want;
}

static void test_pid(void)
{
	pid_t v = 7;

	CHECK(pid_is("1", 1));
	CHECK(pid_is("4194304", 4194304));
	CHECK(pid_is("2147483647", 2147483647));
	CHECK(parse_pid("2147483648", &v) == -1);
	CHECK(parse_pid("99999999999999999999", &v) == -1);
	CHECK(parse_pid("0", &v) == -1);
	CHECK(parse_pid("-1", &v) == -1);
	CHECK(parse_pid("", &v) == -1);
	CHECK(parse_pid("0x10", &v) == -1);
	CHECK(parse_pid("12abc", &v) == -1);
	CHECK(v == 7);
}

static int seconds_is(const char *s, uint64_t want)
{
	uint64_t ms = 12345;

	return !parse_seconds(s, &ms) && ms == want;
}

static int seconds_bad(const char *s)
{
	uint64_t ms = 12345;

	return parse_seconds(s, &ms) && ms == 12345;
}

static void test_seconds(void)
{
	CHECK(seconds_is("0", 0));
	CHECK(seconds_is("1", 1000));
	CHECK(seconds_is("0.1", 100));
	CHECK(seconds_is("2.5", 2500));
	CHECK(seconds_is("0.0005", 0));		/* finer than a ms: cut */
	CHECK(seconds_is("31622400", 31622400000ull));
	CHECK(seconds_bad("31622401"));
	CHECK(seconds_bad(""));
	CHECK(seconds_bad(".5"));
	CHECK(seconds_bad("1."));
	CHECK(seconds_bad("-1"));
	CHECK(seconds_bad("1s"));
	CHECK(seconds_bad("1.5.1"));
	CHECK(seconds_bad("99999999999999999999999"));
}

/* What N and C mean in a mapping, from its line of /proc/PID/maps. */
static void test_map_kind(void)
{
	CHECK(parse_map_kind("", "rw-p") == KIND_ANON);
	CHECK(parse_map_kind("", "rw-s") == KIND_SHMEM);
	CHECK(parse_map_kind("[heap]", "rw-p") == KIND_ANON);
	CHECK(parse_map_kind("[stack]", "rw-p") == KIND_ANON);
	CHECK(parse_map_kind("[anon:name]", "rw-p") == KIND_ANON);
	/* MAP_PRIVATE of /dev/zero is anonymous memory, MAP_SHARED shmem */
	CHECK(parse_map_kind("/dev/zero", "rw-p") == KIND_ANON);
	CHECK(parse_map_kind("/dev/zero (deleted)", "rw-s") == KIND_SHMEM);
	/* shared anonymous memory named with PR_SET_VMA_ANON_NAME (6.13+) */
	CHECK(parse_map_kind("[anon_shmem:name]", "rw-s") == KIND_SHMEM);
	CHECK(parse_map_kind("/memfd:x (deleted)", "rw-s") == KIND_SHMEM);
	CHECK(parse_map_kind("/SYSV00000000 (deleted)", "rw-s") == KIND_SHMEM);
	CHECK(parse_map_kind("/dev/shm/x", "rw-s") == KIND_SHMEM);
	CHECK(parse_map_kind("/usr/bin/sleep", "r-xp") == KIND_FILE);
	CHECK(parse_map_kind("[vdso]", "r-xp") == KIND_FILE);
}

/* How far a mistyped command is from one that exists ("did you mean"). */
static void test_edit_distance(void)
{
	CHECK(edit_distance("probe", "probe") == 0);
	CHECK(edit_distance("prob", "probe") == 1);
	CHECK(edit_distance("pobe", "probe") == 1);
	CHECK(edit_distance("wtach", "watch") == 1);	/* a swap is one */
	CHECK(edit_distance("mapz", "maps") == 1);
	CHECK(edit_distance("", "maps") == 4);
	CHECK(edit_distance("xyz", "maps") == 4);
	CHECK(edit_distance("abcdefghijklmnop", "probe") == 99);
}

int main(void)
{
	test_u64();
	test_suffix();
	test_byte_range();
	test_pid();
	test_seconds();
	test_map_kind();
	test_edit_distance();
	return CHECK_EXIT();
}
