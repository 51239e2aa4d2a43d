/* inbound.h - a Twilio inbound message: the webhook's form fields -> a validated record. */
#ifndef BP_INBOUND_H
#define BP_INBOUND_H

#include <stddef.h>

#include "conf.h"
#include "form.h"
#include "msg.h"
#include "store.h"

#define INBOUND_BODY_MAX 1600	/* characters of Body: Twilio's own limit */
#define INBOUND_URL_MAX 1024	/* bytes of a MediaUrlN that is kept */
#define INBOUND_USER_LEN 32	/* "sms:…" and four digits, with room to spare */

/*
 * What the webhook keeps of one inbound message. The strings point into the
 * form (or are constants) and live as long as it; nothing is malloc'd.
 */
struct inbound {
	const char *sid;	/* MessageSid (or SmsSid): 2..64 of [A-Za-z0-9] */
	const char *body;	/* Body, "" if none: valid UTF-8, <= INBOUND_BODY_MAX characters */
	const char *from;	/* From as Twilio sent it, "" if none: only hashed, never stored */
	char user[INBOUND_USER_LEN];	/* the shown sender: "sms:…" and From's last four digits */
	/*
	 * MediaUrlN/MediaContentTypeN for N below NumMedia (at most
	 * MSG_MEDIA_MAX), only the items whose URL is an absolute http(s) URL
	 * of RFC 3986 characters (<= INBOUND_URL_MAX bytes, so ASCII) on one of
	 * the conf's media_hosts; a content type that is not 1..100 of
	 * [A-Za-z0-9/+-.;= ] becomes application/octet-stream.
	 */
	struct msg_media media[MSG_MEDIA_MAX];
	size_t nmedia;
	/*
	 * Why the message is answered 200 with nothing stored (Twilio must not
	 * retry it), or NULL: an opt-out or keyword message (OptOutType), no
	 * text and no media, text only while wall_text is off. The rules that
	 * need the store (blocked sender, sender_rate) are the webhook's.
	 */
	const char *not_posted;
	const char *reason;	/* after a refusal: "message_sid", "body_utf8" or "body_length" */
};

/*
 * Read the parsed webhook form f under conf c into in: every field rule
 * above, in this order: MessageSid, Body UTF-8, Body length, media,
 * not_posted. No I/O. Returns 0 (in filled; in->not_posted may say it is
 * not to be posted), or -1 for a message Twilio would never send: err is
 * the answer's text ("MessageSid missing or malformed", "Body is not valid
 * UTF-8", "Body is over 1600 characters"), in->reason the log's word and
 * in->sid NULL if the sid itself was the problem.
 */
int inbound_read(const struct conf *c, const struct form *f, struct inbound *in, char *err);

/*
 * The keyed hash a sender is kept and blocked as: HMAC-SHA256 of from (the
 * full number) with c->sender_secret (or "sender:" + token_secret for a
 * conf from before sender_secret), as STORE_SENDER_HEX hex digits and a NUL
 * in hex. Without the key the number cannot be recovered by trying every
 * phone number. Returns 0, or -1 with err filled (libcrypto failed).
 */
int inbound_sender_hash(const struct conf *c, const char *from,
			char hex[STORE_SENDER_HEX + 1], char *err);

/*
 * The record to store for in (inbound_read gave 0 and no not_posted):
 * msg_record_sms with user in->user, type "picture" with media or "text
 * message", the body, the media, the sid and sender (the hash, may be NULL).
 * It always reads back (msg_parse_json): every field is checked text.
 * Returns a malloc'd JSON string (free()), or NULL with err filled.
 */
char *inbound_record(const struct inbound *in, const char *sender, char *err);

#endif
