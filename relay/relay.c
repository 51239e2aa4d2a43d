/* relay.c - the loop glue: the lws callback, the vhd, the FIFO, the tick and keepalive. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "err.h"
#include "fifo.h"
#include "session.h"
#include "spawn.h"

#define TICK_US LWS_US_PER_SEC	/* the safety net: store heads, cursors */
#define MAINTAIN_TICKS 30	/* store_maintain every ~30 s */
#define MEMBERS_TICKS 10	/* memberships re-read: a lost "u" notice costs ~10 s */
#define BAD_LINES_LOGGED 10	/* per tick; the rest are only counted */
#define PING_SECS 30		/* keepalive, relay.h */
#define HANGUP_SECS 45

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
	switch (n->kind) {
	case FIFO_MESSAGE:
	case FIFO_CHANGE:
		r = room_find(&v->rooms, n->name);
		if (!r || n->index <= (n->kind == FIFO_MESSAGE ? r->last : r->changes))
			return;		/* nobody follows it, or known */
		/* a hint: the store says how far the room really goes */
		moved = room_refresh(r, v->app.store, err);
		if (moved < 0)
			lwsl_err("relay: %s\n", err);
		else if (moved)
			deliver_wake(v, r);
		return;
	case FIFO_REVOKE:
		admit_revoke(v, n->name);
		return;
	case FIFO_USER:
		break;
	}
	for (ss = admit_user_next(v, n->name, NULL); ss; ss = admit_user_next(v, n->name, ss)) {
		if (deliver_follow_rooms(v, ss, err))
			lwsl_err("relay: %s: %s\n", ss->id, err);
		else if (deliver_owed(ss))
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
	deliver_wake(v, r);
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
		deliver_drop(ss);	/* no close frame: the peer does not answer */
		return 1;
	}
	if (now - ss->heard >= v->ping_secs * 1000 && !ss->pinged) {
		ss->pinged = 1;
		ss->ping_due = 1;
		lws_callback_on_writable(ss->wsi);
	}
	return 0;
}

/*
 * The writes a relay makes when it starts: forget this site's connections
 * from before (none survived us), and in a group make sure the Twilio room
 * exists (a group's site has no `init` room of its own, admin.c: the
 * master's, once). Returns 0/-1.
 */
static int relay_start_writes(struct vhd *v, char *err)
{
	if (store_conn_clear(v->app.store, v->id_prefix, err))
		return -1;
	if (store_grouped(v->app.store) &&
	    store_room_add(v->app.store, v->app.conf.twilio_room, 1, err) < 0)
		return -1;
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
	if (v->start_owed && !(v->start_owed = relay_start_writes(v, err) != 0))
		lwsl_user("relay: start writes done\n");
	else if (v->start_owed && v->ticks % 10 == 0)
		lwsl_err("relay: %s (retrying every second)\n", err);
	fifo_check(v);
	admit_claim_release(v);
	if (v->cfg->replicator > 0 && spawn_exited(v->cfg->replicator, err)) {
		/* the site's replication process: both start again, from the supervisor */
		lwsl_err("relay: %s: stopping\n", err);
		v->cfg->replicator = 0;
		v->cfg->failed = 1;
		raise(SIGTERM);
	}
	rooms_each(&v->rooms, refresh_room, v);
	deliver_cursors_flush_all(v);
	for (ss = v->sessions; ss; ss = ss->next) {
		hung += keepalive(v, ss, now);
		if (v->ticks % MEMBERS_TICKS || !ss->in_users)
			continue;
		if (deliver_follow_rooms(v, ss, err))
			lwsl_err("relay: %s: %s\n", ss->id, err);
		else if (deliver_owed(ss))
			lws_callback_on_writable(ss->wsi);
	}
	if (hung)
		lwsl_user("relay: hung up %d connection%s silent for %d s\n",
			  hung, hung == 1 ? "" : "s", v->hangup_secs);
	stats_set(v->app.stats, STATS_RELAY_BACKLOG, deliver_backlog(v));
	rooms_gc(&v->rooms);
	if (v->ticks % MAINTAIN_TICKS == 0 && store_maintain(v->app.store, err))
		lwsl_err("relay: %s\n", err);
	if (v->bad_lines > BAD_LINES_LOGGED)
		lwsl_warn("relay: %d more fifo lines ignored\n", v->bad_lines - BAD_LINES_LOGGED);
	v->bad_lines = 0;
	lws_sul_schedule(v->ctx, 0, &v->sul, tick, TICK_US);
}

