/* session.h - inside the relay: what a session, a subscription and the vhd are, and who may change what. */
#ifndef BP_SESSION_H
#define BP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "app.h"
#include "fifo.h"
#include "frame.h"
#include "group.h"
#include "limit.h"
#include "relay.h"
#include "room.h"
#include "store.h"

/*
 * The relay's files, each holding one concern and sharing only this header
 * (relay.h is the face main() sees):
 *
 *   relay.c    the loop glue: the lws callback, the vhd's init and destroy,
 *              adopting the FIFO and its notices, the 1 s tick, keepalive
 *   admit.c    who may connect: the handshake check, the user index,
 *              duplicate connections, opening (hello) and closing a session
 *   client.c   what a client may say: its frames gathered, then the three
 *              actions, and the one "which room, may you read it" check
 *   request.c  the pure reading of one client frame (request.h, no lws)
 *   origin.c   may this Origin open a token connection (origin.h, pure)
 *   limit.c    token buckets for the rate limits (limit.h, pure)
 *   deliver.c  what goes out: own frames, subscriptions and their cursors,
 *              waking a room's followers, writing
 *   room.c     a followed room: head, followers, frame cache (room.h)
 *   frame.c    ready-to-send frames (frame.h)
 *
 * Functions carry their file's prefix (admit_, client_, deliver_).
 */

/*
 * Limits (docs/PROTOCOL.md): a client frame holds at most RX_MAX bytes over
 * all its fragments. The relay's own frames to a client (hello, ack, error)
 * wait in a short queue: past CTL_PAUSE the relay stops reading from that
 * client until the queue drains, past CTL_MAX it hangs up. Messages are
 * never queued per connection: a connection holds only its cursors.
 */
#define RX_MAX (64 * 1024)
#define CTL_PAUSE 16
#define CTL_MAX 256
#define WRITE_BURST 16		/* messages per WRITEABLE while the socket takes them */
#define USER_BUCKETS 1024

/*
 * The write path: a deliberate deviation from lws. lws's rule is to write
 * only from LWS_CALLBACK_SERVER_WRITEABLE, once per callback, and to ask
 * for the next one with lws_callback_on_writable(). The relay does not:
 *
 * - deliver_wake() writes a follower's next message right away, outside
 *   WRITEABLE, when the connection has nothing of its own waiting (no own
 *   frame, no ping, not closing) and lws holds no part of an earlier frame
 *   (lws_partial_buffered(), no system call). Otherwise it asks for
 *   WRITEABLE.
 * - deliver_write() (WRITEABLE) writes up to WRITE_BURST owed messages,
 *   and stops as soon as lws holds part of a frame.
 *
 * Why (docs/BENCHMARKS.md, 10,000 clients direct): with the libev loop a
 * WRITEABLE round trip per delivery costs two epoll_ctl (POLLOUT on, then
 * off) and an event, 19.7 us of relay CPU per delivered message against
 * 13.7-15.6 with direct writes; asking lws_send_pipe_choked() first is a
 * poll() per follower per message, 7% of the relay's CPU (11.8 -> 11.0 us
 * without it); a reconnecting client owed 100 messages would otherwise
 * cost 100 round trips (the catch-up rows).
 *
 * Why it is safe: a room's messages leave one cursor in index order, own
 * frames go first, and lws sends nothing of ours while it holds part of a
 * frame. A direct write that meets a full socket fails with EAGAIN; lws
 * keeps that one frame (buflist_out) and asks for POLLOUT itself, and the
 * next messages see lws_partial_buffered() and wait for WRITEABLE behind
 * it: one frame per slow connection, never a queue (t2001).
 *
 * It holds for WebSockets over HTTP/1 only, the one kind the relay serves
 * (main.c sets up no TLS, so lws negotiates no HTTP/2; lighttpd's /ws
 * proxies HTTP/1). Over HTTP/2
 * a WebSocket is a stream sharing the connection, and lws requires every
 * write to come from WRITEABLE: turning HTTP/2 on means giving this up.
 */

struct session;

/*
 * A room one connection follows and the next index it owes the client,
 * and the changes (hide/show) it owes: those of the room's net state
 * (room.h) after change_seq whose index is below next_index (a message
 * not sent yet goes out as it is now, so its changes need no frame).
 * Changes go before messages. change_seq starts at the room's last change
 * for a client that has nothing yet, and at 0 for one that comes back
 * with messages it already has (subscribe with "after", resume, a stored
 * cursor): it is then sent the current state of every changed index it
 * has. Owned by its session (ss->subs) and linked into room->followers for its
 * whole life, so a followed room is never freed (rooms_gc); made by
 * deliver_sub_add, freed only by deliver_sub_drop. high >= saved; saved is
 * in the store; the store is told high every tick and at close.
 */
struct sub {
	struct room_link link;	/* in room->followers; first member */
	struct room *room;
	struct session *ss;
	struct sub *next;	/* in ss->subs */
	uint64_t next_index;	/* next message owed; owed while <= room->last */
	uint64_t high;		/* highest index delivered (or claimed by resume) */
	uint64_t saved;		/* delivery cursor known to be in the store */
	uint64_t change_seq;	/* changes up to this seq are passed on */
	int member;		/* followed as a member: its cursor is kept */
	struct room_batch batch;	/* far behind: own frames from the store */
};

