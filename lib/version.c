/* version.c - the version string (BOOKPICS_VERSION from the Makefile). */
#include <stdio.h>

#include "store.h"
#include "version.h"

#ifndef BOOKPICS_VERSION
#define BOOKPICS_VERSION "unknown"	/* built without the Makefile */
#endif

const char version_text[] = BOOKPICS_VERSION;

int version_print(const char *program)
{
	printf("%s %s (store schema %d)\n", program, version_text, STORE_SCHEMA);
	return 0;
}
