/* route.c - the access checks every api.fcgi route shares: who is asking, may they read the room. */
#include <string.h>

#include "app.h"
#include "err.h"
#include "http.h"
#include "route.h"

int route_authenticate(struct route_ctx *c)
{
	const char *h = c->req->authorization;
	char err[ERR_LEN];

	c->user[0] = '\0';
	if (!h)
		return 0;
	if (strncmp(h, "Bearer ", 7)) {
		http_error(c->resp, 401, "unauthorized", "Authorization must be 'Bearer TOKEN'");
		return -1;
	}
	switch (app_token_user(c->app, h + 7, c->user, err)) {
	case APP_TOKEN_USER:
		return 0;
	case APP_TOKEN_REJECTED:
		http_error(c->resp, 401, "unauthorized", "%s", err);
		return -1;
	case APP_TOKEN_STORE_FAILED:
		break;
	}
	/* as before the helper: a store that cannot answer admits nobody */
	http_error(c->resp, 401, "unauthorized", "unknown user");
	return -1;
}

int route_may_read(struct route_ctx *c)
{
	char err[ERR_LEN];
	int r;

	if (c->info.is_public)
		return 1;
	if (!c->user[0]) {
		http_error(c->resp, 401, "unauthorized", "room '%s' is private: a Bearer token is required", c->room);
		return 0;
	}
	r = store_is_member(c->app->store, c->user, c->room, err);
	if (r < 0) {
		http_error(c->resp, 500, "internal", "%s", err);
		return 0;
	}
	if (!r)
		http_error(c->resp, 403, "not_member", "user '%s' is not a member of '%s'", c->user, c->room);
	return r;
}

int route_may_moderate(struct route_ctx *c)
{
	char err[ERR_LEN];
	int r;

	if (!c->user[0]) {
		http_error(c->resp, 401, "unauthorized", "a moderator's Bearer token is required");
		return 0;
	}
	r = store_is_moderator(c->app->store, c->user, c->room, err);
	if (r < 0) {
		http_error(c->resp, 500, "internal", "%s", err);
		return 0;
	}
	if (!r)
		http_error(c->resp, 403, "not_moderator", "user '%s' is not a moderator of '%s'",
			   c->user, c->room);
	return r;
}
