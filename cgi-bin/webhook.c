/* webhook.c - POST /twilio/sms: Twilio's incoming message webhook (FastCGI). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "fifo.h"
#include "form.h"
#include "http.h"
#include "inbound.h"
#include "log.h"
#include "mirror.h"
#include "msg.h"
#include "twsig.h"
#include "version.h"

#define WEBHOOK_MAX_BODY (64 * 1024)	/* Twilio's bodies are a few KiB */

static const char twiml_ok[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

/* The reply TwiML: text XML-escaped (& < > " '). Returns malloc'd or NULL. */
static char *twiml_message(const char *text)
{
	static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>";
	static const char tail[] = "</Message></Response>";
	size_t n = sizeof(head) + sizeof(tail) + 6 * strlen(text);
	char *out = malloc(n), *o;
	const char *p;

	if (!out)
		return NULL;
	o = out + sprintf(out, "%s", head);
	for (p = text; *p; p++) {
		switch (*p) {
		case '&': o += sprintf(o, "&amp;"); break;
		case '<': o += sprintf(o, "&lt;"); break;
		case '>': o += sprintf(o, "&gt;"); break;
		case '"': o += sprintf(o, "&quot;"); break;
		case '\'': o += sprintf(o, "&apos;"); break;
		default: *o++ = *p;
		}
	}
	strcpy(o, tail);
	return out;
}

/*
 * Make sure twilio_room exists (it is created on first run; a renamed one
 * in the conf becomes a new public room). Rooms are never deleted, so each
 * process checks a name once: reading the room on every webhook cost 29%
 * of the program's CPU (docs/BENCHMARKS.md). Returns 0/-1.
 */
static int ensure_room(struct app *app, char *err)
{
	static char known[sizeof(app->conf.twilio_room)];
	struct store_room room;
	int r;

	if (known[0] && !strcmp(known, app->conf.twilio_room))
		return 0;
	r = store_room_get(app->store, app->conf.twilio_room, &room, err);
	if (r == 0)
		r = store_room_add(app->store, app->conf.twilio_room, 1, err) < 0 ? -1 : 1;
	if (r < 0)
		return -1;
	strcpy(known, app->conf.twilio_room);
	return 0;
}

/*
 * Count a webhook's outcome (/api/metrics) and keep the refused streak
 * (/api/health): a refusal adds one, a webhook whose signature checked out
 * ends the streak, one that failed before the check says nothing of the token.
 */
static void outcome(struct stats *stats, enum stats_counter c, int signature_ok)
{
	stats_add(stats, c, 1);
	if (c == STATS_WEBHOOK_REFUSED_SIGNATURE)
		stats_add(stats, STATS_WEBHOOK_REFUSED_STREAK, 1);
	else if (signature_ok)
		stats_set(stats, STATS_WEBHOOK_REFUSED_STREAK, 0);
}

/* A refused or bad webhook: counted, and one log line with its reason. */
static void refuse(const struct http_req *req, struct app *app, enum stats_counter c,
		   int signature_ok, const char *reason, const char *detail)
{
	outcome(app_stats(app, app_var(NULL)), c, signature_ok);
	log_event(c == STATS_WEBHOOK_ERROR ? LOG_ERROR : LOG_WARN,
		  c == STATS_WEBHOOK_REFUSED_SIGNATURE ? "refused" :
		  c == STATS_WEBHOOK_ERROR ? "error" : "bad_request",
		  "reason", reason, "ip", http_param(req, "REMOTE_ADDR"),
		  detail ? "detail" : NULL, detail, NULL);
}

/*
 * Prefetch: the first viewer of a new picture must not wait for Twilio and
 * libvips, so this process fetches, cleans and makes every variant of the
 * message's pictures itself, right after Twilio has its 200 (http.h's
 * resp->after runs once FCGX_Finish_r handed the answer over) and before
 * it takes the next request. No worker process to run and supervise: the
 * web server already keeps several webhook processes (lighttpd max-procs,
 * mod_fcgid), so a busy one only means the next webhook goes to another.
 * Bounded: no item is started after PREFETCH_BUDGET_MS (each fetch is
 * bounded by fetch.h's timeouts, each clean by the pixel limit), and an item
 * whose lock is held (a viewer got there first) is left to that viewer.
 * A failed prefetch is only logged: the first /media request tries again.
 */
#define PREFETCH_BUDGET_MS 30000L

static struct prefetch {
	struct app *app;
	char room[CONF_VAL_MAX];
	uint64_t index;
	size_t n;
	char src[MSG_MEDIA_MAX][INBOUND_URL_MAX + 1];
	char ctype[MSG_MEDIA_MAX][128];
} prefetch_job;

static void prefetch_run(void *arg)
{
	static const int widths[] = MIRROR_WIDTHS;
	const struct prefetch *p = arg;
	long long start = clock_ms();
	struct mirror_item m;
	struct mirror_twilio t;
	enum mirror_result mr;
	char err[ERR_LEN];
	size_t i, w;

	for (i = 0; i < p->n; i++) {
		if (clock_ms() - start > PREFETCH_BUDGET_MS) {
			fprintf(stderr, "prefetch: %s/%llu: over %ld ms, the rest is left to viewers\n",
				p->room, (unsigned long long)p->index, PREFETCH_BUDGET_MS);
			break;
		}
		/* what media.c would refuse to fetch is not fetched here either */
		if (strncmp(p->ctype[i], "image/", 6) || !conf_media_allowed(&p->app->conf, p->src[i]) ||
		    mirror_item_init(&m, p->app->conf.var, p->room, p->index, (unsigned)i, p->src[i],
				     p->app->conf.media_retry_after, err))
			continue;
		t.conf = &p->app->conf;
		t.src = p->src[i];
		mr = mirror_fetch(&m, 0, mirror_twilio_fetch, &t, err);
		if (mr != MIRROR_BUSY)	/* busy: a viewer is fetching it, and counts it */
			stats_add(app_stats(p->app, p->app->conf.var), STATS_MEDIA_FETCHES, 1);
		if (mr != MIRROR_OK && mr != MIRROR_BUSY)
			stats_add(app_stats(p->app, p->app->conf.var), STATS_MEDIA_FETCH_FAILED, 1);
		if (mr != MIRROR_OK) {
			if (mr != MIRROR_BUSY)
				fprintf(stderr, "prefetch: %s/%llu/%zu: %s\n", p->room,
					(unsigned long long)p->index, i, err);
			continue;
		}
		/* a variant being made by a viewer (busy) is theirs: on to the next */
		for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
			mr = mirror_variant(&m, widths[w], 0, err);
			if (mr != MIRROR_OK && mr != MIRROR_BUSY)
				fprintf(stderr, "prefetch: %s/%llu/%zu: %s\n", p->room,
					(unsigned long long)p->index, i, err);
		}
		fprintf(stderr, "prefetch: %s/%llu/%zu: ready in %lld ms\n", p->room,
			(unsigned long long)p->index, i, clock_ms() - start);
	}
}

