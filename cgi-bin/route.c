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

/*
 * The connected users who are members of the room. Both lists come sorted,
 * so that is one merge of the connected users with the room's members (one
 * read, not one per connected user). A public room has no members and is
 * read by anyone, and the store does not know which rooms a connection
 * follows: listing every connected user there would tell the world who is
 * online anywhere. So a public room lists only the asker (a Bearer token)
 * when connected: that tells nobody anything about anyone else, and lets a
 * client see its own other connection (clients/js's duplicate_connection
 * probe).
 */
void route_presence(struct route_ctx *c)
{
	struct json_object *o, *arr;
	char **users = NULL, **members = NULL, err[ERR_LEN];
	size_t n = 0, m = 0, i, j = 0;

	if (store_conn_users(c->app->store, &users, &n, err) ||
	    store_room_members(c->app->store, c->room, &members, &m, err)) {
		http_error(c->resp, 500, "internal", "%s", err);
		goto out;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(o, "room", json_object_new_string(c->room));
	for (i = 0; i < n; i++) {
		if (!users[i][0] || (i && !strcmp(users[i], users[i - 1])))
			continue;	/* anonymous, or a second connection */
		while (j < m && strcmp(members[j], users[i]) < 0)
			j++;
		if ((j < m && !strcmp(members[j], users[i])) ||
		    (c->info.is_public && !strcmp(users[i], c->user)))
			json_object_array_add(arr, json_object_new_string(users[i]));
	}
	json_object_object_add(o, "users", arr);
	http_json(c->resp, 200, o);
	json_object_put(o);
out:
	store_strings_free(users, n);
	store_strings_free(members, m);
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
