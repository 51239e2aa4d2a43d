/* mirror.c - the fetch-once picture mirror: lock, part file, clean, variants, see mirror.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "clock.h"
#include "err.h"
#include "fetch.h"
#include "mirror.h"
#include "picture.h"

/* 16 hex digits of SHA-256 of s into hex (MIRROR_ETAG_LEN + 1 bytes). */
static void etag_of(const char *s, char *hex)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256((const unsigned char *)s, strlen(s), md);
	for (i = 0; i < MIRROR_ETAG_LEN / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

int mirror_item_init(struct mirror_item *m, const char *var, const char *room,
		     uint64_t index, unsigned n, const char *src, long fail_ttl_s, char *err)
{
	size_t len = sizeof(m->file);
	unsigned long long ix = (unsigned long long)index;

	etag_of(src, m->etag);
	if ((size_t)snprintf(m->file, len, "%s/media/%s/%llu-%u-%s", var, room, ix, n, m->etag) >= len ||
	    (size_t)snprintf(m->part, len, "%s/media/tmp/%s.%llu.%u.part", var, room, ix, n) >= len ||
	    (size_t)snprintf(m->lock, len, "%s/media/tmp/%s.%llu.%u.lock", var, room, ix, n) >= len ||
	    (size_t)snprintf(m->bad, len, "%s/media/tmp/%s.%llu.%u.bad", var, room, ix, n) >= len ||
	    (size_t)snprintf(m->dirs[0], len, "%s/media", var) >= len ||
	    (size_t)snprintf(m->dirs[1], len, "%s/media/tmp", var) >= len ||
	    (size_t)snprintf(m->dirs[2], len, "%s/media/%s", var, room) >= len)
		return err_set(err, "mirror: path under %s too long", var);
	m->fail_ttl_s = fail_ttl_s;
	return 0;
}

static int is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

int mirror_has(const struct mirror_item *m)
{
	return is_file(m->file);
}

int mirror_width_ok(long width)
{
	static const int widths[] = MIRROR_WIDTHS;
	size_t i;

	for (i = 0; i < sizeof(widths) / sizeof(widths[0]); i++)
		if (width == widths[i])
			return 1;
	return 0;
}

const char *mirror_type(const struct mirror_item *m)
{
	unsigned char b[12];
	int fd = open(m->file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n == (ssize_t)sizeof(b) && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return "image/jpeg";
	if (n == (ssize_t)sizeof(b) && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (n == (ssize_t)sizeof(b) && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
		return "image/webp";
	return NULL;
}

int mirror_variant_path(const struct mirror_item *m, int width, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s-%d.webp", m->file, width) >= len ? -1 : 0;
}

/* mkdir that is content with an existing directory. */
static int mkdir_ok(const char *path, char *err)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return err_set(err, "mkdir %s: %s", path, strerror(errno));
	return 0;
}

/*
 * Take the per-item lock: create and flock path, and make sure the path
 * still names the inode we locked (a holder unlinks it when done, so a
 * waiter may have locked a file nobody else will ever see). Returns the
 * open fd, or -1 with err and *busy set if still held after wait_ms.
 */
static int lock_take(const char *path, long wait_ms, int *busy, char *err)
{
	long long deadline = clock_ms() + wait_ms;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct stat a, b;
	int fd;

	*busy = 0;
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
			if (clock_ms() > deadline) {
				err_set(err, "flock %s: still held after %ld ms", path, wait_ms);
				close(fd);
				*busy = 1;
				return -1;
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

/* A marker of a failed fetch starts so; the rest is why. */
#define FAIL_PREFIX "upstream: "

/*
 * Was the item found bad less than MIRROR_BAD_TTL_S ago, or did its fetch
 * fail less than MIRROR_FAIL_TTL_S ago? MIRROR_BAD or MIRROR_UPSTREAM with
 * err set to the reason kept in the marker; MIRROR_OK when there is no
 * fresh marker (a stale one is removed).
 */
static enum mirror_result bad_fresh(const struct mirror_item *m, char *err)
{
	char why[ERR_LEN] = "";
	struct stat st;
	ssize_t n;
	int fd, failed;
	long ttl;

	if (stat(m->bad, &st))
		return MIRROR_OK;
	fd = open(m->bad, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, why, sizeof(why) - 1);
		why[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	failed = !strncmp(why, FAIL_PREFIX, strlen(FAIL_PREFIX));
	ttl = failed ? m->fail_ttl_s : MIRROR_BAD_TTL_S;
	if (st.st_mtime + ttl <= time(NULL) || st.st_mtime > time(NULL) + 60) {
		unlink(m->bad);
		return MIRROR_OK;
	}
	err_set(err, "%s (remembered for %ld s)",
		failed ? why + strlen(FAIL_PREFIX) : why[0] ? why : "not a picture", ttl);
	return failed ? MIRROR_UPSTREAM : MIRROR_BAD;
}

/* Remember that the item is bad: the marker holds why. Best effort. */
static void bad_mark(const struct mirror_item *m, const char *prefix, const char *why)
{
	int fd = open(m->bad, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return;
	if (write(fd, prefix, strlen(prefix)) < 0 || write(fd, why, strlen(why)) < 0)
		fprintf(stderr, "mirror: write %s: %s\n", m->bad, strerror(errno));
	close(fd);
}

/*
 * The store step: turn the fetched part file (complete, closed) into the
 * file that is served forever: picture_clean decodes it and writes the
 * only version a browser will get (synced, renamed into place by
 * picture_clean itself). The upstream bytes are deleted whatever happens.
 * Returns MIRROR_OK, MIRROR_BAD (not a picture we show: marked) or
 * MIRROR_LOCAL, with err.
 */
static enum mirror_result store_step(const struct mirror_item *m, char *err)
{
	enum mirror_result ret = MIRROR_LOCAL;
	int r;

	if (picture_init(err))
		goto out;
	r = picture_clean(m->part, m->file, NULL, err);
	if (r == PICTURE_OK) {
		ret = MIRROR_OK;
	} else if (r == PICTURE_ERR_DECODE || r == PICTURE_ERR_TOO_LARGE) {
		bad_mark(m, "", err);
		ret = MIRROR_BAD;
	}
out:
	unlink(m->part);
	return ret;
}

enum mirror_result mirror_fetch(const struct mirror_item *m, long wait_ms,
				mirror_fetch_fn fetch, void *ctx, char *err)
{
	enum mirror_result ret = MIRROR_LOCAL;
	int lock, fd = -1, busy, i;

	for (i = 0; i < 3; i++)
		if (mkdir_ok(m->dirs[i], err))
			return MIRROR_LOCAL;
	lock = lock_take(m->lock, wait_ms, &busy, err);
	if (lock < 0)
		return busy ? MIRROR_BUSY : MIRROR_LOCAL;
	if (is_file(m->file)) {
		ret = MIRROR_OK;
		goto out;
	}
	ret = bad_fresh(m, err);
	if (ret != MIRROR_OK)
		goto out;
	ret = MIRROR_LOCAL;
	fd = open(m->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "open %s: %s", m->part, strerror(errno));
		goto out;
	}
	if (fetch(ctx, fd, err)) {
		/*
		 * Remembered a while: anonymous requests must not make us ask
		 * Twilio, with the account's credentials, again and again.
		 */
		if (m->fail_ttl_s > 0)
			bad_mark(m, FAIL_PREFIX, err);
		ret = MIRROR_UPSTREAM;
		goto out;
	}
	/* no fdatasync: the part file is read once and deleted; what is kept
	 * is picture_clean's output, which it syncs before renaming */
	if (close(fd)) {
		fd = -1;
		err_set(err, "close %s: %s", m->part, strerror(errno));
		goto out;
	}
	fd = -1;
	ret = store_step(m, err);
out:
	if (fd >= 0)
		close(fd);
	if (ret != MIRROR_OK)
		unlink(m->part);
	lock_drop(m->lock, lock);
	return ret;
}

enum mirror_result mirror_variant(const struct mirror_item *m, int width, long wait_ms,
				  char *err)
{
	enum mirror_result ret = MIRROR_LOCAL;
	char out[MIRROR_PATH_MAX], lock_path[MIRROR_PATH_MAX + 16];
	int lock, busy, r;

	if (!mirror_width_ok(width) || mirror_variant_path(m, width, out, sizeof(out)) ||
	    (size_t)snprintf(lock_path, sizeof(lock_path), "%.*s.%d.lock",
			     (int)(strlen(m->lock) - strlen(".lock")), m->lock, width) >= sizeof(lock_path)) {
		err_set(err, "mirror: no variant %d px wide, or its path is too long", width);
		return MIRROR_LOCAL;
	}
	if (is_file(out))
		return MIRROR_OK;
	lock = lock_take(lock_path, wait_ms, &busy, err);
	if (lock < 0)
		return busy ? MIRROR_BUSY : MIRROR_LOCAL;
	if (is_file(out)) {
		ret = MIRROR_OK;
		goto out;
	}
	if (picture_init(err))
		goto out;
	r = picture_variant(m->file, width, out, err);
	if (r == PICTURE_OK)
		ret = MIRROR_OK;
	else if (r == PICTURE_ERR_DECODE || r == PICTURE_ERR_TOO_LARGE)
		ret = MIRROR_BAD;
out:
	lock_drop(lock_path, lock);
	return ret;
}

int mirror_twilio_fetch(void *ctx, int fd, char *err)
{
	const struct mirror_twilio *t = ctx;
	struct fetch_opts o;

	fetch_opts_init(&o, t->conf->twilio_account_sid, t->conf->twilio_auth_token,
			t->conf->media_max_bytes);
	return fetch_to_fd(t->src, &o, fd, NULL, err);
}
