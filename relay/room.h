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

/*
 * Moderation (docs/PROTOCOL.md, "hidden and shown"): a room keeps the net
 * state of its changes (hide/show, store_changes), one entry per changed
 * index, the last change winning, at most ROOM_CHANGES entries (the
 * indexes changed most recently). It is built from the room's last
 * ROOM_CHANGES changes when the room is first followed and kept up from
 * then on, so a catch-up replays it from memory, not the store.
 */
#define ROOM_CHANGES 4096

/* A link in a room's list of followers, embedded in the follower. */
struct room_link {
	struct room_link *prev, *next;
};

/* The last change of one index: the room's net state of moderation. */
struct room_change {
	uint64_t seq;		/* the change's seq in the room (store_changes) */
	uint64_t index;
	int hidden;		/* 1 hidden, 0 shown again */
	struct frame *f;	/* its hidden/shown frame, owned, made when first sent */
};

struct room {
	char name[STORE_NAME_MAX + 1];
	int is_public;
	uint64_t last;			/* highest index known to exist */
	uint64_t changes;		/* seq of the last change known, 0 = none */
	struct room_change *chg;	/* net state, by seq ascending; owned */
	size_t nchg, chg_cap;
	struct room_link followers;	/* circular list, this is the head */
	size_t nfollowers;
	struct room *hnext;		/* hash chain */
	struct {
		uint64_t index;
		struct frame *f;	/* owned; NULL = empty slot */
	} cache[ROOM_CACHE];		/* slot = index % ROOM_CACHE */
};

/*
 * A far-behind follower's own frames: indexes first .. first+n-1, read
 * when the room's changes were at `changes` (any change since makes the
 * batch stale: a hidden message's content must not go out from it).
 */
struct room_batch {
	uint64_t first;
	uint64_t changes;
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

/*
 * Re-read the room's head and its changes from the store: 1 either moved,
 * 0 not, -1 with err. Each new change updates the net state and drops the
 * cached frame of its index, so the message goes out as it is now.
 */
int room_refresh(struct room *r, struct store *s, char *err);

/*
 * The first entry of the net state with seq > after and index < below (a
 * message the follower has been sent), or NULL. Valid until the next
 * room_refresh or room_get of r.
 */
struct room_change *room_change_next(struct room *r, uint64_t after, uint64_t below);

/*
 * The frame of c (an entry of r): {"type":"hidden","room","index"}, or
 * {"type":"shown",...the public message} read from the store; a message
 * hidden again meanwhile gives the hidden frame (its change follows).
 * Owned by c. Returns 1 with *out set, or -1 with err (try again later).
 */
int room_change_frame(struct room *r, struct store *s, struct room_change *c,
		      struct frame **out, char *err);

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
