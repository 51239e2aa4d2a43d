/* relay.c - the relay protocol: who may connect, what each connection follows, what it is owed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "chat.h"
#include "clock.h"
#include "err.h"
#include "fifo.h"
#include "frame.h"
#include "hash.h"
#include "msg.h"
#include "relay.h"
#include "room.h"
#include "token.h"

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
#define TICK_US LWS_US_PER_SEC	/* the safety net: store heads, cursors */
#define MAINTAIN_TICKS 30	/* store_maintain every ~30 s */
#define MEMBERS_TICKS 10	/* memberships re-read: a lost "u" notice costs ~10 s */
#define USER_BUCKETS 1024
#define BAD_LINES_LOGGED 10	/* per tick; the rest are only counted */
#define QUERY_ARG_MAX 2048
#define PING_SECS 30		/* keepalive, relay.h */
#define HANGUP_SECS 45

struct session;

/* A room one connection follows and the next index it owes the client. */
struct sub {
	struct room_link link;	/* in room->followers; first member */
	struct room *room;
	struct session *ss;
	struct sub *next;	/* in ss->subs */
	uint64_t next_index;	/* next message owed; owed while <= room->last */
	uint64_t high;		/* highest index delivered (or claimed by resume) */
	uint64_t saved;		/* delivery cursor known to be in the store */
	int member;		/* followed as a member: its cursor is kept */
	struct room_batch batch;	/* far behind: own frames from the store */
};

/* Per connection (lws allocates and zeroes it: per_session_data_size). */
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
};

/* Per vhost (one): the store, the rooms, the connections, the FIFO. */
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
};

/* ---- users: every live connection of a user ---- */

static size_t user_bucket(const char *user)
{
	return hash_fnv1a(user) % USER_BUCKETS;
}

/* The first live connection of user after `from` (NULL: from the start). */
static struct session *user_next(struct vhd *v, const char *user, struct session *from)
{
	struct session *ss = from ? from->unext : v->users[user_bucket(user)];

	for (; ss; ss = ss->unext)
		if (!strcmp(ss->user, user))
			return ss;
	return NULL;
}

static void users_add(struct vhd *v, struct session *ss)
{
	size_t b = user_bucket(ss->user);

	ss->unext = v->users[b];
	v->users[b] = ss;
	ss->in_users = 1;
}

static void users_remove(struct vhd *v, struct session *ss)
{
	struct session **pp;

	if (!ss->in_users)
		return;
	for (pp = &v->users[user_bucket(ss->user)]; *pp; pp = &(*pp)->unext) {
		if (*pp == ss) {
			*pp = ss->unext;
			break;
		}
	}
	ss->unext = NULL;
	ss->in_users = 0;
}

/* ---- the connection's own frames: hello, ack, error ---- */

static void close_after(struct session *ss, int code, const char *why)
{
	if (!ss->close_code) {
		ss->close_code = code;
		ss->close_why = why;
	}
	lws_callback_on_writable(ss->wsi);
}

/*
 * Queue f (owned from now on) to go before any message. NULL is an
 * allocation failure: the connection is closed (1011) rather than left
 * without an answer it is waiting for.
 */
