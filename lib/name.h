/* name.h - the one rule for room, user and connection ids. */
#ifndef BP_NAME_H
#define BP_NAME_H

/*
 * The longest id in bytes. Ids become Berkeley DB keys, FIFO lines, JSON
 * strings and path components (media): the rule keeps all of those safe
 * without escaping, so it is the same everywhere.
 */
#define NAME_LEN_MAX 64

/*
 * Is name a valid id: 1..NAME_LEN_MAX bytes of [A-Za-z0-9_-]? NULL is not.
 * Returns 1 or 0; never fails.
 */
int name_ok(const char *name);

#endif
