/* post.c - one signed POST of one hook event (see post.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "err.h"
#include "hooks.h"
#include "post.h"

/* The answer is not read: it only has to leave the socket. */
static size_t drop(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr, (void)ud;
	return size * nmemb;
}

/* Non-zero aborts the transfer: bookpics-hooks is stopping. */
static int progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	volatile sig_atomic_t *stop = ud;

	(void)dt, (void)dn, (void)ut, (void)un;
	return stop && *stop;
}

int post_event(const char *url, const char *secret, const char *body, size_t len,
	       volatile sig_atomic_t *stop, long *status, char *err)
{
	char sig[HOOKS_SIG_LEN], header[HOOKS_SIG_LEN + 32];
	struct curl_slist *hdrs = NULL, *h;
	CURL *c = NULL;
	CURLcode rc;
	int ret = -1;

	*status = 0;
	if (hooks_sign(secret, time(NULL), body, len, sig, err))
		return -1;
	snprintf(header, sizeof(header), "X-Bookpics-Signature: %s", sig);
	if (!(c = curl_easy_init())) {
		err_set(err, "curl_easy_init failed");
		goto out;
	}
	if (!(h = curl_slist_append(hdrs, "Content-Type: application/json")) || !(hdrs = h) ||
	    !(h = curl_slist_append(hdrs, header)) || !(hdrs = h) ||
	    !(h = curl_slist_append(hdrs, "Expect:")) || !(hdrs = h)) {
		err_set(err, "curl_slist_append: out of memory");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "bookpics-hooks");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, POST_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, POST_TOTAL_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);	/* a redirect is not a 2xx */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (rc != CURLE_OK) {
		err_set(err, "post %s: %s", url, curl_easy_strerror(rc));
		ret = 0;
	} else if (*status < 200 || *status > 299) {
		err_set(err, "post %s: answered %ld", url, *status);
		ret = 0;
	} else {
		ret = 1;
	}
out:
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	return ret;
}
