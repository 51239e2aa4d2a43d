/* api.c - /api/...: health, message pages, sending, presence (FastCGI). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin-api.h"
#include "app.h"
#include "chat.h"
#include "err.h"
#include "fifo.h"
#include "http.h"
#include "media.h"
#include "msg.h"
#include "route.h"

#define API_MAX_BODY (16 * 1024)
#define PAGE_DEFAULT 50
#define PAGE_MAX 500

static void health(struct route_ctx *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "relay", json_object_new_boolean(fifo_has_reader(c->app->conf.var)));
	json_object_object_add(o, "twilio_room", json_object_new_string(c->app->conf.twilio_room));
	http_json(c->resp, 200, o);
	json_object_put(o);
}

/* Parse a query number: 1 found (*v set), 0 absent, -1 malformed (400 sent). */
static int query_number(struct route_ctx *c, const char *name, uint64_t *v)
{
	char buf[32], *end;
	unsigned long long n;

	if (!http_query_get(c->req->query, name, buf, sizeof(buf)))
		return 0;
	errno = 0;
	n = strtoull(buf, &end, 10);
	if (!buf[0] || *end || errno || buf[0] == '-' || buf[0] == '+') {
		http_error(c->resp, 400, "bad_request", "%s must be a non-negative integer", name);
		return -1;
	}
	*v = n;
	return 1;
}

static void messages_get(struct route_ctx *c)
{
	struct json_object *o, *arr, *m;
	struct store_msg *msgs = NULL;
	uint64_t after = 0, before = 0, limit = PAGE_DEFAULT;
	int has_after, has_before, has_limit;
	char err[ERR_LEN];
	size_t n = 0, i;

	if (!route_may_read(c))
		return;
	if ((has_after = query_number(c, "after", &after)) < 0 ||
	    (has_before = query_number(c, "before", &before)) < 0 ||
	    (has_limit = query_number(c, "limit", &limit)) < 0)
		return;
	if (has_after && has_before) {
		http_error(c->resp, 400, "bad_request", "use after or before, not both");
		return;
	}
	if (has_limit && limit == 0) {
		http_error(c->resp, 400, "bad_request", "limit must be at least 1");
		return;
	}
	if (limit > PAGE_MAX)
		limit = PAGE_MAX;
	/* before=0 asks for nothing below 1: an empty page */
	if (!(has_before && before == 0) &&
	    store_messages(c->app->store, c->room,
			   has_after ? STORE_ASC : STORE_DESC,
			   has_after ? after : before, limit, &msgs, &n, err)) {
		http_error(c->resp, 500, "internal", "%s", err);
		return;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(o, "room", json_object_new_string(c->room));
	json_object_object_add(o, "last", json_object_new_int64((int64_t)c->info.last));
	for (i = 0; i < n; i++) {
		m = msg_public(c->room, msgs[i].index, msgs[i].record, NULL, err);
		if (m)
			json_object_array_add(arr, m);
	}
	json_object_object_add(o, "messages", arr);
	http_json(c->resp, 200, o);
	json_object_put(o);
	store_msgs_free(msgs, n);
}

/*
 * Validate and store a message a member sends, the same way the relay does
 * for sendMessage (lib/chat.h); 201 {"room","index"}.
 */
static void messages_post(struct route_ctx *c)
{
	static const int status[] = {
		[CHAT_BAD_REQUEST] = 400, [CHAT_NOT_FOUND] = 404,
		[CHAT_NOT_MEMBER] = 403, [CHAT_ERROR] = 500,
	};
	struct json_object *body = NULL, *o;
	const char *text = NULL, *type = NULL;
	enum chat_result r;
	char err[ERR_LEN];
	uint64_t index;

	if (!c->user[0]) {
		http_error(c->resp, 401, "unauthorized", "a Bearer token is required to send");
		return;
	}
	/* membership first: a non-member learns nothing about the body */
	r = chat_check(c->app->store, c->user, c->room, err);
	if (r == CHAT_OK) {
		body = msg_parse_json(c->req->body, c->req->body_len, err);
		r = body ? chat_fields(body, &text, &type, err) : CHAT_BAD_REQUEST;
	}
	if (r == CHAT_OK)
		r = chat_store(c->app->store, c->user, c->room, type, text, &index, err);
	if (r != CHAT_OK) {
		http_error(c->resp, status[r], chat_code(r), "%s", err);
		goto out;
	}
	fifo_notify_message(c->app->conf.var, c->room, index);	/* the relay's followers */
	o = json_object_new_object();
	json_object_object_add(o, "room", json_object_new_string(c->room));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)index));
	http_json(c->resp, 201, o);
	json_object_put(o);
