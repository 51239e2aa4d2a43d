/*
 * test-inbound.c - Twilio's form to the stored record: MessageSid, Body
 * (UTF-8, 1600 characters), MediaUrlN (RFC 3986, media_hosts, NumMedia),
 * content types, not_posted, the sender's hash and mask, the record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "inbound.h"
#include "unit.h"

#define TW "https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FMM1%2FMedia%2F"
#define TW_URL "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/"

static struct conf conf;
static struct form form;
static char err[ERR_LEN];

/* inbound_read of body (a form) under conf; the form stays until the next call. */
static int readf(const char *body, struct inbound *in)
{
	form_free(&form);
	err[0] = '\0';
	if (form_parse(&form, body, strlen(body), err))
		return -2;
	return inbound_read(&conf, &form, in, err);
}

/* A body of n copies of the form-encoded character c. */
static char *repeat(const char *head, const char *c, size_t n)
{
	size_t len = strlen(head) + n * strlen(c) + 1, i;
	char *s = malloc(len);

	strcpy(s, head);
	for (i = 0; i < n; i++)
		strcat(s, c);
	return s;
}

int main(void)
{
	struct json_object *o, *v;
	struct inbound in;
	char hash[STORE_SENDER_HEX + 1], *rec, *s, src[2048], ct[128], body[2400];
	const char *p;
	size_t i;

	snprintf(conf.media_hosts, sizeof(conf.media_hosts), "api.twilio.com, http://127.0.0.1:9000");
	snprintf(conf.sender_secret, sizeof(conf.sender_secret), "s3cret");
	snprintf(conf.token_secret, sizeof(conf.token_secret), "tok");
	conf.wall_text = CONF_ON;

	CHECK(readf("MessageSid=SM1&From=%2B14155550100&Body=My+book%21&NumMedia=1&MediaUrl0="
		    TW "ME1&MediaContentType0=image%2Fjpeg", &in) == 0, "a picture message is read");
	CHECK_STR(in.sid, "SM1", "its sid");
	CHECK_STR(in.body, "My book!", "its body");
	CHECK_STR(in.from, "+14155550100", "From as sent");
	CHECK_STR(in.user, "sms:\xe2\x80\xa6" "0100", "shown as its last four digits");
	CHECK(in.nmedia == 1 && in.not_posted == NULL, "one media item, posted");
	CHECK_STR(in.media[0].src, TW_URL "ME1", "the media URL");
	CHECK_STR(in.media[0].content_type, "image/jpeg", "its content type");

	CHECK(inbound_sender_hash(&conf, in.from, hash, err) == 0, "sender hash");
	CHECK_STR(hash, "da535584ed689961162326cf2d0c29dd086d99e6cd11b6e709dab6371fdbd727",
		  "HMAC-SHA256 of From keyed with sender_secret");
	rec = inbound_record(&in, hash, err);
	CHECK(rec != NULL, "the record is made");
	p = rec ? strstr(rec, "\"createTime\":\"") : NULL;
	CHECK(p && !strncmp(rec, "{\"userId\":\"sms:\xe2\x80\xa6" "0100\",\"messageType\":\"picture\","
			    "\"chatMessage\":\"My book!\",\"createTime\":\"", (size_t)(p + 14 - rec)),
	      "the record's head, exactly");
	p = p ? strchr(p + 14, '"') : NULL;
	CHECK_STR(p, "\",\"media\":[{\"src\":\"" TW_URL "ME1\",\"contentType\":\"image/jpeg\"}],"
		  "\"sid\":\"SM1\",\"sender\":\"da535584ed689961162326cf2d0c29dd086d99e6cd11b6e709dab6371fdbd727\"}",
		  "and its tail");
	CHECK(rec && msg_media_get(rec, 0, src, sizeof(src), ct, sizeof(ct)) == 1 &&
	      !strcmp(src, TW_URL "ME1"), "it reads back");
	free(rec);

	conf.sender_secret[0] = '\0';
	CHECK(inbound_sender_hash(&conf, "+14155550100", hash, err) == 0, "hash without sender_secret");
	CHECK_STR(hash, "9586fe8e80ebb70660118a894a8d2f95c277d9233160bc10235993febc2e3a4c",
		  "keyed with \"sender:\" + token_secret");
	snprintf(conf.sender_secret, sizeof(conf.sender_secret), "s3cret");

	/* MessageSid */
	CHECK(readf("From=1&Body=hi", &in) == -1, "no sid: refused");
	CHECK_STR(err, "MessageSid missing or malformed", "with the answer's text");
	CHECK(in.sid == NULL && !strcmp(in.reason, "message_sid"), "reason message_sid, no sid");
	CHECK(readf("SmsSid=SM9&Body=hi", &in) == 0 && !strcmp(in.sid, "SM9"), "SmsSid stands in");
	CHECK(readf("MessageSid=SM1&SmsSid=SM9&Body=hi", &in) == 0 && !strcmp(in.sid, "SM1"),
	      "MessageSid first");
	CHECK(readf("MessageSid=S&Body=hi", &in) == -1, "a 1-character sid is refused");
	CHECK(readf("MessageSid=SM-1&Body=hi", &in) == -1, "a '-' in the sid is refused");
	CHECK(readf("MessageSid=SM%C3%A9&Body=hi", &in) == -1, "a non-ASCII sid is refused");
	s = repeat("Body=hi&MessageSid=", "a", 64);
	CHECK(readf(s, &in) == 0, "a 64-character sid is taken");
	free(s);
	s = repeat("Body=hi&MessageSid=", "a", 65);
	CHECK(readf(s, &in) == -1, "a 65-character one is not");
	free(s);

	/* Body */
	CHECK(readf("MessageSid=SM1&Body=caf%C3", &in) == -1, "a cut UTF-8 body is refused");
	CHECK_STR(err, "Body is not valid UTF-8", "with the answer's text");
	CHECK(!strcmp(in.reason, "body_utf8") && !strcmp(in.sid, "SM1"), "reason body_utf8, sid kept");
	CHECK(readf("MessageSid=SM1&Body=%C0%AF", &in) == -1, "an overlong encoding is refused");
	CHECK(readf("MessageSid=SM1&Body=%ED%A0%80", &in) == -1, "a surrogate is refused");
	s = repeat("MessageSid=SM1&Body=", "%C3%A9", 1600);
	CHECK(readf(s, &in) == 0 && strlen(in.body) == 3200, "1600 two-byte characters are taken");
	free(s);
	s = repeat("MessageSid=SM1&Body=", "%F0%9F%93%9A", 1600);
	CHECK(readf(s, &in) == 0 && strlen(in.body) == 6400, "1600 four-byte characters are taken");
	rec = inbound_record(&in, NULL, err);
	o = rec ? msg_parse_json(rec, strlen(rec), err) : NULL;
	CHECK(o && json_object_object_get_ex(o, "chatMessage", &v) &&
	      !strcmp(json_object_get_string(v), in.body), "and their record reads back, whole");
	json_object_put(o);
	free(rec);
	free(s);
	s = repeat("MessageSid=SM1&Body=", "a", 1601);
	CHECK(readf(s, &in) == -1, "1601 characters are refused");
	CHECK_STR(err, "Body is over 1600 characters", "with the answer's text");
	CHECK(!strcmp(in.reason, "body_length"), "reason body_length");
	free(s);

	/* MediaUrlN */
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "%FF", &in) == 0 && in.nmedia == 0,
	      "a MediaUrl with a non-UTF-8 byte is dropped");
	CHECK_STR(in.not_posted, "no text and no media", "so nothing is posted");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "%C3%A9", &in) == 0 && in.nmedia == 0,
	      "so is one with valid UTF-8 outside RFC 3986");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "a+b", &in) == 0 && in.nmedia == 0,
	      "or a space");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "a%25zz", &in) == 0 && in.nmedia == 0,
	      "or a '%' not followed by two hex digits");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "a%25", &in) == 0 && in.nmedia == 0,
	      "or a '%' at the end");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "a%252Fb%5B%5D", &in) == 0 &&
	      in.nmedia == 1 && !strcmp(in.media[0].src, TW_URL "a%2Fb[]"), "%XX and reserved characters are kept");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=ftp%3A%2F%2Fapi.twilio.com%2Fx", &in) == 0 &&
	      in.nmedia == 0, "not http(s): dropped");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=https%3A%2F%2Fevil.example%2Fx", &in) == 0 &&
	      in.nmedia == 0, "a host not in media_hosts: dropped");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=https%3A%2F%2Fapi.twilio.com%40evil%2Fx", &in) == 0 &&
	      in.nmedia == 0, "user-info: dropped");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=http%3A%2F%2F127.0.0.1%3A9000%2Fp.jpg", &in) == 0 &&
	      in.nmedia == 1, "an allowed origin is kept");
	i = sizeof(TW_URL) - 1;
	s = repeat("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW, "a", 1024 - i);
	CHECK(readf(s, &in) == 0 && in.nmedia == 1 && strlen(in.media[0].src) == 1024,
	      "a 1024-byte URL is kept");
	free(s);
	s = repeat("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW, "a", 1025 - i);
	CHECK(readf(s, &in) == 0 && in.nmedia == 0, "a 1025-byte one is dropped");
	free(s);

	/* NumMedia */
	CHECK(readf("MessageSid=SM1&MediaUrl0=" TW "0", &in) == 0 && in.nmedia == 0,
	      "no NumMedia: no media");
	CHECK(readf("MessageSid=SM1&NumMedia=-1&MediaUrl0=" TW "0", &in) == 0 && in.nmedia == 0,
	      "a negative NumMedia: none");
	CHECK(readf("MessageSid=SM1&NumMedia=x&MediaUrl0=" TW "0", &in) == 0 && in.nmedia == 0,
	      "NumMedia not a number: none");
	CHECK(readf("MessageSid=SM1&NumMedia=3&MediaUrl0=" TW "0&MediaUrl2=" TW "2&MediaUrl3=" TW "3", &in) == 0 &&
	      in.nmedia == 2 && !strcmp(in.media[1].src, TW_URL "2"),
	      "a missing MediaUrl1 is skipped, MediaUrl3 is past NumMedia");
	snprintf(body, sizeof(body), "MessageSid=SM1&NumMedia=99");
	for (i = 0; i < 12; i++)
		snprintf(body + strlen(body), sizeof(body) - strlen(body), "&MediaUrl%zu=%s%zu", i, TW, i);
	CHECK(readf(body, &in) == 0 && in.nmedia == MSG_MEDIA_MAX &&
	      !strcmp(in.media[9].src, TW_URL "9"), "at most MSG_MEDIA_MAX items");

	/* MediaContentTypeN */
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "0", &in) == 0 &&
	      !strcmp(in.media[0].content_type, "application/octet-stream"), "no type: octet-stream");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "0&MediaContentType0=image%2Fjpeg%3Cscript%3E", &in) == 0 &&
	      !strcmp(in.media[0].content_type, "application/octet-stream"), "a type with '<': octet-stream");
	CHECK(readf("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "0&MediaContentType0=text%2Fplain%3B+charset%3Dutf-8", &in) == 0 &&
	      !strcmp(in.media[0].content_type, "text/plain; charset=utf-8"), "parameters are kept");
	s = repeat("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "0&MediaContentType0=image%2F", "x", 94);
	CHECK(readf(s, &in) == 0 && strlen(in.media[0].content_type) == 100 &&
	      !strncmp(in.media[0].content_type, "image/x", 7), "a 100-byte type is kept");
	free(s);
	s = repeat("MessageSid=SM1&NumMedia=1&MediaUrl0=" TW "0&MediaContentType0=image%2F", "x", 95);
	CHECK(readf(s, &in) == 0 && !strcmp(in.media[0].content_type, "application/octet-stream"),
	      "a 101-byte one is not");
	free(s);

	/* not_posted */
	CHECK(readf("MessageSid=SM1&Body=STOP&OptOutType=STOP", &in) == 0, "an opt-out is read");
	CHECK_STR(in.not_posted, "opt-out or keyword message", "and not posted");
	CHECK(readf("MessageSid=SM1&Body=&OptOutType=", &in) == 0, "an empty message is read");
	CHECK_STR(in.not_posted, "no text and no media", "and not posted");
	CHECK(readf("MessageSid=SM1&Body=hello", &in) == 0 && in.not_posted == NULL,
	      "text only, wall_text on: posted");
	rec = inbound_record(&in, NULL, err);
	CHECK(rec && strstr(rec, "\"messageType\":\"text message\",\"chatMessage\":\"hello\"") &&
	      strstr(rec, "\"media\":[],\"sid\":\"SM1\"}"), "as a text message, no sender");
	CHECK_STR(in.user, "sms:\xe2\x80\xa6", "no From: no digits");
	free(rec);
	conf.wall_text = CONF_OFF;
	CHECK(readf("MessageSid=SM1&Body=hello", &in) == 0, "text only, wall_text off: read");
	CHECK_STR(in.not_posted, "text without a picture (wall_text = off)", "and not posted");
	CHECK(readf("MessageSid=SM1&Body=hello&NumMedia=1&MediaUrl0=" TW "0", &in) == 0 &&
	      in.not_posted == NULL, "with a picture it is posted");
	conf.wall_text = CONF_ON;

	/* the sender shown */
	CHECK(readf("MessageSid=SM1&Body=x&From=whatsapp%3A%2B1-415-555-01-23", &in) == 0, "a WhatsApp From");
	CHECK_STR(in.user, "sms:\xe2\x80\xa6" "0123", "its last four digits, across '-'");
	CHECK(readf("MessageSid=SM1&Body=x&From=ab12", &in) == 0, "a From with two digits");
	CHECK_STR(in.user, "sms:\xe2\x80\xa6" "12", "shows those two");
	CHECK(readf("MessageSid=SM1&Body=x&From=%FF%FE", &in) == 0 && in.from[0] == '\xff', "a non-UTF-8 From");
	rec = inbound_record(&in, NULL, err);
	CHECK(rec && !strstr(rec, "\xff"), "never reaches the record");
	free(rec);

	form_free(&form);
	return unit_done();
}
