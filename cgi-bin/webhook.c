/* webhook.c - POST /twilio/sms: Twilio's incoming message webhook (FastCGI). */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "fifo.h"
#include "form.h"
#include "http.h"
#include "mirror.h"
#include "msg.h"
#include "twsig.h"

#define WEBHOOK_MAX_BODY (64 * 1024)	/* Twilio's bodies are a few KiB */
#define SMS_BODY_MAX 1600		/* characters: Twilio's own limit */
#define MEDIA_URL_MAX 1024

static const char twiml_ok[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

/* "sms:…5309": the last four digits of from, never the whole number. */
static void mask_sender(const char *from, char *out, size_t len)
{
	char digits[5] = "";
	size_t n = 0;
	const char *p;

	for (p = from ? from + strlen(from) : NULL; p && p > from && n < 4;) {
		p--;
		if (isdigit((unsigned char)*p)) {
			memmove(digits + 1, digits, n + 1);
			digits[0] = *p;
			n++;
		}
	}
	snprintf(out, len, "sms:\xe2\x80\xa6%s", digits);
}

static int sid_ok(const char *sid)
{
	size_t n = 0;

	for (; sid && sid[n]; n++)
		if (!isalnum((unsigned char)sid[n]))
			return 0;
	return n >= 2 && n <= 64;
}

/* A content type we are willing to repeat to browsers, or a safe default. */
static const char *media_type(const char *ct)
{
	size_t i;

	if (!ct || !*ct || strlen(ct) > 100)
		return "application/octet-stream";
	for (i = 0; ct[i]; i++)
		if (!isalnum((unsigned char)ct[i]) && !strchr("/+-.;= ", ct[i]))
			return "application/octet-stream";
	return ct;
}

/*
 * An absolute URL made only of RFC 3986 characters (unreserved, reserved,
 * %XX): anything else is not what Twilio sends and is never stored.
 */
static int url_ok(const char *url)
{
	size_t i, n = strlen(url);

	if (n > MEDIA_URL_MAX || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)))
		return 0;
	for (i = 0; i < n; i++) {
		if (url[i] == '%') {
			if (!isxdigit((unsigned char)url[i + 1]) ||
			    !isxdigit((unsigned char)url[i + 2]))
				return 0;
			i += 2;
		} else if (!isalnum((unsigned char)url[i]) &&
			   !strchr("-._~:/?#[]@!$&'()*+,;=", url[i])) {
			return 0;
		}
	}
	return 1;
}

/* UTF-8 characters in s (valid UTF-8 assumed). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The media items that match media_hosts; returns how many. */
static size_t collect_media(const struct conf *c, const struct form *f,
			    struct msg_media *media)
{
	const char *num = form_get(f, "NumMedia"), *url;
	char name[32];
	long count = num ? strtol(num, NULL, 10) : 0, i;
	size_t n = 0;

	if (count > MSG_MEDIA_MAX)
		count = MSG_MEDIA_MAX;
	for (i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "MediaUrl%ld", i);
		url = form_get(f, name);
		if (!url || !url_ok(url) || !conf_media_allowed(c, url))
			continue;	/* not Twilio's: never fetched, never shown */
		snprintf(name, sizeof(name), "MediaContentType%ld", i);
		media[n].src = url;
		media[n].content_type = media_type(form_get(f, name));
		n++;
	}
	return n;
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
	char src[MSG_MEDIA_MAX][MEDIA_URL_MAX + 1];
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
		    mirror_item_init(&m, p->app->conf.var, p->room, p->index, (unsigned)i, p->src[i], err))
			continue;
		t.conf = &p->app->conf;
		t.src = p->src[i];
		mr = mirror_fetch(&m, 0, mirror_twilio_fetch, &t, err);
		if (mr != MIRROR_OK) {
			if (mr != MIRROR_BUSY)	/* busy: a viewer is fetching it */
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
	struct msg_media media[MSG_MEDIA_MAX];
	struct form f = { 0 };
	char err[ERR_LEN], url[2048], sender[32], *record = NULL;
	const char *sid, *body;
	uint64_t index;
	size_t nmedia;
	int r;

	if (strcmp(req->method, "POST")) {
		http_header(resp, "Allow: POST");
		http_error(resp, 405, "method_not_allowed", "use POST");
		return;
	}
	if (app_ready(app, app_var(NULL), err)) {
		fprintf(stderr, "webhook: %s\n", err);
		http_error(resp, 503, "unavailable", "store not available");
		return;
	}
	if (!app->conf.twilio_auth_token[0]) {
		http_error(resp, 403, "forbidden",
			   "no twilio_auth_token configured: every webhook is refused");
		return;
	}
	if (form_parse(&f, req->body, req->body_len, err)) {
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	snprintf(url, sizeof(url), "%s%s", app->conf.public_url, req->uri);
	if (!tw_verify(url, &f, app->conf.twilio_auth_token,
		       http_param(req, "HTTP_X_TWILIO_SIGNATURE"))) {
		http_error(resp, 403, "forbidden", "missing or invalid X-Twilio-Signature");
		goto out;
	}
	sid = form_get(&f, "MessageSid");
	if (!sid)
		sid = form_get(&f, "SmsSid");
	if (!sid_ok(sid)) {
		http_error(resp, 400, "bad_request", "MessageSid missing or malformed");
		goto out;
	}
	body = form_get(&f, "Body");
	if (!body)
		body = "";
	if (!msg_utf8_ok(body, strlen(body))) {
		http_error(resp, 400, "bad_request", "Body is not valid UTF-8");
		goto out;
	}
	if (utf8_chars(body) > SMS_BODY_MAX) {
		http_error(resp, 400, "bad_request", "Body is over %d characters", SMS_BODY_MAX);
		goto out;
	}
	nmedia = collect_media(&app->conf, &f, media);
	mask_sender(form_get(&f, "From"), sender, sizeof(sender));
	record = msg_record(sender, nmedia ? "picture" : "text message", body,
			    media, nmedia, sid, err);
	if (!record)
		goto fail;
	if (ensure_room(app, err))
		goto fail;
	r = store_append(app->store, app->conf.twilio_room, sid, record,
			 strlen(record), &index, err);
	if (r < 0)
		goto fail;
	if (r == 1)
		fifo_notify_message(app->conf.var, app->conf.twilio_room, index);
	http_body(resp, 200, "text/xml", twiml_ok, sizeof(twiml_ok) - 1);
	prefetch_plan(app, resp, app->conf.twilio_room, index, media, nmedia);
	goto out;
fail:
	fprintf(stderr, "webhook: %s\n", err);
	http_error(resp, 500, "internal", "could not store the message");
out:
	free(record);
	form_free(&f);
}

int main(void)
{
	struct app app = { 0 };
	int ret;

	signal(SIGPIPE, SIG_IGN);
	ret = http_serve(webhook, &app, WEBHOOK_MAX_BODY);
	app_close(&app);
	return ret;
}