static void enqueue(struct session *ss, struct frame *f)
{
	if (!f) {
		lwsl_err("relay: %s: out of memory for a frame\n", ss->id);
		close_after(ss, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return;
	}
	if (ss->nctl >= CTL_MAX) {
		frame_free(f);
		close_after(ss, LWS_CLOSE_STATUS_POLICY_VIOLATION, "not reading answers");
		return;
	}
	if (ss->ctl_tail)
		ss->ctl_tail->next = f;
	else
		ss->ctl = f;
	ss->ctl_tail = f;
	ss->nctl++;
	if (ss->nctl >= CTL_PAUSE && !ss->rx_paused) {
		/* the client sends faster than it reads our answers */
		lws_rx_flow_control(ss->wsi, 0);
		ss->rx_paused = 1;
	}
	lws_callback_on_writable(ss->wsi);
}

static void send_error(struct session *ss, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void send_error(struct session *ss, const char *code, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	enqueue(ss, frame_error(code, "%s", text));
}

/* A client's string, quoted in an error only when it is a plain name. */
static const char *shown(const char *s)
{
	return store_name_ok(s) ? s : "(invalid name)";
}

/* ---- what a connection follows ---- */

static int owed(const struct sub *sb)
{
	return sb->next_index <= sb->room->last;
}

static int session_owed(const struct session *ss)
{
	const struct sub *sb;

	for (sb = ss->subs; sb; sb = sb->next)
		if (owed(sb))
			return 1;
	return 0;
}

/*
 * Close ss from outside its own callback, with no close frame and nothing
 * more written to it: lws closes it on its next service.
 */
static void session_drop(struct session *ss)
{
	ss->gone = 1;
	lws_set_timeout(ss->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/*
 * Write sb's next message (sb is owed one): 1 written (or taken by lws,
 * which holds what the socket did not), 0 not now (the store failed; the
 * 1 s tick wakes it again), -1 the write failed: close the connection.
 */
static int write_message(struct vhd *v, struct session *ss, struct sub *sb)
{
	char err[ERR_LEN];
	struct frame *f;

	if (room_frame(sb->room, v->app.store, &sb->batch, sb->next_index, &f, err) < 0) {
		lwsl_err("relay: %s: %s\n", ss->id, err);
		return 0;
	}
	if (lws_write(ss->wsi, frame_data(f), f->len, LWS_WRITE_TEXT) < (int)f->len)
		return -1;
	if (sb->next_index > sb->high)
		sb->high = sb->next_index;
	sb->next_index++;
	ss->rr = sb->next;	/* the next room first, next time */
	return 1;
}

/*
 * Deliver r's news to every follower owed some. Where the socket takes
 * more now and the connection has nothing of its own waiting (the common
 * case: a reader keeping up, one new message), write the frame here:
 * asking lws for WRITEABLE costs two epoll_ctl per delivery with libev
 * (POLLOUT on, then off), a third of the CPU per message. Otherwise ask,
 * and session_write sends it in turn. Ordering holds either way: a room's
 * messages go out in index order, and lws sends nothing of ours while it
 * still holds part of a frame (lws_partial_buffered says so). A full
 * socket is not asked about first (lws_send_pipe_choked is a poll() per
 * follower per message, 7% of the relay's CPU): the send then fails with
 * EAGAIN, lws keeps that one frame and asks for POLLOUT itself, and the
 * next messages wait for WRITEABLE behind it, the same one-frame bound.
 */
static void wake_room(struct vhd *v, struct room *r)
{
	struct room_link *l;
	struct session *ss;
	struct sub *sb;

	for (l = r->followers.next; l != &r->followers; l = l->next) {
		sb = lws_container_of(l, struct sub, link);
		ss = sb->ss;
		if (!owed(sb) || ss->close_code || ss->gone)
			continue;
		if (ss->ctl || ss->ping_due || lws_partial_buffered(ss->wsi)) {
			lws_callback_on_writable(ss->wsi);
			continue;
		}
		if (write_message(v, ss, sb) < 0)
			session_drop(ss);
		else if (session_owed(ss))
			lws_callback_on_writable(ss->wsi);
	}
}

static struct sub *sub_find(struct session *ss, const struct room *r)
{
	struct sub *sb;

	for (sb = ss->subs; sb; sb = sb->next)
		if (sb->room == r)
			return sb;
	return NULL;
}

/* Follow r from next_index (appended: hello lists rooms in this order). */
static struct sub *sub_add(struct session *ss, struct room *r, uint64_t next_index,
			   int member)
{
	struct sub *sb = calloc(1, sizeof(*sb)), **pp;

	if (!sb)
		return NULL;
	sb->room = r;
	sb->ss = ss;
	sb->next_index = next_index;
	sb->member = member;
	for (pp = &ss->subs; *pp; pp = &(*pp)->next)
		;
	*pp = sb;
	room_follow(r, &sb->link);
	return sb;
}

static void sub_drop(struct session *ss, struct sub *sb)
{
	struct sub **pp;

	for (pp = &ss->subs; *pp; pp = &(*pp)->next) {
		if (*pp == sb) {
			*pp = sb->next;
			break;
		}
	}
	if (ss->rr == sb)
		ss->rr = sb->next;
	room_unfollow(sb->room, &sb->link);
	room_batch_clear(&sb->batch);
	free(sb);
}

/*
 * Move a sub to start at next_index (the client asked: resume, or
 * subscribe with "after"). The client has what is before it, so the
 * delivery cursor moves forward with it; a replay never moves it back.
 */
static void sub_restart(struct sub *sb, uint64_t next_index)
{
	sb->next_index = next_index;
	if (next_index - 1 > sb->high)
		sb->high = next_index - 1;
	room_batch_clear(&sb->batch);
}

/*
 * Store the delivery cursors that moved: the highest index handed to the
 * socket (or claimed by the client's resume) in each member room. Called every tick and at close, so a relay
 * crash makes a reconnecting user see at most ~1 s of messages again,
 * never miss one.
 */
static void cursors_flush(struct vhd *v, struct session *ss)
{
	char err[ERR_LEN];
	struct sub *sb;

	if (!ss->user[0])
		return;
	for (sb = ss->subs; sb; sb = sb->next) {
		if (!sb->member || sb->high <= sb->saved)
			continue;
		if (store_cursor_set(v->app.store, ss->user, sb->room->name, sb->high, err)) {
			lwsl_err("relay: %s: %s\n", ss->id, err);
			continue;	/* stays dirty: tried again next tick */
		}
		sb->saved = sb->high;
	}
}

static int name_in(char **names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

/*
 * Make ss follow exactly its user's rooms: new ones from the stored cursor
 * (none: from the room's current end), removed ones dropped. Returns 0/-1.
 */
static int follow_rooms(struct vhd *v, struct session *ss, char *err)
{
	char **names = NULL;
	struct sub *sb, *nx;
	struct room *r;
	size_t n = 0, i;
	uint64_t cur;
	int found, ret = -1;

	if (store_user_rooms(v->app.store, ss->user, &names, &n, err))
		return -1;
	for (sb = ss->subs; sb; sb = nx) {
		nx = sb->next;
		if (sb->member && !name_in(names, n, sb->room->name))
			sub_drop(ss, sb);
	}
	for (i = 0; i < n; i++) {
		found = room_get(&v->rooms, v->app.store, names[i], &r, err);
		if (found < 0)
			goto out;
		if (!found)
			continue;	/* removed meanwhile */
		/* the head now, so that hello's "last" is current */
		found = room_refresh(r, v->app.store, err);
		if (found < 0)
			goto out;
		if (found)
			wake_room(v, r);
		sb = sub_find(ss, r);
		if (sb) {
			sb->member = 1;
			continue;
		}
		found = store_cursor_get(v->app.store, ss->user, r->name, &cur, err);
		if (found < 0)
			goto out;
		if (!found)
			cur = r->last;
		sb = sub_add(ss, r, cur + 1, 1);
		if (!sb) {
			err_set(err, "follow_rooms: out of memory");
			goto out;
		}
		sb->high = cur;
		sb->saved = found ? cur : 0;
	}
	ret = 0;
out:
	store_strings_free(names, n);
	return ret;
}

static struct frame *hello_frame(struct session *ss)
{
	struct json_object *o = json_object_new_object(), *arr, *item;
	struct frame *f;
	struct sub *sb;

	if (!o)
		return NULL;
	arr = json_object_new_array();
	json_object_object_add(o, "type", json_object_new_string("hello"));
	json_object_object_add(o, "connectionId", json_object_new_string(ss->id));
	json_object_object_add(o, "userId", ss->user[0] ? json_object_new_string(ss->user) : NULL);
	for (sb = ss->subs; sb; sb = sb->next) {
		if (!sb->member)
			continue;
		item = json_object_new_object();
		json_object_object_add(item, "room", json_object_new_string(sb->room->name));
		json_object_object_add(item, "last", json_object_new_int64((int64_t)sb->room->last));
		json_object_array_add(arr, item);
	}
	json_object_object_add(o, "rooms", arr);
	f = frame_json(o);
	json_object_put(o);
	return f;
}

/* ---- client frames ---- */

/* A JSON non-negative integer into *v: 1, else 0. */
static int index_value(struct json_object *o, uint64_t *v)
{
	int64_t n;

	if (!json_object_is_type(o, json_type_int))
		return 0;
	n = json_object_get_int64(o);
	if (n < 0)
		return 0;
	*v = (uint64_t)n;
	return 1;
}

/* {"action":"subscribe","room":R,"after":N}: follow a public room. */
static void on_subscribe(struct vhd *v, struct session *ss, struct json_object *req)
{
	struct json_object *jroom, *jafter;
	char err[ERR_LEN];
	const char *name;
	struct room *r;
	struct sub *sb;
	uint64_t after = 0;
	int has_after, found;

	if (!json_object_object_get_ex(req, "room", &jroom) ||
	    !json_object_is_type(jroom, json_type_string)) {
		send_error(ss, "bad_request", "subscribe needs \"room\": a room name");
		return;
	}
	has_after = json_object_object_get_ex(req, "after", &jafter);
	if (has_after && !index_value(jafter, &after)) {
		send_error(ss, "bad_request", "\"after\" must be a non-negative integer");
		return;
	}
	name = json_object_get_string(jroom);
	found = room_get(&v->rooms, v->app.store, name, &r, err);
	if (found < 0) {
		lwsl_err("relay: %s: %s\n", ss->id, err);
		send_error(ss, "internal", "the store failed; try again");
		return;
	}
	if (!found) {
		send_error(ss, "not_found", "no such room: %s", shown(name));
		return;
	}
	sb = sub_find(ss, r);
	if (!r->is_public && !sb) {
		send_error(ss, "not_member", "room %s is private: only its members read it", r->name);
		return;
	}
	/* "only new messages" means new from now, not from a stale head */
	found = room_refresh(r, v->app.store, err);
	if (found < 0)
		lwsl_err("relay: %s: %s\n", ss->id, err);
	else if (found)
		wake_room(v, r);
	if (!sb) {
		sb = sub_add(ss, r, has_after ? after + 1 : r->last + 1, 0);
		if (!sb) {
			send_error(ss, "internal", "out of memory");
			return;
		}
	} else if (has_after) {
		sub_restart(sb, after + 1);
	}
	if (owed(sb))
		lws_callback_on_writable(ss->wsi);
}

/* {"action":"resume","rooms":{R:N,...}}: deliver each room after N. */
static void on_resume(struct vhd *v, struct session *ss, struct json_object *req)
{
	struct json_object *rooms;
	char err[ERR_LEN];
	struct room *r;
	struct sub *sb;
	uint64_t after;
	int found;

	if (!json_object_object_get_ex(req, "rooms", &rooms) ||
	    !json_object_is_type(rooms, json_type_object)) {
		send_error(ss, "bad_request", "resume needs \"rooms\": {\"room\": index, ...}");
		return;
	}
	/* check everything first: a refused resume changes nothing */
	json_object_object_foreach(rooms, key, val) {
		if (!index_value(val, &after)) {
			send_error(ss, "bad_request", "rooms.%s must be a non-negative integer", shown(key));
			return;
		}
		found = room_get(&v->rooms, v->app.store, key, &r, err);
		if (found < 0) {
			lwsl_err("relay: %s: %s\n", ss->id, err);
			send_error(ss, "internal", "the store failed; try again");
			return;
		}
		if (!found) {
			send_error(ss, "not_found", "no such room: %s", shown(key));
			return;
		}
		if (!r->is_public && !sub_find(ss, r)) {
			send_error(ss, "not_member", "room %s is private: only its members read it", r->name);
			return;
		}
	}
	json_object_object_foreach(rooms, key2, val2) {
		r = room_find(&v->rooms, key2);	/* room_get above made it */
		if (!r || !index_value(val2, &after))
			continue;
		sb = sub_find(ss, r);
		if (!sb && !(sb = sub_add(ss, r, after + 1, 0))) {
			send_error(ss, "internal", "out of memory");
			return;
		}
		sub_restart(sb, after + 1);
	}
	if (session_owed(ss))
		lws_callback_on_writable(ss->wsi);
}

/*
 * {"action":"sendMessage","chatroomId":R,"chatMessage":"...",
 * "messageType":"text message"}: store it as the HTTP API does, ack it, and
 * wake the room's followers here (no FIFO notice to ourselves).
 */
static void on_send(struct vhd *v, struct session *ss, struct json_object *req)
{
	struct json_object *jroom, *juser;
	enum chat_result res;
	char err[ERR_LEN];
	const char *name;
	struct room *r;
	uint64_t index;

	if (!ss->user[0]) {
		send_error(ss, "unauthorized", "connect with a token to send messages");
		return;
	}
	if (!json_object_object_get_ex(req, "chatroomId", &jroom) ||
	    !json_object_is_type(jroom, json_type_string)) {
		send_error(ss, "bad_request", "sendMessage needs \"chatroomId\": a room name");
		return;
	}
	if (json_object_object_get_ex(req, "userId", &juser) &&
	    (!json_object_is_type(juser, json_type_string) ||
	     strcmp(json_object_get_string(juser), ss->user))) {
		send_error(ss, "forbidden", "userId must be the connection's user (%s)", ss->user);
		return;
	}
	name = json_object_get_string(jroom);
	res = chat_send(v->app.store, ss->user, name, req, &index, err);
	if (res != CHAT_OK) {
		if (res == CHAT_ERROR)
			lwsl_err("relay: %s: %s\n", ss->id, err);
		send_error(ss, chat_code(res), "%s", res == CHAT_ERROR ? "the store failed; try again" : err);
		return;
	}
	enqueue(ss, frame_ack(name, index));
	r = room_find(&v->rooms, name);
	if (r && room_advance(r, index))
		wake_room(v, r);
}

static const struct action {
	const char *name;
	void (*fn)(struct vhd *v, struct session *ss, struct json_object *req);
} actions[] = {
	{ "subscribe", on_subscribe },
	{ "resume", on_resume },
	{ "sendMessage", on_send },
};

/* One complete client frame (buf[len] is NUL). Answers errors itself. */
static void on_frame(struct vhd *v, struct session *ss, const char *buf, size_t len)
{
	struct json_object *req, *jaction;
	const char *action;
	char err[ERR_LEN];
	size_t i;

	req = msg_parse_json(buf, len, err);
	if (!req) {
		send_error(ss, "bad_request", "%s", err);
		return;
	}
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "action", &jaction) ||
	    !json_object_is_type(jaction, json_type_string)) {
		send_error(ss, "bad_request", "a frame must be a JSON object with an \"action\"");
		goto out;
	}
	action = json_object_get_string(jaction);
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (!strcmp(actions[i].name, action)) {
			actions[i].fn(v, ss, req);
			goto out;
		}
	}
	send_error(ss, "bad_request", "unknown action %s: use subscribe, resume or sendMessage",
		   shown(action));
out:
	json_object_put(req);
}

/* RECEIVE: gather fragments (at most RX_MAX bytes), then handle the frame. */
static int on_receive(struct vhd *v, struct session *ss, const void *in, size_t len)
{
	int final = lws_is_final_fragment(ss->wsi);
	char *p;

	if (!ss->live || ss->close_code)
		return 0;	/* being closed: nothing more is read */
	if (!ss->in_frame) {
		ss->rx_len = 0;
		ss->rx_binary = lws_frame_is_binary(ss->wsi);
	}
	ss->in_frame = !final;
	if (ss->rx_len + len > RX_MAX) {
		free(ss->rx);
		ss->rx = NULL;
		ss->rx_len = 0;
		send_error(ss, "too_large", "a frame may hold at most %d bytes", RX_MAX);
		close_after(ss, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "frame too large");
		if (!ss->rx_paused) {
			lws_rx_flow_control(ss->wsi, 0);
			ss->rx_paused = 1;
		}
		return 0;
	}
	if (!ss->rx_binary) {
		p = realloc(ss->rx, ss->rx_len + len + 1);
		if (!p) {
			close_after(ss, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
			return 0;
		}
		ss->rx = p;
		memcpy(ss->rx + ss->rx_len, in, len);
	}
	ss->rx_len += len;
	if (!final)
		return 0;
	if (ss->rx_binary) {
		send_error(ss, "bad_request", "frames must be JSON text, not binary");
	} else {
		ss->rx[ss->rx_len] = '\0';
		on_frame(v, ss, ss->rx, ss->rx_len);
	}
	free(ss->rx);
	ss->rx = NULL;
	ss->rx_len = 0;
	return 0;
}

/* ---- connections ---- */

/*
 * Who is connecting (headers still readable): 0 admitted with user filled
 * ("" = anonymous), else the HTTP status refusing it, with *code and msg.
 */
static int admit(struct vhd *v, struct lws *wsi, char *user, const char **code,
		 char *msg, size_t msglen)
{
	char path[64], arg[QUERY_ARG_MAX], err[ERR_LEN];
	const char *token = NULL;
	int n;

	user[0] = '\0';
	/* admins change duplicate_connections and secrets live */
	if (conf_refresh(&v->app.conf, err) < 0)
		lwsl_warn("relay: %s (keeping the old configuration)\n", err);
	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0 ||
	    strcmp(path, "/ws")) {
		*code = "not_found";
		snprintf(msg, msglen, "the WebSocket endpoint is /ws");
		return 404;
	}
	for (n = 0; lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, n) > 0; n++) {
		if (lws_hdr_copy_fragment(wsi, arg, sizeof(arg), WSI_TOKEN_HTTP_URI_ARGS, n) < 0) {
			*code = "bad_request";
			snprintf(msg, msglen, "query argument too long");
			return 400;
		}
		if (!strncmp(arg, "token=", 6)) {
			token = arg + 6;
			break;
		}
	}
	if (!token)
		return 0;	/* anonymous; ?userId= grants nothing */
	switch (app_token_user(&v->app, token, user, err)) {
	case APP_TOKEN_USER:
		break;
	case APP_TOKEN_REJECTED:
		*code = "unauthorized";
		snprintf(msg, msglen, "%s", err);
		return 401;
	case APP_TOKEN_STORE_FAILED:
		lwsl_err("relay: %s\n", err);
		*code = "internal";
		snprintf(msg, msglen, "%s", "the store failed; try again");
		return 503;
	}
	if (v->app.conf.duplicate_connections == CONF_DUP_REFUSE && user_next(v, user, NULL)) {
		*code = "duplicate_connection";
		snprintf(msg, msglen, "user %s is already connected", user);
		return 409;
	}
	return 0;
}

/*
 * Answer an HTTP request (a refused upgrade, or plain HTTP) with status and
 * a JSON body {"error":code,"message":msg}, as the HTTP API does. Returns 1
 * when sent (lws then ends the transaction), -1 to hang up.
 */
static int http_refuse(struct lws *wsi, int status, const char *code, const char *msg)
{
	unsigned char buf[LWS_PRE + 1536], *start = buf + LWS_PRE, *p = start,
		      *end = buf + sizeof(buf);
	struct json_object *o = json_object_new_object();
	const char *body;
	size_t len = 0;
	int ret = -1;

	if (!o)
		return -1;
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(msg));
	body = msg_json_text(o, &len);
	if (!body ||
	    lws_add_http_common_headers(wsi, (unsigned int)status, "application/json",
					len, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end) ||
	    (size_t)(end - p) < len)
		goto out;
	memcpy(p, body, len);
	p += len;
	if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) != (int)(p - start))
		goto out;
	ret = 1;
