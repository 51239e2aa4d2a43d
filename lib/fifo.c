/* fifo.c - non-blocking notices to the relay over a named FIFO. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
	char path[1100];

	fifo_path(path, sizeof(path), var);
	if (mkfifo(path, 0600) && errno != EEXIST)
		return err_set(err, "mkfifo %s: %s", path, strerror(errno));
	return 0;
}

/*
 * The writer's end stays open between notices (a FastCGI program sends
 * thousands): one write per notice instead of open+write+close. When the
 * relay restarts, the old end fails with EPIPE: reopen once and retry.
 */
static int fifo_fd = -1;
static char fifo_fd_path[1100];

static int fifo_open(const char *path)
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

static void fifo_drop(void)
{
	if (fifo_fd >= 0)
		close(fifo_fd);
	fifo_fd = -1;
}

static int fifo_write(const char *var, const char *line, size_t len)
{
	char path[1100];
	int tries;

	fifo_path(path, sizeof(path), var);
	for (tries = 0; tries < 2; tries++) {
		if (fifo_open(path) < 0)
			return 0;	/* ENOENT, ENXIO: no relay, it reads the store */
		if (write(fifo_fd, line, len) == (ssize_t)len)
			return 1;
		if (errno == EAGAIN)
			return 0;	/* full: the relay is behind, its timer catches up */
		fifo_drop();		/* EPIPE: the reader went away; maybe a new one */
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

int fifo_notify_user(const char *var, const char *user)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "u %s\n", user);

	return n > 0 && (size_t)n < sizeof(line) && fifo_write(var, line, (size_t)n);
}
