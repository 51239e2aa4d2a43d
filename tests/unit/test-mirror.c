/*
 * test-mirror.c - the mirror's lock/part/store protocol: concurrent takers
 * fetch once, a failed fetch leaves nothing, a held lock is a timeout, the
 * tag; what is kept is the cleaned picture, a non-picture is remembered.
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
#include <utime.h>

#include "err.h"
#include "mirror.h"
#include "unit.h"

#define TAKERS 6
#define SRC "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"

/* A 2x2 black PNG (vips black + pngsave): the smallest real picture. */
static const unsigned char png2x2[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
	0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02,
	0x08, 0x00, 0x00, 0x00, 0x00, 0x57, 0xdd, 0x52, 0xf8, 0x00, 0x00, 0x00,
	0x09, 0x70, 0x48, 0x59, 0x73, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x03,
	0xe8, 0x01, 0xb5, 0x7b, 0x52, 0x6b, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44,
	0x41, 0x54, 0x08, 0xd7, 0x63, 0x60, 0x00, 0x01, 0x00, 0x00, 0x06, 0x00,
	0x01, 0x66, 0xf4, 0xc9, 0x6c, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
	0x44, 0xae, 0x42, 0x60, 0x82
};

/* What a fetch callback does: append a line to a log, write, maybe fail. */
struct fake {
	const char *log;	/* one line per call, O_APPEND: calls across processes */
	int fail;		/* write half the bytes, then fail */
	long sleep_ms;		/* hold the lock this long, so the others must wait */
	int junk;		/* write bytes that are no picture */
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
	if (f->junk)
		return write(fd, "JPEGDATA", 8) == 8 ? 0 : err_set(err, "fake: write");
	if (write(fd, png2x2, 40) != 40)
		return err_set(err, "fake: write");
	if (f->fail)
		return err_set(err, "fake: upstream said 500");
	if (write(fd, png2x2 + 40, sizeof(png2x2) - 40) != (ssize_t)(sizeof(png2x2) - 40))
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
	struct fake f = { log, 0, 300, 0 };
	int i, status, ok, lock;
	pid_t pid;

	if (!mkdtemp(dir))
		return 1;
	snprintf(log, sizeof(log), "%s/fetch.log", dir);

	CHECK(mirror_item_init(&m, dir, "books", 7, 2, SRC, MIRROR_FAIL_TTL_S, err) == 0, "an item");
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
	CHECK(mirror_type(&m) && !strcmp(mirror_type(&m), "image/png"), "the file is the clean picture, a PNG");
	CHECK(!exists(m.part) && !exists(m.lock), "no part file (the upstream bytes) and no lock file left");
	CHECK(mirror_fetch(&m, 10000, fake_fetch, &f, err) == MIRROR_OK && lines(log) == 1,
	      "once there, never fetched again");

	/* a failed fetch: half the bytes were written, nothing may remain */
	f.fail = 1;
	f.sleep_ms = 0;
	CHECK(mirror_item_init(&bad, dir, "books", 8, 0, SRC "x", MIRROR_FAIL_TTL_S, err) == 0, "a second item");
	CHECK(mirror_fetch(&bad, 10000, fake_fetch, &f, err) == MIRROR_UPSTREAM, "a failed fetch is MIRROR_UPSTREAM");
	CHECK_STR(err, "fake: upstream said 500", "with the callback's error");
	CHECK(!exists(bad.part) && !exists(bad.file) && !exists(bad.lock), "no part file, no final file, no lock");

	/* another process holds the lock past the wait: MIRROR_BUSY, and it stays theirs */
	f.fail = 0;
	CHECK(mirror_item_init(&held, dir, "books", 9, 0, SRC "y", MIRROR_FAIL_TTL_S, err) == 0, "a third item");
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

	/* bytes that are no picture: MIRROR_BAD, remembered, then forgotten */
	{
		struct mirror_item junk;
		char why[ERR_LEN];
		struct utimbuf old = { time(NULL) - MIRROR_BAD_TTL_S - 1, time(NULL) - MIRROR_BAD_TTL_S - 1 };

		f.junk = 1;
		CHECK(mirror_item_init(&junk, dir, "books", 10, 0, SRC "z", MIRROR_FAIL_TTL_S, err) == 0, "a fourth item");
		CHECK(mirror_fetch(&junk, 1000, fake_fetch, &f, err) == MIRROR_BAD, "undecodable bytes are MIRROR_BAD");
		CHECK(!exists(junk.file) && !exists(junk.part) && exists(junk.bad), "nothing kept but the marker");
		slurp(junk.bad, why, sizeof(why));
		CHECK(strstr(why, "not a jpeg, png, gif or webp") != NULL, "the marker says why");
		CHECK(mirror_fetch(&junk, 1000, fake_fetch, &f, err) == MIRROR_BAD && lines(log) == 3 &&
		      strstr(err, "remembered") != NULL, "asked again: MIRROR_BAD without fetching");
		CHECK(utime(junk.bad, &old) == 0 && mirror_fetch(&junk, 1000, fake_fetch, &f, err) == MIRROR_BAD &&
		      lines(log) == 4, "after MIRROR_BAD_TTL_S it is fetched again");
		f.junk = 0;
	}

	/* a variant: made once from the clean file, WebP */
	{
		char path[MIRROR_PATH_MAX];

		CHECK(mirror_width_ok(320) && mirror_width_ok(640) && mirror_width_ok(1280) &&
		      !mirror_width_ok(300) && !mirror_width_ok(0), "the widths are 320, 640, 1280");
		CHECK(mirror_variant_path(&m, 640, path, sizeof(path)) == 0 &&
		      !strcmp(path + strlen(m.file), "-640.webp"), "a variant is FILE-W.webp");
		CHECK(mirror_variant(&m, 640, 1000, err) == MIRROR_OK && exists(path), "variant 640 made");
		slurp(path, buf, 13);
		CHECK(!memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "WEBP", 4), "it is WebP");
		CHECK(mirror_variant(&m, 300, 1000, err) == MIRROR_LOCAL, "no variant of another width");
		CHECK(!exists(held.dirs[1]) || !exists(m.lock), "no lock left");
	}

	/* a path that cannot fit is an error, not a cut path */
	{
		char var[MIRROR_PATH_MAX];

		memset(var, 'v', sizeof(var) - 1);
		var[sizeof(var) - 1] = '\0';
		CHECK(mirror_item_init(&bad, var, "books", 1, 0, SRC, MIRROR_FAIL_TTL_S, err) == -1, "a var too long");
	}
	CHECK(mirror_item_init(&bad, "/nonexistent/dir", "books", 1, 0, SRC, MIRROR_FAIL_TTL_S, err) == 0 &&
	      mirror_fetch(&bad, 100, fake_fetch, &f, err) == MIRROR_LOCAL, "a directory that cannot be made is MIRROR_LOCAL");

	snprintf(buf, sizeof(buf), "rm -rf %s", dir);
	if (system(buf))
		return 1;
	return unit_done();
}
