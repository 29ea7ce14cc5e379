// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: the maps subcommand.  Every mapping of a process, as
 * /proc/PID/maps lists it, with its pages counted per state, and per
 * mapping how much is in memory, out on swap, never touched: the questions
 * smaps and pagemap tools answer.  Report only (NOFAULT) unless --fault:
 * looking changes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gupnw.h"

#include "cli.h"
#include "opts.h"
#include "output.h"
#include "parse.h"
#include "target.h"

#define MAPS_OPTS	(OPT_JSON | OPT_PID | OPT_PID_SELF | OPT_FAULT | \
			 OPT_TABLE)

static const char usage[] =
	"usage: gupnw maps [OPTIONS] --pid PID|self\n"
	"\n"
	"Every mapping of PID with its pages per state, in memory, out on swap\n"
	"and never touched.  Report only: changes nothing.\n"
	"\n"
	"      --pid PID|self the process (ptrace rights), or gupnw itself\n"
	"      --fault        NOWAIT probes instead: fault in, start I/O\n"
	"  -J, --json         one JSON object\n"
	"  -b, --bytes        amounts in bytes, not pages\n"
	"  -n, --noheadings   no heading lines\n"
	"      --raw          table without padding\n"
	"  -o, --output COLS  columns, of PAGES,R,F,W,C,N,.,E,MEM%,SWAP,\n"
	"                     UNTOUCHED,NAME\n"
	"See gupnw-maps(1).\n";

/* Mappings at or above this address are the kernel's ([vsyscall]). */
#define USER_TOP	(UINT64_C(1) << 63)

static const char *const kind_names[] = { "anon", "shmem", "file" };

struct mapping {
	uint64_t start, end, offset;
	char perms[5];
	char *path;			/* "" for anonymous memory */
	bool probed;			/* else outside user space */
	enum map_kind kind;
	struct gupnw_counts counts;
};

/* In memory, on swap, never touched: report-only counts of a mapping. */
static void mapping_mem(const struct mapping *m, struct row_mem *x)
{
	const struct gupnw_counts *c = &m->counts;

	x->in_memory = c->resident + c->retry;
	x->swap = 0;
	x->untouched = 0;
	if (m->kind == KIND_ANON)
		x->untouched = c->notpresent;
	else
		x->in_memory += c->notpresent;
	if (m->kind != KIND_FILE)
		x->swap = c->cold;
}

struct maps {
	struct mapping *v;
	size_t n, cap;
};

static void maps_free(struct maps *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		free(ms->v[i].path);
	free(ms->v);
}

/* One line of /proc/PID/maps.  0, or -1 with errno. */
static int maps_add(struct maps *ms, const char *line)
{
	struct mapping *m;
	int path_at = 0;
	size_t len;

	if (grow_array((void **)&ms->v, &ms->cap, ms->n, sizeof(*ms->v)))
		return -1;
	m = &ms->v[ms->n];
	memset(m, 0, sizeof(*m));
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*u %n",
		   &m->start, &m->end, m->perms, &m->offset, &path_at) < 4 ||
	    !path_at || m->end < m->start) {
		errno = EPROTO;		/* not the format of proc(5) */
		return -1;
	}
	len = strcspn(line + path_at, "\n");
	m->path = strndup(line + path_at, len);
	if (!m->path)
		return -1;
	m->probed = m->end <= USER_TOP;
	m->kind = parse_map_kind(m->path, m->perms);
	ms->n++;
	return 0;
}

/* The whole list first: probing must not race the tool's own mallocs. */
static int read_maps(pid_t pid, bool self, struct maps *ms)
{
	char path[32], *line = NULL;
	size_t cap = 0;
	int ret = 0;
	FILE *f;

	if (self)
		snprintf(path, sizeof(path), "/proc/self/maps");
	else
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	while (!ret && getline(&line, &cap, f) > 0)
		ret = maps_add(ms, line);
	if (!ret && ferror(f))
		ret = -1;
	free(line);
	fclose(f);
	return ret;
}

static int probe_mappings(struct gupnw *g, int mem_fd, unsigned int flags,
			  struct maps *ms)
{
	struct run_walk w = { .flags = flags, .progress = true };
	unsigned int ps = sysconf(_SC_PAGESIZE);
	struct target t;
	struct mapping *m;
	size_t i;

	for (i = 0; i < ms->n; i++) {
		m = &ms->v[i];
		if (!m->probed)
			continue;
		target_set(&t, mem_fd, m->start, (m->end - m->start) / ps, ps);
		if (probe_runs(g, &t, &w, &m->counts))
			return fail("probe %" PRIx64 "-%" PRIx64 " %s",
				    m->start, m->end, m->path);
	}
	return EXIT_OK;
}

static void row_mem_add(struct row_mem *sum, const struct row_mem *x)
{
	sum->in_memory += x->in_memory;
	sum->swap += x->swap;
	sum->untouched += x->untouched;
}

static void print_json_mem(const struct row_mem *x)
{
	printf(",\"in_memory\":%" PRIu64 ",\"swap\":%" PRIu64
	       ",\"untouched\":%" PRIu64, x->in_memory, x->swap, x->untouched);
}

