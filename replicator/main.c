/*
 * bookpics-replicator - a group's site's replication process (issue 12).
 *
 *   bookpics-replicator --var DIR --parent PID
 *
 * Started by the site's relay (relay/spawn.c), it lives as long as the
 * relay: it is the site's Berkeley DB replication manager process (the
 * listener on group_self, elections, the message threads that serve the
 * other sites' writes), and it runs the relay's writes, which arrive on
 * $VAR/run/replicator.sock (lib/replink.h). Why not the relay itself:
 * repmgr 5.3 watches its connections with select(), which aborts the
 * process on a descriptor above FD_SETSIZE (1024), and a relay holds one
 * per WebSocket client (docs/DESIGN.md "Groups"). This process holds a
 * few dozen. Once a second it publishes the site's view of the group for
 * /api/health (lib/stats.h) and, at the master, records which sites it
 * cannot reach (their connections count for nobody); every 30 s it
 * checkpoints the site, as the relay does at a single site.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "group.h"
#include "log.h"
#include "replink.h"
#include "stats.h"
#include "store.h"
#include "version.h"

#define TICK_MS 1000
#define MAINTAIN_TICKS 30
#define FRAME_MS 5000		/* a frame the relay began must arrive whole within this */

static const char usage[] = "usage: bookpics-replicator --var DIR --parent PID\n";

struct replicator {
	struct app app;
	struct group_conf group;
	int listen_fd, client_fd, sig_fd;
	/* the master's: the sites down as last written (sites_check) */
	char sites_down[GROUP_SITES_MAX * GROUP_ADDR_MAX + 2];
	int sites_down_known;
	unsigned long ticks;
};

/*
 * At the master: write which sites this process, the site's replication
 * process, is not connected to, when that changed (store_sites_down_set):
 * a dead site's connections must not lock its users out elsewhere.
 */
static void sites_check(struct replicator *r, const struct group_status *st)
{
	char down[sizeof(r->sites_down)], err[ERR_LEN];
	size_t i, len = 0;

	if (!st->is_master) {
		r->sites_down_known = 0;	/* another master writes it meanwhile */
		return;
	}
	/* sites[0] is this one; the states are this process's: the site's own view */
	down[0] = '\0';
	for (i = 1; i < st->nsites; i++) {
		if (st->sites[i].connected)
			continue;
		len += (size_t)snprintf(down + len, sizeof(down) - len, "%s%s,",
					len ? "" : ",", st->sites[i].addr);
		if (len >= sizeof(down))
			return;		/* cannot be: GROUP_SITES_MAX addresses */
	}
	if (r->sites_down_known && !strcmp(down, r->sites_down))
		return;
	if (store_sites_down_set(r->app.store, down, err)) {
		log_event(LOG_ERROR, "sites", "error", err, NULL);
		/*
		 * Not acknowledged (too few sites up for group_ack): it is in
		 * this master's log all the same, and the others get it when
		 * they come back; trying again every second would only wait
		 * out the ack timeout each time.
		 */
		if (!store_unavailable(r->app.store))
			return;
	}
	log_event(LOG_INFO, "sites", "down", down[0] ? down : "none", NULL);
	memcpy(r->sites_down, down, sizeof(down));
	r->sites_down_known = 1;
}

/*
 * Each second: the site's view for /api/health (lib/stats.h), which the
 * FastCGI programs cannot see themselves (their connection states are
 * their own), then, at the master, sites_check. A client site cut off
 * from its master still has the master in rep_stat until an election
 * succeeds (never, without a quorum): here it is seen not to answer.
 */
static void tick_group(struct replicator *r)
{
	struct stats *stats = app_stats(&r->app, r->app.conf.var);
	struct group_status st;
	char err[ERR_LEN];

	if (store_group_status(r->app.store, 0, &st, err)) {
		log_event(LOG_ERROR, "sites", "error", err, NULL);
		return;
	}
	stats_set(stats, STATS_GROUP_CONNECTED, st.connected);
	stats_set(stats, STATS_GROUP_MASTER_EID1,
		  st.master_eid >= 0 ? (uint64_t)st.master_eid + 1 : 0);
	stats_set(stats, STATS_GROUP_MASTER_REACHED, (uint64_t)st.master_reached);
	stats_set(stats, STATS_GROUP_VIEW_MS, (uint64_t)clock_ms());
	sites_check(r, &st);
}

