/* group.c - a replicated group of sites: Berkeley DB's replication manager (issue 12). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "group.h"

/* What a request is: the store's to serve, or this module's log end. */
#define TAG_SERVE 'S'
#define TAG_LSN 'L'

/*
 * DB_EVENT_REP_PERM_FAILED fires in the thread whose commit waited for
 * its acks (repmgr_net.c, __repmgr_send): a flag of that thread is all
 * the committer needs to look at after txn->commit.
 */
static __thread int perm_failed;

void group_perm_reset(void)
{
	perm_failed = 0;
}

int group_perm_failed(void)
{
	return perm_failed;
}

int group_conf_from(struct group_conf *g, const struct conf *c, char *err)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	if (!c->group_self[0])
		return 0;
	if (strlen(c->group_self) >= sizeof(g->self))
		return err_set(err, "group_self: too long");
	memcpy(g->self, c->group_self, strlen(c->group_self) + 1);
	for (i = 0; conf_group_site(c->group_sites, i, g->sites[g->nsites % GROUP_SITES_MAX],
				    GROUP_ADDR_MAX); i++)
		if (++g->nsites > GROUP_SITES_MAX)
			return err_set(err, "group_sites: more than %d sites", GROUP_SITES_MAX);
	g->priority = c->group_priority;
	g->ack = c->group_ack;
	snprintf(g->socket, sizeof(g->socket), "%s/run/replicator.sock", c->var);
	return 1;
}

/* Split "HOST:PORT" into host (len bytes) and *port. Returns 0/-1. */
static int addr_split(const char *addr, char *host, size_t len, u_int *port)
{
	const char *c = strrchr(addr, ':');

	if (!c || (size_t)(c - addr) >= len)
		return -1;
	memcpy(host, addr, (size_t)(c - addr));
	host[c - addr] = '\0';
	*port = (u_int)strtoul(c + 1, NULL, 10);
	return *port ? 0 : -1;
}

/*
 * TCP_NODELAY on every TCP socket of this process: repmgr's, which it
 * never sets itself (5.3 has no setting for it). Without it a client
 * site's ack of a commit, written on a connection the master's
 * subordinate only ever sends on, waited for the delayed ACK of the ack
 * before it: Nagle's algorithm, 40 ms, and 16 webhooks at the master
 * committed at 99 a second. Called once repmgr listens (the sockets it
 * accepts inherit the option on Linux) and at each connection it makes
 * (DB_EVENT_REP_CONNECT_ESTD). Our own TCP sockets (libcurl's) want it
 * too. Best effort: a socket it misses only waits as before.
 */
static void group_sockets_nodelay(void)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int fd, one = 1, type, domain;
	socklen_t len;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		fd = atoi(d->d_name);
		if (d->d_name[0] < '0' || d->d_name[0] > '9' || fd == dirfd(dir))
			continue;
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM)
			continue;
		len = sizeof(domain);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) ||
		    (domain != AF_INET && domain != AF_INET6))
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	closedir(dir);
}

static void group_event(DB_ENV *env, u_int32_t event, void *info)
{
	(void)env, (void)info;
	if (event == DB_EVENT_REP_PERM_FAILED)
		perm_failed = 1;
	else if (event == DB_EVENT_REP_CONNECT_ESTD)
		group_sockets_nodelay();
}