out:
	json_object_put(o);
	return ret;
}

/* Close a user's older connection (duplicate_connections = replace). */
static void replace(struct vhd *v, struct session *old)
{
	cursors_flush(v, old);
	users_remove(v, old);
	while (old->subs)
		sub_drop(old, old->subs);
	close_after(old, 4000, "replaced by a new connection");
	lwsl_user("relay: %s replaced (user %s)\n", old->id, old->user);
}

/* ESTABLISHED: register the connection, follow its rooms, say hello. */
static void session_open(struct vhd *v, struct session *ss, struct lws *wsi)
{
	struct session *other, *nx;
	char err[ERR_LEN], msg[256];
	const char *code = "";
	int status;

	ss->wsi = wsi;
	ss->vhd = v;
	ss->heard = clock_coarse_ms();
	snprintf(ss->id, sizeof(ss->id), "%s-%llu", v->id_prefix, ++v->id_seq);
	if (v->admitted == wsi) {
		memcpy(ss->user, v->admitted_user, sizeof(ss->user));
		status = 0;
	} else {
		status = admit(v, wsi, ss->user, &code, msg, sizeof(msg));
	}
	v->admitted = NULL;
	if (status) {
		/*
		 * Only when CONFIRM_UPGRADE did not see this handshake, which
		 * libwebsockets 4.1 does not do: refuse the contract's other
		 * way, an error frame, then close code 4401 (bad token) or
		 * 4409 (duplicate connection).
		 */
		enqueue(ss, frame_error(code, "%s", msg));
		close_after(ss, status == 409 ? 4409 : status == 401 ? 4401 : 1011, code);
		/* not live, so the keepalive never sees it: bound it here */
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, v->hangup_secs);
		return;
	}
	if (ss->user[0]) {
		for (other = user_next(v, ss->user, NULL); other; other = nx) {
			nx = user_next(v, ss->user, other);
			if (v->app.conf.duplicate_connections == CONF_DUP_REPLACE)
				replace(v, other);
			else
				cursors_flush(v, other);	/* start where it is */
		}
	}
	ss->next = v->sessions;
	if (v->sessions)
		v->sessions->prev = ss;
	v->sessions = ss;
	ss->live = 1;
	if (ss->user[0])
		users_add(v, ss);
	if (store_conn_add(v->app.store, ss->id, ss->user, err))
		lwsl_err("relay: %s: %s\n", ss->id, err);	/* presence only */
	if (ss->user[0] && follow_rooms(v, ss, err)) {
		lwsl_err("relay: %s: %s\n", ss->id, err);
		enqueue(ss, frame_error("internal", "the store failed; try again"));
		close_after(ss, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "store failed");
		return;
	}
	enqueue(ss, hello_frame(ss));
	lwsl_info("relay: %s open (user %s)\n", ss->id, ss->user[0] ? ss->user : "-");
}