/* Plan the prefetch of message index in room (its media as stored) for after the answer. */
static void prefetch_plan(struct app *app, struct http_resp *resp, const char *room,
			  uint64_t index, const struct msg_media *media, size_t n)
{
	struct prefetch *p = &prefetch_job;
	size_t i;

	if (app->conf.media_prefetch != CONF_ON || !n)
		return;
	p->app = app;
	snprintf(p->room, sizeof(p->room), "%s", room);
	p->index = index;
	p->n = n;
	for (i = 0; i < n; i++) {
		snprintf(p->src[i], sizeof(p->src[i]), "%s", media[i].src);
		snprintf(p->ctype[i], sizeof(p->ctype[i]), "%s", media[i].content_type);
	}
	resp->after = prefetch_run;
	resp->after_arg = p;
}

static void webhook(struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct app *app = ctx;
	struct inbound in;
	struct form f = { 0 };
	char err[ERR_LEN], url[2048], num[24], *record = NULL, *reply = NULL;
	char hash[STORE_SENDER_HEX + 1];
	const char *sid, *why;
	uint64_t index;
	int r;

	if (strcmp(req->method, "POST")) {
		http_header(resp, "Allow: POST");
		http_error(resp, 405, "method_not_allowed", "use POST");
		refuse(req, app, STATS_WEBHOOK_BAD_REQUEST, 0, "method", req->method);
		return;
	}
	if (app_ready(app, app_var(NULL), err)) {
		refuse(req, app, STATS_WEBHOOK_ERROR, 0, "store_unavailable", err);
		http_error(resp, 503, "unavailable", "store not available");
		return;
	}
	if (!app->conf.twilio_auth_token[0]) {
		http_error(resp, 403, "forbidden",
			   "no twilio_auth_token configured: every webhook is refused");
		refuse(req, app, STATS_WEBHOOK_REFUSED_SIGNATURE, 0, "no_auth_token", NULL);
		return;
	}
	if (form_parse(&f, req->body, req->body_len, err)) {
		http_error(resp, 400, "bad_request", "%s", err);
		refuse(req, app, STATS_WEBHOOK_BAD_REQUEST, 0, "form", err);
		return;
	}
	snprintf(url, sizeof(url), "%s%s", app->conf.public_url, req->uri);
	if (!tw_verify(url, &f, app->conf.twilio_auth_token,
		       http_param(req, "HTTP_X_TWILIO_SIGNATURE"))) {
		http_error(resp, 403, "forbidden", "missing or invalid X-Twilio-Signature");
		/* the URL signed against (no query) names a wrong public_url */
		snprintf(url, sizeof(url), "%s%s", app->conf.public_url, req->path);
		refuse(req, app, STATS_WEBHOOK_REFUSED_SIGNATURE, 0,
		       http_param(req, "HTTP_X_TWILIO_SIGNATURE") ? "bad_signature" : "missing_signature",
		       url);
		goto out;
	}
	if (inbound_read(&app->conf, &f, &in, err)) {
		http_error(resp, 400, "bad_request", "%s", err);
		refuse(req, app, STATS_WEBHOOK_BAD_REQUEST, 1, in.reason, in.sid);
		goto out;
	}
	sid = in.sid;
	/* Twilio must not retry these: 200, empty TwiML, nothing stored */
	why = in.not_posted;
	if (why)
		goto refused;
	if (inbound_sender_hash(&app->conf, in.from, hash, err))
		goto fail;
	r = store_sender_blocked(app->store, hash, err);
	if (r < 0)
		goto fail;
	if (r) {
		why = "blocked sender";
		goto refused;
	}
	if (ensure_room(app, err))
		goto fail;
	if (in.nmedia) {
		r = store_rate_take(app->store, app->conf.twilio_room, hash,
				    app->conf.sender_rate, time(NULL), err);
		if (r < 0)
			goto fail;
		if (!r) {
			why = "sender over sender_rate";
			goto refused;
		}
	}
	record = inbound_record(&in, hash, err);
	if (!record)
		goto fail;
	if (app->conf.moderation == CONF_MOD_PRE) {
		/* held for a moderator: not in the room, nothing for the relay */
		r = store_queue_add(app->store, app->conf.twilio_room, sid, record,
				    strlen(record), &index, err);
	} else {
		r = store_append(app->store, app->conf.twilio_room, sid, record,
				 strlen(record), &index, err);
		if (r == 1)
			fifo_notify_message(app->conf.var, app->conf.twilio_room, index);
	}
	if (r < 0)
		goto fail;
	outcome(app_stats(app, app_var(NULL)),
		r == 0 ? STATS_WEBHOOK_DUPLICATE :
		app->conf.moderation == CONF_MOD_PRE ? STATS_WEBHOOK_QUEUED : STATS_WEBHOOK_STORED, 1);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)index);
	log_event(LOG_INFO, r == 0 ? "duplicate" : app->conf.moderation == CONF_MOD_PRE ? "queued" : "stored",
		  "room", app->conf.twilio_room, app->conf.moderation == CONF_MOD_PRE ? "queue_id" : "index",
		  num, "sid", sid, "from", in.user, NULL);
	/* a new picture on the wall: ready before its first viewer asks */
	if (r == 1 && app->conf.moderation != CONF_MOD_PRE)
		prefetch_plan(app, resp, app->conf.twilio_room, index, in.media, in.nmedia);
	if (in.nmedia && app->conf.twilio_reply[0]) {
		reply = twiml_message(app->conf.twilio_reply);
		if (!reply) {
			err_set(err, "reply: out of memory");
			goto fail;
		}
		http_body(resp, 200, "text/xml", reply, strlen(reply));
		goto out;
	}
	http_body(resp, 200, "text/xml", twiml_ok, sizeof(twiml_ok) - 1);
	goto out;
