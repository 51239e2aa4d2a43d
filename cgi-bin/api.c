/* api.c - /api/...: health, message pages, sending, presence, moderation (FastCGI). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin-api.h"
#include "app.h"
#include "chat.h"
#include "clock.h"
#include "err.h"
#include "fifo.h"
#include "group.h"
#include "http.h"
#include "log.h"
#include "media.h"
#include "msg.h"
#include "route.h"
#include "version.h"

#define API_MAX_BODY (16 * 1024)
#define PAGE_DEFAULT 50
#define PAGE_MAX 500

/* This many refused webhooks in a row, and nothing else, make health say so. */
#define HEALTH_REFUSED_MAX 5

/*
 * 200 {"ok":true,"relay":true,"twilio_room":"books"} (plus "wall_number"
 * when the conf sets one: the wall shows it) when the store answers,
 * the relay reads its FIFO and a Twilio auth token is set (and not
 * refused by the last HEALTH_REFUSED_MAX webhooks); otherwise 503 with
 * "ok":false and "problems", one sentence each. Runs even when app_ready
 * fails (api() lets it through): that is a problem to name, not a 503
 * without a reason.
 */
/*
 * What the site's replicator saw at its last tick (lib/stats.h) corrects
 * st, which is this process's own view: the sites connected, and whether
 * the master answers. A master that does not (this site cut off: no
 * election can succeed without a quorum, and rep_stat keeps naming it) is
 * no master for this site: null, and a problem, so that a load balancer
 * takes the site out while its writes would be 503. A view older than
 * GROUP_VIEW_STALE_MS is a problem itself (the replicator stuck); a view
 * of another master than st's (an election since) is not used. Returns 1
 * when it reported the master as not answering, else 0.
 */
#define GROUP_VIEW_STALE_MS 10000

static int group_view(struct app *a, struct group_status *st, struct json_object *problems)
{
	struct stats *stats = app_stats(a, a->conf.var);
	uint64_t at = stats_get(stats, STATS_GROUP_VIEW_MS);
	int64_t age = clock_ms() - (int64_t)at;
	char text[GROUP_ADDR_MAX + 96];

	if (!stats)
		return 0;
	/* age < 0: the stamp of a boot before this one (the file outlives it) */
	if (!at || age < 0 || age > GROUP_VIEW_STALE_MS) {
		if (at && age > 0)
			snprintf(text, sizeof(text), "group: the replicator has not reported for "
				 "%lld s", (long long)(age / 1000));
		else
			snprintf(text, sizeof(text), "group: the replicator has not reported yet");
		json_object_array_add(problems, json_object_new_string(text));
		return 0;
	}
	st->connected = (size_t)stats_get(stats, STATS_GROUP_CONNECTED);
	if (st->is_master || st->master_eid < 0 ||
	    stats_get(stats, STATS_GROUP_MASTER_EID1) != (uint64_t)st->master_eid + 1 ||
	    stats_get(stats, STATS_GROUP_MASTER_REACHED))
		return 0;
	snprintf(text, sizeof(text), "group: the master %s does not answer this site", st->master);
	json_object_array_add(problems, json_object_new_string(text));
	st->master[0] = '\0';
	return 1;
}

/*
 * A group's site (CONTRACT.md, Groups): {"self", "master" (null while none
 * is known: a problem), "role", "sites" (every HOST:PORT, self first),
 * "connected" (how many of them this site reaches, itself included)}.
 */
static struct json_object *health_group(struct app *a, struct json_object *problems)
{
	struct json_object *g, *sites;
	struct group_status st;
	char err[ERR_LEN], text[ERR_LEN + 64];
	int unanswered;
	size_t i;

