/* test-http.c - http_query_get: first occurrence, whole names only, raw values, cut to the buffer. */
#include "http.h"
#include "unit.h"

int main(void)
{
	char buf[8];

	CHECK(http_query_get("after=3&limit=20", "limit", buf, sizeof(buf)) == 1, "a later key");
	CHECK_STR(buf, "20", "its value, up to the end");
	CHECK(http_query_get("after=3&limit=20", "after", buf, sizeof(buf)) == 1, "the first key");
	CHECK_STR(buf, "3", "its value, up to the '&'");
	CHECK(http_query_get("after=1&after=2", "after", buf, sizeof(buf)) == 1, "a repeated key");
	CHECK_STR(buf, "1", "the first occurrence wins");
	CHECK(http_query_get("xafter=1&after=2", "after", buf, sizeof(buf)) == 1, "a key ending in the name");
	CHECK_STR(buf, "2", "is another key");
	CHECK(http_query_get("afterx=1", "after", buf, sizeof(buf)) == 0, "a key starting with the name is another key");
	CHECK(http_query_get("after&limit=2", "after", buf, sizeof(buf)) == 0, "a key without '=' has no value");
	CHECK(http_query_get("after=&limit=2", "after", buf, sizeof(buf)) == 1, "an empty value is found");
	CHECK_STR(buf, "", "and empty");
	CHECK(http_query_get("token=a%2Eb", "token", buf, sizeof(buf)) == 1, "an escaped value");
	CHECK_STR(buf, "a%2Eb", "is not decoded");
	CHECK(http_query_get("n=123456789", "n", buf, sizeof(buf)) == 1, "a value longer than the buffer");
	CHECK_STR(buf, "1234567", "is cut to fit, terminated");
	CHECK(http_query_get("", "after", buf, sizeof(buf)) == 0, "an empty query");
	CHECK(http_query_get(NULL, "after", buf, sizeof(buf)) == 0, "no query at all");
	CHECK(http_query_get("&&after=5", "after", buf, sizeof(buf)) == 1, "empty pairs are skipped");
	CHECK_STR(buf, "5", "to the key");
	return unit_done();
}
