/* test-relay-frame.c - the relay's pure pieces: request_parse (each refusal exactly), the Origin rule, rate limits. */
#include <string.h>

#include "limit.h"
#include "origin.h"
#include "request.h"
#include "unit.h"

/* Parse text (NUL-terminated, as the relay hands it over) as user's frame. */
static enum request_action parse(const char *text, const char *user, struct request *req)
{
	return request_parse(text, strlen(text), user, req);
}

/* A refused frame: action, code and message exactly. */
static void refused(const char *text, const char *user, enum request_action action,
		    const char *code, const char *message, const char *what)
{
	struct request req;

	CHECK(parse(text, user, &req) == action, what);
	CHECK_STR(req.code, code, what);
	CHECK_STR(req.message, message, what);
	request_free(&req);
}

static void test_not_an_action(void)
{
	refused("{\"action\":", "", REQUEST_NONE, "bad_request",
		"invalid JSON: unexpected end of data", "truncated JSON");
	refused("{'action':'subscribe'}", "", REQUEST_NONE, "bad_request",
		"invalid JSON: single-quoted string", "single quotes");
	refused("[1,2]", "", REQUEST_NONE, "bad_request",
		"a frame must be a JSON object with an \"action\"", "an array");
	refused("{\"room\":\"books\"}", "", REQUEST_NONE, "bad_request",
		"a frame must be a JSON object with an \"action\"", "no action");
	refused("{\"action\":7}", "", REQUEST_NONE, "bad_request",
		"a frame must be a JSON object with an \"action\"", "action not a string");
	refused("{\"action\":\"zap\"}", "", REQUEST_NONE, "bad_request",
		"unknown action zap: use subscribe, resume or sendMessage", "unknown action");
	refused("{\"action\":\"<b>hi</b>\"}", "", REQUEST_NONE, "bad_request",
		"unknown action (invalid name): use subscribe, resume or sendMessage",
		"an unknown action is not echoed unless a plain name");
}

static void test_subscribe(void)
{
	struct request req;

	CHECK(parse("{\"action\":\"subscribe\",\"room\":\"books\"}", "", &req) ==
	      REQUEST_SUBSCRIBE, "subscribe");
	CHECK(!req.code, "subscribe: accepted");
	CHECK_STR(req.room, "books", "subscribe: room");
	CHECK(!req.has_after, "subscribe: no after");
	request_free(&req);

	CHECK(parse("{\"action\":\"subscribe\",\"room\":\"books\",\"after\":0}", "", &req) ==
	      REQUEST_SUBSCRIBE && !req.code && req.has_after && req.after == 0,
	      "subscribe after 0");
	request_free(&req);
	CHECK(parse("{\"action\":\"subscribe\",\"room\":\"b\",\"after\":9007199254740993}", "ann",
		    &req) == REQUEST_SUBSCRIBE && !req.code && req.after == 9007199254740993ULL,
	      "subscribe: a 64-bit after");
	request_free(&req);

	refused("{\"action\":\"subscribe\"}", "", REQUEST_SUBSCRIBE, "bad_request",
		"subscribe needs \"room\": a room name", "subscribe without room");
	refused("{\"action\":\"subscribe\",\"room\":5}", "", REQUEST_SUBSCRIBE, "bad_request",
		"subscribe needs \"room\": a room name", "subscribe room not a string");
	refused("{\"action\":\"subscribe\",\"room\":\"books\",\"after\":-1}", "", REQUEST_SUBSCRIBE,
		"bad_request", "\"after\" must be a non-negative integer", "negative after");
	refused("{\"action\":\"subscribe\",\"room\":\"books\",\"after\":\"3\"}", "", REQUEST_SUBSCRIBE,
		"bad_request", "\"after\" must be a non-negative integer", "after a string");
	refused("{\"action\":\"subscribe\",\"room\":\"books\",\"after\":1.5}", "", REQUEST_SUBSCRIBE,
		"bad_request", "\"after\" must be a non-negative integer", "after a fraction");
}

