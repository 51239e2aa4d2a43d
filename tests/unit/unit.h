/* unit.h - the few macros the C unit tests share: TAP lines, exit status. */
#ifndef BP_UNIT_H
#define BP_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_count, unit_failed;

#define CHECK(cond, what) do {						\
	unit_count++;							\
	if (cond) {							\
		printf("ok %d - %s\n", unit_count, what);		\
	} else {							\
		unit_failed++;						\
		printf("not ok %d - %s (%s:%d: %s)\n", unit_count, what, \
		       __FILE__, __LINE__, #cond);			\
	}								\
} while (0)

#define CHECK_STR(got, want, what) do {					\
	const char *g_ = (got), *w_ = (want);				\
	unit_count++;							\
	if (g_ && w_ && !strcmp(g_, w_)) {				\
		printf("ok %d - %s\n", unit_count, what);		\
	} else {							\
		unit_failed++;						\
		printf("not ok %d - %s\n#   got:  '%s'\n#   want: '%s'\n", \
		       unit_count, what, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	}								\
} while (0)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}

#endif
