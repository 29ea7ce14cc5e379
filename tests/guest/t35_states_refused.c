// SPDX-License-Identifier: GPL-2.0
/*
 * t35_states_refused: mappings GUP refuses, which are E in every mode - a
 * VM_IO/VM_PFNMAP mapping (a PCI memory BAR through sysfs, else /dev/mem),
 * a hardware-poisoned page (MADV_HWPOISON; 6.12 only: Debian's 6.1 has
 * no CONFIG_MEMORY_FAILURE), secretmem (memfd_secret(2); 6.1 only with
 * secretmem.enable=1), pages the caller's own protection keys deny (not
 * for a probe of another process, which pkeys do not govern), and a
 * shadow stack probed for WRITE (map_shadow_stack(2), 6.6+, a CPU with
 * user shadow stacks) - resident pages included, which the page tables
 * alone would call 'R'.
 */
#include "gupnw_test.h"
#include "gupnw_test_mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_memfd_secret
#define SYS_memfd_secret	447
#endif
#define SYS_map_shadow_stack_	453
#define SHADOW_STACK_SET_TOKEN	(1ULL << 0)

#ifndef MADV_HWPOISON
#define MADV_HWPOISON	100
#endif

#define P(n)		((size_t)(n) * gt_page)
#define IORESOURCE_MEM	0x00000200UL

static struct gupnw *g;

/*
 * Map one page of the first PCI memory BAR sysfs lets us map (one no
 * driver claims: with CONFIG_IO_STRICT_DEVMEM claimed ones are refused),
 * of a display device (QEMU's VGA framebuffer) if class_prefix says so.
 * Nothing ever reads or writes the page.  what receives the file name.
 * MAP_FAILED if there is none.
 */
static char *map_pci_bar(const char *class_prefix, char *what, size_t size)
{
	char *p = MAP_FAILED;
	struct dirent *de;
	DIR *d = opendir("/sys/bus/pci/devices");

	if (!d)
		return MAP_FAILED;
	while (p == MAP_FAILED && (de = readdir(d))) {
		char path[512], res[4096], *line;
		int bar;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class",
			 de->d_name);
		if (gt_read_file(path, res, sizeof(res)) <= 0 ||
		    strncmp(res, class_prefix, strlen(class_prefix)))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource",
			 de->d_name);
		if (gt_read_file(path, res, sizeof(res)) <= 0)
			continue;
		line = res;
		for (bar = 0; bar < 6 && line && p == MAP_FAILED; bar++) {
			unsigned long long start, end, flags;
			int fd;

			if (sscanf(line, "%llx %llx %llx", &start, &end,
				   &flags) == 3 && (flags & IORESOURCE_MEM) &&
			    end > start) {
				snprintf(path, sizeof(path),
					 "/sys/bus/pci/devices/%s/resource%d",
					 de->d_name, bar);
				fd = open(path, O_RDWR | O_CLOEXEC);
				if (fd >= 0) {
					p = mmap(NULL, P(1),
						 PROT_READ | PROT_WRITE,
						 MAP_SHARED, fd, 0);
					close(fd);
					snprintf(what, size, "%s", path);
				}
			}
			line = strchr(line, '\n');
			if (line)
				line++;
		}
	}
	closedir(d);
	return p;
}

/* The BIOS area at 0xf0000: not RAM, so STRICT_DEVMEM lets it be mapped. */
static char *map_dev_mem(char *what, size_t size)
{
	int fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	char *p;

	if (fd < 0)
		return MAP_FAILED;
	p = mmap(NULL, P(1), PROT_READ, MAP_SHARED, fd, 0xf0000);
	close(fd);
	snprintf(what, size, "/dev/mem at 0xf0000");
	return p;
}

static void test_vm_io(void)
{
	const char *name = "refused: VM_IO/VM_PFNMAP mapping is E";
	char what[512] = "", flags[256] = "";
	char *p;

	p = map_pci_bar("0x03", what, sizeof(what));	/* display */
	if (p == MAP_FAILED)
		p = map_pci_bar("0x", what, sizeof(what));
	if (p == MAP_FAILED)
		p = map_dev_mem(what, sizeof(what));
	if (p == MAP_FAILED) {
		gt_skip("no mappable PCI memory BAR and no /dev/mem", "%s",
			name);
		return;
	}
	gt_smaps_field(p, "VmFlags", flags, sizeof(flags));
	gt_diag("mapped %s, VmFlags: %s", what, flags);
	if (!strstr(flags, "io") && !strstr(flags, "pf")) {
		gt_skip("the mapping is neither VM_IO nor VM_PFNMAP", "%s",
			name);
		munmap(p, P(1));
		return;
	}
	gt_expect_probe(g, 0, p, 1, 0, "E", NULL, "%s", name);
	gt_expect_probe(g, 0, p, 1, GUPNW_NOFAULT, "E", NULL,
			"refused: VM_IO/VM_PFNMAP mapping is E in NOFAULT");
	gt_expect_probe(g, 0, p, 1, GUPNW_WAIT, "E", NULL,
			"refused: VM_IO/VM_PFNMAP mapping is E in WAIT");
	if (strstr(flags, "wr"))
		gt_expect_probe(g, 0, p, 1, GUPNW_WRITE, "E", NULL,
				"refused: writable VM_IO/VM_PFNMAP mapping is E for WRITE");
	munmap(p, P(1));
}

