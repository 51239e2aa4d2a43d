/* client.c - what a client may say: its frames gathered, read (request.h) and acted on. */
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "clock.h"
#include "err.h"
#include "request.h"
#include "session.h"

/*
 * Which room, and may this connection read it: the one ladder every action
 * that names a room to read climbs. 1 with *out and *sbp (ss's sub of it,
 * NULL if not followed yet); 0 refused, the error already queued.
 */
static int room_readable(struct vhd *v, struct session *ss, const char *name,
			 struct room **out, struct sub **sbp)
{
	char err[ERR_LEN];
	struct room *r;
	int found;

	found = room_get(&v->rooms, v->app.store, name, &r, err);
	if (found < 0) {
		lwsl_err("relay: %s: %s\n", ss->id, err);
		deliver_error(ss, "internal", "the store failed; try again");
		return 0;
	}
	if (!found) {
		deliver_error(ss, "not_found", "no such room: %s", request_shown(name));
		return 0;
	}
	*sbp = deliver_sub_find(ss, r);
	if (!r->is_public && !*sbp) {
		deliver_error(ss, "not_member", "room %s is private: only its members read it", r->name);
		return 0;
	}
	*out = r;
	return 1;
}

/* subscribe: follow a public room (or a member room again) from "after". */
static void on_subscribe(struct vhd *v, struct session *ss, const struct request *req)
{
	char err[ERR_LEN];
	struct room *r;
	struct sub *sb;
	int found;

	if (!room_readable(v, ss, req->room, &r, &sb))
		return;
	/* "only new messages" means new from now, not from a stale head */
	found = room_refresh(r, v->app.store, err);
	if (found < 0)
		lwsl_err("relay: %s: %s\n", ss->id, err);
	else if (found)
		deliver_wake(v, r);
	if (!sb) {
		sb = deliver_sub_add(ss, r, req->has_after ? req->after + 1 : r->last + 1, 0);
		if (!sb) {
			deliver_error(ss, "internal", "out of memory");
			return;
		}
		if (req->has_after)
			sb->change_seq = 0;	/* it has 1..after: their changes are owed */
	} else if (req->has_after) {
		deliver_sub_restart(sb, req->after + 1);
	}
	if (sub_owed(sb))
		lws_callback_on_writable(ss->wsi);
}

/* resume: deliver each room after its index. */
static void on_resume(struct vhd *v, struct session *ss, const struct request *req)
{
	struct room *r;
	struct sub *sb;
	size_t i;

	/* check everything first: a refused resume changes nothing */
	for (i = 0; i < req->nrooms; i++)
		if (!room_readable(v, ss, req->rooms[i].name, &r, &sb))
			return;
	if (req->code) {	/* a bad index after those rooms */
		deliver_error(ss, req->code, "%s", req->message);
		return;
	}
	for (i = 0; i < req->nrooms; i++) {
		r = room_find(&v->rooms, req->rooms[i].name);	/* room_get above made it */
		if (!r)
			continue;
		sb = deliver_sub_find(ss, r);
		if (!sb && !(sb = deliver_sub_add(ss, r, req->rooms[i].after + 1, 0))) {
			deliver_error(ss, "internal", "out of memory");
			return;
		}
		deliver_sub_restart(sb, req->rooms[i].after + 1);
	}
	if (deliver_owed(ss))
		lws_callback_on_writable(ss->wsi);
}

/*
 * sendMessage: store it as the HTTP API does, ack it, and wake the room's
 * followers here (no FIFO notice to ourselves). A retry of a
 * clientMessageId (chat_store's replayed) gets the first ack again and
 * wakes no one: its message was delivered when it was stored.
 */
static void on_send(struct vhd *v, struct session *ss, const struct request *req)
{
	enum chat_result res;
	char err[ERR_LEN];
	struct room *r;
	uint64_t index;
	int replayed;

	res = chat_send(v->app.store, ss->user, req->room, req->json, req->client_id, &index,
			&replayed, err);
	if (res != CHAT_OK) {
		if (res == CHAT_ERROR)
			lwsl_err("relay: %s: %s\n", ss->id, err);
		if (res == CHAT_ERROR && store_unavailable(v->app.store))
			deliver_error(ss, "unavailable", "%s", err);	/* the group: retry later */
		else
			deliver_error(ss, chat_code(res), "%s",
				      res == CHAT_ERROR ? "the store failed; try again" : err);
		return;
	}
	deliver_own(ss, frame_ack(req->room, index, req->client_id));
	if (replayed)
		return;
	r = room_find(&v->rooms, req->room);
	if (r && room_advance(r, index))
		deliver_wake(v, r);
}

