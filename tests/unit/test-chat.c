/* test-chat.c - chat_key_ok: the rule for Idempotency-Key and clientMessageId. */
#include <string.h>

#include "chat.h"
#include "unit.h"

int main(void)
{
	char key[CHAT_KEY_MAX + 2];

	CHECK(chat_key_ok("3f2c9a1e-7b1d-4c2a-9e8f-0a1b2c3d4e5f"), "a UUID");
	CHECK(chat_key_ok("01HZX3T1Q8M6V0K9A2B3C4D5E6"), "a ULID");
	CHECK(chat_key_ok("a") && chat_key_ok("A.b_c:d-9"), "one character; every allowed punctuation");
	CHECK(!chat_key_ok(NULL) && !chat_key_ok(""), "NULL and empty refused");
	CHECK(!chat_key_ok("a b") && !chat_key_ok("a/b") && !chat_key_ok("a\nb") &&
	      !chat_key_ok("\"a\"") && !chat_key_ok("a=b") && !chat_key_ok("\xc3\xa9"),
	      "space, slash, newline, quote, equals, non-ASCII refused");
	memset(key, 'k', CHAT_KEY_MAX);
	key[CHAT_KEY_MAX] = '\0';
	CHECK(chat_key_ok(key), "CHAT_KEY_MAX characters");
	key[CHAT_KEY_MAX] = 'k';
	key[CHAT_KEY_MAX + 1] = '\0';
	CHECK(!chat_key_ok(key), "CHAT_KEY_MAX + 1 refused");
	CHECK(CHAT_KEY_MAX == 64, "the limit is 64 (docs/API.md)");
	return unit_done();
}
