/* test-fifo.c - both ends of the FIFO: notices never block or fail, and the reader parses what the writers wrote. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "fifo.h"
#include "unit.h"

static ssize_t drain(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* What fifo_read handed over, one line of text per call: "m books 3", "bad: why". */
struct seen {
	char text[4096];
	size_t len;
};

static void collect(void *ctx, const struct fifo_notice *n, const char *bad)
{
	struct seen *s = ctx;
	size_t room = sizeof(s->text) - s->len;
	int w;

	if (!n)
		w = snprintf(s->text + s->len, room, "bad: %s\n", bad);
	else if (n->kind == FIFO_MESSAGE)
		w = snprintf(s->text + s->len, room, "m %s %llu\n", n->name,
			     (unsigned long long)n->index);
	else
		w = snprintf(s->text + s->len, room, "u %s (index %llu)\n", n->name,
			     (unsigned long long)n->index);
	if (w > 0 && (size_t)w < room)
		s->len += (size_t)w;
}

static int put(int fd, const char *text)
{
	size_t len = strlen(text);

	return write(fd, text, len) == (ssize_t)len ? 0 : -1;
}

/* Parse one line; its reason ("" when accepted). */
static const char *parse(const char *line)
{
	static char err[ERR_LEN];
	struct fifo_notice n;

	err[0] = '\0';
	fifo_parse(line, strlen(line), &n, err);
	return err;
}

static void test_parse(void)
{
	struct fifo_notice n;
	char err[ERR_LEN], longname[80], a65[66];

	CHECK(fifo_parse("m books 42", 10, &n, err) == 0 && n.kind == FIFO_MESSAGE &&
	      !strcmp(n.name, "books") && n.index == 42, "parse a message notice");
	CHECK(fifo_parse("u uuid-1\r", 9, &n, err) == 0 && n.kind == FIFO_USER &&
	      !strcmp(n.name, "uuid-1") && n.index == 0, "parse a user notice; a CR is allowed");
	CHECK(fifo_parse("c books 7", 9, &n, err) == 0 && n.kind == FIFO_CHANGE &&
	      !strcmp(n.name, "books") && n.index == 7, "parse a change notice (hide/show)");
	CHECK(fifo_parse("c books 0", 9, &n, err) == -1 && !strcmp(err, "bad index"),
	      "a change seq is at least 1");
	CHECK(fifo_parse("m books 7 ", 10, &n, err) == 0 && n.index == 7, "trailing spaces are allowed");
	CHECK(fifo_parse("m books 99", 7, &n, err) == -1, "only len bytes count");
	CHECK_STR(parse(""), "unknown notice", "empty line");
	CHECK_STR(parse("x books 1"), "unknown notice", "unknown kind");
	CHECK_STR(parse("mbooks 1"), "unknown notice", "no space after the kind");
	CHECK_STR(parse("m ../x 1"), "bad name", "a name outside the rule");
	CHECK_STR(parse("u "), "bad name", "no name");
	memset(a65, 'a', 65);
	a65[65] = '\0';
	snprintf(longname, sizeof(longname), "m %.64s 1", a65);
	CHECK_STR(parse(longname), "", "a 64-byte name");
	snprintf(longname, sizeof(longname), "m %s 1", a65);
	CHECK_STR(parse(longname), "bad name", "a 65-byte name");
	CHECK_STR(parse("m books"), "bad index", "no index");
	CHECK_STR(parse("m books 0"), "bad index", "index 0");
	CHECK_STR(parse("m books -1"), "bad index", "a negative index");
	CHECK_STR(parse("m books 1x"), "bad index", "not a number");
	CHECK_STR(parse("m books 99999999999999999999"), "bad index", "past 64 bits");
	CHECK_STR(parse("m books 1 2"), "trailing bytes", "a second index");
	CHECK_STR(parse("u uuid1 books"), "trailing bytes", "a user notice takes no index");
}