/*
 * A group's site learns of commits made at other sites from its log: every
 * LSN_PROBE_US the end of the log (log_stat, no lock on the data) is
 * compared with the last one, and when it moved every followed room is
 * re-read as a FIFO notice would have it (refresh_room). A client writes
 * a commit's log record before it has applied it, so the rooms are read
 * again on LSN_SETTLE more probes after the log stopped moving: a read
 * that ran between the two sees the commit the next time. The same
 * probes look for this site's connections that another site's newer one
 * replaces (admit_superseded: one read while nothing changed).
 */
#define LSN_PROBE_US (50 * LWS_US_PER_MS)
#define LSN_SETTLE 2

static void lsn_probe(lws_sorted_usec_list_t *sul)
{
	struct vhd *v = lws_container_of(sul, struct vhd, lsn_sul);
	uint64_t lsn = store_group_lsn(v->app.store);

	if (lsn != v->lsn)
		v->lsn_settle = LSN_SETTLE + 1;
	v->lsn = lsn;
	admit_batch_flush(v);
	if (v->lsn_settle > 0) {
		v->lsn_settle--;
		rooms_each(&v->rooms, refresh_room, v);
		/* a newer connection of a user of ours at another site (replace) */
		admit_superseded(v);
	}
	lws_sul_schedule(v->ctx, 0, &v->lsn_sul, lsn_probe, LSN_PROBE_US);
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
	/* a group's site: the relay's writes go through its replicator (spawn.c) */
	v->app.group_role = STORE_RELAYED;
	/* connection ids stay unique across restarts */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		err_set(err, "getrandom: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(v->id_prefix + 2 * i, 3, "%02x", rnd[i]);
	if (app_ready(&v->app, v->cfg->var, err))
		goto fail;
	if (relay_start_writes(v, err)) {
		/*
		 * In a group those writes go to the master, which may be
		 * electing or slow to answer right now: the relay serves
		 * anyway and the tick tries again every second (a relay up
		 * without its protocol helped nobody). A single site's store
		 * failing here is a real failure.
		 */
		if (!store_grouped(v->app.store))
			goto fail;
		lwsl_err("relay: %s (retrying every second)\n", err);
		v->start_owed = 1;
	}
	app_stats(&v->app, v->cfg->var);	/* NULL is fine: counting never stops serving */
	if (fifo_adopt(v, err))
		lwsl_err("relay: %s (retrying every second)\n", err);
	lws_sul_schedule(v->ctx, 0, &v->sul, tick, TICK_US);
	if (store_grouped(v->app.store)) {
		v->lsn = store_group_lsn(v->app.store);
		lws_sul_schedule(v->ctx, 0, &v->lsn_sul, lsn_probe, LSN_PROBE_US);
	}
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
	lws_sul_cancel(&v->lsn_sul);
	while (v->sessions)
		admit_close(v, v->sessions);
	rooms_free(&v->rooms);
	limit_table_free(&v->posts);
	admit_batch_flush(v);	/* the closes above: once, best effort */
	admit_batch_free(v);
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
		status = admit_check(v, wsi, uid, &code, msg, sizeof(msg));
		v->admitted = status ? NULL : wsi;
		if (!status) {
			memcpy(v->admitted_user, uid, sizeof(uid));
			return 0;
		}
		lwsl_user("relay: handshake refused %d %s: %s\n", status, code, msg);
		return admit_refuse(wsi, status, code, msg);
	case LWS_CALLBACK_HTTP:
		return admit_refuse(wsi, 404, "not_found", "the WebSocket endpoint is /ws") < 0 ||
		       lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_ESTABLISHED:
		if (!v)
			return -1;
		admit_open(v, ss, wsi);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (ss && ss->vhd)
			admit_close(ss->vhd, ss);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!ss || !ss->vhd)
			return -1;
		if (deliver_write(ss->vhd, ss) < 0) {
			ss->gone = 1;	/* lws closes it; it may flush first */
			return -1;
		}
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (!ss || !ss->vhd)
			return -1;
		heard_from(ss);
		return client_receive(ss->vhd, ss, in, len);
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
			deliver_close(ss, LWS_CLOSE_STATUS_GOINGAWAY, "relay stopping");
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