/*
 * Is sb owed a message, or maybe a change (whether that change needs a
 * frame is decided when writing)?
 */
static inline int sub_owed(const struct sub *sb)
{
	return sb->next_index <= sb->room->last || sb->change_seq < sb->room->changes;
}

/*
 * Per connection: lws allocates and zeroes it (per_session_data_size) and
 * frees it after CLOSED. vhd is set from ESTABLISHED (admit_open) until
 * CLOSED (admit_close); live: in vhd->sessions and the store's conns;
 * in_users: the user's connection in vhd->users (never for anonymous, and
 * no longer once replaced). Once close_code is set nothing more is read
 * and only the own frames, then the close, are written; once gone
 * nothing more is written at all.
 */
struct session {
	struct lws *wsi;
	struct vhd *vhd;	/* NULL until ESTABLISHED */
	char id[40];
	char user[STORE_NAME_MAX + 1];	/* "" = anonymous */
	int live;		/* in vhd->sessions and in the store's conns */
	int in_users;		/* in vhd->users: the user's live connection */
	struct session *next, *prev;	/* vhd->sessions */
	struct session *unext;		/* vhd->users chain */
	struct sub *subs;
	struct sub *rr;		/* round robin: the next sub to look at */
	struct frame *ctl, *ctl_tail;	/* own frames, sent before messages */
	size_t nctl;
	int rx_paused;
	int64_t opened;		/* ESTABLISHED (clock_coarse_ms), for the disconnect line */
	int64_t heard;		/* last frame or pong from the client (clock_coarse_ms) */
	int ping_due;		/* a ping to write before anything else */
	int pinged;		/* pinged since heard: wait for hangup_secs */
	int gone;		/* closing without us: write nothing more */
	int close_code;		/* after the own frames, close with this */
	const char *close_why;
	char *rx;		/* the client frame being received */
	size_t rx_len;
	int in_frame;		/* more fragments of a frame to come */
	int rx_binary;		/* the frame is binary: refused at its end */
	struct limit actions;	/* client.c: what its frames cost */
	struct limit_streak over;	/* client.c: refused lately, and since when */
};

/*
 * Per vhost (one): the store, the rooms, the connections, the FIFO. lws
 * allocates it at PROTOCOL_INIT (relay.c) and it lives until
 * PROTOCOL_DESTROY, after every session has closed.
 */
struct vhd {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	const struct lws_protocols *proto;
	struct relay_config *cfg;
	struct app app;
	struct rooms rooms;
	struct session *sessions;
	struct session *users[USER_BUCKETS];
	lws_sorted_usec_list_t sul;
	unsigned long ticks;
	lws_sorted_usec_list_t lsn_sul;	/* a group's site: the LSN probe (relay.c) */
	uint64_t lsn;			/* the end of the site's log at the last probe */
	int start_owed;			/* a group's site: the start writes (relay_start_writes) not done yet */
	int lsn_settle;			/* probes left to refresh after the log stopped */
	int ping_secs, hangup_secs;
	struct lws *fifo;	/* the adopted FIFO; NULL: reopened next tick */
	struct fifo_id fifo_id;
	struct fifo_reader nr;
	int bad_lines;
	char id_prefix[17];
	unsigned long long id_seq;
	/*
	 * The handshake CONFIRM_UPGRADE just admitted: ESTABLISHED follows in
	 * the same service call, so it need not check the token again.
	 */
	struct lws *admitted;
	char admitted_user[STORE_NAME_MAX + 1];
	/*
	 * A group's refuse (admit.c): the handshake whose connection is in
	 * the store already (store_conn_claim), with the id it got. Taken by
	 * its ESTABLISHED; one still here later never became a connection.
	 */
	struct lws *claimed;
	char claimed_id[40];
	char claimed_user[STORE_NAME_MAX + 1];
	size_t nusers;			/* sessions in users[] */
	uint64_t conn_gen;		/* store_conn_gen at the last look (replace) */
	struct limit_table posts;	/* client.c: sendMessage per user */
	/*
	 * A group's anonymous connections opened and closed since the last
	 * batch (admit_batch_flush): "id\0" each. One forwarded write per
	 * probe for all of them, instead of one per connection on the loop.
	 */
	struct admit_ids { char *p; size_t len, cap; } anon_opens, anon_closes;
	int batch_failures;		/* batches failed in a row (logged at the first) */
};

/* ---- admit.c: who may connect ---- */

/*
 * Who is connecting (headers still readable): 0 admitted with user filled
 * ("" = anonymous), else the HTTP status refusing it, with *code (static)
 * and msg filled.
 */
int admit_check(struct vhd *v, struct lws *wsi, char *user, const char **code,
		char *msg, size_t msglen);

/*
 * Answer an HTTP request (a refused upgrade, or plain HTTP) with status and
 * a JSON body {"error":code,"message":msg}, as the HTTP API does. Returns 1
 * when sent (lws then ends the transaction), -1 to hang up.
 */
