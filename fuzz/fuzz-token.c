/* fuzz-token.c - token_verify on any string; only a token we minted passes. */
#include <assert.h>

#include "err.h"
#include "fuzz.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), user[128], err[ERR_LEN], tok[TOKEN_MAX];

	if (!s)
		return 0;
	(void)token_verify("secret", s, 1000, user, err);
	if (size <= 64 && strlen(s) == size && token_mint("secret", s, 2000, tok, err) == 0) {
		assert(token_verify("secret", tok, 1000, user, err) == 0);
		assert(!strcmp(user, s));
		assert(token_verify("secret", tok, 2001, user, err) == -1);
	}
	free(s);
	return 0;
}
