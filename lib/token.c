/* token.c - HMAC-SHA256 connection tokens. */
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

int token_mint(const char *secret, const char *user, time_t expires,
	       char out[TOKEN_MAX], char *err)
{
	char sig[64];
	int n;

	if (!name_ok(user))
		return err_set(err, "invalid user id '%s'", user);
	n = snprintf(out, TOKEN_MAX, "%s.%lld", user, (long long)expires);
	if (n < 0 || n >= TOKEN_MAX - 50)
		return err_set(err, "token too long");
	if (sign(secret, out, (size_t)n, sig))
		return err_set(err, "HMAC: failed");
	snprintf(out + n, (size_t)(TOKEN_MAX - n), ".%s", sig);
	return 0;
}

int token_verify(const char *secret, const char *token, time_t now,
		 char *user, char *err)
{
	const char *dot1, *dot2;
	char sig[64], *end;
	long long expires;
	size_t ulen;

	if (!token || strlen(token) >= TOKEN_MAX)
		return err_set(err, "malformed token");
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot1 || !dot2)
		return err_set(err, "malformed token");
	ulen = (size_t)(dot1 - token);
	if (ulen < 1 || ulen > NAME_LEN_MAX)
		return err_set(err, "malformed token");
	expires = strtoll(dot1 + 1, &end, 10);
	if (end != dot2 || end == dot1 + 1)
		return err_set(err, "malformed token");
	if (sign(secret, token, (size_t)(dot2 - token), sig))
		return err_set(err, "HMAC: failed");
	if (strlen(dot2 + 1) != strlen(sig) ||
	    CRYPTO_memcmp(dot2 + 1, sig, strlen(sig)))
		return err_set(err, "bad signature");
	if (expires <= (long long)now)
		return err_set(err, "token expired");
	memcpy(user, token, ulen);
	user[ulen] = '\0';
	if (!name_ok(user))
		return err_set(err, "malformed token");
	return 0;
}
