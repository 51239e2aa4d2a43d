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

static int fifo_write(const char *var, const char *line, size_t len)
{
	char path[1100];
	ssize_t n;
	int fd;

	fifo_path(path, sizeof(path), var);
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* ENOENT, ENXIO: no relay, it reads the store */
	n = write(fd, line, len);
	close(fd);
	return n == (ssize_t)len;
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
