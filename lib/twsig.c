/* twsig.c - Twilio request signatures (the official SDKs' algorithm). */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "err.h"
#include "twsig.h"

static int pair_cmp(const void *a, const void *b)
{
	const struct form_pair *x = *(const struct form_pair *const *)a;
	const struct form_pair *y = *(const struct form_pair *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

/*
 * An HMAC-SHA1 context keyed with token. OpenSSL 3's one-shot HMAC()
 * fetches the algorithms from the provider on every call (8% of the
 * webhook's CPU), so each thread keeps one keyed context for the last
 * token it saw and hands out copies. Returns a context to free, or NULL.
 */
static EVP_MAC_CTX *hmac_sha1(const char *token)
{
	static _Thread_local EVP_MAC_CTX *keyed;
	static _Thread_local char keyed_token[256];
	char digest[] = "SHA1";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	size_t len = strlen(token);
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *mac;

	if (keyed && !strcmp(keyed_token, token))
		return EVP_MAC_CTX_dup(keyed);
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac)
		ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);	/* ctx holds its own reference */
	if (ctx && !EVP_MAC_init(ctx, (const unsigned char *)token, len, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	if (!ctx || len >= sizeof(keyed_token))
		return ctx;	/* a token that long is used once, not kept */
	EVP_MAC_CTX_free(keyed);
	keyed = ctx;
	memcpy(keyed_token, token, len + 1);
	return EVP_MAC_CTX_dup(keyed);
}

int tw_sign(const char *url, const struct form *params, const char *token,
	    char out[TW_SIG_LEN], char *err)
{
	const struct form_pair **sorted = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	EVP_MAC_CTX *ctx = NULL;
	size_t i, maclen = 0, n = params ? params->n : 0, len = strlen(url);
	char *msg = NULL, *p;
	int ret = -1;

	if (n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return err_set(err, "tw_sign: out of memory");
		for (i = 0; i < n; i++) {
			sorted[i] = &params->pairs[i];
			len += strlen(sorted[i]->name) + strlen(sorted[i]->value);
		}
		qsort(sorted, n, sizeof(*sorted), pair_cmp);
	}
	/* The signed string: url, then name+value of each distinct pair. */
	msg = malloc(len + 1);
	if (!msg) {
		err_set(err, "tw_sign: out of memory");
		goto out;
	}
	p = stpcpy(msg, url);
	for (i = 0; i < n; i++) {
		if (i && !pair_cmp(&sorted[i - 1], &sorted[i]))
			continue;	/* a repeated name=value counts once */
		p = stpcpy(p, sorted[i]->name);
		p = stpcpy(p, sorted[i]->value);
	}
	ctx = hmac_sha1(token);
	if (!ctx || !EVP_MAC_update(ctx, (unsigned char *)msg, (size_t)(p - msg)) ||
	    !EVP_MAC_final(ctx, mac, &maclen, sizeof(mac))) {
		err_set(err, "hmac-sha1: failed");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
	ret = 0;
out:
	EVP_MAC_CTX_free(ctx);
	free(msg);
	free(sorted);
	return ret;
}

static int sig_equal(const char *url, const struct form *params,
		     const char *token, const char *header)
{
	char sig[TW_SIG_LEN];
	size_t len = strlen(header);

	if (tw_sign(url, params, token, sig, NULL))
		return 0;
	return len == strlen(sig) && !CRYPTO_memcmp(sig, header, len);
}

/*
 * The other spelling of url's port: without it if it has one, with the
 * scheme's default if it has none. Returns a malloc'd string or NULL.
 */
static char *other_port_url(const char *url)
{
	const char *host, *end, *colon;
	const char *def;
	char *out;
	size_t hlen;

	if (!strncmp(url, "https://", 8))
		host = url + 8, def = ":443";
	else if (!strncmp(url, "http://", 7))
		host = url + 7, def = ":80";
	else
		return NULL;
	end = host + strcspn(host, "/?#");
	colon = memchr(host, ':', (size_t)(end - host));
	hlen = (size_t)((colon ? colon : end) - url);
	out = malloc(strlen(url) + 8);
	if (!out)
		return NULL;
	memcpy(out, url, hlen);
	strcpy(out + hlen, colon ? "" : def);
	strcat(out, end);
	return out;
}

int tw_verify(const char *url, const struct form *params, const char *token,
	      const char *header)
{
	char *alt;
	int ok;

	if (!header || !*header || !token || !*token)
		return 0;
	/* Which spelling matched is no secret: try the other only if needed. */
	if (sig_equal(url, params, token, header))
		return 1;
	alt = other_port_url(url);
	ok = alt && sig_equal(alt, params, token, header);
	free(alt);
	return ok;
}

int tw_body_sha256_ok(const char *url, const char *body, size_t len)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	const char *p = strstr(url, "bodySHA256=");
	int i;

	/* the parameter, not a value or a path that ends in its name */
	while (p && (p == url || (p[-1] != '?' && p[-1] != '&')))
		p = strstr(p + 1, "bodySHA256=");
	if (!p)
		return 0;
	SHA256((const unsigned char *)body, len, md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	p += strlen("bodySHA256=");
	return strlen(p) >= 64 && (p[64] == '\0' || p[64] == '&') &&
	       !CRYPTO_memcmp(p, hex, 64);
}