refused:
	/* answered 200 (Twilio must not retry), counted and logged, never the number */
	outcome(app_stats(app, app_var(NULL)), STATS_WEBHOOK_NOT_POSTED, 1);
	log_event(LOG_INFO, "not_posted", "reason", why, "sid", sid, NULL);
	http_body(resp, 200, "text/xml", twiml_ok, sizeof(twiml_ok) - 1);
	goto out;
fail:
	refuse(req, app, STATS_WEBHOOK_ERROR, 1, store_full(app->store) ? "disk_full" :
	       store_unavailable(app->store) ? "group_unavailable" : "store_failed", err);
	if (store_full(app->store)) {
		/* nothing stored, nothing lost: Twilio (or the sender) may try again */
		http_header(resp, "Retry-After: 10");
		http_error(resp, 503, "unavailable", "disk full: the message was not stored");
	} else if (store_unavailable(app->store)) {
		/*
		 * No master, or no answer or acks from it: maybe stored there;
		 * Twilio's retry of this MessageSid finds it if so (store.h).
		 */
		http_header(resp, "Retry-After: 1");
		http_error(resp, 503, "unavailable", "%s", err);
	} else {
		http_error(resp, 500, "internal", "could not store the message");
	}
out:
	free(record);
	free(reply);
	form_free(&f);
}

int main(int argc, char **argv)
{
	struct app app = { 0 };
	int ret;

	if (argc == 2 && !strcmp(argv[1], "--version"))
		return version_print("webhook.fcgi");
	signal(SIGPIPE, SIG_IGN);
	log_init("webhook");
	ret = http_serve(webhook, &app, WEBHOOK_MAX_BODY);
	app_close(&app);
	return ret;
}
