/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gupnw: the differences between the kernels we build against (Debian's 6.1
 * and 6.12 LTS lines and the newest 7.x it ships), in one place.  Each shim is
 * decided by the kernel version in which the interface changed, named in its
 * comment.  A kernel newer than any tested may change another interface the
 * module uses: the build then fails in this file or next to a gupnw_ call.
 */
#ifndef _GUPNW_COMPAT_H
#define _GUPNW_COMPAT_H

#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/version.h>

/* Linux 6.8: struct io_uring_cmd moved, see gupnw_uring_cmd_payload(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#include <linux/io_uring.h>
#include <linux/io_uring_types.h>
#else
#include <linux/io_uring/cmd.h>
#endif

/* Linux 6.12 ("move asm/unaligned.h to linux/unaligned.h"). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#include <asm/unaligned.h>
#else
#include <linux/unaligned.h>
#endif

/*
 * Linux 6.5 ("mm/gup: remove unused vmas parameter from get_user_pages()"
 * and "... from get_user_pages_remote()") dropped the vmas argument.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
static inline long gupnw_gup_current(unsigned long start, unsigned long nr,
				     unsigned int gup_flags,
				     struct page **pages)
{
	return get_user_pages(start, nr, gup_flags, pages, NULL);
}

static inline long gupnw_gup_remote(struct mm_struct *mm, unsigned long start,
				    unsigned long nr, unsigned int gup_flags,
				    struct page **pages)
{
	return get_user_pages_remote(mm, start, nr, gup_flags, pages, NULL,
				     NULL);
}
#else
static inline long gupnw_gup_current(unsigned long start, unsigned long nr,
				     unsigned int gup_flags,
				     struct page **pages)
{
	return get_user_pages(start, nr, gup_flags, pages);
}

static inline long gupnw_gup_remote(struct mm_struct *mm, unsigned long start,
				    unsigned long nr, unsigned int gup_flags,
				    struct page **pages)
{
	return get_user_pages_remote(mm, start, nr, gup_flags, pages, NULL);
}
#endif

/*
 * Whether FOLL_NOFAULT is honoured for this VMA.  6.1 walks hugetlb VMAs with
 * follow_hugetlb_page(), which faults absent pages whatever FOLL_NOFAULT says
 * (6.1 mm/hugetlb.c:6535); by 6.12 hugetlb goes through follow_page_mask()
 * and faultin_page(), which honour it.  We support only these two lines, so
 * the cut is placed at 6.12 rather than guessed at in between.
 */
static inline bool gupnw_nofault_honoured(struct vm_area_struct *vma)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	return !is_vm_hugetlb_page(vma);
#else
	return true;
#endif
}

/*
 * Linux 6.3 ("fs: port inode_owner_or_capable() to mnt_idmap" and the rest
 * of that series) passes permission checks a struct mnt_idmap instead of the
 * mount's user namespace.  Both are what the file's mount gives us.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define gupnw_file_idmap(file)	file_mnt_user_ns(file)
#else
#define gupnw_file_idmap(file)	file_mnt_idmap(file)
#endif

/*
 * Linux 6.5 dropped the vmas argument of get_user_pages_remote() (above);
 * with @locked, a fault may drop mmap_lock while it waits for I/O, and
 * *@locked says whether it is still held on return.
 */
static inline long gupnw_gup_remote_locked(struct mm_struct *mm,
					   unsigned long start,
					   unsigned long nr,
					   unsigned int gup_flags,
					   int *locked)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	return get_user_pages_remote(mm, start, nr, gup_flags, NULL, NULL,
				     locked);
#else
	return get_user_pages_remote(mm, start, nr, gup_flags, NULL, locked);
#endif
}

/*
 * The command's payload, as a const TYPE *.  Linux 6.4 ("io_uring: Pass whole
 * sqe to commands", pulled as for-6.4/io_uring-2023-05-07) replaced the
 * payload pointer ioucmd->cmd by the whole SQE, ioucmd->sqe, read with
 * io_uring_sqe_cmd(sqe); Linux 6.8 ("io_uring: split out cmd api into a
 * separate header", for-6.8/io_uring) moved struct io_uring_cmd to
 * <linux/io_uring/cmd.h> (included at the top); Linux 7.0 ("io_uring: Add
 * size check for sqe->cmd") made io_uring_sqe_cmd(sqe, type) a macro that
 * checks at build time that TYPE fits a 64-byte SQE's command area.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define gupnw_uring_cmd_payload(ioucmd, type) \
	((const type *)(ioucmd)->cmd)
#elif LINUX_VERSION_CODE < KERNEL_VERSION(7, 0, 0)
#define gupnw_uring_cmd_payload(ioucmd, type) \
	((const type *)io_uring_sqe_cmd((ioucmd)->sqe))
#else
#define gupnw_uring_cmd_payload(ioucmd, type) \
	io_uring_sqe_cmd((ioucmd)->sqe, type)
#endif

/*
 * The SQE the command was issued from, as a pointer to compare: 6.1 has
 * ioucmd->cmd (its payload), Linux 6.4 ("io_uring: Pass whole sqe to
 * commands") ioucmd->sqe.  Which one it is does not matter to the caller,
 * only whether it changed between two issues (gupnw_uring.c).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define gupnw_uring_cmd_sqe_ptr(ioucmd)	((const void *)(ioucmd)->cmd)
#else
#define gupnw_uring_cmd_sqe_ptr(ioucmd)	((const void *)(ioucmd)->sqe)
#endif

/*
 * Linux 6.2 ("mm/gup: Add FOLL_INTERRUPTIBLE") lets a GUP caller have its
 * faults' waits end on any signal, not only a fatal one; before it a
 * userfaultfd fault from GUP waits TASK_KILLABLE for its monitor.  0 where
 * absent: READY (gupnw_fault_ready()) then faults no userfaultfd range.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define GUPNW_FOLL_INTERRUPTIBLE	0
#else
#define GUPNW_FOLL_INTERRUPTIBLE	FOLL_INTERRUPTIBLE
#endif

/*
 * Post a command's result.  Linux 6.18 ("io_uring/cmd: drop unused res2 param
 * from io_uring_cmd_done()", for-6.18/io_uring-20250929) dropped the second
 * result, which only 32-byte CQEs carry (io_uring_cmd_done32() since); gupnw
 * never posts one.
 */
