/* room.h - the rooms the relay follows: known head, followers, frame cache. */
#ifndef BP_ROOM_H
#define BP_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "store.h"

/*
 * Bounds (docs/PROTOCOL.md, "Limits"): a room keeps the frames of at most
 * ROOM_CACHE of its newest messages, shared by every follower; a follower
 * more than ROOM_CACHE messages behind the head reads ROOM_BATCH messages
 * at a time from the store into its own batch instead, so a slow or far
 * behind connection costs at most ROOM_BATCH frames per room it follows,
 * never a queue that grows with what it has not read.
 */
#define ROOM_CACHE 128
#define ROOM_BATCH 16
#define ROOM_BUCKETS 1024

/* A link in a room's list of followers, embedded in the follower. */
struct room_link {
	struct room_link *prev, *next;
};

struct room {
	char name[STORE_NAME_MAX + 1];
	int is_public;
	uint64_t last;			/* highest index known to exist */
	struct room_link followers;	/* circular list, this is the head */
	size_t nfollowers;
	struct room *hnext;		/* hash chain */
	struct {
		uint64_t index;
		struct frame *f;	/* owned; NULL = empty slot */
	} cache[ROOM_CACHE];		/* slot = index % ROOM_CACHE */
};

/* A far-behind follower's own frames: indexes first .. first+n-1. */
struct room_batch {
	uint64_t first;
	size_t n;
	struct frame *f[ROOM_BATCH];	/* owned */
};

/* Every room followed now; zero it before use. */
struct rooms {
	struct room *bucket[ROOM_BUCKETS];
	size_t n;
};

/* The room called name if the relay follows it, else NULL. */
struct room *room_find(struct rooms *rs, const char *name);

/*
 * The room called name, read from the store if not followed yet (the new
 * room has no follower: follow it, or rooms_gc frees it). Returns 1 with
 * *out set, 0 if there is no such room, -1 with err.
 */
int room_get(struct rooms *rs, struct store *s, const char *name,
	     struct room **out, char *err);

/* Add or remove a follower's link. Unfollowing never frees the room. */
void room_follow(struct room *r, struct room_link *l);
void room_unfollow(struct room *r, struct room_link *l);

/* Learn that the room ends at least at last. Returns 1 if that is news. */
int room_advance(struct room *r, uint64_t last);

/* Re-read the room's head from the store: 1 it moved, 0 not, -1 with err. */
int room_refresh(struct room *r, struct store *s, char *err);

/*
 * The frame of message index (1 <= index <= r->last): from the cache, else
 * read into the cache (index near the head) or into b (far behind). The
 * frame stays owned by the cache or b and is valid until the next
 * room_frame call on r or b. Returns 1 with *out set, or -1 with err (the
 * store failed; try again later).
 */
int room_frame(struct room *r, struct store *s, struct room_batch *b,
	       uint64_t index, struct frame **out, char *err);

/* Free b's frames (b itself is the caller's). */
void room_batch_clear(struct room_batch *b);

/* Call fn for every room (fn must not free rooms). */
void rooms_each(struct rooms *rs, void (*fn)(void *ctx, struct room *r), void *ctx);

/* Free every room without followers. */
void rooms_gc(struct rooms *rs);

/* Free every room (at exit; followers must be gone). */
void rooms_free(struct rooms *rs);

#endif
