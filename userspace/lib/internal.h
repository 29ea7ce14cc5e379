/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libgupnw internals shared by the library's files; not installed. */
#ifndef GUPNW_INTERNAL_H
#define GUPNW_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

struct gupnw {
	int fd;			/* /dev/gupnw, O_RDWR | O_CLOEXEC */
	unsigned long page_size;	/* sysconf(_SC_PAGESIZE), read once */
	uint64_t user_end;	/* gupnw_user_end(), 0 until asked; __atomic */
};

/*
 * The structs the library fills grew in 0.2.  A program built against 0.1
 * binds to the GUPNW_0.1 version of each call that fills one (the symbol
 * versions of libgupnw.map), and that version writes only what the 0.1
 * header declared: the six counts, and module info up to version[].
 */
#define GUPNW_COUNTS_SIZE_0_1	(6 * sizeof(uint64_t))
#define GUPNW_INFO_SIZE_0_1	offsetof(struct gupnw_module_info, max_io_pages)

/*
 * name_0_1 is name@GUPNW_0.1, name_0_2 the default name@@GUPNW_0.2.  In
 * libgupnw.a, name@@GUPNW_0.2 is what a static link binds "name" to.
 * GUPNW_SYMVER_0_2(name) declares both with the type of the public name.
 *
 * GCC >= 10 has the symver attribute, which LTO carries to the object that
 * defines the symbol; a top-level asm(".symver") does not survive LTO
 * partitioning ("invalid attempt to declare external version name as
 * default"), so it is only the fallback for compilers without it.
 */
#if defined(__has_attribute)
#if __has_attribute(symver)
#define GUPNW_HAVE_SYMVER_ATTR	1
#endif
#endif

#ifdef GUPNW_HAVE_SYMVER_ATTR
#define GUPNW_SYMVER_0_2(name)						\
	__typeof__(name) name##_0_1					\
		__attribute__((symver(#name "@GUPNW_0.1")));		\
	__typeof__(name) name##_0_2					\
		__attribute__((symver(#name "@@GUPNW_0.2")))
#else
#define GUPNW_SYMVER_0_2(name)						\
	__typeof__(name) name##_0_1, name##_0_2;			\
	__asm__(".symver " #name "_0_1, " #name "@GUPNW_0.1");		\
	__asm__(".symver " #name "_0_2, " #name "@@GUPNW_0.2")
#endif

/*
 * The three entry points of a probe of another process named by @arg_type
 * @arg (a /proc/PID/mem descriptor, a pid, a pidfd): name@GUPNW_0.1 and
 * name@@GUPNW_0.2 with a size_t length, name64 (GUPNW_0.3) with a 64-bit
 * one.  Each is name_sized() writing the counts of its version.
 */
#define GUPNW_DEFINE_PROBE_VERSIONS(name, arg_type, arg)		\
GUPNW_SYMVER_0_2(name);							\
									\
int name##_0_2(struct gupnw *g, arg_type arg, uint64_t addr,		\
	       size_t len, unsigned int flags, unsigned char *states,	\
	       struct gupnw_counts *counts)				\
{									\
	return name##_sized(g, arg, addr, len, flags, states, counts,	\
			    sizeof(*counts));				\
}									\
									\
int name##64(struct gupnw *g, arg_type arg, uint64_t addr,		\
	     uint64_t len, unsigned int flags, unsigned char *states,	\
	     struct gupnw_counts *counts)				\
{									\
	return name##_sized(g, arg, addr, len, flags, states, counts,	\
			    sizeof(*counts));				\
}									\
									\
int name##_0_1(struct gupnw *g, arg_type arg, uint64_t addr,		\
	       size_t len, unsigned int flags, unsigned char *states,	\
	       struct gupnw_counts *counts)				\
{									\
	return name##_sized(g, arg, addr, len, flags, states, counts,	\
			    GUPNW_COUNTS_SIZE_0_1);			\
}

/*
 * What the library's files share and nobody else may call: hidden, so that
 * libgupnw.a's partial link makes it local (userspace/Makefile).
 */
#define GUPNW_INTERNAL	__attribute__((visibility("hidden")))

/* EINVAL for a misaligned addr or an unknown flag, before any system call. */
GUPNW_INTERNAL int gupnw_check_call(const struct gupnw *g, uint64_t addr,
				    unsigned int flags);

/* close(@fd) after a call's own failure or answer: errno stays the call's. */
static inline void gupnw_close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

struct gupnw;
struct gupnw_counts;
struct gupnw_probe_args;
/* The counts of a probe's answer: @size bytes of them into @counts (NULL: none). */
GUPNW_INTERNAL void gupnw_counts_from(struct gupnw_counts *counts,
				      size_t size,
				      const struct gupnw_probe_args *a);

/* gupnw_probe_memfd() writing @csize bytes of counts. */
GUPNW_INTERNAL int gupnw_probe_memfd_sized(struct gupnw *g, int mem_fd,
					   uint64_t addr, uint64_t len,
					   unsigned int flags,
					   unsigned char *states,
					   struct gupnw_counts *counts,
					   size_t csize);

/* gupnw_probe_memfd_sized() through @mem_fd, which it then closes. */
static inline int gupnw_probe_memfd_closing(struct gupnw *g, int mem_fd,
					    uint64_t addr, uint64_t len,
					    unsigned int flags,
					    unsigned char *states,
					    struct gupnw_counts *counts,
					    size_t csize)
{
	int ret = gupnw_probe_memfd_sized(g, mem_fd, addr, len, flags, states,
					  counts, csize);

	gupnw_close_keep_errno(mem_fd);
	return ret;
}

#endif /* GUPNW_INTERNAL_H */
