/* fifo.c - notices to the relay over a named FIFO: writing, checking, reading, parsing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fifo.h"

void fifo_path(char *buf, size_t len, const char *var)
{
	snprintf(buf, len, "%s/relay.fifo", var);
}

int fifo_create(const char *var, char *err)
{
	char path[FIFO_PATH_MAX];

	fifo_path(path, sizeof(path), var);
	if (mkfifo(path, 0600) && errno != EEXIST)
		return err_set(err, "mkfifo %s: %s", path, strerror(errno));
	return 0;
}

/* ---- the writers' end ---- */

/*
 * The writer's end stays open between notices (a FastCGI program sends
 * thousands): one write per notice instead of open+write+close. When the
 * relay restarts, the old end fails with EPIPE: reopen once and retry.
 */
static int fifo_fd = -1;
static char fifo_fd_path[FIFO_PATH_MAX];

static int fifo_writer_open(const char *path)
{
	if (fifo_fd >= 0 && !strcmp(path, fifo_fd_path))
		return fifo_fd;
	if (fifo_fd >= 0)
		close(fifo_fd);
	fifo_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo_fd >= 0)
		snprintf(fifo_fd_path, sizeof(fifo_fd_path), "%s", path);
	return fifo_fd;
}

static void fifo_writer_drop(void)
{
	if (fifo_fd >= 0)
		close(fifo_fd);
	fifo_fd = -1;
}

static int fifo_write(const char *var, const char *line, size_t len)
{
	char path[FIFO_PATH_MAX];
	int tries;

	fifo_path(path, sizeof(path), var);
	for (tries = 0; tries < 2; tries++) {
		if (fifo_writer_open(path) < 0)
			return 0;	/* ENOENT, ENXIO: no relay, it reads the store */
		if (write(fifo_fd, line, len) == (ssize_t)len)
			return 1;
		if (errno == EAGAIN)
			return 0;	/* full: the relay is behind, its timer catches up */
		fifo_writer_drop();		/* EPIPE: the reader went away; maybe a new one */
	}
	return 0;
}

int fifo_notify_message(const char *var, const char *room, uint64_t index)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "m %s %llu\n", room,
			 (unsigned long long)index);

	return n > 0 && (size_t)n < sizeof(line) && fifo_write(var, line, (size_t)n);
}

int fifo_notify_change(const char *var, const char *room, uint64_t seq)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "c %s %llu\n", room,
			 (unsigned long long)seq);

	return n > 0 && (size_t)n < sizeof(line) && fifo_write(var, line, (size_t)n);
}

int fifo_notify_user(const char *var, const char *user)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "u %s\n", user);

	return n > 0 && (size_t)n < sizeof(line) && fifo_write(var, line, (size_t)n);
}

int fifo_notify_revoke(const char *var, const char *user)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "r %s\n", user);

	return n > 0 && (size_t)n < sizeof(line) && fifo_write(var, line, (size_t)n);
}

int fifo_has_reader(const char *var)
{
	char path[FIFO_PATH_MAX];
	struct stat st;
	int fd, up;

	/*
	 * A write end opens only while a read end is open (else ENXIO); a
	 * regular file in the FIFO's place opens too, and is no relay.
	 */
	fifo_path(path, sizeof(path), var);
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	up = !fstat(fd, &st) && S_ISFIFO(st.st_mode);
	close(fd);
	return up;
}

/* ---- the reader's end ---- */

/* Copy the next space-delimited word of line into out; 0 or -1 if too long. */
static int word(const char **p, const char *end, char *out, size_t outlen)
{
	const char *s = *p;
	size_t n;

	while (s < end && *s == ' ')
		s++;
	for (n = 0; s + n < end && s[n] != ' '; n++)
		;
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n;
	return 0;
}

int fifo_parse(const char *line, size_t len, struct fifo_notice *n, char *err)
{
	const char *p = line, *end = line + len;
	char num[24], *num_end;
	unsigned long long v;

	memset(n, 0, sizeof(*n));
	if (len && line[len - 1] == '\r')
		end--;
	if (end - p < 2 || (p[0] != FIFO_MESSAGE && p[0] != FIFO_USER && p[0] != FIFO_REVOKE &&
			    p[0] != FIFO_CHANGE) || p[1] != ' ')
		return err_set(err, "unknown notice");
	n->kind = (enum fifo_kind)p[0];
	p += 2;
	if (word(&p, end, n->name, sizeof(n->name)) || !name_ok(n->name))
		return err_set(err, "bad name");
	if (n->kind == FIFO_MESSAGE || n->kind == FIFO_CHANGE) {
		if (word(&p, end, num, sizeof(num)) || num[0] < '0' || num[0] > '9')
			return err_set(err, "bad index");
		errno = 0;
		v = strtoull(num, &num_end, 10);
		if (errno || *num_end || v == 0)
			return err_set(err, "bad index");
		n->index = v;
	}
	while (p < end && *p == ' ')
		p++;
	if (p != end)
		return err_set(err, "trailing bytes");
	return 0;
}

int fifo_listen(const char *var, struct fifo_id *id, char *err)
{
	char path[FIFO_PATH_MAX];
	struct stat st;
	int fd;

	if (fifo_create(var, err))
		return -1;
	fifo_path(path, sizeof(path), var);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, "open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode)) {
		close(fd);
		return err_set(err, "open %s: not a fifo", path);
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return fd;
}

int fifo_same(const char *var, const struct fifo_id *id)
{
	char path[FIFO_PATH_MAX];
	struct stat st;

	fifo_path(path, sizeof(path), var);
	return !stat(path, &st) && st.st_dev == id->dev && st.st_ino == id->ino;
}

/* Hand the complete lines in data to fn, keeping a partial tail in r. */
static void feed(struct fifo_reader *r, const char *data, size_t len,
		 fifo_notice_fn fn, void *ctx)
{
	const char *nl, *end = data + len;
	struct fifo_notice n;
	char err[ERR_LEN];
	size_t take;

	while (data < end) {
		nl = memchr(data, '\n', (size_t)(end - data));
		take = (size_t)((nl ? nl : end) - data);
		if (r->skipping) {
			/* the rest of an overlong line */
		} else if (r->len + take >= sizeof(r->buf)) {
			r->skipping = 1;
			r->len = 0;
			fn(ctx, NULL, "line too long");
		} else {
			memcpy(r->buf + r->len, data, take);
			r->len += take;
		}
		if (!nl)
			return;		/* partial line: wait for the rest */
		if (!r->skipping) {
			if (fifo_parse(r->buf, r->len, &n, err))
				fn(ctx, NULL, err);
			else
				fn(ctx, &n, NULL);
		}
		r->skipping = 0;
		r->len = 0;
		data = nl + 1;
	}
}

int fifo_read(struct fifo_reader *r, int fd, fifo_notice_fn fn, void *ctx, char *err)
{
	char buf[4096];
	ssize_t got;
	int reads;

	/*
	 * A bounded number of reads per call, so a flooding writer cannot
	 * starve the connections: poll() reports the rest at once.
	 */
	for (reads = 0; reads < 64; reads++) {
		got = read(fd, buf, sizeof(buf));
		if (got > 0) {
			feed(r, buf, (size_t)got, fn, ctx);
			continue;
		}
		if (got == 0)
			return err_set(err, "read fifo: end of file");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return err_set(err, "read fifo: %s", strerror(errno));
	}
	return 0;
}
