// SPDX-License-Identifier: LGPL-2.1-or-later
/* gupnw tool: gupnw --version, the versions of tool, library and module. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gupnw.h"

#include "cli.h"

#define STR(x)		#x
#define XSTR(x)		STR(x)
#define TOOL_VERSION	XSTR(GUPNW_VERSION_MAJOR) "." \
			XSTR(GUPNW_VERSION_MINOR) "." \
			XSTR(GUPNW_VERSION_PATCH)

/* "features: probe target_fd ..." of GET_INFO, as scripts may test them. */
static void print_features(uint64_t features)
{
	static const char *const names[] = {
		"probe", "target_fd", "extents", "io_cap", "uring_cmd", "cold",
		"async_fault", "ready_noworker",
	};
	unsigned int i;

	fputs("features:", stdout);
	for (i = 0; i < 64; i++) {
		if (!(features & (UINT64_C(1) << i)))
			continue;
		if (i < sizeof(names) / sizeof(names[0]))
			printf(" %s", names[i]);
		else
			printf(" bit%u", i);
	}
	putchar('\n');
}

/* Always succeeds: a missing module is information, not a failure. */
int cmd_version(void)
{
	struct gupnw_module_info info;
	struct gupnw *g;

	printf("gupnw %s\n", TOOL_VERSION);
	printf("library: %s\n", gupnw_version());
	g = gupnw_open();
	if (g && !gupnw_module_info(g, &info)) {
		printf("module: %s (abi %u)\n", info.version,
		       info.abi_version);
		print_features(info.features);
	}
	else
		printf("module: not loaded (%s: %s)\n", gupnw_device_path(),
		       strerror(errno));
	gupnw_close(g);
	return EXIT_OK;
}