/* Answer one request (repmgr message thread): the log end, or the store's op. */
static void group_dispatch(DB_ENV *env, DB_CHANNEL *ch, DBT *req, u_int32_t n, u_int32_t flags)
{
	struct group_link *link = env->app_private;
	unsigned char lsn[8];
	void *out = NULL;
	size_t outlen = 0, i;
	uint64_t v;
	DBT resp;

	memset(&resp, 0, sizeof(resp));
	if (n == 2 && req[0].size == 1 && *(char *)req[0].data == TAG_LSN) {
		v = group_lsn(env);
		for (i = 0; i < 8; i++)
			lsn[i] = (unsigned char)(v >> (56 - 8 * i));
		resp.data = lsn, resp.size = 8;
	} else if (n == 2 && req[0].size == 1 && *(char *)req[0].data == TAG_SERVE && link &&
		   link->serve &&
		   !link->serve(link->ctx, req[1].data, req[1].size, &out, &outlen)) {
		resp.data = out, resp.size = (u_int32_t)outlen;
	}
	/* an empty answer is a failure the asker reports (group_request) */
	if (flags & DB_REPMGR_NEED_RESPONSE)
		ch->send_msg(ch, &resp, 1, 0);
	free(out);
}

void group_link_init(struct group_link *link, const struct group_conf *conf,
		     group_serve_fn serve, void *ctx)
{
	memset(link, 0, sizeof(*link));
	link->conf = conf;
	link->serve = serve;
	link->ctx = ctx;
	link->master_eid = DB_EID_INVALID;
	pthread_mutex_init(&link->ch_lock, NULL);
}

void group_link_destroy(struct group_link *link)
{
	pthread_mutex_destroy(&link->ch_lock);
}

/* The kept channel closed; the caller holds ch_lock. */
static void master_channel_drop(struct group_link *link)
{
	if (link->master_ch)
		link->master_ch->close(link->master_ch, 0);
	link->master_ch = NULL;
	link->master_eid = DB_EID_INVALID;
}

void group_close(DB_ENV *env)
{
	struct group_link *link = env->app_private;

	if (!link)
		return;
	pthread_mutex_lock(&link->ch_lock);
	master_channel_drop(link);
	pthread_mutex_unlock(&link->ch_lock);
}

static u_int32_t ack_policy(enum conf_group_ack a)
{
	return a == CONF_ACK_ALL ? DB_REPMGR_ACKS_ALL :
	       a == CONF_ACK_ONE ? DB_REPMGR_ACKS_ONE : DB_REPMGR_ACKS_QUORUM;
}