/* CLOSED (or the vhost going away): forget the connection. */
static void session_close(struct vhd *v, struct session *ss)
{
	char err[ERR_LEN];
	struct frame *f;

	if (ss->live) {
		cursors_flush(v, ss);
		if (store_conn_remove(v->app.store, ss->id, err))
			lwsl_err("relay: %s: %s\n", ss->id, err);
		users_remove(v, ss);
		if (ss->prev)
			ss->prev->next = ss->next;
		else
			v->sessions = ss->next;
		if (ss->next)
			ss->next->prev = ss->prev;
		ss->next = ss->prev = NULL;
		ss->live = 0;
	}
	while (ss->subs)
		sub_drop(ss, ss->subs);
	while ((f = ss->ctl)) {
		ss->ctl = f->next;
		frame_free(f);
	}
	ss->ctl_tail = NULL;
	ss->nctl = 0;
	free(ss->rx);
	ss->rx = NULL;
	ss->vhd = NULL;
}

/* The next sub owed something, round robin from ss->rr. */
static struct sub *next_owed(struct session *ss)
{
	struct sub *start = ss->rr ? ss->rr : ss->subs, *sb;

	for (sb = start; sb; sb = sb->next)
		if (owed(sb))
			return sb;
	for (sb = ss->subs; sb && sb != start; sb = sb->next)
		if (owed(sb))
			return sb;
	return NULL;
}