	if (store_group_status(a->store, 0, &st, err)) {
		snprintf(text, sizeof(text), "group: %s", err);
		json_object_array_add(problems, json_object_new_string(text));
		return NULL;
	}
	unanswered = group_view(a, &st, problems);
	g = json_object_new_object();
	sites = json_object_new_array();
	for (i = 0; i < st.nsites; i++)
		json_object_array_add(sites, json_object_new_string(st.sites[i].addr));
	json_object_object_add(g, "self", json_object_new_string(st.self));
	json_object_object_add(g, "master", st.master[0] ? json_object_new_string(st.master) : NULL);
	json_object_object_add(g, "role", json_object_new_string(st.is_master ? "master" : "client"));
	json_object_object_add(g, "sites", sites);
	json_object_object_add(g, "connected", json_object_new_int64((int64_t)st.connected));
	if (!st.master[0] && !unanswered)
		json_object_array_add(problems, json_object_new_string("group: no master known"));
	return g;
}

static void health(struct route_ctx *c)
{
	struct json_object *o = json_object_new_object(), *problems = json_object_new_array();
	const char *var = app_var(NULL);
	struct store_room room;
	char err[ERR_LEN], text[ERR_LEN + 64];
	uint64_t streak;
	int relay = fifo_has_reader(var), ready = !app_ready(c->app, var, err);
	struct json_object *group = NULL;
	size_t n;

	if (!ready) {
		json_object_array_add(problems, json_object_new_string(err));
	} else if (store_room_get(c->app->store, c->app->conf.twilio_room, &room, err) < 0 ||
		   store_space(c->app->store, err)) {
		/* a full disk: reads are served, every write is refused (503) */
		snprintf(text, sizeof(text), "store: %s", err);
		json_object_array_add(problems, json_object_new_string(text));
	}
	if (!relay)
		json_object_array_add(problems, json_object_new_string("relay is down"));
	if (ready && !c->app->conf.twilio_auth_token[0])
		json_object_array_add(problems, json_object_new_string("no twilio_auth_token configured"));
	streak = stats_get(app_stats(c->app, var), STATS_WEBHOOK_REFUSED_STREAK);
	if (streak >= HEALTH_REFUSED_MAX) {
		snprintf(text, sizeof(text), "the last %llu webhooks were all refused: "
			 "check twilio_auth_token and public_url", (unsigned long long)streak);
		json_object_array_add(problems, json_object_new_string(text));
	}
	if (!c->app->stats && !stats_open(var, err))	/* why: the error of a second try */
		json_object_array_add(problems, json_object_new_string(err));
	if (ready && store_grouped(c->app->store))
		group = health_group(c->app, problems);
	n = json_object_array_length(problems);
	json_object_object_add(o, "ok", json_object_new_boolean(n == 0));
	json_object_object_add(o, "relay", json_object_new_boolean(relay));
	json_object_object_add(o, "twilio_room", json_object_new_string(c->app->conf.twilio_room));
	if (c->app->conf.wall_number[0])	/* for the wall's "text us" line */
		json_object_object_add(o, "wall_number", json_object_new_string(c->app->conf.wall_number));
	if (group)
		json_object_object_add(o, "group", group);
	if (n)
		json_object_object_add(o, "problems", problems);
	else
		json_object_put(problems);
	http_json(c->resp, n ? 503 : 200, o);
	json_object_put(o);
}

/* ---- /api/metrics: Prometheus text exposition format 0.0.4 ---- */

/* A family's HELP and TYPE lines (README "Operations" lists every name). */
static void metric_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric_u64(FILE *f, const char *name, const char *labels, uint64_t v)
{
	fprintf(f, "%s%s %llu\n", name, labels ? labels : "", (unsigned long long)v);
}

/* Is the scraper allowed: 127.0.0.1, or Authorization: Bearer metrics_token? */
static int metrics_allowed(struct route_ctx *c)
{
	const char *addr = http_param(c->req, "REMOTE_ADDR"), *auth = c->req->authorization;
	const char *want = c->app->conf.metrics_token;
	size_t i, n = strlen(want);
	unsigned char diff = 0;

	if (addr && !strcmp(addr, "127.0.0.1"))
		return 1;
	if (!n || !auth || strncmp(auth, "Bearer ", 7) || strlen(auth + 7) != n)
		return 0;
	for (i = 0; i < n; i++)	/* constant time: the token is a secret */
		diff |= (unsigned char)(auth[7 + i] ^ want[i]);
	return diff == 0;
}

