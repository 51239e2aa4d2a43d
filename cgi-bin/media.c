/* media.c - /media/{room}/{index}/{n}[/{w}]: the HTTP face of the mirror (mirror.h): check, fetch and clean once, let lighttpd send it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "err.h"
#include "fetch.h"
#include "media.h"
#include "mediapath.h"
#include "mirror.h"
#include "msg.h"

#define MEDIA_SRC_MAX 2048

/* A waiter gives up after the holder's whole fetch could have run, and more. */
#define MEDIA_LOCK_WAIT_MS (FETCH_TOTAL_TIMEOUT_MS + 10000)
/*
 * Public media may be taken down (hidden) at any time: a short shared
 * lifetime, so a CDN or proxy stops serving it within a minute without
 * a purge API (docs/DESIGN.md, "Moderation"); the ETag keeps revalidation cheap.
 */
#define MEDIA_CACHE_PUBLIC "public, max-age=60"
#define MEDIA_CACHE_PRIVATE "private, max-age=60"
/* A picture is never a page: no script, no plugin, even opened directly. */
#define MEDIA_CSP "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"

/*
 * One media item of one message, as the request names it and the message
 * record describes it; where it lives on disk is the mirror's (mirror.h).
 */
struct media_item {
	uint64_t index;		/* the message's, or the queue id when queued */
	int queued;		/* /media/ROOM/qID/N: a queued item (moderators only) */
	unsigned n;
	int width;		/* 0: the clean picture; else its WebP variant */
	char src[MEDIA_SRC_MAX];
	char ctype[64];		/* as the message record declares it */
	struct mirror_item mirror;
	/* what is served: the clean file or the variant, its tag and type */
	char path[MIRROR_PATH_MAX];
	char etag[MIRROR_ETAG_LEN + 8];
	const char *type;
};

/*
 * lighttpd URL-decodes the X-Sendfile value (buffer_urldecode_path in
 * 1.4.69): encode everything but a safe set so any $VAR survives. Returns
 * -1 if it does not fit in len.
 */
static int sendfile_value(const char *path, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p; p++) {
		if (o + 4 > len)
			return -1;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._-~", *p)) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	buf[o] = '\0';
	return 0;
}

/* The bytes of path as the response body (no lighttpd to send it). */
static int body_from_file(struct http_resp *resp, const char *path, char *err)
{
	struct stat st;
	char *buf = NULL;
	FILE *f = fopen(path, "rb");
	int ret = -1;

	if (!f)
		return err_set(err, "fopen %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st)) {
		err_set(err, "fstat %s: %s", path, strerror(errno));
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err_set(err, "malloc: out of memory");
		goto out;
	}
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		err_set(err, "fread %s: short read", path);
		goto out;
	}
	free(resp->body);
	resp->body = buf;
	resp->len = (size_t)st.st_size;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	fclose(f);
	return ret;
}

/*
 * lighttpd sends the file itself (X-Sendfile: its /media/ block enables
 * "x-sendfile" with x-sendfile-docroot $VAR/media/). Any other server
 * (Apache's mod_fcgid, plain CGI in tests) gets the bytes from us.
 */
static int behind_lighttpd(const struct route_ctx *c)
{
	const char *sw = http_param(c->req, "SERVER_SOFTWARE");

	return sw && !strncmp(sw, "lighttpd/", 9);
}

/* 200 with m->path: X-Sendfile for lighttpd, else the bytes. */
static void serve(struct route_ctx *c, const struct media_item *m)
{
	char value[1024], err[ERR_LEN];
	size_t left;

	http_body(c->resp, 200, m->type, "", 0);
	http_header(c->resp, "Cache-Control: %s", c->info.is_public && !m->queued ? MEDIA_CACHE_PUBLIC : MEDIA_CACHE_PRIVATE);
	http_header(c->resp, "ETag: \"%s\"", m->etag);
	http_header(c->resp, "X-Content-Type-Options: nosniff");
	http_header(c->resp, "Content-Security-Policy: %s", MEDIA_CSP);
	if (!behind_lighttpd(c)) {
		if (body_from_file(c->resp, m->path, err)) {
			c->resp->headers[0] = '\0';
			http_error(c->resp, 500, "internal", "%s", err);
		}
		return;
	}
	left = sizeof(c->resp->headers) - strlen(c->resp->headers) - sizeof("X-Sendfile: \r\n");
	if (sendfile_value(m->path, value, left < sizeof(value) ? left : sizeof(value))) {
		c->resp->headers[0] = '\0';
		http_error(c->resp, 500, "internal", "media path too long for X-Sendfile");
		return;
	}
	http_header(c->resp, "X-Sendfile: %s", value);
}

