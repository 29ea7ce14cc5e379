/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gupnw - "GUP, no wait": ask the kernel, per page of a user range, whether
 * touching it now would need I/O, without ever waiting for that I/O.
 *
 * This header is the whole kernel ABI of /dev/gupnw.  It follows
 * Documentation/driver-api/ioctl.rst: fixed-size types only, __u64 for user
 * pointers, natural alignment with explicit padding, and structs that grow by
 * appending (the 'size' field says how much of the struct the caller knows,
 * as in clone3()'s struct clone_args).
 */
#ifndef _UAPI_LINUX_GUPNW_H
#define _UAPI_LINUX_GUPNW_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define GUPNW_DEVICE_NAME	"gupnw"		/* /dev/gupnw */
#define GUPNW_ABI_VERSION	1

/* Per-page states: one byte per page, a printable letter. */
#define GUPNW_STATE_RESIDENT	'R'	/* mapped and present, no fault taken */
#define GUPNW_STATE_FAULTED	'F'	/* made present by a fault needing no I/O */
#define GUPNW_STATE_RETRY	'W'	/* needs I/O: started, not waited for */
#define GUPNW_STATE_UNMAPPED	'.'	/* no VMA covers the address */
#define GUPNW_STATE_ERROR	'E'	/* a VMA covers it but the kernel refused */
#define GUPNW_STATE_NOTPRESENT	'N'	/* NOFAULT: in memory, a touch needs no I/O */
#define GUPNW_STATE_COLD	'C'	/* needs a read from storage, none started */

/* gupnw_probe_args.flags */
#define GUPNW_PROBE_WRITE	(1U << 0)	/* probe for write access (breaks COW) */
#define GUPNW_PROBE_NOFAULT	(1U << 1)	/* report only: no fault, no I/O */
#define GUPNW_PROBE_WAIT	(1U << 2)	/* ordinary blocking GUP (baseline) */
#define GUPNW_PROBE_TARGET_FD	(1U << 3)	/* probe the mm behind target_fd */
#define GUPNW_PROBE_EXTENTS	(1U << 4)	/* runs, not bytes: see below */
#define GUPNW_PROBE_FLAGS_ALL	(GUPNW_PROBE_WRITE | GUPNW_PROBE_NOFAULT | \
				 GUPNW_PROBE_WAIT | GUPNW_PROBE_TARGET_FD | \
				 GUPNW_PROBE_EXTENTS)

/**
 * struct gupnw_probe_extent - one run of pages in the same state
 * @start:	first address of the run
 * @nr_pages:	pages in the run
 * @state:	GUPNW_STATE_* letter
 * @reserved:	0
 *
 * With GUPNW_PROBE_EXTENTS, @states of struct gupnw_probe_args points to an
 * array of these, so that a huge, mostly empty range (a 1 TiB reservation)
 * needs neither a byte per page nor a walk over its holes.
 */
struct gupnw_probe_extent {
	__u64 start;
	__u64 nr_pages;
	__u32 state;
	__u32 reserved;
};

/**
 * struct gupnw_probe_args - argument of GUPNW_IOC_PROBE
 * @size:	in: sizeof(struct gupnw_probe_args) as the caller knows it;
 *		at least GUPNW_PROBE_ARGS_SIZE_VER0.  Bytes the module does not
 *		know must be zero (else -E2BIG); only @size bytes are written back.
 * @flags:	in: GUPNW_PROBE_* flags; unknown bits give -EINVAL.
 *		NOFAULT and WAIT are mutually exclusive.
 * @addr:	in: first address, page aligned (-EINVAL otherwise).
 * @len:	in: length in bytes, rounded up to whole pages; the range must
 *		lie in user space (-EINVAL) and must not wrap (-EOVERFLOW).
 * @states:	in: user pointer to one byte per page, or 0 for counts only.
 *		With GUPNW_PROBE_EXTENTS: to an array of @nr_extents struct
 *		gupnw_probe_extent (not 0).
 * @target_fd:	in: with GUPNW_PROBE_TARGET_FD, a file descriptor of
 *		/proc/PID/mem of the target process (opening it needs
 *		ptrace-attach rights over PID: the kernel has already checked
 *		them); must be 0 without the flag.
 * @nr_extents:	with GUPNW_PROBE_EXTENTS: in: capacity of the array (not 0);
 *		out: extents written, in address order, adjacent runs of one
 *		state merged.  Must be 0 without the flag.
 * @done:	out: pages whose state was decided and written, from @addr on.
 *		Equals the number of pages on success, except with EXTENTS when
 *		the array filled first: then probe again from
 *		@addr + @done * page size.  On error, what covers [0, done) is
 *		valid.
 * @nr_resident: out: pages in state 'R'; likewise for the five others.
 * @nr_faulted: out: 'F'.
 * @nr_retry:	out: 'W'.
 * @nr_unmapped: out: '.'.
 * @nr_error:	out: 'E'.
 * @nr_notpresent: out: 'N'.
 * @io_started:	out: pages whose read this probe started itself (page-cache
 *		misses in file mappings), at most gupnw_info.max_io_pages;
 *		reads started by the kernel's own fault paths (swap-in) are
 *		not counted.  For a mapping whose page cache the caller may
 *		not see (docs/security.md), every page but 'E' counts, in
 *		NOWAIT and WAIT, whether it needed a read or not.
 * @nr_cold:	out: 'C' (GUPNW_FEATURE_COLD; a module without it leaves 0).
 * @async_faults: out: pages this probe handed to the module's fault-in
 *		worker (GUPNW_FEATURE_ASYNC_FAULT): reported 'W', brought in
 *		by blocking GUP in a kernel worker; none for a mapping whose
 *		page cache the caller may not see.
 * @reserved:	must be 0 on input; room to grow.
 */
