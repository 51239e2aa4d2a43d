/* fuzz-query.c - http_query_get on any query string: bounded, NUL-terminated. */
#include <assert.h>

#include "fuzz.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), buf[16];

	if (!s)
		return 0;
	if (http_query_get(s, "after", buf, sizeof(buf)))
		assert(strlen(buf) < sizeof(buf));
	(void)http_query_get(s, "token", buf, sizeof(buf));
	free(s);
	return 0;
}