/* Does If-None-Match name our tag (or "*")? */
static int not_modified(const struct route_ctx *c, const struct media_item *m)
{
	const char *inm = http_param(c->req, "HTTP_IF_NONE_MATCH");
	char quoted[sizeof(m->etag) + 2];

	if (!inm)
		return 0;
	snprintf(quoted, sizeof(quoted), "\"%s\"", m->etag);
	return strstr(inm, quoted) || !strcmp(inm, "*");
}

/*
 * Non-image media (video, vCard, PDF, audio...) are not shown on the wall,
 * so they are never fetched or served: only what the message declares as
 * an image/ type goes to the mirror, which then trusts the bytes, not the
 * declaration (picture_clean accepts JPEG, PNG, GIF and WebP only).
 */
static int media_is_picture(const char *ctype)
{
	return !strncmp(ctype, "image/", 6);
}

/* Answer a mirror failure: 502 upstream or not a picture, 503 busy, else 500. */
static void media_failed(struct route_ctx *c, const struct media_item *m,
			 enum mirror_result mr, const char *err)
{
	fprintf(stderr, "media: %s/%llu/%u: %s\n", c->room, (unsigned long long)m->index, m->n, err);
	if (mr == MIRROR_UPSTREAM)
		http_error(c->resp, 502, "bad_gateway", "could not fetch the media: %s", err);
	else if (mr == MIRROR_BAD)
		/* err names local paths: the log has it, the public a summary */
		http_error(c->resp, 502, "bad_gateway", "the media is not a picture that can be shown "
			   "(undecodable, not JPEG, PNG, GIF or WebP, or over 50 megapixels)");
	else if (mr == MIRROR_BUSY)
		http_error(c->resp, 503, "unavailable", "the media is still being fetched: try again");
	else
		http_error(c->resp, 500, "internal", "could not keep the media");
}

/*
 * Make what m names exist (the clean picture, fetched once; then the
 * variant, made once) and fill m->path and m->type. Returns 0, or -1 with
 * the error answered.
 */
static int media_make(struct route_ctx *c, struct media_item *m)
{
	struct mirror_twilio t = { &c->app->conf, m->src };
	enum mirror_result mr;
	char err[ERR_LEN];

	if (mirror_has(&m->mirror)) {
		stats_add(app_stats(c->app, c->app->conf.var), STATS_MEDIA_HITS, 1);
	} else {
		/* media_hosts may have changed since the webhook stored the URL */
		if (!conf_media_allowed(&c->app->conf, m->src)) {
			fprintf(stderr, "media: %s/%llu/%u: host no longer in media_hosts\n",
				c->room, (unsigned long long)m->index, m->n);
			http_error(c->resp, 502, "bad_gateway", "the media host is not in media_hosts");
			return -1;
		}
		mr = mirror_fetch(&m->mirror, MEDIA_LOCK_WAIT_MS, mirror_twilio_fetch, &t, err);
		stats_add(app_stats(c->app, c->app->conf.var), STATS_MEDIA_FETCHES, 1);
		if (mr != MIRROR_OK) {
			stats_add(app_stats(c->app, c->app->conf.var), STATS_MEDIA_FETCH_FAILED, 1);
			media_failed(c, m, mr, err);
			return -1;
		}
	}
	if (!m->width) {
		snprintf(m->path, sizeof(m->path), "%s", m->mirror.file);
		m->type = mirror_type(&m->mirror);
		if (!m->type) {
			http_error(c->resp, 500, "internal", "the kept picture is of no known type");
			return -1;
		}
		return 0;
	}
	mr = mirror_variant(&m->mirror, m->width, MEDIA_LOCK_WAIT_MS, err);
	if (mr != MIRROR_OK) {
		media_failed(c, m, mr, err);
		return -1;
	}
	mirror_variant_path(&m->mirror, m->width, m->path, sizeof(m->path));
	m->type = "image/webp";
	return 0;
}

