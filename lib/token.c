/* token.c - HMAC-SHA256 connection tokens. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "err.h"
#include "name.h"
#include "token.h"

static void b64url(char *out, const unsigned char *in, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;
	unsigned v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = tab[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned)in[i] << 16;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
	} else if (len - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
	}
	*out = '\0';
}

/* The signature of the first len bytes of payload into sig (44 bytes). */
static int sign(const char *secret, const char *payload, size_t len, char *sig)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret),
		  (const unsigned char *)payload, len, mac, &maclen))
		return -1;
	b64url(sig, mac, maclen);
	return 0;
}

/* "USER.EXPIRES" or "USER.EXPIRES.ISSUED" (issued > 0) signed into out. */
static int mint(const char *secret, const char *user, uint64_t issued_us, time_t expires,
		char out[TOKEN_MAX], char *err)
{
	char sig[64];
	int n;

	if (!name_ok(user))
		return err_set(err, "invalid user id '%s'", user);
	if (issued_us)
		n = snprintf(out, TOKEN_MAX, "%s.%lld.%llu", user, (long long)expires,
			     (unsigned long long)issued_us);
	else
		n = snprintf(out, TOKEN_MAX, "%s.%lld", user, (long long)expires);
	if (n < 0 || n >= TOKEN_MAX - 50)
		return err_set(err, "token too long");
	if (sign(secret, out, (size_t)n, sig))
		return err_set(err, "HMAC: failed");
	snprintf(out + n, (size_t)(TOKEN_MAX - n), ".%s", sig);
	return 0;
}

int token_mint(const char *secret, const char *user, time_t expires,
	       char out[TOKEN_MAX], char *err)
{
	return mint(secret, user, 0, expires, out, err);
}

int token_mint_issued(const char *secret, const char *user, uint64_t issued_us,
		      time_t expires, char out[TOKEN_MAX], char *err)
{
	if (!issued_us)
		return err_set(err, "token: issue time 0");
	return mint(secret, user, issued_us, expires, out, err);
}

/* A decimal of digits only from p up to end (exclusive): 0 and *v, or -1. */
static int digits(const char *p, const char *end, unsigned long long *v)
{
	char *stop;

	if (p == end || !isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	*v = strtoull(p, &stop, 10);
	return stop == end && !errno ? 0 : -1;
}

int token_verify_issued(const char *secret, const char *token, time_t now,
			char *user, uint64_t *issued_us, char *err)
{
	const char *dot1, *dot2, *last;
	unsigned long long expires, issued = 0;
	char sig[64];
	size_t ulen;

	if (issued_us)
		*issued_us = 0;
	if (!token || strlen(token) >= TOKEN_MAX)
		return err_set(err, "malformed token");
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot1 || !dot2)
		return err_set(err, "malformed token");
	last = strrchr(token, '.');	/* the signature has no dot */
	ulen = (size_t)(dot1 - token);
	if (ulen < 1 || ulen > NAME_LEN_MAX)
		return err_set(err, "malformed token");
	if (digits(dot1 + 1, dot2, &expires) || expires > LLONG_MAX)
		return err_set(err, "malformed token");
	if (last != dot2 && (strchr(dot2 + 1, '.') != last || digits(dot2 + 1, last, &issued)))
		return err_set(err, "malformed token");
	if (sign(secret, token, (size_t)(last - token), sig))
		return err_set(err, "HMAC: failed");
	if (strlen(last + 1) != strlen(sig) ||
	    CRYPTO_memcmp(last + 1, sig, strlen(sig)))
		return err_set(err, "bad signature");
	if ((long long)expires <= (long long)now)
		return err_set(err, "token expired");
	memcpy(user, token, ulen);
	user[ulen] = '\0';
	if (!name_ok(user))
		return err_set(err, "malformed token");
	if (issued_us)
		*issued_us = issued;
	return 0;
}

int token_verify(const char *secret, const char *token, time_t now,
		 char *user, char *err)
{
	return token_verify_issued(secret, token, now, user, NULL, err);
}
