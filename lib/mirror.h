/* mirror.h - a fetch-once file mirror: each item fetched at most once, under a lock, and kept forever. */
#ifndef BP_MIRROR_H
#define BP_MIRROR_H

#include <stdint.h>

#include "conf.h"

#define MIRROR_PATH_MAX (CONF_PATH_MAX + 128)
#define MIRROR_ETAG_LEN 16

/*
 * One item: media item n of message index in room. Every path is built
 * from the room name (validated by the caller) and the numbers, never from
 * request text:
 *   file  VAR/media/ROOM/INDEX-N-ETAG       the complete file, immutable
 *   part  VAR/media/tmp/ROOM.INDEX.N.part   being fetched (under the lock)
 *   lock  VAR/media/tmp/ROOM.INDEX.N.lock   flock'd while fetching
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
	char dirs[3][MIRROR_PATH_MAX];	/* VAR/media, VAR/media/tmp, VAR/media/ROOM */
};

/* What mirror_fetch did; each maps to one HTTP answer in media.c. */
enum mirror_result {
	MIRROR_OK,		/* m->file is there, complete */
	MIRROR_UPSTREAM,	/* the fetch callback failed (502) */
	MIRROR_LOCAL,		/* a directory, the part file, the rename (500) */
	MIRROR_BUSY		/* another fetcher held the lock too long (503) */
};

/*
 * Fetch callback: write the upstream bytes to fd (an empty file open for
 * writing, owned by the caller). Returns 0, or -1 with err filled.
 */
typedef int (*mirror_fetch_fn)(void *ctx, int fd, char *err);

/*
 * Fill m for item (room, index, n) of upstream URL src under var: the tag
 * and the paths. Touches no file. Returns 0, or -1 with err if a path does
 * not fit.
 */
int mirror_item_init(struct mirror_item *m, const char *var, const char *room,
		     uint64_t index, unsigned n, const char *src, char *err);

/* Is m->file there? (A regular file: only a complete one ever is.) */
int mirror_has(const struct mirror_item *m);

/*
 * Make m->file exist, fetching it at most once however many processes ask
 * at the same time: create the directories, take the item's lock (waiting
 * at most wait_ms for another holder), look again (the holder may have
 * fetched it meanwhile), else call fetch into m->part, flush it, and turn
 * the part file into m->file (mirror.c's store step, today a rename).
 * Nothing but a complete file ever appears at m->file; on any failure
 * neither the part file nor m->file is left. The lock file is removed on
 * the way out. Returns MIRROR_OK, or another result with err filled.
 */
enum mirror_result mirror_fetch(const struct mirror_item *m, long wait_ms,
				mirror_fetch_fn fetch, void *ctx, char *err);

#endif
