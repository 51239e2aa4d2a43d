/* form.h - application/x-www-form-urlencoded decoding (WHATWG rules). */
#ifndef BP_FORM_H
#define BP_FORM_H

#include <stddef.h>

struct form_pair {
	const char *name;	/* decoded, NUL-terminated, owned by the form */
	const char *value;
};

struct form {
	struct form_pair *pairs;	/* in the order received */
	size_t n;
	char *buf;			/* backing storage of every name and value */
};

/*
 * Decode body (len bytes, need not be NUL-terminated) into f: split on '&'
 * (empty pieces skipped), name and value split at the first '=' (a piece
 * without '=' is a name with an empty value), '+' is a space, %XX is a byte,
 * and a '%' not followed by two hex digits stays a literal '%' (as browsers
 * do). Repeated names are kept, in order. A decoded NUL byte is refused.
 * Returns 0, or -1 with err filled and f empty. form_free(f) afterwards.
 */
int form_parse(struct form *f, const char *body, size_t len, char *err);

/* First value of name, or NULL. The pointer lives as long as f. */
const char *form_get(const struct form *f, const char *name);

/* Release f's storage; safe on a zeroed or already freed form. */
void form_free(struct form *f);

#endif