/*
 * Every number is read when scraped: the shared counters (stats.h), the
 * store's rooms and connection records, Berkeley DB's log statistics. A
 * part that cannot be read is left out and counted in
 * bookpics_scrape_errors, so a scrape never fails as a whole.
 */
static void metrics(struct route_ctx *c)
{
	static const struct { enum stats_counter c; const char *outcome; } outcomes[] = {
		{ STATS_WEBHOOK_STORED, "stored" },
		{ STATS_WEBHOOK_DUPLICATE, "duplicate" },
		{ STATS_WEBHOOK_REFUSED_SIGNATURE, "refused_signature" },
		{ STATS_WEBHOOK_BAD_REQUEST, "bad_request" },
		{ STATS_WEBHOOK_ERROR, "error" },
		{ STATS_WEBHOOK_NOT_POSTED, "not_posted" },
		{ STATS_WEBHOOK_QUEUED, "queued" },
	};
	struct stats *st = app_stats(c->app, c->app->conf.var);
	struct store_room *rooms = NULL;
	struct store_log_info li;
	char **conns = NULL, err[ERR_LEN], labels[64], *text = NULL;
	size_t nrooms = 0, nconns = 0, len = 0, i;
	uint64_t messages = 0, scrape_errors = 0;
	int relay_up;
	FILE *f;

	if (!metrics_allowed(c)) {
		http_error(c->resp, 403, "forbidden",
			   "metrics are for 127.0.0.1, or Authorization: Bearer metrics_token");
		return;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		http_error(c->resp, 500, "internal", "open_memstream: %s", strerror(errno));
		return;
	}
	metric_head(f, "bookpics_webhooks_total", "counter",
		    "Twilio webhooks answered, by outcome.");
	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		snprintf(labels, sizeof(labels), "{outcome=\"%s\"}", outcomes[i].outcome);
		metric_u64(f, "bookpics_webhooks_total", labels, stats_get(st, outcomes[i].c));
	}
	metric_head(f, "bookpics_webhooks_refused_streak", "gauge",
		    "Webhooks refused (403) in a row since the last one whose signature checked out.");
	metric_u64(f, "bookpics_webhooks_refused_streak", NULL,
		   stats_get(st, STATS_WEBHOOK_REFUSED_STREAK));
	metric_head(f, "bookpics_media_fetches_total", "counter",
		    "Media fetched from upstream into the cache, by result.");
	metric_u64(f, "bookpics_media_fetches_total", "{result=\"ok\"}",
		   stats_get(st, STATS_MEDIA_FETCHES) - stats_get(st, STATS_MEDIA_FETCH_FAILED));
	metric_u64(f, "bookpics_media_fetches_total", "{result=\"failed\"}",
		   stats_get(st, STATS_MEDIA_FETCH_FAILED));
	metric_head(f, "bookpics_media_cache_hits_total", "counter",
		    "Media requests served from the cache without a fetch.");
	metric_u64(f, "bookpics_media_cache_hits_total", NULL, stats_get(st, STATS_MEDIA_HITS));
	metric_head(f, "bookpics_relay_up", "gauge",
		    "1 if the relay holds its FIFO open (what /api/health calls relay).");
	metric_u64(f, "bookpics_relay_up", NULL, (uint64_t)(relay_up = fifo_has_reader(c->app->conf.var)));
	metric_head(f, "bookpics_relay_delivered_total", "counter",
		    "Message frames the relay wrote to WebSocket connections.");
	metric_u64(f, "bookpics_relay_delivered_total", NULL,
		   stats_get(st, STATS_RELAY_DELIVERED));
	/* the relay sets it every second: a relay that is down owes nothing */
	metric_head(f, "bookpics_relay_backlog", "gauge",
		    "Messages stored but not yet written to the connections that follow their rooms.");
	metric_u64(f, "bookpics_relay_backlog", NULL,
		   relay_up ? stats_get(st, STATS_RELAY_BACKLOG) : 0);

	if (store_room_list(c->app->store, &rooms, &nrooms, err)) {
		scrape_errors++;
	} else {
		for (i = 0; i < nrooms; i++)
			messages += rooms[i].last;
		metric_head(f, "bookpics_rooms", "gauge", "Rooms in the store.");
		metric_u64(f, "bookpics_rooms", NULL, nrooms);
		metric_head(f, "bookpics_messages_stored_total", "counter",
			    "Messages stored, every room (each room's last index, summed).");
		metric_u64(f, "bookpics_messages_stored_total", NULL, messages);
	}
	if (store_conn_users(c->app->store, &conns, &nconns, err)) {
		scrape_errors++;
	} else {
		metric_head(f, "bookpics_connections_open", "gauge",
			    "WebSocket connections open (the relay's connection records).");
		metric_u64(f, "bookpics_connections_open", NULL, nconns);
	}
	if (store_log_info(c->app->store, &li, err)) {
		scrape_errors++;
	} else {
		metric_head(f, "bookpics_store_log_bytes", "gauge",
			    "Bytes in the Berkeley DB log files on disk.");
		metric_u64(f, "bookpics_store_log_bytes", NULL, li.log_bytes);
		metric_head(f, "bookpics_store_log_files", "gauge",
			    "Berkeley DB log files on disk.");
		metric_u64(f, "bookpics_store_log_files", NULL, li.log_files);
		metric_head(f, "bookpics_store_checkpoint_age_seconds", "gauge",
			    "Seconds since the last Berkeley DB checkpoint finished.");
		if (li.checkpoint_time)	/* none yet: no sample rather than a false 0 */
			metric_u64(f, "bookpics_store_checkpoint_age_seconds", NULL,
				   time(NULL) > li.checkpoint_time ?
				   (uint64_t)(time(NULL) - li.checkpoint_time) : 0);
	}
	metric_head(f, "bookpics_scrape_errors", "gauge",
		    "Parts of this scrape that could not be read (see the api log).");
	metric_u64(f, "bookpics_scrape_errors", NULL, scrape_errors);
	if (scrape_errors)
		log_event(LOG_ERROR, "metrics", "detail", err, NULL);
	fclose(f);
	http_body(c->resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
	store_strings_free(conns, nconns);
	free(rooms);
}

