/* fifo.h - the writers' hints to the relay over $VAR/relay.fifo: both ends, one line format. */
#ifndef BP_FIFO_H
#define BP_FIFO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "name.h"

/*
 * The FIFO is a hint, never the truth: the store is. A line tells the relay
 * to look again: "m ROOM INDEX\n" (room now ends at INDEX),
 * "c ROOM SEQ\n" (room's changes, hide/show, now end at SEQ: store_changes),
 * "u USER\n" (USER's memberships changed) or "r USER\n" (USER's tokens were
 * revoked or USER was removed: close USER's live connections). Names follow name.h, INDEX is a
 * decimal >= 1. Lines are far below PIPE_BUF, so each write is atomic.
 * Writers: webhook.fcgi, api.fcgi, bookpics-admin. Reader: the relay.
 */

#define FIFO_LINE_MAX 256	/* longer lines are bad lines, skipped whole */
#define FIFO_PATH_MAX 1100	/* $VAR (CONF_PATH_MAX) + "/relay.fifo" */

/* Path of the FIFO under var into buf (len bytes). */
void fifo_path(char *buf, size_t len, const char *var);

/*
 * Create the FIFO (mode 0600) if missing. Returns 0/-1 (err filled).
 */
int fifo_create(const char *var, char *err);

/* ---- the writers' end ---- */

/*
 * Write one line to the FIFO without ever blocking: no FIFO, no reader
 * (ENXIO), a full FIFO (EAGAIN) or a vanished reader (EPIPE; SIGPIPE must be
 * ignored by the caller) all return 0 — the relay catches up from the
 * store. The write end stays open between calls (one per process). Returns
 * 1 written, 0 not written (harmless), never fails.
 */
int fifo_notify_message(const char *var, const char *room, uint64_t index);
int fifo_notify_user(const char *var, const char *user);
int fifo_notify_revoke(const char *var, const char *user);
int fifo_notify_change(const char *var, const char *room, uint64_t seq);

/*
 * Is a reader (the relay) holding var's FIFO open? Opens and closes a
 * write end of its own, leaving the notifiers' end alone. Returns 1 or 0
 * (no FIFO, no reader, or any open error); never blocks.
 */
int fifo_has_reader(const char *var);

/* ---- the reader's end ---- */

enum fifo_kind {
	FIFO_MESSAGE = 'm',	/* a room now ends at index */
	FIFO_USER = 'u',	/* a user's memberships changed */
	FIFO_REVOKE = 'r',	/* a user's tokens revoked (or the user removed) */
	FIFO_CHANGE = 'c',	/* a room's changes now end at seq (index) */
};

/* One parsed line. */
struct fifo_notice {
	enum fifo_kind kind;
	char name[NAME_LEN_MAX + 1];	/* the room (FIFO_MESSAGE, FIFO_CHANGE) or the user */
	uint64_t index;			/* FIFO_MESSAGE: index; FIFO_CHANGE: seq; else 0 */
};

/*
 * Parse one line (len bytes, without its '\n'; a trailing '\r' is allowed)
 * into n. Returns 0, or -1 with err saying what is wrong: "unknown notice",
 * "bad name", "bad index" or "trailing bytes"; n is then unspecified.
 */
int fifo_parse(const char *line, size_t len, struct fifo_notice *n, char *err);

/* Which FIFO a reader opened: to notice it was removed or replaced. */
struct fifo_id {
	dev_t dev;
	ino_t ino;
};

/*
 * Create var's FIFO if missing and open it for reading, non-blocking and
 * close-on-exec. O_RDWR: the reader is a writer too, so the FIFO never
 * reports end of file between writers and the open never blocks. Fills id.
 * Returns the descriptor (the caller closes it), or -1 with err (also when
 * the path is not a FIFO).
 */
int fifo_listen(const char *var, struct fifo_id *id, char *err);

/*
 * Does var's FIFO path still name the FIFO id was filled for? 0 when it was
 * removed or replaced (writers then cannot reach the reader: listen again).
 * Returns 1 or 0.
 */
int fifo_same(const char *var, const struct fifo_id *id);

/*
 * The bytes of an unfinished line carried between reads (a writer's line is
 * atomic, but a read may stop anywhere when the FIFO holds many lines).
 * Zero it before use and after each fifo_listen; it holds no resources.
 */
struct fifo_reader {
	char buf[FIFO_LINE_MAX];
	size_t len;
	int skipping;		/* inside an overlong line: drop up to '\n' */
};

/*
 * Called for every complete line: n is the parsed notice, or NULL for a bad
 * line, then bad says what is wrong with it (fifo_parse's reasons, or
 * "line too long"); the caller logs and goes on.
 */
typedef void (*fifo_notice_fn)(void *ctx, const struct fifo_notice *n, const char *bad);

/*
 * Read fd (non-blocking) until it would block (or 64 reads of 4 KiB, so
 * that a flooding writer cannot starve the caller's loop: poll reports the
 * rest at once), calling fn for every complete line. Returns 0 when
 * drained (EAGAIN) or the budget is spent, -1 with err on a read error or
 * end of file (no writer left: fifo_listen keeps one, so this means the
 * descriptor is unusable).
 */
int fifo_read(struct fifo_reader *r, int fd, fifo_notice_fn fn, void *ctx, char *err);

#endif
