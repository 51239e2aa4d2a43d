/* admit.c - who may connect: the handshake check, the user index, duplicate connections, hello. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "hash.h"
#include "log.h"
#include "msg.h"
#include "origin.h"
#include "session.h"

#define QUERY_ARG_MAX 2048

/* ---- users: every live connection of a user ---- */

static size_t user_bucket(const char *user)
{
	return hash_fnv1a(user) % USER_BUCKETS;
}

struct session *admit_user_next(struct vhd *v, const char *user, struct session *from)
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
	v->nusers++;
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
	v->nusers--;
}

static void replace(struct vhd *v, struct session *old);

/* ---- the handshake ---- */

int admit_check(struct vhd *v, struct lws *wsi, char *user, const char **code,
		char *msg, size_t msglen)
{
	char path[64], arg[QUERY_ARG_MAX], err[ERR_LEN], origin[CONF_VAL_MAX];
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
		return 0;	/* anonymous, from anywhere (a wall embedded anywhere); ?userId= grants nothing */
	/*
	 * Cross-site WebSocket hijacking (origin.h): before the token is even
	 * looked at, so a foreign page learns nothing about it. An Origin too
	 * long to copy is no allowed one (those fit in a conf value).
	 */
	n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
	if (n > 0 && (n >= (int)sizeof(origin) ||
		      lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) != n ||
		      !origin_allowed(origin, v->app.conf.public_url, v->app.conf.ws_origins))) {
		*code = "origin_not_allowed";
		snprintf(msg, msglen, "token connections are not allowed from this origin "
			 "(the site's own, or conf ws_origins)");
		return 403;
	}
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
	if (v->app.conf.duplicate_connections != CONF_DUP_REFUSE)
		return 0;
	if (admit_user_next(v, user, NULL))
		goto duplicate;
	if (!store_grouped(v->app.store))
		return 0;
	/*
	 * A group's site: the check is the write itself, at the master
	 * (store_conn_claim), so two sites admitting the user at once cannot
	 * both win. It blocks the loop as every forwarded write of the relay
	 * does (store_conn_open did it at ESTABLISHED before).
	 */
	admit_claim_release(v);
	snprintf(v->claimed_id, sizeof(v->claimed_id), "%s-%llu", v->id_prefix, ++v->id_seq);
	switch (store_conn_claim(v->app.store, v->claimed_id, user,
				 v->app.conf.hook_url[0] != '\0', err)) {
	case 1:
		v->claimed = wsi;
		snprintf(v->claimed_user, sizeof(v->claimed_user), "%s", user);
		return 0;
	case 0:
		goto duplicate;
	default:
		lwsl_err("relay: %s\n", err);
		/* no master answers this site: the group's, retried as any 503 */
		*code = store_unavailable(v->app.store) ? "unavailable" : "internal";
		snprintf(msg, msglen, "%s", store_unavailable(v->app.store) ?
			 "no master answers this site; try again" : "the store failed; try again");
		return 503;
	}
duplicate:
	*code = "duplicate_connection";
	snprintf(msg, msglen, "user %s is already connected", user);
	return 409;
}

void admit_claim_release(struct vhd *v)
{
	char err[ERR_LEN];

	if (!v->claimed)
		return;
	v->claimed = NULL;
	if (store_conn_close(v->app.store, v->claimed_id, v->claimed_user,
			     v->app.conf.hook_url[0] != '\0', err))
		lwsl_err("relay: %s: %s\n", v->claimed_id, err);
}

/* ---- a group's anonymous connections, in batches ---- */

/* Past this many bytes of ids a list is dropped, not grown (a master gone for long). */
#define BATCH_MAX (4 << 20)

static void batch_add(struct admit_ids *l, const char *id)
{
	size_t n = strlen(id) + 1;
	char *p;

	if (l->len + n > l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4096;

		while (cap < l->len + n)
			cap *= 2;
		if (cap > BATCH_MAX || !(p = realloc(l->p, cap))) {
			lwsl_err("relay: connection batch full: %s not recorded\n", id);
			return;
		}
		l->p = p, l->cap = cap;
	}
	memcpy(l->p + l->len, id, n);
	l->len += n;
}

