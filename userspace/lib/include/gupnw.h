/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libgupnw - the C library of gupnw ("GUP, no wait").
 *
 * Ask, per page of a range, whether touching it now would need I/O, without
 * ever waiting for that I/O.  See gupnw(3), and docs/abi.md in the source.
 */
#ifndef GUPNW_H
#define GUPNW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GUPNW_VERSION_MAJOR	0
#define GUPNW_VERSION_MINOR	4
#define GUPNW_VERSION_PATCH	0

struct gupnw;				/* opaque handle on /dev/gupnw */

enum gupnw_state {
	GUPNW_RESIDENT = 'R',		/* mapped and present, no fault */
	GUPNW_FAULTED = 'F',		/* made present without I/O */
	GUPNW_RETRY = 'W',		/* needs I/O: started, not waited for */
	GUPNW_UNMAPPED = '.',		/* no mapping at that address */
	GUPNW_ERROR = 'E',		/* mapped, but the kernel refused it */
	GUPNW_NOTPRESENT = 'N',		/* NOFAULT: in memory, a touch needs no I/O */
	GUPNW_COLD = 'C',		/* a touch reads storage; nothing started */
};

#define GUPNW_WRITE	(1u << 0)	/* probe for write access */
#define GUPNW_NOFAULT	(1u << 1)	/* report only, change nothing */
#define GUPNW_WAIT	(1u << 2)	/* ordinary blocking GUP (baseline) */

/*
 * Since 0.2 (symbol version GUPNW_0.2) the struct has its room to grow: the
 * calls that fill it write sizeof(struct gupnw_counts) as this header has it,
 * and a program built against 0.1 (48 bytes) binds to the GUPNW_0.1 versions
 * of those calls, which write 48 bytes only.
 */
struct gupnw_counts {
	uint64_t resident, faulted, retry, unmapped, error, notpresent;
	/* since 0.2: */
	uint64_t cold;			/* 'C' */
	uint64_t io_started;		/* reads this probe started itself */
	uint64_t async_faults;		/* pages handed to the fault-in worker */
	uint64_t reserved[7];		/* 0; room to grow */
};

/* Open /dev/gupnw (or $GUPNW_DEVICE).  NULL and errno on failure. */
struct gupnw *gupnw_open(void);
void gupnw_close(struct gupnw *g);

/*
 * Probe [addr, addr + len) of the calling process.  addr must be page
 * aligned (EINVAL otherwise); len is rounded up to whole pages.  states (one
 * byte per page) and counts may each be NULL.  Returns 0, or -1 with errno.
 */
int gupnw_probe(struct gupnw *g, const void *addr, size_t len,
		unsigned int flags, unsigned char *states,
		struct gupnw_counts *counts);

/* The same on another process; the caller needs ptrace-attach rights. */
int gupnw_probe_pid(struct gupnw *g, pid_t pid, uint64_t addr, size_t len,
		    unsigned int flags, unsigned char *states,
		    struct gupnw_counts *counts);

/* --- additions beyond the core API above (docs/abi.md) --- */

/*
 * Probe another process through an open /proc/PID/mem file descriptor
 * (opening it is where the kernel checks ptrace-attach rights; holding it
 * pins that process's address space, so a recycled pid cannot be probed by
 * mistake).
 */
int gupnw_probe_memfd(struct gupnw *g, int mem_fd, uint64_t addr, size_t len,
		      unsigned int flags, unsigned char *states,
		      struct gupnw_counts *counts);

/*
 * Open /proc/PID/mem for gupnw_probe_memfd() with the given probe flags
 * (GUPNW_WRITE needs it open for writing): an fd, or -1 and errno (ESRCH:
 * no such process; EACCES/EPERM: no ptrace-attach rights).
 */
int gupnw_open_pid_mem(pid_t pid, unsigned int flags);

/*
 * Probe the process a pidfd (pidfd_open(2), clone3's CLONE_PIDFD) refers to.
 * Unlike a pid, a pidfd cannot come to name another process: if the target
 * has exited (or exits during the call), this fails with ESRCH and never
 * probes a process that took its pid.  Needs ptrace-attach rights, as
 * gupnw_probe_pid().  EBADF: pidfd not open; EINVAL: not a pidfd; ENOENT:
 * no /proc mounted.
 */
int gupnw_probe_pidfd(struct gupnw *g, int pidfd, uint64_t addr, size_t len,
		      unsigned int flags, unsigned char *states,
		      struct gupnw_counts *counts);

/* The device gupnw_open() opens: $GUPNW_DEVICE if set, else /dev/gupnw. */
const char *gupnw_device_path(void);

/* One run of pages in the same state (gupnw_probe_extents()). */
struct gupnw_extent {
	uint64_t start;			/* first address of the run */
	uint64_t pages;			/* pages in the run */
	uint32_t state;			/* enum gupnw_state */
	uint32_t reserved;
};

/*
 * Probe [addr, addr + len) of the calling process and describe it as runs:
 * at most max extents, in address order.  Cost and output follow what is
 * mapped, not the size of the range: a 1 TiB reservation is a few runs.
 * Returns the number of extents written, or -1 with errno.  If the array
 * filled first, the runs end before addr + len: probe again from the end of
 * the last one.  counts (may be NULL) covers the pages the runs cover.
 */
ssize_t gupnw_probe_extents(struct gupnw *g, const void *addr, size_t len,
			    unsigned int flags, struct gupnw_extent *ext,
			    size_t max, struct gupnw_counts *counts);

