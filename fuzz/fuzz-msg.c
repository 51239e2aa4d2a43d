/*
 * fuzz-msg.c - strict JSON parsing of client input, and stored records read
 * back: whatever the bytes, msg_public gives an object (a tombstone for a bad
 * record) and a record msg_record accepted always reads back.
 */
#include <assert.h>

#include "err.h"
#include "fuzz.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *rec, err[ERR_LEN], src[256], ct[64];
	struct json_object *o;
	struct msg_media m;
	size_t len;

	if (!s)
		return 0;
	o = msg_parse_json(s, size, err);
	json_object_put(o);
	o = msg_public("books", 1, s, "message", err);
	assert(o && msg_json_text(o, &len));
	json_object_put(o);
	(void)msg_media_get(s, 0, src, sizeof(src), ct, sizeof(ct));

	m.src = s;
	m.content_type = "image/jpeg";
	rec = msg_record(s, "picture", s, &m, 1, NULL, err);
	assert(!rec == !msg_utf8_ok(s, strlen(s)));
	if (rec) {
		o = msg_public("books", 1, rec, NULL, err);
		assert(o && !json_object_object_get_ex(o, "hidden", NULL));
		json_object_put(o);
		assert(msg_media_get(rec, 0, src, sizeof(src), ct, sizeof(ct)) == 1);
	}
	free(rec);
	free(s);
	return 0;
}
