/* replink.h - framed requests on a unix socket: the relay and its site's replicator. */
#ifndef BP_REPLINK_H
#define BP_REPLINK_H

#include <stddef.h>

/*
 * In a group the relay is no part of the replication manager (Berkeley DB
 * 5.3's select() cannot take a descriptor above FD_SETSIZE, and a relay
 * holds thousands): it hands its writes to bookpics-replicator, its site's
 * replication process, over a unix socket (docs/DESIGN.md "Groups"). A
 * frame is a 4-byte big-endian length, then that many bytes (at most
 * REPLINK_MAX). Every call is bounded by timeout_ms; descriptors are the
 * caller's to close.
 */
#define REPLINK_MAX (16 << 20)

/* Listen on path (an old socket there is removed), mode 0600. Returns the fd, or -1 with err. */
int replink_listen(const char *path, char *err);

/* Connect to path. Returns the fd, or -1 with err (nothing listens: ECONNREFUSED, ENOENT). */
int replink_connect(const char *path, char *err);

/* Write one frame of len bytes within timeout_ms. Returns 0, or -1 with err. */
int replink_send(int fd, const void *buf, size_t len, long timeout_ms, char *err);

/*
 * Read one frame within timeout_ms into *buf (malloc'd, the caller frees)
 * of *len bytes. Returns 0; 1 the peer closed before a frame began; -1
 * with err (a timeout, a short or oversized frame, a read error).
 */
int replink_recv(int fd, void **buf, size_t *len, long timeout_ms, char *err);

#endif
