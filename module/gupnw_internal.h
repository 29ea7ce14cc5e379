/* SPDX-License-Identifier: GPL-2.0 */
/* gupnw: declarations shared by the module's files. */
#ifndef _GUPNW_INTERNAL_H
#define _GUPNW_INTERNAL_H

#include <linux/bits.h>
#include <linux/mm_types.h>
#include <linux/types.h>
#include <linux/gupnw.h>

#define GUPNW_MODULE_VERSION	"0.4.0"

/*
 * Pages decided per mmap_lock hold (NOWAIT and NOFAULT: faults never wait
 * there) and, in WAIT and READY, where each fault may sleep on I/O, far
 * fewer.
 * The states of one chunk are kept in the kernel and copied out at once.
 * 2048: a hold (lock, VMA lookup, copy out, the checks between) costs about
 * 0.8 us under TCG, 0.4 ns/page here; the walk state still fits the 8 KiB
 * kmalloc it did with 1024 (4096 would need 16 KiB, and gained nothing).
 */
#define GUPNW_CHUNK_PAGES	2048
#define GUPNW_WAIT_CHUNK_PAGES	16
/* READY: pages faulted per hold, what an io_uring cancel may wait for. */
#define GUPNW_READY_BATCH	8
/* NOWORKER READY: reads started per hold, what its cancel may wait for. */
#define GUPNW_READY_IO_PAGES	32
/* Page pointers per GUP call: a whole 2 MiB THP in one GUP-fast call. */
#define GUPNW_BATCH_PAGES	512
/* Pages read per step after a fault: fault-around's default, 64 KiB. */
#define GUPNW_AROUND_STEP	16
/* Extents staged per mmap_lock hold (GUPNW_PROBE_EXTENTS). */
#define GUPNW_EXTENT_BATCH	64
/* VMAs visited per mmap_lock hold: bounds a hold over many tiny VMAs. */
#define GUPNW_HOLD_VMAS		128

/* The states a probe reports, as indices of the per-state counts. */
enum gupnw_state_idx {
	GUPNW_IDX_RESIDENT,
	GUPNW_IDX_FAULTED,
	GUPNW_IDX_RETRY,
	GUPNW_IDX_UNMAPPED,
	GUPNW_IDX_ERROR,
	GUPNW_IDX_NOTPRESENT,
	GUPNW_IDX_COLD,
	GUPNW_NR_STATES
};

/*
 * What a probe does with a page that is not mapped, decided once from the
 * command and its flags (gupnw_probe_cmd()); the walker, the no-wait
 * decisions and the side-channel rule ask the predicates below.
 */
enum gupnw_mode {
	GUPNW_MODE_NOWAIT,	/* fault with FOLL_NOWAIT: 'F', or 'W' */
	GUPNW_MODE_NOFAULT,	/* fault nothing: predict 'N', 'W', 'C' */
	GUPNW_MODE_WAIT,	/* fault and wait: the blocking baseline */
	GUPNW_MODE_READY,	/* io_uring READY: fault in, report present */
};

/* Whether absent pages are faulted (pass 2), not only predicted. */
static inline bool gupnw_mode_faults(enum gupnw_mode mode)
{
	return mode != GUPNW_MODE_NOFAULT;
}

/* Whether a fault may sleep on I/O: GUP's @locked protocol, no NOWAIT. */
static inline bool gupnw_mode_waits(enum gupnw_mode mode)
{
	return mode == GUPNW_MODE_WAIT || mode == GUPNW_MODE_READY;
}

/*
 * Whether the probe is io_uring's READY: it answers only present or not,
 * and ends at an io_uring cancel (gupnw_walk_stop()).
 */
static inline bool gupnw_mode_ready(enum gupnw_mode mode)
{
	return mode == GUPNW_MODE_READY;
}

