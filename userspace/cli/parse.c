// SPDX-License-Identifier: LGPL-2.1-or-later
/* gupnw tool: reading numbers from the command line, and command names. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static unsigned int suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K':
		return 10;
	case 'm': case 'M':
		return 20;
	case 'g': case 'G':
		return 30;
	case 't': case 'T':
		return 40;
	default:
		return 0;
	}
}

int parse_u64(const char *s, bool suffix, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	/* strtoull() skips blanks and takes a sign: a size has neither. */
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -1;
	if (suffix && *end) {
		shift = suffix_shift(*end);
		if (shift)
			end++;
	}
	if (*end)
		return -1;
	if (shift && v > UINT64_MAX >> shift)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_pid(const char *s, pid_t *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return -1;
	*out = (pid_t)v;
	return 0;
}

int parse_seconds(const char *s, uint64_t *ms)
{
	uint64_t v = 0, scale = 1000;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > 366ull * 24 * 3600)
			return -1;
	}
	v *= 1000;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return -1;
		for (; isdigit((unsigned char)*s); s++) {
			scale /= 10;
			v += scale * (uint64_t)(*s - '0');
		}
	}
	if (*s)
		return -1;
	*ms = v;
	return 0;
}

int parse_byte_range(const char *s, uint64_t *start, uint64_t *end,
		     bool *has_end)
{
	const char *dash = strchr(s, '-');
	char buf[64];
	size_t n;

	if (!dash || strchr(dash + 1, '-'))
		return -1;
	n = dash - s;
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*start = 0;
	if (n && parse_u64(buf, true, start))
		return -1;
	*has_end = dash[1] != '\0';
	*end = UINT64_MAX;
	if (*has_end && parse_u64(dash + 1, true, end))
		return -1;
	if (!n && !*has_end)		/* "-": say nothing, mean nothing */
		return -1;
	return *end < *start ? -1 : 0;
}

enum map_kind parse_map_kind(const char *path, const char *perms)
{
	/*
	 * A private mapping of /dev/zero is anonymous memory, a shared one
	 * shmem; "[anon_shmem:NAME]" is shared anonymous memory, named.
	 */
	if (!*path || !strcmp(path, "[heap]") ||
	    !strncmp(path, "[stack", 6) || !strncmp(path, "[anon:", 6) ||
	    !strncmp(path, "/dev/zero", 9))
		return perms[3] == 's' ? KIND_SHMEM : KIND_ANON;
	if (!strncmp(path, "[anon_shmem:", 12) ||
	    !strncmp(path, "/memfd:", 7) ||
	    !strncmp(path, "/SYSV", 5) || !strncmp(path, "/dev/shm/", 9))
		return KIND_SHMEM;
	return KIND_FILE;
}

unsigned int edit_distance(const char *a, const char *b)
{
	unsigned int d[16][16], i, j, la = strlen(a), lb = strlen(b), v;

	if (la >= 16 || lb >= 16)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}
