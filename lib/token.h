/* token.h - connection tokens: USER.EXPIRY[.ISSUED].HMAC-SHA256, minted by bookpics-admin. */
#ifndef BP_TOKEN_H
#define BP_TOKEN_H

#include <stddef.h>
#include <stdint.h>
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
 * The same with its issue time in microseconds (issued_us > 0):
 * "USER.EXPIRES.ISSUED.SIG", SIG over "USER.EXPIRES.ISSUED". What
 * bookpics-admin mints, so that `token revoke` can tell a token issued
 * before the revocation from one issued after. Returns 0/-1.
 */
int token_mint_issued(const char *secret, const char *user, uint64_t issued_us,
		      time_t expires, char out[TOKEN_MAX], char *err);

/*
 * Check token at time now: well formed, signature right (compared in
 * constant time), not expired. On success copies the user id into user
 * (NAME_LEN_MAX + 1 bytes, name.h) and returns 0; else -1 with err saying why
 * ("malformed token", "bad signature", "token expired"). Whether the user
 * still exists is the caller's check.
 */
int token_verify(const char *secret, const char *token, time_t now,
		 char *user, char *err);

/*
 * token_verify, also giving the token's issue time in microseconds into
 * *issued_us (may be NULL): 0 for a token without one (minted by
 * token_mint, or before bookpics 0.13).
 */
int token_verify_issued(const char *secret, const char *token, time_t now,
			char *user, uint64_t *issued_us, char *err);

#endif
