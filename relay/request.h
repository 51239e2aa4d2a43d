/* request.h - what one client frame asks for, read and checked without lws (docs/PROTOCOL.md, "Client to server"). */
#ifndef BP_REQUEST_H
#define BP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

/*
 * A client frame is a JSON object with an "action". Everything that can be
 * said about a frame from its text and the connection's user alone is
 * decided here, as a pure function, so that it can be unit-tested
 * (tests/unit/test-relay-frame.c); what needs the store or the rooms (does
 * the room exist, may this connection read it) is relay/client.c's.
 */
enum request_action {
	REQUEST_NONE,		/* not JSON, no "action", or an unknown one */
	REQUEST_SUBSCRIBE,	/* {"action":"subscribe","room":R,"after":N} */
	REQUEST_RESUME,		/* {"action":"resume","rooms":{R:N,...}} */
	REQUEST_SEND,		/* {"action":"sendMessage","chatroomId":R,...} */
};

/* One room of a resume: deliver what comes after `after`. */
struct request_room {
	const char *name;	/* a key of json, unchecked: the store says */
	uint64_t after;
};

struct request {
	enum request_action action;
	struct json_object *json;	/* the frame, owned; NULL if not JSON */
	const char *room;	/* subscribe "room", sendMessage "chatroomId" */
	const char *client_id;	/* sendMessage "clientMessageId" (chat_key_ok), or NULL */
	int has_after;		/* subscribe: "after" was given */
	uint64_t after;
	struct request_room *rooms;	/* resume, in the frame's order; owned */
	size_t nrooms;
	/*
	 * NULL, or the error to answer ({"type":"error","code":code,
	 * "message":message}); code is a static string. The frame is then
	 * refused and changes nothing. For every action but resume the error
	 * comes first. A resume stops at its first bad index: rooms holds the
	 * entries before it, whose room checks come first, so the answer
	 * names the first problem in the frame's order.
	 */
	const char *code;
	char message[ERR_LEN];
};

/*
 * Read the complete client frame buf (len bytes, and buf[len] must be NUL:
 * json-c reads it) sent on a connection of user ("" = anonymous) into *req, which the
 * caller frees with request_free whatever the outcome. Returns req->action.
 * An allocation failure is an error too (code "internal").
 */
enum request_action request_parse(const char *buf, size_t len, const char *user,
				  struct request *req);

/* Free what req owns (req itself is the caller's). */
void request_free(struct request *req);

/*
 * A client's string as quoted in an error: itself when it is a plain name
 * (name_ok), else "(invalid name)", so that an error never echoes
 * arbitrary text.
 */
const char *request_shown(const char *s);

#endif
