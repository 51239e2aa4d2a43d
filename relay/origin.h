/* origin.h - may a page from this Origin open a token connection (docs/PROTOCOL.md, "Origin"). */
#ifndef BP_ORIGIN_H
#define BP_ORIGIN_H

/*
 * Cross-site WebSocket hijacking: a browser sends a page's cookies and
 * anything else ambient with a WebSocket upgrade from any site, and the
 * WebSocket itself has no same-origin rule. bookpics tokens are not
 * ambient (the page puts them in the URL), but a page that holds one, or
 * a token pasted into a link, must still not be usable from any site: a
 * token connection is only admitted from the site's own pages and the
 * origins the operator listed. The browser's Origin header is the one
 * thing a page cannot forge; clients that are not browsers send none.
 *
 * origin_allowed: 1 when origin (the Origin header's value; NULL when the
 * header is absent) may open a token connection, else 0. Allowed: no
 * header at all; the origin of public_url (conf public_url, scheme and
 * host compared without case, a default port :80/:443 optional on either
 * side); or one of list (conf ws_origins: comma/space separated origins,
 * validated lowercase by lib/conf.c), byte for byte as http_cors compares
 * cors_origins. "null" (a sandboxed or file: page) is never allowed.
 * Pure: no allocation, no failure.
 */
int origin_allowed(const char *origin, const char *public_url, const char *list);

#endif