static void test_resume(void)
{
	struct request req;

	CHECK(parse("{\"action\":\"resume\",\"rooms\":{\"a\":3,\"b\":0,\"c\":12}}", "", &req) ==
	      REQUEST_RESUME, "resume");
	CHECK(!req.code, "resume: accepted");
	CHECK(req.nrooms == 3, "resume: three rooms");
	if (req.nrooms == 3) {
		CHECK(!strcmp(req.rooms[0].name, "a") && req.rooms[0].after == 3, "resume: a 3 first");
		CHECK(!strcmp(req.rooms[1].name, "b") && req.rooms[1].after == 0, "resume: b 0");
		CHECK(!strcmp(req.rooms[2].name, "c") && req.rooms[2].after == 12, "resume: c 12");
	}
	request_free(&req);

	CHECK(parse("{\"action\":\"resume\",\"rooms\":{}}", "", &req) == REQUEST_RESUME &&
	      !req.code && req.nrooms == 0, "resume of no rooms");
	request_free(&req);

	refused("{\"action\":\"resume\"}", "", REQUEST_RESUME, "bad_request",
		"resume needs \"rooms\": {\"room\": index, ...}", "resume without rooms");
	refused("{\"action\":\"resume\",\"rooms\":[\"a\"]}", "", REQUEST_RESUME, "bad_request",
		"resume needs \"rooms\": {\"room\": index, ...}", "resume rooms an array");

	/* a bad index: the rooms before it stay, to be checked first */
	CHECK(parse("{\"action\":\"resume\",\"rooms\":{\"a\":1,\"b\":-2,\"c\":3}}", "", &req) ==
	      REQUEST_RESUME, "resume with a bad index");
	CHECK_STR(req.code, "bad_request", "bad index: code");
	CHECK_STR(req.message, "rooms.b must be a non-negative integer", "bad index: message");
	CHECK(req.nrooms == 1 && !strcmp(req.rooms[0].name, "a"), "bad index: the room before it kept");
	request_free(&req);

	refused("{\"action\":\"resume\",\"rooms\":{\"a b\":\"x\"}}", "", REQUEST_RESUME, "bad_request",
		"rooms.(invalid name) must be a non-negative integer", "bad index, odd room name");
}

static void test_send(void)
{
	struct request req;
	struct json_object *o;

	CHECK(parse("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"chatMessage\":\"hi\","
		    "\"messageType\":\"text message\"}", "ann", &req) == REQUEST_SEND, "send");
	CHECK(!req.code, "send: accepted");
	CHECK_STR(req.room, "books", "send: room");
	CHECK(json_object_object_get_ex(req.json, "chatMessage", &o) &&
	      !strcmp(json_object_get_string(o), "hi"), "send: the frame is kept for chat_send");
	request_free(&req);

	CHECK(parse("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"userId\":\"ann\"}", "ann",
		    &req) == REQUEST_SEND && !req.code, "send naming its own user");
	request_free(&req);

	/* anonymous first, whatever else is wrong */
	refused("{\"action\":\"sendMessage\"}", "", REQUEST_SEND, "unauthorized",
		"connect with a token to send messages", "send anonymous");
	refused("{\"action\":\"sendMessage\",\"chatroomId\":3}", "ann", REQUEST_SEND, "bad_request",
		"sendMessage needs \"chatroomId\": a room name", "send chatroomId not a string");
	refused("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"userId\":\"bob\"}", "ann",
		REQUEST_SEND, "forbidden", "userId must be the connection's user (ann)",
		"send as someone else");
	refused("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"userId\":1}", "ann",
		REQUEST_SEND, "forbidden", "userId must be the connection's user (ann)",
		"send userId not a string");

	CHECK(parse("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"chatMessage\":\"hi\","
		    "\"clientMessageId\":\"3f2c9a1e-7b1d-4c2a-9e8f-0a1b2c3d4e5f\"}", "ann", &req) ==
	      REQUEST_SEND && !req.code && req.client_id &&
	      !strcmp(req.client_id, "3f2c9a1e-7b1d-4c2a-9e8f-0a1b2c3d4e5f"), "send: clientMessageId kept");
	request_free(&req);
	CHECK(parse("{\"action\":\"sendMessage\",\"chatroomId\":\"books\"}", "ann", &req) ==
	      REQUEST_SEND && !req.code && !req.client_id, "send: no clientMessageId, none");
	request_free(&req);
	refused("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"clientMessageId\":\"a b\"}",
		"ann", REQUEST_SEND, "bad_request",
		"clientMessageId must be 1 to 64 of A-Z a-z 0-9 . _ : -", "send: clientMessageId with a space");
	refused("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"clientMessageId\":7}",
		"ann", REQUEST_SEND, "bad_request",
		"clientMessageId must be 1 to 64 of A-Z a-z 0-9 . _ : -", "send: clientMessageId a number");
	refused("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"clientMessageId\":\"\"}",
		"ann", REQUEST_SEND, "bad_request",
		"clientMessageId must be 1 to 64 of A-Z a-z 0-9 . _ : -", "send: clientMessageId empty");
}