/*
 * SERVER_WRITEABLE: a keepalive ping, or else one own frame, or else the
 * close if one is pending, or else up to WRITE_BURST messages, each from
 * the next room owed one. Returns -1 to close the connection.
 */
static int session_write(struct vhd *v, struct session *ss)
{
	/* lws 4.1 passes no empty pong to the protocol: the ping carries "k" */
	unsigned char ping[LWS_PRE + 1];
	struct frame *f;
	struct sub *sb;
	int n, burst;

	if (lws_send_pipe_choked(ss->wsi)) {
		lws_callback_on_writable(ss->wsi);
		return 0;
	}
	if (ss->ping_due) {
		ss->ping_due = 0;
		ping[LWS_PRE] = 'k';
		if (lws_write(ss->wsi, ping + LWS_PRE, 1, LWS_WRITE_PING) < 1)
			return -1;
		if (ss->ctl || ss->close_code || session_owed(ss))
			lws_callback_on_writable(ss->wsi);
		return 0;
	}
	if ((f = ss->ctl)) {
		ss->ctl = f->next;
		if (!ss->ctl)
			ss->ctl_tail = NULL;
		ss->nctl--;
		n = lws_write(ss->wsi, frame_data(f), f->len, LWS_WRITE_TEXT);
		n = n < (int)f->len;
		frame_free(f);
		if (n)
			return -1;
		if (ss->rx_paused && ss->nctl <= CTL_PAUSE / 2 && !ss->close_code) {
			lws_rx_flow_control(ss->wsi, 1);
			ss->rx_paused = 0;
		}
		if (ss->ctl || ss->close_code || session_owed(ss))
			lws_callback_on_writable(ss->wsi);
		return 0;
	}
	if (ss->close_code) {
		lws_close_reason(ss->wsi, (enum lws_close_status)ss->close_code,
				 (unsigned char *)(uintptr_t)ss->close_why, strlen(ss->close_why));
		return -1;
	}
	/*
	 * Messages: several per callback while the socket takes them whole.
	 * A reconnecting client owed 100 would otherwise cost 100 rounds of
	 * POLLOUT on, event, POLLOUT off. Stop as soon as lws holds part of a
	 * frame: the one-frame bound per slow connection stays.
	 */
	for (burst = 0; burst < WRITE_BURST; burst++) {
		sb = next_owed(ss);
		if (!sb)
			return 0;
		n = write_message(v, ss, sb);
		if (n < 0)
			return -1;
		if (!n)
			return 0;	/* logged; the tick tries again */
		if (lws_partial_buffered(ss->wsi))
			break;
	}
	if (session_owed(ss))
		lws_callback_on_writable(ss->wsi);
	return 0;
}

