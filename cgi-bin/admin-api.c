/* admin-api.c - the server API (/api/admin/...): users, rooms, members, tokens, messages, presence for a site's backend. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "admin-api.h"
#include "chat.h"
#include "err.h"
#include "fifo.h"
#include "http.h"
#include "msg.h"
#include "route.h"
#include "token.h"

#define PREFIX "/api/admin"
#define SEGS_MAX 4
#define TTL_DEFAULT (30L * 24 * 3600)	/* bookpics-admin token's */
#define TTL_MAX 3153600000LL		/* 100 years: expires stays a sane date */

/* One request's path after PREFIX, cut at '/', and the names it carries. */
struct admin_req {
	struct route_ctx *c;
	char seg[SEGS_MAX][STORE_NAME_MAX + 2];	/* one byte over: too long to be a name */
	size_t nseg;
	struct json_object *body;	/* parsed for POST, NULL otherwise */
};

int admin_api_path(const char *path)
{
	size_t n = strlen(PREFIX);

	return !strncmp(path, PREFIX, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * Split "/a/b/c" into segments; 0, or -1 when there are too many or one is
 * empty (no route has those). A segment longer than any name is kept cut
 * to STORE_NAME_MAX + 1 bytes: still not a valid name, so it is a 404.
 */
static int split_path(struct admin_req *r, const char *p)
{
	size_t n;

	r->nseg = 0;
	while (*p == '/' && p[1]) {
		p++;
		n = strcspn(p, "/");
		if (!n || r->nseg == SEGS_MAX)
			return -1;
		snprintf(r->seg[r->nseg++], sizeof(r->seg[0]), "%.*s", (int)(n > STORE_NAME_MAX ? STORE_NAME_MAX + 1 : n), p);
		p += n;
	}
	return *p ? -1 : 0;	/* a trailing '/' */
}

/* Is the Bearer token admin_token? SHA-256 of both, so the compare is of equal lengths. */
static int authorized(const struct route_ctx *c)
{
	const char *h = c->req->authorization, *want = c->app->conf.admin_token;
	unsigned char got_md[SHA256_DIGEST_LENGTH], want_md[SHA256_DIGEST_LENGTH];

	if (!h || strncmp(h, "Bearer ", 7))
		return 0;
	SHA256((const unsigned char *)h + 7, strlen(h + 7), got_md);
	SHA256((const unsigned char *)want, strlen(want), want_md);
	return !CRYPTO_memcmp(got_md, want_md, sizeof(got_md));
}

/* The body as a JSON object into r->body; -1 with 400 answered. */
static int body_object(struct admin_req *r)
{
	char err[ERR_LEN];

	r->body = msg_parse_json(r->c->req->body, r->c->req->body_len, err);
	if (!r->body) {
		http_error(r->c->resp, 400, "bad_request", "%s", err);
		return -1;
	}
	if (!json_object_is_type(r->body, json_type_object)) {
		http_error(r->c->resp, 400, "bad_request", "body must be a JSON object");
		return -1;
	}
	return 0;
}

/* A required string field of the body; NULL with 400 answered. */
static const char *field_string(struct admin_req *r, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(r->body, name, &v) || !json_object_is_type(v, json_type_string)) {
		http_error(r->c->resp, 400, "bad_request", "\"%s\" must be a string", name);
		return NULL;
	}
	return json_object_get_string(v);
}

/* Does user exist? 1; 0 with 404 answered (or -1 with 500). */
static int user_known(struct admin_req *r, const char *user)
{
	char err[ERR_LEN];
	int e = store_user_exists(r->c->app->store, user, err);

	if (e < 0)
		http_error(r->c->resp, 500, "internal", "%s", err);
	else if (!e)
		http_error(r->c->resp, 404, "not_found", "no such user '%s'", user);
	return e;
}

/* Fill c->room and c->info with room; 1, or 0/-1 with 404/500 answered. */
static int room_known(struct admin_req *r, const char *room)
{
	struct route_ctx *c = r->c;
	char err[ERR_LEN];
	int e = store_name_ok(room) ? store_room_get(c->app->store, room, &c->info, err) : 0;

	if (e < 0)
		http_error(c->resp, 500, "internal", "%s", err);
	else if (!e)
		http_error(c->resp, 404, "not_found", "no such room '%s'", room);
	else
		snprintf(c->room, sizeof(c->room), "%s", room);
	return e;
}

/* 201 with {k1: v1, k2: v2} (k2 may be NULL; v2 is then unused). */
static void created(struct admin_req *r, const char *k1, struct json_object *v1,
		    const char *k2, struct json_object *v2)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, k1, v1);
	if (k2)
		json_object_object_add(o, k2, v2);
	http_json(r->c->resp, 201, o);
	json_object_put(o);
}

