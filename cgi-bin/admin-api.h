/* admin-api.h - the server API under /api/admin/: what a site's backend does with admin_token (admin-api.c). */
#ifndef BP_ADMIN_API_H
#define BP_ADMIN_API_H

#include "route.h"

/* Is path the server API's: /api/admin or under /api/admin/? 1 or 0. */
int admin_api_path(const char *path);

/*
 * Answer a server API request (admin_api_path(c->req->path), c->app ready,
 * c->app->conf.admin_token not empty: an empty one means no server API,
 * which is the caller's 404). First `Authorization: Bearer ADMIN_TOKEN`,
 * compared in constant time (401 otherwise, whatever the path), then the
 * route: users, rooms, members, tokens, revocation, messages, presence
 * (docs/API.md), through the same lib/store calls as bookpics-admin. JSON
 * in and out, errors {"error", "message"}; bad input changes nothing.
 * Never fails: every outcome is a response in c->resp.
 */
void admin_api(struct route_ctx *c);

#endif