int group_configure(DB_ENV *env, struct group_link *link, char *err)
{
	const struct group_conf *g = link->conf;
	char host[GROUP_ADDR_MAX];
	DB_SITE *site;
	u_int port;
	size_t i;
	int ret;

	env->app_private = link;
	if ((ret = env->set_event_notify(env, group_event)))
		return err_set(err, "set_event_notify: %s", db_strerror(ret));
	/* before repmgr_start, so that no request finds nobody to answer it */
	if ((ret = env->repmgr_msg_dispatch(env, group_dispatch, 0)))
		return err_set(err, "repmgr_msg_dispatch: %s", db_strerror(ret));
	/*
	 * The first listed site creates the group the first time it starts;
	 * every other site joins through any of the others (the helpers), so
	 * the sites of a running group can be started in any order.
	 */
	for (i = 0; i < g->nsites; i++) {
		if (addr_split(g->sites[i], host, sizeof(host), &port))
			return err_set(err, "group site '%s': not HOST:PORT", g->sites[i]);
		if ((ret = env->repmgr_site(env, host, port, &site, 0)))
			return err_set(err, "repmgr_site %s: %s", g->sites[i], db_strerror(ret));
		if (!strcmp(g->sites[i], g->self)) {
			ret = site->set_config(site, DB_LOCAL_SITE, 1);
			if (!ret && i == 0)
				ret = site->set_config(site, DB_GROUP_CREATOR, 1);
		} else {
			ret = site->set_config(site, DB_BOOTSTRAP_HELPER, 1);
		}
		site->close(site);
		if (ret)
			return err_set(err, "repmgr site config %s: %s", g->sites[i],
				       db_strerror(ret));
	}
	/*
	 * A commit waits GROUP_ACK_US at most for its acks; a lost master is
	 * noticed by heartbeats within 3 s (a killed one at once: its
	 * connections close), an election lasts 2 s at most and is retried
	 * after 1 s, connections are retried every second: a new master in a
	 * few seconds, not the defaults' half minute. A master's checkpoint
	 * would wait 30 s (DB_REP_CHECKPOINT_DELAY's default, for slow
	 * clients' caches) before its record, past store_maintain's 20 s
	 * alarm: the replicator was killed by SIGALRM a minute after start.
	 * Our caches are small and a client flushes its own at the record.
	 * No bulk transfer (DB_REP_CONF_BULK off, also in a region an older
	 * version made with it on): it was there to send a transaction's log
	 * records as one message, against Nagle's algorithm, which
	 * group_sockets_nodelay now turns off. And the buffer is the
	 * region's: any process of the master closing its environment sent
	 * what others had left in it (__rep_preclose) after its own repmgr
	 * had stopped, a SIGSEGV in __repmgr_send_broadcast (bookpics-hooks
	 * at its exit under the sanitizers, tests/t9510).
	 */
	if ((ret = env->repmgr_set_ack_policy(env, (int)ack_policy(g->ack))) ||
	    (ret = env->rep_set_priority(env, (u_int32_t)g->priority)) ||
	    (ret = env->rep_set_timeout(env, DB_REP_ACK_TIMEOUT, GROUP_ACK_US)) ||
	    (ret = env->rep_set_timeout(env, DB_REP_ELECTION_TIMEOUT, 2000000)) ||
	    (ret = env->rep_set_timeout(env, DB_REP_ELECTION_RETRY, 1000000)) ||
	    (ret = env->rep_set_timeout(env, DB_REP_CONNECTION_RETRY, 1000000)) ||
	    (ret = env->rep_set_timeout(env, DB_REP_HEARTBEAT_SEND, 500000)) ||
	    (ret = env->rep_set_timeout(env, DB_REP_HEARTBEAT_MONITOR, 3000000)) ||
	    (ret = env->rep_set_timeout(env, DB_REP_CHECKPOINT_DELAY, 0)) ||
	    (ret = env->rep_set_config(env, DB_REP_CONF_BULK, 0)))
		return err_set(err, "replication settings: %s", db_strerror(ret));
	return 0;
}

/* 1 when something accepts TCP connections on addr (the site's replication process). */
static int group_listening(const char *addr)
{
	char host[GROUP_ADDR_MAX], service[16];
	struct addrinfo hints, *ai = NULL;
	u_int port;
	int fd, ok = 0;

	if (addr_split(addr, host, sizeof(host), &port))
		return 0;
	snprintf(service, sizeof(service), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, service, &hints, &ai) || !ai)
		return 0;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(ai);
	return ok;
}

int group_start(DB_ENV *env, int replicator, long wait_ms, char *err)
{
	struct group_link *link = env->app_private;
	long waited;
	int ret = 0;

	/*
	 * The first process to start the replication manager listens and
	 * processes the site's replication messages; the relay should be it
	 * (it lives as long as the site). A subordinate that came first would
	 * take the role for its own short life: it waits for the relay,
	 * bounded, then starts anyway (a site must not stop writing because
	 * its relay is slow to come up).
	 */
	for (waited = 0; !replicator && waited < wait_ms && !group_listening(link->conf->self);
	     waited += 100)
		usleep(100000);
	for (waited = 0;; waited += 100) {
		ret = env->repmgr_start(env, GROUP_THREADS,
					replicator ? DB_REP_ELECTION : DB_REP_CLIENT);
		if (ret == 0 || ret == DB_REP_IGNORE) {
			group_sockets_nodelay();
			return 0;
		}
		if (ret != DB_REP_UNAVAIL || waited >= wait_ms)
			break;
		/* joining: no helper answered yet (the group's first site is starting) */
		usleep(100000);
	}
	return err_set(err, "repmgr_start: %s", db_strerror(ret));
}

