/* frame.c - JSON text frames with LWS_PRE headroom, serialized once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "err.h"
#include "frame.h"
#include "msg.h"

unsigned char *frame_data(struct frame *f)
{
	return f->buf + LWS_PRE;
}

struct frame *frame_new(const char *text, size_t len)
{
	struct frame *f = malloc(sizeof(*f) + LWS_PRE + len + 1);

	if (!f)
		return NULL;
	f->next = NULL;
	f->len = len;
	memcpy(f->buf + LWS_PRE, text, len);
	f->buf[LWS_PRE + len] = '\0';
	return f;
}

struct frame *frame_json(struct json_object *obj)
{
	const char *s;
	size_t len = 0;

	s = msg_json_text(obj, &len);
	return s ? frame_new(s, len) : NULL;
}

struct frame *frame_typed_message(const char *room, uint64_t index, const char *record,
				  const char *type, int *hidden, char *err)
{
	struct json_object *o;
	struct frame *f;

	o = msg_public(room, index, record, type, err);
	if (!o)
		return NULL;
	if (hidden)
		*hidden = json_object_object_get_ex(o, "hidden", NULL);
	f = frame_json(o);
	json_object_put(o);
	if (!f)
		err_set(err, "frame_message: out of memory");
	return f;
}

struct frame *frame_message(const char *room, uint64_t index,
			    const char *record, char *err)
{
	return frame_typed_message(room, index, record, "message", NULL, err);
}

struct frame *frame_hidden(const char *room, uint64_t index)
{
	struct json_object *o = json_object_new_object();
	struct frame *f;

	if (!o)
		return NULL;
	json_object_object_add(o, "type", json_object_new_string("hidden"));
	json_object_object_add(o, "room", json_object_new_string(room));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)index));
	f = frame_json(o);
	json_object_put(o);
	return f;
}

struct frame *frame_error(const char *code, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	struct frame *f;
	char text[512];
	va_list ap;

	if (!o)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "type", json_object_new_string("error"));
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(text));
	f = frame_json(o);
	json_object_put(o);
	return f;
}

struct frame *frame_ack(const char *room, uint64_t index, const char *client_id)
{
	struct json_object *o = json_object_new_object();
	struct frame *f;

	if (!o)
		return NULL;
	json_object_object_add(o, "type", json_object_new_string("ack"));
	json_object_object_add(o, "room", json_object_new_string(room));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)index));
	if (client_id)
		json_object_object_add(o, "clientMessageId", json_object_new_string(client_id));
	f = frame_json(o);
	json_object_put(o);
	return f;
}

void frame_free(struct frame *f)
{
	free(f);
}
