/*
 * fuzz-inbound.c - the webhook from body to stored record: any body that
 * form_parse takes, under wall_text on and off. A refusal names a rule the
 * input really breaks; an accepted message obeys every rule (sid, Body UTF-8
 * and <= 1600 characters, media URLs RFC 3986 on media_hosts, safe types),
 * and its record always reads back (msg_parse_json, msg_public,
 * msg_media_get) with the very fields that were read.
 */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>

#include "err.h"
#include "form.h"
#include "fuzz.h"
#include "inbound.h"

/* Characters, counted apart from msg_utf8_chars: bytes that are not 10xxxxxx. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if ((*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* RFC 3986's characters (unreserved, reserved, '%'): printable ASCII less " <>\^`{|} */
static int url_chars(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("\"<>\\^`{|}", *s))
			return 0;
	return 1;
}

static void check_accepted(const struct conf *c, const struct inbound *in)
{
	size_t i, n;

	n = strlen(in->sid);
	assert(n >= 2 && n <= 64);
	for (i = 0; i < n; i++)
		assert(isalnum((unsigned char)in->sid[i]));
	assert(msg_utf8_ok(in->body, strlen(in->body)) && chars(in->body) <= INBOUND_BODY_MAX);
	assert(in->nmedia <= MSG_MEDIA_MAX);
	for (i = 0; i < in->nmedia; i++) {
		n = strlen(in->media[i].src);
		assert(n <= INBOUND_URL_MAX && url_chars(in->media[i].src) &&
		       (!strncmp(in->media[i].src, "https://", 8) ||
			!strncmp(in->media[i].src, "http://", 7)) &&
		       conf_media_allowed(c, in->media[i].src));
		n = strlen(in->media[i].content_type);
		assert(n >= 1 && n <= 100 && url_chars(in->media[i].content_type) == !strchr(in->media[i].content_type, ' '));
		assert(msg_utf8_ok(in->media[i].content_type, n));
	}
	assert(!strncmp(in->user, "sms:\xe2\x80\xa6", 7) && strlen(in->user) <= 11);
	for (i = 7; in->user[i]; i++)
		assert(isdigit((unsigned char)in->user[i]));
	if (!in->nmedia && (c->wall_text == CONF_OFF || !*in->body))
		assert(in->not_posted);
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert(json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static void check_record(const struct inbound *in, const char *hash, const char *rec)
{
	struct json_object *o, *media, *item, *pub;
	char err[ERR_LEN], src[INBOUND_URL_MAX + 8], ct[128];
	size_t i;

	o = msg_parse_json(rec, strlen(rec), err);
	assert(o);
	assert(!strcmp(str(o, "chatMessage"), in->body) && !strcmp(str(o, "sid"), in->sid) &&
	       !strcmp(str(o, "userId"), in->user) && !strcmp(str(o, "sender"), hash) &&
	       !strcmp(str(o, "messageType"), in->nmedia ? "picture" : "text message"));
	assert(json_object_object_get_ex(o, "media", &media) &&
	       json_object_array_length(media) == in->nmedia);
	for (i = 0; i < in->nmedia; i++) {
		item = json_object_array_get_idx(media, i);
		assert(!strcmp(str(item, "src"), in->media[i].src) &&
		       !strcmp(str(item, "contentType"), in->media[i].content_type));
		assert(msg_media_get(rec, i, src, sizeof(src), ct, sizeof(ct)) == 1 &&
		       !strcmp(src, in->media[i].src));
	}
	assert(msg_media_get(rec, in->nmedia, src, sizeof(src), ct, sizeof(ct)) == 0);
	json_object_put(o);
	pub = msg_public("sms", 1, rec, "message", err);
	assert(pub && !json_object_object_get_ex(pub, "hidden", NULL) &&
	       !strcmp(str(pub, "chatMessage"), in->body));
	json_object_put(pub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c;
	struct form f = { 0 };
	struct inbound in;
	char err[ERR_LEN], hash[STORE_SENDER_HEX + 1], *rec;
	const char *body;
	int pass;

	if (!c.media_hosts[0]) {
		snprintf(c.media_hosts, sizeof(c.media_hosts), "api.twilio.com http://127.0.0.1:9000");
		snprintf(c.sender_secret, sizeof(c.sender_secret), "fuzz");
	}
	if (form_parse(&f, (const char *)data, size, err))
		return 0;
	for (pass = 0; pass < 2; pass++) {
		c.wall_text = pass ? CONF_OFF : CONF_ON;
		err[0] = '\0';
		if (inbound_read(&c, &f, &in, err)) {
			body = form_get(&f, "Body");
			body = body ? body : "";
			assert(err[0] && in.reason);
			if (!strcmp(in.reason, "message_sid"))
				assert(!in.sid);
			else if (!strcmp(in.reason, "body_utf8"))
				assert(in.sid && !msg_utf8_ok(body, strlen(body)));
			else
				assert(!strcmp(in.reason, "body_length") && in.sid &&
				       chars(body) > INBOUND_BODY_MAX);
			continue;
		}
		check_accepted(&c, &in);
		if (in.not_posted)
			continue;
		assert(inbound_sender_hash(&c, in.from, hash, err) == 0 &&
		       strlen(hash) == STORE_SENDER_HEX);
		rec = inbound_record(&in, hash, err);
		assert(rec);
		check_record(&in, hash, rec);
		free(rec);
	}
	form_free(&f);
	return 0;
}
