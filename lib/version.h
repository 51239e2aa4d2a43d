/* version.h - bookpics's version string, one for every program. */
#ifndef BP_VERSION_H
#define BP_VERSION_H

/*
 * "0.13.0", or what `git describe --tags --dirty` says in a tagged
 * checkout: the Makefile passes it to version.c alone (from the VERSION
 * file when git has no answer), so a new version rebuilds one object.
 */
extern const char version_text[];

/*
 * The --version answer of program: "PROGRAM VERSION (store schema N)\n"
 * on stdout. Returns 0, for `return version_print(...)` from main.
 */
int version_print(const char *program);

#endif