void admit_batch_flush(struct vhd *v)
{
	char err[ERR_LEN];

	if (!v->anon_opens.len && !v->anon_closes.len)
		return;
	if (store_conn_batch(v->app.store, v->anon_opens.p, v->anon_opens.len,
			     v->anon_closes.p, v->anon_closes.len,
			     v->app.conf.hook_url[0] != '\0', err)) {
		if (!v->batch_failures++)
			lwsl_err("relay: %s (kept, retried)\n", err);
		return;
	}
	if (v->batch_failures)
		lwsl_user("relay: connection batch written after %d failures\n", v->batch_failures);
	v->batch_failures = 0;
	v->anon_opens.len = v->anon_closes.len = 0;
}

void admit_batch_free(struct vhd *v)
{
	free(v->anon_opens.p);
	free(v->anon_closes.p);
	memset(&v->anon_opens, 0, sizeof(v->anon_opens));
	memset(&v->anon_closes, 0, sizeof(v->anon_closes));
}

void admit_superseded(struct vhd *v)
{
	struct store_conn *conns = NULL;
	struct session *ss, *nx;
	char err[ERR_LEN];
	uint64_t gen;
	size_t n = 0, i;

	/* whatever this site's duplicate_connections: the new connection's site's decides */
	if (!v->nusers)
		return;
	if (store_conn_gen(v->app.store, &gen, err)) {
		lwsl_err("relay: %s\n", err);
		return;
	}
	if (gen == v->conn_gen)
		return;
	if (store_conn_superseded(v->app.store, &conns, &n, err)) {
		lwsl_err("relay: %s\n", err);
		return;		/* the next probe tries again */
	}
	v->conn_gen = gen;
	for (i = 0; i < n; i++) {
		for (ss = admit_user_next(v, conns[i].user, NULL); ss; ss = nx) {
			nx = admit_user_next(v, conns[i].user, ss);
			if (!strcmp(ss->id, conns[i].conn))
				replace(v, ss);
		}
	}
	free(conns);
}

int admit_refuse(struct lws *wsi, int status, const char *code, const char *msg)
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

/* ---- opening and closing ---- */

/* Close a user's older connection (duplicate_connections = replace). */
static void replace(struct vhd *v, struct session *old)
{
	deliver_cursors_flush(v, old);
	users_remove(v, old);
	while (old->subs)
		deliver_sub_drop(old, old->subs);
	deliver_close(old, 4000, "replaced by a new connection");
	lwsl_user("relay: %s replaced (user %s)\n", old->id, old->user);
}

