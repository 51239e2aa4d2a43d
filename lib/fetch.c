/* fetch.c - GET one upstream file with libcurl: redirects followed by hand, credentials on the first hop only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "err.h"
#include "fetch.h"

/* Where one hop's body goes: the fd for a 200, nowhere for anything else. */
struct sink {
	CURL *h;
	int fd;
	long long max;
	long long bytes;	/* written to fd */
	int too_large;
	int write_errno;
};

void fetch_opts_init(struct fetch_opts *o, const char *user, const char *password,
		     long long max_bytes)
{
	memset(o, 0, sizeof(*o));
	o->user = user;
	o->password = password;
	o->max_bytes = max_bytes;
	o->connect_timeout_ms = FETCH_CONNECT_TIMEOUT_MS;
	o->total_timeout_ms = FETCH_TOTAL_TIMEOUT_MS;
	o->max_redirects = FETCH_MAX_REDIRECTS;
}

/* 1 for http, 2 for https, 0 for anything else (file:, ftp:, gopher:, ...). */
static int scheme(const char *url)
{
	if (!strncasecmp(url, "http://", 7))
		return 1;
	if (!strncasecmp(url, "https://", 8))
		return 2;
	return 0;
}

static int is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

/*
 * libcurl's write callback. The status is known once the headers are in,
 * before any body byte. Bodies of other answers cost no memory and are
 * bounded by the total timeout. Returning less than given aborts the transfer
 * (CURLE_WRITE_ERROR): that is how the byte limit holds when the answer
 * has no Content-Length.
 */
static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t len = size * nmemb, done = 0;
	long status = 0;
	ssize_t w;

	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return len;	/* a redirect's or an error's body: dropped */
	if ((long long)len > s->max - s->bytes) {
		s->too_large = 1;
		return 0;
	}
	while (done < len) {
		w = write(s->fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->write_errno = errno;
			return 0;
		}
		done += (size_t)w;
	}
	s->bytes += (long long)len;
	return len;
}

/* libcurl once per process; the bookpics programs are single-threaded. */
static int global_init(char *err)
{
	static int done;
	CURLcode rc;

	if (done)
		return 0;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		return err_set(err, "curl_global_init: %s", curl_easy_strerror(rc));
	done = 1;
	return 0;
}

#define SETOPT(h, opt, val) \
	do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)

/* A fresh handle for one request of url; credentials only if with_auth. */
static CURL *hop_handle(const char *url, const struct fetch_opts *o, int with_auth,
			long remaining_ms, struct sink *s, char *errbuf, char *err)
{
	long connect_ms = o->connect_timeout_ms < remaining_ms ? o->connect_timeout_ms : remaining_ms;
	CURLcode rc = CURLE_OK;
	CURL *h = curl_easy_init();

	if (!h) {
		err_set(err, "curl_easy_init: out of memory");
		return NULL;
	}
	s->h = h;
	SETOPT(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);	/* we follow, see fetch_to_fd */
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_HTTPGET, 1L);
	SETOPT(h, CURLOPT_USERAGENT, "bookpics");
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	SETOPT(h, CURLOPT_TIMEOUT_MS, remaining_ms);
	SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
	SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(h, CURLOPT_WRITEDATA, s);
	SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
	if (with_auth) {
		SETOPT(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SETOPT(h, CURLOPT_USERNAME, o->user);
		SETOPT(h, CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	if (rc != CURLE_OK) {
		err_set(err, "curl_easy_setopt: %s", curl_easy_strerror(rc));
		curl_easy_cleanup(h);
		return NULL;
	}
	return h;
}

/* Explain a failed curl_easy_perform of hop n into err; returns -1. */
static int perform_error(CURLcode rc, const struct sink *s, const struct fetch_opts *o,
			 int n, const char *errbuf, char *err)
{
	if (s->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		return err_set(err, "upstream body larger than media_max_bytes (%lld bytes)", o->max_bytes);
	if (s->write_errno)
		return err_set(err, "write: %s", strerror(s->write_errno));
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return err_set(err, "curl_easy_perform (hop %d): timed out (connect %ld ms, total %ld ms): %s",
			       n, o->connect_timeout_ms, o->total_timeout_ms, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return err_set(err, "curl_easy_perform (hop %d): %s", n,
		       errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

int fetch_to_fd(const char *url, const struct fetch_opts *o, int fd,
		struct fetch_result *r, char *err)
{
	char errbuf[CURL_ERROR_SIZE], *cur = NULL, *ct = NULL, *loc = NULL;
	long long deadline = clock_ms() + o->total_timeout_ms, remaining;
	struct fetch_result local;
	struct sink s;
	CURL *h = NULL;
	CURLcode rc;
	int ret = -1, hop;
	int with_auth = o->user && o->user[0];

	if (!r)
		r = &local;
	memset(r, 0, sizeof(*r));
	if (!scheme(url)) {
		err_set(err, "fetch: only http and https URLs are fetched");
		goto out;
	}
	if (global_init(err))
		goto out;
	cur = strdup(url);
	if (!cur) {
		err_set(err, "strdup: out of memory");
		goto out;
	}
	for (hop = 0;; hop++) {
		remaining = deadline - clock_ms();
		if (remaining <= 0) {
			err_set(err, "fetch: timed out after %ld ms (total)", o->total_timeout_ms);
			goto out;
		}
		memset(&s, 0, sizeof(s));
		s.fd = fd;
		s.max = o->max_bytes;
		errbuf[0] = '\0';
		h = hop_handle(cur, o, with_auth && hop == 0, (long)remaining, &s, errbuf, err);
		if (!h)
			goto out;
		if (with_auth && hop == 0)
			r->auth_hops = 1;
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		ct = NULL;
		if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			snprintf(r->content_type, sizeof(r->content_type), "%s", ct);
		r->bytes = s.bytes;
		if (rc != CURLE_OK) {
			perform_error(rc, &s, o, hop, errbuf, err);
			goto out;
		}
		if (!is_redirect(r->status))
			break;
		if (hop >= o->max_redirects) {
			err_set(err, "fetch: more than %d redirects", o->max_redirects);
			goto out;
		}
		/* libcurl resolves a relative Location against cur for us */
		loc = NULL;
		if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc) {
			err_set(err, "fetch: redirect %ld without a usable Location", r->status);
			goto out;
		}
		if (!scheme(loc) || (scheme(cur) == 2 && scheme(loc) == 1)) {
			err_set(err, "fetch: redirect to a scheme other than %s refused",
				scheme(cur) == 2 ? "https" : "http or https");
			goto out;
		}
		free(cur);
		cur = strdup(loc);	/* loc belongs to h */
		curl_easy_cleanup(h);
		h = NULL;
		if (!cur) {
			err_set(err, "strdup: out of memory");
			goto out;
		}
		r->redirects++;
	}
	if (r->status != 200) {
		err_set(err, "upstream answered %ld", r->status);
		goto out;
	}
	ret = 0;
out:
	curl_easy_cleanup(h);
	free(cur);
	return ret;
}
