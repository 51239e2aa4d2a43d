/*
 * test-mirror.c - the mirror's lock/part/store protocol: concurrent takers
 * fetch once, a failed fetch leaves nothing, a held lock is a timeout, the tag.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "mirror.h"
#include "unit.h"

#define TAKERS 6
#define SRC "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"

/* What a fetch callback does: append a line to a log, write, maybe fail. */
struct fake {
	const char *log;	/* one line per call, O_APPEND: calls across processes */
	int fail;		/* write half the bytes, then fail */
	long sleep_ms;		/* hold the lock this long, so the others must wait */
};

static int fake_fetch(void *ctx, int fd, char *err)
{
	const struct fake *f = ctx;
	struct timespec ts = { f->sleep_ms / 1000, (f->sleep_ms % 1000) * 1000000L };
	int log = open(f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

	if (log < 0 || write(log, "fetch\n", 6) != 6)
		return err_set(err, "fake: log");
	close(log);
	nanosleep(&ts, NULL);
	if (write(fd, "JPEG", 4) != 4)
		return err_set(err, "fake: write");
	if (f->fail)
		return err_set(err, "fake: upstream said 500");
	if (write(fd, "DATA", 4) != 4)
		return err_set(err, "fake: write");
	return 0;
}

static int exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static long lines(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = 0;
	int ch;

	if (!f)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

int main(void)
{
	char dir[] = "/tmp/bookpics-test-mirror.XXXXXX", log[1100], err[ERR_LEN], buf[64];
	struct mirror_item m, bad, held;
	struct fake f = { log, 0, 300 };
	int i, status, ok, lock;
	pid_t pid;

	if (!mkdtemp(dir))
		return 1;
	snprintf(log, sizeof(log), "%s/fetch.log", dir);

	CHECK(mirror_item_init(&m, dir, "books", 7, 2, SRC, err) == 0, "an item");
	CHECK_STR(m.etag, "a36a60b1b02a6545", "the tag: 16 hex digits of SHA-256 of the URL");
	snprintf(buf, sizeof(buf), "/media/books/7-2-%s", m.etag);
	CHECK(strlen(m.file) > strlen(buf) && !strcmp(m.file + strlen(dir), buf), "the file: ROOM/INDEX-N-ETAG");
	CHECK(!strcmp(m.part + strlen(dir), "/media/tmp/books.7.2.part") &&
	      !strcmp(m.lock + strlen(dir), "/media/tmp/books.7.2.lock"), "part and lock under tmp");
	CHECK(!mirror_has(&m), "not there before the first fetch");

	/* TAKERS processes ask at once: one fetches, the rest wait and see the file */
	for (i = 0; i < TAKERS; i++) {
		pid = fork();
		if (pid == 0)
			_exit(mirror_fetch(&m, 10000, fake_fetch, &f, err) == MIRROR_OK && mirror_has(&m) ? 0 : 1);
	}
	for (i = 0, ok = 0; i < TAKERS; i++)
		ok += wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	CHECK(ok == TAKERS, "every concurrent taker gets MIRROR_OK and the file");
	CHECK(lines(log) == 1, "exactly one of them fetched");
	slurp(m.file, buf, sizeof(buf));
	CHECK_STR(buf, "JPEGDATA", "the file holds the fetched bytes");
	CHECK(!exists(m.part) && !exists(m.lock), "no part file and no lock file left");
	CHECK(mirror_fetch(&m, 10000, fake_fetch, &f, err) == MIRROR_OK && lines(log) == 1,
	      "once there, never fetched again");

	/* a failed fetch: half the bytes were written, nothing may remain */
	f.fail = 1;
	f.sleep_ms = 0;
	CHECK(mirror_item_init(&bad, dir, "books", 8, 0, SRC "x", err) == 0, "a second item");
	CHECK(mirror_fetch(&bad, 10000, fake_fetch, &f, err) == MIRROR_UPSTREAM, "a failed fetch is MIRROR_UPSTREAM");
	CHECK_STR(err, "fake: upstream said 500", "with the callback's error");
	CHECK(!exists(bad.part) && !exists(bad.file) && !exists(bad.lock), "no part file, no final file, no lock");

	/* another process holds the lock past the wait: MIRROR_BUSY, and it stays theirs */
	f.fail = 0;
	CHECK(mirror_item_init(&held, dir, "books", 9, 0, SRC "y", err) == 0, "a third item");
	CHECK(mkdir(held.dirs[0], 0700) == -1 && errno == EEXIST, "the directories are kept");
	lock = open(held.lock, O_RDWR | O_CREAT, 0600);
	CHECK(lock >= 0 && !flock(lock, LOCK_EX), "the lock held elsewhere");
	pid = fork();
	if (pid == 0)
		_exit(mirror_fetch(&held, 200, fake_fetch, &f, err) == MIRROR_BUSY ? 0 : 1);
	status = -1;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a waiter gives up with MIRROR_BUSY");
	CHECK(lines(log) == 2 && !exists(held.file), "without fetching");
	close(lock);

	/* a path that cannot fit is an error, not a cut path */
	{
		char var[MIRROR_PATH_MAX];

		memset(var, 'v', sizeof(var) - 1);
		var[sizeof(var) - 1] = '\0';
		CHECK(mirror_item_init(&bad, var, "books", 1, 0, SRC, err) == -1, "a var too long");
	}
	CHECK(mirror_item_init(&bad, "/nonexistent/dir", "books", 1, 0, SRC, err) == 0 &&
	      mirror_fetch(&bad, 100, fake_fetch, &f, err) == MIRROR_LOCAL, "a directory that cannot be made is MIRROR_LOCAL");

	snprintf(buf, sizeof(buf), "rm -rf %s", dir);
	if (system(buf))
		return 1;
	return unit_done();
}
