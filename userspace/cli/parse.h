/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gupnw tool: reading numbers from the command line, proc(5) text, and how
 * near a mistyped command is.
 */
#ifndef GUPNW_CLI_PARSE_H
#define GUPNW_CLI_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A number as strtoull(s, NULL, 0) reads it (decimal, 0x hex, 0 octal),
 * whole string, no sign or blanks; with @suffix, an optional K, M, G or T
 * (either case, powers of 1024).  0, or -1 on garbage or overflow.
 */
int parse_u64(const char *s, bool suffix, uint64_t *out);

/*
 * vmtouch's -p range: "START-END", "START-" or "-END", sizes as
 * parse_u64() with a suffix, END exclusive and not below START.  @has_end:
 * END was given (else *end is UINT64_MAX: "to the end").  0 or -1.
 */
int parse_byte_range(const char *s, uint64_t *start, uint64_t *end,
		     bool *has_end);

/* A process id: a positive decimal number that fits pid_t.  0 or -1. */
int parse_pid(const char *s, pid_t *out);

/*
 * Seconds, decimal with an optional fraction ("2", "0.1", "1.25"), as
 * whole milliseconds (a finer fraction is cut); at most a year.  0 or -1.
 */
int parse_seconds(const char *s, uint64_t *ms);

/* What a report-only N and C mean in a mapping. */
enum map_kind {
	KIND_ANON,	/* private anonymous: N never touched, C on swap */
	KIND_SHMEM,	/* shared memory: N in memory, C on swap */
	KIND_FILE,	/* a file (and [vdso] & co): N cached, C on disk */
};

/* A mapping's kind from its path and perms ("rw-p") in /proc/PID/maps. */
enum map_kind parse_map_kind(const char *path, const char *perms);

/*
 * Edits (insert, delete, replace, swap two neighbours) from @a to @b, for
 * "did you mean"; 99 for a string of 16 characters or more.
 */
unsigned int edit_distance(const char *a, const char *b);

#endif /* GUPNW_CLI_PARSE_H */
