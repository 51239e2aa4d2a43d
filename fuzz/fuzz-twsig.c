/*
 * fuzz-twsig.c - a webhook's URL, form and X-Twilio-Signature as an attacker
 * sends them: first line the URL, second the signature, the rest the body.
 * A signature we made ourselves must verify; nothing may crash.
 */
#include <assert.h>

#include "err.h"
#include "form.h"
#include "fuzz.h"
#include "twsig.h"

#define TOKEN "12345"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *url, *sig, *body, err[ERR_LEN], mine[64];
	struct form f = { 0 };

	if (!s)
		return 0;
	url = s;
	sig = strchr(url, '\n');
	if (!sig)
		goto out;
	*sig++ = '\0';
	body = strchr(sig, '\n');
	if (!body)
		goto out;
	*body++ = '\0';
	if (form_parse(&f, body, strlen(body), err))
		goto out;
	(void)tw_verify(url, &f, TOKEN, sig);
	(void)tw_body_sha256_ok(url, body, strlen(body));
	if (tw_sign(url, &f, TOKEN, mine, err) == 0)
		assert(tw_verify(url, &f, TOKEN, mine));
out:
	form_free(&f);
	free(s);
	return 0;
}
