/*
 * fuzz-mediapath.c - mediapath_parse on any request target: whatever it
 * accepts is already the one canonical spelling of its item (the path as
 * sent, query left out), with no dot segment, escape, empty segment or NUL,
 * parses back to the same item, and names a plain file right under
 * VAR/media/ROOM in the mirror.
 */
#include <assert.h>
#include <stdio.h>

#include "err.h"
#include "fuzz.h"
#include "mediapath.h"
#include "mirror.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), buf[256], room[NAME_LEN_MAX + 8], err[ERR_LEN];
	struct mediapath p, q;
	struct mirror_item m;
	size_t len, rlen;

	if (!s)
		return 0;
	memset(&p, 0, sizeof(p));
	if (mediapath_parse(s, &p)) {
		assert(mediapath_format(&p, buf, sizeof(buf)) == 0);
		len = strcspn(s, "?#");		/* stops at a NUL too: the C string ends there */
		assert(strlen(buf) == len && !memcmp(buf, s, len));
		assert(!strstr(buf, "/.") && !strstr(buf, "//") && !strchr(buf, '%') &&
		       !strchr(buf, '\\') && buf[len - 1] != '/');
		assert(name_ok(p.room) && p.index >= 1 && p.n < MSG_MEDIA_MAX &&
		       (p.width == 0 || mirror_width_ok(p.width)));
		memset(&q, 0, sizeof(q));
		assert(mediapath_parse(buf, &q) == 1 && !strcmp(p.room, q.room) &&
		       p.index == q.index && p.queued == q.queued && p.n == q.n && p.width == q.width);
		/* as media.c keeps it: queued items under "ROOM.q" */
		snprintf(room, sizeof(room), "%s%s", p.room, p.queued ? ".q" : "");
		rlen = strlen(room);
		assert(mirror_item_init(&m, "/v", room, p.index, p.n, s, MIRROR_FAIL_TTL_S, err) == 0);
		assert(!strncmp(m.file, "/v/media/", 9) && !strncmp(m.file + 9, room, rlen) &&
		       m.file[9 + rlen] == '/' && !strchr(m.file + 10 + rlen, '/') &&
		       !strstr(m.file, "/."));
	}
	free(s);
	return 0;
}
