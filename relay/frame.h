/* frame.h - ready-to-send WebSocket text frames with LWS_PRE headroom. */
#ifndef BP_FRAME_H
#define BP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/*
 * A frame is one JSON text serialized once: lws_write() needs LWS_PRE free
 * bytes before the payload, so the text is stored after them and every
 * connection writes the same bytes. A frame has exactly one owner (a room's
 * cache, a connection's catch-up batch or its queue of own frames); lws
 * copies what a socket does not take at once, so nobody needs a frame after
 * lws_write() returns.
 */
struct frame {
	struct frame *next;	/* for the owner's queue, NULL otherwise */
	size_t len;		/* bytes of text, without the NUL */
	unsigned char buf[];	/* LWS_PRE headroom, text, NUL */
};

/* The payload to hand to lws_write(). */
unsigned char *frame_data(struct frame *f);

/* Copy len bytes of text into a new frame. NULL when out of memory. */
struct frame *frame_new(const char *text, size_t len);

/* Serialize obj (compact, '/' unescaped) into a new frame; obj is not freed. */
struct frame *frame_json(struct json_object *obj);

/*
 * The public message frame {"type":"message",...} of a stored record
 * (msg_public). NULL with err filled on a bad record or no memory.
 */
struct frame *frame_message(const char *room, uint64_t index,
			    const char *record, char *err);

/*
 * The public message frame of a stored record with frame type `type`
 * ("message", or "shown" after a moderator showed it again): frame_message
 * with another type. *hidden (may be NULL) is set to 1 when the record
 * is hidden (the frame is then its tombstone), else 0. NULL with err filled.
 */
struct frame *frame_typed_message(const char *room, uint64_t index, const char *record,
				  const char *type, int *hidden, char *err);

/* {"type":"hidden","room":room,"index":index}; NULL when out of memory. */
struct frame *frame_hidden(const char *room, uint64_t index);

/* {"type":"error","code":code,"message":...} (printf-style message). */
struct frame *frame_error(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * {"type":"ack","room":room,"index":index}, with "clientMessageId":
 * client_id when the send had one (NULL: none), so a client that resent
 * after a reconnect can tell which send it answers.
 */
struct frame *frame_ack(const char *room, uint64_t index, const char *client_id);

/* Free f (NULL is fine). Does not follow f->next. */
void frame_free(struct frame *f);

#endif
