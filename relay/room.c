/* room.c - followed rooms: head index, followers, each message serialized once. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hash.h"
#include "room.h"

static size_t bucket_of(const char *name)
{
	return hash_fnv1a(name) % ROOM_BUCKETS;
}

struct room *room_find(struct rooms *rs, const char *name)
{
	struct room *r;

	for (r = rs->bucket[bucket_of(name)]; r; r = r->hnext)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

static void room_free(struct room *r)
{
	size_t i;

	for (i = 0; i < ROOM_CACHE; i++)
		frame_free(r->cache[i].f);
	for (i = 0; i < r->nchg; i++)
		frame_free(r->chg[i].f);
	free(r->chg);
	free(r);
}

/* ---- moderation: the net state of the room's changes ---- */

#define CHANGES_PAGE 512	/* changes read from the store at a time */

static void cache_drop(struct room *r, size_t slot)
{
	frame_free(r->cache[slot].f);
	r->cache[slot].f = NULL;
	r->cache[slot].index = 0;
}

/* Remove entry i of the net state. */
static void change_remove(struct room *r, size_t i)
{
	frame_free(r->chg[i].f);
	memmove(&r->chg[i], &r->chg[i + 1], (r->nchg - i - 1) * sizeof(r->chg[0]));
	r->nchg--;
}

/*
 * Learn change c (seq > r->changes): its index's entry moves to the end
 * with the new state, and the index's cached frame goes (it may show
 * content now hidden). Returns 0, or -1 with err (no memory: r unchanged).
 */
static int change_apply(struct room *r, const struct store_change *c, char *err)
{
	struct room_change *p;
	size_t i, cap;

	if (r->nchg == r->chg_cap && r->chg_cap < ROOM_CHANGES) {
		cap = r->chg_cap ? r->chg_cap * 2 : 16;
		if (cap > ROOM_CHANGES)
			cap = ROOM_CHANGES;
		p = realloc(r->chg, cap * sizeof(*p));
		if (!p)
			return err_set(err, "room %s: out of memory for its changes", r->name);
		r->chg = p;
		r->chg_cap = cap;
	}
	if (r->cache[c->index % ROOM_CACHE].index == c->index)
		cache_drop(r, c->index % ROOM_CACHE);
	for (i = 0; i < r->nchg; i++) {
		if (r->chg[i].index == c->index) {
			change_remove(r, i);
			break;
		}
	}
	if (r->nchg == ROOM_CHANGES)
		change_remove(r, 0);	/* the index changed longest ago */
	r->chg[r->nchg].seq = c->seq;
	r->chg[r->nchg].index = c->index;
	r->chg[r->nchg].hidden = c->hidden;
	r->chg[r->nchg].f = NULL;
	r->nchg++;
	r->changes = c->seq;
	return 0;
}

/* Read and apply the changes after r->changes up to seq upto. */
static int changes_load(struct room *r, struct store *s, uint64_t upto, char *err)
{
	struct store_change *ch;
	size_t n, i, slot;
	uint64_t after;
	int ret = 0;

	while (!ret && r->changes < upto) {
		after = r->changes;
		if (upto - after > ROOM_CHANGES) {
			/*
			 * More than the net state holds: start at the last
			 * ROOM_CHANGES. The indexes of those skipped are not
			 * known, so no cached frame can be trusted.
			 */
			after = upto - ROOM_CHANGES;
			for (slot = 0; slot < ROOM_CACHE; slot++)
				cache_drop(r, slot);
		}
		if (store_changes(s, r->name, after, CHANGES_PAGE, &ch, &n, err))
			return -1;
		if (!n) {
			free(ch);
			return err_set(err, "room %s: changes %llu..%llu missing from the store",
				       r->name, (unsigned long long)after + 1,
				       (unsigned long long)upto);
		}
		for (i = 0; i < n && !ret; i++)
			if (ch[i].seq > r->changes)
				ret = change_apply(r, &ch[i], err);
		free(ch);
	}
	return ret;
}

struct room_change *room_change_next(struct room *r, uint64_t after, uint64_t below)
{
	size_t lo = 0, hi = r->nchg, mid;

	while (lo < hi) {	/* the first entry with seq > after */
		mid = lo + (hi - lo) / 2;
		if (r->chg[mid].seq <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < r->nchg; lo++)
		if (r->chg[lo].index < below)
			return &r->chg[lo];
	return NULL;
}

int room_change_frame(struct room *r, struct store *s, struct room_change *c,
		      struct frame **out, char *err)
{
	char *record = NULL;
	int found, hidden = 1;

	if (c->f) {
		*out = c->f;
		return 1;
	}
	if (!c->hidden) {
		found = store_message_get(s, r->name, c->index, &record, err);
		if (found < 0)
			return -1;
		if (!found)
			return err_set(err, "room %s: message %llu missing from the store",
				       r->name, (unsigned long long)c->index);
		c->f = frame_typed_message(r->name, c->index, record, "shown", &hidden, err);
		free(record);
		if (!c->f)
			return -1;
		if (hidden) {	/* hidden again meanwhile: its change is on its way */
			frame_free(c->f);
			c->f = NULL;
		}
	}
	if (!c->f && !(c->f = frame_hidden(r->name, c->index)))
		return err_set(err, "room %s: out of memory for a hidden frame", r->name);
	*out = c->f;
	return 1;
}

int room_get(struct rooms *rs, struct store *s, const char *name,
	     struct room **out, char *err)
{
	struct store_room info;
	struct room *r;
	size_t b;
	int found;

