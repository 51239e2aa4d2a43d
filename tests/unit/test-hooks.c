/* test-hooks.c - X-Bookpics-Signature (a vector from `openssl dgst`), its check, the events' JSON. */
#include <stdlib.h>

#include "err.h"
#include "hooks.h"
#include "msg.h"
#include "unit.h"

#define SECRET "whsec_test"
#define BODY "{\"type\":\"message\",\"id\":\"msg:books:1\"}"
#define T 1700000000
/*
 * printf '%s' '1700000000.{"type":"message","id":"msg:books:1"}' |
 *   openssl dgst -sha256 -hmac whsec_test
 */
#define HEX "714f2904f0b0698092e4248e80c0ae5d952135b2c9b997e2fa4e83b96cb86a7b"

int main(void)
{
	char sig[HOOKS_SIG_LEN], err[ERR_LEN], *ev, *rec;
	const char *tampered = "{\"type\":\"message\",\"id\":\"msg:books:2\"}";
	struct store_change ch = { 4, 7, 1 };
	struct store_event e = { 12, 1700000000123456ULL, STORE_EVENT_CONNECT, "c1-3", "alice" };

	CHECK(hooks_sign(SECRET, T, BODY, strlen(BODY), sig, err) == 0, "sign");
	CHECK_STR(sig, "t=1700000000,v1=" HEX, "the openssl vector");
	CHECK(hooks_verify(SECRET, sig, BODY, strlen(BODY), T + 10) == 1, "verifies");
	CHECK(hooks_verify(SECRET, sig, tampered, strlen(tampered), T + 10) == 0,
	      "a tampered body fails");
	CHECK(hooks_verify("whsec_other", sig, BODY, strlen(BODY), T) == 0, "another secret fails");
	CHECK(hooks_verify(SECRET, sig, BODY, strlen(BODY), T + 301) == 0, "t older than 5 minutes fails");
	CHECK(hooks_verify(SECRET, sig, BODY, strlen(BODY), T + 300) == 1, "t exactly 5 minutes old passes");
	CHECK(hooks_verify(SECRET, "t=1700000000,v1=" HEX "0", BODY, strlen(BODY), T) == 0,
	      "a longer v1 fails");
	CHECK(hooks_verify(SECRET, "v1=" HEX ",t=1700000000", BODY, strlen(BODY), T) == 0,
	      "fields out of order fail");
	CHECK(hooks_verify(SECRET, NULL, BODY, strlen(BODY), T) == 0, "no header fails");
	CHECK(hooks_sign("", T, BODY, strlen(BODY), sig, err) == -1, "an empty secret signs nothing");
	CHECK_STR(err, "sign hook: hook_secret is empty", "and says why");

	ev = hooks_change_event("books", &ch, err);
	CHECK(ev && !strncmp(ev, "{\"type\":\"hidden\",\"id\":\"hid:books:4\",\"time\":\"", 43) &&
	      strstr(ev, "\"room\":\"books\",\"index\":7}"), "hidden event");
	free(ev);
	ev = hooks_conn_event(&e, err);
	CHECK_STR(ev, "{\"type\":\"connect\",\"id\":\"conn:12\",\"time\":\"2023-11-14T22:13:20.123Z\","
		  "\"connectionId\":\"c1-3\",\"userId\":\"alice\"}", "connect event");
	free(ev);
	e.kind = STORE_EVENT_DISCONNECT, e.user[0] = '\0';
	ev = hooks_conn_event(&e, err);
	CHECK_STR(ev, "{\"type\":\"disconnect\",\"id\":\"conn:12\",\"time\":\"2023-11-14T22:13:20.123Z\","
		  "\"connectionId\":\"c1-3\",\"userId\":null}", "anonymous disconnect event");
	free(ev);
	rec = msg_record("bob", "text message", "hi", NULL, 0, NULL, err);
	ev = rec ? hooks_message_event("room1", 3, rec, err) : NULL;
	CHECK(ev && !strncmp(ev, "{\"type\":\"message\",\"room\":\"room1\",\"index\":3,\"userId\":\"bob\","
			     "\"messageType\":\"text message\",\"chatMessage\":\"hi\"", 100) &&
	      strstr(ev, "\"id\":\"msg:room1:3\",\"time\":\"20"), "message event");
	free(ev);
	free(rec);
	return unit_done();
}