int admit_refuse(struct lws *wsi, int status, const char *code, const char *msg);

/* ESTABLISHED: register the connection, follow its rooms, say hello. */
void admit_open(struct vhd *v, struct session *ss, struct lws *wsi);

/* CLOSED (or the vhost going away): forget the connection. */
void admit_close(struct vhd *v, struct session *ss);

/*
 * USER's tokens were revoked (or USER removed): close every live
 * connection of user with 4403 "token revoked" after what is queued for
 * it, storing its cursors first (unless the user is gone); it gets no
 * more messages.
 */
void admit_revoke(struct vhd *v, const char *user);

/*
 * A group's duplicate rule across sites (docs/DESIGN.md "Groups"):
 * claim_release: a claimed handshake that never reached ESTABLISHED
 * (the tick, and before the next claim) loses its store record.
 * superseded (the LSN probe, while it refreshes): close with 4000, as a
 * local replace does, every local connection whose user has a newer one
 * at another site opened there with duplicate_connections = replace (the
 * new connection's site decides, as a local new connection does); a
 * read only when a connection was opened somewhere (store_conn_gen) and
 * this site has users connected.
 */
void admit_claim_release(struct vhd *v);

/*
 * A group's site: write the anonymous connections opened and closed since
 * the last call (store_conn_batch), if any; on failure they are kept for
 * the next call. Never fails.
 */
void admit_batch_flush(struct vhd *v);

/* Free the batch's lists (the relay stops: its next start clears its records). */
void admit_batch_free(struct vhd *v);
void admit_superseded(struct vhd *v);

/* The first live connection of user after `from` (NULL: from the start). */
struct session *admit_user_next(struct vhd *v, const char *user, struct session *from);

/* ---- client.c: what a client may say ---- */

/* RECEIVE: gather fragments (at most RX_MAX bytes), then act on the frame. */
int client_receive(struct vhd *v, struct session *ss, const void *in, size_t len);

/* ---- deliver.c: what goes out ---- */

/*
 * Queue f (owned from now on) to go before any message. NULL is an
 * allocation failure: the connection is closed (1011) rather than left
 * without an answer it is waiting for.
 */
void deliver_own(struct session *ss, struct frame *f);

/* Queue {"type":"error","code":code,"message":...}. */
void deliver_error(struct session *ss, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Close with code (the first one asked for wins) after the own frames. */
void deliver_close(struct session *ss, int code, const char *why);

/*
 * Close ss from outside its own callback, with no close frame and nothing
 * more written to it: lws closes it on its next service.
 */
void deliver_drop(struct session *ss);

/* Is ss owed a message (or a change) in any room? */
int deliver_owed(const struct session *ss);

/*
 * Messages owed to every connection now (what the rooms hold beyond each
 * sub's next index), for bookpics_relay_backlog.
 */
uint64_t deliver_backlog(const struct vhd *v);

/* Deliver r's news to every follower owed some (the write path, above). */
void deliver_wake(struct vhd *v, struct room *r);

/*
 * SERVER_WRITEABLE: a keepalive ping, or else one own frame, or else the
 * close if one is pending, or else up to WRITE_BURST messages or changes,
 * each from the next room owed one. Every message frame written counts in
 * STATS_RELAY_DELIVERED. Returns -1 to close the connection.
 */
int deliver_write(struct vhd *v, struct session *ss);

/* ss's sub of r, or NULL. */
struct sub *deliver_sub_find(struct session *ss, const struct room *r);

/* Follow r from next_index (appended: hello lists rooms in this order). NULL: no memory. */
struct sub *deliver_sub_add(struct session *ss, struct room *r, uint64_t next_index,
			    int member);

/* Stop following sb's room and free sb. */
void deliver_sub_drop(struct session *ss, struct sub *sb);

/*
 * Move a sub to start at next_index (the client asked: resume, or
 * subscribe with "after"). The client has what is before it, so the
 * delivery cursor moves forward with it; a replay never moves it back.
 * The changes of what it has are owed again (change_seq 0).
 */
void deliver_sub_restart(struct sub *sb, uint64_t next_index);

/*
 * Store ss's delivery cursors that moved (a store failure is logged and
 * tried again next time): at its close or replacement; the tick stores
 * every session's (below), so a relay crash makes a reconnecting user see
 * at most ~1 s of messages again, never miss one.
 */
void deliver_cursors_flush(struct vhd *v, struct session *ss);

/*
 * The same for every session (the tick's), all in as few store writes as
 * CURSORS_BATCH allows: in a group each write is a round trip to the
 * master on the relay's loop, and one per user and room each second did
 * not scale with a room's members.
 */
void deliver_cursors_flush_all(struct vhd *v);

/*
 * Make ss follow exactly its user's rooms: new ones from the stored cursor
 * (none: from the room's current end), removed ones dropped. Returns 0,
 * or -1 with err.
 */
int deliver_follow_rooms(struct vhd *v, struct session *ss, char *err);

#endif
