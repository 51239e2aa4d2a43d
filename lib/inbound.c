/* inbound.c - the webhook's field rules: Twilio's form -> the record it stores. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "err.h"
#include "inbound.h"

int inbound_sender_hash(const struct conf *c, const char *from,
			char hex[STORE_SENDER_HEX + 1], char *err)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	char key[CONF_VAL_MAX + 16];

	/* prefixed, so a key derived from token_secret never meets the tokens' */
	if (c->sender_secret[0])
		snprintf(key, sizeof(key), "%s", c->sender_secret);
	else
		snprintf(key, sizeof(key), "sender:%s", c->token_secret);
	if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)from,
		  strlen(from), mac, &len) || len != STORE_SENDER_HEX / 2)
		return err_set(err, "HMAC sender: failed");
	for (i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", mac[i]);
	return 0;
}

/* "sms:…5309": the last four digits of from, never the whole number. */
static void mask_sender(const char *from, char *out, size_t len)
{
	char digits[5] = "";
	size_t n = 0;
	const char *p;

	for (p = from ? from + strlen(from) : NULL; p && p > from && n < 4;) {
		p--;
		if (isdigit((unsigned char)*p)) {
			memmove(digits + 1, digits, n + 1);
			digits[0] = *p;
			n++;
		}
	}
	snprintf(out, len, "sms:\xe2\x80\xa6%s", digits);
}

static int sid_ok(const char *sid)
{
	size_t n = 0;

	for (; sid && sid[n]; n++)
		if (!isalnum((unsigned char)sid[n]))
			return 0;
	return n >= 2 && n <= 64;
}

/* A content type we are willing to repeat to browsers, or a safe default. */
static const char *media_type(const char *ct)
{
	size_t i;

	if (!ct || !*ct || strlen(ct) > 100)
		return "application/octet-stream";
	for (i = 0; ct[i]; i++)
		if (!isalnum((unsigned char)ct[i]) && !strchr("/+-.;= ", ct[i]))
			return "application/octet-stream";
	return ct;
}

/*
 * An absolute URL made only of RFC 3986 characters (unreserved, reserved,
 * %XX): anything else is not what Twilio sends and is never stored (a
 * stored byte that is not UTF-8 would make the record unreadable).
 */
static int url_ok(const char *url)
{
	size_t i, n = strlen(url);

	if (n > INBOUND_URL_MAX || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)))
		return 0;
	for (i = 0; i < n; i++) {
		if (url[i] == '%') {
			if (!isxdigit((unsigned char)url[i + 1]) ||
			    !isxdigit((unsigned char)url[i + 2]))
				return 0;
			i += 2;
		} else if (!isalnum((unsigned char)url[i]) &&
			   !strchr("-._~:/?#[]@!$&'()*+,;=", url[i])) {
			return 0;
		}
	}
	return 1;
}

/* The media items that are kept (struct inbound); returns how many. */
static size_t collect_media(const struct conf *c, const struct form *f,
			    struct msg_media *media)
{
	const char *num = form_get(f, "NumMedia"), *url;
	char name[32];
	long count = num ? strtol(num, NULL, 10) : 0, i;
	size_t n = 0;

	if (count > MSG_MEDIA_MAX)
		count = MSG_MEDIA_MAX;
	for (i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "MediaUrl%ld", i);
		url = form_get(f, name);
		if (!url || !url_ok(url) || !conf_media_allowed(c, url))
			continue;	/* not Twilio's: never fetched, never shown */
		snprintf(name, sizeof(name), "MediaContentType%ld", i);
		media[n].src = url;
		media[n].content_type = media_type(form_get(f, name));
		n++;
	}
	return n;
}

/* The contract's list, in order (inbound.h); blocked and rate need the store. */
static const char *not_posted(const struct conf *c, const struct form *f,
			      const char *body, size_t nmedia)
{
	const char *opt = form_get(f, "OptOutType");

	if (opt && *opt)
		return "opt-out or keyword message";	/* STOP, START, HELP: Twilio answers them */
	if (!nmedia && !*body)
		return "no text and no media";
	if (!nmedia && c->wall_text == CONF_OFF)
		return "text without a picture (wall_text = off)";
	return NULL;
}

int inbound_read(const struct conf *c, const struct form *f, struct inbound *in, char *err)
{
	memset(in, 0, sizeof(*in));
	in->sid = form_get(f, "MessageSid");
	if (!in->sid)
		in->sid = form_get(f, "SmsSid");
	if (!sid_ok(in->sid)) {
		in->sid = NULL;
		in->reason = "message_sid";
		return err_set(err, "MessageSid missing or malformed");
	}
	in->body = form_get(f, "Body");
	if (!in->body)
		in->body = "";
	if (!msg_utf8_ok(in->body, strlen(in->body))) {
		in->reason = "body_utf8";
		return err_set(err, "Body is not valid UTF-8");
	}
	if (msg_utf8_chars(in->body) > INBOUND_BODY_MAX) {
		in->reason = "body_length";
		return err_set(err, "Body is over %d characters", INBOUND_BODY_MAX);
	}
	in->nmedia = collect_media(c, f, in->media);
	in->not_posted = not_posted(c, f, in->body, in->nmedia);
	in->from = form_get(f, "From");
	if (!in->from)
		in->from = "";
	mask_sender(in->from, in->user, sizeof(in->user));
	return 0;
}

char *inbound_record(const struct inbound *in, const char *sender, char *err)
{
	return msg_record_sms(in->user, in->nmedia ? "picture" : "text message", in->body,
			      in->media, in->nmedia, in->sid, sender, err);
}
