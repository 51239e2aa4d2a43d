/* media.h - GET/HEAD /media/{room}/{index}/{n}: Twilio's media, mirrored under $VAR/media. */
#ifndef BP_MEDIA_H
#define BP_MEDIA_H

#include "route.h"

/*
 * Answer a request whose path starts with /media/ (c->req->path): parse
 * {room}/{index}/{n} itself (404 for anything else), check the room and the
 * reader (route_authenticate, route_may_read), fetch the file on first use and answer
 * with X-Sendfile behind lighttpd (SERVER_SOFTWARE lighttpd/...), with the
 * bytes behind anything else (Apache, plain CGI). Never fails:
 * errors are JSON responses (404, 401/403, 502, 500, 503).
 * Needs c->app ready (app_ready) and c->req/c->resp set; fills the rest.
 */
void media_get(struct route_ctx *c);

#endif