static void test_round_trip(const char *dir)
{
	struct fifo_reader r;
	struct fifo_id id;
	struct seen s;
	char err[ERR_LEN], big[600], want[700];
	int fd, plain;

	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	fd = fifo_listen(dir, &id, err);
	CHECK(fd >= 0 && fifo_has_reader(dir), "listen: a reader is there");
	CHECK(fifo_notify_message(dir, "books", 12) == 1 && fifo_notify_user(dir, "uuid-7") == 1 &&
	      fifo_notify_message(dir, "r_2", 18446744073709551615ull) == 1, "the writers write");
	CHECK(fifo_read(&r, fd, collect, &s, err) == 0, "read until it would block");
	CHECK_STR(s.text, "m books 12\nu uuid-7 (index 0)\nm r_2 18446744073709551615\n",
		  "the reader parses back what the writers wrote");

	s.len = 0, s.text[0] = '\0';
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n', big[sizeof(big) - 1] = '\0';
	CHECK(put(fd, "q 1\nm books 0\n") == 0 && put(fd, big) == 0 &&
	      put(fd, "m books\t3\nm bo") == 0 &&
	      fifo_read(&r, fd, collect, &s, err) == 0, "bad lines, and half a line");
	CHECK_STR(s.text, "bad: unknown notice\nbad: bad index\nbad: line too long\nbad: bad name\n",
		  "each bad line rejected with its reason, and skipped whole");
	s.len = 0, s.text[0] = '\0';
	CHECK(put(fd, "oks 5\n") == 0 && fifo_read(&r, fd, collect, &s, err) == 0 &&
	      !strcmp(s.text, "m books 5\n"), "the rest of a line split across reads");

	CHECK(fifo_same(dir, &id), "the FIFO is still the one listened to");
	close(fd);
	CHECK(!fifo_has_reader(dir), "closed: no reader");
	snprintf(big, sizeof(big), "%s/relay.fifo", dir);
	unlink(big);
	CHECK(!fifo_same(dir, &id), "removed: noticed");
	CHECK(fifo_create(dir, err) == 0 && !fifo_same(dir, &id), "replaced: noticed");
	unlink(big);
	plain = open(big, O_WRONLY | O_CREAT, 0600);
	CHECK(plain >= 0 && fifo_listen(dir, &id, err) == -1, "a plain file in its place is refused");
	snprintf(want, sizeof(want), "open %s: not a fifo", big);
	CHECK_STR(err, want, "saying so");
	close(plain);
	unlink(big);
}

int main(void)
{
	char dir[] = "/tmp/bookpics-test-fifo.XXXXXX", path[1100], err[ERR_LEN], buf[8192];
	int rd, n, written;

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		return 1;
	test_parse();
	fifo_path(path, sizeof(path), dir);
	CHECK(fifo_notify_message(dir, "books", 1) == 0, "no FIFO: not written, no error");
	CHECK(!fifo_has_reader(dir), "no FIFO: no reader");
	{
		FILE *plain = fopen(path, "w");	/* a regular file where the FIFO goes */

		CHECK(plain && !fifo_has_reader(dir), "a regular file in its place: no reader (no relay)");
		if (plain)
			fclose(plain);
		unlink(path);
	}
	CHECK(fifo_create(dir, err) == 0 && fifo_create(dir, err) == 0, "create, twice");
	CHECK(fifo_notify_message(dir, "books", 2) == 0, "no reader: not written, does not block");
	CHECK(!fifo_has_reader(dir), "no reader: says so without blocking");

	rd = open(path, O_RDWR | O_NONBLOCK);	/* as the relay opens it */
	CHECK(fifo_notify_message(dir, "books", 3) == 1, "with a reader: written");
	CHECK(fifo_notify_user(dir, "uuid1") == 1, "a user notice");
	drain(rd, buf, sizeof(buf));
	CHECK_STR(buf, "m books 3\nu uuid1\n", "one line each");

	for (n = 0, written = 1; n < 100000 && written; n++)
		written = fifo_notify_message(dir, "books", (uint64_t)n);
	CHECK(!written && n > 100, "a full FIFO: not written, does not block");
	while (drain(rd, buf, sizeof(buf)) > 0)
		;
	CHECK(fifo_notify_message(dir, "books", 4) == 1, "drained: written again");
	drain(rd, buf, sizeof(buf));

	close(rd);
	CHECK(fifo_notify_message(dir, "books", 5) == 0, "reader gone (EPIPE): not written, no signal");
	rd = open(path, O_RDWR | O_NONBLOCK);	/* the relay restarted */
	CHECK(fifo_notify_message(dir, "books", 6) == 1, "a new reader gets the next notice");
	drain(rd, buf, sizeof(buf));
	CHECK_STR(buf, "m books 6\n", "and only it");
	close(rd);

	test_round_trip(dir);
	unlink(path);
	rmdir(dir);
	return unit_done();
}
