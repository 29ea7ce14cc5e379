// SPDX-License-Identifier: LGPL-2.1-or-later
/* libgupnw: version and state names, which need no device. */
#include "gupnw.h"

#define GUPNW_STR(x)	#x
#define GUPNW_XSTR(x)	GUPNW_STR(x)

const char *gupnw_version(void)
{
	return GUPNW_XSTR(GUPNW_VERSION_MAJOR) "."
	       GUPNW_XSTR(GUPNW_VERSION_MINOR) "."
	       GUPNW_XSTR(GUPNW_VERSION_PATCH);
}

const char *gupnw_state_name(int state)
{
	switch (state) {
	case GUPNW_RESIDENT:
		return "resident";
	case GUPNW_FAULTED:
		return "faulted";
	case GUPNW_RETRY:
		return "retry";
	case GUPNW_UNMAPPED:
		return "unmapped";
	case GUPNW_ERROR:
		return "error";
	case GUPNW_NOTPRESENT:
		return "notpresent";
	case GUPNW_COLD:
		return "cold";
	default:
		return "unknown";
	}
}