/* Parse a query number: 1 found (*v set), 0 absent, -1 malformed (400 sent). */
static int query_number(struct route_ctx *c, const char *name, uint64_t *v)
{
	char buf[32], *end;
	unsigned long long n;

	if (!http_query_get(c->req->query, name, buf, sizeof(buf)))
		return 0;
	errno = 0;
	n = strtoull(buf, &end, 10);
	if (!buf[0] || *end || errno || buf[0] == '-' || buf[0] == '+') {
		http_error(c->resp, 400, "bad_request", "%s must be a non-negative integer", name);
		return -1;
	}
	*v = n;
	return 1;
}

static void messages_get(struct route_ctx *c)
{
	struct json_object *o, *arr, *m;
	struct store_msg *msgs = NULL;
	uint64_t after = 0, before = 0, limit = PAGE_DEFAULT;
	int has_after, has_before, has_limit;
	char err[ERR_LEN];
	size_t n = 0, i;

	if (!route_may_read(c))
		return;
	if ((has_after = query_number(c, "after", &after)) < 0 ||
	    (has_before = query_number(c, "before", &before)) < 0 ||
	    (has_limit = query_number(c, "limit", &limit)) < 0)
		return;
	if (has_after && has_before) {
		http_error(c->resp, 400, "bad_request", "use after or before, not both");
		return;
	}
	if (has_limit && limit == 0) {
		http_error(c->resp, 400, "bad_request", "limit must be at least 1");
		return;
	}
	if (limit > PAGE_MAX)
		limit = PAGE_MAX;
	/* before=0 asks for nothing below 1: an empty page */
	if (!(has_before && before == 0) &&
	    store_messages(c->app->store, c->room,
			   has_after ? STORE_ASC : STORE_DESC,
			   has_after ? after : before, limit, &msgs, &n, err)) {
		http_error(c->resp, 500, "internal", "%s", err);
		return;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(o, "room", json_object_new_string(c->room));
	json_object_object_add(o, "last", json_object_new_int64((int64_t)c->info.last));
	for (i = 0; i < n; i++) {
		m = msg_public(c->room, msgs[i].index, msgs[i].record, NULL, err);
		if (m)
			json_object_array_add(arr, m);
	}
	json_object_object_add(o, "messages", arr);
	http_json(c->resp, 200, o);
	json_object_put(o);
	store_msgs_free(msgs, n);
}

/*
 * Validate and store a message a member sends, the same way the relay does
 * for sendMessage (lib/chat.h); 201 {"room","index"}. An Idempotency-Key
 * header (chat_key_ok) makes a retry safe: the same key again answers the
 * first post's 201 with "Idempotent-Replayed: true" and stores nothing;
 * the key with another room or text is 422 idempotency_key_reused.
 */
static void messages_post(struct route_ctx *c)
{
	static const int status[] = {
		[CHAT_BAD_REQUEST] = 400, [CHAT_NOT_FOUND] = 404,
		[CHAT_NOT_MEMBER] = 403, [CHAT_ERROR] = 500, [CHAT_KEY_REUSED] = 422,
	};
	const char *key = http_param(c->req, "HTTP_IDEMPOTENCY_KEY");
	struct json_object *body = NULL, *o;
	const char *text = NULL, *type = NULL;
	enum chat_result r;
	char err[ERR_LEN];
	uint64_t index;
	int replayed = 0;

	if (!c->user[0]) {
		http_error(c->resp, 401, "unauthorized", "a Bearer token is required to send");
		return;
	}
	/* membership first: a non-member learns nothing about the body */
	r = chat_check(c->app->store, c->user, c->room, err);
	if (r == CHAT_OK && key && !chat_key_ok(key)) {
		err_set(err, "Idempotency-Key must be 1 to %d of A-Z a-z 0-9 . _ : -", CHAT_KEY_MAX);
		r = CHAT_BAD_REQUEST;
	}
	if (r == CHAT_OK) {
		body = msg_parse_json(c->req->body, c->req->body_len, err);
		r = body ? chat_fields(body, &text, &type, err) : CHAT_BAD_REQUEST;
	}
	if (r == CHAT_OK)
		r = chat_store(c->app->store, c->user, c->room, type, text, key, &index,
			       &replayed, err);
	if (r == CHAT_ERROR && (store_full(c->app->store) || store_unavailable(c->app->store))) {
		/* the disk, or the group (no master, no acks): retry later */
		http_header(c->resp, store_full(c->app->store) ? "Retry-After: 10" : "Retry-After: 1");
		http_error(c->resp, 503, "unavailable", "%s", err);
		goto out;
	}
	if (r != CHAT_OK) {
		http_error(c->resp, status[r], chat_code(r), "%s", err);
		goto out;
	}
	if (replayed)
		http_header(c->resp, "Idempotent-Replayed: true");	/* as Stripe answers */
	else
		fifo_notify_message(c->app->conf.var, c->room, index);	/* the relay's followers */
	o = json_object_new_object();
	json_object_object_add(o, "room", json_object_new_string(c->room));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)index));
	http_json(c->resp, 201, o);
	json_object_put(o);
