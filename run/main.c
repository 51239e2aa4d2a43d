/* main.c - bookpics-run: arguments, the log, then the supervisor (run/supervise.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "runlog.h"
#include "supervise.h"

static const char usage[] =
	"usage: bookpics-run --var DIR --port PORT [--relay-port PORT] [--bin DIR]\n"
	"                    [--lighttpd PROGRAM] [--lighttpd-conf FILE]\n";

static int port_arg(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > 65535) {
		fprintf(stderr, "bookpics-run: %s must be 1..65535\n", what);
		return -1;
	}
	return (int)v;
}

/* $VAR/name must be a directory we can write into: say why not, before anything starts. */
static int dir_ok(const char *var, const char *name, char *err)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", var, name);
	if (stat(path, &st))
		return err_set(err, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(err, "%s: not a directory", path);
	if (access(path, W_OK))
		return err_set(err, "%s: not writable by uid %ld (owner uid %ld): %s", path,
			       (long)geteuid(), (long)st.st_uid, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	static char conf[PATH_MAX], logpath[PATH_MAX];
	/* 30 s to answer: sanitizer builds start slowly */
	struct sup_config cfg = { .lighttpd = "lighttpd", .failchk_ms = 1000, .start_ms = 30000 };
	const char *env = getenv("BOOKPICS_RUN_FAILCHK_MS");
	const char *start_env = getenv("BOOKPICS_RUN_START_MS");	/* tests */
	char err[ERR_LEN];
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fputs(usage, stderr);
			return 2;
		}
		i++;
		if (!strcmp(a, "--var"))
			cfg.var = v;
		else if (!strcmp(a, "--bin"))
			cfg.bin = v;
		else if (!strcmp(a, "--lighttpd"))
			cfg.lighttpd = v;
		else if (!strcmp(a, "--lighttpd-conf"))
			cfg.lighttpd_conf = v;
		else if (!strcmp(a, "--port")) {
			if ((cfg.port = port_arg(v, "--port")) < 0)
				return 2;
		} else if (!strcmp(a, "--relay-port")) {
			if ((cfg.relay_port = port_arg(v, "--relay-port")) < 0)
				return 2;
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!cfg.var || cfg.var[0] != '/' || !cfg.port) {
		fputs(usage, stderr);
		fputs("bookpics-run: --var must be an absolute path\n", stderr);
		return 2;
	}
	if (!cfg.relay_port)
		cfg.relay_port = cfg.port + 1;
	if (!cfg.bin)
		cfg.bin = "/usr/local/bin";
	if (!cfg.lighttpd_conf) {
		snprintf(conf, sizeof(conf), "%s/lighttpd.conf", cfg.var);
		cfg.lighttpd_conf = conf;
	}
	if (env && *env && atoi(env) > 0)
		cfg.failchk_ms = atoi(env);
	if (start_env && *start_env && atoi(start_env) > 0)
		cfg.start_ms = atoi(start_env);
	if (dir_ok(cfg.var, "log", err) || dir_ok(cfg.var, "run", err)) {
		fprintf(stderr, "bookpics-run: cannot start: %s\n", err);
		return 1;
	}
	snprintf(logpath, sizeof(logpath), "%s/log/run.log", cfg.var);
	if (runlog_open(logpath, err)) {
		fprintf(stderr, "bookpics-run: cannot start: %s\n", err);
		return 1;
	}
	i = sup_run(&cfg);
	runlog("info", "event=exit status=%d", i);
	runlog_close();
	return i;
}
