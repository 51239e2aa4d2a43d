/* test-stats.c - shared counters: seen across processes, exact under concurrent adds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "stats.h"
#include "unit.h"

#define CHILDREN 4
#define ADDS 200000

int main(void)
{
	char var[] = "/tmp/test-stats.XXXXXX", path[128], cmd[160], err[ERR_LEN];
	struct stats *a, *b;
	struct timespec t0, t1;
	struct stat st;
	int i, j, status, all_ok = 1;
	pid_t pid;
	double ns;

	CHECK(mkdtemp(var) != NULL, "a scratch $VAR");
	a = stats_open(var, err);
	CHECK(a != NULL, "stats_open creates run/ and run/stats");
	snprintf(path, sizeof(path), "%s/run/stats", var);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 4096,
	      "the file is private, one page");
	CHECK(stats_get(a, STATS_WEBHOOK_STORED) == 0, "a new file reads 0");

	for (i = 0; i < CHILDREN; i++) {
		pid = fork();
		if (pid == 0) {
			struct stats *c = stats_open(var, err);

			for (j = 0; j < ADDS; j++)
				stats_add(c, STATS_WEBHOOK_STORED, 1);
			_exit(c ? 0 : 1);
		}
	}
	for (i = 0; i < CHILDREN; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			all_ok = 0;
	CHECK(all_ok && stats_get(a, STATS_WEBHOOK_STORED) == (uint64_t)CHILDREN * ADDS,
	      "concurrent adds from other processes are all counted");

	b = stats_open(var, err);
	stats_set(b, STATS_WEBHOOK_REFUSED_STREAK, 7);
	CHECK(stats_get(a, STATS_WEBHOOK_REFUSED_STREAK) == 7, "a second mapping sees a set");
	stats_close(b);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (j = 0; j < 10000000; j++)
		stats_add(a, STATS_MEDIA_HITS, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e7;
	printf("# stats_add: %.1f ns each\n", ns);
	CHECK(stats_get(a, STATS_MEDIA_HITS) == 10000000, "ten million adds");

	stats_add(NULL, STATS_MEDIA_HITS, 1);
	CHECK(stats_get(NULL, STATS_MEDIA_HITS) == 0, "a NULL handle counts nothing, fails nothing");
	stats_close(a);
	stats_close(NULL);

	CHECK(stats_open("/nonexistent/var", err) == NULL && !strncmp(err, "mkdir /nonexistent/var/run: ", 28),
	      "a missing $VAR names the failing call");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", var);
	CHECK(system(cmd) == 0, "cleanup");
	return unit_done();
}
