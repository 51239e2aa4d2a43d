/* origin.c - the Origin rule for token connections: the site's own origin and ws_origins. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "origin.h"

/*
 * An origin "scheme://host[:port]" split at len bytes of s: scheme length,
 * host, port text (NULL: none given). 0 when s is not one.
 */
struct origin_parts {
	const char *scheme, *host, *port;
	size_t scheme_len, host_len, port_len;
};

static int split(const char *s, size_t len, struct origin_parts *p)
{
	const char *sep = memmem(s, len, "://", 3), *end = s + len, *colon = NULL, *q;

	if (!sep || sep == s)
		return 0;
	p->scheme = s;
	p->scheme_len = (size_t)(sep - s);
	p->host = sep + 3;
	/* a [v6] literal holds colons of its own */
	q = p->host < end && *p->host == '[' ? memchr(p->host, ']', (size_t)(end - p->host)) : p->host;
	if (!q)
		return 0;
	for (; q < end; q++)
		if (*q == ':')
			colon = q;
	p->host_len = (size_t)((colon ? colon : end) - p->host);
	p->port = colon ? colon + 1 : NULL;
	p->port_len = colon ? (size_t)(end - colon - 1) : 0;
	return p->host_len > 0;
}

/* The port of p as text, the scheme's default when none is given. */
static void port_of(const struct origin_parts *p, const char **port, size_t *len)
{
	if (p->port) {
		*port = p->port;
		*len = p->port_len;
	} else if (p->scheme_len == 5 && !strncasecmp(p->scheme, "https", 5)) {
		*port = "443";
		*len = 3;
	} else {
		*port = "80";
		*len = 2;
	}
}

/* Is origin the origin of url (scheme://authority/...)? */
static int same_origin(const char *origin, const char *url)
{
	const char *sep = strstr(url, "://"), *aend, *pa, *pb;
	struct origin_parts a, b;
	size_t la, lb;

	if (!sep)
		return 0;
	aend = sep + 3 + strcspn(sep + 3, "/?#");
	if (!split(origin, strlen(origin), &a) || !split(url, (size_t)(aend - url), &b))
		return 0;
	port_of(&a, &pa, &la);
	port_of(&b, &pb, &lb);
	return a.scheme_len == b.scheme_len && !strncasecmp(a.scheme, b.scheme, a.scheme_len) &&
	       a.host_len == b.host_len && !strncasecmp(a.host, b.host, a.host_len) &&
	       la == lb && !memcmp(pa, pb, la);
}

/* Is origin one of the comma/space separated list? Exact bytes. */
static int listed(const char *list, const char *origin)
{
	size_t n, olen = strlen(origin);

	while (*list) {
		list += strspn(list, ", \t");
		n = strcspn(list, ", \t");
		if (n && n == olen && !memcmp(list, origin, n))
			return 1;
		list += n;
	}
	return 0;
}

int origin_allowed(const char *origin, const char *public_url, const char *list)
{
	if (!origin)
		return 1;	/* not a browser: nothing to hijack */
	if (!strcmp(origin, "null"))
		return 0;
	return same_origin(origin, public_url) || listed(list, origin);
}
