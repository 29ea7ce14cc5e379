// SPDX-License-Identifier: GPL-2.0
/*
 * swap_busy: probe latency of swapped-out pages while the disks are busy
 * (tests/bench/swap-busy.sh runs it in the guest).
 *
 * Private anonymous and memfd pages are swapped out and evicted; then
 * writeback of a dirty file is started on the throttled disk (/mnt/slow,
 * 20 x 4 KiB per second) and left queued, and 100 pages of each kind are
 * probed one at a time, far enough apart (16 pages) that the kernel's swap
 * read-ahead of one probe does not bring in the next.  The report gives
 * p50/p99/max probe latency per kind and their states, next to one
 * blocking swap-in and one blocking 4 KiB read of the throttled disk,
 * measured in the same run after the probes.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define P(n)		((size_t)(n) * gt_page)
#define NPROBES		100
#define STRIDE		16
#define NPAGES		(NPROBES * STRIDE)
#define DIRTY_MB	1

static int fd;
static char memcg[256];

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static char *swapped(int anon)
{
	int flags = MAP_SHARED, f = -1;
	char *p;

	if (anon) {
		flags = MAP_PRIVATE | MAP_ANONYMOUS;
	} else {
		f = memfd_create("swap-busy", MFD_CLOEXEC);
		if (f < 0 || ftruncate(f, P(NPAGES)))
			gt_bail("memfd: %s", gt_errname(errno));
	}
	p = mmap(NULL, P(NPAGES), PROT_READ | PROT_WRITE, flags, f, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	if (f >= 0)
		close(f);
	madvise(p, P(NPAGES), MADV_NOHUGEPAGE);
	gt_fill_pages(p, NPAGES, 7);
	if (gt_swap_out(p, P(NPAGES), memcg, anon, GT_SWAP_EVICTED))
		gt_bail("could not swap %d pages out", NPAGES);
	return p;
}

static void run(const char *kind, char *p)
{
	uint64_t t[NPROBES], t0;
	unsigned char st;
	struct gupnw_probe_args a;
	size_t w = 0, c = 0, other = 0;
	int i;

	for (i = 0; i < NPROBES; i++) {
		gt_args_init(&a, p + P(i * STRIDE), gt_page, 0, &st);
		t0 = gt_now_ns();
		if (gt_ioctl(fd, GUPNW_IOC_PROBE, &a))
			gt_bail("probe: %s", gt_errname(errno));
		t[i] = gt_now_ns() - t0;
		if (st == 'W')
			w++;
		else if (st == 'C')
			c++;
		else
			other++;
	}
	qsort(t, NPROBES, sizeof(t[0]), cmp_u64);
	gt_diag("swap-busy: %-5s %d probes of one swapped-out page: p50 %.3f ms, p99 %.3f ms, max %.3f ms (W %zu, C %zu, other %zu)",
	       kind, NPROBES, gt_ms(t[NPROBES / 2]), gt_ms(t[(NPROBES * 99 + 99) / 100 - 1]),
	       gt_ms(t[NPROBES - 1]), w, c, other);
}

/* Dirty DIRTY_MB MiB on the throttled disk and start (not wait for) writeback. */
static void queue_writeback(void)
{
	const char *path = "/mnt/slow/swap-busy-dirty";
	size_t len = (size_t)DIRTY_MB << 20;
	char *buf = malloc(len);
	int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (!buf || f < 0)
		gt_bail("%s: %s", path, gt_errname(errno));
	memset(buf, 0x5a, len);
	if (gt_write_all(f, buf, len))
		gt_bail("write %s: %s", path, gt_errname(errno));
	if (sync_file_range(f, 0, len, SYNC_FILE_RANGE_WRITE))
		gt_bail("sync_file_range: %s", gt_errname(errno));
	close(f);
	free(buf);
	gt_diag("swap-busy: %d MiB of writeback queued on the throttled disk (/mnt/slow, 20 x 4 KiB/s)",
	       DIRTY_MB);
}

int main(void)
{
	char *anon, *shm, buf[4096] __attribute__((aligned(4096)));
	volatile char *v;
	uint64_t t0;
	int f;

	gt_init();
	fd = gt_dev_open();
	if (fd < 0)
		gt_bail("open: %s", gt_errname(errno));
	if (gt_memcg_enter("swap-busy", memcg, sizeof(memcg)))
		gt_bail("no memory cgroup");
	anon = swapped(1);
	shm = swapped(0);
	gt_drain_device("/dev/vdb");
	queue_writeback();

	run("anon", anon);
	run("shmem", shm);

	/* the references, with the writeback still queued */
	v = anon + P(NPAGES - STRIDE / 2);
	t0 = gt_now_ns();
	(void)*v;
	gt_diag("swap-busy: one blocking swap-in (touch): %.1f ms",
	       gt_ms(gt_now_ns() - t0));
	f = open("/mnt/slow/cold-64m", O_RDONLY | O_DIRECT);
	if (f >= 0) {
		t0 = gt_now_ns();
		if (pread(f, buf, sizeof(buf), 40 << 20) == (ssize_t)sizeof(buf))
			gt_diag("swap-busy: one blocking 4 KiB read of the throttled disk: %.1f ms",
			       gt_ms(gt_now_ns() - t0));
		close(f);
	}
	unlink("/mnt/slow/swap-busy-dirty");
	gt_ok(1, "swap-busy: report printed");
	return gt_exit();
}
