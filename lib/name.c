/* name.c - the id rule shared by the store, tokens, the FIFO and the conf. */
#include <ctype.h>
#include <stddef.h>

#include "name.h"

int name_ok(const char *name)
{
	size_t n = 0;

	if (!name)
		return 0;
	for (; name[n]; n++)
		if (!isalnum((unsigned char)name[n]) && name[n] != '-' && name[n] != '_')
			return 0;
	return n >= 1 && n <= NAME_LEN_MAX;
}
