/* store.h - the Berkeley DB store: rooms, messages, users, memberships, cursors. */
#ifndef BP_STORE_H
#define BP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
	uint64_t changes;	/* seq of the room's last hide/show, 0 = none */
	uint64_t queued;	/* last queue id handed out, 0 = none */
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
 * Groups (issue 12, docs/DESIGN.md "Groups"). store_open_group with g
 * (copied; NULL or g->nsites 0: store_open) opens the site's replicated
 * environment (group.h) as role says: the site's replication process is
 * bookpics-replicator, the relay takes no part in the replication (a
 * process of Berkeley DB 5.3's replication manager can hold no descriptor
 * above FD_SETSIZE) and hands its writes to the replicator (replink.h);
 * every other process is a subordinate. Opening waits up to
 * STORE_GROUP_JOIN_MS for a role: the master creates the databases if
 * they are new, a client waits for them to arrive from the master.
 *
 * Every write (store_run) at a site that is not the master is carried to
 * the master, run there by the same op, and returns only once committed
 * there with the acknowledgements of group_ack. While no master is known
 * it waits (100 ms steps, 5 s at most), then fails with
 * store_unavailable(s) = 1; so it does when the master did not answer in
 * GROUP_REQUEST_US (it may have stored it), and when the commit was not
 * acknowledged in GROUP_ACK_US (it is stored at the master): the caller
 * answers 503, and a retry of a MessageSid finds it (store_append's 0).
 * Reads are served from the site's own copy. Connections (store_conn_*)
 * are keyed "group_self/conn": a relay's store_conn_clear clears its
 * site's only.
 */
#define STORE_GROUP_JOIN_MS 20000
struct group_conf;
struct group_status;

/* A process's part in its site's group. */
enum store_role {
	STORE_SUBORDINATE,	/* the web programs, bookpics-admin: repmgr subordinates */
	STORE_REPLICATOR,	/* bookpics-replicator: the site's replication process */
	STORE_RELAYED,		/* the relay: no repmgr; its writes through the replicator */
};
struct store *store_open_group(const char *home, const struct group_conf *g,
			       enum store_role role, char *err);

/*
 * In bookpics-replicator (STORE_REPLICATOR): run one write the relay sent
 * (a STORE_RELAYED store's store_forward packed it) as this process's own
 * write: forwarded to the master or run here, answered once this site has
 * it. The answer, malloc'd into *out (*outlen bytes), says how it went
 * (the relay's store_run returns that). Returns 0, or -1 (no answer could
 * be made: out of memory, or not a replicator).
 */
int store_serve_relay(struct store *s, const void *req, size_t len, void **out, size_t *outlen);
/*
 * Create a group's site environment in home, configured for g, with no
 * database and no replication started (bookpics-admin init: the
 * supervisor checks an environment before the relay starts). 0 or -1.
 */
int store_group_create(const char *home, const struct group_conf *g, char *err);
/* 1 when the last write on s failed for want of a master or of its acks (answer 503). */
int store_unavailable(const struct store *s);
/* 1 when s is a group's site. */
int store_grouped(const struct store *s);
/* group_status (group.h) of s's site; -1 with err when not a group or on failure. */
int store_group_status(struct store *s, int lsns, struct group_status *out, char *err);
/* The end of the site's log (group_lsn), 0 when not a group: the relay's probe. */
uint64_t store_group_lsn(struct store *s);
/*
 * Remove the site addr (HOST:PORT) from s's group (group_remove: at the
 * master or at a client). Refused, nothing changed, -1 with err: s is not
 * a group's site; addr is this site (group_self): a running site removed
 * leaves the group's replication at once (Berkeley DB's "bow out": its
 * relay and programs keep serving an old copy, every write 503), so the
 * operator stops a site and removes it from another; and group_remove's
 * refusals (not a member, no master, the master). 0 once the master
 * confirmed.
 */
int store_group_remove(struct store *s, const char *addr, char *err);

/*
 * Disk full. Every write first checks the free space of home's filesystem
 * (statvfs): under STORE_FREE_MIN bytes it fails at once, before Berkeley
 * DB writes anything, so a full disk costs a refused write, never a
 * half-done one. Each process also reserves the blocks of the region files
 * at open (fallocate up to what Berkeley DB maps): a full disk can no
 * longer fault inside the shared memory. store_full: 1 when the last call
 * on s failed for want of space (that check, or ENOSPC/EDQUOT/EFBIG from
 * Berkeley DB): the caller answers "unavailable, retry later", not
 * "internal error". (A store_open that fails gives no handle at all: the
 * store is unavailable either way.) Nothing is remembered: once space
 * returns, the next write succeeds with no one involved.
 */
#define STORE_FREE_MIN (4 * 1024 * 1024)
int store_full(const struct store *s);
/* The check alone (health): 0 enough space, -1 with err naming what is free. */
int store_space(struct store *s, char *err);

/*
 * Periodic upkeep, from one process (the relay's timer): clear locks and
 * transactions of processes that died (failchk), checkpoint, and let
 * Berkeley DB remove log files no longer needed. Skipped (-1, err says
 * so) while the disk is under STORE_FREE_MIN. Bounded in time: a call
 * stuck for MAINTAIN_SECS (a process died inside the library) ends this
 * process by SIGALRM, for its supervisor to restart after recovery,
 * rather than freezing the caller's event loop. Returns 0/-1.
 */
int store_maintain(struct store *s, char *err);

/* What /api/metrics reports of the environment (store_log_info). */
struct store_log_info {
	uint64_t log_bytes;	/* in the log files on disk now */
	uint64_t log_files;
	int64_t checkpoint_time;	/* Unix time the last checkpoint finished */
};

/*
 * Fill out from Berkeley DB's own statistics (log_archive for the log files
 * still there, txn_stat for the checkpoint): no transaction, no lock held
 * past the call. Returns 0, or -1 with err filled.
 */
int store_log_info(struct store *s, struct store_log_info *out, char *err);

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
 * store_append for a chat post that carries a client key (Idempotency-Key,
 * clientMessageId; chat.h checks its characters): key (1 to
 * STORE_CLIENT_KEY_MAX bytes) is user's own, so (user, key) names one post
 * whatever the room or the way it came (HTTP or WebSocket, any site of a
 * group). fp is STORE_FP_LEN bytes naming what was posted (chat.c: a hash
 * of the type and text), kept with the key in sids.db as a MessageSid is.
 * Returns 1 appended; 0 a retry: the same (user, key) with the same room
 * and fp was appended before, nothing is stored and *index is the first
 * one's (in a group, answered only once the group has acknowledged it, as
 * a MessageSid's retry); STORE_KEY_REUSED: the key was used for another
 * room or fp, nothing stored, *index 0; -1 error (unknown room included).
 */
#define STORE_CLIENT_KEY_MAX 64
#define STORE_FP_LEN 32
#define STORE_KEY_REUSED 2
int store_append_keyed(struct store *s, const char *room, const char *user, const char *key,
		       const unsigned char *fp, const char *record, size_t len,
		       uint64_t *index, char *err);

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

/* One delivery cursor of store_cursor_batch. */
struct store_cursor {
	const char *user, *room;
	uint64_t index;
};

/*
 * Every cursor of list (n of them) set as store_cursor_set sets it (never
 * backwards), in one transaction: the relay's tick writes all the cursors
 * that moved with one write, which in a group is one round trip to the
 * master instead of one per user and room. n 0: nothing, 0. Returns 0, or
 * -1 with err (an invalid name: nothing written; the store; no master):
 * the caller keeps them to try again.
 */
int store_cursor_batch(struct store *s, const struct store_cursor *list, size_t n, char *err);

/*
 * Live connections (written by the relay): conn id -> user id. clear drops
 * them all (the relay at start: no connection survives it) but those whose
 * id starts with keep (NULL: none kept): a group's relay may only reach
 * the master after its first clients came, and keeps its own (ids start
 * with the relay's random prefix). users gives the
 * user ids of every live connection, sorted, with repeats (a group's:
 * of every site that counts, store_conn_claim).
 */
int store_conn_add(struct store *s, const char *conn, const char *user, char *err);
int store_conn_remove(struct store *s, const char *conn, char *err);
int store_conn_clear(struct store *s, const char *keep, char *err);
int store_conn_users(struct store *s, char ***users, size_t *n, char *err);

/* ---- since bookpics 0.13 ---- */

/*
 * The store's schema: meta.db "schema" holds it (decimal text). store_open
 * writes it into a new store, upgrades an older store to it (0 -> 1 only
 * writes the version: older records read compatibly), and refuses a store
 * with a newer schema, naming both versions (no retry: it cannot change).
 */
#define STORE_SCHEMA 1

/* STORE_SCHEMA; *was (may be NULL): what store_open found (0: none). */
int store_schema(struct store *s, int *was);

/* The wall clock in microseconds since 1970 (revocations, connections). */
uint64_t store_now_us(void);

/*
 * Tokens: a user's "not before" time (µs). A token issued before it is
 * refused (app_token_user). Set to the creation time by store_user_add.
 * not_before: 1 (*us filled; 0 for a user of schema 0), 0 no such user,
 * -1. revoke: sets it to us unless it is later already; 1 done, 0 no such
 * user, -1.
 */
int store_user_not_before(struct store *s, const char *id, uint64_t *us, char *err);
int store_user_revoke(struct store *s, const char *id, uint64_t us, char *err);

/*
 * Remove user id with its memberships (both directions) and cursors, in one
 * transaction; its tokens then fail ("unknown user"). Messages it sent
 * stay. Returns 1 removed, 0 no such user, -1.
 */
int store_user_remove(struct store *s, const char *id, char *err);

/* One live connection record, as the relay wrote it. */
struct store_conn {
	char conn[64];			/* the connection id */
	char user[STORE_NAME_MAX + 1];
	uint64_t since_us;		/* when it connected (µs), 0 if unknown */
	int replaces;			/* opened by store_conn_replace */
};

/*
 * Hot backup of s's environment into directory target (created; it must
 * not hold an earlier backup): a checkpoint, then DB_ENV->backup (the
 * database files, then the logs) while other processes keep writing.
 * Open the copy only after store_recover. Returns 0/-1.
 */
int store_backup(struct store *s, const char *target, char *err);

/*
 * Catastrophic recovery (DB_RECOVER_FATAL) of the environment in home, a
 * copy no process has open: replays its whole log, so a hot backup comes
 * out consistent with every transaction it holds. Returns 0/-1.
 */
int store_recover(const char *home, char *err);

/* Every live connection, in connection id order, into a malloc'd array (free()). 0/-1. */
int store_conn_list(struct store *s, struct store_conn **conns, size_t *n, char *err);
/* ---- moderation (public rooms) ---- */

/*
 * Hide (hidden != 0) or show again message index of room, in one
 * transaction with the room's next change: changes.db gets
 * room \0 be64 seq -> {index, hidden} and the room's changes counter
 * becomes seq. The record keeps everything (msg_record_hidden sets or
 * clears its "hidden" flag), so the index stays and showing restores it.
 * Returns 1 changed (*seq, may be NULL, set), 0 already so (nothing
 * written, *seq = 0), -1 error (no such room or message included).
 */
int store_message_hide(struct store *s, const char *room, uint64_t index,
		       int hidden, uint64_t *seq, char *err);

/* One hide or show, in the room's sequence of changes (seq 1, 2, ...). */
struct store_change {
	uint64_t seq, index;
	int hidden;		/* 1 hidden, 0 shown again */
};

/*
 * At most limit changes of room with seq > after, oldest first, into a
 * malloc'd array (free()). Followers (the relay, hook outboxes) keep the
 * last seq they passed on, as they keep a message index. Returns 0/-1;
 * an unknown room has no changes.
 */
int store_changes(struct store *s, const char *room, uint64_t after, size_t limit,
		  struct store_change **out, size_t *n, char *err);

/*
 * The moderation queue (moderation = pre). A queued item is not in the
 * room: it has an id of its own (1, 2, ... per room, never reused).
 * add: like store_append, sid (may be NULL) makes it idempotent across
 * the queue and the room: a sid seen before (queued, approved, rejected,
 * or appended) stores nothing. Returns 1 queued (*id set), 0 duplicate
 * (*id = 0), -1 error (unknown room included).
 */
int store_queue_add(struct store *s, const char *room, const char *sid,
		    const char *record, size_t len, uint64_t *id, char *err);

/*
 * Every queued item of room, oldest first, as store_msg entries whose
 * index is the queue id (free with store_msgs_free). Returns 0/-1.
 */
int store_queue_list(struct store *s, const char *room, struct store_msg **items,
		     size_t *n, char *err);

/* One queued item: 1 found (*record malloc'd), 0 not, -1. */
int store_queue_get(struct store *s, const char *room, uint64_t id, char **record,
		    char *err);

/*
 * approve: append item id to room at the next index and take it off the
 * queue, in one transaction (the room's lock first, as store_append: any
 * number of concurrent approvals and appends stay gapless); its sid now
 * names the message. reject: drop it (its sid stays known, so a retried
 * webhook stores nothing). Return 1 done (*index set on approve), 0 no
 * such item, -1 error.
 */
int store_queue_approve(struct store *s, const char *room, uint64_t id,
			uint64_t *index, char *err);
int store_queue_reject(struct store *s, const char *room, uint64_t id, char *err);

/*
 * Moderators of a room (any room; the user and the room must exist).
 * add/remove: 1 changed, 0 already so, -1. is: 1/0/-1.
 */
int store_moderator_add(struct store *s, const char *user, const char *room, char *err);
int store_moderator_remove(struct store *s, const char *user, const char *room, char *err);
int store_is_moderator(struct store *s, const char *user, const char *room, char *err);

/*
 * Blocked senders, by the keyed hash of their full number (64 lowercase
 * hex digits, HMAC-SHA256: webhook.c); the number itself is never stored.
 * block: note (what the operator sees, e.g. "USER\tROOM\tINDEX", no
 * number) is kept beside it; 1 blocked, 0 already, -1. unblock: 1/0/-1.
 * blocked: 1/0/-1. list: "HASH\tNOTE" lines in hash order (free with
 * store_strings_free), 0/-1.
 */
#define STORE_SENDER_HEX 64
int store_sender_block(struct store *s, const char *hash, const char *note, char *err);
int store_sender_unblock(struct store *s, const char *hash, char *err);
int store_sender_blocked(struct store *s, const char *hash, char *err);
int store_sender_list(struct store *s, char ***lines, size_t *n, char *err);

/*
 * Count one post of sender hash to room at time now if the sender is
 * under limit posts in the last hour (a sliding hour estimated from two
 * hourly windows). Windows older than the previous hour are deleted as
 * calls go by, so the table stays bounded by about two hours of senders.
 * Returns 1 counted (allowed), 0 over the limit (nothing counted), -1.
 */
int store_rate_take(struct store *s, const char *room, const char *hash, long limit,
		    time_t now, char *err);

/* ---- event hooks (bookpics-hooks, docs/HOOKS.md) ---- */

/*
 * A group's anonymous connections, written together (the relay's batch,
 * docs/DESIGN.md "Groups"): every id of opens (NUL-terminated ids,
 * open_len bytes in all) added as store_conn_open adds it, then every id
 * of closes removed as store_conn_close does, each with its event when
 * event is set, in one transaction (at the master). Opens first: a
 * connection opened and closed between two batches leaves no record and
 * both its events. Returns 0, or -1 with err (a single site; a bad list;
 * the store; no master: the caller keeps its lists and tries again, the
 * writes being idempotent).
 */
int store_conn_batch(struct store *s, const char *opens, size_t open_len, const char *closes,
		     size_t close_len, int event, char *err);

/*
 * Connections opened and closed, for the hooks: the relay's two calls.
 * open: store_conn_add, and when event is set also appends a connect
 * event to events.db, in the same transaction (so a hook never hears of
 * a connection presence does not know, and it costs one commit, not
 * two). close: store_conn_remove, and with event set a disconnect event
 * (user: the connection's user, "" anonymous). Events are numbered 1, 2,
 * ... over the whole site (meta.db "event_seq"), never reused, even after
 * delivered ones are deleted. Returns 0/-1.
 */
int store_conn_open(struct store *s, const char *conn, const char *user, int event,
		    char *err);
int store_conn_close(struct store *s, const char *conn, const char *user, int event,
		     char *err);

/*
 * A group's duplicate-connection rule (docs/DESIGN.md "Groups"). A
 * connection counts while its site is not in the sites-down list the
 * master's relay keeps (store_sites_down_set: the sites the master's
 * replication process is not connected to). Single site: claim is
 * store_conn_open (1), gen 0, superseded none, set refuses nothing.
 *
 * replace: store_conn_open of a connection opened with
 * duplicate_connections = replace: the user's older connections at other
 * sites are superseded by it. 0/-1.
 * claim: store_conn_open, but at the master and in the same transaction
 * only if user ("" anonymous: always) has no connection at another
 * counting site. Returns 1 added, 0 refused (nothing written), -1.
 * sites_down_set: the list, ",A:1,B:2," ("" none), by the master's
 * relay when it changes. 0/-1.
 * conn_gen: a counter every connection opened in the group moves (one
 * read): relays look for superseded connections only when it moved.
 * 0/-1.
 * superseded: this site's connections (ids as the relay gave them, with
 * their users) whose user has a newer one opened by store_conn_replace
 * at another counting site (newer: the since the master stamped), as a
 * malloc'd array (free()).
 * 0/-1.
 */
int store_conn_claim(struct store *s, const char *conn, const char *user, int event,
		     char *err);
int store_conn_replace(struct store *s, const char *conn, const char *user, int event,
		       char *err);
int store_sites_down_set(struct store *s, const char *down, char *err);
int store_conn_gen(struct store *s, uint64_t *gen, char *err);
int store_conn_superseded(struct store *s, struct store_conn **out, size_t *n, char *err);

enum store_event_kind { STORE_EVENT_CONNECT = 1, STORE_EVENT_DISCONNECT = 2 };

struct store_event {
	uint64_t seq;
	uint64_t time_us;		/* when it happened (µs since 1970) */
	int kind;			/* enum store_event_kind */
	char conn[64];
	char user[STORE_NAME_MAX + 1];	/* "" anonymous */
};

/*
 * At most limit events with seq > after, oldest first, into a malloc'd
 * array (free()). Returns 0/-1.
 */
int store_events(struct store *s, uint64_t after, size_t limit,
		 struct store_event **out, size_t *n, char *err);

/*
 * The hook deliverer's cursors (hooks.db): what it has had a 2xx for.
 * STORE_HOOK_MSG: last message index of room; STORE_HOOK_CHANGE: last
 * change seq of room; STORE_HOOK_EVENTS: last event seq (room ignored,
 * may be NULL). get: 1 found (*v set), 0 none (*v = 0), -1. set: stores v
 * (never backwards); for STORE_HOOK_EVENTS it also deletes the events up
 * to v in the same transaction, so events.db holds only what is owed.
 * Returns 0/-1.
 */
enum store_hook_cursor { STORE_HOOK_MSG = 'm', STORE_HOOK_CHANGE = 'c', STORE_HOOK_EVENTS = 'e' };
int store_hook_get(struct store *s, int which, const char *room, uint64_t *v, char *err);
int store_hook_set(struct store *s, int which, const char *room, uint64_t v, char *err);

/*
 * The deliverer's first start (no "init" key in hooks.db): in one
 * transaction, set every existing room's cursors to its last index and
 * last change (hooks tell what happens from now on, not the history) and
 * write "init". A room with no cursor later is a new one: followed from
 * its start. Returns 1 initialised now, 0 already was, -1.
 */
int store_hook_init(struct store *s, char *err);

#endif
