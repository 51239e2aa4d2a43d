/* twsig.h - Twilio's X-Twilio-Signature: HMAC-SHA1 over URL + sorted params. */
#ifndef BP_TWSIG_H
#define BP_TWSIG_H

#include <stddef.h>

#include "form.h"

#define TW_SIG_LEN 29	/* base64 of 20 bytes, plus NUL */

/*
 * Compute the signature of url (used exactly as given) and params (may be
 * NULL: the URL alone, as for JSON bodies) with the auth token into out:
 * url, then each distinct name+value pair in byte order of name then value,
 * HMAC-SHA1, base64. Returns 0, or -1 with err filled.
 */
int tw_sign(const char *url, const struct form *params, const char *token,
	    char out[TW_SIG_LEN], char *err);

/*
 * Check header (X-Twilio-Signature) against url and params in constant
 * time. Like Twilio's SDKs, the URL also matches with its port removed or
 * with the scheme's default port added. Returns 1 valid, 0 not (a missing
 * header or an empty token is never valid).
 */
int tw_verify(const char *url, const struct form *params, const char *token,
	      const char *header);

/*
 * For JSON bodies: does url carry bodySHA256=<hex sha256 of body>? 1 or 0.
 */
int tw_body_sha256_ok(const char *url, const char *body, size_t len);

#endif
