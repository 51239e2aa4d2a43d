/* store.h - the Berkeley DB store: rooms, messages, users, memberships, cursors. */
#ifndef BP_STORE_H
#define BP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "name.h"

#define STORE_NAME_MAX NAME_LEN_MAX	/* room, user and connection ids (name.h) */

/*
 * One environment in $VAR/db shared by every process (webhook, api, relay,
 * admin). Every write is one transaction committed with WRITE_NOSYNC: once a
 * function returns success, the change survives a crash of any process.
 * Deadlocks and lock timeouts are retried inside; a panicked environment
 * (another process died and recovery ran) is closed and reopened inside, so
 * callers see only success or a real failure. Not thread-safe: one handle per
 * process (every bookpics program is single-threaded).
 */
struct store;

struct store_room {
	char name[STORE_NAME_MAX + 1];
	int is_public;
	uint64_t last;		/* highest index, 0 = empty */
};

struct store_msg {
	uint64_t index;
	char *record;		/* stored JSON (see msg.h), NUL-terminated, owned */
	size_t len;
};

/*
 * Is name a valid room/user id? name_ok (name.h) under the store's prefix,
 * for the store's own checks and its callers; the rule lives in name.c.
 */
static inline int store_name_ok(const char *name)
{
	return name_ok(name);
}

/*
 * Open (creating if needed) the environment in directory home. Returns a
 * handle, or NULL with err filled. store_close(NULL) is a no-op.
 */
struct store *store_open(const char *home, char *err);
void store_close(struct store *s);

/*
 * Periodic upkeep, from one process (the relay's timer): clear locks and
 * transactions of processes that died (failchk), checkpoint, and let
 * Berkeley DB remove log files no longer needed. Returns 0/-1.
 */
int store_maintain(struct store *s, char *err);

/* Rooms. add: 1 created, 0 already there (unchanged), -1 error. */
int store_room_add(struct store *s, const char *name, int is_public, char *err);
/* get: 1 found (*out filled), 0 no such room, -1 error. */
int store_room_get(struct store *s, const char *name, struct store_room *out, char *err);
/* All rooms in name order into a malloc'd array (*n entries); free() it. */
int store_room_list(struct store *s, struct store_room **rooms, size_t *n, char *err);

/*
 * Append record (len bytes of JSON) to room as index last+1, in one
 * transaction with the room's new last. sid (may be NULL) makes it
 * idempotent: a sid seen before stores nothing and gives the earlier index.
 * Returns 1 appended, 0 duplicate sid, -1 error (unknown room included);
 * *index is set on 1 and 0.
 */
int store_append(struct store *s, const char *room, const char *sid,
		 const char *record, size_t len, uint64_t *index, char *err);

/*
 * A page of at most limit messages of room into a malloc'd array (free with
 * store_msgs_free). STORE_ASC: index > from, oldest first. STORE_DESC:
 * index < from, newest first; from = 0 means from the newest. Returns 0/-1;
 * an unknown room is an empty page (check the room first).
 */
enum store_dir { STORE_ASC, STORE_DESC };
int store_messages(struct store *s, const char *room, enum store_dir dir,
		   uint64_t from, size_t limit, struct store_msg **msgs,
		   size_t *n, char *err);
void store_msgs_free(struct store_msg *msgs, size_t n);

/* One message: 1 found (*record malloc'd, NUL-terminated), 0 not, -1. */
int store_message_get(struct store *s, const char *room, uint64_t index,
		      char **record, char *err);

/* Users. add: 1 created, 0 existed, -1. exists: 1/0/-1. */
int store_user_add(struct store *s, const char *id, char *err);
int store_user_exists(struct store *s, const char *id, char *err);
/* All user ids, sorted, as a malloc'd array of malloc'd strings. */
int store_user_list(struct store *s, char ***ids, size_t *n, char *err);
void store_strings_free(char **v, size_t n);

/*
 * Membership, kept in both directions in one transaction. add/remove:
 * 1 changed, 0 already so, -1 error (unknown user or room included).
 * add also sets the user's cursor in the room to the room's last index:
 * a member is owed every message sent after joining, even before the
 * first connection.
 */
int store_member_add(struct store *s, const char *user, const char *room, char *err);
int store_member_remove(struct store *s, const char *user, const char *room, char *err);
int store_is_member(struct store *s, const char *user, const char *room, char *err);
/*
 * A user's rooms / a room's members, sorted in strcmp order (presence
 * merges a room's members with store_conn_users). Free with
 * store_strings_free. Returns 0/-1.
 */
int store_user_rooms(struct store *s, const char *user, char ***rooms, size_t *n, char *err);
int store_room_members(struct store *s, const char *room, char ***users, size_t *n, char *err);

/*
 * Delivery cursors: the last index delivered to user in room. get: 1 found,
 * 0 none (*index = 0), -1. set: stores index (never moves it backwards:
 * a stale writer cannot cause a replay), 0/-1.
 */
int store_cursor_get(struct store *s, const char *user, const char *room,
		     uint64_t *index, char *err);
int store_cursor_set(struct store *s, const char *user, const char *room,
		     uint64_t index, char *err);

/*
 * Live connections (written by the relay): conn id -> user id. clear drops
 * them all (the relay at start: no connection survives it). list gives the
 * user ids of every live connection, sorted, with repeats.
 */
int store_conn_add(struct store *s, const char *conn, const char *user, char *err);
int store_conn_remove(struct store *s, const char *conn, char *err);
int store_conn_clear(struct store *s, char *err);
int store_conn_users(struct store *s, char ***users, size_t *n, char *err);

/* The wall clock in microseconds since 1970 (revocations). */
uint64_t store_now_us(void);

/*
 * Tokens: a user's "not before" time (µs). A token issued before it is
 * refused (app_token_user). A user record of 8 bytes (never revoked) has
 * none: 0. not_before: 1 (*us filled), 0 no such user, -1. revoke: sets
 * it to us unless it is later already (never backwards); 1 done, 0 no such
 * user, -1. The same interface as bookpics-admin's `token revoke` (branch
 * s13-admin-ops), which also sets it at store_user_add.
 */
int store_user_not_before(struct store *s, const char *id, uint64_t *us, char *err);
int store_user_revoke(struct store *s, const char *id, uint64_t us, char *err);

#endif
