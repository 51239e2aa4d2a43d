/* hooks.c - event hooks: the events' JSON and their signature (see hooks.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "err.h"
#include "hooks.h"
#include "log.h"
#include "msg.h"

#define ID_MAX (STORE_NAME_MAX + 32)

/* HMAC-SHA256 over "T." body, as 64 lowercase hex digits into hex. */
static int mac_hex(const char *secret, const char *t, const char *body, size_t len,
		   char hex[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;
	size_t tlen = strlen(t);
	unsigned char *buf = malloc(tlen + 1 + len + 1);
	int ret = -1;

	/* one buffer for the one-shot HMAC(): the HMAC_CTX calls are deprecated in OpenSSL 3 */
	if (!buf)
		return -1;
	memcpy(buf, t, tlen);
	buf[tlen] = '.';
	if (len)
		memcpy(buf + tlen + 1, body, len);
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), buf, tlen + 1 + len, mac, &maclen) ||
	    maclen != 32)
		goto out;
	for (i = 0; i < maclen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	ret = 0;
out:
	free(buf);
	return ret;
}

int hooks_sign(const char *secret, time_t t, const char *body, size_t len,
	       char out[HOOKS_SIG_LEN], char *err)
{
	char ts[24], hex[65];

	if (!secret || !*secret)
		return err_set(err, "sign hook: hook_secret is empty");
	snprintf(ts, sizeof(ts), "%lld", (long long)t);
	if (mac_hex(secret, ts, body, len, hex))
		return err_set(err, "sign hook: hmac-sha256 failed");
	snprintf(out, HOOKS_SIG_LEN, "t=%s,v1=%s", ts, hex);
	return 0;
}

int hooks_verify(const char *secret, const char *header, const char *body, size_t len,
		 time_t now)
{
	char ts[24], hex[65];
	const char *v1, *comma;
	long long t;
	char *end;

	if (!secret || !*secret || !header || strncmp(header, "t=", 2))
		return 0;
	comma = strchr(header, ',');
	if (!comma || (size_t)(comma - header - 2) >= sizeof(ts) || comma == header + 2)
		return 0;
	memcpy(ts, header + 2, (size_t)(comma - header - 2));
	ts[comma - header - 2] = '\0';
	t = strtoll(ts, &end, 10);
	if (*end || t < 0)
		return 0;
	if (strncmp(comma + 1, "v1=", 3))
		return 0;
	v1 = comma + 4;
	if (strlen(v1) != 64 || mac_hex(secret, ts, body, len, hex))
		return 0;
	if (CRYPTO_memcmp(hex, v1, 64))
		return 0;
	return t >= (long long)now - HOOKS_TOLERANCE && t <= (long long)now + HOOKS_TOLERANCE;
}

/* The JSON text of o, malloc'd; o is put. */
static char *finish(struct json_object *o, char *err)
{
	const char *text;
	char *out = NULL;
	size_t len = 0;

	if (!o) {
		err_set(err, "hook event: out of memory");
		return NULL;
	}
	text = msg_json_text(o, &len);
	if (!text || !(out = strdup(text)))
		err_set(err, "hook event: out of memory");
	json_object_put(o);
	return out;
}

static void stamp_us(char *buf, size_t len, uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	log_stamp(buf, len, &ts);
}

char *hooks_message_event(const char *room, uint64_t index, const char *record, char *err)
{
	struct json_object *o = msg_public(room, index, record, "message", err), *ct;
	char id[ID_MAX];

	if (!o) {
		err_set(err, "hook event: out of memory");
		return NULL;
	}
	snprintf(id, sizeof(id), "msg:%s:%" PRIu64, room, index);
	json_object_object_add(o, "id", json_object_new_string(id));
	ct = json_object_object_get(o, "createTime");
	json_object_object_add(o, "time", json_object_new_string(ct ? json_object_get_string(ct) : ""));
	return finish(o, err);
}

char *hooks_change_event(const char *room, const struct store_change *c, char *err)
{
	struct json_object *o = json_object_new_object();
	char id[ID_MAX], now[LOG_STAMP_LEN];

	if (!o)
		return finish(NULL, err);
	snprintf(id, sizeof(id), "%s:%s:%" PRIu64, c->hidden ? "hid" : "shw", room, c->seq);
	log_stamp(now, sizeof(now), NULL);
	json_object_object_add(o, "type", json_object_new_string(c->hidden ? "hidden" : "shown"));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "time", json_object_new_string(now));
	json_object_object_add(o, "room", json_object_new_string(room));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)c->index));
	return finish(o, err);
}

char *hooks_conn_event(const struct store_event *e, char *err)
{
	struct json_object *o = json_object_new_object();
	char id[ID_MAX], when[LOG_STAMP_LEN];

	if (!o)
		return finish(NULL, err);
	snprintf(id, sizeof(id), "conn:%" PRIu64, e->seq);
	stamp_us(when, sizeof(when), e->time_us);
	json_object_object_add(o, "type", json_object_new_string(
		e->kind == STORE_EVENT_CONNECT ? "connect" : "disconnect"));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "connectionId", json_object_new_string(e->conn));
	json_object_object_add(o, "userId", e->user[0] ? json_object_new_string(e->user) : NULL);
	return finish(o, err);
}
