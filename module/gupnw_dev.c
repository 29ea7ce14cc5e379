// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: the /dev/gupnw misc device and its ioctl entry.
 *
 * This file checks what user space asks (the ABI rules of
 * <linux/gupnw.h>: sized structs, unknown flags and non-zero reserved fields
 * refused) and hands a validated range to the walker in gupnw_walk.c.
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "gupnw_internal.h"

static u64 gupnw_features(void)
{
	u64 f = GUPNW_FEATURE_PROBE | GUPNW_FEATURE_EXTENTS |
		GUPNW_FEATURE_IO_CAP | GUPNW_FEATURE_URING_CMD |
		GUPNW_FEATURE_COLD | GUPNW_FEATURE_ASYNC_FAULT |
		GUPNW_FEATURE_READY_NOWORKER;

	if (gupnw_target_supported())
		f |= GUPNW_FEATURE_TARGET_FD;
	return f;
}

/* Read the caller's 'size' and check it against the struct's first version. */
static int gupnw_get_usize(const void __user *uarg, u32 size_ver0, u32 *usize)
{
	if (get_user(*usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (*usize < size_ver0)
		return -EINVAL;
	if (*usize > PAGE_SIZE)
		return -E2BIG;
	return 0;
}

/* Write back the first @usize bytes of @kbuf; zero what we do not know. */
static int gupnw_put_sized(void __user *uarg, u32 usize, const void *kbuf,
			   size_t ksize)
{
	if (copy_to_user(uarg, kbuf, min_t(size_t, usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

static long gupnw_ioctl_get_info(void __user *uarg)
{
	struct gupnw_info info;
	u32 usize;
	int ret;

	ret = gupnw_get_usize(uarg, GUPNW_INFO_SIZE_VER0, &usize);
	if (ret)
		return ret;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.abi_version = GUPNW_ABI_VERSION;
	info.features = gupnw_features();
	info.probe_flags = GUPNW_PROBE_FLAGS_ALL;
	info.page_size = PAGE_SIZE;
	info.probe_kmem = gupnw_walk_kmem();
	info.max_chunk_pages = GUPNW_CHUNK_PAGES;
	info.max_io_pages = gupnw_max_io_pages();
	info.max_async_faults = gupnw_async_max();
	info.async_faults_queued = gupnw_async_queued();
	strscpy(info.version, GUPNW_MODULE_VERSION, sizeof(info.version));
	return gupnw_put_sized(uarg, usize, &info, sizeof(info));
}

static int gupnw_check_probe_args(const struct gupnw_probe_args *a)
{
	unsigned int i;

	if (a->flags & ~GUPNW_PROBE_FLAGS_ALL)
		return -EINVAL;
	if ((a->flags & GUPNW_PROBE_NOFAULT) && (a->flags & GUPNW_PROBE_WAIT))
		return -EINVAL;
	if (a->flags & GUPNW_PROBE_EXTENTS) {
		if (!a->states || !a->nr_extents)
			return -EINVAL;
	} else if (a->nr_extents) {
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(a->reserved); i++)
		if (a->reserved[i])
			return -EINVAL;
	if (!(a->flags & GUPNW_PROBE_TARGET_FD) && a->target_fd)
		return -EINVAL;
	if (offset_in_page(a->addr))
		return -EINVAL;
	if (a->len > ULONG_MAX - (PAGE_SIZE - 1) ||
	    a->addr + PAGE_ALIGN(a->len) < a->addr)
		return -EOVERFLOW;
	/* User space only, whatever the target (TASK_SIZE_MAX, not TASK_SIZE). */
	if (a->addr + PAGE_ALIGN(a->len) > TASK_SIZE_MAX)
		return -EINVAL;
	return 0;
}

/**
 * gupnw_probe_args_get - read and check a probe argument, and take its mm
 * @uarg:	the caller's struct gupnw_probe_args
 * @flags_ok:	the GUPNW_PROBE_* flags this command accepts
 * @max_pages:	the most pages this command accepts
 * @a:		out: the argument
 * @usize:	out: how much of it the caller knows (for gupnw_put_sized())
 *
 * Shared by the ioctl and the io_uring commands, so that one argument
 * means the same, and is refused the same, whichever way it comes.
 *
 * Return: the mm to probe with a reference held (mmput() it), or an
 * ERR_PTR(): -EFAULT, -EINVAL, -E2BIG, -EOVERFLOW for the argument, the
 * errors of gupnw_target_get_mm(), -ESRCH for a caller without an mm.
 */
static struct mm_struct *
gupnw_probe_args_get(const void __user *uarg, u32 flags_ok,
		     unsigned long max_pages, struct gupnw_probe_args *a,
		     u32 *usize)
{
	unsigned long nr_pages;
	struct mm_struct *mm;
	int ret;

	ret = gupnw_get_usize(uarg, GUPNW_PROBE_ARGS_SIZE_VER0, usize);
	if (ret)
		return ERR_PTR(ret);
	ret = copy_struct_from_user(a, sizeof(*a), uarg, *usize);
	if (ret)
		return ERR_PTR(ret);
	if (a->flags & ~flags_ok)
		return ERR_PTR(-EINVAL);
	ret = gupnw_check_probe_args(a);
	if (ret)
		return ERR_PTR(ret);
	nr_pages = PAGE_ALIGN(a->len) >> PAGE_SHIFT;
	if (nr_pages > max_pages)
		return ERR_PTR(-EINVAL);
	if (a->flags & GUPNW_PROBE_EXTENTS) {
		if (!access_ok(u64_to_user_ptr(a->states),
			       (size_t)a->nr_extents *
			       sizeof(struct gupnw_probe_extent)))
			return ERR_PTR(-EFAULT);
	} else if (a->states &&
		   !access_ok(u64_to_user_ptr(a->states), nr_pages)) {
		return ERR_PTR(-EFAULT);
	}

	if (a->flags & GUPNW_PROBE_TARGET_FD)
		return gupnw_target_get_mm(a->target_fd,
					   a->flags & GUPNW_PROBE_WRITE);
	/* an io_uring worker shares the submitter's mm */
	mm = current->mm;
	if (!mm)
		return ERR_PTR(-ESRCH);
	mmget(mm);
	return mm;
}

/* The probe's mode, from its flags: decided here, once. */
static enum gupnw_mode gupnw_probe_mode(u32 flags)
{
	if (flags & GUPNW_PROBE_NOFAULT)
		return GUPNW_MODE_NOFAULT;
	if (flags & GUPNW_PROBE_WAIT)
		return GUPNW_MODE_WAIT;
	return GUPNW_MODE_NOWAIT;
}

/* The arguments of a READY, read and checked: gupnw_probe_args_get(). */
static struct mm_struct *gupnw_ready_args_get(const void __user *uarg,
					      struct gupnw_probe_args *a,
					      u32 *usize)
{
	return gupnw_probe_args_get(uarg, GUPNW_PROBE_WRITE |
				    GUPNW_PROBE_TARGET_FD,
				    GUPNW_READY_MAX_PAGES, a, usize);
}

/* The range of a probe whose arguments @a were read and checked. */
static void gupnw_range_init(struct gupnw_range *r,
			     const struct gupnw_probe_args *a, bool ready)
{
	r->mode = ready ? GUPNW_MODE_READY : gupnw_probe_mode(a->flags);
	r->write = a->flags & GUPNW_PROBE_WRITE;
	r->start = a->addr;
	r->nr_pages = PAGE_ALIGN(a->len) >> PAGE_SHIFT;
	/* READY waits for what it reads: no budget, and none counted */
	r->io_limit = ready ? 0 : gupnw_max_io_pages();
	if (a->flags & GUPNW_PROBE_EXTENTS) {
		r->extents = u64_to_user_ptr(a->states);
		r->max_extents = a->nr_extents;
	} else {
		r->states = u64_to_user_ptr(a->states);
	}
}

/**
 * gupnw_ready_prepare - a READY's arguments and range, for gupnw_ready.c
 * @uarg:	the caller's struct gupnw_probe_args
 * @a:		out: the arguments
 * @usize:	out: how much of them the caller knows
 * @r:		out: the range; r->mm held (mmget), to mmput() when done
 *
 * Return: 0, or -errno as gupnw_probe_args_get().
 */
int gupnw_ready_prepare(void __user *uarg, struct gupnw_probe_args *a,
			u32 *usize, struct gupnw_range *r)
{
	memset(r, 0, sizeof(*r));
	r->mm = gupnw_ready_args_get(uarg, a, usize);
	if (IS_ERR(r->mm))
		return PTR_ERR(r->mm);
	gupnw_range_init(r, a, true);
	return 0;
}

/**
 * gupnw_probe_finish - write a probe's answer back, on failure too
 * @uarg:	the caller's struct gupnw_probe_args
 * @a:		the arguments read from it
 * @usize:	how much of them the caller knows
 * @r:		the range walked
 * @ret:	the walk's result
 *
 * Return: @ret, or for a READY that succeeded the pages present (at most
 * INT_MAX); -EFAULT if the answer could not be written.
 */
int gupnw_probe_finish(void __user *uarg, struct gupnw_probe_args *a,
		       u32 usize, const struct gupnw_range *r, int ret)
{
	a->done = r->done;
	a->nr_extents = r->nr_extents;
	a->io_started = r->io_started;
	a->nr_resident = r->counts[GUPNW_IDX_RESIDENT];
	a->nr_faulted = r->counts[GUPNW_IDX_FAULTED];
	a->nr_retry = r->counts[GUPNW_IDX_RETRY];
	a->nr_unmapped = r->counts[GUPNW_IDX_UNMAPPED];
	a->nr_error = r->counts[GUPNW_IDX_ERROR];
	a->nr_notpresent = r->counts[GUPNW_IDX_NOTPRESENT];
	a->nr_cold = r->counts[GUPNW_IDX_COLD];
	a->async_faults = r->async_faults;
	if (gupnw_put_sized(uarg, usize, a, sizeof(*a)))
		return -EFAULT;
	if (gupnw_mode_ready(r->mode) && !ret)
		return (int)r->counts[GUPNW_IDX_RESIDENT];
	return ret;
}

/**
 * gupnw_probe_cmd - a probe, from the ioctl or an io_uring command
 * @uarg:	the caller's struct gupnw_probe_args
 * @ready:	io_uring READY (fault the range in), not a probe
 * @nonblock:	issued where it must not sleep on I/O (io_uring's first
 *		issue): a probe that would is refused with -EAGAIN, to be
 *		issued again from io-wq
 *
 * Reads the arguments, decides the mode, walks the range
 * (gupnw_walk_range()) and writes back what it found, on failure too: a
 * partial result is never silent.  READY reports only what it can know
 * (present, unmapped, refused), and no I/O: its other counts are 0.
 *
 * Return: 0 (READY: the pages present, at most INT_MAX) or -errno.
 */
long gupnw_probe_cmd(void __user *uarg, bool ready, bool nonblock)
{
	struct gupnw_probe_args a;
	struct gupnw_range r;
	u32 usize;
	int ret;

	/* READY waits: io-wq's job; its arguments are read there */
	if (ready && nonblock)
		return -EAGAIN;
	memset(&r, 0, sizeof(r));
	if (ready)
		r.mm = gupnw_ready_args_get(uarg, &a, &usize);
	else
		r.mm = gupnw_probe_args_get(uarg, GUPNW_PROBE_FLAGS_ALL,
					    ULONG_MAX, &a, &usize);
	if (IS_ERR(r.mm))
		return PTR_ERR(r.mm);
	gupnw_range_init(&r, &a, ready);
	if (nonblock && gupnw_mode_waits(r.mode)) {
		mmput(r.mm);
		return -EAGAIN;
	}

	ret = gupnw_walk_range(&r);
	mmput(r.mm);
	return gupnw_probe_finish(uarg, &a, usize, &r, ret);
}

/*
 * The command number carries the VER0 size; the struct is versioned by its
 * own 'size' field, so only type, direction and number are matched here.
 */
static long gupnw_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (_IOC_TYPE(cmd) != GUPNW_IOC_MAGIC ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(GUPNW_IOC_GET_INFO):
		return gupnw_ioctl_get_info(uarg);
	case _IOC_NR(GUPNW_IOC_PROBE):
		return gupnw_probe_cmd(uarg, false, false);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations gupnw_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= gupnw_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= gupnw_uring_cmd,
	.llseek		= noop_llseek,
};

/*
 * World-usable, like /dev/null: a probe reaches only memory the caller can
 * already reach (its own, or a process whose /proc/PID/mem it could open).
 */
static struct miscdevice gupnw_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= GUPNW_DEVICE_NAME,
	.fops	= &gupnw_fops,
	.mode	= 0666,
};

static int __init gupnw_init(void)
{
	int ret;

	ret = gupnw_target_init();
	if (ret)
		return ret;
	ret = gupnw_async_init();
	if (ret)
		return ret;
	ret = misc_register(&gupnw_misc);
	if (ret)
		gupnw_async_exit();
	return ret;
}

static void __exit gupnw_exit(void)
{
	/* no probe can queue work once the device is gone and unused */
	misc_deregister(&gupnw_misc);
	gupnw_async_exit();
}

module_init(gupnw_init);
module_exit(gupnw_exit);

MODULE_DESCRIPTION("gupnw: probe user memory with GUP and FOLL_NOWAIT, never waiting for I/O");
MODULE_AUTHOR("The gupnw developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(GUPNW_MODULE_VERSION);
