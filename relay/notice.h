/* notice.h - reading the writers' hints ("m ROOM INDEX", "u USER") from the FIFO. */
#ifndef BP_NOTICE_H
#define BP_NOTICE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define NOTICE_LINE_MAX 256	/* longer lines are bad lines, skipped whole */

/* One parsed line. */
struct notice {
	char kind;			/* 'm': room now ends at index; 'u': user's rooms changed */
	char name[STORE_NAME_MAX + 1];	/* the room ('m') or the user ('u') */
	uint64_t index;			/* 'm' only */
};

/*
 * The bytes of an unfinished line carried between reads (a writer's line is
 * atomic, but a read may stop anywhere when the FIFO holds many lines).
 * Zero it before use; it holds no resources.
 */
struct notice_reader {
	char buf[NOTICE_LINE_MAX];
	size_t len;
	int skipping;		/* inside an overlong line: drop up to '\n' */
};

/*
 * Called for every complete line: n is the parsed notice, or NULL for a bad
 * line, then bad says what is wrong with it (the caller logs and goes on).
 */
typedef void (*notice_fn)(void *ctx, const struct notice *n, const char *bad);

/*
 * Parse one line (len bytes, no newline): "m ROOM INDEX" or "u USER", names
 * as store_name_ok, INDEX a decimal >= 1. Returns 0, or -1 with err.
 */
int notice_parse(const char *line, size_t len, struct notice *n, char *err);

/*
 * Read fd (non-blocking) until it would block (or 256 KiB, so that a
 * flooding writer cannot starve the loop), calling fn for every
 * complete line. Returns 0 when the FIFO is drained (EAGAIN), -1 with err
 * on a read error or end of file (no writer left: the relay keeps one open
 * itself, so this means the descriptor is unusable).
 */
int notice_read(struct notice_reader *r, int fd, notice_fn fn, void *ctx, char *err);

#endif