static void print_maps_json(const struct maps *ms, pid_t pid,
			    unsigned int flags)
{
	unsigned int ps = sysconf(_SC_PAGESIZE);
	struct gupnw_counts total = { 0 };
	uint64_t pages, total_pages = 0;
	struct row_mem x, xt = { 0 };
	const struct mapping *m;
	size_t i;

	printf("{\"pid\":%d,\"page_size\":%u,", (int)pid, ps);
	print_json_flags(stdout, flags);
	fputs(",\"mappings\":[", stdout);
	for (i = 0; i < ms->n; i++) {
		m = &ms->v[i];
		pages = (m->end - m->start) / ps;
		printf("%s{\"start\":%" PRIu64 ",\"end\":%" PRIu64
		       ",\"perms\":\"%s\",\"offset\":%" PRIu64 ",\"path\":",
		       i ? "," : "", m->start, m->end, m->perms, m->offset);
		print_json_string(stdout, m->path);
		printf(",\"kind\":\"%s\",\"probed\":%s", kind_names[m->kind],
		       m->probed ? "true" : "false");
		if (m->probed) {
			print_json_counts(stdout, pages, &m->counts);
			if (flags & GUPNW_NOFAULT) {
				mapping_mem(m, &x);
				print_json_mem(&x);
				row_mem_add(&xt, &x);
			}
			counts_add(&total, &m->counts);
			total_pages += pages;
		} else {
			printf(",\"pages\":%" PRIu64, pages);
		}
		putchar('}');
	}
	printf("],\"total\":{\"mappings\":%zu", ms->n);
	print_json_counts(stdout, total_pages, &total);
	if (flags & GUPNW_NOFAULT)
		print_json_mem(&xt);
	fputs("}}\n", stdout);
}

/* Hex digits of the highest address: the address column's width. */
static int addr_digits(const struct maps *ms)
{
	uint64_t top = ms->n ? ms->v[ms->n - 1].end : 0;
	int d = 8;

	while (d < 16 && top >> (4 * d))
		d++;
	return d;
}

static void print_maps_human(const struct maps *ms, pid_t pid, bool self,
			     const struct table *t)
{
	unsigned int ps = sysconf(_SC_PAGESIZE);
	bool nofault = t->flags & GUPNW_NOFAULT;
	struct gupnw_counts total = { 0 };
	struct row_mem x, xt = { 0 };
	int d = addr_digits(ms);
	uint64_t total_pages = 0;
	const struct mapping *m;
	char lead[64], label[64];
	size_t i;

	if (!t->noheadings)
		printf("pid %d%s: %zu mappings, mode %s\n", (int)pid,
		       self ? " (self)" : "", ms->n,
		       nofault ? "nofault" : "nowait");
	if (t->raw)
		lead[0] = '\0';
	else
		snprintf(lead, sizeof(lead), "%-*s %-4s ", 2 * d + 1,
			 "ADDRESS", "PERM");
	print_table_header(stdout, t, t->raw ? "ADDRESS PERM " : lead,
			   "MAPPING");
	for (i = 0; i < ms->n; i++) {
		m = &ms->v[i];
		snprintf(lead, sizeof(lead), "%0*" PRIx64 "-%0*" PRIx64 " %-4s ",
			 t->raw ? 0 : d, m->start, t->raw ? 0 : d, m->end,
			 m->perms);
		mapping_mem(m, &x);
		print_table_row_mem(stdout, t, lead, (m->end - m->start) / ps,
				    m->probed ? &m->counts : NULL,
				    nofault ? &x : NULL,
				    *m->path ? m->path : "[anon]");
		if (m->probed) {
			counts_add(&total, &m->counts);
			row_mem_add(&xt, &x);
			total_pages += (m->end - m->start) / ps;
		}
	}
	if (t->raw)
		strcpy(lead, "- - ");
	else
		snprintf(lead, sizeof(lead), "%-*s %-4s ", 2 * d + 1, "", "");
	snprintf(label, sizeof(label), "total (%zu mappings)", ms->n);
	print_table_row_mem(stdout, t, lead, total_pages, &total,
			    nofault ? &xt : NULL, label);
}

static int cmd_maps(int argc, char **argv)
{
	struct cli_opts o = { 0 };
	struct maps ms = { 0 };
	unsigned int flags;
	int ret, mem_fd = -1;
	struct gupnw *g;

	ret = parse_opts(argc, argv, &maps_command, &o);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : ret;
	if (!o.pid || optind != argc)
		return usage_error("maps takes --pid PID (or --pid self) (try 'gupnw maps --help')");
	flags = o.fault ? 0 : GUPNW_NOFAULT;
	ret = setup_table(&o, flags);
	if (ret)
		return ret;
	if (!o.columns)
		table_init_maps(&o.table, flags, o.table.page_size);
	o.table.bytes = o.bytes;
	o.table.raw = o.raw;
	o.table.noheadings = o.noheadings;

	if (read_maps(o.pid, o.self, &ms)) {
		ret = fail("pid %d", (int)o.pid);
		goto out_free;
	}
	if (!o.self) {
		mem_fd = gupnw_open_pid_mem(o.pid, flags);
		if (mem_fd < 0) {
			ret = fail("pid %d", (int)o.pid);
			goto out_free;
		}
	}
	g = device_open();
	if (!g) {
		ret = EXIT_FAILED;
		goto out_close;
	}
	ret = probe_mappings(g, mem_fd, flags, &ms);
	gupnw_close(g);
	if (ret)
		goto out_close;
	if (o.json)
		print_maps_json(&ms, o.pid, flags);
	else
		print_maps_human(&ms, o.pid, o.self, &o.table);
out_close:
	if (mem_fd >= 0)
		close(mem_fd);
out_free:
	maps_free(&ms);
	return ret;
}

const struct command maps_command = {
	.name = "maps",
	.usage = usage,
	.opts = MAPS_OPTS,
	.run = cmd_maps,
};
