/* test-fifo.c - notices never block or fail: no FIFO, no reader, full, reader gone. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

int main(void)
{
	char dir[] = "/tmp/bookpics-test-fifo.XXXXXX", path[1100], err[ERR_LEN], buf[8192];
	int rd, n, written;

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		return 1;
	fifo_path(path, sizeof(path), dir);
	CHECK(fifo_notify_message(dir, "books", 1) == 0, "no FIFO: not written, no error");
	CHECK(fifo_create(dir, err) == 0 && fifo_create(dir, err) == 0, "create, twice");
	CHECK(fifo_notify_message(dir, "books", 2) == 0, "no reader: not written, does not block");

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
	unlink(path);
	rmdir(dir);
	return unit_done();
}
