/* msg.c - stored and public JSON forms of a message. */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "err.h"
#include "msg.h"

static void iso_now(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	char sec[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%.24s.%03dZ", sec, (int)(tv.tv_usec / 1000) % 1000);
}

const char *msg_json_text(struct json_object *obj, size_t *len)
{
	return json_object_to_json_string_length(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

static int str_ok(const char *s)
{
	return s && msg_utf8_ok(s, strlen(s));
}

char *msg_record(const char *user, const char *type, const char *text,
		 const struct msg_media *media, size_t nmedia, const char *sid,
		 char *err)
{
	return msg_record_sms(user, type, text, media, nmedia, sid, NULL, err);
}

char *msg_record_sms(const char *user, const char *type, const char *text,
		     const struct msg_media *media, size_t nmedia, const char *sid,
		     const char *sender, char *err)
{
	struct json_object *o, *arr, *m;
	char when[40], *out = NULL;
	const char *s;
	size_t i, len;

	/*
	 * A record that cannot be read back stops its room's followers (every
	 * read of it fails), so nothing that is not UTF-8 text goes in.
	 */
	if (!str_ok(user) || !str_ok(type) || !str_ok(text) || (sid && !str_ok(sid)) ||
	    (sender && !str_ok(sender))) {
		err_set(err, "msg_record: a field is not valid UTF-8 text");
		return NULL;
	}
	for (i = 0; i < nmedia; i++)
		if (!str_ok(media[i].src) || !str_ok(media[i].content_type)) {
			err_set(err, "msg_record: media %zu is not valid UTF-8 text", i);
			return NULL;
		}
	iso_now(when, sizeof(when));
	o = json_object_new_object();
	arr = json_object_new_array();
	if (!o || !arr) {
		json_object_put(o);
		json_object_put(arr);
		err_set(err, "msg_record: out of memory");
		return NULL;
	}
	json_object_object_add(o, "userId", json_object_new_string(user));
	json_object_object_add(o, "messageType", json_object_new_string(type));
	json_object_object_add(o, "chatMessage", json_object_new_string(text));
	json_object_object_add(o, "createTime", json_object_new_string(when));
	for (i = 0; i < nmedia; i++) {
		m = json_object_new_object();
		json_object_object_add(m, "src", json_object_new_string(media[i].src));
		json_object_object_add(m, "contentType",
				       json_object_new_string(media[i].content_type));
		json_object_array_add(arr, m);
	}
	json_object_object_add(o, "media", arr);
	if (sid)
		json_object_object_add(o, "sid", json_object_new_string(sid));
	if (sender)
		json_object_object_add(o, "sender", json_object_new_string(sender));
	s = msg_json_text(o, &len);
	if (s)
		out = strdup(s);
	if (!out)
		err_set(err, "msg_record: out of memory");
	json_object_put(o);
	return out;
}

static const char *str_field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int rec_hidden(struct json_object *rec)
{
	struct json_object *v;

	return json_object_object_get_ex(rec, "hidden", &v) && json_object_get_boolean(v);
}

struct json_object *msg_public(const char *room, uint64_t index,
			       const char *record, const char *frame_type,
			       char *err)
{
	struct json_object *rec, *out, *media, *arr, *m, *item;
	char url[160];
	size_t i, n = 0;

	out = json_object_new_object();
	rec = msg_parse_json(record, strlen(record), err);
	if (!rec || rec_hidden(rec)) {
		/*
		 * A hidden message is its tombstone: index and time only, so
		 * numbering stays gapless and nothing of it leaves. One bad
		 * record must not stop its room either: it is shown the same
		 * way (with no time), so readers and cursors step over it.
		 */
		if (frame_type)
			json_object_object_add(out, "type", json_object_new_string(frame_type));
		json_object_object_add(out, "room", json_object_new_string(room));
		json_object_object_add(out, "index", json_object_new_int64((int64_t)index));
		json_object_object_add(out, "createTime",
				       json_object_new_string(rec ? str_field(rec, "createTime") : ""));
		json_object_object_add(out, "hidden", json_object_new_boolean(1));
		json_object_put(rec);
		return out;
	}
	arr = json_object_new_array();
	if (frame_type)
		json_object_object_add(out, "type", json_object_new_string(frame_type));
	json_object_object_add(out, "room", json_object_new_string(room));
	json_object_object_add(out, "index", json_object_new_int64((int64_t)index));
	json_object_object_add(out, "userId", json_object_new_string(str_field(rec, "userId")));
	json_object_object_add(out, "messageType", json_object_new_string(str_field(rec, "messageType")));
	json_object_object_add(out, "chatMessage", json_object_new_string(str_field(rec, "chatMessage")));
	json_object_object_add(out, "createTime", json_object_new_string(str_field(rec, "createTime")));
	if (json_object_object_get_ex(rec, "media", &media) &&
	    json_object_is_type(media, json_type_array))
		n = json_object_array_length(media);
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(media, i);
		m = json_object_new_object();
		snprintf(url, sizeof(url), "/media/%s/%llu/%zu", room,
			 (unsigned long long)index, i);
		json_object_object_add(m, "url", json_object_new_string(url));
		json_object_object_add(m, "contentType",
				       json_object_new_string(str_field(item, "contentType")));
		json_object_array_add(arr, m);
	}
	json_object_object_add(out, "media", arr);
	json_object_put(rec);
	return out;
}

char *msg_record_hidden(const char *record, int hidden, int *changed, char *err)
{
	struct json_object *rec;
	const char *s;
	char *out = NULL;
	size_t len;

	*changed = 0;
	rec = msg_parse_json(record, strlen(record), err);
	if (!rec)
		return NULL;
	if (rec_hidden(rec) != !!hidden) {
		*changed = 1;
		if (hidden)
			json_object_object_add(rec, "hidden", json_object_new_boolean(1));
		else
			json_object_object_del(rec, "hidden");
	}
	s = msg_json_text(rec, &len);
	if (s)
		out = strdup(s);
	if (!out)
		err_set(err, "msg_record_hidden: out of memory");
	json_object_put(rec);
	return out;
}

int msg_fields(const char *record, struct msg_fields *f)
{
	struct json_object *rec = msg_parse_json(record, strlen(record), NULL);

	memset(f, 0, sizeof(*f));
	if (!rec)
		return -1;
	f->hidden = rec_hidden(rec);
	snprintf(f->user, sizeof(f->user), "%s", str_field(rec, "userId"));
	snprintf(f->text, sizeof(f->text), "%s", str_field(rec, "chatMessage"));
	snprintf(f->sender, sizeof(f->sender), "%s", str_field(rec, "sender"));
	snprintf(f->create_time, sizeof(f->create_time), "%s", str_field(rec, "createTime"));
	json_object_put(rec);
	return 0;
}

void msg_sender_note(const struct msg_fields *f, const char *room, uint64_t index,
		     char note[MSG_NOTE_LEN])
{
	snprintf(note, MSG_NOTE_LEN, "%s\t%s\t%llu", f->user, room, (unsigned long long)index);
}

int msg_media_get(const char *record, size_t n, char *src, size_t srclen,
		  char *ctype, size_t ctlen)
{
	struct json_object *rec, *media, *item;
	int ret = 0;

	rec = msg_parse_json(record, strlen(record), NULL);
	if (!rec)
		return -1;
	if (json_object_object_get_ex(rec, "media", &media) &&
	    json_object_is_type(media, json_type_array) &&
	    n < json_object_array_length(media)) {
		item = json_object_array_get_idx(media, n);
		snprintf(src, srclen, "%s", str_field(item, "src"));
		snprintf(ctype, ctlen, "%s", str_field(item, "contentType"));
		ret = 1;
	}
	json_object_put(rec);
	return ret;
}

/*
 * json-c's strict mode still takes 'single-quoted' strings: refuse a quote
 * outside a JSON string before parsing.
 */
static int single_quote_outside_strings(const char *s, size_t len)
{
	int in_string = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = 0;
		} else if (s[i] == '"') {
			in_string = 1;
		} else if (s[i] == '\'') {
			return 1;
		}
	}
	return 0;
}

struct json_object *msg_parse_json(const char *buf, size_t len, char *err)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (!msg_utf8_ok(buf, len)) {
		err_set(err, "body is not valid UTF-8 text");
		return NULL;
	}
	if (single_quote_outside_strings(buf, len)) {
		err_set(err, "invalid JSON: single-quoted string");
		return NULL;
	}
	tok = json_tokener_new_ex(16);
	if (!tok) {
		err_set(err, "json_tokener_new_ex: out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len + 1);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		err_set(err, "invalid JSON: %s",
			json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int msg_utf8_ok(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *e = s + len;
	unsigned int c, need, min;

	while (s < e) {
		c = *s++;
		if (c == 0)
			return 0;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, c &= 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, c &= 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, c &= 0x07, min = 0x10000;
		else
			return 0;
		if ((size_t)(e - s) < need)
			return 0;
		while (need--) {
			if ((*s & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (*s++ & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	return 1;
}

size_t msg_utf8_chars(const char *s)
{
	size_t n = 0;

	/* every byte but a continuation byte (10xxxxxx) starts a character */
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}
