/* http.c - FastCGI (or CGI) request loop and response helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "http.h"
#include "msg.h"

extern char **environ;

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

const char *http_param(const struct http_req *req, const char *name)
{
	size_t n = strlen(name);
	char **e;

	for (e = req->envp; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

void http_body(struct http_resp *resp, int status, const char *ctype,
	       const char *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	snprintf(resp->ctype, sizeof(resp->ctype), "%s", ctype);
	resp->body = malloc(len + 1);
	resp->len = resp->body ? len : 0;
	if (resp->body) {
		memcpy(resp->body, body, len);
		resp->body[len] = '\0';
	}
}

void http_json(struct http_resp *resp, int status, struct json_object *obj)
{
	size_t len;
	const char *text = msg_json_text(obj, &len);

	http_body(resp, status, "application/json", text, len);
}

void http_error(struct http_resp *resp, int status, const char *code,
		const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(message));
	http_json(resp, status, o);
	json_object_put(o);
}

void http_header(struct http_resp *resp, const char *fmt, ...)
{
	size_t used = strlen(resp->headers);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(resp->headers + used, sizeof(resp->headers) - used, fmt, ap);
	va_end(ap);
	used = strlen(resp->headers);
	if (used + 3 <= sizeof(resp->headers))
		strcat(resp->headers, "\r\n");
}

void http_no_content(struct http_resp *resp)
{
	http_body(resp, 204, "", "", 0);
}

/* Is origin one of the comma/space separated list? Exact bytes. */
static int origin_listed(const char *list, const char *origin)
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

int http_cors(const struct http_req *req, struct http_resp *resp, const char *allowed)
{
	const char *origin = http_param(req, "HTTP_ORIGIN");
	int listed = origin && *origin && origin_listed(allowed, origin);

	if (*allowed)
		http_header(resp, "Vary: Origin");
	if (listed)
		http_header(resp, "Access-Control-Allow-Origin: %s", origin);
	if (strcmp(req->method, "OPTIONS"))
		return 0;
	if (listed) {
		http_header(resp, "Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS");
		http_header(resp, "Access-Control-Allow-Headers: Authorization, Content-Type, Idempotency-Key");
		/* Chromium's ceiling: a longer time would be cut to it anyway */
		http_header(resp, "Access-Control-Max-Age: 7200");
	}
	http_no_content(resp);
	return 1;
}

int http_query_get(const char *query, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name), vlen;
	const char *p = query;

	while (p && *p) {
		if (!strncmp(p, name, n) && p[n] == '=') {
			p += n + 1;
			vlen = strcspn(p, "&");
			if (vlen >= len)
				vlen = len - 1;
			memcpy(buf, p, vlen);
			buf[vlen] = '\0';
			return 1;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return 0;
}

/* Fill req from envp; path is the URI before '?'. */
static void req_init(struct http_req *req, char **envp)
{
	const char *q;
	size_t n;

	memset(req, 0, sizeof(*req));
	req->envp = envp;
	req->method = http_param(req, "REQUEST_METHOD");
	req->uri = http_param(req, "REQUEST_URI");
	req->query = http_param(req, "QUERY_STRING");
	req->content_type = http_param(req, "CONTENT_TYPE");
	req->authorization = http_param(req, "HTTP_AUTHORIZATION");
	if (!req->method)
		req->method = "GET";
	if (!req->uri)
		req->uri = "/";
	if (!req->query)
		req->query = "";
	q = strchr(req->uri, '?');
	n = q ? (size_t)(q - req->uri) : strlen(req->uri);
	if (n >= sizeof(req->path))
		n = sizeof(req->path) - 1;
	memcpy(req->path, req->uri, n);
	req->path[n] = '\0';
}

/* Content length: -1 absent or malformed. */
static long content_length(const struct http_req *req)
{
	const char *cl = http_param(req, "CONTENT_LENGTH");
	char *end;
	long n;

	if (!cl || !*cl)
		return 0;
	n = strtol(cl, &end, 10);
	return (*end || n < 0) ? -1 : n;
}

static void resp_text(const struct http_resp *resp, char *head, size_t len)
{
	if (resp->status == 204) {	/* RFC 9110: no body, so no Content-* at all */
		snprintf(head, len, "Status: 204 %s\r\n%s\r\n", reason(204), resp->headers);
		return;
	}
	snprintf(head, len, "Status: %d %s\r\nContent-Type: %s\r\n"
		 "Content-Length: %zu\r\n%s\r\n", resp->status,
		 reason(resp->status), resp->ctype, resp->len, resp->headers);
}

/* Read the body (CONTENT_LENGTH bytes) with read_fn; 413 if too long. */
static void handle(http_handler handler, void *ctx, struct http_req *req,
		   struct http_resp *resp, size_t max_body,
		   size_t (*read_fn)(char *buf, size_t n, void *src), void *src)
{
	long len = content_length(req);

	memset(resp, 0, sizeof(*resp));
	if (len < 0) {
		http_error(resp, 400, "bad_request", "invalid Content-Length");
		return;
	}
	if ((size_t)len > max_body) {
		http_error(resp, 413, "too_large",
			   "request body of %ld bytes is over the limit of %zu", len, max_body);
		return;
	}
	req->body = malloc((size_t)len + 1);
	if (!req->body) {
		http_error(resp, 500, "internal", "out of memory");
		return;
	}
	req->body_len = read_fn(req->body, (size_t)len, src);
	req->body[req->body_len] = '\0';
	if (req->body_len != (size_t)len) {
		http_error(resp, 400, "bad_request", "request body shorter than Content-Length");
		return;
	}
	handler(req, resp, ctx);
	if (!resp->status)
		http_error(resp, 500, "internal", "no response");
}

static size_t fcgi_read(char *buf, size_t n, void *src)
{
	size_t got = 0;
	int r;

	while (got < n) {
		r = FCGX_GetStr(buf + got, (int)(n - got), src);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static size_t stdin_read(char *buf, size_t n, void *src)
{
	(void)src;
	return fread(buf, 1, n, stdin);
}

int http_serve(http_handler handler, void *ctx, size_t max_body)
{
	struct http_req req;
	struct http_resp resp;
	FCGX_Request r;
	char head[2048];

	if (FCGX_IsCGI()) {
		req_init(&req, environ);
		handle(handler, ctx, &req, &resp, max_body, stdin_read, NULL);
		resp_text(&resp, head, sizeof(head));
		fputs(head, stdout);
		fwrite(resp.body, 1, resp.len, stdout);
		/* closed, so the server has the whole answer before resp.after */
		fclose(stdout);
		free(req.body);
		free(resp.body);
		if (resp.after)
			resp.after(resp.after_arg);
		return 0;
	}
	if (FCGX_Init() || FCGX_InitRequest(&r, 0, 0))
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		req_init(&req, r.envp);
		handle(handler, ctx, &req, &resp, max_body, fcgi_read, r.in);
		resp_text(&resp, head, sizeof(head));
		FCGX_PutS(head, r.out);
		FCGX_PutStr(resp.body, (int)resp.len, r.out);
		FCGX_Finish_r(&r);	/* the answer is the web server's now */
		free(req.body);
		free(resp.body);
		if (resp.after)
			resp.after(resp.after_arg);
	}
	return 0;
}
