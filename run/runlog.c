/* runlog.c - the supervisor's key=value log lines (see runlog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "runlog.h"

static int log_fd = -1;
static char log_path[4096];

static int runlog_open_fd(const char *path, char *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return err_set(err, "open %s: %s", path, strerror(errno));
	return fd;
}

int runlog_open(const char *path, char *err)
{
	int fd;

	if (strlen(path) >= sizeof(log_path))
		return err_set(err, "open %s: path too long", path);
	if ((fd = runlog_open_fd(path, err)) < 0)
		return -1;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	strcpy(log_path, path);
	return 0;
}

int runlog_reopen(char *err)
{
	int fd;

	if (log_fd < 0)
		return 0;
	if ((fd = runlog_open_fd(log_path, err)) < 0)
		return -1;
	close(log_fd);
	log_fd = fd;
	return 0;
}

void runlog_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

/* Is fd 2 the log file itself? Then one copy of each line is enough. */
static int stderr_is_log(void)
{
	struct stat a, b;

	return log_fd >= 0 && !fstat(log_fd, &a) && !fstat(2, &b) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void runlog(const char *level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	size_t n;
	int r;

	log_stamp(line, LOG_STAMP_LEN, NULL);	/* one time format: lib/log.h */
	n = strlen(line);
	r = snprintf(line + n, sizeof(line) - n, " level=%s prog=run ", level);
	n += r > 0 ? (size_t)r : 0;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n += r > 0 ? (size_t)r : 0;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* a full disk must not stop the supervisor: write errors are ignored */
	if (log_fd >= 0 && write(log_fd, line, n) < 0)
		errno = 0;
	if (!stderr_is_log() && write(2, line, n) < 0)
		errno = 0;
}