/* POST /users {"id"}: 201 {"id"}, 409 if it exists. */
static void users_post(struct admin_req *r)
{
	const char *id = field_string(r, "id");
	char err[ERR_LEN];
	int e;

	if (!id)
		return;
	if (!store_name_ok(id)) {
		http_error(r->c->resp, 400, "bad_request", "invalid user id '%s'", id);
		return;
	}
	e = store_user_add(r->c->app->store, id, err);
	if (e < 0)
		http_error(r->c->resp, 500, "internal", "%s", err);
	else if (!e)
		http_error(r->c->resp, 409, "conflict", "user '%s' already exists", id);
	else
		created(r, "id", json_object_new_string(id), NULL, NULL);
}

/* POST /rooms {"name", "public"}: 201 {"name", "public"}, 409 if it exists. */
static void rooms_post(struct admin_req *r)
{
	const char *name = field_string(r, "name");
	struct json_object *v;
	int is_public = 0, e;
	char err[ERR_LEN];

	if (!name)
		return;
	if (json_object_object_get_ex(r->body, "public", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			http_error(r->c->resp, 400, "bad_request", "\"public\" must be true or false");
			return;
		}
		is_public = json_object_get_boolean(v);
	}
	if (!store_name_ok(name)) {
		http_error(r->c->resp, 400, "bad_request", "invalid room name '%s'", name);
		return;
	}
	e = store_room_add(r->c->app->store, name, is_public, err);
	if (e < 0)
		http_error(r->c->resp, 500, "internal", "%s", err);
	else if (!e)
		http_error(r->c->resp, 409, "conflict", "room '%s' already exists", name);
	else
		created(r, "name", json_object_new_string(name), "public", json_object_new_boolean(is_public));
}

/*
 * Add or remove a membership, as bookpics-admin member add/remove: the user
 * and a private room must exist; live connections are told (the relay
 * follows the user's rooms).
 */
static void member_change(struct admin_req *r, const char *user, const char *room, int add)
{
	struct route_ctx *c = r->c;
	char err[ERR_LEN];
	int e;

	if (user_known(r, user) <= 0 || room_known(r, room) <= 0)
		return;
	if (c->info.is_public) {
		http_error(c->resp, 409, "conflict", "room '%s' is public: everyone reads it", room);
		return;
	}
	e = add ? store_member_add(c->app->store, user, room, err)
		: store_member_remove(c->app->store, user, room, err);
	if (e < 0) {
		http_error(c->resp, 500, "internal", "%s", err);
		return;
	}
	if (!e) {
		if (add)
			http_error(c->resp, 409, "conflict", "'%s' is already a member of '%s'", user, room);
		else
			http_error(c->resp, 404, "not_found", "'%s' is not a member of '%s'", user, room);
		return;
	}
	fifo_notify_user(c->app->conf.var, user);
	if (add)
		created(r, "user", json_object_new_string(user), "room", json_object_new_string(room));
	else
		http_no_content(c->resp);
}

/* POST /members {"user", "room"}: 201 {"user", "room"}. */
static void members_post(struct admin_req *r)
{
	const char *user = field_string(r, "user"), *room = user ? field_string(r, "room") : NULL;

	if (room)
		member_change(r, user, room, 1);
}

/* DELETE /members/{user}/{room}: 204. */
static void member_delete(struct admin_req *r)
{
	member_change(r, r->seg[1], r->seg[2], 0);
}

/* POST /tokens {"user", "ttl"}: 201 {"token", "expires"} (ISO-8601 UTC). */
static void tokens_post(struct admin_req *r)
{
	const char *user = field_string(r, "user");
	char token[TOKEN_MAX], err[ERR_LEN], when[32];
	int64_t ttl = TTL_DEFAULT;
	struct json_object *v;
	time_t expires;
	struct tm tm;

	if (!user)
		return;
	if (json_object_object_get_ex(r->body, "ttl", &v)) {
		ttl = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || ttl < 1 || ttl > TTL_MAX) {
			http_error(r->c->resp, 400, "bad_request",
				   "\"ttl\" must be 1..%lld seconds", (long long)TTL_MAX);
			return;
		}
	}
	if (user_known(r, user) <= 0)
		return;
	expires = time(NULL) + (time_t)ttl;
	if (token_mint_issued(r->c->app->conf.token_secret, user, store_now_us(), expires, token, err)) {
		http_error(r->c->resp, 500, "internal", "%s", err);
		return;
	}
	gmtime_r(&expires, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	created(r, "token", json_object_new_string(token), "expires", json_object_new_string(when));
}

/*
 * POST /users/{id}/revoke: 204; every token issued before now is refused
 * from now on (app_token_user), and the relay is told to close the user's
 * live connections (4403), as `bookpics-admin token revoke` does.
 */
static void user_revoke(struct admin_req *r)
{
	char err[ERR_LEN];
	int e = store_user_revoke(r->c->app->store, r->seg[1], store_now_us(), err);

	if (e < 0)
		http_error(r->c->resp, 500, "internal", "%s", err);
	else if (!e)
		http_error(r->c->resp, 404, "not_found", "no such user '%s'", r->seg[1]);
	else {
		fifo_notify_revoke(r->c->app->conf.var, r->seg[1]);
		http_no_content(r->c->resp);
	}
}

