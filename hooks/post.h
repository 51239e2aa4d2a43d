/* post.h - one signed POST of one hook event (libcurl), bounded in time. */
#ifndef BP_HOOKS_POST_H
#define BP_HOOKS_POST_H

#include <signal.h>
#include <stddef.h>

#define POST_CONNECT_TIMEOUT_MS 5000L
#define POST_TOTAL_TIMEOUT_MS 10000L

/*
 * POST body (len bytes of JSON) to url with Content-Type application/json
 * and X-Bookpics-Signature signed with secret at the time of this try.
 * Connecting takes at most 5 s and the whole request 10 s; *stop turning
 * non-zero (a signal) ends it at once. The answer's body is read and
 * dropped. Returns 1 when the receiver answered 2xx, 0 when it did not
 * (*status = its status, 0 if none; err says what happened), -1 when
 * nothing could be sent (err).
 */
int post_event(const char *url, const char *secret, const char *body, size_t len,
	       volatile sig_atomic_t *stop, long *status, char *err);

#endif
