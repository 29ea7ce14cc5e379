// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: what a subcommand probes (a mapping of FILE, or a range of
 * process PID or of the tool itself) and probing it a window at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cli.h"
#include "target.h"
#include "term.h"

/*
 * Pages covering [start, start + length): 0, or -1 with EOVERFLOW when
 * the range does not fit the address space.
 */
static int range_pages(uint64_t start, uint64_t length, unsigned int ps,
		       uint64_t *first, uint64_t *pages)
{
	uint64_t head = start & (ps - 1);

	*first = start - head;
	if (length > UINT64_MAX - head - (ps - 1) ||
	    (length && *first > UINT64_MAX - (head + length + ps - 1))) {
		errno = EOVERFLOW;
		return -1;
	}
	*pages = length ? (head + length + ps - 1) / ps : 0;
	return 0;
}

/*
 * Filesystems whose files are made up when read (statfs(2) f_type, as
 * linux/magic.h): no page cache stands behind them, and their st_size is 0
 * or a made-up 4096.
 */
static const struct {
	unsigned long magic;
	const char *name;
} pseudo_fs[] = {
	{ 0x9fa0, "proc" },		/* PROC_SUPER_MAGIC */
	{ 0x62656572, "sysfs" },	/* SYSFS_MAGIC */
	{ 0x64626720, "debugfs" },	/* DEBUGFS_MAGIC */
	{ 0x74726163, "tracefs" },	/* TRACEFS_MAGIC */
	{ 0x27e0eb, "cgroup" },		/* CGROUP_SUPER_MAGIC */
	{ 0x63677270, "cgroup2" },	/* CGROUP2_SUPER_MAGIC */
	{ 0x73636673, "securityfs" },	/* SECURITYFS_MAGIC */
	{ 0xcafe4a11, "bpf" },		/* BPF_FS_MAGIC */
	{ 0xde5e81e4, "efivarfs" },	/* EFIVARFS_MAGIC */
};

/* The pseudo filesystem @fd is on, or NULL. */
static const char *pseudo_fs_name(int fd)
{
	struct statfs sf;
	size_t i;

	if (fstatfs(fd, &sf))
		return NULL;
	for (i = 0; i < sizeof(pseudo_fs) / sizeof(pseudo_fs[0]); i++)
		if ((unsigned long)sf.f_type == pseudo_fs[i].magic)
			return pseudo_fs[i].name;
	return NULL;
}

/*
 * Only a regular file or a block device has pages to probe.  The open does
 * not block (a FIFO with no writer would wait for one) nor make a terminal
 * ours; what it opened is checked before anything else is done with it.
 */
static int open_operand(const char *path, struct stat *st)
{
	const char *fs;
	int fd, err;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		/* A socket cannot be opened at all: say what it is. */
		if (err == ENXIO && !stat(path, st) && S_ISSOCK(st->st_mode))
			goto not_regular;
		errno = err;
		fail("%s", path);
		return -1;
	}
	if (fstat(fd, st)) {
		fail("%s", path);
		goto out_close;
	}
	if (S_ISDIR(st->st_mode)) {
		errno = EISDIR;
		fail("%s", path);
		goto out_close;
	}
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
		close(fd);
		goto not_regular;
	}
	fs = S_ISREG(st->st_mode) ? pseudo_fs_name(fd) : NULL;
	if (fs) {
		fprintf(stderr, "gupnw: %s: no pages: a file of %s, made up when read\n",
			path, fs);
		goto out_close;
	}
	return fd;

not_regular:
	fprintf(stderr, "gupnw: %s: not a regular file\n", path);
	return -1;
out_close:
	close(fd);
	return -1;
}

int target_open_file(struct target *t, struct probe_report *r,
		     bool has_length)
{
	const char *path = r->file;
	struct stat st;
	uint64_t first;
	int fd, ret;
	off_t size;

	t->page_size = r->page_size;
	fd = open_operand(path, &st);
	if (fd < 0)
		return EXIT_FAILED;
	/* A block device's st_size is 0: ask it for its size. */
	size = S_ISBLK(st.st_mode) ? lseek(fd, 0, SEEK_END) : st.st_size;
	if (size < 0) {
		ret = fail("%s", path);
		goto out_close;
	}
	/* To the end of the file, and never past it (as vmtouch -p). */
	if (r->start >= (uint64_t)size)
		r->length = 0;
	else if (!has_length || r->length > (uint64_t)size - r->start)
		r->length = size - r->start;
	if (range_pages(r->start, r->length, r->page_size, &first, &r->pages) ||
	    r->pages > SIZE_MAX / r->page_size) {
		errno = EOVERFLOW;
		ret = fail("%s", path);
		goto out_close;
	}
	t->pages = r->pages;

	ret = EXIT_OK;
	if (!r->pages)		/* nothing to map: an empty file, say */
		goto out_close;
	t->map_len = r->pages * r->page_size;
	t->mapping = mmap(NULL, t->map_len, PROT_READ, MAP_SHARED, fd,
			  (off_t)first);
	if (t->mapping == MAP_FAILED) {
		t->mapping = NULL;
		ret = fail("mmap %s", path);
		goto out_close;
	}
	t->addr = (uintptr_t)t->mapping;
out_close:
	close(fd);
	return ret;
}

int target_open_pid(struct target *t, struct probe_report *r)
{
	t->page_size = r->page_size;
	t->mem_fd = gupnw_open_pid_mem(r->pid, r->flags);
	if (t->mem_fd < 0)
		return fail("pid %d", (int)r->pid);
	return EXIT_OK;
}