struct gupnw_probe_args {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 len;
	__u64 states;
	__s32 target_fd;
	__u32 nr_extents;
	__u64 done;
	__u64 nr_resident;
	__u64 nr_faulted;
	__u64 nr_retry;
	__u64 nr_unmapped;
	__u64 nr_error;
	__u64 nr_notpresent;
	__u64 io_started;
	__u64 nr_cold;
	__u64 async_faults;
	__u64 reserved[1];
};

/*
 * VER0 is the first published struct; @nr_cold and @async_faults took two of
 * its reserved words (zero on input either way), so the size is unchanged.
 */
#define GUPNW_PROBE_ARGS_SIZE_VER0	128

/* gupnw_info.features */
#define GUPNW_FEATURE_PROBE	(1ULL << 0)	/* GUPNW_IOC_PROBE */
#define GUPNW_FEATURE_TARGET_FD	(1ULL << 1)	/* probing another process */
#define GUPNW_FEATURE_EXTENTS	(1ULL << 2)	/* GUPNW_PROBE_EXTENTS */
#define GUPNW_FEATURE_IO_CAP	(1ULL << 3)	/* max_io_pages, io_started */
#define GUPNW_FEATURE_URING_CMD	(1ULL << 4)	/* GUPNW_URING_CMD_* */
#define GUPNW_FEATURE_COLD	(1ULL << 5)	/* NOFAULT predicts: 'N', 'W', 'C' */
#define GUPNW_FEATURE_ASYNC_FAULT (1ULL << 6)	/* worker fault-in, see below */
#define GUPNW_FEATURE_READY_NOWORKER (1ULL << 7) /* GUPNW_URING_CMD_CANCEL too */

/**
 * struct gupnw_info - result of GUPNW_IOC_GET_INFO
 * @size:	in: sizeof(struct gupnw_info) as the caller knows it, at least
 *		GUPNW_INFO_SIZE_VER0; only @size bytes are written back.
 * @abi_version: out: GUPNW_ABI_VERSION of the running module.
 * @features:	out: GUPNW_FEATURE_* the running module supports.
 * @probe_flags: out: GUPNW_PROBE_* flags the running module accepts.
 * @page_size:	out: PAGE_SIZE of the running kernel.
 * @probe_kmem:	out: bytes of kernel memory one probe call allocates at
 *		most, whatever its range (a range of a few pages takes less);
 *		concurrent calls each take up to this much.
 * @max_chunk_pages: out: pages handled per mmap_lock hold.
 * @version:	out: module version, NUL-terminated (e.g. "0.1.0").
 * @max_io_pages: out: pages of read I/O one probe may start (module
 *		parameter max_io_pages); pages past it are 'C' (nothing
 *		started).
 * @max_async_faults: out: GUPNW_FEATURE_ASYNC_FAULT: pages the fault-in
 *		worker may hold queued or in progress, all probes together
 *		(module parameter max_async_faults); a page past it is 'C'.
 * @async_faults_queued: out: pages queued or in progress in the fault-in
 *		worker now.
 * @reserved:	out: 0.
 */
struct gupnw_info {
	__u32 size;
	__u32 abi_version;
	__u64 features;
	__u64 probe_flags;
	__u32 page_size;
	__u32 probe_kmem;
	__u64 max_chunk_pages;
	char version[32];
	__u64 max_io_pages;
	__u64 max_async_faults;
	__u64 async_faults_queued;
	__u64 reserved[1];
};

#define GUPNW_INFO_SIZE_VER0		104

/* 0xBA: unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst (6.12) */
#define GUPNW_IOC_MAGIC		0xBA
/*
 * The command numbers carry the VER0 struct size; the module matches type and
 * number only and versions the struct by its 'size' field, so a later, larger
 * struct keeps working with these command values.
 */
