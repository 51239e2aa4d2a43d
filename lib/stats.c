/* stats.c - the shared counters file: create, map, atomic adds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "stats.h"

/*
 * The file: one page of slots, STATS_COUNT of them used; room to grow
 * without a new layout. Every process ftruncates to the same size, so two
 * that create it at once agree, and the kernel zero-fills it.
 */
#define STATS_SLOTS 512

_Static_assert(STATS_COUNT <= STATS_SLOTS, "stats: grow STATS_SLOTS");

struct stats {
	uint64_t *slot;		/* STATS_SLOTS, mapped shared */
};

struct stats *stats_open(const char *var, char *err)
{
	struct stats *s = NULL;
	char path[1100];
	struct stat st;
	void *map;
	int fd = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/run/stats", var) >= sizeof(path)) {
		err_set(err, "path too long: %s/run/stats", var);
		goto out;
	}
	path[strlen(path) - strlen("/stats")] = '\0';
	if (mkdir(path, 0700) && errno != EEXIST) {
		err_set(err, "mkdir %s: %s", path, strerror(errno));
		goto out;
	}
	strcat(path, "/stats");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st)) {
		err_set(err, "fstat %s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size < (off_t)(STATS_SLOTS * sizeof(uint64_t)) &&
	    ftruncate(fd, STATS_SLOTS * sizeof(uint64_t))) {
		err_set(err, "ftruncate %s: %s", path, strerror(errno));
		goto out;
	}
	map = mmap(NULL, STATS_SLOTS * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err_set(err, "mmap %s: %s", path, strerror(errno));
		goto out;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		munmap(map, STATS_SLOTS * sizeof(uint64_t));
		err_set(err, "stats: out of memory");
		goto out;
	}
	s->slot = map;
out:
	if (fd >= 0)
		close(fd);	/* the mapping keeps the file */
	return s;
}

void stats_close(struct stats *s)
{
	if (!s)
		return;
	munmap(s->slot, STATS_SLOTS * sizeof(uint64_t));
	free(s);
}

void stats_add(struct stats *s, enum stats_counter c, uint64_t n)
{
	if (s && (unsigned)c < STATS_COUNT)
		__atomic_fetch_add(&s->slot[c], n, __ATOMIC_RELAXED);
}

void stats_set(struct stats *s, enum stats_counter c, uint64_t v)
{
	if (s && (unsigned)c < STATS_COUNT)
		__atomic_store_n(&s->slot[c], v, __ATOMIC_RELAXED);
}

uint64_t stats_get(const struct stats *s, enum stats_counter c)
{
	if (!s || (unsigned)c >= STATS_COUNT)
		return 0;
	return __atomic_load_n(&s->slot[c], __ATOMIC_RELAXED);
}
