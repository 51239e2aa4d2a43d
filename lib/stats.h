/* stats.h - counters every bookpics process shares: one mmap'd file in $VAR/run. */
#ifndef BP_STATS_H
#define BP_STATS_H

#include <stdint.h>

/*
 * $VAR/run/stats holds one 64-bit slot per counter below, mapped shared by
 * every process that opens it and changed with atomic adds and stores: no
 * lock, no system call, no transaction (docs/DESIGN.md "Health and
 * metrics" says why not the store). The counters live as long as the file:
 * across restarts of any program, until someone removes it (Prometheus
 * takes a counter that goes back to 0 as a reset). Slots are only ever
 * appended to this list, so an older file serves a newer binary.
 */
enum stats_counter {
	STATS_WEBHOOK_STORED,			/* 200, a new message */
	STATS_WEBHOOK_DUPLICATE,		/* 200, a MessageSid already stored */
	STATS_WEBHOOK_REFUSED_SIGNATURE,	/* 403: bad, missing or no token */
	STATS_WEBHOOK_BAD_REQUEST,		/* 400, 405 */
	STATS_WEBHOOK_ERROR,			/* 500, 503 */
	/*
	 * Webhooks refused in a row (403): set to 0 by every webhook whose
	 * signature checked out. Many in a row means the token or public_url
	 * is wrong, which /api/health reports.
	 */
	STATS_WEBHOOK_REFUSED_STREAK,
	STATS_MEDIA_FETCHES,			/* fetched from upstream, ok or not */
	STATS_MEDIA_FETCH_FAILED,		/* of those, failed */
	STATS_MEDIA_HITS,			/* served from $VAR/media */
	STATS_WEBHOOK_NOT_POSTED,		/* 200, nothing stored: STOP, blocked, rate... */
	STATS_WEBHOOK_QUEUED,			/* 200, held for a moderator */
	STATS_RELAY_DELIVERED,			/* message frames the relay wrote */
	STATS_RELAY_BACKLOG,			/* messages owed to connections (set each second) */
	/*
	 * A group's site as its replication process sees it, set by
	 * bookpics-replicator each second (the only process whose
	 * connection states are the site's): when (clock_ms, CLOCK_MONOTONIC
	 * is the machine's), how many sites it is connected to (itself
	 * included), the master it knew (its eid, or 0 for none: eid + 1)
	 * and whether that master answers it (1; or it is the master).
	 */
	STATS_GROUP_VIEW_MS,
	STATS_GROUP_CONNECTED,
	STATS_GROUP_MASTER_EID1,
	STATS_GROUP_MASTER_REACHED,
	STATS_COUNT
};

struct stats;

/*
 * Map var/run/stats, creating it (mode 0600, and var/run 0700 if missing).
 * Returns a handle, or NULL with err filled. stats_close(NULL) is a no-op.
 */
struct stats *stats_open(const char *var, char *err);
void stats_close(struct stats *s);

/*
 * Add n to counter c / set it to v / read it. Atomic (relaxed: each
 * counter is exact, their order across processes is not). s NULL: nothing
 * happens and stats_get returns 0, so a process that could not map the file
 * still serves. Never fail.
 */
void stats_add(struct stats *s, enum stats_counter c, uint64_t n);
void stats_set(struct stats *s, enum stats_counter c, uint64_t v);
uint64_t stats_get(const struct stats *s, enum stats_counter c);

#endif
