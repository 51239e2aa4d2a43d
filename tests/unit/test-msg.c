/* test-msg.c - stored records, public JSON, strict JSON parsing, UTF-8. */
#include <stdlib.h>

#include "err.h"
#include "msg.h"
#include "unit.h"

int main(void)
{
	struct msg_media media[2] = {
		{ "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg" },
		{ "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", "image/png" },
	};
	char err[ERR_LEN], src[256], ct[64], *rec;
	struct json_object *o;
	const char *text;
	size_t len;

	rec = msg_record("sms:\xe2\x80\xa6" "5309", "picture", "my book </script>", media, 2, "MM1", err);
	CHECK(rec != NULL, "record");
	CHECK(strstr(rec, "\"src\":\"https://api.twilio.com/") != NULL, "keeps the upstream URL");
	CHECK(strstr(rec, "\"sid\":\"MM1\"") != NULL, "keeps the sid");
	o = msg_public("books", 7, rec, NULL, err);
	text = msg_json_text(o, &len);
	CHECK(strstr(text, "twilio") == NULL && strstr(text, "MM1") == NULL,
	      "public form has no upstream URL and no sid");
	CHECK(!strncmp(text, "{\"room\":\"books\",\"index\":7,\"userId\":\"sms:\xe2\x80\xa6" "5309\","
		       "\"messageType\":\"picture\",\"chatMessage\":\"my book <\\/script>\"", 100) ||
	      strstr(text, "\"chatMessage\":\"my book </script>\""), "fields in contract order");
	CHECK(strstr(text, "\"media\":[{\"url\":\"/media/books/7/0\",\"contentType\":\"image/jpeg\"},"
			   "{\"url\":\"/media/books/7/1\",\"contentType\":\"image/png\"}]") != NULL,
	      "media URLs point at bookpics");
	CHECK(strstr(text, "\"createTime\":\"20") != NULL && strstr(text, "Z\"") != NULL, "createTime ISO UTC");
	json_object_put(o);
	o = msg_public("books", 7, rec, "message", err);
	CHECK(!strncmp(msg_json_text(o, &len), "{\"type\":\"message\",\"room\":\"books\"", 32),
	      "frame form starts with type");
	json_object_put(o);
	CHECK(msg_media_get(rec, 1, src, sizeof(src), ct, sizeof(ct)) == 1 &&
	      !strcmp(ct, "image/png") && strstr(src, "ME2"), "media item 1");
	CHECK(msg_media_get(rec, 2, src, sizeof(src), ct, sizeof(ct)) == 0, "no item 2");
	free(rec);

	media[1].src = "https://api.twilio.com/x\xff";
	CHECK(msg_record("sms:1", "picture", "t", media, 2, "MM2", err) == NULL,
	      "a media URL that is not UTF-8 is never stored");
	CHECK(msg_record("sms:1", "text message", "\xc3(", NULL, 0, NULL, err) == NULL,
	      "a text that is not UTF-8 is never stored");
	o = msg_public("books", 9, "{\"userId\":\"\xff\"}", "message", err);
	CHECK_STR(msg_json_text(o, &len),
		  "{\"type\":\"message\",\"room\":\"books\",\"index\":9,\"createTime\":\"\",\"hidden\":true}",
		  "an unreadable record reads as a tombstone, never an error");
	json_object_put(o);

	o = msg_parse_json("{\"a\":1}", 7, err);
	CHECK(o != NULL, "strict parse");
	json_object_put(o);
	CHECK(msg_parse_json("{\"a\":1}x", 8, err) == NULL, "trailing bytes refused");
	CHECK(msg_parse_json("{'a':1}", 7, err) == NULL, "single quotes refused");
	CHECK(msg_parse_json("{\"a\":\"\xff\"}", 8, err) == NULL, "invalid UTF-8 refused");
	CHECK(msg_parse_json("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]", 41, err) == NULL, "too deep refused");
	CHECK(msg_parse_json("", 0, err) == NULL, "empty refused");
	CHECK(msg_utf8_ok("h\xc3\xa9llo \xf0\x9f\x93\x9a", 11), "UTF-8 ok");
	CHECK(!msg_utf8_ok("\xc0\xaf", 2), "overlong refused");
	CHECK(!msg_utf8_ok("\xed\xa0\x80", 3), "surrogate refused");
	CHECK(!msg_utf8_ok("a\0b", 3), "NUL refused");
	CHECK(!msg_utf8_ok("\xe2\x80", 2), "truncated refused");
	CHECK(msg_utf8_chars("h\xc3\xa9llo \xf0\x9f\x93\x9a") == 7, "characters, not bytes");
	CHECK(msg_utf8_chars("") == 0, "no characters in \"\"");
	return unit_done();
}
