/* route.h - what api.fcgi's route handlers share: the per-request context and the access checks (route.c). */
#ifndef BP_ROUTE_H
#define BP_ROUTE_H

#include "app.h"
#include "http.h"

/* What a route handler gets: the request, the room named in the path. */
struct route_ctx {
	struct app *app;
	struct http_req *req;
	struct http_resp *resp;
	char room[STORE_NAME_MAX + 1];
	struct store_room info;
	char user[STORE_NAME_MAX + 1];	/* "" = anonymous */
	uint64_t id;		/* the number in the path (a message index, a queue id) */
};

/*
 * Who is asking: no Authorization header is anonymous (returns 0); a valid
 * Bearer token of an existing user (app_token_user) fills c->user (0);
 * anything else is answered 401 (returns -1). Needs c->app ready.
 */
int route_authenticate(struct route_ctx *c);

/*
 * May c->user read c->room (c->info filled)? 1 yes; 0 no, and 401/403 (or
 * 500) is already answered.
 */
int route_may_read(struct route_ctx *c);

/*
 * Answer 200 {"room", "users"}: the users connected now who may read
 * c->room (c->info filled): every identified user for a public room, its
 * members for a private one; each once, sorted. Who asks is the caller's
 * check (route_may_read for the public API; the server API asks none).
 */
void route_presence(struct route_ctx *c);

/*
 * Is c->user a moderator of c->room? 1 yes; 0 no, and 401 (no token),
 * 403 (not a moderator) or 500 is already answered.
 */
int route_may_moderate(struct route_ctx *c);

#endif
