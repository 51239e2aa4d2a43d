/* http.h - the FastCGI request loop and responses shared by the cgi-bin programs. */
#ifndef BP_HTTP_H
#define BP_HTTP_H

#include <stddef.h>

#include <json-c/json.h>

struct http_req {
	const char *method;	/* REQUEST_METHOD */
	const char *uri;	/* REQUEST_URI: path and query as received */
	char path[1024];	/* uri up to '?' */
	const char *query;	/* QUERY_STRING ("" if none) */
	const char *content_type;
	const char *authorization;	/* HTTP_AUTHORIZATION or NULL */
	char **envp;		/* every CGI variable; valid for this request */
	char *body;		/* NUL-terminated copy of the body */
	size_t body_len;
};

struct http_resp {
	int status;
	char ctype[64];
	char headers[1024];	/* extra header lines, each ending in \r\n */
	char *body;		/* malloc'd, owned by the response */
	size_t len;
	/*
	 * Work for after the answer: http_serve calls after(after_arg) once
	 * the response is complete and handed to the web server (FastCGI:
	 * FCGX_Finish_r; CGI: stdout closed), before the next request.
	 * Whatever it uses must outlive the handler. NULL: none.
	 */
	void (*after)(void *arg);
	void *after_arg;
};

/* Handle one request: fill resp. Never fails: errors are responses. */
typedef void (*http_handler)(struct http_req *req, struct http_resp *resp, void *ctx);

/*
 * Serve requests forever with handler: as a FastCGI responder on fd 0, or,
 * when started as plain CGI (FCGX_IsCGI), the one request in the
 * environment and stdin. Bodies longer than max_body are answered 413
 * without being read. Returns the process exit status.
 */
int http_serve(http_handler handler, void *ctx, size_t max_body);

/* A variable of the request, or NULL. */
const char *http_param(const struct http_req *req, const char *name);

/* Set resp to status with a copy of body (len bytes) of content type ctype. */
void http_body(struct http_resp *resp, int status, const char *ctype,
	       const char *body, size_t len);

/* Set resp to status with the JSON text of obj (obj is not released). */
void http_json(struct http_resp *resp, int status, struct json_object *obj);

/*
 * Set resp to status with {"error": code, "message": printf(fmt, ...)}.
 */
void http_error(struct http_resp *resp, int status, const char *code,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Append one header line ("Name: value", no CRLF) to resp. */
void http_header(struct http_resp *resp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Set resp to 204 No Content: no body, no Content-Type. */
void http_no_content(struct http_resp *resp);

/*
 * Cross-origin requests (CORS), for every route of a program in one call
 * before routing. allowed is a comma/space separated list of origins
 * (conf cors_origins, checked there). A request whose Origin header is
 * byte for byte one of them gets Access-Control-Allow-Origin: ORIGIN;
 * with a non-empty list every response gets Vary: Origin (a cache must
 * not hand one origin's answer to another). Credentials are never allowed
 * (no Access-Control-Allow-Credentials): the API takes Bearer tokens, not
 * cookies. An OPTIONS request is answered here, 204: from a listed origin
 * with Access-Control-Allow-Methods, -Headers and -Max-Age as well; from
 * any other origin (or none) without CORS headers, which a browser takes
 * as a refusal. Returns 1 if resp is answered (OPTIONS), 0 to go on.
 */
int http_cors(const struct http_req *req, struct http_resp *resp, const char *allowed);

/*
 * The value of name in a query string (first occurrence, not decoded:
 * bookpics' query values are numbers and tokens) into buf. 1 found, 0 not.
 */
int http_query_get(const char *query, const char *name, char *buf, size_t len);

#endif