out:
	json_object_put(body);
}

/* Members of the room connected now: route_presence, once the reader may. */
static void presence(struct route_ctx *c)
{
	if (route_may_read(c))
		route_presence(c);
}

/* The index of /messages/{index}/...: 404 unless it is in the room. */
static int message_in_room(struct route_ctx *c)
{
	if (c->id >= 1 && c->id <= c->info.last)
		return 1;
	http_error(c->resp, 404, "not_found", "no message %llu in '%s'",
		   (unsigned long long)c->id, c->room);
	return 0;
}

/* hide / show: 200 {"room","index","hidden"}; the relay is told of the change. */
static void message_visibility(struct route_ctx *c, int hidden)
{
	struct json_object *o;
	char err[ERR_LEN];
	uint64_t seq;
	int r;

	if (!route_may_moderate(c) || !message_in_room(c))
		return;
	r = store_message_hide(c->app->store, c->room, c->id, hidden, &seq, err);
	if (r < 0) {
		http_error(c->resp, 500, "internal", "%s", err);
		return;
	}
	if (r)
		fifo_notify_change(c->app->conf.var, c->room, seq);
	o = json_object_new_object();
	json_object_object_add(o, "room", json_object_new_string(c->room));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)c->id));
	json_object_object_add(o, "hidden", json_object_new_boolean(hidden));
	http_json(c->resp, 200, o);
	json_object_put(o);
}

