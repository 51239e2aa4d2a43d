/*
 * fuzz-picture.c - the bytes a hostile MMS sender's "picture" holds, through
 * picture_clean (libvips decode, checks, re-encode) and one variant: any
 * input is a clean picture or a refusal, never a crash, and nothing is left
 * at the output path after a refusal.
 */
#include <assert.h>
#include <stdio.h>
#include <unistd.h>

#include "err.h"
#include "fuzz.h"
#include "picture.h"

static char dir[] = "/tmp/bookpics-fuzz-picture-XXXXXX";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char in[sizeof(dir) + 16], out[sizeof(dir) + 16], var[sizeof(dir) + 16], err[ERR_LEN];
	const char *type = NULL;
	FILE *f;
	int r;

	if (!ready) {
		if (!mkdtemp(dir) || picture_init(err))
			return 0;
		ready = 1;
	}
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(var, sizeof(var), "%s/v.webp", dir);
	f = fopen(in, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	unlink(out);
	r = picture_clean(in, out, &type, err);
	if (r == PICTURE_OK) {
		assert(type && access(out, F_OK) == 0);
		(void)picture_variant(out, 320, var, err);
		unlink(var);
	} else {
		assert(access(out, F_OK) != 0);
	}
	return 0;
}