/* U+0000 in a name: refused, never the name read up to it */
static void test_nul(void)
{
	static const char nul_msg[] = "a frame may not hold U+0000 (\\u0000)";
	struct request req;

	refused("{\"action\":\"sendMessage\",\"chatroomId\":\"priv1\\u0000x\",\"chatMessage\":\"hi\"}",
		"ann", REQUEST_SEND, "bad_request", nul_msg, "NUL in chatroomId");
	refused("{\"action\":\"subscribe\",\"room\":\"books\\u0000x\"}", "", REQUEST_SUBSCRIBE,
		"bad_request", nul_msg, "NUL in a subscribe room");
	refused("{\"action\":\"resume\",\"rooms\":{\"priv1\\u0000x\":3}}", "ann", REQUEST_RESUME,
		"bad_request", nul_msg, "NUL in a resume key (json-c would cut the key)");
	refused("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"userId\":\"ann\\u0000b\"}",
		"ann", REQUEST_SEND, "bad_request", nul_msg, "NUL in userId");
	refused("{\"action\":\"subscribe\\u0000\",\"room\":\"books\"}", "", REQUEST_NONE,
		"bad_request", nul_msg, "NUL in the action");
	CHECK(request_parse("{\"action\":\"resume\",\"rooms\":{\"a\":1}}\0x",
			    sizeof("{\"action\":\"resume\",\"rooms\":{\"a\":1}}\0x") - 1, "", &req) >= 0 &&
	      req.code && !req.nrooms, "a NUL byte in a resume: refused whatever else");
	request_free(&req);

	/* an escaped backslash before u0000 is text, not a NUL */
	CHECK(parse("{\"action\":\"resume\",\"rooms\":{\"a\\\\u0000\":1}}", "ann", &req) ==
	      REQUEST_RESUME && !req.code && req.nrooms == 1, "\\\\u0000 is a backslash and text");
	request_free(&req);
	CHECK(parse("{\"action\":\"resume\",\"rooms\":{\"a\\u00001\":1}}", "ann", &req) ==
	      REQUEST_RESUME && req.code, "\\u00001 is a NUL then 1");
	request_free(&req);
	/* chatMessage is chat_send's to judge (it refuses a NUL too) */
	CHECK(parse("{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"chatMessage\":\"a\\u0000\"}",
		    "ann", &req) == REQUEST_SEND && !req.code, "NUL in chatMessage: left to chat_send");
	request_free(&req);
}