/* ---- the FIFO and the tick ---- */

static void on_notice(void *ctx, const struct fifo_notice *n, const char *bad)
{
	struct vhd *v = ctx;
	struct session *ss;
	char err[ERR_LEN];
	struct room *r;
	int moved;

	if (!n) {
		if (v->bad_lines++ < BAD_LINES_LOGGED)
			lwsl_warn("relay: fifo line ignored: %s\n", bad);
		return;
	}
	if (n->kind == FIFO_MESSAGE) {
		r = room_find(&v->rooms, n->name);
		if (!r || n->index <= r->last)
			return;		/* nobody follows it, or known */
		/* a hint: the store says how far the room really goes */
		moved = room_refresh(r, v->app.store, err);
		if (moved < 0)
			lwsl_err("relay: %s\n", err);
		else if (moved)
			wake_room(v, r);
		return;
	}
	for (ss = user_next(v, n->name, NULL); ss; ss = user_next(v, n->name, ss)) {
		if (follow_rooms(v, ss, err))
			lwsl_err("relay: %s: %s\n", ss->id, err);
		else if (session_owed(ss))
			lws_callback_on_writable(ss->wsi);
	}
}

/* (Re)open $VAR/relay.fifo (fifo_listen) and adopt it into the loop. */
static int fifo_adopt(struct vhd *v, char *err)
{
	lws_sock_file_fd_type u;
	struct fifo_id id;
	struct lws *wsi;
	int fd;

	fd = fifo_listen(v->cfg->var, &id, err);
	if (fd < 0)
		return -1;
	u.filefd = (lws_filefd_type)(long long)fd;
	wsi = lws_adopt_descriptor_vhost(v->vh, LWS_ADOPT_RAW_FILE_DESC, u,
					 v->proto->name, NULL);
	if (!wsi)	/* lws closed fd */
		return err_set(err, "lws_adopt_descriptor_vhost %s/relay.fifo: failed", v->cfg->var);
	v->fifo = wsi;
	v->fifo_id = id;
	memset(&v->nr, 0, sizeof(v->nr));
	return 0;
}