/*
 * POST /rooms/{room}/messages {"userId", "chatMessage", "messageType"}:
 * sent as userId, with a member's checks (lib/chat.h); 201 {"room", "index"}.
 * An Idempotency-Key is userId's, as api.c's is the member's own.
 */
static void messages_post(struct admin_req *r)
{
	static const int status[] = {
		[CHAT_BAD_REQUEST] = 400, [CHAT_NOT_FOUND] = 404,
		[CHAT_NOT_MEMBER] = 403, [CHAT_ERROR] = 500, [CHAT_KEY_REUSED] = 422,
	};
	struct route_ctx *c = r->c;
	const char *user = field_string(r, "userId"), *text = NULL, *type = NULL;
	const char *key = http_param(c->req, "HTTP_IDEMPOTENCY_KEY");
	enum chat_result e;
	char err[ERR_LEN];
	uint64_t index;
	int replayed = 0;

	if (!user || user_known(r, user) <= 0)
		return;
	e = chat_check(c->app->store, user, r->seg[1], err);
	if (e == CHAT_OK && key && !chat_key_ok(key)) {
		err_set(err, "Idempotency-Key must be 1 to %d of A-Z a-z 0-9 . _ : -", CHAT_KEY_MAX);
		e = CHAT_BAD_REQUEST;
	}
	if (e == CHAT_OK)
		e = chat_fields(r->body, &text, &type, err);
	if (e == CHAT_OK)
		e = chat_store(c->app->store, user, r->seg[1], type, text, key, &index, &replayed,
			       err);
	if (e == CHAT_ERROR && (store_full(c->app->store) || store_unavailable(c->app->store))) {
		/* the disk, or the group (no master, no acks): retry later, as api.c */
		http_header(c->resp, store_full(c->app->store) ? "Retry-After: 10" : "Retry-After: 1");
		http_error(c->resp, 503, "unavailable", "%s", err);
		return;
	}
	if (e != CHAT_OK) {
		http_error(c->resp, status[e], chat_code(e), "%s", err);
		return;
	}
	if (replayed)
		http_header(c->resp, "Idempotent-Replayed: true");	/* as api.c */
	else
		fifo_notify_message(c->app->conf.var, r->seg[1], index);	/* the relay's followers */
	created(r, "room", json_object_new_string(r->seg[1]), "index", json_object_new_int64((int64_t)index));
}

/* GET /rooms/{room}/presence: the public presence, whoever the room's readers are. */
static void presence_get(struct admin_req *r)
{
	if (room_known(r, r->seg[1]) > 0)
		route_presence(r->c);
}

struct admin_route {
	const char *method;
	const char *pattern;	/* segments; "*" takes any */
	int body;		/* takes a JSON object body */
	void (*fn)(struct admin_req *r);
};

static const struct admin_route routes[] = {
	{ "POST", "users", 1, users_post },
	{ "POST", "users/*/revoke", 0, user_revoke },
	{ "POST", "rooms", 1, rooms_post },
	{ "POST", "rooms/*/messages", 1, messages_post },
	{ "GET", "rooms/*/presence", 0, presence_get },
	{ "POST", "members", 1, members_post },
	{ "DELETE", "members/*/*", 0, member_delete },
	{ "POST", "tokens", 1, tokens_post },
};

/* Do r's segments fit pattern? 1 or 0. */
static int pattern_matches(const struct admin_req *r, const char *pattern)
{
	size_t i = 0, n;
	const char *p = pattern;

	for (;;) {
		n = strcspn(p, "/");
		if (i == r->nseg)
			return 0;
		if (!(n == 1 && *p == '*') && (strlen(r->seg[i]) != n || strncmp(r->seg[i], p, n)))
			return 0;
		i++;
		p += n;
		if (!*p)
			return i == r->nseg;
		p++;
	}
}

void admin_api(struct route_ctx *c)
{
	struct admin_req r = { .c = c };
	const struct admin_route *match = NULL;
	int path_known = 0;
	size_t i;

	if (!authorized(c)) {
		http_header(c->resp, "WWW-Authenticate: Bearer realm=\"bookpics-admin\"");
		http_error(c->resp, 401, "unauthorized", "the server API needs 'Authorization: Bearer ADMIN_TOKEN'");
		return;
	}
	if (!split_path(&r, c->req->path + strlen(PREFIX)))
		for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
			if (!pattern_matches(&r, routes[i].pattern))
				continue;
			path_known = 1;
			if (!strcmp(routes[i].method, c->req->method))
				match = &routes[i];
		}
	if (!path_known) {
		http_error(c->resp, 404, "not_found", "no such resource: %s", c->req->path);
		return;
	}
	if (!match) {
		http_error(c->resp, 405, "method_not_allowed", "%s is not allowed here", c->req->method);
		return;
	}
	if (match->body && body_object(&r))
		goto out;
	match->fn(&r);
out:
	json_object_put(r.body);
}
