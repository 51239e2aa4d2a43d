/* test-mediapath.c - /media/ROOM/INDEX/N[/W]: one spelling per item, nothing else accepted. */
#include <stdio.h>
#include <string.h>

#include "mediapath.h"
#include "unit.h"

/* The canonical form of what uri parses to, or "refused". */
static const char *canon(const char *uri)
{
	static char buf[256];
	struct mediapath p;

	memset(&p, 0, sizeof(p));
	if (!mediapath_parse(uri, &p))
		return "refused";
	if (mediapath_format(&p, buf, sizeof(buf)))
		return "too long";
	return buf;
}

int main(void)
{
	static const char *refused[] = {
		"/media/books/0/0",		/* index 0 */
		"/media/books/07/0",		/* leading zero */
		"/media/books/7/00",
		"/media/books/+7/0",		/* sign */
		"/media/books/-7/0",
		"/media/books/7/10",		/* n >= MSG_MEDIA_MAX */
		"/media/books/7/0/500",		/* not one of MIRROR_WIDTHS */
		"/media/books/7/0/0",
		"/media/books/7/0/0640",
		"/media/books/7/0/",		/* trailing and extra segments */
		"/media/books/7/0/640/",
		"/media/books/7/0/640/x",
		"/media/books/7",
		"/media/books/7/",
		"/media/books",
		"/media/",
		"/media",
		"/media//7/0",			/* empty segments */
		"/media/books//0",
		"/media/../7/0",		/* dot segments */
		"/media/books/../0",
		"/media/books/7/../0",
		"/media/./books/7/0",
		"/media/%2e%2e/7/0",		/* percent escapes */
		"/media/books%2F7/1/0",
		"/media/books/7%2F0",
		"/media/books/7/0%00",
		"/media/books/%37/0",
		"/media/bo\0oks/7/0",		/* a NUL ends the string: "/media/bo" */
		"/Media/books/7/0",
		"//media/books/7/0",
		"/media/books/q/0",		/* queued: a number after 'q' */
		"/media/books/qq1/0",
		"/media/books/Q1/0",
		"/media/books/q0/0",
		"/media/books/18446744073709551616/0",	/* over UINT64_MAX */
		"/media/books/99999999999999999999/0",
		"/media/bo.ks/7/0",		/* not a room name */
		"/media/b\xc3\xa9/7/0",
		"/media/books/7/0?",		/* fine: the query is not the path */
	};
	char room64[80], room65[80], uri[200], want[200];
	struct mediapath p;
	size_t i;

	CHECK_STR(canon("/media/books/7/0"), "/media/books/7/0", "a plain item");
	memset(&p, 0, sizeof(p));
	CHECK(mediapath_parse("/media/books/7/2/640", &p) == 1 && !strcmp(p.room, "books") &&
	      p.index == 7 && p.n == 2 && p.width == 640 && !p.queued, "fields of a variant");
	CHECK(mediapath_parse("/media/my_room-2/q3/9", &p) == 1 && !strcmp(p.room, "my_room-2") &&
	      p.index == 3 && p.n == 9 && p.width == 0 && p.queued, "fields of a queued item");
	CHECK_STR(canon("/media/my_room-2/q3/9/1280"), "/media/my_room-2/q3/9/1280", "queued variant");
	CHECK_STR(canon("/media/books/7/0?w=1&x=/../.."), "/media/books/7/0", "the query is left out");
	CHECK_STR(canon("/media/books/7/0/320#x"), "/media/books/7/0/320", "so is a fragment");
	CHECK_STR(canon("/media/books/18446744073709551615/0"), "/media/books/18446744073709551615/0",
		  "UINT64_MAX is an index");
	CHECK_STR(canon("/media/books/1/9"), "/media/books/1/9", "n 9 is the last item");

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]) - 1; i++) {
		snprintf(want, sizeof(want), "refused: %s", refused[i]);
		CHECK_STR(canon(refused[i]), "refused", want);
	}
	CHECK_STR(canon(refused[i]), "/media/books/7/0", "an empty query");

	memset(room64, 'r', 64);
	room64[64] = '\0';
	memset(room65, 'r', 65);
	room65[65] = '\0';
	snprintf(uri, sizeof(uri), "/media/%s/1/0", room64);
	CHECK_STR(canon(uri), uri, "a 64-character room");
	snprintf(uri, sizeof(uri), "/media/%s/1/0", room65);
	CHECK_STR(canon(uri), "refused", "a 65-character room is refused, not cut");

	snprintf(p.room, sizeof(p.room), "books");
	p.index = 7, p.n = 0, p.width = 0, p.queued = 0;
	CHECK(mediapath_format(&p, want, 17) == 0 && !strcmp(want, "/media/books/7/0"), "format: exact fit");
	CHECK(mediapath_format(&p, want, 16) == -1, "format: one byte short is -1");
	return unit_done();
}