/* What the child of test_hwpoison() saw. */
struct poison_report {
	int madv_ret, madv_err, sigbus;
	int ret[3], err[3];
	unsigned char st[3][4];
};

static volatile sig_atomic_t got_sigbus;

static void on_sigbus(int sig)
{
	(void)sig;
	got_sigbus = 1;
}

/* In a child: MADV_HWPOISON signals the process that asks for it. */
static void poison_child(int out)
{
	const unsigned int modes[3] = { 0, GUPNW_NOFAULT, GUPNW_WAIT };
	struct sigaction sa = { .sa_handler = on_sigbus };
	struct poison_report r;
	char *p;
	int i;

	memset(&r, 0, sizeof(r));
	sigaction(SIGBUS, &sa, NULL);
	p = mmap(NULL, P(4), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	madvise(p, P(4), MADV_NOHUGEPAGE);
	gt_fill_pages(p, 4, 21);
	r.madv_ret = madvise(p + P(1), P(1), MADV_HWPOISON);
	r.madv_err = errno;
	r.sigbus = got_sigbus;
	for (i = 0; i < 3 && !r.madv_ret; i++) {
		r.ret[i] = gupnw_probe(g, p, P(4), modes[i], r.st[i], NULL);
		r.err[i] = errno;
	}
	gt_write_all(out, &r, sizeof(r));
	_exit(0);
}

static void poison_body(void *arg, int out)
{
	(void)arg;
	poison_child(out);
}

static void test_hwpoison(void)
{
	const char *name = "refused: hardware-poisoned page is E";
	struct poison_report r;

	if (gt_fork_result(poison_body, NULL, &r, sizeof(r), 0, NULL)) {
		r.madv_ret = -1;
		r.madv_err = EPIPE;
	}

	if (r.madv_ret && (r.madv_err == EINVAL || r.madv_err == ENOSYS)) {
		gt_skip("no MADV_HWPOISON (kernel without CONFIG_MEMORY_FAILURE)",
			"%s", name);
		return;
	}
	if (r.madv_ret) {
		gt_ok(0, "refused: MADV_HWPOISON works: %s",
		      gt_errname(r.madv_err));
		return;
	}
	gt_diag("MADV_HWPOISON done%s", r.sigbus ? " (SIGBUS delivered)" : "");
	if (!gt_ok(!r.ret[0] && !memcmp(r.st[0], "RERR", 4), "%s", name))
		gt_diag("ret %d (%s), states %s", r.ret[0],
			r.ret[0] ? gt_errname(r.err[0]) : "-",
			gt_states_str(r.st[0], 4));
	if (!gt_ok(!r.ret[2] && !memcmp(r.st[2], "RERR", 4),
		   "refused: hardware-poisoned page is E in WAIT"))
		gt_diag("ret %d (%s), states %s", r.ret[2],
			r.ret[2] ? gt_errname(r.err[2]) : "-",
			gt_states_str(r.st[2], 4));
	gt_diag("NOFAULT of the poisoned range: ret %d, states %s", r.ret[1],
		gt_states_str(r.st[1], 4));
}

/*
 * Probe 2 pages at p in the three modes (and WRITE in each if write): all
 * must be "EE".  what names the mapping.
 */
static void expect_refused(const char *p, int write, const char *what)
{
	static const unsigned int modes[3] = { 0, GUPNW_NOFAULT, GUPNW_WAIT };
	static const char *const mname[3] = { "NOWAIT", "NOFAULT", "WAIT" };
	int i;

	for (i = 0; i < 3; i++) {
		gt_expect_probe(g, 0, p, 2, modes[i], "EE", NULL,
				"refused: %s is E in %s", what, mname[i]);
		if (write)
			gt_expect_probe(g, 0, p, 2, modes[i] | GUPNW_WRITE,
					"EE", NULL,
					"refused: %s is E in %s for WRITE",
					what, mname[i]);
	}
}

/* memfd_secret(2): GUP refuses the whole VMA (vma_is_secretmem()). */
static void test_secretmem(void)
{
	char *p;
	int fd;

	fd = syscall(SYS_memfd_secret, 0);
	if (fd < 0 && (errno == ENOSYS || errno == EINVAL))
		GT_SKIP("no memfd_secret (6.1: boot with secretmem.enable=1): %s",
			gt_errname(errno));
	if (fd < 0)
		gt_bail("memfd_secret: %s", gt_errname(errno));
	if (ftruncate(fd, P(2)))
		gt_bail("ftruncate: %s", gt_errname(errno));
	p = mmap(NULL, P(2), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap secretmem: %s", gt_errname(errno));
	close(fd);
	p[0] = 1;		/* page 0 resident, page 1 never touched */
	expect_refused(p, 1, "secretmem (one page resident)");
	munmap(p, P(2));
}

/*
 * 2 touched pages under a new protection key whose rights in this thread
 * are rights (the case runs in a process of its own), or NULL when the
 * kernel or CPU has no pkeys.
 */
static char *map_pkey(unsigned int rights, int *pkey)
{
	char *p;

	*pkey = pkey_alloc(0, 0);
	if (*pkey < 0)
		return NULL;
	p = mmap(NULL, P(2), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		gt_bail("mmap: %s", gt_errname(errno));
	madvise(p, P(2), MADV_NOHUGEPAGE);
	gt_fill_pages(p, 2, 35);
	if (pkey_mprotect(p, P(2), PROT_READ | PROT_WRITE, *pkey) ||
	    pkey_set(*pkey, rights))
		gt_bail("pkey_mprotect/pkey_set: %s", gt_errname(errno));
	return p;
}

static void held_body(void *arg, int out)
{
	(void)arg;
	gt_write_all(out, "x", 1);
}

/* PKEY_DISABLE_ACCESS: E for every probe of this process, R remotely. */
static void test_pkey_denied(void)
{
	int pkey, hold;
	char c, *p;
	pid_t pid;

	p = map_pkey(PKEY_DISABLE_ACCESS, &pkey);
	if (!p)
		GT_SKIP("no protection keys (pkey_alloc: %s)",
			gt_errname(errno));
	expect_refused(p, 1, "a page our pkey denies access to (resident)");
	gt_expect_probe(g, getpid(), p, 2, GUPNW_NOFAULT, "EE", NULL,
			"refused: the same through our own /proc/PID/mem is E");
	/* a child shares the pages; pkeys do not govern a remote access */
	pid = gt_fork_held(held_body, NULL, &c, 1, &hold);
	if (pid < 0)
		gt_bail("fork: %s", gt_errname(errno));
	gt_expect_probe(g, pid, p, 2, GUPNW_NOFAULT, "RR", NULL,
			"refused: not for another process: its pkey-protected pages are R");
	gt_release(pid, hold);
	munmap(p, P(2));
}

/* PKEY_DISABLE_WRITE: reads as before, E for WRITE. */
static void test_pkey_write_denied(void)
{
	int pkey;
	char *p;

	p = map_pkey(PKEY_DISABLE_WRITE, &pkey);
	if (!p)
		GT_SKIP("no protection keys (pkey_alloc: %s)",
			gt_errname(errno));
	gt_expect_probe(g, 0, p, 2, GUPNW_NOFAULT, "RR", NULL,
			"refused: a page our pkey makes read-only reads R");
	gt_expect_probe(g, 0, p, 2, GUPNW_NOFAULT | GUPNW_WRITE, "EE", NULL,
			"refused: a page our pkey makes read-only is E in NOFAULT for WRITE");
	gt_expect_probe(g, 0, p, 2, GUPNW_WRITE, "EE", NULL,
			"refused: a page our pkey makes read-only is E in NOWAIT for WRITE");
	gt_expect_probe(g, 0, p, 2, GUPNW_WAIT | GUPNW_WRITE, "EE", NULL,
			"refused: a page our pkey makes read-only is E in WAIT for WRITE");
	munmap(p, P(2));
}

/* A shadow stack (its token makes the last page resident): E for WRITE. */
static void test_shadow_stack_write(void)
{
	long r;
	char *p;

	r = syscall(SYS_map_shadow_stack_, 0, P(2), SHADOW_STACK_SET_TOKEN);
	if (r == -1)
		GT_SKIP("no user shadow stacks (map_shadow_stack: %s)",
			gt_errname(errno));
	p = (char *)r;
	gt_expect_probe(g, 0, p + P(1), 1, GUPNW_NOFAULT, "R", NULL,
			"refused: a shadow stack's token page reads R");
	gt_expect_probe(g, 0, p, 2, GUPNW_NOFAULT | GUPNW_WRITE, "EE", NULL,
			"refused: a shadow stack is E in NOFAULT for WRITE");
	gt_expect_probe(g, 0, p, 2, GUPNW_WRITE, "EE", NULL,
			"refused: a shadow stack is E in NOWAIT for WRITE");
	gt_expect_probe(g, 0, p, 2, GUPNW_WAIT | GUPNW_WRITE, "EE", NULL,
			"refused: a shadow stack is E in WAIT for WRITE");
	munmap(p, P(2));
}

static const struct gt_case cases[] = {
	GT_CASE("vm-io", test_vm_io),
	GT_CASE("hwpoison", test_hwpoison),
	GT_CASE("secretmem", test_secretmem),
	GT_CASE("pkey-denied", test_pkey_denied),
	GT_CASE("pkey-write-denied", test_pkey_write_denied),
	GT_CASE("shadow-stack-write", test_shadow_stack_write),
};

GT_FILE(cases, .lib = &g);
