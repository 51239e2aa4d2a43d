/* fetch.h - GET one upstream file into a file descriptor (libcurl), bounded in size and time. */
#ifndef BP_FETCH_H
#define BP_FETCH_H

#include <stddef.h>

/* Defaults for struct fetch_opts; docs in README.md, "Media". */
#define FETCH_CONNECT_TIMEOUT_MS 5000L	/* per connection attempt */
#define FETCH_TOTAL_TIMEOUT_MS 20000L	/* every hop of one fetch together */
#define FETCH_MAX_REDIRECTS 5

struct fetch_opts {
	const char *user;	/* HTTP Basic user for the FIRST request only; */
	const char *password;	/* NULL or "" user: no credentials at all */
	long long max_bytes;	/* a body larger than this is a failure */
	long connect_timeout_ms;
	long total_timeout_ms;
	int max_redirects;	/* hops after the first request */
};

struct fetch_result {
	long status;		/* HTTP status of the last response, 0 if none */
	long long bytes;	/* body bytes written to the fd */
	int redirects;		/* redirects followed */
	int auth_hops;		/* requests sent with credentials (0 or 1) */
	char content_type[128];	/* upstream's Content-Type ("" if none); informational */
};

/* Fill o with the defaults above, the given limit and credentials (not copied). */
void fetch_opts_init(struct fetch_opts *o, const char *user, const char *password,
		     long long max_bytes);

/*
 * GET url (http or https) and write its body to fd, which must be an empty
 * file open for writing; fd stays open and owned by the caller.
 *
 * Redirects (301, 302, 303, 307, 308) are followed here, not by libcurl, at
 * most o->max_redirects of them, each to http or https only, never from
 * https down to http. Credentials go with the first request only: every
 * later hop is a fresh request without them, whatever its host (this is
 * how Twilio's 307 to its CDN is followed without handing the CDN the
 * account's secret). Bodies of redirects and error answers are discarded.
 *
 * Success is a final 200 whose body, at most o->max_bytes long (checked
 * against Content-Length and by counting, for chunked answers), was written
 * completely. Returns 0, or -1 with err filled (a connect failure, a
 * timeout, a non-200 final status, a body over the limit, a redirect
 * without a usable Location, a failed write), lowercase and free of the
 * URL's path (Twilio's paths name the account). On -1 the fd holds an
 * unspecified partial body: the caller discards it. *r is filled either way
 * (r may be NULL).
 */
int fetch_to_fd(const char *url, const struct fetch_opts *o, int fd,
		struct fetch_result *r, char *err);

#endif
