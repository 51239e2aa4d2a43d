/* fuzz-fifo.c - a FIFO notice line as anyone who can write the FIFO sends it. */
#include <assert.h>

#include "err.h"
#include "fifo.h"
#include "fuzz.h"
#include "name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fifo_notice n;
	char err[ERR_LEN];

	if (fifo_parse((const char *)data, size, &n, err) == 0)
		assert(name_ok(n.name));	/* a parsed notice names a valid room or user */
	else
		assert(err[0]);
	return 0;
}
