/* group.h - a replicated group of sites: Berkeley DB's replication manager (issue 12). */
#ifndef BP_GROUP_H
#define BP_GROUP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <db.h>

#include "conf.h"

/*
 * Everything repmgr is here, on a DB_ENV the store owns (docs/DESIGN.md
 * "Groups"). The store decides what to do (open, forward, retry); this
 * module knows how to ask Berkeley DB. Every function is safe to call from
 * any thread of a process (the dispatch runs on repmgr's message threads).
 */

#define GROUP_SITES_MAX 16
#define GROUP_ADDR_MAX 256		/* HOST:PORT with its NUL */
#define GROUP_ACK_US 2000000		/* a commit waits this long for its acks */
#define GROUP_REQUEST_US 5000000	/* a forwarded write waits this long for its answer */
#define GROUP_CONNECT_US 1000000	/* a channel to the master is given up after this long */
#define GROUP_THREADS 6			/* the replication process's message threads */

struct group_conf {
	char self[GROUP_ADDR_MAX];
	char sites[GROUP_SITES_MAX][GROUP_ADDR_MAX];	/* self among them */
	size_t nsites;			/* 0: not a group */
	long priority;			/* 0: never the master */
	enum conf_group_ack ack;
	/* $VAR/run/replicator.sock: where the site's replicator takes the relay's writes */
	char socket[CONF_PATH_MAX + 32];
};

/*
 * Fill g from c's group_* keys (validated by conf already) and c->var
 * (the replicator's socket). Returns 1 (a group), 0 (no group_self: a
 * single site, g->nsites = 0) or -1 with err (more than GROUP_SITES_MAX
 * sites).
 */
int group_conf_from(struct group_conf *g, const struct conf *c, char *err);

/*
 * A request that arrived from another site (or this one): serve it and
 * return a malloc'd answer in *out (*outlen bytes), 0; or -1 (nothing to
 * answer: the asker sees an empty answer, a failure). ctx is the link's.
 */
typedef int (*group_serve_fn)(void *ctx, const void *req, size_t len, void **out,
			      size_t *outlen);

/* What the environment's callbacks reach: owned by the caller, outlives the env. */
struct group_link {
	const struct group_conf *conf;
	group_serve_fn serve;
	void *ctx;
	/*
	 * The channel to the master this process keeps for group_request,
	 * and the master it was opened to: group.c's, under ch_lock. A new
	 * channel per request cost a quorum write at a client site 40 ms:
	 * its handshake and the request are two small writes in a row,
	 * and Nagle's algorithm held the second until the master's delayed
	 * ACK (repmgr sets no TCP_NODELAY).
	 */
	pthread_mutex_t ch_lock;
	DB_CHANNEL *master_ch;
	int master_eid;
};

/* Fill link (conf, serve, ctx: the caller's, outliving it). Never fails. */
void group_link_init(struct group_link *link, const struct group_conf *conf,
		     group_serve_fn serve, void *ctx);

/* Free what group_link_init made; after the last env of link is closed. */
void group_link_destroy(struct group_link *link);

/* Before env->close: the kept channel closed. Never fails. */
void group_close(DB_ENV *env);

/*
 * Before env->open (which must add DB_INIT_REP | DB_THREAD): every site
 * (DB_LOCAL_SITE for self, DB_GROUP_CREATOR for the first listed one if it
 * is self, DB_BOOTSTRAP_HELPER for the others), the ack policy, priority,
 * timeouts, the event callback and the message dispatch (every process
 * registers it: whichever is its site's replication process serves).
 * env->app_private is set to link. Returns 0, or -1 with err.
 */
int group_configure(DB_ENV *env, struct group_link *link, char *err);

/*
 * After env->open: repmgr_start. replicator: this process is its site's
 * replication process (bookpics-replicator: DB_REP_ELECTION, GROUP_THREADS
 * message threads); otherwise a subordinate (DB_REP_CLIENT), which first waits
 * (up to wait_ms) for the site's replication process to listen on
 * group_self so that it does not take that role itself. DB_REP_UNAVAIL (no
 * site answers a join yet) is retried every 100 ms up to wait_ms. Returns
 * 0, or -1 with err.
 */