	*out = room_find(rs, name);
	if (*out)
		return 1;
	if (!store_name_ok(name))
		return 0;
	found = store_room_get(s, name, &info, err);
	if (found <= 0)
		return found;
	r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(err, "room_get: out of memory");
	memcpy(r->name, info.name, sizeof(r->name));
	r->is_public = info.is_public;
	r->last = info.last;
	r->followers.prev = r->followers.next = &r->followers;
	if (changes_load(r, s, info.changes, err)) {
		room_free(r);
		return -1;
	}
	b = bucket_of(r->name);
	r->hnext = rs->bucket[b];
	rs->bucket[b] = r;
	rs->n++;
	*out = r;
	return 1;
}

void room_follow(struct room *r, struct room_link *l)
{
	l->next = &r->followers;
	l->prev = r->followers.prev;
	r->followers.prev->next = l;
	r->followers.prev = l;
	r->nfollowers++;
}

void room_unfollow(struct room *r, struct room_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = NULL;
	r->nfollowers--;
}

int room_advance(struct room *r, uint64_t last)
{
	if (last <= r->last)
		return 0;
	r->last = last;
	return 1;
}

int room_refresh(struct room *r, struct store *s, char *err)
{
	struct store_room info;
	int found = store_room_get(s, r->name, &info, err), moved = 0;

	if (found < 0)
		return -1;
	if (!found)
		return 0;	/* rooms are never deleted; nothing to learn */
	if (info.changes > r->changes) {
		if (changes_load(r, s, info.changes, err))
			return -1;
		moved = 1;
	}
	return room_advance(r, info.last) || moved;
}

void room_batch_clear(struct room_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		frame_free(b->f[i]);
	b->n = 0;
	b->first = 0;
	b->changes = 0;
}

/* Read messages index.. (at most limit) from the store, oldest first. */
static int load(struct room *r, struct store *s, uint64_t index, size_t limit,
		struct store_msg **msgs, size_t *n, char *err)
{
	if (store_messages(s, r->name, STORE_ASC, index - 1, limit, msgs, n, err))
		return -1;
	if (!*n || (*msgs)[0].index != index) {
		/* gapless by construction: a hole means a broken store */
		err_set(err, "room %s: message %llu missing from the store",
			r->name, (unsigned long long)index);
		store_msgs_free(*msgs, *n);
		return -1;
	}
	return 0;
}

/* Fill the cache from index up (near the head: every follower shares it). */
static int fill_cache(struct room *r, struct store *s, uint64_t index, char *err)
{
	struct store_msg *msgs;
	struct frame *f;
	size_t n, i, slot;
	int ret = -1;

	if (load(r, s, index, ROOM_CACHE, &msgs, &n, err))
		return -1;
	for (i = 0; i < n; i++) {
		slot = msgs[i].index % ROOM_CACHE;
		if (r->cache[slot].f && r->cache[slot].index >= msgs[i].index)
			continue;
		f = frame_message(r->name, msgs[i].index, msgs[i].record, err);
		if (!f)
			goto out;
		frame_free(r->cache[slot].f);
		r->cache[slot].f = f;
		r->cache[slot].index = msgs[i].index;
		room_advance(r, msgs[i].index);
	}
	ret = 0;
out:
	store_msgs_free(msgs, n);
	return ret;
}

/* Fill b from index up (far behind: this follower's own frames). */
static int fill_batch(struct room *r, struct store *s, struct room_batch *b,
		      uint64_t index, char *err)
{
	struct store_msg *msgs;
	size_t n, i;
	int ret = -1;

	room_batch_clear(b);
	if (load(r, s, index, ROOM_BATCH, &msgs, &n, err))
		return -1;
	for (i = 0; i < n && msgs[i].index == index + i; i++) {
		b->f[i] = frame_message(r->name, msgs[i].index, msgs[i].record, err);
		if (!b->f[i])
			goto out;
		b->n = i + 1;
	}
	b->first = index;
	b->changes = r->changes;
	ret = 0;
out:
	if (ret)
		room_batch_clear(b);
	store_msgs_free(msgs, n);
	return ret;
}

int room_frame(struct room *r, struct store *s, struct room_batch *b,
	       uint64_t index, struct frame **out, char *err)
{
	size_t slot = index % ROOM_CACHE;

	if (r->cache[slot].f && r->cache[slot].index == index) {
		*out = r->cache[slot].f;
		room_batch_clear(b);	/* caught up with the cache */
		return 1;
	}
	if (index + ROOM_CACHE > r->last) {
		if (fill_cache(r, s, index, err))
			return -1;
		*out = r->cache[slot].f;
		room_batch_clear(b);
		return 1;
	}
	if (!b->n || index < b->first || index >= b->first + b->n ||
	    b->changes != r->changes) {
		if (fill_batch(r, s, b, index, err))
			return -1;
	}
	*out = b->f[index - b->first];
	return 1;
}

void rooms_each(struct rooms *rs, void (*fn)(void *ctx, struct room *r), void *ctx)
{
	struct room *r;
	size_t i;

	for (i = 0; i < ROOM_BUCKETS; i++)
		for (r = rs->bucket[i]; r; r = r->hnext)
			fn(ctx, r);
}


void rooms_gc(struct rooms *rs)
{
	struct room **pp, *r;
	size_t i;

	for (i = 0; i < ROOM_BUCKETS; i++) {
		pp = &rs->bucket[i];
		while ((r = *pp)) {
			if (r->nfollowers) {
				pp = &r->hnext;
				continue;
			}
			*pp = r->hnext;
			rs->n--;
			room_free(r);
		}
	}
}

void rooms_free(struct rooms *rs)
{
	struct room *r;
	size_t i;

	for (i = 0; i < ROOM_BUCKETS; i++) {
		while ((r = rs->bucket[i])) {
			rs->bucket[i] = r->hnext;
			room_free(r);
		}
	}
	rs->n = 0;
}