out:
	json_object_put(body);
}

/* Members of the room connected now: route_presence, once the reader may. */
static void presence(struct route_ctx *c)
{
	if (route_may_read(c))
		route_presence(c);
}

struct route {
	const char *method;
	const char *tail;	/* after /api/rooms/{room}; NULL: path */
	const char *path;	/* exact, or a prefix if it ends in '/' */
	void (*fn)(struct route_ctx *c);
};

static const struct route routes[] = {
	{ "GET", NULL, "/api/health", health },
	{ "GET", "/messages", NULL, messages_get },
	{ "POST", "/messages", NULL, messages_post },
	{ "GET", "/presence", NULL, presence },
	{ "GET", NULL, "/media/", media_get },	/* parses the rest itself */
	{ "HEAD", NULL, "/media/", media_get },
};

/* Does path match rpath: exactly, or under it when rpath ends in '/'? */
static int path_matches(const char *rpath, const char *path)
{
	size_t n = strlen(rpath);

	if (n && rpath[n - 1] == '/')
		return !strncmp(rpath, path, n);
	return !strcmp(rpath, path);
}

/* Split /api/rooms/{room}{tail}: room into c->room, returns the tail. */
static const char *room_path(struct route_ctx *c, const char *path)
{
	const char *p = path + strlen("/api/rooms/"), *slash;
	size_t n;

	if (strncmp(path, "/api/rooms/", 11))
		return NULL;
	slash = strchr(p, '/');
	if (!slash)
		return NULL;
	n = (size_t)(slash - p);
	if (n > STORE_NAME_MAX)
		n = STORE_NAME_MAX;	/* an invalid name either way: 404 */
	memcpy(c->room, p, n);
	c->room[n] = '\0';
	return slash;
}

static void api(struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct route_ctx c = { .app = ctx, .req = req, .resp = resp };
	const struct route *rt, *match = NULL;
	const char *tail = room_path(&c, req->path);
	char err[ERR_LEN];
	int path_known = 0, r;
	size_t i;

	if (app_ready(c.app, app_var(NULL), err)) {
		fprintf(stderr, "api: %s\n", err);
		http_error(resp, 503, "unavailable", "store not available");
		return;
	}
	/* no server API without admin_token: 404, OPTIONS included */
	if (admin_api_path(req->path) && !c.app->conf.admin_token[0]) {
		http_error(resp, 404, "not_found", "no such resource: %s", req->path);
		return;
	}
	if (!strncmp(req->path, "/api/", 5) && http_cors(req, resp, c.app->conf.cors_origins))
		return;	/* OPTIONS, answered */
	if (admin_api_path(req->path)) {
		admin_api(&c);
		return;
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		rt = &routes[i];
		if (rt->path ? !path_matches(rt->path, req->path) : (!tail || strcmp(rt->tail, tail)))
			continue;
		path_known = 1;
		if (!strcmp(rt->method, req->method))
			match = rt;
	}
	if (!path_known) {
		http_error(resp, 404, "not_found", "no such resource: %s", req->path);
		return;
	}
	if (!match) {
		http_error(resp, 405, "method_not_allowed", "%s is not allowed here", req->method);
		return;
	}
	if (match->tail) {
		r = store_room_get(c.app->store, c.room, &c.info, err);
		if (r < 0) {
			http_error(resp, 500, "internal", "%s", err);
			return;
		}
		if (!r) {
			http_error(resp, 404, "not_found", "no such room");
			return;
		}
		if (route_authenticate(&c))
			return;
	}
	match->fn(&c);
}

int main(void)
{
	struct app app = { 0 };
	int ret;

	signal(SIGPIPE, SIG_IGN);
	ret = http_serve(api, &app, API_MAX_BODY);
	app_close(&app);
	return ret;
}
