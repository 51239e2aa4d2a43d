/* test-token.c - connection tokens: mint, verify, tamper, expiry. */
#include "err.h"
#include "token.h"
#include "unit.h"

#define SECRET "0123456789abcdef0123456789abcdef"

int main(void)
{
	char tok[TOKEN_MAX], user[80], err[ERR_LEN], bad[TOKEN_MAX];
	size_t len;

	CHECK(token_mint(SECRET, "uuid1", 2000000000, tok, err) == 0, "mint");
	CHECK(!strncmp(tok, "uuid1.2000000000.", 17), "USER.EXPIRES.SIG");
	CHECK(token_verify(SECRET, tok, 1999999999, user, err) == 0, "verify");
	CHECK_STR(user, "uuid1", "gives the user");
	CHECK(token_verify(SECRET, tok, 2000000000, user, err) == -1, "expired at its time");
	CHECK_STR(err, "token expired", "says so");
	CHECK(token_verify("another-secret-0123456789", tok, 1, user, err) == -1, "another secret fails");
	CHECK_STR(err, "bad signature", "bad signature");

	strcpy(bad, tok);
	bad[0] = 'v';	/* vuid1: another user, same signature */
	CHECK(token_verify(SECRET, bad, 1, user, err) == -1, "a changed user fails");
	strcpy(bad, tok);
	memcpy(bad + 6, "3000000000", 10);	/* a later expiry */
	CHECK(token_verify(SECRET, bad, 1, user, err) == -1, "a changed expiry fails");
	strcpy(bad, tok);
	len = strlen(bad);
	bad[len - 1] = bad[len - 1] == 'A' ? 'B' : 'A';
	CHECK(token_verify(SECRET, bad, 1, user, err) == -1, "a changed signature fails");
	CHECK(token_verify(SECRET, "uuid1", 1, user, err) == -1 &&
	      !strcmp(err, "malformed token"), "no dots: malformed");
	CHECK(token_verify(SECRET, "uuid1..x", 1, user, err) == -1, "no expiry: malformed");
	CHECK(token_verify(SECRET, "", 1, user, err) == -1, "empty: malformed");
	CHECK(token_verify(SECRET, NULL, 1, user, err) == -1, "NULL: malformed");
	CHECK(token_mint(SECRET, "bad user", 1, tok, err) == -1, "mint refuses a bad user id");
	return unit_done();
}
