/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libgupnw internals shared by the library's files; not installed. */
#ifndef GUPNW_INTERNAL_H
#define GUPNW_INTERNAL_H

struct gupnw {
	int fd;			/* /dev/gupnw, O_RDWR | O_CLOEXEC */
	unsigned long page_size;	/* sysconf(_SC_PAGESIZE), read once */
};

#include <stdint.h>

/* EINVAL for a misaligned addr or an unknown flag, before any system call. */
int gupnw_check_call(const struct gupnw *g, uint64_t addr,
		     unsigned int flags);

struct gupnw_counts;
struct gupnw_probe_args;
/* The counts of a probe's answer, into counts (which may be NULL). */
void gupnw_counts_from(struct gupnw_counts *counts,
		       const struct gupnw_probe_args *a);

#endif /* GUPNW_INTERNAL_H */