void media_get(struct route_ctx *c)
{
	struct media_item m;
	struct mediapath mp;
	char err[ERR_LEN], *record = NULL, mroom[STORE_NAME_MAX + 8];
	struct msg_fields mf;
	int r;

	memset(&m, 0, sizeof(m));
	if (!mediapath_parse(c->req->uri, &mp)) {
		http_error(c->resp, 404, "not_found", "no such media: use /media/{room}/{index}/{n}");
		return;
	}
	snprintf(c->room, sizeof(c->room), "%s", mp.room);
	m.index = mp.index;
	m.queued = mp.queued;
	m.n = mp.n;
	m.width = mp.width;
	r = store_room_get(c->app->store, c->room, &c->info, err);
	if (r <= 0) {
		if (r < 0)
			http_error(c->resp, 500, "internal", "%s", err);
		else
			http_error(c->resp, 404, "not_found", "no such room");
		return;
	}
	if (route_authenticate(c) || !route_may_read(c))
		return;
	/* queued media: the room's moderators only; to anyone else it is not there */
	if (m.queued && (r = c->user[0] ? store_is_moderator(c->app->store, c->user, c->room, err) : 0) <= 0)
		;
	else if (m.queued)
		r = store_queue_get(c->app->store, c->room, m.index, &record, err);
	else
		r = m.index > c->info.last ? 0
			: store_message_get(c->app->store, c->room, m.index, &record, err);
	if (r > 0 && !m.queued && (msg_fields(record, &mf) || mf.hidden)) {
		free(record);	/* hidden (or unreadable): as if it were not there */
		r = 0;
	}
	if (r <= 0) {
		if (r < 0)
			http_error(c->resp, 500, "internal", "%s", err);
		else
			http_error(c->resp, 404, "not_found", "no message %llu in '%s'",
				   (unsigned long long)m.index, c->room);
		return;
	}
	r = msg_media_get(record, m.n, m.src, sizeof(m.src), m.ctype, sizeof(m.ctype));
	free(record);
	if (r <= 0) {
		if (r < 0)
			http_error(c->resp, 500, "internal", "unreadable message record");
		else
			http_error(c->resp, 404, "not_found", "message %llu has no media item %u",
				   (unsigned long long)m.index, m.n);
		return;
	}
	/* a type that fills the buffer was cut: say nothing rather than half */
	if (!m.ctype[0] || strlen(m.ctype) >= sizeof(m.ctype) - 1)
		snprintf(m.ctype, sizeof(m.ctype), "application/octet-stream");
	/* queued items are mirrored apart ("ROOM.q": '.' is in no room name) */
	snprintf(mroom, sizeof(mroom), "%s%s", c->room, m.queued ? ".q" : "");
	if (mirror_item_init(&m.mirror, c->app->conf.var, mroom, m.index, m.n, m.src,
			     c->app->conf.media_retry_after, err) ||
	    strlen(m.src) >= sizeof(m.src) - 1) {
		http_error(c->resp, 500, "internal", "media path or URL too long");
		return;
	}
	if (!media_is_picture(m.ctype)) {
		http_error(c->resp, 404, "not_found",
			   "media item %u of message %llu is not a picture: not shown",
			   m.n, (unsigned long long)m.index);
		return;
	}
	if (m.width)
		snprintf(m.etag, sizeof(m.etag), "%s-%d", m.mirror.etag, m.width);
	else
		snprintf(m.etag, sizeof(m.etag), "%s", m.mirror.etag);
	if (not_modified(c, &m)) {
		http_body(c->resp, 304, m.width ? "image/webp" : "application/octet-stream", "", 0);
		http_header(c->resp, "ETag: \"%s\"", m.etag);
		http_header(c->resp, "Cache-Control: %s", c->info.is_public && !m.queued ? MEDIA_CACHE_PUBLIC : MEDIA_CACHE_PRIVATE);
		return;
	}
	if (media_make(c, &m))
		return;
	serve(c, &m);
}