/*
 * Every tick: if the FIFO was removed or replaced (writers then cannot
 * reach us, and /api/health says the relay is down), make a new one.
 */
static void fifo_check(struct vhd *v)
{
	char path[FIFO_PATH_MAX], err[ERR_LEN];

	if (v->fifo && fifo_same(v->cfg->var, &v->fifo_id))
		return;
	fifo_path(path, sizeof(path), v->cfg->var);
	if (v->fifo) {
		lwsl_warn("relay: %s was removed or replaced: making a new one\n", path);
		lws_set_timeout(v->fifo, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		v->fifo = NULL;
	}
	if (fifo_adopt(v, err))
		lwsl_err("relay: %s (retrying every second)\n", err);
}

static void refresh_room(void *ctx, struct room *r)
{
	struct vhd *v = ctx;
	char err[ERR_LEN];

	if (!r->nfollowers)
		return;
	if (room_refresh(r, v->app.store, err) < 0)
		lwsl_err("relay: %s\n", err);
	/* also wakes whoever a failed store read left behind */
	wake_room(v, r);
}

/* A frame or a pong from the client: it is there. */
static void heard_from(struct session *ss)
{
	ss->heard = clock_coarse_ms();
	ss->pinged = 0;
}

/*
 * Ping ss if it has been silent for ping_secs, hang up if for hangup_secs
 * (relay.h). Returns 1 if it hung up.
 */
static int keepalive(struct vhd *v, struct session *ss, int64_t now)
{
	if (ss->gone)
		return 0;
	if (now - ss->heard >= v->hangup_secs * 1000) {
		session_drop(ss);	/* no close frame: the peer does not answer */
		return 1;
	}
	if (now - ss->heard >= v->ping_secs * 1000 && !ss->pinged) {
		ss->pinged = 1;
		ss->ping_due = 1;
		lws_callback_on_writable(ss->wsi);
	}
	return 0;
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct vhd *v = lws_container_of(sul, struct vhd, sul);
	struct session *ss;
	char err[ERR_LEN];
	int64_t now = clock_coarse_ms();
	int hung = 0;

	v->ticks++;
	fifo_check(v);
	rooms_each(&v->rooms, refresh_room, v);
	for (ss = v->sessions; ss; ss = ss->next) {
		hung += keepalive(v, ss, now);
		cursors_flush(v, ss);
		if (v->ticks % MEMBERS_TICKS || !ss->in_users)
			continue;
		if (follow_rooms(v, ss, err))
			lwsl_err("relay: %s: %s\n", ss->id, err);
		else if (session_owed(ss))
			lws_callback_on_writable(ss->wsi);
	}
	if (hung)
		lwsl_user("relay: hung up %d connection%s silent for %d s\n",
			  hung, hung == 1 ? "" : "s", v->hangup_secs);
	rooms_gc(&v->rooms);
	if (v->ticks % MAINTAIN_TICKS == 0 && store_maintain(v->app.store, err))
		lwsl_err("relay: %s\n", err);
	if (v->bad_lines > BAD_LINES_LOGGED)
		lwsl_warn("relay: %d more fifo lines ignored\n", v->bad_lines - BAD_LINES_LOGGED);
	v->bad_lines = 0;
	lws_sul_schedule(v->ctx, 0, &v->sul, tick, TICK_US);
}

/* PROTOCOL_INIT: open the store, forget stale connections, adopt the FIFO. */
static int vhd_init(struct lws *wsi)
{
	struct vhd *v;
	unsigned char rnd[8];
	char err[ERR_LEN];
	size_t i;

	v = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi), lws_get_protocol(wsi), sizeof(*v));
	if (!v)
		return -1;
	v->ctx = lws_get_context(wsi);
	v->vh = lws_get_vhost(wsi);
	v->proto = lws_get_protocol(wsi);
	v->cfg = lws_context_user(v->ctx);
	v->ping_secs = v->cfg->ping_secs ? v->cfg->ping_secs : PING_SECS;
	v->hangup_secs = v->cfg->hangup_secs ? v->cfg->hangup_secs : HANGUP_SECS;
	if (app_ready(&v->app, v->cfg->var, err) ||
	    store_conn_clear(v->app.store, err))	/* none survived us */
		goto fail;
	/* connection ids stay unique across restarts */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		err_set(err, "getrandom: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(v->id_prefix + 2 * i, 3, "%02x", rnd[i]);
	if (fifo_adopt(v, err))
		lwsl_err("relay: %s (retrying every second)\n", err);
	lws_sul_schedule(v->ctx, 0, &v->sul, tick, TICK_US);
	lwsl_user("relay: ready, data in %s\n", v->cfg->var);
	return 0;
fail:
	lwsl_err("relay: %s\n", err);
	app_close(&v->app);
	v->cfg->failed = 1;
	return -1;
}

