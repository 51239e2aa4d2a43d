/* media.c - /media/{room}/{index}/{n}: fetch Twilio's file once, keep it under $VAR/media, let lighttpd send it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "err.h"
#include "fetch.h"
#include "media.h"
#include "msg.h"

#define MEDIA_PATH_MAX (CONF_PATH_MAX + 128)
#define MEDIA_SRC_MAX 2048
/* A waiter gives up after the holder's whole fetch could have run, and more. */
#define MEDIA_LOCK_WAIT_MS (FETCH_TOTAL_TIMEOUT_MS + 10000)
#define MEDIA_CACHE_PUBLIC "public, max-age=31536000, immutable"
#define MEDIA_CACHE_PRIVATE "private, max-age=31536000, immutable"
/* A picture is never a page: no script, no plugin, even opened directly. */
#define MEDIA_CSP "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"

/*
 * One media item of one message. Every path is built from the validated
 * room name and numbers, never from request text:
 *   file  VAR/media/ROOM/INDEX-N-ETAG   the complete file, immutable
 *   part  VAR/media/tmp/ROOM.INDEX.N.part   being fetched (under the lock)
 *   lock  VAR/media/tmp/ROOM.INDEX.N.lock   flock'd while fetching
 * ETAG is 16 hex digits of SHA-256 of the upstream URL: Twilio's media URL
 * names one immutable file, so the tag never needs the bytes, and a store
 * recreated under an old media directory cannot serve a stale file.
 */
struct media_item {
	uint64_t index;
	unsigned n;
	char src[MEDIA_SRC_MAX];
	char ctype[64];
	char etag[17];
	char file[MEDIA_PATH_MAX];
	char part[MEDIA_PATH_MAX];
	char lock[MEDIA_PATH_MAX];
};

/* Digits only, no sign, no leading zero (one spelling per number), <= max. */
static int parse_number(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return 0;	/* overflow */
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > max)
		return 0;
	*v = x;
	return 1;
}

/*
 * Split the raw request target (before '?') "/media/ROOM/INDEX/N" into
 * c->room, m->index and m->n. Percent escapes, dot segments, extra or empty
 * segments are not a media path: 0. Returns 1 when it is one.
 */
static int parse_path(const char *uri, struct route_ctx *c, struct media_item *m)
{
	const char *p, *end, *s1, *s2;
	uint64_t n;

	if (strncmp(uri, "/media/", 7))
		return 0;
	p = uri + 7;
	end = p + strcspn(p, "?#");
	s1 = memchr(p, '/', (size_t)(end - p));
	if (!s1 || s1 == p || s1 - p > STORE_NAME_MAX)
		return 0;
	memcpy(c->room, p, (size_t)(s1 - p));
	c->room[s1 - p] = '\0';
	if (!store_name_ok(c->room))
		return 0;
	s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
	if (!s2 || !parse_number(s1 + 1, (size_t)(s2 - s1 - 1), UINT64_MAX, &m->index) ||
	    m->index == 0 ||
	    !parse_number(s2 + 1, (size_t)(end - s2 - 1), MSG_MEDIA_MAX - 1, &n))
		return 0;
	m->n = (unsigned)n;
	return 1;
}

/* 16 hex digits of SHA-256 of s into hex (17 bytes). */
static void etag_of(const char *s, char *hex)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256((const unsigned char *)s, strlen(s), md);
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The three paths of m under var; -1 if var is too long. */
static int item_paths(struct media_item *m, const char *var, const char *room)
{
	size_t len = sizeof(m->file);
	unsigned long long ix = (unsigned long long)m->index;

	if ((size_t)snprintf(m->file, len, "%s/media/%s/%llu-%u-%s", var, room, ix, m->n, m->etag) >= len ||
	    (size_t)snprintf(m->part, len, "%s/media/tmp/%s.%llu.%u.part", var, room, ix, m->n) >= len ||
	    (size_t)snprintf(m->lock, len, "%s/media/tmp/%s.%llu.%u.lock", var, room, ix, m->n) >= len)
		return -1;
	return 0;
}

static int is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* mkdir that is content with an existing directory. */
static int mkdir_ok(const char *path, char *err)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return err_set(err, "mkdir %s: %s", path, strerror(errno));
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Take the per-item lock: create and flock path, and make sure the path
 * still names the inode we locked (a holder unlinks it when done, so a
 * waiter may have locked a file nobody else will ever see). Returns the
 * open fd, -1 on error, -2 if still held after MEDIA_LOCK_WAIT_MS.
 */
static int lock_take(const char *path, char *err)
{
	long long deadline = now_ms() + MEDIA_LOCK_WAIT_MS;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct stat a, b;
	int fd;

	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_set(err, "open %s: %s", path, strerror(errno));
		while (flock(fd, LOCK_EX | LOCK_NB)) {
			if (errno != EWOULDBLOCK && errno != EINTR) {
				err_set(err, "flock %s: %s", path, strerror(errno));
				close(fd);
				return -1;
			}
			if (now_ms() > deadline) {
				err_set(err, "flock %s: still held after %ld ms", path, (long)MEDIA_LOCK_WAIT_MS);
				close(fd);
				return -2;
			}
			nanosleep(&pause, NULL);
		}
		if (!fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd);	/* the holder removed it before we got it: again */
	}
}

/* Release: remove the lock file first, so no newcomer locks a dead inode for long. */
static void lock_drop(const char *path, int fd)
{
	unlink(path);
	close(fd);
}

