/* request.c - what one client frame asks for: its action and arguments, or why it is refused. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "msg.h"
#include "name.h"
#include "request.h"

const char *request_shown(const char *s)
{
	return name_ok(s) ? s : "(invalid name)";
}

static void refuse(struct request *req, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct request *req, const char *code, const char *fmt, ...)
{
	va_list ap;

	req->code = code;
	va_start(ap, fmt);
	vsnprintf(req->message, sizeof(req->message), fmt, ap);
	va_end(ap);
}

/* A JSON non-negative integer into *v: 1, else 0. */
static int index_value(struct json_object *o, uint64_t *v)
{
	int64_t n;

	if (!json_object_is_type(o, json_type_int))
		return 0;
	n = json_object_get_int64(o);
	if (n < 0)
		return 0;
	*v = (uint64_t)n;
	return 1;
}

/*
 * A JSON string with no U+0000 in it: its text into *s, 1; else 0. json-c
 * keeps a \u0000 inside a string value, and C reads the value only up to
 * it: "priv1\u0000x" would name priv1.
 */
static int plain_string(struct json_object *o, const char **s)
{
	if (!json_object_is_type(o, json_type_string) ||
	    strlen(json_object_get_string(o)) != (size_t)json_object_get_string_len(o))
		return 0;
	*s = json_object_get_string(o);
	return 1;
}

/*
 * Does the frame's text hold a U+0000, as a byte or as the escape \u0000?
 * (Asked of a resume only, whose room names are object keys.)
 * An object key cannot be checked after parsing: json-c copies keys as C
 * strings, so "priv1\u0000x" arrives as the key "priv1". The escape is
 * found by walking the escapes (a \\ never starts one).
 */
static int has_nul(const char *buf, size_t len)
{
	size_t i;

	if (memchr(buf, '\0', len))
		return 1;
	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\\')
			continue;
		if (buf[i + 1] == 'u' && i + 5 < len && !memcmp(buf + i + 2, "0000", 4))
			return 1;
		i++;	/* the escaped character */
	}
	return 0;
}

static void parse_subscribe(struct request *req)
{
	struct json_object *jroom, *jafter;

	if (!json_object_object_get_ex(req->json, "room", &jroom) ||
	    !json_object_is_type(jroom, json_type_string)) {
		refuse(req, "bad_request", "subscribe needs \"room\": a room name");
		return;
	}
	if (!plain_string(jroom, &req->room)) {
		refuse(req, "bad_request", "a frame may not hold U+0000 (\\u0000)");
		return;
	}
	req->has_after = json_object_object_get_ex(req->json, "after", &jafter);
	if (req->has_after && !index_value(jafter, &req->after)) {
		req->room = NULL;
		refuse(req, "bad_request", "\"after\" must be a non-negative integer");
		return;
	}
}

static void parse_resume(struct request *req)
{
	struct json_object *rooms;
	size_t n;

	if (!json_object_object_get_ex(req->json, "rooms", &rooms) ||
	    !json_object_is_type(rooms, json_type_object)) {
		refuse(req, "bad_request", "resume needs \"rooms\": {\"room\": index, ...}");
		return;
	}
	n = (size_t)json_object_object_length(rooms);
	if (!n)
		return;
	req->rooms = calloc(n, sizeof(*req->rooms));
	if (!req->rooms) {
		refuse(req, "internal", "out of memory");
		return;
	}
	json_object_object_foreach(rooms, key, val) {
		if (!index_value(val, &req->rooms[req->nrooms].after)) {
			refuse(req, "bad_request", "rooms.%s must be a non-negative integer",
			       request_shown(key));
			return;
		}
		req->rooms[req->nrooms++].name = key;
	}
}

/* Who may send, to where, as whom; the message itself is chat_send's. */
static void parse_send(struct request *req, const char *user)
{
	struct json_object *jroom, *juser, *jid;
	const char *room, *uid, *cid = NULL;

	if (!user[0]) {
		refuse(req, "unauthorized", "connect with a token to send messages");
		return;
	}
	if (!json_object_object_get_ex(req->json, "chatroomId", &jroom) ||
	    !json_object_is_type(jroom, json_type_string)) {
		refuse(req, "bad_request", "sendMessage needs \"chatroomId\": a room name");
		return;
	}
	if (!plain_string(jroom, &room)) {
		refuse(req, "bad_request", "a frame may not hold U+0000 (\\u0000)");
		return;
	}
	if (json_object_object_get_ex(req->json, "userId", &juser) &&
	    json_object_is_type(juser, json_type_string) && !plain_string(juser, &uid)) {
		refuse(req, "bad_request", "a frame may not hold U+0000 (\\u0000)");
		return;
	}
	if (json_object_object_get_ex(req->json, "userId", &juser) &&
	    (!plain_string(juser, &uid) || strcmp(uid, user))) {
		refuse(req, "forbidden", "userId must be the connection's user (%s)", user);
		return;
	}
	/* the same rule as the Idempotency-Key header: one namespace per user */
	if (json_object_object_get_ex(req->json, "clientMessageId", &jid) &&
	    (!plain_string(jid, &cid) || !chat_key_ok(cid))) {
		refuse(req, "bad_request", "clientMessageId must be 1 to %d of A-Z a-z 0-9 . _ : -",
		       CHAT_KEY_MAX);
		return;
	}
	req->client_id = cid;
	req->room = room;
}

static const struct {
	const char *name;
	enum request_action action;
} actions[] = {
	{ "subscribe", REQUEST_SUBSCRIBE },
	{ "resume", REQUEST_RESUME },
	{ "sendMessage", REQUEST_SEND },
};

enum request_action request_parse(const char *buf, size_t len, const char *user,
				  struct request *req)
{
	struct json_object *jaction;
	const char *action;
	char err[ERR_LEN];
	size_t i;

	memset(req, 0, sizeof(*req));
	req->json = msg_parse_json(buf, len, err);
	if (!req->json) {
		refuse(req, "bad_request", "%s", err);
		return req->action;
	}
	if (!json_object_is_type(req->json, json_type_object) ||
	    !json_object_object_get_ex(req->json, "action", &jaction) ||
	    !json_object_is_type(jaction, json_type_string)) {
		refuse(req, "bad_request", "a frame must be a JSON object with an \"action\"");
		return req->action;
	}
	/*
	 * No name may be cut short: the string values read here are checked
	 * (plain_string), and the keys of a resume's rooms, which json-c has
	 * already cut, by the frame's text. chatMessage is chat_send's.
	 */
	if (!plain_string(jaction, &action)) {
		refuse(req, "bad_request", "a frame may not hold U+0000 (\\u0000)");
		return req->action;
	}
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(actions[i].name, action))
			break;
	if (i == sizeof(actions) / sizeof(actions[0])) {
		refuse(req, "bad_request", "unknown action %s: use subscribe, resume or sendMessage",
		       request_shown(action));
		return req->action;
	}
	req->action = actions[i].action;
	if (req->action == REQUEST_RESUME && has_nul(buf, len)) {
		refuse(req, "bad_request", "a frame may not hold U+0000 (\\u0000)");
		return req->action;
	}
	switch (req->action) {
	case REQUEST_SUBSCRIBE:
		parse_subscribe(req);
		break;
	case REQUEST_RESUME:
		parse_resume(req);
		break;
	case REQUEST_SEND:
		parse_send(req, user);
		break;
	case REQUEST_NONE:
		break;
	}
	return req->action;
}

void request_free(struct request *req)
{
	free(req->rooms);
	req->rooms = NULL;
	req->nrooms = 0;
	json_object_put(req->json);
	req->json = NULL;
}
