/* log.c - one-line key=value log events with a UTC millisecond time. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

static const char *log_prog = "-";
static enum log_level log_min = LOG_INFO;
/* log_reopen runs in signal handlers: a fixed buffer, set once by log_open */
static char log_path[1024];

void log_init(const char *prog)
{
	log_prog = prog && *prog ? prog : "-";
}

void log_set_level(enum log_level level)
{
	log_min = level;
}

const char *log_level_name(enum log_level level)
{
	static const char *const names[] = {
		[LOG_DEBUG] = "debug", [LOG_INFO] = "info",
		[LOG_WARN] = "warn", [LOG_ERROR] = "error",
	};

	return (unsigned)level <= LOG_ERROR ? names[level] : "error";
}

static int put_path(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	if (fd != 2) {
		/* dup2 clears O_CLOEXEC on 2: children (lighttpd's) inherit it */
		if (dup2(fd, 2) < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		close(fd);
	}
	return 0;
}

int log_open(const char *path, char *err)
{
	if (strlen(path) >= sizeof(log_path))
		return err_set(err, "log path too long: %s", path);
	if (put_path(path))
		return err_set(err, "open %s: %s", path, strerror(errno));
	strcpy(log_path, path);
	return 0;
}

int log_reopen(void)
{
	return log_path[0] ? put_path(log_path) : 0;
}

/* A byte that may stand in a bare value. */
static int bare_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

/* A line being built: never past len - 1 bytes; cut once something did not fit. */
struct line {
	char *buf;
	size_t len, n;
	int cut;
};

/* Append k bytes of s, or nothing and mark the line cut. */
static void put(struct line *l, const char *s, size_t k)
{
	if (l->cut || l->n + k > l->len - 1) {
		l->cut = 1;
		return;
	}
	memcpy(l->buf + l->n, s, k);
	l->n += k;
}

static void put_raw(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Append s, quoted and escaped if it must be (log.h). */
static void put_value(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	char esc[4];
	int quote = !*s;

	for (p = (const unsigned char *)s; *p && !quote; p++)
		quote = !bare_ok(*p);
	if (quote)
		put(l, "\"", 1);
	for (p = (const unsigned char *)s; *p; p++) {
		esc[0] = '\\';
		if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p;
			put(l, esc, 2);
		} else if (*p == '\n' || *p == '\t' || *p == '\r') {
			esc[1] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
			put(l, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			esc[1] = 'x', esc[2] = hex[*p >> 4], esc[3] = hex[*p & 15];
			put(l, esc, 4);
		} else {
			put(l, (const char *)p, 1);
		}
	}
	if (quote)
		put(l, "\"", 1);
}

void log_stamp(char *buf, size_t len, const struct timespec *when)
{
	struct timespec now;
	struct tm tm;

	if (!when) {
		clock_gettime(CLOCK_REALTIME, &now);
		when = &now;
	}
	gmtime_r(&when->tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (int)(when->tv_nsec / 1000000 % 1000));
}

size_t log_format(char *buf, size_t len, const struct timespec *when, enum log_level level,
		  const char *prog, const char *event, const char *const *kv)
{
	/* len - 1: the newline always fits, and the NUL after it */
	struct line l = { .buf = buf, .len = len - 1 };
	char stamp[LOG_STAMP_LEN];
	size_t i;

	log_stamp(stamp, sizeof(stamp), when);
	put_raw(&l, stamp);
	put_raw(&l, " level=");
	put_raw(&l, log_level_name(level));
	put_raw(&l, " prog=");
	put_value(&l, prog ? prog : log_prog);
	put_raw(&l, " event=");
	put_value(&l, event && *event ? event : "-");
	for (i = 0; kv && kv[i] && i < 2 * LOG_PAIRS_MAX; i += 2) {
		put_raw(&l, " ");
		put_raw(&l, kv[i]);
		put_raw(&l, "=");
		put_value(&l, kv[i + 1] ? kv[i + 1] : "-");
	}
	if (l.cut) {	/* say so rather than end mid-value silently */
		memcpy(buf + l.len - 4, "...", 3);
		l.n = l.len - 1;
	}
	buf[l.n++] = '\n';
	buf[l.n] = '\0';
	return l.n;
}

void log_event(enum log_level level, const char *event, ...)
{
	const char *kv[2 * LOG_PAIRS_MAX + 1];
	char line[LOG_LINE_MAX + 1];
	struct timespec now;
	const char *key;
	size_t i = 0, n;
	va_list ap;
	ssize_t w;

	if (level < log_min)
		return;
	va_start(ap, event);
	while ((key = va_arg(ap, const char *)) && i < 2 * LOG_PAIRS_MAX) {
		kv[i++] = key;
		kv[i++] = va_arg(ap, const char *);
	}
	va_end(ap);
	kv[i] = NULL;
	clock_gettime(CLOCK_REALTIME, &now);
	n = log_format(line, sizeof(line), &now, level, NULL, event, kv);
	do
		w = write(2, line, n);
	while (w < 0 && errno == EINTR);
}