/* One probe of one range: what the ioctl validated, and what it got back. */
struct gupnw_range {
	struct mm_struct *mm;		/* target, held by the caller */
	unsigned long start;		/* page aligned */
	unsigned long nr_pages;
	enum gupnw_mode mode;
	bool write;			/* GUPNW_PROBE_WRITE */
	/*
	 * READY without a worker (gupnw_ready.c): its faults never wait, its
	 * walk stops at a page being read; *cancel ends it
	 */
	bool noworker;
	const bool *cancel;
	unsigned int max_holds;		/* per gupnw_walk_run(); 0: no limit */
	u8 __user *states;		/* NULL: counts only */
	struct gupnw_probe_extent __user *extents; /* GUPNW_PROBE_EXTENTS */
	u32 max_extents;
	/* out */
	u32 nr_extents;			/* extents copied out */
	unsigned long io_limit;		/* pages of read I/O it may start */
	unsigned long io_started;	/* ...and has started */
	unsigned long async_faults;	/* pages handed to gupnw_async.c */
	u64 done;			/* pages decided and copied out */
	u64 counts[GUPNW_NR_STATES];	/* by enum gupnw_state_idx */
};

/* gupnw_dev.c: a probe's arguments in, its answer out; ioctl and io_uring. */
/* cqe->res is an int: a READY covers at most this many pages. */
#define GUPNW_READY_MAX_PAGES	((unsigned long)INT_MAX)
long gupnw_probe_cmd(void __user *uarg, bool ready, bool nonblock);
int gupnw_ready_prepare(void __user *uarg, struct gupnw_probe_args *a,
			u32 *usize, struct gupnw_range *r);
int gupnw_probe_finish(void __user *uarg, struct gupnw_probe_args *a,
		       u32 usize, const struct gupnw_range *r, int ret);

/* gupnw_uring.c: IORING_OP_URING_CMD (GUPNW_URING_CMD_*). */
struct io_uring_cmd;
int gupnw_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);
struct gupnw_ready;
/* what a command keeps in ioucmd->pdu */
struct gupnw_uring_pdu {
	/* what the first issue read, for the issue from io-wq: gupnw_uring.c */
	const void *sqe;
	u64 args;
	/* a NOWORKER READY waiting: gupnw_ready.c */
	struct gupnw_ready *ready;
};

/* gupnw_ready.c: READY waiting without a worker thread; its cancel. */
int gupnw_ready_issue(struct io_uring_cmd *ioucmd, u64 args,
		      unsigned int issue_flags);
int gupnw_ready_cancel(struct io_uring_cmd *ioucmd, u64 args);

/*
 * gupnw_out.c: a probe's answer on its way out - bytes, extents, or a long
 * run written straight out - staged under mmap_lock, copied out after it.
 */
struct gupnw_out {
	struct gupnw_range *r;
	unsigned long nr_staged;	/* bytes staged in states[] */
	unsigned long tail_pages;	/* a run too long to stage, written */
	u8 tail_state;			/* straight out by the flush */
	unsigned int nr_ext;		/* extents staged in ext[] */
	u32 ext_base;			/* index of ext[0] in the user's array */
	u64 staged_pages;
	u64 staged_counts[GUPNW_NR_STATES];
	/* both sized to the range, at most a chunk and a batch (gupnw_walk.c) */
	u8 *states;			/* byte staging, or per-page scratch */
	unsigned long states_cap;
	struct gupnw_probe_extent *ext;
	unsigned int ext_cap;
};

void gupnw_fill(u8 *st, u8 s, unsigned long n);
unsigned long gupnw_out_room(const struct gupnw_out *o);
u8 *gupnw_out_scratch(struct gupnw_out *o);
void gupnw_out_states(struct gupnw_out *o, unsigned long addr, const u8 *st,
		      unsigned long n);
void gupnw_out_same(struct gupnw_out *o, unsigned long addr, u8 state,
		    unsigned long n);
bool gupnw_out_span(struct gupnw_out *o, unsigned long addr, u8 state,
		    unsigned long n);
int gupnw_out_flush(struct gupnw_out *o);

/* gupnw_walk.c: the range walker. */
struct gupnw_walk;
#define GUPNW_WALK_BLOCKED	1	/* NOWORKER READY: a page being read */
#define GUPNW_WALK_PAUSED	2	/* r->max_holds holds done, more to go */
struct gupnw_walk *gupnw_walk_new(struct gupnw_range *r);
int gupnw_walk_run(struct gupnw_walk *w);
unsigned long gupnw_walk_blocked(const struct gupnw_walk *w);
void gupnw_walk_free(struct gupnw_walk *w);
int gupnw_walk_range(struct gupnw_range *r);
int gupnw_walk_stop(const struct gupnw_range *r);
size_t gupnw_walk_kmem(void);