/* This site's role and whether a master is known, from one rep_stat. Returns 0/-1. */
static int rep_role(DB_ENV *env, int *is_master, int *master_known)
{
	DB_REP_STAT *st = NULL;

	if (env->rep_stat(env, &st, 0))
		return -1;
	*is_master = st->st_status == DB_REP_MASTER;
	*master_known = *is_master || st->st_master != (u_int32_t)DB_EID_INVALID;
	free(st);
	return 0;
}

int group_is_master(DB_ENV *env)
{
	int m, known;

	return rep_role(env, &m, &known) ? -1 : m;
}

int group_master_known(DB_ENV *env)
{
	int m, known;

	return rep_role(env, &m, &known) ? -1 : known;
}

uint64_t group_lsn(DB_ENV *env)
{
	DB_LOG_STAT *st = NULL;
	uint64_t lsn;

	if (env->log_stat(env, &st, 0))
		return 0;
	lsn = (uint64_t)st->st_cur_file << 32 | st->st_cur_offset;
	free(st);
	return lsn;
}

/*
 * A bound on opening a channel. repmgr_channel connects to the site and
 * reads its handshake with blocking calls and no timeout (5.3's
 * repmgr_method.c, establish_connection): a site that is frozen (SIGSTOP,
 * a hung host, a partition that drops packets) but whose kernel still
 * accepts the connection held the caller until it thawed, so a write at a
 * client site cut off from its master was never answered. A timer aimed
 * at this thread alone raises DEADLINE_SIGNAL, whose handler does nothing
 * and is installed without SA_RESTART: the blocked connect or readv
 * returns EINTR, and repmgr_channel fails and closes its connection.
 */
#define DEADLINE_SIGNAL (SIGRTMIN + 4)

/* glibc before 2.41 names the thread of SIGEV_THREAD_ID only by its union member */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static pthread_once_t deadline_once = PTHREAD_ONCE_INIT;
static int deadline_ready;

static void deadline_handler(int sig)
{
	(void)sig;
}

static void deadline_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = deadline_handler;
	sigemptyset(&sa.sa_mask);
	deadline_ready = sigaction(DEADLINE_SIGNAL, &sa, NULL) == 0;
}

/* Arm a one-shot timer of us microseconds for this thread. Returns 0/-1. */
static int deadline_arm(timer_t *t, long us)
{
	struct sigevent ev;
	struct itimerspec when;

	pthread_once(&deadline_once, deadline_install);
	if (!deadline_ready)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = DEADLINE_SIGNAL;
	ev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &ev, t))
		return -1;
	memset(&when, 0, sizeof(when));
	when.it_value.tv_sec = us / 1000000;
	when.it_value.tv_nsec = us % 1000000 * 1000;
	if (timer_settime(*t, 0, &when, NULL)) {
		timer_delete(*t);
		return -1;
	}
	return 0;
}

/*
 * Disarm, and take back a signal that fired as the call returned, so that
 * it cannot interrupt whatever this thread does next.
 */