int group_start(DB_ENV *env, int replicator, long wait_ms, char *err);

/* 1 this site is the master, 0 it is not (a client, or no role yet), -1 rep_stat failed. */
int group_is_master(DB_ENV *env);

/* 1 a master is known (here or elsewhere), 0 not, -1 rep_stat failed. */
int group_master_known(DB_ENV *env);

/*
 * 1 when this site is the master, or a master is known and this process is
 * connected to it; 0 otherwise (none known, or its connection is down: a
 * site cut off keeps naming its old master); -1 when rep_stat or
 * repmgr_site_list failed: group_status's master_reached, without lsns.
 * Connections are each process's own: only the replication process's
 * answer is the site's.
 */
int group_master_reachable(DB_ENV *env);

/* The end of this site's log (file << 32 | offset), 0 on error: log_stat, cheap. */
uint64_t group_lsn(DB_ENV *env);

/*
 * Send req (len bytes) to the master's dispatch and wait up to
 * GROUP_REQUEST_US for its answer, returned malloc'd in *out (*outlen).
 * Returns 0; 1 nothing was sent (no master known, or no channel to it
 * within GROUP_CONNECT_US: a frozen or unreachable master); -1 with err
 * (sent, and no answer: the master may or may not have done it). Uses a
 * per-thread timer and the signal SIGRTMIN + 4 (a handler that does
 * nothing) to bound the channel's opening.
 */
int group_request(DB_ENV *env, const void *req, size_t len, void **out, size_t *outlen,
		  char *err);

/*
 * How many sites this process itself is connected to (-1 on error). A
 * subordinate at the master sends its commits' log on its own
 * connections: with none, every commit fails its acks at once.
 */
int group_local_connected(DB_ENV *env);

/* Before a commit: forget an earlier DB_EVENT_REP_PERM_FAILED of this thread. */
void group_perm_reset(void);

/* 1 when the last commit of this thread was not acknowledged as group_ack wants. */
int group_perm_failed(void);

struct group_site {
	char addr[GROUP_ADDR_MAX];	/* HOST:PORT */
	int is_master;
	int connected;			/* to this site (self: 1) */
	int has_lsn;			/* lsn answered (self, or a connected site that replied) */
	uint64_t lsn;			/* end of its log, file << 32 | offset */
};

struct group_status {
	char self[GROUP_ADDR_MAX];
	char master[GROUP_ADDR_MAX];	/* "" while no master is known */
	int master_eid;			/* repmgr's id of it, DB_EID_INVALID for none */
	int is_master;
	int master_reached;		/* this site is the master, or connected to it */
	struct group_site sites[GROUP_SITES_MAX + 1];	/* self first */
	size_t nsites, connected;	/* connected counts self */
};

/*
 * Fill out from rep_stat and repmgr_site_list; with lsns, also ask every
 * site for the end of its log (a channel request each, 500 ms at most;
 * needs group_start): a site is connected when it answers (the list's
 * connection states are the replication process's alone). Without lsns,
 * connected is this process's own view. Returns 0, or -1 with err.
 */
int group_status(DB_ENV *env, int lsns, struct group_status *out, char *err);

/*
 * Remove the site addr (HOST:PORT, as group_sites names it) from the
 * group: DB_SITE->remove on its repmgr_site_list entry (needs
 * group_start). Berkeley DB 5.3 sends the request from this process to
 * the master's listener, also at a client site; the master records the
 * site as gone in its group membership database (replicated: every
 * site's repmgr_site_list drops it) and nsites, hence quorum, counts it
 * no more. Returns 0, or -1 with err, nothing sent: addr is not a site
 * of the group (repmgr_site_list knows none: the master would answer
 * success for it), no master is known, addr is the master (the master
 * refuses to remove itself, DB_REP_UNAVAIL); or -1 with err after
 * sending: the master did not confirm (not enough acks for the change:
 * running it again is safe). Whether addr may be this site is the
 * caller's decision (store_group_remove refuses).
 */
int group_remove(DB_ENV *env, const char *addr, char *err);

#endif
