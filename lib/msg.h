/* msg.h - messages as stored (private JSON record) and as shown (public JSON). */
#ifndef BP_MSG_H
#define BP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define MSG_TEXT_MAX 4096	/* bytes of chatMessage from users */
#define MSG_MEDIA_MAX 10

struct msg_media {
	const char *src;		/* upstream URL, kept server-side only */
	const char *content_type;
};

/*
 * The stored record of a new message, stamped with the current time:
 * {"userId","messageType","chatMessage","createTime","media":[{"src",
 * "contentType"}],"sid"}. sid may be NULL. Every string must be valid UTF-8
 * (a record that cannot be read back would stop its room). Returns a malloc'd
 * NUL-terminated JSON string (free()), or NULL with err filled.
 */
char *msg_record(const char *user, const char *type, const char *text,
		 const struct msg_media *media, size_t nmedia, const char *sid,
		 char *err);

/*
 * msg_record for an SMS: sender (may be NULL) is the keyed hash of the full
 * number that sent it (webhook.c), kept as "sender" so the sender can be
 * blocked from the message later; it never leaves the server.
 */
char *msg_record_sms(const char *user, const char *type, const char *text,
		     const struct msg_media *media, size_t nmedia, const char *sid,
		     const char *sender, char *err);

/*
 * The record with its hidden flag set (hidden != 0: "hidden":true) or
 * cleared; everything else kept, so showing it again restores it whole.
 * *changed says whether the flag was different. Returns a malloc'd record,
 * or NULL with err (unparsable record, no memory).
 */
char *msg_record_hidden(const char *record, int hidden, int *changed, char *err);

/* What the operator sees of a record (bookpics-admin, the moderator API). */
struct msg_fields {
	int hidden;
	char user[80];
	char text[MSG_TEXT_MAX + 1];
	char sender[80];	/* the sender hash, "" if none */
	char create_time[40];
};

/* Fill f from record (long fields cut). Returns 0, or -1 if unparsable. */
int msg_fields(const char *record, struct msg_fields *f);

/*
 * The note kept beside a blocked sender's hash (store_sender_block), so
 * the operator's `sender list` says which message it came from:
 * "USER\tROOM\tINDEX" (f->user is the shown form, e.g. "sms:…0101", never
 * the number). One place for bookpics-admin and the moderator API, so both
 * list alike. Written into note (MSG_NOTE_LEN bytes), cut if longer.
 */
#define MSG_NOTE_LEN 256
void msg_sender_note(const struct msg_fields *f, const char *room, uint64_t index,
		     char note[MSG_NOTE_LEN]);

/*
 * The public form of a stored record: room and index added, media URLs
 * rewritten to /media/{room}/{index}/{n}, upstream URL and sid left out.
 * frame_type, if not NULL, is put first as "type" (the WebSocket frame
 * {"type":"message",...}). A hidden record gives the tombstone
 * {"room","index","createTime","hidden":true} and nothing else; a record
 * that cannot be parsed gives it too (createTime ""), so one bad record
 * never stops its readers. Returns a new json_object
 * (json_object_put() it); err is filled but unused on that path.
 */
struct json_object *msg_public(const char *room, uint64_t index,
			       const char *record, const char *frame_type,
			       char *err);

/*
 * The n-th media item of a stored record: 1 found (src and content type
 * copied into the buffers), 0 no such item, -1 bad record.
 */
int msg_media_get(const char *record, size_t n, char *src, size_t srclen,
		  char *ctype, size_t ctlen);

/*
 * Parse untrusted JSON text (len bytes, buf[len] must be NUL) strictly: no
 * trailing bytes, valid UTF-8, depth at most 16. Returns a new object or
 * NULL with err naming what is wrong.
 */
struct json_object *msg_parse_json(const char *buf, size_t len, char *err);

/* Is s (len bytes) valid UTF-8 with no NUL? 1 or 0. */
int msg_utf8_ok(const char *s, size_t len);

/* How many characters s (NUL-terminated, valid UTF-8: msg_utf8_ok) holds. */
size_t msg_utf8_chars(const char *s);

/* Serialize obj compactly, '/' unescaped. The string belongs to obj. */
const char *msg_json_text(struct json_object *obj, size_t *len);

#endif
