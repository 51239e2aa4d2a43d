/* limit.h - token buckets for the relay's rate limits (docs/PROTOCOL.md, "Rate limits"). */
#ifndef BP_LIMIT_H
#define BP_LIMIT_H

#include <stddef.h>
#include <stdint.h>

/*
 * A token bucket: it holds at most burst tokens and gains rate tokens a
 * second; an action of cost c is allowed when c tokens are there, and
 * takes them. A refused action takes nothing, so a client that slows
 * down to the rate is served again at once. Times are milliseconds on one
 * monotonic clock (clock_coarse_ms). Pure: no allocation, no failure.
 */
struct limit_rule {
	double rate;		/* tokens a second */
	double burst;		/* at most this many at once */
};

struct limit {
	double tokens;
	int64_t at;		/* when tokens was right; 0: never used (full) */
};

/* Take cost tokens from l at now: 1 allowed (taken), 0 refused. */
int limit_take(struct limit *l, const struct limit_rule *rule, double cost, int64_t now);

/* Would l be full at now (so that forgetting it changes nothing)? */
int limit_full(const struct limit *l, const struct limit_rule *rule, int64_t now);

/*
 * Sustained abuse: a run of refusals with no pause of LIMIT_PAUSE_MS or
 * more between two of them. limit_streak_refused records a refusal at now
 * and returns how long the run has lasted (0 for its first refusal).
 */
#define LIMIT_PAUSE_MS 1000

struct limit_streak {
	int64_t since, last;	/* last 0: no run */
};

int64_t limit_streak_refused(struct limit_streak *s, int64_t now);

/*
 * Buckets by name (per user): the relay's user index is per connection,
 * and a user may hold several (duplicate_connections = allow) or come back
 * with a fresh one, so the bucket is the user's, kept while it is not full.
 * Zeroed = empty; owned by the vhd; freed with limit_table_free.
 */
#define LIMIT_TABLE_BUCKETS 1024

struct limit_entry;

struct limit_table {
	struct limit_entry *b[LIMIT_TABLE_BUCKETS];
};

/*
 * name's bucket, made full if new. Entries of the same hash chain that are
 * full at now are freed on the way (a full bucket is a fresh one), so the
 * table holds only names that used their bucket lately. NULL: out of
 * memory (the caller decides; the relay refuses the action).
 */
struct limit *limit_table_get(struct limit_table *t, const char *name,
			      const struct limit_rule *rule, int64_t now);

/* Free every entry (t stays usable, empty). */
void limit_table_free(struct limit_table *t);

#endif
