/* mirror.c - the fetch-once file mirror: lock, part file, store step, see mirror.h. */
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
#include "mirror.h"

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
		     uint64_t index, unsigned n, const char *src, char *err)
{
	size_t len = sizeof(m->file);
	unsigned long long ix = (unsigned long long)index;

	etag_of(src, m->etag);
	if ((size_t)snprintf(m->file, len, "%s/media/%s/%llu-%u-%s", var, room, ix, n, m->etag) >= len ||
	    (size_t)snprintf(m->part, len, "%s/media/tmp/%s.%llu.%u.part", var, room, ix, n) >= len ||
	    (size_t)snprintf(m->lock, len, "%s/media/tmp/%s.%llu.%u.lock", var, room, ix, n) >= len ||
	    (size_t)snprintf(m->dirs[0], len, "%s/media", var) >= len ||
	    (size_t)snprintf(m->dirs[1], len, "%s/media/tmp", var) >= len ||
	    (size_t)snprintf(m->dirs[2], len, "%s/media/%s", var, room) >= len)
		return err_set(err, "mirror: path under %s too long", var);
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

/*
 * The store step: turn the fetched part file (complete, on disk, closed)
 * into the file that is served forever. Today the bytes are served as
 * fetched, so it is a rename; whatever the mirror does to the bytes before
 * serving them (image processing) belongs here, writing its own output and
 * leaving nothing at m->file unless it is complete. Returns 0, or -1 with
 * err (the caller removes the part file).
 */
static int store_step(const struct mirror_item *m, char *err)
{
	if (rename(m->part, m->file))
		return err_set(err, "rename %s: %s", m->file, strerror(errno));
	return 0;
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
	fd = open(m->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "open %s: %s", m->part, strerror(errno));
		goto out;
	}
	if (fetch(ctx, fd, err)) {
		ret = MIRROR_UPSTREAM;
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
	if (store_step(m, err))
		goto out;
	ret = MIRROR_OK;
out:
	if (fd >= 0)
		close(fd);
	if (ret != MIRROR_OK)
		unlink(m->part);
	lock_drop(m->lock, lock);
	return ret;
}
