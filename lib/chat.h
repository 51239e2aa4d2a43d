/* chat.h - a member's text message, checked and stored the same way over HTTP and WebSocket. */
#ifndef BP_CHAT_H
#define BP_CHAT_H

#include <stdint.h>

#include <json-c/json.h>

#include "store.h"

/* Why a message was not stored; chat_code() names it for clients. */
enum chat_result {
	CHAT_OK = 0,
	CHAT_BAD_REQUEST,	/* "bad_request": malformed fields */
	CHAT_NOT_FOUND,		/* "not_found": no such room */
	CHAT_NOT_MEMBER,	/* "not_member": user may not write the room */
	CHAT_ERROR,		/* "internal": the store failed */
	CHAT_KEY_REUSED		/* "idempotency_key_reused": the key named another post */
};

/* The error code of r as clients see it ("bad_request", ...; "" for OK). */
const char *chat_code(enum chat_result r);

/*
 * May user write room? CHAT_OK, CHAT_NOT_FOUND, CHAT_NOT_MEMBER or
 * CHAT_ERROR, with err saying it in words. user must be an authenticated
 * user id (callers answer anonymous senders themselves).
 */
enum chat_result chat_check(struct store *s, const char *user, const char *room,
			    char *err);

/*
 * The fields of a message body (a JSON object): "chatMessage" a string of
 * at most MSG_TEXT_MAX bytes of UTF-8 without NUL, "messageType" absent or
 * "text message". Other fields are ignored (the WebSocket frame carries
 * "action", "chatroomId", "userId"). On CHAT_OK *text and *type are lent
 * from body; else CHAT_BAD_REQUEST with err.
 */
enum chat_result chat_fields(struct json_object *body, const char **text,
			     const char **type, char *err);

/*
 * Is key a valid client key (the Idempotency-Key header, a sendMessage's
 * "clientMessageId")? 1 to CHAT_KEY_MAX of [A-Za-z0-9._:-] (a UUID, a
 * ULID, hex fits); key may be NULL (0). Never fails.
 */
#define CHAT_KEY_MAX STORE_CLIENT_KEY_MAX
int chat_key_ok(const char *key);

/*
 * Append a message from user to room (checked already) as a new record.
 * key (NULL: none; else chat_key_ok already) makes it idempotent
 * (store_append_keyed): the same key from the same user with the same
 * room, type and text stores nothing and gives the first index with
 * *replayed 1 (the caller answers as the first time, and tells no
 * follower again); the key with another room or text is CHAT_KEY_REUSED,
 * nothing stored. Else CHAT_OK with *index set and *replayed 0, or
 * CHAT_ERROR with err; nothing is stored on error. Telling the relay is
 * the caller's part: a FastCGI program writes fifo_notify_message, the
 * relay wakes its followers directly.
 */
enum chat_result chat_store(struct store *s, const char *user, const char *room,
			    const char *type, const char *text, const char *key,
			    uint64_t *index, int *replayed, char *err);

/* chat_check, chat_fields, chat_store in that order: the whole send. */
enum chat_result chat_send(struct store *s, const char *user, const char *room,
			   struct json_object *body, const char *key, uint64_t *index,
			   int *replayed, char *err);

#endif
