/* main.c - bookpics-relay: arguments, limits, the lws context and its loop. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libwebsockets.h>

#include "app.h"
#include "relay.h"

static const char usage[] = "usage: bookpics-relay --port PORT [--iface ADDR] [--var DIR]\n";

static volatile sig_atomic_t stopping;
static struct lws_context *context;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (context)
		lws_cancel_service(context);	/* leave poll() now */
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
	struct relay_config cfg = { 0 };
	struct lws_context_creation_info info;
	struct sigaction sa;
	const char *var = NULL, *iface = "127.0.0.1";	/* lighttpd is the public side */
	struct in_addr addr;
	long port = 0;
	time_t deadline;
	char *end;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc) {
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
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!port) {
		fputs(usage, stderr);
		return 2;
	}
	cfg.var = app_var(var);
	raise_nofile();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR | LLL_WARN | LLL_USER, NULL);

	memset(&info, 0, sizeof(info));
	info.port = (int)port;
	info.iface = iface;
	info.protocols = relay_protocols;
	info.retry_and_idle_policy = &relay_retry;
	info.user = &cfg;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;

	context = lws_create_context(&info);
	if (!context || cfg.failed) {
		fputs("bookpics-relay: cannot start (see above)\n", stderr);
		lws_context_destroy(context);
		return 1;
	}
	while (n >= 0 && !stopping && !cfg.failed)
		n = lws_service(context, 0);
	/* a moment to say goodbye; the 1 s tick bounds each wait */
	deadline = time(NULL) + 2;
	while (n >= 0 && relay_going_away(context) && time(NULL) < deadline)
		n = lws_service(context, 0);
	lws_context_destroy(context);
	context = NULL;
	lwsl_user("relay: stopped\n");
	return cfg.failed ? 1 : 0;
}