/*
 * Pass-1 verdicts, kept in the same per-page bytes as the states but never
 * copied out (pass 2 or NOFAULT's prediction turns each into a state): not
 * mapped now; a swap entry; something unusual, for GUP to decide; mapped
 * read-only where a WRITE is probed (a write fault: COW, or write-notify in
 * a shared mapping).  Small numbers, apart from the ABI's letters.
 */
enum gupnw_verdict {
	GUPNW_ABSENT,
	GUPNW_SWAPPED,
	GUPNW_ASK,
	GUPNW_RO_WRITE,
	GUPNW_NR_VERDICTS
};

/* apart from the least of the letters */
static_assert(GUPNW_NR_VERDICTS <= GUPNW_STATE_UNMAPPED);

/*
 * What is left of a probe's one I/O budget (max_io_pages): the pages it
 * read ahead and the pages it handed to the fault-in worker together.
 */
static inline unsigned long gupnw_io_budget(const struct gupnw_range *r)
{
	unsigned long used = r->io_started + r->async_faults;

	return r->io_limit > used ? r->io_limit - used : 0;
}

/* gupnw_pte.c: presence from the page tables, no page reference taken. */
bool gupnw_pte_scan(struct mm_struct *mm, unsigned long addr, unsigned long n,
		    bool write, u8 *st);

/* gupnw_readahead.c: what the module reads itself; the page cache. */
unsigned int gupnw_max_io_pages(void);
pgoff_t gupnw_eof(struct address_space *mapping);
bool gupnw_cached(struct address_space *mapping, pgoff_t index);
/* gupnw_cache_state(): what the page cache holds at an index */
#define GUPNW_PC_FOLIO		BIT(0)
#define GUPNW_PC_VALUE		BIT(1)	/* a shadow, or shmem swap */
#define GUPNW_PC_UPTODATE	BIT(2)
#define GUPNW_PC_LOCKED		BIT(3)
#define GUPNW_PC_MAP		16	/* every combination of them */
unsigned int gupnw_cache_state(struct address_space *mapping, pgoff_t index);
void gupnw_cache_scan(struct address_space *mapping, pgoff_t index,
		      unsigned long n, const u8 *map, u8 *out);
bool gupnw_filemap_vma(struct vm_area_struct *vma);
unsigned long gupnw_nowait_read(struct gupnw_range *r,
				struct vm_area_struct *vma, unsigned long addr,
				const u8 *st, unsigned long max);
unsigned long gupnw_wait_read(struct gupnw_range *r, struct vm_area_struct *vma,
			      unsigned long addr, const u8 *st, unsigned long n);
unsigned long gupnw_ready_read(struct vm_area_struct *vma, unsigned long addr,
			       unsigned long max);

/* gupnw_nowait.c: where a FOLL_NOWAIT fault would still sleep. */
unsigned long gupnw_nowait_check(struct gupnw_range *r,
				 struct vm_area_struct *vma,
				 unsigned long addr, u8 *st, unsigned long n);

/* gupnw_async.c: the fault-in worker. */
#define GUPNW_ASYNC_RUN		32	/* pages per work item */
int gupnw_async_init(void);
void gupnw_async_exit(void);
u64 gupnw_async_max(void);
u64 gupnw_async_queued(void);
unsigned long gupnw_async_fault(struct gupnw_range *r, unsigned long addr,
				unsigned long n, bool write);
struct delayed_work;
void gupnw_async_delay(struct delayed_work *dw, unsigned long delay);

/* gupnw_policy.c: the page-cache side channel. */
bool gupnw_cache_visible(struct vm_area_struct *vma);
/* A range's counts before a VMA was walked, for gupnw_hide_cache(). */
struct gupnw_hide_mark {
	unsigned long io_started, async_faults;
};

void gupnw_hide_cache(struct gupnw_range *r,
		      const struct gupnw_hide_mark *mark, u8 *st,
		      unsigned long n);

/* gupnw_target.c: the mm behind a /proc/PID/mem file descriptor. */
int gupnw_target_init(void);
bool gupnw_target_supported(void);
struct mm_struct *gupnw_target_get_mm(int fd, bool write);

#endif /* _GUPNW_INTERNAL_H */
