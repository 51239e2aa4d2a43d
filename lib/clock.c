/* clock.c - the monotonic clock in milliseconds. */
#include <time.h>

#include "clock.h"

static int64_t ms_of(clockid_t id)
{
	struct timespec ts;

	/* cannot fail for these ids on Linux: both exist since 2.6.32 */
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_ms(void)
{
	return ms_of(CLOCK_MONOTONIC);
}

int64_t clock_coarse_ms(void)
{
	return ms_of(CLOCK_MONOTONIC_COARSE);
}
