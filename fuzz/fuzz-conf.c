/*
 * fuzz-conf.c - bookpics.conf as an operator's typo (or worse) leaves it:
 * any bytes load or are refused with FILE:LINE, never half applied.
 */
#include <assert.h>
#include <stdio.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "fuzz.h"

static char dir[] = "/tmp/bookpics-fuzz-conf-XXXXXX";

static void count(void *ctx, const char *problem)
{
	(void)problem;
	(*(int *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int made;
	struct conf c;
	char path[sizeof(dir) + 32], err[ERR_LEN];
	FILE *f;
	int problems = 0, loaded;

	if (!made && !mkdtemp(dir))
		return 0;
	made = 1;
	snprintf(path, sizeof(path), "%s/bookpics.conf", dir);
	f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	memset(&c, 0, sizeof(c));
	loaded = conf_load(&c, dir, err) == 0;
	conf_check(dir, count, &problems, err);
	assert(loaded == (problems == 0));
	return 0;
}