static void message_hide(struct route_ctx *c)
{
	message_visibility(c, 1);
}

static void message_show(struct route_ctx *c)
{
	message_visibility(c, 0);
}

/*
 * block / unblock the number that sent message c->id: 200 {"room","index",
 * "blocked"} whether or not it changed anything (a second moderator's
 * click is not an error); 409 when the message has no sender hash (a chat
 * message, or a picture stored before hashes were kept). The message
 * itself stays as it is: hiding it is a separate action.
 */
static void message_sender(struct route_ctx *c, int block)
{
	struct json_object *o;
	struct msg_fields f;
	char err[ERR_LEN], note[MSG_NOTE_LEN], *record = NULL;
	int r;

	if (!route_may_moderate(c) || !message_in_room(c))
		return;
	r = store_message_get(c->app->store, c->room, c->id, &record, err);
	if (r <= 0) {
		/* message_in_room said it is there: gone now is the store failing */
		http_error(c->resp, 500, "internal", "%s", r ? err : "message vanished");
		return;
	}
	r = msg_fields(record, &f);
	free(record);
	if (r || !f.sender[0]) {
		http_error(c->resp, 409, "conflict", "message %llu has no SMS sender to %s",
			   (unsigned long long)c->id, block ? "block" : "unblock");
		return;
	}
	if (block) {
		msg_sender_note(&f, c->room, c->id, note);
		r = store_sender_block(c->app->store, f.sender, note, err);
	} else {
		r = store_sender_unblock(c->app->store, f.sender, err);
	}
	if (r < 0) {
		http_error(c->resp, 500, "internal", "%s", err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "room", json_object_new_string(c->room));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)c->id));
	json_object_object_add(o, "blocked", json_object_new_boolean(block));
	http_json(c->resp, 200, o);
	json_object_put(o);
}

static void message_block(struct route_ctx *c)
{
	message_sender(c, 1);
}

static void message_unblock(struct route_ctx *c)
{
	message_sender(c, 0);
}

/*
 * A queued item as moderators see it: {"id","userId","chatMessage",
 * "createTime","media"}, media at /media/{room}/q{id}/{n} (moderators only).
 */
static struct json_object *queued_json(struct route_ctx *c, const struct store_msg *q)
{
	static const char *const keep[] = { "userId", "chatMessage", "createTime" };
	struct json_object *pub, *o, *v, *media, *arr, *m, *item;
	char err[ERR_LEN], url[160];
	size_t i, n;

