/* fifo.h - the writers' hint to the relay: one short line per change. */
#ifndef BP_FIFO_H
#define BP_FIFO_H

#include <stdint.h>

/*
 * The FIFO is a hint, never the truth: the store is. A line tells the relay
 * to look again: "m ROOM INDEX\n" (room now ends at INDEX) or
 * "u USER\n" (USER's memberships changed). Lines are far below PIPE_BUF,
 * so each write is atomic.
 */

/* Path of the FIFO under var into buf (len bytes). */
void fifo_path(char *buf, size_t len, const char *var);

/*
 * Create the FIFO (mode 0600) if missing. Returns 0/-1 (err filled).
 */
int fifo_create(const char *var, char *err);

/*
 * Write one line to the FIFO without ever blocking: no FIFO, no reader
 * (ENXIO), a full FIFO (EAGAIN) or a vanished reader (EPIPE; SIGPIPE must be
 * ignored by the caller) all return 0 — the relay catches up from the
 * store. Returns 1 written, 0 not written (harmless), never fails.
 */
int fifo_notify_message(const char *var, const char *room, uint64_t index);
int fifo_notify_user(const char *var, const char *user);

#endif
