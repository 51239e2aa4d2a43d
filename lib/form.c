/* form.c - application/x-www-form-urlencoded decoding. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "form.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode src[0..len) into dst (at least len+1 bytes); -1 on a decoded NUL. */
static int decode(char *dst, const char *src, size_t len)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		char c = src[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < len &&
			   (hi = hexval((unsigned char)src[i + 1])) >= 0 &&
			   (lo = hexval((unsigned char)src[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return -1;
		*dst++ = c;
	}
	*dst = '\0';
	return 0;
}

int form_parse(struct form *f, const char *body, size_t len, char *err)
{
	size_t pieces = 1, i, start, end, eq;
	char *out;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < len; i++)
		if (body[i] == '&')
			pieces++;
	f->pairs = calloc(pieces, sizeof(*f->pairs));
	f->buf = malloc(len + 2 * pieces + 1);
	if (!f->pairs || !f->buf) {
		form_free(f);
		return err_set(err, "form: out of memory");
	}
	out = f->buf;
	for (start = 0; start <= len; start = end + 1) {
		const char *name, *value;

		end = start;
		while (end < len && body[end] != '&')
			end++;
		if (end == start)
			continue;
		eq = start;
		while (eq < end && body[eq] != '=')
			eq++;
		name = out;
		if (decode(out, body + start, eq - start))
			goto nul;
		out += strlen(out) + 1;
		value = out;
		if (decode(out, body + eq + (eq < end), end - eq - (eq < end)))
			goto nul;
		out += strlen(out) + 1;
		f->pairs[f->n].name = name;
		f->pairs[f->n].value = value;
		f->n++;
	}
	return 0;
nul:
	form_free(f);
	return err_set(err, "form: a field holds a NUL byte (%%00)");
}

const char *form_get(const struct form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->pairs[i].name, name))
			return f->pairs[i].value;
	return NULL;
}

void form_free(struct form *f)
{
	free(f->pairs);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}
