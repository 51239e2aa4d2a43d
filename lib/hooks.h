/* hooks.h - event hooks: the events' JSON and their X-Bookpics-Signature (docs/HOOKS.md). */
#ifndef BP_HOOKS_H
#define BP_HOOKS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

/* "t=" 20 digits ",v1=" 64 hex digits, NUL. */
#define HOOKS_SIG_LEN 96
#define HOOKS_TOLERANCE 300	/* seconds: a receiver refuses an older t */

/*
 * The header value X-Bookpics-Signature for body (len bytes) sent at Unix
 * time t: "t=T,v1=HEX", HEX the lowercase HMAC-SHA256 with secret over
 * T "." body (Stripe's scheme). Returns 0, or -1 with err filled (an empty
 * secret included: hooks are never sent unsigned).
 */
int hooks_sign(const char *secret, time_t t, const char *body, size_t len,
	       char out[HOOKS_SIG_LEN], char *err);

/*
 * The receiver's check, as docs/HOOKS.md tells one to write it: header
 * parsed for t and v1, the HMAC recomputed and compared in constant time,
 * t no older than HOOKS_TOLERANCE seconds before now (nor that far ahead).
 * Returns 1 valid, 0 not.
 */
int hooks_verify(const char *secret, const char *header, const char *body, size_t len,
		 time_t now);

/*
 * The events, each a malloc'd JSON text (free() it) or NULL with err:
 *
 * message: the message as the WebSocket sends it ({"type":"message",
 *   ...public fields}, a hidden one as its tombstone) plus "id"
 *   "msg:ROOM:INDEX" and "time" (its createTime).
 * change:  {"type":"hidden"|"shown","id":"hid:ROOM:SEQ"|"shw:ROOM:SEQ",
 *   "time","room","index"}; changes keep no time of their own, so "time"
 *   is now (the id is what stays the same across retries).
 * conn:    {"type":"connect"|"disconnect","id":"conn:SEQ","time",
 *   "connectionId","userId"} (userId null for an anonymous connection).
 */
char *hooks_message_event(const char *room, uint64_t index, const char *record, char *err);
char *hooks_change_event(const char *room, const struct store_change *c, char *err);
char *hooks_conn_event(const struct store_event *e, char *err);

#endif
