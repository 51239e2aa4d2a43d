/*
 * fuzz-request.c - the relay's client frames (relay/request.c) as a hostile
 * client sends them, on an anonymous and on a user's connection.
 */
#include <assert.h>

#include "fuzz.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct request req;
	const char *users[] = { "", "uuid1" };
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < 2; i++) {
		memset(&req, 0, sizeof(req));
		request_parse(s, size, users[i], &req);
		if (req.action == REQUEST_SEND && !req.code)
			assert(users[i][0] && req.room);
		request_free(&req);
	}
	free(s);
	return 0;
}
