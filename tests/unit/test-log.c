/* test-log.c - the log line format: time, order, quoting, cutting, the file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "unit.h"

int main(void)
{
	struct timespec t = { .tv_sec = 1796153400, .tv_nsec = 123456789 };	/* 2026-12-01T19:30:00.123Z */
	const char *refused[] = { "reason", "bad_signature", "ip", "127.0.0.1", NULL };
	const char *quoted[] = { "msg", "db put: no space", "empty", "", "q", "a\"b\\c", "nl", "x\ny\x01",
				 "eq", "a=b", "null", NULL, NULL };
	const char *longv[] = { "msg", NULL, NULL };
	char buf[LOG_LINE_MAX + 1], path[] = "/tmp/test-log.XXXXXX", err[ERR_LEN], big[5000];
	FILE *f;
	size_t n;
	int fd, saved;

	log_init("webhook");
	n = log_format(buf, sizeof(buf), &t, LOG_WARN, NULL, "refused", refused);
	CHECK_STR(buf, "2026-12-01T19:30:00.123Z level=warn prog=webhook event=refused "
		  "reason=bad_signature ip=127.0.0.1\n", "time, level, prog, event, then the pairs");
	CHECK(n == strlen(buf), "the length is returned");

	log_format(buf, sizeof(buf), &t, LOG_ERROR, "relay", "x", quoted);
	CHECK_STR(buf, "2026-12-01T19:30:00.123Z level=error prog=relay event=x "
		  "msg=\"db put: no space\" empty=\"\" q=\"a\\\"b\\\\c\" nl=\"x\\ny\\x01\" "
		  "eq=\"a=b\" null=-\n", "values with spaces, quotes, controls, = are quoted");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	longv[1] = big;
	n = log_format(buf, sizeof(buf), &t, LOG_INFO, NULL, "long", longv);
	CHECK(n == LOG_LINE_MAX && buf[n - 1] == '\n' && !strncmp(buf + n - 4, "...\n", 4),
	      "a long line is cut to LOG_LINE_MAX, ending in ...");

	fd = mkstemp(path);
	close(fd);
	saved = dup(2);
	CHECK(log_open(path, err) == 0, "log_open puts the file on fd 2");
	log_event(LOG_DEBUG, "hidden", NULL);
	log_event(LOG_INFO, "one", "k", "v", NULL);
	unlink(path);	/* logrotate moved it */
	CHECK(log_reopen() == 0, "log_reopen");
	log_event(LOG_WARN, "two", NULL);
	dup2(saved, 2);
	close(saved);
	f = fopen(path, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && strstr(buf, " level=warn prog=webhook event=two\n") &&
	      !fgets(buf, sizeof(buf), f), "after reopen the new file has only the new line");
	if (f)
		fclose(f);
	unlink(path);
	CHECK(log_open("/nonexistent/dir/x.log", err) == -1 &&
	      !strncmp(err, "open /nonexistent/dir/x.log: ", 29), "log_open names the failing open");
	return unit_done();
}