	pub = msg_public(c->room, q->index, q->record, NULL, err);
	if (!pub)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64((int64_t)q->index));
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_object_get_ex(pub, keep[i], &v))
			json_object_object_add(o, keep[i], json_object_get(v));
	arr = json_object_new_array();
	if (json_object_object_get_ex(pub, "media", &media)) {
		n = json_object_array_length(media);
		for (i = 0; i < n; i++) {
			item = json_object_array_get_idx(media, i);
			m = json_object_new_object();
			snprintf(url, sizeof(url), "/media/%s/q%llu/%zu", c->room,
				 (unsigned long long)q->index, i);
			json_object_object_add(m, "url", json_object_new_string(url));
			if (json_object_object_get_ex(item, "contentType", &v))
				json_object_object_add(m, "contentType", json_object_get(v));
			json_object_array_add(arr, m);
		}
	}
	json_object_object_add(o, "media", arr);
	json_object_put(pub);
	return o;
}

static void queue_get(struct route_ctx *c)
{
	struct json_object *o, *arr, *item;
	struct store_msg *q = NULL;
	char err[ERR_LEN];
	size_t n = 0, i;

	if (!route_may_moderate(c))
		return;
	if (store_queue_list(c->app->store, c->room, &q, &n, err)) {
		http_error(c->resp, 500, "internal", "%s", err);
		return;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(o, "room", json_object_new_string(c->room));
	for (i = 0; i < n; i++)
		if ((item = queued_json(c, &q[i])))
			json_object_array_add(arr, item);
	json_object_object_add(o, "items", arr);
	http_json(c->resp, 200, o);
	json_object_put(o);
	store_msgs_free(q, n);
}

/* approve: 200 {"room","index"}, delivered like any new message; reject: 200 {"room","id"}. */
static void queue_take(struct route_ctx *c, int approve)
{
	struct json_object *o;
	char err[ERR_LEN];
	uint64_t index = 0;
	int r;

	if (!route_may_moderate(c))
		return;
	r = approve ? store_queue_approve(c->app->store, c->room, c->id, &index, err)
		    : store_queue_reject(c->app->store, c->room, c->id, err);
	if (r < 0) {
		http_error(c->resp, 500, "internal", "%s", err);
		return;
	}
	if (!r) {
		http_error(c->resp, 404, "not_found", "no queued item %llu in '%s'",
			   (unsigned long long)c->id, c->room);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "room", json_object_new_string(c->room));
	if (approve) {
		fifo_notify_message(c->app->conf.var, c->room, index);
		json_object_object_add(o, "index", json_object_new_int64((int64_t)index));
	} else {
		json_object_object_add(o, "id", json_object_new_int64((int64_t)c->id));
	}
	http_json(c->resp, 200, o);
	json_object_put(o);
}

static void queue_approve(struct route_ctx *c)
{
	queue_take(c, 1);
}

static void queue_reject(struct route_ctx *c)
{
	queue_take(c, 0);
}

struct route {
	const char *method;
	const char *tail;	/* after /api/rooms/{room}, '#' a number (c->id); NULL: path */
	const char *path;	/* exact, or a prefix if it ends in '/' */
	void (*fn)(struct route_ctx *c);
};

static const struct route routes[] = {
	{ "GET", NULL, "/api/health", health },
	{ "GET", NULL, "/api/metrics", metrics },
	{ "GET", "/messages", NULL, messages_get },
	{ "POST", "/messages", NULL, messages_post },
	{ "GET", "/presence", NULL, presence },
	{ "POST", "/messages/#/hide", NULL, message_hide },
	{ "POST", "/messages/#/show", NULL, message_show },
	{ "POST", "/messages/#/block", NULL, message_block },
	{ "POST", "/messages/#/unblock", NULL, message_unblock },
	{ "GET", "/queue", NULL, queue_get },
	{ "POST", "/queue/#/approve", NULL, queue_approve },
	{ "POST", "/queue/#/reject", NULL, queue_reject },
	{ "GET", NULL, "/media/", media_get },	/* parses the rest itself */
	{ "HEAD", NULL, "/media/", media_get },
};

/* Does path match rpath: exactly, or under it when rpath ends in '/'? */
static int path_matches(const char *rpath, const char *path)
{
	size_t n = strlen(rpath);

	if (n && rpath[n - 1] == '/')
		return !strncmp(rpath, path, n);
	return !strcmp(rpath, path);
}

/*
 * Does tail match pattern, where '#' stands for a decimal number (digits,
 * no leading zero, fits 64 bits), stored in *id? 1 or 0.
 */
static int tail_matches(const char *pattern, const char *tail, uint64_t *id)
{
	uint64_t n;

	for (; *pattern; pattern++) {
		if (*pattern != '#') {
			if (*tail++ != *pattern)
				return 0;
			continue;
		}
		if (*tail < '1' || *tail > '9')
			return 0;
		for (n = 0; *tail >= '0' && *tail <= '9'; tail++) {
			if (n > (UINT64_MAX - (uint64_t)(*tail - '0')) / 10)
				return 0;
			n = n * 10 + (uint64_t)(*tail - '0');
		}
		*id = n;
	}
	return *tail == '\0';
}

/* Split /api/rooms/{room}{tail}: room into c->room, returns the tail. */
static const char *room_path(struct route_ctx *c, const char *path)
{
	const char *p = path + strlen("/api/rooms/"), *slash;
	size_t n;

	if (strncmp(path, "/api/rooms/", 11))
		return NULL;
	slash = strchr(p, '/');
	if (!slash)
		return NULL;
	n = (size_t)(slash - p);
	/*
	 * Longer than any room may be: no room at all (404), never its first
	 * STORE_NAME_MAX bytes, which may well name one that exists.
	 */
	if (n > STORE_NAME_MAX)
		n = 0;
	memcpy(c->room, p, n);
	c->room[n] = '\0';
	return slash;
}

static void api(struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct route_ctx c = { .app = ctx, .req = req, .resp = resp };
	const struct route *rt, *match = NULL;
	const char *tail = room_path(&c, req->path);
	char err[ERR_LEN];
	int path_known = 0, ready, r;
	size_t i;

	/* health names a store or conf that is not ready itself */
	ready = !app_ready(c.app, app_var(NULL), err);
	if (!ready && strcmp(req->path, "/api/health")) {
		log_event(LOG_ERROR, "unavailable", "path", req->path, "detail", err, NULL);
		http_error(resp, 503, "unavailable", "store not available");
		return;
	}
	/* no server API without admin_token: 404, OPTIONS included */
	if (!ready) {
		/* health alone, below: no conf for CORS or the server API */
	} else if (admin_api_path(req->path) && !c.app->conf.admin_token[0]) {
		http_error(resp, 404, "not_found", "no such resource: %s", req->path);
		return;
	}
	if (ready && !strncmp(req->path, "/api/", 5) && http_cors(req, resp, c.app->conf.cors_origins))
		return;	/* OPTIONS, answered */
	if (ready && admin_api_path(req->path)) {
		admin_api(&c);
		return;
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		rt = &routes[i];
		if (rt->path ? !path_matches(rt->path, req->path)
			     : (!tail || !tail_matches(rt->tail, tail, &c.id)))
			continue;
		path_known = 1;
		if (!strcmp(rt->method, req->method))
			match = rt;
	}
	if (!path_known) {
		http_error(resp, 404, "not_found", "no such resource: %s", req->path);
		return;
	}
	if (!match) {
		http_error(resp, 405, "method_not_allowed", "%s is not allowed here", req->method);
		return;
	}
	if (match->tail) {
		r = store_room_get(c.app->store, c.room, &c.info, err);
		if (r < 0) {
			http_error(resp, 500, "internal", "%s", err);
			return;
		}
		if (!r) {
			http_error(resp, 404, "not_found", "no such room");
			return;
		}
		if (route_authenticate(&c))
			return;
	}
	match->fn(&c);
}

int main(int argc, char **argv)
{
	struct app app = { 0 };
	int ret;

	if (argc == 2 && !strcmp(argv[1], "--version"))
		return version_print("api.fcgi");
	signal(SIGPIPE, SIG_IGN);
	log_init("api");
	ret = http_serve(api, &app, API_MAX_BODY);
	app_close(&app);
	return ret;
}
