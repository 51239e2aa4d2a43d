/* test-name.c - the id rule: 1..64 of [A-Za-z0-9_-], nothing else. */
#include <string.h>

#include "name.h"
#include "unit.h"

int main(void)
{
	char longest[NAME_LEN_MAX + 2];

	CHECK(name_ok("books") && name_ok("uuid-room_1") && name_ok("A") && name_ok("0"),
	      "letters, digits, '-' and '_'");
	CHECK(!name_ok(NULL), "NULL is no name");
	CHECK(!name_ok(""), "the empty name is refused");
	CHECK(!name_ok("a b") && !name_ok("a.b") && !name_ok("a/b") && !name_ok("../x"),
	      "no spaces, dots or slashes (names become paths and keys)");
	CHECK(!name_ok("a\nb") && !name_ok("a\tb"), "no control characters (names become FIFO lines)");
	CHECK(!name_ok("caf\xc3\xa9"), "ASCII only");
	memset(longest, 'x', NAME_LEN_MAX);
	longest[NAME_LEN_MAX] = '\0';
	CHECK(NAME_LEN_MAX == 64 && name_ok(longest), "64 bytes is the longest");
	longest[NAME_LEN_MAX] = 'x';
	longest[NAME_LEN_MAX + 1] = '\0';
	CHECK(!name_ok(longest), "65 bytes is too long");
	return unit_done();
}
