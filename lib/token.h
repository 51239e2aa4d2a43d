/* token.h - connection tokens: USER.EXPIRY.HMAC-SHA256, minted by bookpics-admin. */
#ifndef BP_TOKEN_H
#define BP_TOKEN_H

#include <stddef.h>
#include <time.h>

#define TOKEN_MAX 256

/*
 * Mint a token for user valid until expires (unix seconds) into out
 * (TOKEN_MAX bytes): "USER.EXPIRES.SIG", SIG = base64url without padding of
 * HMAC-SHA256(secret, "USER.EXPIRES"). Returns 0, or -1 with err.
 */
int token_mint(const char *secret, const char *user, time_t expires,
	       char out[TOKEN_MAX], char *err);

/*
 * Check token at time now: well formed, signature right (compared in
 * constant time), not expired. On success copies the user id into user
 * (NAME_LEN_MAX + 1 bytes, name.h) and returns 0; else -1 with err saying why
 * ("malformed token", "bad signature", "token expired"). Whether the user
 * still exists is the caller's check.
 */
int token_verify(const char *secret, const char *token, time_t now,
		 char *user, char *err);

#endif
