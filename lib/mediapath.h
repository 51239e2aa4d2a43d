/* mediapath.h - the public media path /media/{room}/{index}/{n}[/{w}]: parsed and made. */
#ifndef BP_MEDIAPATH_H
#define BP_MEDIAPATH_H

#include <stddef.h>
#include <stdint.h>

#include "name.h"

/* One media item as a request names it (plain data, no storage of its own). */
struct mediapath {
	char room[NAME_LEN_MAX + 1];	/* name_ok */
	uint64_t index;		/* >= 1: the message's, or the queue id when queued */
	int queued;		/* /media/ROOM/qID/N: a queued item (moderators only) */
	unsigned n;		/* < MSG_MEDIA_MAX */
	int width;		/* 0: the clean picture; else one of MIRROR_WIDTHS */
};

/*
 * Parse the raw request target uri (NUL-terminated; '?' or '#' ends the
 * path) "/media/ROOM/INDEX/N[/W]" or "/media/ROOM/qID/N[/W]" into p. Each
 * number is digits only with no sign and no leading zero (one spelling per
 * item: the mirror's file and the ETag follow from it), INDEX >= 1, N below
 * MSG_MEDIA_MAX, W one of MIRROR_WIDTHS. Percent escapes, dot segments,
 * extra, empty or trailing segments are not a media path. Returns 1 when it
 * is one (p filled), 0 when not (p unspecified). Never fails otherwise.
 */
int mediapath_parse(const char *uri, struct mediapath *p);

/*
 * The canonical path of p (no query), as mediapath_parse takes it back:
 * "/media/ROOM/[q]INDEX/N[/W]" into buf (len bytes). Returns 0, or -1 if it
 * does not fit (buf then holds a cut string, never used as a path).
 */
int mediapath_format(const struct mediapath *p, char *buf, size_t len);

#endif
