// SPDX-License-Identifier: GPL-2.0
/*
 * gupnw: which mm a probe of another process acts on, and who may ask.
 *
 * The kernel does not export its ptrace permission check (ptrace_may_access(),
 * mm_access()) to modules, and we do not want a weaker copy of it.  Opening
 * /proc/PID/mem already performs exactly that check - PTRACE_MODE_ATTACH with
 * the opener's credentials, LSMs such as Yama included - and leaves the
 * target's mm in file->private_data for the life of the file.  So user space
 * opens /proc/PID/mem and hands us the descriptor: the kernel has decided.
 * Holding the file also pins that mm, so a recycled pid cannot be probed by
 * mistake.  We accept a file only if its f_op is that of /proc/PID/mem,
 * learnt by opening /proc/self/mem (proc_mem_operations is not exported).
 */
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/mm.h>

#include "gupnw_internal.h"

static const struct file_operations *gupnw_proc_mem_fops;

/* Learn /proc/PID/mem's f_op; without /proc, other processes are off. */
int gupnw_target_init(void)
{
	struct file *f;

	f = filp_open("/proc/self/mem", O_RDONLY, 0);
	if (IS_ERR(f)) {
		pr_info("gupnw: cannot open /proc/self/mem (%ld): probing other processes disabled\n",
			PTR_ERR(f));
		return 0;
	}
	WRITE_ONCE(gupnw_proc_mem_fops, f->f_op);
	filp_close(f, NULL);
	return 0;
}

bool gupnw_target_supported(void)
{
	if (!READ_ONCE(gupnw_proc_mem_fops))
		gupnw_target_init();	/* loaded before /proc was mounted */
	return READ_ONCE(gupnw_proc_mem_fops);
}

/**
 * gupnw_target_get_mm - the address space behind a /proc/PID/mem descriptor
 * @fd:		file descriptor in the calling process
 * @write:	the probe breaks COW in the target: require the file open for
 *		writing, as a write through /proc/PID/mem would
 *
 * Return: the mm with a reference taken (mmput() it), or ERR_PTR(-EBADF) for
 * a bad descriptor or a read-only one with @write, -EINVAL for a file that is
 * not /proc/PID/mem, -ESRCH when the target has no address space any more,
 * -EOPNOTSUPP when the module could not learn what /proc/PID/mem is.
 */
struct mm_struct *gupnw_target_get_mm(int fd, bool write)
{
	struct mm_struct *mm;
	struct file *file;

	if (!gupnw_target_supported())
		return ERR_PTR(-EOPNOTSUPP);

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);

	if (file->f_op != READ_ONCE(gupnw_proc_mem_fops)) {
		mm = ERR_PTR(-EINVAL);
		goto out_fput;
	}
	if (write && !(file->f_mode & FMODE_WRITE)) {
		mm = ERR_PTR(-EBADF);
		goto out_fput;
	}
	/* 6.1 leaves NULL here for a kernel thread; 6.12 refuses the open. */
	mm = file->private_data;
	if (!mm || !mmget_not_zero(mm))
		mm = ERR_PTR(-ESRCH);
out_fput:
	fput(file);
	return mm;
}
