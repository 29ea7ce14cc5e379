// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gupnw tool: the probe subcommand.  Maps FILE (or opens the memory of
 * PID), probes the range a window at a time and prints the report.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gupnw.h"

#include "cli.h"
#include "output.h"
#include "parse.h"

/* Pages per call: bounds the states buffer of the human report. */
#define WINDOW_PAGES	16384

#define TRY_HELP	" (try 'gupnw probe --help')"

struct probe_opts {
	bool json;
	unsigned int flags;		/* GUPNW_* */
	unsigned int map_width;		/* 0: from the terminal */
	pid_t pid;			/* 0: file mode */
};

/* The range to probe, once resolved to whole pages. */
struct probe_target {
	uint64_t addr;			/* first page, in the target's mm */
	int mem_fd;			/* /proc/PID/mem, or -1: our own mm */
	void *mapping;			/* file mode: our mapping, or NULL */
	size_t map_len;
};

/* Cells of the map: --map-width, else the terminal's width. */
static unsigned int map_width(const struct probe_opts *o)
{
	const char *columns = getenv("COLUMNS");
	unsigned int cols = 80;
	struct winsize ws;
	uint64_t v;

	if (o->map_width)
		return o->map_width;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		cols = ws.ws_col;
	else if (columns && !parse_u64(columns, false, &v) && v)
		cols = v < MAP_MAX_CELLS ? v : MAP_MAX_CELLS;
	/* The brackets take two columns; a map has at least one cell. */
	return cols > 3 ? cols - 2 : 1;
}

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

static int open_file_target(const char *path, bool has_length,
			    struct probe_report *r, struct probe_target *t)
{
	struct stat st;
	uint64_t first;
	int fd, ret;
	off_t size;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("%s", path);
	if (fstat(fd, &st)) {
		ret = fail("%s", path);
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		ret = fail("%s", path);
		goto out_close;
	}
	if (!has_length) {
		/* A block device's st_size is 0: ask it for its size. */
		size = S_ISBLK(st.st_mode) ? lseek(fd, 0, SEEK_END) : st.st_size;
		if (size < 0) {
			ret = fail("%s", path);
			goto out_close;
		}
		r->length = r->start < (uint64_t)size ? size - r->start : 0;
	}
	if (range_pages(r->start, r->length, r->page_size, &first, &r->pages) ||
	    r->pages > SIZE_MAX / r->page_size) {
		errno = EOVERFLOW;
		ret = fail("%s", path);
		goto out_close;
	}

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

static int open_pid_target(struct probe_report *r, struct probe_target *t)
{
	if (range_pages(r->start, r->length, r->page_size, &t->addr,
			&r->pages))
		return fail("pid %d", (int)r->pid);
	t->mem_fd = gupnw_open_pid_mem(r->pid, r->flags);
	if (t->mem_fd < 0)
		return fail("pid %d", (int)r->pid);
	return EXIT_OK;
}

static void close_target(struct probe_target *t)
{
	if (t->mapping)
		munmap(t->mapping, t->map_len);
	if (t->mem_fd >= 0)
		close(t->mem_fd);
}

static void counts_add(struct gupnw_counts *sum, const struct gupnw_counts *c)
{
	sum->resident += c->resident;
	sum->faulted += c->faulted;
	sum->retry += c->retry;
	sum->unmapped += c->unmapped;
	sum->error += c->error;
	sum->notpresent += c->notpresent;
}

/*
 * Probe the target window by window.  For JSON, @states holds every page;
 * else it holds one window and each window goes into the map.
 */
static int probe_windows(struct gupnw *g, const struct probe_opts *o,
			 const struct probe_target *t, struct probe_report *r,
			 unsigned char *states, struct state_map *m)
{
	struct gupnw_counts c;
	uint64_t done, addr;
	unsigned char *st;
	size_t n;
	int ret;

	for (done = 0; done < r->pages; done += n) {
		n = r->pages - done < WINDOW_PAGES ? r->pages - done
						   : WINDOW_PAGES;
		st = o->json ? states + done : states;
		addr = t->addr + done * r->page_size;
		if (t->mem_fd >= 0)
			ret = gupnw_probe_memfd(g, t->mem_fd, addr,
						n * r->page_size, o->flags,
						st, &c);
		else
			ret = gupnw_probe(g, (const void *)(uintptr_t)addr,
					  n * r->page_size, o->flags, st, &c);
		if (ret)
			return -1;
		counts_add(&r->counts, &c);
		if (!o->json)
			map_add(m, st, n);
	}
	return 0;
}

static int run_probe(const struct probe_opts *o, struct probe_report *r,
		     bool has_length)
{
	struct probe_target t = { .mem_fd = -1 };
	struct state_map m = { 0 };
	unsigned char *states = NULL;
	struct gupnw *g;
	size_t nbuf;
	int ret;

	ret = r->file ? open_file_target(r->file, has_length, r, &t)
		      : open_pid_target(r, &t);
	if (ret)
		goto out_target;

	g = gupnw_open();
	if (!g) {
		ret = fail("%s", gupnw_device_path());
		goto out_target;
	}

	nbuf = o->json || r->pages < WINDOW_PAGES ? r->pages : WINDOW_PAGES;
	if (nbuf && !(states = malloc(nbuf))) {
		ret = fail("states of %zu pages", nbuf);
		goto out_close;
	}
	if (!o->json && map_init(&m, r->pages, map_width(o))) {
		ret = fail("map");
		goto out_free;
	}

	if (probe_windows(g, o, &t, r, states, &m)) {
		if (r->file)
			ret = fail("probe %s", r->file);
		else
			ret = fail("probe pid %d", (int)r->pid);
		goto out_free;
	}
	if (o->json)
		print_json(stdout, r, states);
	else
		print_human(stdout, r, &m);

out_free:
	map_free(&m);
	free(states);
out_close:
	gupnw_close(g);
out_target:
	close_target(&t);
	return ret;
}

enum { OPT_JSON = 256, OPT_NO_FAULT, OPT_WRITE, OPT_WAIT, OPT_PID,
       OPT_MAP_WIDTH };

static const struct option probe_options[] = {
	{ "json",	no_argument,		NULL, OPT_JSON },
	{ "no-fault",	no_argument,		NULL, OPT_NO_FAULT },
	{ "write",	no_argument,		NULL, OPT_WRITE },
	{ "wait",	no_argument,		NULL, OPT_WAIT },
	{ "pid",	required_argument,	NULL, OPT_PID },
	{ "map-width",	required_argument,	NULL, OPT_MAP_WIDTH },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 },
};

