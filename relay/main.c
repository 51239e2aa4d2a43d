/* main.c - bookpics-relay: arguments, limits, the lws context and its loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <libwebsockets.h>

#include "app.h"
#include "err.h"
#include "log.h"
#include "relay.h"
#include "spawn.h"
#include "version.h"

static const char usage[] = "usage: bookpics-relay --port PORT [--iface ADDR] [--var DIR] [--log FILE]\n"
			    "       bookpics-relay --version\n";

/*
 * The loop is libev's (epoll), not lws's default poll() over every
 * descriptor, which cost 70% of a connect at 10,000 clients. We own it
 * (info.foreign_loops) so that SIGINT and SIGTERM are watched in it:
 * with an event library lws_cancel_service() no longer ends the loop, and
 * lws's own watcher would only cover SIGINT.
 */
static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);	/* main() says goodbye */
}

/* --log FILE: stderr (lws's log and ours) appended to it (lib/log.h). */
static const char *log_path;

/* SIGHUP means "reopen the log" (logrotate, bookpics-run), not "die". */
static void on_hangup(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (!log_reopen())
		lwsl_user("relay: log reopened\n");
}

/*
 * BOOKPICS_RELAY_KEEPALIVE="PING HANGUP" (seconds) shortens the keepalive
 * for the tests; unset, the relay keeps the documented 30 s and 45 s.
 */
static int keepalive_env(struct relay_config *cfg)
{
	const char *env = getenv("BOOKPICS_RELAY_KEEPALIVE");
	char *end;
	long ping, hangup;

	if (!env || !*env)
		return 0;
	ping = strtol(env, &end, 10);
	hangup = strtol(end, &end, 10);
	if (*end || ping < 1 || hangup <= ping || hangup > 86400) {
		fputs("bookpics-relay: BOOKPICS_RELAY_KEEPALIVE must be "
		      "\"PING HANGUP\", 0 < PING < HANGUP seconds\n", stderr);
		return -1;
	}
	cfg->ping_secs = (int)ping;
	cfg->hangup_secs = (int)hangup;
	return 0;
}

/*
 * libwebsockets' lines (and ours through lwsl_*) in bookpics' log format
 * (log.h): event=relay for the relay's own "relay: ..." lines, event=lws
 * for the library's, the text as msg (so "relay: stopped" still greps).
 */
static void log_emit(int level, const char *line)
{
	const char *kv[] = { "msg", NULL, NULL };
	char buf[LOG_LINE_MAX + 1], text[LOG_LINE_MAX];
	enum log_level l = level & LLL_ERR ? LOG_ERROR : level & LLL_WARN ? LOG_WARN :
			   level & (LLL_USER | LLL_NOTICE | LLL_INFO) ? LOG_INFO : LOG_DEBUG;
	struct timespec now;
	size_t n;
	ssize_t w;

	snprintf(text, sizeof(text), "%s", line);
	n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	kv[1] = text;
	clock_gettime(CLOCK_REALTIME, &now);
	n = log_format(buf, sizeof(buf), &now, l, NULL,
		       strncmp(text, "relay: ", 7) ? "lws" : "relay", kv);
	w = write(2, buf, n);
	(void)w;	/* nowhere to say a log write failed */
}

/* Every connection is a descriptor: take all the kernel allows us. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	/* lws sizes its tables by the limit: keep "unlimited" sane */
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 1048576)
		rl.rlim_max = 1048576;
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("bookpics-relay: setrlimit RLIMIT_NOFILE");
}

int main(int argc, char **argv)
{
	/* no lws validity timers: the relay's tick pings (see relay.h) */
	static const lws_retry_bo_t no_validity = { .secs_since_valid_ping = 0 };
	struct relay_config cfg = { 0 };
	struct lws_context_creation_info info;
	struct lws_context *context = NULL;
	struct ev_loop *loop = NULL;
	ev_signal sigint, sigterm, sighup;
	char err[ERR_LEN];
	void *loops[1];
	const char *var = NULL, *iface = "127.0.0.1";	/* lighttpd is the public side */
	struct in_addr addr;
	long port = 0;
	time_t deadline;
	char *end;
	int i, ret = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			return version_print("bookpics-relay");
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			port = strtol(argv[++i], &end, 10);
			if (*end || port < 1 || port > 65535) {
				fputs("bookpics-relay: --port must be 1..65535\n", stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "--iface") && i + 1 < argc) {
			/* lws would also take an interface name; one form is enough */
			iface = argv[++i];
			if (inet_pton(AF_INET, iface, &addr) != 1) {
				fputs("bookpics-relay: --iface must be an IPv4 address "
				      "(0.0.0.0: every interface)\n", stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "--var") && i + 1 < argc) {
			var = argv[++i];
		} else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
			log_path = argv[++i];
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!port) {
		fputs(usage, stderr);
		return 2;
	}
	if (keepalive_env(&cfg))
		return 2;
	if (log_path && log_open(log_path, err)) {
		fprintf(stderr, "bookpics-relay: %s\n", err);
		return 1;
	}
	cfg.var = app_var(var);
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	log_init("relay");
	lws_set_log_level(LLL_ERR | LLL_WARN | LLL_USER, log_emit);

	loop = ev_loop_new(EVFLAG_AUTO);
	if (!loop) {
		fputs("bookpics-relay: ev_loop_new failed\n", stderr);
		return 1;
	}
	ev_signal_init(&sigint, on_signal, SIGINT);
	ev_signal_init(&sigterm, on_signal, SIGTERM);
	ev_signal_start(loop, &sigint);
	ev_signal_start(loop, &sigterm);
	ev_signal_init(&sighup, on_hangup, SIGHUP);
	ev_signal_start(loop, &sighup);

	memset(&info, 0, sizeof(info));
	info.port = (int)port;
	info.iface = iface;
	info.protocols = relay_protocols;
	/*
	 * lws 4.1 keeps each connection's validity timer in one sorted list:
	 * O(N) per connect, 27% of its cost at 10,000 clients.
	 */
	info.retry_and_idle_policy = &no_validity;
	info.user = &cfg;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_LIBEV;
	loops[0] = loop;
	info.foreign_loops = loops;

	/*
	 * A group's site: its replication process first (spawn.h), before
	 * this process has a descriptor it should not pass on; the store
	 * opens through it (vhd_init).
	 */
	if ((cfg.replicator = spawn_replicator(cfg.var, err)) < 0) {
		log_event(LOG_ERROR, "start_failed", "detail", err, NULL);
		goto out;
	}
	context = lws_create_context(&info);
	if (!context || cfg.failed) {
		log_event(LOG_ERROR, "start_failed", "detail", "cannot start (see above)", NULL);
		goto out;
	}
	ev_run(loop, 0);	/* until a signal */
	/* a moment to say goodbye; the 1 s tick bounds each wait */
	deadline = time(NULL) + 2;
	while (relay_going_away(context) && time(NULL) < deadline)
		ev_run(loop, EVRUN_ONCE);
	ret = cfg.failed;
out:
	/* with a foreign loop, lws closes everything here, synchronously */
	lws_context_destroy(context);
	/* after the relay's last writes (the connection batch) went through it */
	spawn_stop(cfg.replicator, 5000);
	ev_signal_stop(loop, &sigint);
	ev_signal_stop(loop, &sigterm);
	ev_signal_stop(loop, &sighup);
	ev_loop_destroy(loop);
	if (!ret)
		lwsl_user("relay: stopped\n");
	return ret;
}