static inline void gupnw_uring_cmd_done(struct io_uring_cmd *ioucmd, int ret,
					unsigned int issue_flags)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 18, 0)
	io_uring_cmd_done(ioucmd, ret, 0, issue_flags);
#else
	io_uring_cmd_done(ioucmd, ret, issue_flags);
#endif
}

/*
 * Before Linux 6.3 ("swap: remove remnants of polling from
 * read_swap_cache_async"), swap_cluster_readahead() and swap_vma_readahead()
 * read the faulting page synchronously whenever their read-ahead window
 * was one page (6.1 mm/swap_state.c:621-661 and 804-833, polled in 6.1
 * mm/page_io.c:508): a
 * FOLL_NOWAIT fault on a swapped-out anonymous page can wait for the disk
 * there, so gupnw_nowait.c hands such pages to the fault-in worker.
 */
#define GUPNW_SWAPIN_MAY_WAIT	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0))

/*
 * Linux 6.6 ("mm: Introduce VM_SHADOW_STACK for shadow stack memory", x86
 * user shadow stacks) added the flag, which GUP refuses for FOLL_WRITE; it
 * is VM_NONE where the kernel was built without shadow stacks.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#define GUPNW_VM_SHADOW_STACK	VM_NONE
#else
#define GUPNW_VM_SHADOW_STACK	VM_SHADOW_STACK
#endif

/*
 * The flags word of a folio found under RCU without a reference, read
 * without folio_flags()'s VM_BUG_ON_PGFLAGS() checks: the folio may have
 * been freed and reused as a tail page meanwhile, a stale answer for gupnw
 * but a BUG() through folio_flags() on CONFIG_DEBUG_VM_PGFLAGS kernels.
 * Linux 6.18 ("mm: introduce memdesc_flags_t") wrapped the word in a struct.
 */
static inline unsigned long gupnw_folio_flags_nocheck(const struct folio *folio)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 18, 0)
	return READ_ONCE(folio->flags);
#else
	return READ_ONCE(folio->flags.f);
#endif
}

/*
 * Whether a file's buffered reads can wait through the kiocb's wait queue
 * entry (IOCB_WAITQ, io_uring's buffered reads; gupnw_ready.c): Linux 6.11
 * ("fs: claw back a few FMODE_* bits") moved FMODE_BUF_RASYNC from
 * file->f_mode to FOP_BUFFER_RASYNC in the file operations' fop_flags.
 */
static inline bool gupnw_file_buf_rasync(const struct file *file)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	return file->f_mode & FMODE_BUF_RASYNC;
#else
	return file->f_op->fop_flags & FOP_BUFFER_RASYNC;
#endif
}

/*
 * Run gupnw_ready_tw() for a command in its submitter's task work.  Until
 * Linux 6.19 ("io_uring: add wrapper type for io_req_tw_func_t arg") the
 * callback gets the command and the issue flags for io_uring_cmd_done();
 * since, a struct io_tw_req to find the command in, and the flags are
 * IO_URING_CMD_TASK_WORK_ISSUE_FLAGS.
 */
void gupnw_ready_tw(struct io_uring_cmd *ioucmd, unsigned int issue_flags);
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 19, 0)
static inline void gupnw_uring_cmd_in_task(struct io_uring_cmd *ioucmd)
{
	io_uring_cmd_complete_in_task(ioucmd, gupnw_ready_tw);
}
#else
static inline void gupnw_ready_tw_req(struct io_tw_req tw_req,
				      io_tw_token_t tw)
{
	gupnw_ready_tw(io_uring_cmd_from_tw(tw_req),
		       IO_URING_CMD_TASK_WORK_ISSUE_FLAGS);
}

static inline void gupnw_uring_cmd_in_task(struct io_uring_cmd *ioucmd)
{
	io_uring_cmd_complete_in_task(ioucmd, gupnw_ready_tw_req);
}
#endif

/*
 * Whether the command's ring is being closed: io_uring's own task work
 * asks the same (7.3 io_uring/tw.h io_should_terminate_tw()), a driver's
 * only on 7.x (the token's cancel), so it is read from the request, whose
 * layout include/linux/io_uring_types.h has public on every line.
 */
static inline bool gupnw_uring_ring_dying(struct io_uring_cmd *ioucmd)
{
	return percpu_ref_is_dying(&cmd_to_io_kiocb(ioucmd)->ctx->refs);
}

#endif /* _GUPNW_COMPAT_H */