int cmd_probe(int argc, char **argv)
{
	struct probe_report r = { .page_size = sysconf(_SC_PAGESIZE) };
	struct probe_opts o = { 0 };
	uint64_t v;
	int c, nargs;

	opterr = 0;		/* one message of our own, not getopt's */
	while ((c = getopt_long(argc, argv, ":h", probe_options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_NO_FAULT:
			o.flags |= GUPNW_NOFAULT;
			break;
		case OPT_WRITE:
			o.flags |= GUPNW_WRITE;
			break;
		case OPT_WAIT:
			o.flags |= GUPNW_WAIT;
			break;
		case OPT_PID:
			if (parse_pid(optarg, &o.pid))
				return usage_error("bad pid '%s'", optarg);
			break;
		case OPT_MAP_WIDTH:
			if (parse_u64(optarg, false, &v) || !v ||
			    v > MAP_MAX_CELLS)
				return usage_error("bad map width '%s'",
						   optarg);
			o.map_width = v;
			break;
		case 'h':
			print_usage(stdout);
			return EXIT_OK;
		case ':':
			return usage_error("missing argument to '%s'" TRY_HELP,
					   argv[optind - 1]);
		default:
			/* A bad short option may sit inside "-xy". */
			if (optopt > 0 && optopt < OPT_JSON)
				return usage_error("unknown option '-%c'"
						   TRY_HELP, optopt);
			return usage_error("unknown option '%s'" TRY_HELP,
					   argv[optind - 1]);
		}
	}
	if ((o.flags & GUPNW_NOFAULT) && (o.flags & GUPNW_WAIT))
		return usage_error("--no-fault and --wait exclude each other");

	argv += optind;
	nargs = argc - optind;
	r.flags = o.flags;
	if (o.pid) {
		if (nargs != 2)
			return usage_error("--pid takes ADDR and LENGTH"
					   TRY_HELP);
		r.pid = o.pid;
		if (parse_u64(argv[0], false, &r.start))
			return usage_error("bad address '%s'", argv[0]);
		if (parse_u64(argv[1], true, &r.length))
			return usage_error("bad length '%s'", argv[1]);
		return run_probe(&o, &r, true);
	}

	if (nargs < 1 || nargs > 3)
		return usage_error("probe takes FILE [OFFSET [LENGTH]]"
				   TRY_HELP);
	r.file = argv[0];
	if (nargs > 1 && (parse_u64(argv[1], true, &r.start) ||
			  r.start > INT64_MAX))
		return usage_error("bad offset '%s'", argv[1]);
	if (nargs > 2 && parse_u64(argv[2], true, &r.length))
		return usage_error("bad length '%s'", argv[2]);
	return run_probe(&o, &r, nargs > 2);
}
