// SPDX-License-Identifier: GPL-2.0
/* t01_info: GUPNW_IOC_GET_INFO describes the running module truthfully. */
#include "gupnw_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The module's answer to GET_INFO; bails (fails the case) when it fails. */
static void get_info(int *fdp, struct gupnw_info *info)
{
	long ret;

	*fdp = gt_dev_open();
	if (*fdp < 0)
		gt_bail("info: open %s: %s", gt_dev_path(), gt_errname(errno));
	memset(info, 0xa5, sizeof(*info));
	info->size = sizeof(*info);
	ret = gt_ioctl(*fdp, GUPNW_IOC_GET_INFO, info);
	if (!gt_err(ret, 0, "info: GET_INFO succeeds"))
		exit(gt_exit());
}

static void case_get_info(void)
{
	struct gupnw_info info;
	size_t vlen;
	int fd;

	get_info(&fd, &info);
	gt_eq(GUPNW_ABI_VERSION, info.abi_version,
	      "info: abi_version is GUPNW_ABI_VERSION");
	gt_eq(sysconf(_SC_PAGESIZE), info.page_size,
	      "info: page_size is sysconf(_SC_PAGESIZE)");
	gt_eq(GUPNW_FEATURE_PROBE | GUPNW_FEATURE_TARGET_FD,
	      info.features & (GUPNW_FEATURE_PROBE | GUPNW_FEATURE_TARGET_FD),
	      "info: features has PROBE and TARGET_FD");
	gt_eq(GUPNW_PROBE_FLAGS_ALL, info.probe_flags,
	      "info: probe_flags is GUPNW_PROBE_FLAGS_ALL");
	gt_ok(info.max_chunk_pages > 0, "info: max_chunk_pages is non-zero");
	vlen = strnlen(info.version, sizeof(info.version));
	if (!gt_ok(vlen > 0 && vlen < sizeof(info.version),
		   "info: version is non-empty and NUL-terminated"))
		gt_diag("version length %zu of %zu", vlen, sizeof(info.version));
	else
		gt_diag("module version \"%s\", max_chunk_pages %llu",
			info.version,
			(unsigned long long)info.max_chunk_pages);
	gt_ok(info.probe_kmem > 0 && info.probe_kmem <= 64 * 1024,
	      "info: a probe allocates at most 64 KiB of kernel memory");
	gt_diag("probe_kmem %u bytes", info.probe_kmem);
	gt_ok(info.max_io_pages > 0, "info: max_io_pages is non-zero");
	gt_ok(!info.reserved[0],
	      "info: reserved fields are written as 0");
	close(fd);
}

static void case_library_agrees(void)
{
	struct gupnw_module_info mi;
	struct gupnw_info info;
	struct gupnw *g;
	int fd;

	get_info(&fd, &info);
	g = gupnw_open();
	if (!g) {
		gt_ok(0, "info: gupnw_open succeeds");
		gt_diag("gupnw_open: %s", gt_errname(errno));
		return;
	}
	memset(&mi, 0, sizeof(mi));
	if (gt_err(gupnw_module_info(g, &mi) ? -errno : 0, 0,
		   "info: gupnw_module_info succeeds")) {
		gt_ok(mi.abi_version == info.abi_version &&
		      mi.features == info.features &&
		      mi.probe_flags == info.probe_flags &&
		      mi.page_size == info.page_size &&
		      !strcmp(mi.version, info.version),
		      "info: gupnw_module_info agrees with GET_INFO");
		if (strcmp(mi.version, info.version))
			gt_diag("library says \"%.32s\", ioctl \"%s\"",
				mi.version, info.version);
	}
	gupnw_close(g);
	close(fd);
}

static void case_library_version(void)
{
	gt_ok(gupnw_version() && *gupnw_version(),
	      "info: gupnw_version is non-empty");
}

static const struct gt_case cases[] = {
	GT_CASE("get-info", case_get_info),
	GT_CASE("library-agrees", case_library_agrees),
	GT_CASE("library-version", case_library_version),
};

GT_FILE(cases);