void admit_revoke(struct vhd *v, const char *user)
{
	struct session *ss, *nx;
	char err[ERR_LEN];
	int exists = -1;

	for (ss = admit_user_next(v, user, NULL); ss; ss = nx) {
		nx = admit_user_next(v, user, ss);
		if (exists < 0 && (exists = store_user_exists(v->app.store, user, err)) < 0)
			lwsl_err("relay: %s: %s\n", ss->id, err);
		/* a removed user's cursors went with it: write none back */
		if (exists)
			deliver_cursors_flush(v, ss);
		/* out of the index now: a new token's connection is not a duplicate */
		users_remove(v, ss);
		while (ss->subs)
			deliver_sub_drop(ss, ss->subs);
		deliver_close(ss, 4403, "token revoked");
		lwsl_user("relay: %s closed: token revoked (user %s)\n", ss->id, ss->user);
	}
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

void admit_open(struct vhd *v, struct session *ss, struct lws *wsi)
{
	struct session *other, *nx;
	char err[ERR_LEN], msg[256];
	const char *code = "";
	int status, claimed;

	ss->wsi = wsi;
	ss->vhd = v;
	ss->heard = ss->opened = clock_coarse_ms();
	snprintf(ss->id, sizeof(ss->id), "%s-%llu", v->id_prefix, ++v->id_seq);
	if (v->admitted == wsi) {
		memcpy(ss->user, v->admitted_user, sizeof(ss->user));
		status = 0;
	} else {
		status = admit_check(v, wsi, ss->user, &code, msg, sizeof(msg));
	}
	v->admitted = NULL;
	claimed = !status && v->claimed == wsi;
	if (claimed) {
		/* in the store already under this id (a group's refuse) */
		memcpy(ss->id, v->claimed_id, sizeof(ss->id));
		v->claimed = NULL;
	}
	if (status) {
		/*
		 * Only when CONFIRM_UPGRADE did not see this handshake, which
		 * libwebsockets 4.1 does not do: refuse the contract's other
		 * way, an error frame, then close code 4401 (bad token),
		 * 4403 (origin not allowed) or 4409 (duplicate connection).
		 */
		deliver_own(ss, frame_error(code, "%s", msg));
		deliver_close(ss, status == 409 ? 4409 : status == 401 ? 4401 :
				  status == 403 ? 4403 : 1011, code);
		/* not live, so the keepalive never sees it: bound it here */
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, v->hangup_secs);
		return;
	}
	if (ss->user[0]) {
		for (other = admit_user_next(v, ss->user, NULL); other; other = nx) {
			nx = admit_user_next(v, ss->user, other);
			if (v->app.conf.duplicate_connections == CONF_DUP_REPLACE)
				replace(v, other);
			else
				deliver_cursors_flush(v, other);	/* start where it is */
		}
	}
	ss->next = v->sessions;
	if (v->sessions)
		v->sessions->prev = ss;
	v->sessions = ss;
	ss->live = 1;
	if (ss->user[0])
		users_add(v, ss);
	/*
	 * A group's anonymous connection: in the next batch, not a forwarded
	 * write of its own on the loop (a crowd connecting at a client site
	 * would queue one write at the master each). Nothing reads it but the
	 * connection count and the hooks, which can wait for the next probe.
	 */
	if (!claimed && !ss->user[0] && store_grouped(v->app.store))
		batch_add(&v->anon_opens, ss->id);
	/* replace: the user's connections at other sites close too (admit_superseded there) */
	else if (!claimed &&
	    (v->app.conf.duplicate_connections == CONF_DUP_REPLACE && ss->user[0] ?
	     store_conn_replace : store_conn_open)(v->app.store, ss->id, ss->user,
						   v->app.conf.hook_url[0] != '\0', err))
		lwsl_err("relay: %s: %s\n", ss->id, err);	/* presence only */
	if (ss->user[0] && deliver_follow_rooms(v, ss, err)) {
		lwsl_err("relay: %s: %s\n", ss->id, err);
		deliver_own(ss, frame_error("internal", "the store failed; try again"));
		deliver_close(ss, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "store failed");
		return;
	}
	deliver_own(ss, hello_frame(ss));
	log_event(LOG_INFO, "connect", "conn", ss->id, "user", ss->user[0] ? ss->user : NULL,
		  NULL);
}

void admit_close(struct vhd *v, struct session *ss)
{
	char err[ERR_LEN], code[16], secs[24];
	struct frame *f;

	if (ss->live) {
		snprintf(code, sizeof(code), "%d", ss->close_code);
		snprintf(secs, sizeof(secs), "%lld", (long long)(clock_coarse_ms() - ss->opened) / 1000);
		/* code "-": the client closed, or went away without a word */
		log_event(LOG_INFO, "disconnect", "conn", ss->id,
			  "user", ss->user[0] ? ss->user : NULL,
			  "code", ss->close_code ? code : NULL, "seconds", secs, NULL);
		deliver_cursors_flush(v, ss);
		if (!ss->user[0] && store_grouped(v->app.store))
			batch_add(&v->anon_closes, ss->id);
		else if (store_conn_close(v->app.store, ss->id, ss->user,
					  v->app.conf.hook_url[0] != '\0', err))
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
		deliver_sub_drop(ss, ss->subs);
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
