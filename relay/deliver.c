/* deliver.c - what goes out: own frames, subscriptions and cursors, waking followers, writing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "session.h"

/* ---- the connection's own frames: hello, ack, error ---- */

void deliver_close(struct session *ss, int code, const char *why)
{
	if (!ss->close_code) {
		ss->close_code = code;
		ss->close_why = why;
	}
	lws_callback_on_writable(ss->wsi);
}

void deliver_own(struct session *ss, struct frame *f)
{
	if (!f) {
		lwsl_err("relay: %s: out of memory for a frame\n", ss->id);
		deliver_close(ss, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return;
	}
	if (ss->nctl >= CTL_MAX) {
		frame_free(f);
		deliver_close(ss, LWS_CLOSE_STATUS_POLICY_VIOLATION, "not reading answers");
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

void deliver_error(struct session *ss, const char *code, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	deliver_own(ss, frame_error(code, "%s", text));
}

/* ---- what a connection follows ---- */

int deliver_owed(const struct session *ss)
{
	const struct sub *sb;

	for (sb = ss->subs; sb; sb = sb->next)
		if (sub_owed(sb))
			return 1;
	return 0;
}

void deliver_drop(struct session *ss)
{
	ss->gone = 1;
	lws_set_timeout(ss->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

uint64_t deliver_backlog(const struct vhd *v)
{
	const struct session *ss;
	const struct sub *sb;
	uint64_t n = 0;

	for (ss = v->sessions; ss; ss = ss->next)
		for (sb = ss->subs; sb; sb = sb->next)
			if (sb->next_index <= sb->room->last)
				n += sb->room->last - sb->next_index + 1;
	return n;
}

/* Write f: 1 written (or taken by lws, which holds what the socket did not), -1 failed. */
static int write_frame(struct session *ss, struct frame *f)
{
	return lws_write(ss->wsi, frame_data(f), f->len, LWS_WRITE_TEXT) < (int)f->len ? -1 : 1;
}

/*
 * Write sb's next change, or else its next message (sub_owed(sb)): 1
 * written, 2 nothing owed after all (only changes of messages not sent
 * yet), 0 not now (the store failed; the 1 s tick wakes it again), -1 the
 * write failed: close the connection.
 */
static int write_next(struct vhd *v, struct session *ss, struct sub *sb)
{
	struct room_change *c;
	char err[ERR_LEN];
	struct frame *f;

	if (sb->change_seq < sb->room->changes) {
		c = room_change_next(sb->room, sb->change_seq, sb->next_index);
		if (c) {
			if (room_change_frame(sb->room, v->app.store, c, &f, err) < 0) {
				lwsl_err("relay: %s: %s\n", ss->id, err);
				return 0;
			}
			if (write_frame(ss, f) < 0)
				return -1;
			sb->change_seq = c->seq;
			ss->rr = sb->next;
			return 1;
		}
		sb->change_seq = sb->room->changes;
	}
	if (sb->next_index > sb->room->last)
		return 2;
	if (room_frame(sb->room, v->app.store, &sb->batch, sb->next_index, &f, err) < 0) {
		lwsl_err("relay: %s: %s\n", ss->id, err);
		return 0;
	}
	if (write_frame(ss, f) < 0)
		return -1;
	stats_add(v->app.stats, STATS_RELAY_DELIVERED, 1);
	if (sb->next_index > sb->high)
		sb->high = sb->next_index;
	sb->next_index++;
	ss->rr = sb->next;	/* the next room first, next time */
	return 1;
}

/*
 * Where the socket takes more now and the connection has nothing of its
 * own waiting (the common case: a reader keeping up, one new message),
 * write the frame here; otherwise ask, and deliver_write sends it in turn.
 * session.h says why and why it is safe. A full socket is not asked about
 * first: the send then fails with EAGAIN, lws keeps that one frame and
 * asks for POLLOUT itself, and the next messages wait for WRITEABLE
 * behind it.
 */
void deliver_wake(struct vhd *v, struct room *r)
{
	struct room_link *l;
	struct session *ss;
	struct sub *sb;

	for (l = r->followers.next; l != &r->followers; l = l->next) {
		sb = lws_container_of(l, struct sub, link);
		ss = sb->ss;
		if (!sub_owed(sb) || ss->close_code || ss->gone)
			continue;
		if (ss->ctl || ss->ping_due || lws_partial_buffered(ss->wsi)) {
			lws_callback_on_writable(ss->wsi);
			continue;
		}
		if (write_next(v, ss, sb) < 0)
			deliver_drop(ss);
		else if (deliver_owed(ss))
			lws_callback_on_writable(ss->wsi);
	}
}

struct sub *deliver_sub_find(struct session *ss, const struct room *r)
{
	struct sub *sb;

	for (sb = ss->subs; sb; sb = sb->next)
		if (sb->room == r)
			return sb;
	return NULL;
}

struct sub *deliver_sub_add(struct session *ss, struct room *r, uint64_t next_index,
			    int member)
{
	struct sub *sb = calloc(1, sizeof(*sb)), **pp;

	if (!sb)
		return NULL;
	sb->room = r;
	sb->ss = ss;
	sb->next_index = next_index;
	sb->change_seq = r->changes;	/* nothing sent yet: no change owed */
	sb->member = member;
	for (pp = &ss->subs; *pp; pp = &(*pp)->next)
		;
	*pp = sb;
	room_follow(r, &sb->link);
	return sb;
}

void deliver_sub_drop(struct session *ss, struct sub *sb)
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

void deliver_sub_restart(struct sub *sb, uint64_t next_index)
{
	sb->next_index = next_index;
	sb->change_seq = 0;	/* the state of what the client has */
	if (next_index - 1 > sb->high)
		sb->high = next_index - 1;
	room_batch_clear(&sb->batch);
}

/*
 * The cursor stored is the highest index handed to the socket (or claimed
 * by the client's resume) in each member room. Both flushes write them
 * CURSORS_BATCH at a time, each batch one store write.
 */
#define CURSORS_BATCH 256

/* The cursors written in one store write, and the subs they are of. */
struct cursor_list {
	struct store_cursor list[CURSORS_BATCH];
	struct sub *subs[CURSORS_BATCH];
	size_t n;
};

/* Write cl's cursors, marked saved once written; 0, or -1 logged (they stay dirty). */
static int cursors_write(struct vhd *v, struct cursor_list *cl)
{
	char err[ERR_LEN];
	size_t i;

	if (store_cursor_batch(v->app.store, cl->list, cl->n, err)) {
		lwsl_err("relay: %s (%zu cursors, tried again next tick)\n", err, cl->n);
		return -1;
	}
	for (i = 0; i < cl->n; i++)
		if (cl->subs[i]->saved < cl->list[i].index)
			cl->subs[i]->saved = cl->list[i].index;
	cl->n = 0;
	return 0;
}

/* Add ss's cursors that moved to cl, writing it whenever it is full; 0, or -1 logged. */
static int cursors_add(struct vhd *v, struct session *ss, struct cursor_list *cl)
{
	struct sub *sb;

	if (!ss->user[0])
		return 0;
	for (sb = ss->subs; sb; sb = sb->next) {
		if (!sb->member || sb->high <= sb->saved)
			continue;
		cl->list[cl->n] = (struct store_cursor){ ss->user, sb->room->name, sb->high };
		cl->subs[cl->n++] = sb;
		if (cl->n == CURSORS_BATCH && cursors_write(v, cl))
			return -1;
	}
	return 0;
}

void deliver_cursors_flush(struct vhd *v, struct session *ss)
{
	struct cursor_list cl;

	cl.n = 0;
	if (!cursors_add(v, ss, &cl))
		cursors_write(v, &cl);
}

void deliver_cursors_flush_all(struct vhd *v)
{
	struct cursor_list cl;
	struct session *ss;

	cl.n = 0;
	for (ss = v->sessions; ss; ss = ss->next)
		if (cursors_add(v, ss, &cl))
			return;
	cursors_write(v, &cl);
}

static int name_in(char **names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

int deliver_follow_rooms(struct vhd *v, struct session *ss, char *err)
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
			deliver_sub_drop(ss, sb);
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
			deliver_wake(v, r);
		sb = deliver_sub_find(ss, r);
		if (sb) {
			sb->member = 1;
			continue;
		}
		found = store_cursor_get(v->app.store, ss->user, r->name, &cur, err);
		if (found < 0)
			goto out;
		if (!found)
			cur = r->last;
		sb = deliver_sub_add(ss, r, cur + 1, 1);
		if (!sb) {
			err_set(err, "follow_rooms: out of memory");
			goto out;
		}
		sb->high = cur;
		sb->saved = found ? cur : 0;
		if (found)
			sb->change_seq = 0;	/* it has messages: their changes are owed */
	}
	ret = 0;
out:
	store_strings_free(names, n);
	return ret;
}

/* ---- writing ---- */

/* The next sub owed something, round robin from ss->rr. */
static struct sub *next_owed(struct session *ss)
{
	struct sub *start = ss->rr ? ss->rr : ss->subs, *sb;

	for (sb = start; sb; sb = sb->next)
		if (sub_owed(sb))
			return sb;
	for (sb = ss->subs; sb && sb != start; sb = sb->next)
		if (sub_owed(sb))
			return sb;
	return NULL;
}

int deliver_write(struct vhd *v, struct session *ss)
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
		if (ss->ctl || ss->close_code || deliver_owed(ss))
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
		if (ss->ctl || ss->close_code || deliver_owed(ss))
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
		n = write_next(v, ss, sb);
		if (n < 0)
			return -1;
		if (!n)
			return 0;	/* logged; the tick tries again */
		if (n == 2)
			continue;	/* sb is owed nothing now */
		if (lws_partial_buffered(ss->wsi))
			break;
	}
	if (deliver_owed(ss))
		lws_callback_on_writable(ss->wsi);
	return 0;
}