int target_clip(struct gupnw *g, struct target *t, struct probe_report *r)
{
	uint64_t ps = r->page_size, first = r->start & ~(ps - 1), end;

	if (r->file)
		return EXIT_OK;
	end = gupnw_user_end(g);
	if (!end)
		return fail("%s: end of user space", gupnw_device_path());
	if (first >= end) {
		fprintf(stderr, "gupnw: pid %d: address 0x%" PRIx64
			" is past the end of user space (0x%" PRIx64 ")\n",
			(int)r->pid, r->start, end);
		return EXIT_FAILED;
	}
	/* LENGTH past the end (or wrapping): everything up to the end. */
	if (r->length > end - r->start) {
		r->length = end - r->start;
		r->clipped = true;
		r->user_end = end;
	}
	if (range_pages(r->start, r->length, r->page_size, &t->addr,
			&r->pages))
		return fail("pid %d", (int)r->pid);
	t->pages = r->pages;
	return EXIT_OK;
}

int target_open(struct target *t, struct probe_report *r, bool has_length)
{
	return r->file ? target_open_file(t, r, has_length)
		       : target_open_pid(t, r);
}

void target_set(struct target *t, int mem_fd, uint64_t addr, uint64_t pages,
		unsigned int page_size)
{
	*t = (struct target){
		.addr = addr, .pages = pages, .page_size = page_size,
		.mem_fd = mem_fd,
	};
}

void target_close(struct target *t)
{
	if (t->mapping)
		munmap(t->mapping, t->map_len);
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	t->mapping = NULL;
	t->mem_fd = -1;
}

static int probe_window(struct gupnw *g, const struct target *t,
			uint64_t page, size_t n, unsigned int flags,
			unsigned char *st, struct gupnw_counts *c)
{
	uint64_t addr = t->addr + page * t->page_size;

	if (t->mem_fd >= 0)
		return gupnw_probe_memfd(g, t->mem_fd, addr, n * t->page_size,
					 flags, st, c);
	return gupnw_probe(g, (const void *)(uintptr_t)addr,
			   n * t->page_size, flags, st, c);
}

/* The end of a walk: its bar erased, @buf freed, errno kept; returns @ret. */
static int walk_end(struct progress *pg, bool progress, void *buf, int ret)
{
	int saved = errno;

	if (progress)
		progress_end(pg);
	free(buf);
	errno = saved;
	return ret;
}

int probe_windows(struct gupnw *g, const struct target *t, uint64_t first,
		  uint64_t pages, const struct window_walk *w,
		  struct gupnw_counts *sum)
{
	unsigned char *buf = NULL, *st = NULL;
	struct progress pg;
	struct gupnw_counts c;
	uint64_t done;
	size_t n;
	int ret = 0;

	if (w->window_states) {
		buf = malloc(pages < WINDOW_PAGES ? pages : WINDOW_PAGES);
		if (pages && !buf)
			return -1;
	}
	if (w->progress)
		progress_start(&pg, pages);
	for (done = 0; done < pages && !ret; done += n) {
		n = pages - done < WINDOW_PAGES ? pages - done : WINDOW_PAGES;
		st = buf;
		ret = probe_window(g, t, first + done, n, w->flags, st, &c);
		if (ret)
			break;
		counts_add(sum, &c);
		if (w->fn)
			ret = w->fn(w->arg, first + done, n, st, &c);
		if (w->progress)
			progress_update(&pg, done + n);
	}
	return walk_end(&pg, w->progress, buf, ret);
}

static ssize_t probe_extents(struct gupnw *g, const struct target *t,
			     uint64_t page, uint64_t n, unsigned int flags,
			     struct gupnw_extent *ext, struct gupnw_counts *c)
{
	uint64_t addr = t->addr + page * t->page_size;

	/*
	 * A call's length is a size_t: where that is narrower than the
	 * target's address space (a 32-bit tool, pid mode), probe what fits;
	 * probe_runs() resumes after the runs it gets.
	 */
	if (n > SIZE_MAX / t->page_size)
		n = SIZE_MAX / t->page_size;
	if (t->mem_fd >= 0)
		return gupnw_probe_extents_memfd(g, t->mem_fd, addr,
						 n * t->page_size, flags, ext,
						 RUN_EXTENTS, c);
	return gupnw_probe_extents(g, (const void *)(uintptr_t)addr,
				   n * t->page_size, flags, ext, RUN_EXTENTS,
				   c);
}

int probe_runs(struct gupnw *g, const struct target *t,
	       const struct run_walk *w, struct gupnw_counts *sum)
{
	struct gupnw_extent *ext;
	struct gupnw_counts c;
	struct progress pg;
	uint64_t done = 0, first, n;
	ssize_t k, i;
	int ret = 0;

	if (!t->pages)
		return 0;
	ext = malloc(RUN_EXTENTS * sizeof(*ext));
	if (!ext)
		return -1;
	if (w->progress)
		progress_start(&pg, t->pages);
	while (done < t->pages && !ret) {
		k = probe_extents(g, t, done, t->pages - done, w->flags, ext,
				  &c);
		if (k <= 0) {
			if (!k)		/* no progress: never loop forever */
				errno = EPROTO;
			ret = -1;
			break;
		}
		counts_add(sum, &c);
		for (i = 0; i < k && !ret; i++) {
			first = (ext[i].start - t->addr) / t->page_size;
			n = ext[i].pages;
			if (first != done || n > t->pages - done) {
				errno = EPROTO;	/* not the runs asked for */
				ret = -1;
				break;
			}
			if (w->fn)
				ret = w->fn(w->arg, first, n, ext[i].state);
			done += n;
		}
		if (w->progress)
			progress_update(&pg, done);
	}
	return walk_end(&pg, w->progress, ext, ret);
}
