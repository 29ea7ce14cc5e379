// SPDX-License-Identifier: GPL-2.0
/*
 * One handle used from several threads at once, as gupnw_open(3) allows:
 * the end of user space the handle caches is asked for by all of them
 * together.  Built with ThreadSanitizer (make tsan), which fails the run on
 * a data race.  Run with fake-gupnw.so preloaded and GUPNW_DEVICE=/dev/null.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gupnw.h"

#define FAKE_USER_END	0x7ffffffff000ULL
#define THREADS		4

static struct gupnw *g;

static void *worker(void *arg)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct gupnw_counts c;
	uint64_t end;

	(void)arg;
	end = gupnw_user_end(g);
	if (gupnw_probe_pid64(g, getpid(), 0, end, GUPNW_NOFAULT, NULL, &c) ||
	    c.unmapped != end / ps)
		end = 0;
	return (void *)(uintptr_t)(end == FAKE_USER_END);
}

int main(void)
{
	pthread_t t[THREADS];
	void *ok;
	int i;

	CHECK(!setenv("FAKE_GUPNW_STATE", ".", 1));
	g = gupnw_open();
	CHECK(g != NULL);
	if (!g)
		return 1;
	for (i = 0; i < THREADS; i++)
		CHECK(!pthread_create(&t[i], NULL, worker, NULL));
	for (i = 0; i < THREADS; i++) {
		CHECK(!pthread_join(t[i], &ok));
		CHECK(ok != NULL);
	}
	gupnw_close(g);
	return CHECK_EXIT();
}
