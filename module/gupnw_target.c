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
 * learnt by opening /proc/self/mem (proc_mem_operations is not exported),
 * and it lives on procfs.
 *
 * That f_op is learnt once, at load, in the loader's namespaces, and only
 * from procfs.  Never later: a lookup made for a caller resolves in the
 * caller's mount namespace, where any user (in a user namespace of its own)
 * may mount a tmpfs on /proc with a FIFO at /proc/self/mem - and the f_op
 * learnt from it would let every pipe pass for an mm.
 */
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/sched/mm.h>

#include "gupnw_internal.h"

/* Set at load or never: no call can switch pid mode on afterwards. */
static const struct file_operations *gupnw_proc_mem_fops __ro_after_init;

static bool gupnw_on_procfs(const struct file *f)
{
	return file_inode(f)->i_sb->s_magic == PROC_SUPER_MAGIC;
}

/* Learn /proc/PID/mem's f_op; without /proc, other processes are off. */
int __init gupnw_target_init(void)
{
	struct file *f;

	/* O_NONBLOCK: whatever sits there, the open must not wait */
	f = filp_open("/proc/self/mem", O_RDONLY | O_NONBLOCK, 0);
	if (IS_ERR(f)) {
		pr_info("gupnw: cannot open /proc/self/mem (%ld): probing other processes off until reloaded with /proc mounted\n",
			PTR_ERR(f));
		return 0;
	}
	if (gupnw_on_procfs(f))
		gupnw_proc_mem_fops = f->f_op;
	else
		pr_info("gupnw: /proc/self/mem is not on procfs: probing other processes off until reloaded with /proc mounted\n");
	filp_close(f, NULL);
	return 0;
}

bool gupnw_target_supported(void)
{
	return gupnw_proc_mem_fops;
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
 * -EOPNOTSUPP when the module could not learn what /proc/PID/mem is at load.
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

	if (file->f_op != gupnw_proc_mem_fops || !gupnw_on_procfs(file)) {
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
