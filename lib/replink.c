/* replink.c - framed requests on a unix socket: the relay and its site's replicator. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "replink.h"

static int addr_of(const char *path, struct sockaddr_un *a, char *err)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return err_set(err, "replicator socket %s: path too long (%zu bytes at most)", path,
			       sizeof(a->sun_path) - 1);
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

int replink_listen(const char *path, char *err)
{
	struct sockaddr_un a;
	mode_t old;
	int fd;

	if (addr_of(path, &a, err))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_set(err, "socket: %s", strerror(errno));
	unlink(path);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8)) {
		err_set(err, "listen on %s: %s", path, strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

int replink_connect(const char *path, char *err)
{
	struct sockaddr_un a;
	int fd;

	if (addr_of(path, &a, err))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_set(err, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err_set(err, "connect to %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait until fd is ready for events, at most until deadline (clock_ms). 0, or -1 with err. */
static int wait_ready(int fd, short events, int64_t deadline, char *err)
{
	struct pollfd p = { fd, events, 0 };
	int64_t left;
	int r;

	for (;;) {
		left = deadline - clock_ms();
		if (left <= 0)
			return err_set(err, "replicator: no answer in time");
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return err_set(err, "poll: %s", strerror(errno));
	}
}

static int write_all(int fd, const unsigned char *p, size_t n, int64_t deadline, char *err)
{
	ssize_t w;

	while (n) {
		if (wait_ready(fd, POLLOUT, deadline, err))
			return -1;
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			return err_set(err, "replicator: send: %s", strerror(errno));
		p += w, n -= (size_t)w;
	}
	return 0;
}

/* Read n bytes. 0; 1 EOF before any byte (when first); -1 with err. */
static int read_all(int fd, unsigned char *p, size_t n, int first, int64_t deadline, char *err)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if (wait_ready(fd, POLLIN, deadline, err))
			return -1;
		r = recv(fd, p + got, n - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return err_set(err, "replicator: recv: %s", strerror(errno));
		if (r == 0)
			return first && !got ? 1 : err_set(err, "replicator: a frame cut short");
		got += (size_t)r;
	}
	return 0;
}

int replink_send(int fd, const void *buf, size_t len, long timeout_ms, char *err)
{
	int64_t deadline = clock_ms() + timeout_ms;
	unsigned char h[4];

	if (len > REPLINK_MAX)
		return err_set(err, "replicator: a frame of %zu bytes, %d at most", len, REPLINK_MAX);
	h[0] = (unsigned char)(len >> 24), h[1] = (unsigned char)(len >> 16);
	h[2] = (unsigned char)(len >> 8), h[3] = (unsigned char)len;
	if (write_all(fd, h, 4, deadline, err))
		return -1;
	return write_all(fd, buf, len, deadline, err);
}

int replink_recv(int fd, void **buf, size_t *len, long timeout_ms, char *err)
{
	int64_t deadline = clock_ms() + timeout_ms;
	unsigned char h[4], *p;
	uint32_t n;
	int r;

	*buf = NULL;
	*len = 0;
	if ((r = read_all(fd, h, 4, 1, deadline, err)))
		return r;
	n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	if (n > REPLINK_MAX)
		return err_set(err, "replicator: a frame of %u bytes, %d at most", n, REPLINK_MAX);
	if (!(p = malloc(n ? n : 1)))
		return err_set(err, "replicator: out of memory");
	if (read_all(fd, p, n, 0, deadline, err)) {
		free(p);
		return -1;
	}
	*buf = p;
	*len = n;
	return 0;
}
