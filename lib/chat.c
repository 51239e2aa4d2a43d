/* chat.c - checking and storing a member's text message (api.c and the relay). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "chat.h"
#include "err.h"
#include "msg.h"

const char *chat_code(enum chat_result r)
{
	switch (r) {
	case CHAT_OK:
		return "";
	case CHAT_BAD_REQUEST:
		return "bad_request";
	case CHAT_NOT_FOUND:
		return "not_found";
	case CHAT_NOT_MEMBER:
		return "not_member";
	case CHAT_KEY_REUSED:
		return "idempotency_key_reused";
	case CHAT_ERROR:
		break;
	}
	return "internal";
}

enum chat_result chat_check(struct store *s, const char *user, const char *room,
			    char *err)
{
	struct store_room info;
	int r;

	r = name_ok(room) ? store_room_get(s, room, &info, err) : 0;
	if (r < 0)
		return CHAT_ERROR;
	if (!r) {
		err_set(err, "no such room");
		return CHAT_NOT_FOUND;
	}
	r = store_is_member(s, user, room, err);
	if (r < 0)
		return CHAT_ERROR;
	if (!r) {
		err_set(err, "user '%s' is not a member of '%s'", user, room);
		return CHAT_NOT_MEMBER;
	}
	return CHAT_OK;
}

enum chat_result chat_fields(struct json_object *body, const char **text,
			     const char **type, char *err)
{
	struct json_object *t, *mt;
	size_t len;

	*text = NULL;
	*type = "text message";
	if (!json_object_is_type(body, json_type_object)) {
		err_set(err, "body must be a JSON object");
		return CHAT_BAD_REQUEST;
	}
	if (!json_object_object_get_ex(body, "chatMessage", &t) ||
	    !json_object_is_type(t, json_type_string)) {
		err_set(err, "chatMessage must be a string");
		return CHAT_BAD_REQUEST;
	}
	*text = json_object_get_string(t);
	len = (size_t)json_object_get_string_len(t);
	/* json-c keeps "\u0000" inside the string: strlen finds it */
	if (len > MSG_TEXT_MAX || strlen(*text) != len) {
		err_set(err, "chatMessage must be at most %d bytes of text", MSG_TEXT_MAX);
		return CHAT_BAD_REQUEST;
	}
	if (json_object_object_get_ex(body, "messageType", &mt)) {
		if (!json_object_is_type(mt, json_type_string) ||
		    strcmp(json_object_get_string(mt), "text message")) {
			err_set(err, "messageType must be \"text message\"");
			return CHAT_BAD_REQUEST;
		}
	}
	return CHAT_OK;
}

int chat_key_ok(const char *key)
{
	size_t n;

	if (!key)
		return 0;
	for (n = 0; key[n]; n++)
		if (n == CHAT_KEY_MAX ||
		    !((key[n] >= 'A' && key[n] <= 'Z') || (key[n] >= 'a' && key[n] <= 'z') ||
		      (key[n] >= '0' && key[n] <= '9') || strchr("._:-", key[n])))
			return 0;
	return n > 0;
}

/*
 * What a key promises: SHA-256 of type, NUL, text (the room is kept
 * beside it by the store). A retry whose record differs only in its
 * createTime is the same post; another text under the same key is not.
 */
static int fingerprint(const char *type, const char *text, unsigned char *fp, char *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int ok;

	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, type, strlen(type) + 1) &&
	     EVP_DigestUpdate(ctx, text, strlen(text)) &&
	     EVP_DigestFinal_ex(ctx, md, &len) && len == STORE_FP_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_set(err, "fingerprint: EVP_Digest (sha256) failed");
	memcpy(fp, md, STORE_FP_LEN);
	return 0;
}

enum chat_result chat_store(struct store *s, const char *user, const char *room,
			    const char *type, const char *text, const char *key,
			    uint64_t *index, int *replayed, char *err)
{
	enum chat_result ret = CHAT_ERROR;
	unsigned char fp[STORE_FP_LEN];
	char *record;
	int r;

	*replayed = 0;
	if (key && !chat_key_ok(key)) {
		err_set(err, "a client key must be 1 to %d of A-Z a-z 0-9 . _ : -", CHAT_KEY_MAX);
		return CHAT_BAD_REQUEST;
	}
	if (key && fingerprint(type, text, fp, err))
		return CHAT_ERROR;
	record = msg_record(user, type, text, NULL, 0, NULL, err);
	if (!record)
		return CHAT_ERROR;
	r = key ? store_append_keyed(s, room, user, key, fp, record, strlen(record), index, err)
		: store_append(s, room, NULL, record, strlen(record), index, err);
	if (r < 0)
		goto out;
	if (r == STORE_KEY_REUSED) {
		err_set(err, "the key '%s' was used for another message", key);
		ret = CHAT_KEY_REUSED;
		goto out;
	}
	*replayed = key && r == 0;
	ret = CHAT_OK;
out:
	free(record);
	return ret;
}

enum chat_result chat_send(struct store *s, const char *user, const char *room,
			   struct json_object *body, const char *key, uint64_t *index,
			   int *replayed, char *err)
{
	const char *text, *type;
	enum chat_result r;

	*replayed = 0;
	if ((r = chat_check(s, user, room, err)) != CHAT_OK ||
	    (r = chat_fields(body, &text, &type, err)) != CHAT_OK)
		return r;
	return chat_store(s, user, room, type, text, key, index, replayed, err);
}