/* What the running module is and supports. */
struct gupnw_module_info {
	unsigned int abi_version;
	uint64_t features;		/* GUPNW_FEATURE_* of <linux/gupnw.h> */
	unsigned int probe_flags;	/* GUPNW_PROBE_* the module accepts */
	unsigned int page_size;
	char version[32];		/* module version string */
	/* since 0.2 (GUPNW_0.2; see struct gupnw_counts): */
	uint64_t max_io_pages;		/* reads one probe may start */
	uint64_t max_chunk_pages;	/* pages per mmap_lock hold */
	uint64_t probe_kmem;		/* kernel bytes one probe allocates, at most */
	uint64_t max_async_faults;	/* fault-in worker's global cap */
	uint64_t async_faults_queued;	/* pages in the worker now */
	uint64_t reserved[8];		/* 0; room to grow */
};
int gupnw_module_info(struct gupnw *g, struct gupnw_module_info *info);

/*
 * Since 0.2.  gupnw_probe_extents() on another process, through an open
 * /proc/PID/mem file descriptor (gupnw_open_pid_mem()), as
 * gupnw_probe_memfd() does for one byte per page.
 */
ssize_t gupnw_probe_extents_memfd(struct gupnw *g, int mem_fd, uint64_t addr,
				  size_t len, unsigned int flags,
				  struct gupnw_extent *ext, size_t max,
				  struct gupnw_counts *counts);

/*
 * Since 0.2.  The end of user space: the first address no probe may cover
 * (0x7ffffffff000 on x86-64 with 4-level page tables), the same for every
 * process.  A probe of a range past it fails with EINVAL at once; clip the
 * range to it to probe "everything from addr on".  Asked of the module once
 * per handle.  0 and errno on failure.
 */
uint64_t gupnw_user_end(struct gupnw *g);

/*
 * Since 0.3.  The calls on another process with a 64-bit length: the same as
 * gupnw_probe_pid(), gupnw_probe_memfd(), gupnw_probe_pidfd() and
 * gupnw_probe_extents_memfd(), for a program whose size_t is narrower than
 * the target's address space (a 32-bit program probing a 64-bit process).
 */
int gupnw_probe_pid64(struct gupnw *g, pid_t pid, uint64_t addr, uint64_t len,
		      unsigned int flags, unsigned char *states,
		      struct gupnw_counts *counts);
int gupnw_probe_memfd64(struct gupnw *g, int mem_fd, uint64_t addr,
			uint64_t len, unsigned int flags,
			unsigned char *states, struct gupnw_counts *counts);
int gupnw_probe_pidfd64(struct gupnw *g, int pidfd, uint64_t addr,
			uint64_t len, unsigned int flags,
			unsigned char *states, struct gupnw_counts *counts);
ssize_t gupnw_probe_extents_memfd64(struct gupnw *g, int mem_fd,
				    uint64_t addr, uint64_t len,
				    unsigned int flags,
				    struct gupnw_extent *ext, size_t max,
				    struct gupnw_counts *counts);

/* --- io_uring: asynchronous probes and "page ready" (gupnw_prep_probe(3)) --- */

struct io_uring_sqe;			/* <liburing.h> or <linux/io_uring.h> */

/*
 * One asynchronous request: the argument block the kernel reads when the
 * request starts and writes its results into when it completes.  Keep it
 * (and its states buffer) valid and in place until the request's CQE.
 */
struct gupnw_req {
	uint64_t opaque[16];
};

/* The file descriptor of the handle, e.g. to register it with io_uring. */
int gupnw_fd(const struct gupnw *g);

/*
 * Describe [addr, addr + len) of the calling process for gupnw_prep_probe()
 * (flags as gupnw_probe()) or gupnw_prep_ready() (flags 0 or GUPNW_WRITE).
 * states: one byte per page, or NULL.  0, or -1 and errno EINVAL.
 */
int gupnw_req_init(struct gupnw_req *req, const void *addr, size_t len,
		   unsigned int flags, unsigned char *states);

/*
 * Fill an SQE (IORING_OP_URING_CMD on fd, a /dev/gupnw descriptor or, with
 * IOSQE_FIXED_FILE set by the caller, its registered index).
 * gupnw_prep_probe(): the probe of gupnw_probe(), never waiting for I/O;
 * cqe->res is 0 or -errno.  gupnw_prep_ready(): completes when every page
 * of the range is present, the module waiting for the I/O; cqe->res is the
 * number of pages present or -errno (-ECANCELED when cancelled).
 * user_data and the SQE flags are left to the caller.
 */
void gupnw_prep_probe(struct io_uring_sqe *sqe, int fd, struct gupnw_req *req);
void gupnw_prep_ready(struct io_uring_sqe *sqe, int fd, struct gupnw_req *req);

/*
 * gupnw_prep_ready_noworker(): gupnw_prep_ready() that waits for a file's
 * reads with no thread at all, where the module offers it
 * (GUPNW_FEATURE_READY_NOWORKER in gupnw_module_info(); an older module
 * refuses it with -EINVAL).  gupnw_prep_cancel(): ends such a READY of req
 * (IORING_OP_ASYNC_CANCEL does not reach it while it waits); cqe->res is
 * how many READYs it found, or -ENOENT.  See gupnw_prep_ready(3).
 */
void gupnw_prep_ready_noworker(struct io_uring_sqe *sqe, int fd,
			       struct gupnw_req *req);
void gupnw_prep_cancel(struct io_uring_sqe *sqe, int fd, struct gupnw_req *req);

/*
 * After the CQE: the counts the kernel wrote (counts may be NULL); returns
 * the number of pages decided (and written to states).
 */
uint64_t gupnw_req_result(const struct gupnw_req *req,
			  struct gupnw_counts *counts);

/* Library version string, e.g. "0.4.0". */
const char *gupnw_version(void);

/* Lower-case name of a state letter ("resident", ...), or "unknown". */
const char *gupnw_state_name(int state);

#ifdef __cplusplus
}
#endif

#endif /* GUPNW_H */