#define GUPNW_IOC_GET_INFO	_IOWR(GUPNW_IOC_MAGIC, 0x00, struct gupnw_info)
#define GUPNW_IOC_PROBE		_IOWR(GUPNW_IOC_MAGIC, 0x01, struct gupnw_probe_args)

/*
 * io_uring commands: IORING_OP_URING_CMD on a /dev/gupnw file, sqe->cmd_op
 * one of the GUPNW_URING_CMD_* below, the command payload (sqe->cmd: 16
 * bytes, so an ordinary 64-byte SQE does) a struct gupnw_uring_cmd.  The
 * argument block it points to is read when the command starts and written
 * back when it completes: keep it valid, and unchanged, until the CQE.
 * IORING_SETUP_IOPOLL rings are refused (-EOPNOTSUPP).
 *
 * GUPNW_URING_CMD_PROBE: the probe of GUPNW_IOC_PROBE, same argument, same
 *	results; cqe->res is 0 or -errno.  NOWAIT and NOFAULT probes run when
 *	submitted; a WAIT probe goes to an io_uring worker.
 * GUPNW_URING_CMD_READY: "page ready".  Make every page of the range
 *	present, faulting it in and waiting for its I/O - in an io_uring worker
 *	thread, never in the submitting one - and complete when that is done.
 *	The argument is a struct gupnw_probe_args whose flags may hold only
 *	GUPNW_PROBE_WRITE and GUPNW_PROBE_TARGET_FD (else -EINVAL); @len covers
 *	at most INT_MAX pages.  cqe->res is the number of pages now present,
 *	or -errno: -ECANCELED when cancelled (IORING_OP_ASYNC_CANCEL, a linked
 *	timeout, the ring closed, the submitter exiting), -EINTR on a fatal
 *	signal, -ESRCH when the process of GUPNW_PROBE_TARGET_FD exited.
 *	Per page, @states gets 'R' (present), 'E' (never will be:
 *	an I/O error, past the end of the file, PROT_NONE, ...) or '.'
 *	(unmapped); @done and @nr_resident, @nr_error, @nr_unmapped count them
 *	(the other counts are 0).  Pages already present cost one page-table
 *	lookup: READY on a range that was probed 'W' completes when the I/O
 *	the probe started has finished.
 *	With GUPNW_URING_READY_NOWORKER in @flags (GUPNW_FEATURE_READY_NOWORKER)
 *	a READY of the caller's own memory waits without any thread: it
 *	starts reads as a NOWAIT probe does (32 pages at a time), puts itself
 *	on the wait queue of the first page still being read, and walks on
 *	from there, in the submitting thread's task work, when that read
 *	ends.  The pages of a file whose buffered reads can be waited for so
 *	(ext4, XFS, btrfs, ..., block devices) never need a worker; any other
 *	page it meets first - swapped-out memory, tmpfs, FUSE, another
 *	process's memory (GUPNW_PROBE_TARGET_FD) - sends the READY to an
 *	io_uring worker as without the flag, and one met later is looked at
 *	again every few milliseconds.  While such a READY waits,
 *	IORING_OP_ASYNC_CANCEL and linked timeouts do not reach it: cancel it
 *	with GUPNW_URING_CMD_CANCEL (a READY with an io_uring worker is
 *	cancelled as above: send both to be sure); the ring closed or the
 *	submitter exiting ends it with -ECANCELED at its next step, once the
 *	page's read has ended.  While it waits it holds its walk state (at
 *	most gupnw_info.probe_kmem) and a few hundred bytes more, charged to
 *	the caller's memory cgroup.
 * GUPNW_URING_CMD_CANCEL: end the NOWORKER READYs, submitted on the same
 *	/dev/gupnw file by the same process, whose @args is this command's
 *	@args (the same argument block): each completes with -ECANCELED, at
 *	once if it is looking again later, else when the read it waits for
 *	ends.  cqe->res is how many were found (1 or more), or -ENOENT.
 */
struct gupnw_uring_cmd {
	__u64 args;		/* user pointer to struct gupnw_probe_args */
	__u32 flags;		/* GUPNW_URING_READY_*; 0 for the others */
	__u32 reserved;		/* must be 0 */
};

/* gupnw_uring_cmd.flags of GUPNW_URING_CMD_READY */
#define GUPNW_URING_READY_NOWORKER	(1U << 0)

#define GUPNW_URING_CMD_PROBE	_IOWR(GUPNW_IOC_MAGIC, 0x20, struct gupnw_uring_cmd)
#define GUPNW_URING_CMD_READY	_IOWR(GUPNW_IOC_MAGIC, 0x21, struct gupnw_uring_cmd)
#define GUPNW_URING_CMD_CANCEL	_IOWR(GUPNW_IOC_MAGIC, 0x22, struct gupnw_uring_cmd)

#endif /* _UAPI_LINUX_GUPNW_H */
