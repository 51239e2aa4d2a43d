/* mediapath.c - /media/{room}/{index}/{n}[/{w}]: one spelling per media item. */
#include <stdio.h>
#include <string.h>

#include "mediapath.h"
#include "mirror.h"
#include "msg.h"

/* Digits only, no sign, no leading zero (one spelling per number), <= max. */
static int parse_number(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return 0;	/* overflow */
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > max)
		return 0;
	*v = x;
	return 1;
}

int mediapath_parse(const char *uri, struct mediapath *p)
{
	const char *r, *end, *s1, *s2, *s3;
	uint64_t n, w = 0;

	if (strncmp(uri, "/media/", 7))
		return 0;
	r = uri + 7;
	end = r + strcspn(r, "?#");
	s1 = memchr(r, '/', (size_t)(end - r));
	if (!s1 || s1 == r || s1 - r > NAME_LEN_MAX)
		return 0;
	memcpy(p->room, r, (size_t)(s1 - r));
	p->room[s1 - r] = '\0';
	if (!name_ok(p->room))
		return 0;
	s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
	if (!s2)
		return 0;
	p->queued = s1[1] == 'q';
	if (p->queued)
		s1++;
	s3 = memchr(s2 + 1, '/', (size_t)(end - s2 - 1));
	if (!parse_number(s1 + 1, (size_t)(s2 - s1 - 1), UINT64_MAX, &p->index) ||
	    p->index == 0 ||
	    !parse_number(s2 + 1, (size_t)((s3 ? s3 : end) - s2 - 1), MSG_MEDIA_MAX - 1, &n) ||
	    (s3 && (!parse_number(s3 + 1, (size_t)(end - s3 - 1), 100000, &w) ||
		    !mirror_width_ok((long)w))))
		return 0;
	p->n = (unsigned)n;
	p->width = (int)w;
	return 1;
}

int mediapath_format(const struct mediapath *p, char *buf, size_t len)
{
	int n;

	if (p->width)
		n = snprintf(buf, len, "/media/%s/%s%llu/%u/%d", p->room, p->queued ? "q" : "",
			     (unsigned long long)p->index, p->n, p->width);
	else
		n = snprintf(buf, len, "/media/%s/%s%llu/%u", p->room, p->queued ? "q" : "",
			     (unsigned long long)p->index, p->n);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
