/* log.h - one line per event, the same format in every bookpics program. */
#ifndef BP_LOG_H
#define BP_LOG_H

#include <stddef.h>
#include <time.h>

/*
 * A line is
 *
 *   2026-12-01T19:30:00.123Z level=warn prog=webhook event=refused reason=bad_signature ip=127.0.0.1
 *
 * the UTC time with milliseconds, then key=value pairs: level, prog, event
 * always, then the caller's pairs in order. A value is written bare when it
 * is made of printable ASCII other than space, '"', '\' and '='; otherwise
 * (or when empty) in double quotes with '"' and '\' escaped by '\', newline,
 * tab and CR as \n \t \r, other control bytes as \xNN. Non-ASCII UTF-8
 * passes through (quoted). So a line is always one line, and `key=value`
 * splits on the first '='. Lines are at most LOG_LINE_MAX bytes (a longer
 * one is cut and ends in "..." before its newline), written with one
 * write(2): lines from processes sharing a pipe or an O_APPEND file never
 * interleave.
 *
 * Callers never pass secrets (tokens, signatures) or whole phone numbers.
 */

#define LOG_LINE_MAX 2048
#define LOG_PAIRS_MAX 16

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/*
 * Name the program (prog=NAME on every line; the string is not copied and
 * must outlive the process's logging). Lines go to file descriptor 2: the
 * FastCGI programs' stderr is lighttpd's error log (its pipe or file, not
 * the FastCGI stderr stream, so lighttpd adds no prefix of its own), the
 * relay's is what started it. Never fails.
 */
void log_init(const char *prog);

/*
 * Send the log (fd 2, so also whatever else writes to stderr: libraries,
 * Berkeley DB's errfile) to path, opened O_APPEND|O_CREAT mode 0600, and
 * remember it for log_reopen. Returns 0, or -1 with err filled (fd 2 is
 * unchanged then).
 */
int log_open(const char *path, char *err);

/*
 * Open the path of log_open again and put it on fd 2 (after logrotate has
 * moved the old file). Uses only open, dup2 and close, so it is safe in a
 * signal handler. Returns 0, or -1 (errno set) with fd 2 unchanged; without
 * a log_open path it does nothing and returns 0.
 */
int log_reopen(void);

/*
 * Write one line: level, event (a word, such as "refused"), then pairs of
 * const char *key, const char *value, ended by NULL. A NULL value is
 * written as "-". At most LOG_PAIRS_MAX pairs (more are dropped). Levels
 * below the one set by log_set_level (default LOG_INFO) are skipped.
 * Never fails (a failed write is lost: there is nowhere to say so).
 */
void log_event(enum log_level level, const char *event, ...) __attribute__((sentinel));

/* Skip lines below level from now on. */
void log_set_level(enum log_level level);

#define LOG_STAMP_LEN 32

/*
 * The time every log line of bookpics starts with, "2026-12-01T19:30:00.123Z"
 * (ISO-8601 UTC, milliseconds), of when (NULL: now) into buf. Never fails.
 */
void log_stamp(char *buf, size_t len, const struct timespec *when);

/* "debug", "info", "warn", "error". */
const char *log_level_name(enum log_level level);

/*
 * The line log_event would write at time when (not written), into buf (len
 * bytes, at least 16), with kv a NULL-terminated array of key, value,
 * key, value...; prog NULL: the one of log_init ("-" if none). Returns the
 * length, newline included. For the unit tests and for callers that must
 * send a line elsewhere (the relay's libwebsockets emitter).
 */
size_t log_format(char *buf, size_t len, const struct timespec *when, enum log_level level,
		  const char *prog, const char *event, const char *const *kv);

#endif
