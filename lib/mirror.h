/* mirror.h - the fetch-once picture mirror: each item fetched at most once, under a lock, cleaned, kept forever. */
#ifndef BP_MIRROR_H
#define BP_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define MIRROR_PATH_MAX (CONF_PATH_MAX + 128)
#define MIRROR_ETAG_LEN 16

/*
 * One item: media item n of message index in room. Every path is built
 * from the room name (validated by the caller) and the numbers, never from
 * request text:
 *   file  VAR/media/ROOM/INDEX-N-ETAG       the clean picture, immutable
 *   VAR/media/ROOM/INDEX-N-ETAG-W.webp      its variant W px wide (mirror_variant)
 *   part  VAR/media/tmp/ROOM.INDEX.N.part   the upstream bytes while fetched
 *                                           and cleaned (under the lock), then deleted
 *   lock  VAR/media/tmp/ROOM.INDEX.N.lock   flock'd while fetching
 *         VAR/media/tmp/ROOM.INDEX.N.W.lock flock'd while making variant W
 *   bad   VAR/media/tmp/ROOM.INDEX.N.bad    "not a picture", remembered
 *                                           MIRROR_BAD_TTL_S (its text: why), or
 *                                           "upstream: why", a failed fetch,
 *                                           remembered MIRROR_FAIL_TTL_S
 * The mirror keeps pictures only: the upstream bytes never reach a browser
 * (picture_clean, picture.h). It starts libvips itself (picture_init, once
 * per process) the first time it cleans or makes a variant.
 * ETAG is 16 hex digits of SHA-256 of the upstream URL: the upstream URL
 * (Twilio's media URL) names one immutable file, so the tag never needs the
 * bytes, and a store recreated under an old media directory cannot serve
 * a stale file.
 */
struct mirror_item {
	char etag[MIRROR_ETAG_LEN + 1];
	char file[MIRROR_PATH_MAX];
	char part[MIRROR_PATH_MAX];
	char lock[MIRROR_PATH_MAX];
	char bad[MIRROR_PATH_MAX];
	char dirs[3][MIRROR_PATH_MAX];	/* VAR/media, VAR/media/tmp, VAR/media/ROOM */
	long fail_ttl_s;		/* a failed fetch is remembered so long (0: not) */
};

/* What mirror_fetch did; each maps to one HTTP answer in media.c. */
enum mirror_result {
	MIRROR_OK,		/* m->file is there, complete */
	MIRROR_UPSTREAM,	/* the fetch callback failed, now or < fail_ttl_s ago (502) */
	MIRROR_BAD,		/* fetched, but not a picture we show: undecodable,
				 * not JPEG/PNG/GIF/WebP, over 50 megapixels (502) */
	MIRROR_LOCAL,		/* a directory, the part file, the rename (500) */
	MIRROR_BUSY		/* another fetcher held the lock too long (503) */
};

/*
 * How long a MIRROR_BAD is remembered: the upstream file is immutable, so
 * fetching it again (with the account's credentials) on every anonymous
 * request would only cost Twilio traffic; a while, not forever, in case
 * the decoder was the problem and gets fixed.
 */
#define MIRROR_BAD_TTL_S 300
/*
 * A failed fetch (upstream error, timeout, too large) is not tried again
 * for m->fail_ttl_s (conf media_retry_after, given to mirror_item_init).
 */
#define MIRROR_FAIL_TTL_S 60

/* The variant widths the site offers (the wall's srcset). */
#define MIRROR_WIDTHS { 320, 640, 1280 }

/*
 * Fetch callback: write the upstream bytes to fd (an empty file open for
 * writing, owned by the caller). Returns 0, or -1 with err filled.
 */
typedef int (*mirror_fetch_fn)(void *ctx, int fd, char *err);

/*
 * Fill m for item (room, index, n) of upstream URL src under var: the tag
 * and the paths, and how long a failed fetch of it is remembered
 * (fail_ttl_s: conf media_retry_after, or MIRROR_FAIL_TTL_S). Touches no file. Returns 0, or -1 with err if a path does
 * not fit.
 */
int mirror_item_init(struct mirror_item *m, const char *var, const char *room,
		     uint64_t index, unsigned n, const char *src, long fail_ttl_s, char *err);

/* Is m->file there? (A regular file: only a complete one ever is.) */
int mirror_has(const struct mirror_item *m);

/* Is width one of MIRROR_WIDTHS? */
int mirror_width_ok(long width);

/*
 * The content type of the clean picture m->file, read from its first
 * bytes: "image/jpeg", "image/png" or "image/webp" (static strings), or
 * NULL if it cannot be read or is none of them (never, for a file the
 * mirror made).
 */
const char *mirror_type(const struct mirror_item *m);

/*
 * The path of variant width of m into buf (len bytes). Returns 0, or -1 if
 * it does not fit.
 */
int mirror_variant_path(const struct mirror_item *m, int width, char *buf, size_t len);

/*
 * Make m->file exist, fetching it at most once however many processes ask
 * at the same time: create the directories, take the item's lock (waiting
 * at most wait_ms for another holder), look again (the holder may have
 * fetched it meanwhile), answer MIRROR_BAD at once if the item was found
 * bad less than MIRROR_BAD_TTL_S ago, else call fetch into m->part and
 * turn the part file into m->file (mirror.c's store step: picture_clean,
 * then the part file is deleted whatever happened). A file that is not a
 * picture we show is MIRROR_BAD and leaves m->bad behind (nothing else).
 * Nothing but a complete file ever appears at m->file; on any failure
 * neither the part file nor m->file is left. The lock file is removed on
 * the way out. Returns MIRROR_OK, or another result with err filled.
 */
enum mirror_result mirror_fetch(const struct mirror_item *m, long wait_ms,
				mirror_fetch_fn fetch, void *ctx, char *err);

/*
 * Make variant width (mirror_width_ok) of m exist, made once from m->file
 * (which must be there: mirror_fetch first) under its own lock, as
 * mirror_fetch: wait at most wait_ms, look again, picture_variant (which
 * writes a temporary file and renames it: only a complete variant is
 * ever seen). Returns MIRROR_OK; MIRROR_BAD if the clean file does not
 * decode; MIRROR_BUSY; MIRROR_LOCAL for anything else; err filled.
 */
enum mirror_result mirror_variant(const struct mirror_item *m, int width, long wait_ms,
				  char *err);

/* The fetch callback for Twilio media: ctx is a struct mirror_twilio. */
struct mirror_twilio {
	const struct conf *conf;	/* account SID and token, media_max_bytes */
	const char *src;		/* the upstream URL (checked against media_hosts by the caller) */
};

/*
 * fetch_to_fd (fetch.h) of t->src with HTTP Basic auth of the account on
 * the first request only, at most media_max_bytes. Returns 0 or -1 with err.
 */
int mirror_twilio_fetch(void *ctx, int fd, char *err);

#endif
