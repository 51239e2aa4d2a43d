/* runlog.h - the supervisor's log: one key=value line per event, to a file and stderr. */
#ifndef BP_RUNLOG_H
#define BP_RUNLOG_H

/*
 * Lines are "2026-12-01T19:30:00.123Z level=info prog=run " (log_stamp) followed by the
 * caller's key=value text and a newline, written whole (one write(2)) to
 * the log file and to stderr; when stderr already is that file (the same
 * inode, as under tests/test-lib.sh), only once.
 */

/*
 * Open path for appending (created 0644) as the log. Returns 0, or -1 with
 * err filled ("open PATH: reason"); the previous log, if any, stays.
 */
int runlog_open(const char *path, char *err);

/*
 * Open the same path again (after logrotate renamed it): 0, or -1 with err
 * filled, the old descriptor kept so that nothing is lost.
 */
int runlog_reopen(char *err);

/* Close the log file; lines go to stderr only afterwards. */
void runlog_close(void);

/* One line at level ("info", "warn", "error"); fmt is the key=value part. */
void runlog(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