/* One request of the relay: run it, answer it. 0; -1 the connection is done. */
static int serve_one(struct replicator *r)
{
	char err[ERR_LEN];
	void *req = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	int ret = -1, got;

	if ((got = replink_recv(r->client_fd, &req, &len, FRAME_MS, err)) != 0) {
		if (got < 0)
			log_event(LOG_WARN, "relay", "error", err, NULL);
		goto out;
	}
	if (store_serve_relay(r->app.store, req, len, &out, &outlen)) {
		log_event(LOG_ERROR, "relay", "error", "no answer could be made (out of memory)",
			  NULL);
		goto out;
	}
	if (replink_send(r->client_fd, out, outlen, FRAME_MS, err)) {
		log_event(LOG_WARN, "relay", "error", err, NULL);
		goto out;
	}
	ret = 0;
out:
	free(req);
	free(out);
	return ret;
}

/* A new connection of the relay replaces an older one (a relay has one). */
static void accept_one(struct replicator *r)
{
	int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (r->client_fd >= 0)
		close(r->client_fd);
	r->client_fd = fd;
}

static int run(struct replicator *r)
{
	struct pollfd p[3];
	int64_t next = clock_ms() + TICK_MS;
	char err[ERR_LEN];
	int n, left;

	for (;;) {
		p[0] = (struct pollfd){ r->sig_fd, POLLIN, 0 };
		p[1] = (struct pollfd){ r->listen_fd, POLLIN, 0 };
		p[2] = (struct pollfd){ r->client_fd, POLLIN, 0 };
		n = r->client_fd >= 0 ? 3 : 2;
		left = (int)(next - clock_ms());
		if (poll(p, (nfds_t)n, left > 0 ? left : 0) < 0 && errno != EINTR) {
			log_event(LOG_ERROR, "poll", "error", strerror(errno), NULL);
			return 1;
		}
		if (p[0].revents)
			return 0;	/* SIGTERM, SIGINT, or the relay gone (PR_SET_PDEATHSIG) */
		if (n == 3 && p[2].revents && serve_one(r)) {
			close(r->client_fd);
			r->client_fd = -1;
		}
		if (p[1].revents)
			accept_one(r);
		if (clock_ms() < next)
			continue;
		next = clock_ms() + TICK_MS;
		r->ticks++;
		tick_group(r);
		if (r->ticks % MAINTAIN_TICKS == 0 && store_maintain(r->app.store, err))
			log_event(LOG_ERROR, "maintain", "error", err, NULL);
	}
}

int main(int argc, char **argv)
{
	static struct replicator rep;
	struct replicator *r = &rep;
	const char *var = NULL;
	long parent = 0;
	char err[ERR_LEN];
	sigset_t set;
	int i, ret = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version"))
			return version_print("bookpics-replicator");
		else if (!strcmp(argv[i], "--var") && i + 1 < argc)
			var = argv[++i];
		else if (!strcmp(argv[i], "--parent") && i + 1 < argc)
			parent = strtol(argv[++i], NULL, 10);
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!var || parent <= 1) {
		fputs(usage, stderr);
		return 2;
	}
	/* nothing of the relay's but stdin, stdout and stderr (its log) */
	close_range(3, ~0U, 0);
	log_init("replicator");
	r->listen_fd = r->client_fd = r->sig_fd = -1;
	/* the relay's life is this one's: told when it ends, even by kill -9 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (r->sig_fd = signalfd(-1, &set, SFD_CLOEXEC)) < 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0)) {
		log_event(LOG_ERROR, "start_failed", "error", strerror(errno), NULL);
		goto out;
	}
	if (getppid() != (pid_t)parent) {
		log_event(LOG_ERROR, "start_failed", "detail", "the relay is gone", NULL);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	r->app.group_role = STORE_REPLICATOR;
	if (conf_load(&r->app.conf, var, err) ||
	    group_conf_from(&r->group, &r->app.conf, err) <= 0) {
		if (!*err)
			err_set(err, "%s/bookpics.conf: no group_self (not a group's site)", var);
		log_event(LOG_ERROR, "start_failed", "error", err, NULL);
		goto out;
	}
	/* listen first: the relay waits for this socket while the store opens */
	if ((r->listen_fd = replink_listen(r->group.socket, err)) < 0 ||
	    app_ready(&r->app, var, err)) {
		log_event(LOG_ERROR, "start_failed", "error", err, NULL);
		goto out;
	}
	log_event(LOG_INFO, "ready", "self", r->group.self, NULL);
	ret = run(r);
	log_event(LOG_INFO, "stopped", NULL);
out:
	if (r->client_fd >= 0)
		close(r->client_fd);
	if (r->listen_fd >= 0) {
		close(r->listen_fd);
		unlink(r->group.socket);
	}
	app_close(&r->app);
	return ret;
}