/* PROTOCOL_DESTROY: connections are closed by now; free the rest. */
static void vhd_destroy(struct vhd *v)
{
	lws_sul_cancel(&v->sul);
	while (v->sessions)
		session_close(v, v->sessions);
	rooms_free(&v->rooms);
	app_close(&v->app);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct vhd *v = lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
	struct session *ss = user;
	char err[ERR_LEN], msg[256], uid[STORE_NAME_MAX + 1];
	const char *code = "";
	int status;

	switch (reason) {
	case LWS_CALLBACK_PROTOCOL_INIT:
		return vhd_init(wsi);
	case LWS_CALLBACK_PROTOCOL_DESTROY:
		if (v)
			vhd_destroy(v);
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* the one moment the upgrade can still be answered with a status */
		if (!v || strcmp(in ? (const char *)in : "", "websocket"))
			return -1;
		status = admit(v, wsi, uid, &code, msg, sizeof(msg));
		v->admitted = status ? NULL : wsi;
		if (!status) {
			memcpy(v->admitted_user, uid, sizeof(uid));
			return 0;
		}
		lwsl_user("relay: handshake refused %d %s: %s\n", status, code, msg);
		return http_refuse(wsi, status, code, msg);
	case LWS_CALLBACK_HTTP:
		return http_refuse(wsi, 404, "not_found", "the WebSocket endpoint is /ws") < 0 ||
		       lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_ESTABLISHED:
		if (!v)
			return -1;
		session_open(v, ss, wsi);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (ss && ss->vhd)
			session_close(ss->vhd, ss);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!ss || !ss->vhd)
			return -1;
		if (session_write(ss->vhd, ss) < 0) {
			ss->gone = 1;	/* lws closes it; it may flush first */
			return -1;
		}
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (!ss || !ss->vhd)
			return -1;
		heard_from(ss);
		return on_receive(ss->vhd, ss, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		if (ss && ss->vhd)
			heard_from(ss);
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (ss)
			ss->gone = 1;	/* lws answers the close: add nothing */
		return 0;
	case LWS_CALLBACK_RAW_RX_FILE:
		if (!v)
			return -1;
		if (fifo_read(&v->nr, lws_get_socket_fd(wsi), on_notice, v, err)) {
			lwsl_err("relay: %s\n", err);
			if (wsi == v->fifo)
				v->fifo = NULL;		/* reopened next tick */
			return -1;
		}
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (v && wsi == v->fifo)
			v->fifo = NULL;
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int relay_going_away(struct lws_context *ctx)
{
	struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "default");
	struct session *ss;
	struct vhd *v;
	int n = 0;

	v = vh ? lws_protocol_vh_priv_get(vh, lws_vhost_name_to_protocol(vh, "bookpics")) : NULL;
	if (!v)
		return 0;
	for (ss = v->sessions; ss; ss = ss->next, n++)
		if (!ss->close_code)
			close_after(ss, LWS_CLOSE_STATUS_GOINGAWAY, "relay stopping");
	return n;
}

const struct lws_protocols relay_protocols[] = {
	{
		.name = "bookpics",
		.callback = callback,
		.per_session_data_size = sizeof(struct session),
		.rx_buffer_size = 512,	/* frames are reassembled by the relay; 4096 cost 3.4 kB per idle connection */
	},
	{ .name = NULL },
};
