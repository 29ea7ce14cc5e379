/* SPDX-License-Identifier: GPL-2.0 */
/* The one assertion the host unit tests share: report, count, go on. */
#ifndef GUPNW_TEST_CHECK_H
#define GUPNW_TEST_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "# %s:%d: CHECK(%s) failed\n",	\
				__FILE__, __LINE__, #cond);		\
			check_failures++;				\
		}							\
	} while (0)

#define CHECK_EXIT()	(check_failures ? 1 : 0)

#endif /* GUPNW_TEST_CHECK_H */
