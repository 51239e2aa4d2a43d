/* test-twsig.c - Twilio's official request-validator vectors (reference/twilio.md). */
#include <stdlib.h>

#include "err.h"
#include "form.h"
#include "twsig.h"
#include "unit.h"

#define TOKEN "12345"
#define PARAMS "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212"
#define URL "https://mycompany.com/myapp.php?foo=1&bar=2"

static void sign(const char *url, const char *body, char *out)
{
	struct form f;
	char err[ERR_LEN];

	form_parse(&f, body, strlen(body), err);
	if (tw_sign(url, &f, TOKEN, out, err))
		strcpy(out, err);
	form_free(&f);
}

static int verify(const char *url, const char *body, const char *token, const char *sig)
{
	struct form f;
	char err[ERR_LEN];
	int ok;

	form_parse(&f, body, strlen(body), err);
	ok = tw_verify(url, &f, token, sig);
	form_free(&f);
	return ok;
}

int main(void)
{
	const char *json = "{\"property\": \"value\", \"boolean\": true}";
	const char *hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
	char sig[TW_SIG_LEN], url[512], err[ERR_LEN];

	sign(URL, PARAMS, sig);
	CHECK_STR(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "official vector: https URL with query");
	CHECK(verify(URL, PARAMS, TOKEN, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "verifies");
	CHECK(!verify(URL, PARAMS, TOKEN, "RSOYDt4T1cUTdK1PDd93/VVr8B8"), "a truncated signature fails");
	CHECK(!verify(URL, PARAMS, "54321", "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "another token fails");
	CHECK(!verify(URL, PARAMS "&Extra=1", TOKEN, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "an added parameter fails");
	CHECK(!verify("https://mycompany.com/myapp.php?foo=1&bar=3", PARAMS, TOKEN,
		      "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "another URL fails");
	CHECK(!verify(URL, PARAMS, TOKEN, NULL), "a missing signature fails");
	CHECK(!verify(URL, PARAMS, TOKEN, ""), "an empty signature fails");
	CHECK(!verify(URL, PARAMS, "", "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "no token: never valid");

	sign("http://mycompany.com:1234/myapp.php?foo=1&bar=2", PARAMS, sig);
	CHECK_STR(sig, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", "official vector: explicit port 1234");
	sign("https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS, sig);
	CHECK_STR(sig, "kvajT1Ptam85bY51eRf/AJRuM3w=", "official vector: https with :443");
	sign("http://mycompany.com:80/myapp.php?foo=1&bar=2", PARAMS, sig);
	CHECK_STR(sig, "0ZXoZLH/DfblKGATFgpif+LLRf4=", "official vector: http with :80");

	CHECK(verify(URL, PARAMS, TOKEN, "kvajT1Ptam85bY51eRf/AJRuM3w="),
	      "a signature made with :443 verifies on the URL without it");
	CHECK(verify("https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS, TOKEN,
		     "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "and the other way round");
	CHECK(verify("http://mycompany.com/myapp.php?foo=1&bar=2", PARAMS, TOKEN,
		     "0ZXoZLH/DfblKGATFgpif+LLRf4="), "http: the :80 spelling verifies");
	CHECK(!verify("http://mycompany.com:1234/myapp.php?foo=1&bar=2", PARAMS, TOKEN,
		      "0ZXoZLH/DfblKGATFgpif+LLRf4="), "a non-default port is not dropped for :80");

	/* the per-thread keyed context: other tokens in turn, empty and long */
	{
		struct form f;
		char longtok[301];

		memset(longtok, 'k', 300);
		longtok[300] = '\0';
		form_parse(&f, PARAMS, strlen(PARAMS), err);
		CHECK(tw_sign(URL, &f, "", sig, err) == 0, "an empty token signs");
		CHECK_STR(sig, "aXngMTP07D4c4hkO+r0Kb5Oe528=", "HMAC with an empty key");
		CHECK(tw_sign(URL, &f, longtok, sig, err) == 0, "a 300-byte token signs");
		CHECK_STR(sig, "7xWDHuT14mUxTRQgzv551Amh000=", "HMAC with a 300-byte key");
		CHECK(tw_sign(URL, &f, TOKEN, sig, err) == 0, "back to the token");
		CHECK_STR(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "the official vector again");
		CHECK(tw_sign(URL, &f, longtok, sig, err) == 0, "the long token again");
		CHECK_STR(sig, "7xWDHuT14mUxTRQgzv551Amh000=", "same HMAC");
		form_free(&f);
	}

	sign(URL, "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234", sig);
	CHECK_STR(sig, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", "official vector: repeated parameters");

	snprintf(url, sizeof(url), "%s&bodySHA256=%s", URL, hash);
	CHECK(tw_sign(url, NULL, TOKEN, sig, err) == 0, "URL alone signs");
	CHECK_STR(sig, "a9nBmqA0ju/hNViExpshrM61xv4=", "official vector: bodySHA256 URL");
	CHECK(tw_body_sha256_ok(url, json, strlen(json)), "bodySHA256 matches the JSON body");
	CHECK(!tw_body_sha256_ok(url, json, strlen(json) - 1), "a changed body does not");
	CHECK(!tw_body_sha256_ok(URL, json, strlen(json)), "a URL without bodySHA256 does not");
	{
		/* exactly sized on the heap: ASan sees a read before its start */
		char *bare = malloc(strlen("bodySHA256=") + 65);

		sprintf(bare, "bodySHA256=%s", hash);
		CHECK(!tw_body_sha256_ok(bare, json, strlen(json)),
		      "the name at the very start is no parameter (and no read before it)");
		free(bare);
	}
	snprintf(url, sizeof(url), "%s&x=bodySHA256=1&bodySHA256=%s", URL, hash);
	CHECK(tw_body_sha256_ok(url, json, strlen(json)), "the parameter after a value that names it");
	return unit_done();
}