/*
 * Fetch m->src into m->file, once: under the item's lock, re-check (a
 * concurrent request may have fetched it meanwhile), fetch into m->part,
 * flush, rename. Nothing but a complete file ever appears at m->file, and
 * on any failure the part file is removed. Returns 0; -1 upstream failure
 * (502); -2 local failure (500); -3 lock wait timed out (503). err filled.
 */
static int item_fetch(const struct conf *conf, const char *room, struct media_item *m,
		      char *err)
{
	char dir[MEDIA_PATH_MAX];
	struct fetch_opts o;
	int lock = -1, fd = -1, ret = -2;

	snprintf(dir, sizeof(dir), "%s/media", conf->var);
	if (mkdir_ok(dir, err))
		return -2;
	snprintf(dir, sizeof(dir), "%s/media/tmp", conf->var);
	if (mkdir_ok(dir, err))
		return -2;
	snprintf(dir, sizeof(dir), "%s/media/%s", conf->var, room);
	if (mkdir_ok(dir, err))
		return -2;
	lock = lock_take(m->lock, err);
	if (lock < 0)
		return lock == -2 ? -3 : -2;
	if (is_file(m->file)) {
		ret = 0;
		goto out;
	}
	fd = open(m->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "open %s: %s", m->part, strerror(errno));
		goto out;
	}
	fetch_opts_init(&o, conf->twilio_account_sid, conf->twilio_auth_token,
			conf->media_max_bytes);
	if (fetch_to_fd(m->src, &o, fd, NULL, err)) {
		ret = -1;
		goto out;
	}
	/* the file is served as is forever: on disk before it has its name */
	if (fdatasync(fd)) {
		err_set(err, "fdatasync %s: %s", m->part, strerror(errno));
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		err_set(err, "close %s: %s", m->part, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(m->part, m->file)) {
		err_set(err, "rename %s: %s", m->file, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(m->part);
	lock_drop(m->lock, lock);
	return ret;
}

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

/* 200 with the file: X-Sendfile for lighttpd, else the bytes. */
static void serve(struct route_ctx *c, const struct media_item *m)
{
	char value[1024], err[ERR_LEN];
	size_t left;

	http_body(c->resp, 200, m->ctype, "", 0);
	http_header(c->resp, "Cache-Control: %s", c->info.is_public ? MEDIA_CACHE_PUBLIC : MEDIA_CACHE_PRIVATE);
	http_header(c->resp, "ETag: \"%s\"", m->etag);
	http_header(c->resp, "X-Content-Type-Options: nosniff");
	http_header(c->resp, "Content-Security-Policy: %s", MEDIA_CSP);
	if (!behind_lighttpd(c)) {
		if (body_from_file(c->resp, m->file, err)) {
			c->resp->headers[0] = '\0';
			http_error(c->resp, 500, "internal", "%s", err);
		}
		return;
	}
	left = sizeof(c->resp->headers) - strlen(c->resp->headers) - sizeof("X-Sendfile: \r\n");
	if (sendfile_value(m->file, value, left < sizeof(value) ? left : sizeof(value))) {
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
	char quoted[24];

	if (!inm)
		return 0;
	snprintf(quoted, sizeof(quoted), "\"%s\"", m->etag);
	return strstr(inm, quoted) || !strcmp(inm, "*");
}

void media_get(struct route_ctx *c)
{
	struct media_item m;
	char err[ERR_LEN], *record = NULL;
	int r;

	memset(&m, 0, sizeof(m));
	if (!parse_path(c->req->uri, c, &m)) {
		http_error(c->resp, 404, "not_found", "no such media: use /media/{room}/{index}/{n}");
		return;
	}
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
	r = m.index > c->info.last ? 0
		: store_message_get(c->app->store, c->room, m.index, &record, err);
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
	etag_of(m.src, m.etag);
	if (item_paths(&m, c->app->conf.var, c->room) || strlen(m.src) >= sizeof(m.src) - 1) {
		http_error(c->resp, 500, "internal", "media path or URL too long");
		return;
	}
	if (not_modified(c, &m)) {
		http_body(c->resp, 304, m.ctype, "", 0);
		http_header(c->resp, "ETag: \"%s\"", m.etag);
		http_header(c->resp, "Cache-Control: %s", c->info.is_public ? MEDIA_CACHE_PUBLIC : MEDIA_CACHE_PRIVATE);
		return;
	}
	if (!is_file(m.file)) {
		/* media_hosts may have changed since the webhook stored the URL */
		if (!conf_media_allowed(&c->app->conf, m.src)) {
			fprintf(stderr, "media: %s/%llu/%u: host no longer in media_hosts\n",
				c->room, (unsigned long long)m.index, m.n);
			http_error(c->resp, 502, "bad_gateway", "the media host is not in media_hosts");
			return;
		}
		r = item_fetch(&c->app->conf, c->room, &m, err);
		if (r) {
			fprintf(stderr, "media: %s/%llu/%u: %s\n", c->room,
				(unsigned long long)m.index, m.n, err);
			if (r == -1)
				http_error(c->resp, 502, "bad_gateway", "could not fetch the media: %s", err);
			else if (r == -3)
				http_error(c->resp, 503, "unavailable", "the media is still being fetched: try again");
			else
				http_error(c->resp, 500, "internal", "could not keep the media");
			return;
		}
	}
	serve(c, &m);
}
