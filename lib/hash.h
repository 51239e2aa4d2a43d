/* hash.h - FNV-1a over a NUL-terminated string, for the relay's in-memory tables. */
#ifndef BP_HASH_H
#define BP_HASH_H

#include <stdint.h>

/*
 * The 32-bit FNV-1a hash of s (not NULL). Cheap and well spread over short
 * ids; not keyed, so only for tables whose keys are names already checked
 * (name.h), never for anything a client could use to flood one bucket at
 * will beyond what it may already name. Never fails.
 */
static inline uint32_t hash_fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

#endif
