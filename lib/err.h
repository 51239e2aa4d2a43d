/* err.h - error buffers: every fallible function fills one naming the failing call. */
#ifndef BP_ERR_H
#define BP_ERR_H

#define ERR_LEN 256

/*
 * Format a message into err (ERR_LEN bytes), lowercase, failing call first,
 * e.g. "open /var/db: permission denied". err may be NULL: nothing is written.
 * Always returns -1 so that callers can write `return err_set(err, ...)`.
 */
int err_set(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