static void deadline_disarm(timer_t t)
{
	struct timespec now = { 0, 0 };
	sigset_t set, old;

	timer_delete(t);
	sigemptyset(&set);
	sigaddset(&set, DEADLINE_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	while (sigtimedwait(&set, NULL, &now) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* repmgr_channel to eid, given up after us microseconds. Returns its error. */
static int channel_open(DB_ENV *env, int eid, long us, DB_CHANNEL **ch)
{
	timer_t t;
	int armed, ret;

	armed = deadline_arm(&t, us) == 0;
	ret = env->repmgr_channel(env, eid, ch, 0);
	if (armed)
		deadline_disarm(t);
	return ret;
}

/* Send tag + body on ch; the answer malloc'd into *out. Returns 0, 1 (no master), -1. */
static int group_ask(DB_CHANNEL *ch, char tag, const void *body, size_t len, u_int32_t us,
		     void **out, size_t *outlen, char *err)
{
	DBT req[2], resp;
	int ret;

	memset(req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req[0].data = &tag, req[0].size = 1;
	req[1].data = (void *)body, req[1].size = (u_int32_t)len;
	resp.flags = DB_DBT_MALLOC;
	ret = ch->send_request(ch, req, 2, &resp, us, 0);
	if (ret == DB_REP_UNAVAIL)
		return 1;
	if (ret)
		return err_set(err, "group request: %s", db_strerror(ret));
	if (!resp.size) {
		free(resp.data);
		return err_set(err, "group request: the master could not run it");
	}
	*out = resp.data;
	*outlen = resp.size;
	return 0;
}

int group_request(DB_ENV *env, const void *req, size_t len, void **out, size_t *outlen,
		  char *err)
{
	struct group_link *link = env->app_private;
	DB_REP_STAT *st = NULL;
	int eid, armed, ret;
	timer_t t;

	*out = NULL;
	*outlen = 0;
	if (env->rep_stat(env, &st, 0))
		return err_set(err, "group request: rep_stat failed");
	eid = (int)st->st_master;
	free(st);
	if (eid == DB_EID_INVALID)
		return 1;
	pthread_mutex_lock(&link->ch_lock);
	/* a channel to an earlier master is not reused: its connection may hang */
	if (link->master_ch && link->master_eid != eid)
		master_channel_drop(link);
	/*
	 * No channel, nothing sent: no master known (DB_REP_UNAVAIL), or one
	 * that did not answer the handshake in time (EINTR), or refused the
	 * connection: the caller may wait for a master and ask again.
	 */
	if (!link->master_ch) {
		if (channel_open(env, DB_EID_MASTER, GROUP_CONNECT_US, &link->master_ch)) {
			link->master_ch = NULL;
			ret = 1;
			goto out;
		}
		link->master_eid = eid;
	}
	/*
	 * The channel may connect again (its master's connection lost): the
	 * same bound on a handshake that never comes, past the request's own.
	 */
	armed = deadline_arm(&t, GROUP_REQUEST_US + GROUP_CONNECT_US) == 0;
	ret = group_ask(link->master_ch, TAG_SERVE, req, len, GROUP_REQUEST_US, out, outlen,
			err);
	if (armed)
		deadline_disarm(t);
	/* a channel that failed once is not trusted again */
	if (ret)
		master_channel_drop(link);
out:
	pthread_mutex_unlock(&link->ch_lock);
	return ret;
}

/* The log end of the site eid (a channel to it), into *lsn. Returns 0/-1. */
static int group_site_lsn(DB_ENV *env, int eid, uint64_t *lsn)
{
	DB_CHANNEL *ch = NULL;
	unsigned char *p = NULL;
	size_t n = 0, i;
	int ret;

	if (channel_open(env, eid, 500000, &ch))
		return -1;
	ret = group_ask(ch, TAG_LSN, "?", 1, 500000, (void **)&p, &n, NULL);
	ch->close(ch, 0);
	if (ret || n != 8) {
		free(p);
		return -1;
	}
	for (*lsn = 0, i = 0; i < 8; i++)
		*lsn = *lsn << 8 | p[i];
	free(p);
	return 0;
}

int group_status(DB_ENV *env, int lsns, struct group_status *out, char *err)
{
	struct group_link *link = env->app_private;
	DB_REPMGR_SITE *list = NULL;
	DB_REP_STAT *st = NULL;
	struct group_site *site;
	u_int n = 0, i;
	int ret, master_eid;

	memset(out, 0, sizeof(*out));
	if ((ret = env->rep_stat(env, &st, 0)))
		return err_set(err, "rep_stat: %s", db_strerror(ret));
	out->is_master = out->master_reached = st->st_status == DB_REP_MASTER;
	master_eid = (int)st->st_master;
	out->master_eid = master_eid;
	free(st);
	snprintf(out->self, sizeof(out->self), "%s", link->conf->self);
	if (out->is_master)
		snprintf(out->master, sizeof(out->master), "%s", out->self);
	site = &out->sites[0];
	snprintf(site->addr, sizeof(site->addr), "%s", out->self);
	site->is_master = out->is_master;
	site->connected = site->has_lsn = 1;
	site->lsn = group_lsn(env);
	out->nsites = out->connected = 1;
	if ((ret = env->repmgr_site_list(env, &n, &list)))
		return err_set(err, "repmgr_site_list: %s", db_strerror(ret));
	for (i = 0; i < n && out->nsites < GROUP_SITES_MAX + 1; i++) {
		site = &out->sites[out->nsites++];
		snprintf(site->addr, sizeof(site->addr), "%s:%u", list[i].host, list[i].port);
		site->is_master = !out->is_master && list[i].eid == master_eid;
		if (site->is_master)
			snprintf(out->master, sizeof(out->master), "%s", site->addr);
		/*
		 * The connections repmgr_site_list reports are this process's
		 * own (a subordinate has none to speak of): a site is
		 * connected when it answers a request, here and now.
		 */
		if (lsns && !group_site_lsn(env, list[i].eid, &site->lsn))
			site->has_lsn = site->connected = 1;
		else if (!lsns)
			site->connected = list[i].status == DB_REPMGR_CONNECTED;
		out->connected += (size_t)site->connected;
		out->master_reached |= site->is_master && site->connected;
	}
	free(list);
	return 0;
}

int group_master_reachable(DB_ENV *env)
{
	struct group_status st;

	return group_status(env, 0, &st, NULL) ? -1 : st.master_reached;
}

int group_local_connected(DB_ENV *env)
{
	DB_REPMGR_SITE *list = NULL;
	u_int n = 0, i;
	int c = 0;

	if (env->repmgr_site_list(env, &n, &list))
		return -1;
	for (i = 0; i < n; i++)
		c += list[i].status == DB_REPMGR_CONNECTED;
	free(list);
	return c;
}

int group_remove(DB_ENV *env, const char *addr, char *err)
{
	DB_REPMGR_SITE *list = NULL;
	DB_REP_STAT *st = NULL;
	DB_SITE *site = NULL;
	char name[GROUP_ADDR_MAX];
	int eid = DB_EID_INVALID, master, known, ret;
	u_int n = 0, i;

	/*
	 * The site must be a member: repmgr_site (by address) would add an
	 * unknown one to this process's list, and the master answers a
	 * removal of a site it does not know with success.
	 */
	if ((ret = env->repmgr_site_list(env, &n, &list)))
		return err_set(err, "repmgr_site_list: %s", db_strerror(ret));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s:%u", list[i].host, list[i].port);
		if (!strcmp(name, addr))
			eid = list[i].eid;
	}
	free(list);
	if (eid == DB_EID_INVALID)
		return err_set(err, "group remove: %s is not a site of the group", addr);
	if ((ret = env->rep_stat(env, &st, 0)))
		return err_set(err, "rep_stat: %s", db_strerror(ret));
	/* at the master st_master is its own eid, never a listed site's */
	master = (int)st->st_master;
	known = st->st_status == DB_REP_MASTER || master != DB_EID_INVALID;
	free(st);
	if (!known)
		return err_set(err, "group remove: no master known (an election?): nothing "
			       "removed, try again");
	if (master == eid)
		return err_set(err, "group remove: %s is the master: stop it, then remove it "
			       "once another site is the master", addr);
	if ((ret = env->repmgr_site_by_eid(env, eid, &site)))
		return err_set(err, "repmgr_site_by_eid %s: %s", addr, db_strerror(ret));
	/* remove frees the handle, whatever it returns */
	if ((ret = site->remove(site)) == DB_REP_UNAVAIL)
		return err_set(err, "group remove: the master did not confirm the removal of %s "
			       "(not enough acknowledgements?): run it again", addr);
	if (ret)
		return err_set(err, "DB_SITE->remove %s: %s", addr, db_strerror(ret));
	return 0;
}