/*
 * Rate limits (docs/PROTOCOL.md, "Rate limits"), far above what a client
 * of ours does (t4001's bursts, t2001's 4,000 posts back to back, a
 * reconnect's resume and subscribes): per connection every frame costs 1,
 * plus 1 for each room it names that the relay does not hold (a store
 * read: 130,000 subscribes for rooms that do not exist were 26,000 reads
 * a second); a sendMessage costs nothing there but 1 from its user's
 * bucket (a store write). Refused: an error rate_limited, nothing done;
 * refused again and again for ABUSE_MS: closed with 4429.
 */
static const struct limit_rule action_rule = { .rate = 20, .burst = 40 };
static const struct limit_rule post_rule = { .rate = 10, .burst = 8000 };
#define ABUSE_MS 3000
#define CLOSE_RATE_LIMITED 4429

/* What req costs from the connection's bucket (a sendMessage: 0). */
static double frame_cost(struct vhd *v, const struct request *req)
{
	double cost = 1;
	size_t i;

	if (req->action == REQUEST_SEND && !req->code)
		return 0;
	if (req->action == REQUEST_SUBSCRIBE && req->room && !room_find(&v->rooms, req->room))
		cost++;
	for (i = 0; i < req->nrooms; i++)
		if (!room_find(&v->rooms, req->rooms[i].name))
			cost++;
	return cost;
}

/* May req go ahead? 0: refused, answered (and maybe closing). */
static int within_limits(struct vhd *v, struct session *ss, const struct request *req)
{
	int64_t now = clock_coarse_ms();
	struct limit *l;

	if (req->action == REQUEST_SEND && !req->code) {
		l = limit_table_get(&v->posts, ss->user, &post_rule, now);
		if (l && limit_take(l, &post_rule, 1, now))
			return 1;
		deliver_error(ss, "rate_limited", "too many messages: at most %g a second per user",
			      post_rule.rate);
	} else {
		if (limit_take(&ss->actions, &action_rule, frame_cost(v, req), now))
			return 1;
		deliver_error(ss, "rate_limited", "too many actions: at most %g a second (%g at once)",
			      action_rule.rate, action_rule.burst);
	}
	if (limit_streak_refused(&ss->over, now) >= ABUSE_MS) {
		lwsl_user("relay: %s closed: over its rate limit for %d s (user %s)\n", ss->id,
			  ABUSE_MS / 1000, ss->user[0] ? ss->user : "-");
		deliver_close(ss, CLOSE_RATE_LIMITED, "rate limited");
	}
	return 0;
}

/* One complete client frame (buf[len] is NUL). Answers errors itself. */
static void on_frame(struct vhd *v, struct session *ss, const char *buf, size_t len)
{
	struct request req;

	request_parse(buf, len, ss->user, &req);
	if (!within_limits(v, ss, &req)) {
		request_free(&req);
		return;
	}
	switch (req.action) {
	case REQUEST_NONE:
		break;
	case REQUEST_SUBSCRIBE:
		if (!req.code)
			on_subscribe(v, ss, &req);
		break;
	case REQUEST_RESUME:
		on_resume(v, ss, &req);		/* reports req.code in turn */
		break;
	case REQUEST_SEND:
		if (!req.code)
			on_send(v, ss, &req);
		break;
	}
	if (req.code && req.action != REQUEST_RESUME)
		deliver_error(ss, req.code, "%s", req.message);
	request_free(&req);
}

int client_receive(struct vhd *v, struct session *ss, const void *in, size_t len)
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
		deliver_error(ss, "too_large", "a frame may hold at most %d bytes", RX_MAX);
		deliver_close(ss, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "frame too large");
		if (!ss->rx_paused) {
			lws_rx_flow_control(ss->wsi, 0);
			ss->rx_paused = 1;
		}
		return 0;
	}
	if (!ss->rx_binary) {
		p = realloc(ss->rx, ss->rx_len + len + 1);
		if (!p) {
			deliver_close(ss, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
			return 0;
		}
		ss->rx = p;
		memcpy(ss->rx + ss->rx_len, in, len);
	}
	ss->rx_len += len;
	if (!final)
		return 0;
	if (ss->rx_binary) {
		struct request none = { .action = REQUEST_NONE };

		if (within_limits(v, ss, &none))
			deliver_error(ss, "bad_request", "frames must be JSON text, not binary");
	} else {
		ss->rx[ss->rx_len] = '\0';
		on_frame(v, ss, ss->rx, ss->rx_len);
	}
	free(ss->rx);
	ss->rx = NULL;
	ss->rx_len = 0;
	return 0;
}