static void test_origin(void)
{
	const char *own = "http://127.0.0.1:8080", *list = "https://app.example.com,http://localhost:3000";

	CHECK(origin_allowed(NULL, own, ""), "no Origin (not a browser): allowed");
	CHECK(origin_allowed("http://127.0.0.1:8080", own, ""), "the site's own origin");
	CHECK(origin_allowed("http://127.0.0.1:8080", "http://127.0.0.1:8080/bookpics", ""),
	      "own origin of a public_url with a path");
	CHECK(origin_allowed("https://pics.example.org", "HTTPS://Pics.Example.org:443", ""),
	      "own origin: case and default port");
	CHECK(origin_allowed("http://pics.example.org:80", "http://pics.example.org", ""),
	      "own origin: :80 given by the other side");
	CHECK(!origin_allowed("http://127.0.0.1:8081", own, ""), "another port is another origin");
	CHECK(!origin_allowed("https://127.0.0.1:8080", own, ""), "another scheme");
	CHECK(!origin_allowed("http://127.0.0.1:8080.evil.example", own, ""), "a longer host");
	CHECK(!origin_allowed("http://evil.example", own, ""), "a foreign origin, empty list");
	CHECK(!origin_allowed("null", own, "null"), "null is never allowed");
	CHECK(!origin_allowed("", own, ""), "an empty Origin");
	CHECK(origin_allowed("https://app.example.com", own, list), "listed, first");
	CHECK(origin_allowed("http://localhost:3000", own, list), "listed, last");
	CHECK(!origin_allowed("http://localhost:300", own, list), "a prefix of a listed one");
	CHECK(!origin_allowed("https://app.example.com.evil", own, list), "a listed one as a prefix");
	CHECK(origin_allowed("http://[::1]:8080", "http://[::1]:8080", ""), "v6 literal");
	CHECK(!origin_allowed("http://[::1]:8081", "http://[::1]:8080", ""), "v6 literal, other port");
}

static void test_limit(void)
{
	const struct limit_rule r = { .rate = 20, .burst = 40 };
	struct limit_table t = { { 0 } };
	struct limit l = { 0 }, *a, *b;
	struct limit_streak st = { 0 };
	int i, n;

	for (n = 0; n < 100 && limit_take(&l, &r, 1, 1000); n++)
		;
	CHECK(n == 40, "a full bucket allows its burst at once");
	CHECK(!limit_take(&l, &r, 1, 1049), "49 ms later: not yet a token");
	CHECK(limit_take(&l, &r, 1, 1050), "50 ms at 20/s: one token");
	CHECK(!limit_take(&l, &r, 1, 1050), "and only one");
	CHECK(!limit_take(&l, &r, 2, 1140), "a cost of 2 waits for two tokens");
	CHECK(limit_take(&l, &r, 2, 1150), "two tokens after 100 ms");
	CHECK(!limit_full(&l, &r, 2000), "not full after 850 ms");
	CHECK(limit_full(&l, &r, 3150), "full after 2 s");
	for (n = 0; n < 100 && limit_take(&l, &r, 1, 60000); n++)
		;
	CHECK(n == 40, "idle for long: never more than the burst");
	/* a client held at the rate is served at the rate */
	for (i = 0, n = 0; i < 100; i++)
		n += limit_take(&l, &r, 1, 60000 + 50 * i);
	CHECK(n == 99, "one action every 50 ms at 20/s: all but the first served");

	CHECK(limit_streak_refused(&st, 5000) == 0, "a first refusal starts a run");
	CHECK(limit_streak_refused(&st, 5900) == 900, "refused again within a second: the run goes on");
	CHECK(limit_streak_refused(&st, 6800) == 1800, "and on");
	CHECK(limit_streak_refused(&st, 7800) == 0, "a pause of a second ends the run");

	a = limit_table_get(&t, "ann", &r, 1000);
	CHECK(a && limit_take(a, &r, 40, 1000), "ann's bucket, emptied");
	b = limit_table_get(&t, "bob", &r, 1000);
	CHECK(b && b != a && limit_full(b, &r, 1000), "bob's own bucket, full");
	CHECK(limit_table_get(&t, "ann", &r, 1500) == a && !limit_take(a, &r, 40, 1500),
	      "ann keeps her empty bucket");
	limit_table_free(&t);
}

int main(void)
{
	test_not_an_action();
	test_subscribe();
	test_resume();
	test_send();
	test_nul();
	test_origin();
	test_limit();
	return unit_done();
}
