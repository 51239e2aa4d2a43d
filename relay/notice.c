/* notice.c - line reader for the relay's FIFO: hints, never the truth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "notice.h"

/* Copy the next space-delimited word of line into out; 0 or -1 if too long. */
static int word(const char **p, const char *end, char *out, size_t outlen)
{
	const char *s = *p;
	size_t n;

	while (s < end && *s == ' ')
		s++;
	for (n = 0; s + n < end && s[n] != ' '; n++)
		;
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n;
	return 0;
}

int notice_parse(const char *line, size_t len, struct notice *n, char *err)
{
	const char *p = line, *end = line + len;
	char num[24], *num_end;
	unsigned long long v;

	memset(n, 0, sizeof(*n));
	if (len && line[len - 1] == '\r')
		end--;
	if (end - p < 2 || (p[0] != 'm' && p[0] != 'u') || p[1] != ' ')
		return err_set(err, "unknown notice");
	n->kind = p[0];
	p += 2;
	if (word(&p, end, n->name, sizeof(n->name)) || !store_name_ok(n->name))
		return err_set(err, "bad name");
	if (n->kind == 'm') {
		if (word(&p, end, num, sizeof(num)) || num[0] < '0' || num[0] > '9')
			return err_set(err, "bad index");
		errno = 0;
		v = strtoull(num, &num_end, 10);
		if (errno || *num_end || v == 0)
			return err_set(err, "bad index");
		n->index = v;
	}
	while (p < end && *p == ' ')
		p++;
	if (p != end)
		return err_set(err, "trailing bytes");
	return 0;
}

/* Hand the complete lines in data to fn, keeping a partial tail in r. */
static void feed(struct notice_reader *r, const char *data, size_t len,
		 notice_fn fn, void *ctx)
{
	const char *nl, *end = data + len;
	struct notice n;
	char err[ERR_LEN];
	size_t take;

	while (data < end) {
		nl = memchr(data, '\n', (size_t)(end - data));
		take = (size_t)((nl ? nl : end) - data);
		if (r->skipping) {
			/* the rest of an overlong line */
		} else if (r->len + take >= sizeof(r->buf)) {
			r->skipping = 1;
			r->len = 0;
			fn(ctx, NULL, "line too long");
		} else {
			memcpy(r->buf + r->len, data, take);
			r->len += take;
		}
		if (!nl)
			return;		/* partial line: wait for the rest */
		if (!r->skipping) {
			if (notice_parse(r->buf, r->len, &n, err))
				fn(ctx, NULL, err);
			else
				fn(ctx, &n, NULL);
		}
		r->skipping = 0;
		r->len = 0;
		data = nl + 1;
	}
}

int notice_read(struct notice_reader *r, int fd, notice_fn fn, void *ctx, char *err)
{
	char buf[4096];
	ssize_t got;
	int reads;

	/*
	 * A bounded number of reads per call, so a flooding writer cannot
	 * starve the connections: poll() reports the rest at once.
	 */
	for (reads = 0; reads < 64; reads++) {
		got = read(fd, buf, sizeof(buf));
		if (got > 0) {
			feed(r, buf, (size_t)got, fn, ctx);
			continue;
		}
		if (got == 0)
			return err_set(err, "read fifo: end of file");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return err_set(err, "read fifo: %s", strerror(errno));
	}
	return 0;
}
