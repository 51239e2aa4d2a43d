/* store.c - Berkeley DB 5.3 store shared by every bookpics process. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "clock.h"
#include "err.h"
#include "group.h"
#include "msg.h"
#include "replink.h"
#include "store.h"

#define KEY_MAX (2 * STORE_NAME_MAX + 16)
#define RETRY_MAX 2000		/* deadlocks under heavy contention are normal */
#define REOPEN_MAX 8
#define OPEN_SECS 20		/* env->open past this: the process ends (store_open_handles) */
#define MAINTAIN_SECS 20	/* likewise failchk and checkpoint (store_maintain) */

struct store {
	DB_ENV *env;
	DB *rooms;		/* name -> be64 last, u8 flags */
	DB *msgs;		/* room \0 be64 index -> record JSON */
	DB *sids;		/* MessageSid -> message key */
	DB *users;		/* id -> be64 creation time, be64 not-before (µs; schema 1) */
	DB *members;		/* user \0 room -> "" */
	DB *roomusers;		/* room \0 user -> "" */
	DB *cursors;		/* user \0 room -> be64 index */
	DB *conns;		/* connection id -> user id \0 be64 since (unix µs) */
	DB *meta;		/* "schema" -> decimal STORE_SCHEMA (db_dump shows it) */
	DB *changes;		/* room \0 be64 seq -> be64 index, u8 hidden */
	DB *queue;		/* room \0 be64 id -> u8 sidlen, sid, record */
	DB *mods;		/* room \0 user -> "" */
	DB *blocked;		/* sender hash -> "HASH\tUSER\tROOM\tINDEX" */
	DB *rates;		/* be64 hour, room \0 hash -> be32 count */
	DB *events;		/* be64 seq -> be64 time (µs), u8 kind, conn \0 user */
	DB *hooks;		/* hook deliverer cursors: "m\0room", "c\0room", "e", "init" -> be64 */
	char home[1024];
	int refused;		/* a schema this binary does not know: never retry */
	int schema_was;		/* the schema found at open (0: none, before 0.13) */
	int full;		/* the last failure was for want of disk space */
	/* groups (group.h, docs/DESIGN.md "Groups") */
	int grouped;		/* in a group: group and link are set */
	int replicator;		/* this process is its site's replication process */
	int relayed;		/* the relay: no repmgr; writes through the replicator (replink) */
	int link_fd;		/* relayed: the replicator's socket, -1 while not connected */
	int unavailable;	/* the last write: no master, no answer, or not acknowledged */
	int serving;		/* a view serving another site's write: never forwarded */
	/*
	 * A group's store with every handle open (the end of a successful
	 * store_open_handles; store_close_handles clears it), set and read
	 * under lock: repmgr's message threads may ask store_serve for a
	 * write while this process is still opening them.
	 */
	int handles_open;
	DB_TXN_TOKEN token;	/* serving: the commit's token, for the asker's txn_applied */
	int env_only;		/* store_group_create: the environment, nothing else */
	int opening;		/* inside store_open_handles: no reconnect */
	time_t reconnected;	/* the last store_group_reconnect (at most one per 5 s) */
	struct group_conf group;
	struct group_link link;
	pthread_rwlock_t lock;	/* grouped: views read the handles, a reopen writes them */
};

/*
 * One transaction's work, run by store_run: txn is begun for it, a return
 * of 0 commits it, anything else (a Berkeley DB code or an errno) aborts
 * it. An op closes its cursors before it returns and resets its outputs
 * when it starts (it may run again after a deadlock).
 */
typedef int (*store_op)(struct store *s, DB_TXN *txn, void *arg);

/* Transaction flags: writers, and readers that let go of each read lock. */
#define TXN_WRITE 0
#define TXN_READ DB_READ_COMMITTED

/* ---- keys and values ---- */

static void put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* "a\0b" keys; a and b are validated names so they hold no NUL. */
static size_t key_pair(char *buf, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	memcpy(buf, a, la + 1);
	memcpy(buf + la + 1, b, lb);
	return la + 1 + lb;
}

static size_t key_msg(char *buf, const char *room, uint64_t index)
{
	size_t l = strlen(room);

	memcpy(buf, room, l + 1);
	put_be64((unsigned char *)buf + l + 1, index);
	return l + 9;
}

static void dbt_set(DBT *d, const void *data, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)data;
	d->size = (u_int32_t)len;
}

/*
 * DBTs that Berkeley DB fills. The environment is free-threaded
 * (DB_THREAD, store_open_handles), so a read must say whose memory each
 * returned item goes to, or it fails (BDB0630); these are the three ways
 * store.c uses:
 *   dbt_user: into buf, which holds size bytes on input (a key to search
 *     from) and room for cap; an item longer than cap is DB_BUFFER_SMALL
 *     (d->size then says how long), which the caller handles;
 *   dbt_head: the first cap bytes of the item only (DB_DBT_PARTIAL), so a
 *     longer one reads as its head and never fails; cap 0 and buf NULL
 *     read nothing, for "is it there";
 *   dbt_grow: memory Berkeley DB reallocates when an item is longer than
 *     the last one, for items of any size: one buffer for a whole cursor
 *     walk, which the op frees (free(d->data)) at its end. Never dbt_set
 *     over it: Berkeley DB takes d->size for the buffer's length.
 */
static void dbt_user(DBT *d, void *buf, size_t size, size_t cap)
{
	dbt_set(d, buf, size);
	d->ulen = (u_int32_t)cap;
	d->flags = DB_DBT_USERMEM;
}

static void dbt_head(DBT *d, void *buf, size_t cap)
{
	dbt_user(d, buf, 0, cap);
	d->flags |= DB_DBT_PARTIAL;
	d->doff = 0;
	d->dlen = (u_int32_t)cap;
}

static void dbt_grow(DBT *d)
{
	memset(d, 0, sizeof(*d));
	d->flags = DB_DBT_REALLOC;
}

/* ---- opening, closing, retrying ---- */

uint64_t store_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int store_isalive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	(void)env, (void)tid, (void)flags;
	return kill(pid, 0) == 0 || errno == EPERM;
}

/*
 * 1 when this process writes to its own copy: a single site, or the
 * master's processes but its relay (which hands every write to the
 * replicator). A client's databases and schema come from the master.
 */
static int store_writes_here(struct store *s)
{
	return !s->grouped || (!s->relayed && group_is_master(s->env) == 1);
}

static void store_close_handles(struct store *s)
{
	DB **dbs[] = { &s->rooms, &s->msgs, &s->sids, &s->users, &s->members,
		       &s->roomusers, &s->cursors, &s->conns, &s->meta, &s->changes,
		       &s->queue, &s->mods, &s->blocked, &s->rates,
		       &s->events, &s->hooks };
	size_t i;

	if (s->grouped)
		pthread_rwlock_wrlock(&s->lock);
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		/*
		 * DB_NOSYNC: every change is in the log already (transactions);
		 * a sync here would wait on the log and the cache, which a
		 * full disk or a process dead inside the library can make
		 * wait for ever (the relay hung here, issue 11).
		 */
		if (*dbs[i])
			(*dbs[i])->close(*dbs[i], DB_NOSYNC);
		*dbs[i] = NULL;
	}
	if (s->env && s->grouped)
		group_close(s->env);
	if (s->env)
		s->env->close(s->env, 0);
	s->env = NULL;
	s->handles_open = 0;
	if (s->grouped)
		pthread_rwlock_unlock(&s->lock);
}

#ifdef BOOKPICS_TESTHOOKS
/*
 * Test-only (make TESTHOOKS=1, never in a release build): stop this
 * process for good while it holds what a crash inside Berkeley DB leaves
 * held, so that tests/t9010 can kill -9 it there. Berkeley DB has no
 * callback inside its log code, so the two points are:
 *   BOOKPICS_TEST_STALL_AT=txn  (default): op_append after its puts,
 *     before the commit: the room's write lock and the new pages' locks
 *     are held, outside the library (failchk aborts the transaction);
 *   BOOKPICS_TEST_STALL_AT=page: sids.db's key comparison, called inside
 *     DB->put with the page's buffer latch (a region mutex) held and the
 *     thread marked in the library (failchk says DB_RUNRECOVERY).
 * Only for the webhook whose MessageSid is BOOKPICS_TEST_STALL_SID, and
 * only once per BOOKPICS_TEST_STALL_FILE, created with "PID POINT".
 */
static void store_test_stall(const char *point, const char *sid, size_t len)
{
	const char *want = getenv("BOOKPICS_TEST_STALL_SID");
	const char *at = getenv("BOOKPICS_TEST_STALL_AT");
	const char *file = getenv("BOOKPICS_TEST_STALL_FILE");
	FILE *f;
	int fd;

	if (!want || !file || strlen(want) != len || memcmp(want, sid, len) ||
	    strcmp(at && *at ? at : "txn", point))
		return;
	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return;		/* stalled once already */
	if ((f = fdopen(fd, "w"))) {
		fprintf(f, "%ld %s\n", (long)getpid(), point);
		fclose(f);
	}
	raise(SIGSTOP);
}


/* Berkeley DB's default btree order (bytes, then length), with the page hook. */
static int store_test_sid_cmp(DB *db, const DBT *a, const DBT *b)
{
	size_t n = a->size < b->size ? a->size : b->size;
	int c = memcmp(a->data, b->data, n);

	(void)db;
	/* the searched key, the page's key: which is which is BDB's business */
	store_test_stall("page", a->data, a->size);
	store_test_stall("page", b->data, b->size);
	if (c)
		return c;
	return a->size < b->size ? -1 : a->size > b->size;
}
#endif

static int store_open_db(struct store *s, DB **db, const char *file, char *err)
{
	int ret;

	if ((ret = db_create(db, s->env, 0)))
		return err_set(err, "db_create %s: %s", file, db_strerror(ret));
#ifdef BOOKPICS_TESTHOOKS
	if (!strcmp(file, "sids.db"))
		(*db)->set_bt_compare(*db, store_test_sid_cmp);
#endif
	/*
	 * A client never creates: its databases come from the master. The
	 * relay of a group's site opens them read-only: a writable handle at
	 * the master logs its file's registration, and a process that writes
	 * the master's log becomes a replication manager process (5.3's
	 * __repmgr_autostart, from log_put), select() and all.
	 */
	ret = (*db)->open(*db, NULL, file, NULL, DB_BTREE,
			  (store_writes_here(s) ? DB_CREATE : 0) |
			  (s->relayed ? DB_RDONLY : 0) | DB_AUTO_COMMIT, 0600);
	if (ret) {
		(*db)->close(*db, 0);
		*db = NULL;
		return err_set(err, "open %s/%s: %s", s->home, file, db_strerror(ret));
	}
	return 0;
}

static int store_schema_check(struct store *s, char *err);
static int store_forward(struct store *s, store_op op, void *arg, const char *what, char *err);
static int store_serve(void *ctx, const void *req, size_t len, void **out, size_t *outlen);

static int errno_full(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG;
}

/*
 * Back every page of the region files with disk blocks. Berkeley DB maps
 * each __db.00N file at its region's maximum size but writes only the
 * part in use (DB_REGION_INIT fills that part; a region grows by writing
 * its new last byte), so the rest is a hole, and on a full disk the first
 * touch of a page in a hole is SIGBUS inside the library with region
 * mutexes held (issue 11). The lengths mapped are how far Berkeley DB can
 * ever touch: read them from /proc/self/maps and reserve them with
 * fallocate(FALLOC_FL_KEEP_SIZE), leaving the files' sizes as Berkeley DB
 * wrote them. Every process does it at open (cheap once reserved).
 */
static int store_reserve_regions(struct store *s, char *err)
{
	char real[PATH_MAX], line[PATH_MAX + 256], *path;
	unsigned long lo, hi, off;
	size_t rl, pl;
	FILE *maps;
	int fd, ret = 0;

	if (!realpath(s->home, real))
		return err_set(err, "realpath %s: %s", s->home, strerror(errno));
	rl = strlen(real);
	if (!(maps = fopen("/proc/self/maps", "re")))
		return err_set(err, "open /proc/self/maps: %s", strerror(errno));
	while (!ret && fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) != 3 ||
		    !(path = strchr(line, '/')))
			continue;
		pl = strcspn(path, "\n");
		path[pl] = '\0';
		if (strncmp(path, real, rl) || strncmp(path + rl, "/__db.0", 7) ||
		    (pl > 10 && !strcmp(path + pl - 10, " (deleted)")))
			continue;
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
			ret = err_set(err, "open %s: %s", path, strerror(errno));
			break;
		}
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)(hi - lo))) {
			s->full = errno_full(errno);
			ret = err_set(err, "fallocate %s (%lu bytes): %s", path, hi - lo,
				      strerror(errno));
		}
		close(fd);
	}
	fclose(maps);
	return ret;
}

/*
 * Below this much free space on the store's filesystem a write is refused
 * before Berkeley DB sees it (STORE_FREE_MIN, store.h): the log's and the
 * databases' own writes then never meet a full disk while one is refused.
 */
static int store_space_low(struct store *s, char *err)
{
	struct statvfs v;

	if (statvfs(s->home, &v))
		return 0;	/* no answer: let Berkeley DB find out */
	if ((unsigned long long)v.f_bavail * v.f_frsize >= STORE_FREE_MIN)
		return 0;
	s->full = 1;
	return err_set(err, "disk full: %llu bytes free in %s, %d needed",
		       (unsigned long long)v.f_bavail * v.f_frsize, s->home, STORE_FREE_MIN);
}

/*
 * A group's site after env->open: start the replication manager
 * (group_start), then wait, STORE_GROUP_JOIN_MS at most, for a role: the
 * master creates the databases if they are new; a client opens them only
 * once they are here (replicated from the master, or from before).
 */
static int store_group_join(struct store *s, char *err)
{
	char path[sizeof(s->home) + 16];
	struct stat st;
	long waited;
	int m;

	if (!s->relayed && group_start(s->env, s->replicator, STORE_GROUP_JOIN_MS, err))
		return -1;
	snprintf(path, sizeof(path), "%s/hooks.db", s->home);
	for (waited = 0; waited < STORE_GROUP_JOIN_MS; waited += 100) {
		if ((m = group_is_master(s->env)) < 0)
			return err_set(err, "group: rep_stat failed");
		/*
		 * hooks.db is the last one a master creates (store_open_handles);
		 * at the master the relay waits for its replicator to create them
		 */
		if ((m && !s->relayed) || (group_master_known(s->env) == 1 && !stat(path, &st)))
			return 0;
		usleep(100000);
	}
	return err_set(err, "group: no master with the databases after %d ms",
		       STORE_GROUP_JOIN_MS);
}

static int store_open_handles(struct store *s, char *err);

/*
 * A subordinate at the master with no connection of its own to any other
 * site (measured, 5.3.28: a process that started its replication manager
 * before the other sites had joined never connects to them later, and
 * each of its commits fails its acks at once): new handles, whose
 * repmgr_start connects to every site, then up to a second for one of
 * those connections. 0, or -1 with err.
 */
static int store_group_reconnect(struct store *s, char *err)
{
	int waited;

	s->reconnected = time(NULL);
	store_close_handles(s);
	if (store_open_handles(s, err))
		return -1;
	for (waited = 0; waited < 1000 && group_local_connected(s->env) == 0; waited += 20)
		usleep(20000);
	return 0;
}

static int store_open_handles(struct store *s, char *err)
{
	/*
	 * DB_THREAD: free-threaded handles (the environment's, and so every
	 * DB's), which a replication process needs (issue 12); a single site
	 * runs the same code path. Every read then names its memory (dbt_user,
	 * dbt_head, dbt_grow).
	 */
	u_int32_t flags = DB_CREATE | DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG |
			  DB_INIT_TXN | DB_REGISTER | DB_RECOVER | DB_FAILCHK | DB_THREAD;
	DB_ENV *env;
	int ret;

	if ((ret = db_env_create(&env, 0)))
		return err_set(err, "db_env_create: %s", db_strerror(ret));
	s->env = env;
	if (s->grouped) {
		/* the replication manager's threads share the handles: DB_THREAD */
		flags |= DB_INIT_REP | DB_THREAD;
		/*
		 * Not for store_group_create (bookpics-admin init, the
		 * supervisor's recovery), which only makes the regions. The
		 * first open after a kill -9 at a master runs failchk inside
		 * env->open (DB_REGISTER, DB_FAILCHK), and aborting a dead
		 * writer's transaction writes the log. A log write at a master
		 * by a DB_THREAD handle of a repmgr environment (the region
		 * says so, whatever this handle configured) starts repmgr's
		 * select thread on the spot (log_put.c, __repmgr_autostart);
		 * the open then detaches the regions it ran failchk with
		 * (env_register.c, __env_refresh) and leaves that thread
		 * running on them: bookpics-admin init, run.sh's first step,
		 * died of SIGSEGV in __repmgr_compute_timeout and
		 * __repmgr_send_v1_handshake (tests/t9510). Without DB_THREAD
		 * the write is refused and Berkeley DB recovers the site
		 * (DB_RECOVER) instead, which is what such a crash needs.
		 */
		if (s->env_only)
			flags &= ~(u_int32_t)DB_THREAD;
		/*
		 * The relay reads its site's copy and takes no part in the
		 * replication (no repmgr_site, no repmgr_start): its writes go
		 * through the replicator (store_forward).
		 */
		if (s->relayed)
			env->app_private = &s->link;
		else if (group_configure(env, &s->link, err))
			goto fail;
	}
	env->set_errfile(env, stderr);
	env->set_errpfx(env, "bookpics db");
	/*
	 * Every handle sets the same options (rather than a DB_CONFIG a user
	 * could lose): a commit reaches the OS before it returns, so it
	 * survives any process crash; deadlocks are broken at once; a lock
	 * held by a dead process cannot hang writers for longer than the lock
	 * timeout. Readers run at read-committed (DB_READ_COMMITTED: a read
	 * lock is let go as soon as the cursor moves on), not in MVCC
	 * snapshots: DB_MULTIVERSION copied every page an append touched,
	 * cost 10% of the webhook's CPU and kept one mutex per committed
	 * transaction until its copies left the cache (docs/BENCHMARKS.md).
	 */
	env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1);
	/* the part of each region in use written at creation: no hole there */
	env->set_flags(env, DB_REGION_INIT, 1);
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_timeout(env, 2000000, DB_SET_LOCK_TIMEOUT);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	env->set_cachesize(env, 0, 16 * 1024 * 1024, 1);
	env->set_thread_count(env, 1024);
	env->set_isalive(env, store_isalive);
	env->set_lk_max_locks(env, 100000);
	env->set_lk_max_objects(env, 100000);
	env->set_lk_max_lockers(env, 10000);
	env->set_tx_max(env, 1000);
	/*
	 * With MVCC the default mutex region ran out after ~160k appends
	 * (BDB2034, ENOMEM on every write); room to spare costs little.
	 * Applies when the environment is created.
	 */
	env->mutex_set_max(env, 50000);
	/*
	 * env->open can wait for ever on a region a dead process left half
	 * made (it spun at 100% CPU, issue 11): past OPEN_SECS, SIGALRM (its
	 * default action) ends this process, whose supervisor (lighttpd,
	 * bookpics-run) starts it again after the environment is recovered.
	 */
	alarm(OPEN_SECS);
	ret = env->open(env, s->home, flags, 0600);
	alarm(0);
	if (ret) {
		s->full = errno_full(ret);
		err_set(err, "open environment %s: %s", s->home, db_strerror(ret));
		goto fail;
	}
	if (store_reserve_regions(s, err))
		goto fail;
	if (s->env_only)
		return 0;
	if (s->grouped && store_group_join(s, err))
		goto fail;
	s->opening = 1;
	if (store_open_db(s, &s->rooms, "rooms.db", err) ||
	    store_open_db(s, &s->msgs, "messages.db", err) ||
	    store_open_db(s, &s->sids, "sids.db", err) ||
	    store_open_db(s, &s->users, "users.db", err) ||
	    store_open_db(s, &s->members, "members.db", err) ||
	    store_open_db(s, &s->roomusers, "roomusers.db", err) ||
	    store_open_db(s, &s->cursors, "cursors.db", err) ||
	    store_open_db(s, &s->conns, "conns.db", err) ||
	    store_open_db(s, &s->meta, "meta.db", err) ||
	    store_open_db(s, &s->changes, "changes.db", err) ||
	    store_open_db(s, &s->queue, "queue.db", err) ||
	    store_open_db(s, &s->mods, "moderators.db", err) ||
	    store_open_db(s, &s->blocked, "blocked.db", err) ||
	    store_open_db(s, &s->rates, "rates.db", err) ||
	    store_open_db(s, &s->events, "events.db", err) ||
	    store_open_db(s, &s->hooks, "hooks.db", err) ||
	    store_schema_check(s, err))
		goto fail;
	s->opening = 0;
	if (s->grouped) {
		pthread_rwlock_wrlock(&s->lock);
		s->handles_open = 1;
		pthread_rwlock_unlock(&s->lock);
	}
	return 0;
fail:
	s->opening = 0;
	store_close_handles(s);
	return -1;
}

struct store *store_open(const char *home, char *err)
{
	return store_open_group(home, NULL, STORE_SUBORDINATE, err);
}

struct store *store_open_group(const char *home, const struct group_conf *g,
			       enum store_role role, char *err)
{
	struct store *s;
	int tries;

	if (strlen(home) >= sizeof(s->home)) {
		err_set(err, "store_open: path too long");
		return NULL;
	}
	if (mkdir(home, 0700) && errno != EEXIST) {
		err_set(err, "mkdir %s: %s", home, strerror(errno));
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		err_set(err, "store_open: out of memory");
		return NULL;
	}
	strcpy(s->home, home);
	s->link_fd = -1;
	if (g && g->nsites) {
		s->grouped = 1;
		s->replicator = role == STORE_REPLICATOR;
		s->relayed = role == STORE_RELAYED;
		s->group = *g;
		group_link_init(&s->link, &s->group, store_serve, s);
		pthread_rwlock_init(&s->lock, NULL);
	}
	/* Several processes may open (and recover) at once at start-up. */
	for (tries = 0; tries < REOPEN_MAX && !s->refused; tries++) {
		if (!store_open_handles(s, err))
			return s;
		usleep(50000);
	}
	if (s->grouped) {
		pthread_rwlock_destroy(&s->lock);
		group_link_destroy(&s->link);
	}
	free(s);
	return NULL;
}

int store_group_create(const char *home, const struct group_conf *g, char *err)
{
	struct store *s;
	int ret;

	if (strlen(home) >= sizeof(s->home))
		return err_set(err, "store_group_create: path too long");
	if (mkdir(home, 0700) && errno != EEXIST)
		return err_set(err, "mkdir %s: %s", home, strerror(errno));
	if (!(s = calloc(1, sizeof(*s))))
		return err_set(err, "store_group_create: out of memory");
	strcpy(s->home, home);
	s->link_fd = -1;
	s->grouped = 1;
	s->env_only = 1;
	s->group = *g;
	group_link_init(&s->link, &s->group, NULL, NULL);
	pthread_rwlock_init(&s->lock, NULL);
	ret = store_open_handles(s, err);
	store_close(s);
	return ret;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_close_handles(s);
	if (s->link_fd >= 0)
		close(s->link_fd);
	if (s->grouped) {
		pthread_rwlock_destroy(&s->lock);
		group_link_destroy(&s->link);
	}
	free(s);
}

static void backoff(int tries)
{
	int shift = tries < 8 ? tries : 8;

	usleep((useconds_t)(50 + rand() % (50 << shift)));
}

/*
 * Run op in a transaction of its own (flags: TXN_WRITE or TXN_READ) until
 * it commits: store_run begins the transaction, commits it when op returns
 * 0 and aborts it otherwise, so a retry starts clean. Deadlocks and lock
 * timeouts are retried after a short random pause; DB_RUNRECOVERY (a
 * process died and the environment was recovered) closes and reopens every
 * handle, then retries. Returns 0, or -1 with err naming what failed.
 */
static int store_run(struct store *s, store_op op, void *arg, u_int32_t flags,
		     const char *what, char *err)
{
	int ret, tries, reopens = 0;
	DB_TXN *txn;

	s->full = 0;
	s->unavailable = 0;
	if (flags == TXN_WRITE && store_space_low(s, err))
		return -1;
	for (tries = 0;; tries++) {
		if (!s->env && store_open_handles(s, err))
			return -1;
		/* a write at a site that is not the master is the master's to do */
		if (s->grouped && flags == TXN_WRITE && !s->serving &&
		    (s->relayed || group_is_master(s->env) != 1))
			return store_forward(s, op, arg, what, err);
		if (s->grouped && flags == TXN_WRITE && !s->replicator && !s->serving &&
		    s->group.nsites > 1 && !s->opening && time(NULL) - s->reconnected >= 5 &&
		    group_local_connected(s->env) == 0 && store_group_reconnect(s, err))
			return -1;
		if (s->grouped)
			group_perm_reset();
		ret = s->env->txn_begin(s->env, NULL, &txn, flags);
		if (!ret) {
			ret = op(s, txn, arg);
			/*
			 * Serving another site: its token goes back with the
			 * answer, so that the asker waits until this commit is
			 * applied there too (read your own writes, below).
			 */
			if (!ret && s->serving)
				ret = txn->set_commit_token(txn, &s->token);
			if (ret)
				txn->abort(txn);
			else
				ret = txn->commit(txn, 0);
		}
		if (!ret && s->grouped && flags == TXN_WRITE && group_perm_failed()) {
			/*
			 * Committed here, not acknowledged as group_ack wants
			 * within GROUP_ACK_US: answered 503, and the retry of
			 * a MessageSid finds it (store_append's 0): no double.
			 */
			s->unavailable = 1;
			return err_set(err, "%s: stored at the master, not acknowledged by the group "
				       "within %d ms", what, GROUP_ACK_US / 1000);
		}
		if (!ret)
			return 0;
		if (s->grouped && !s->serving &&
		    (ret == DB_REP_HANDLE_DEAD || ret == DB_REP_LOCKOUT) && reopens++ < REOPEN_MAX) {
			/*
			 * The site's copy was rolled back or replaced (a new
			 * master, an internal init): new handles, after a
			 * pause for the replication to finish.
			 */
			store_close_handles(s);
			usleep(100000 << (reopens < 4 ? reopens : 4));
			continue;
		}
		if ((ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED) &&
		    tries < RETRY_MAX) {
			backoff(tries);
			continue;
		}
		if (ret == DB_RUNRECOVERY && !s->serving && reopens++ < REOPEN_MAX) {
			store_close_handles(s);
			usleep(10000);
			continue;
		}
		s->full = errno_full(ret);
		return err_set(err, "%s: %s", what, ret > 0 ? strerror(ret) : db_strerror(ret));
	}
}

int store_space(struct store *s, char *err)
{
	return store_space_low(s, err);
}

int store_full(const struct store *s)
{
	return s && s->full;
}

int store_unavailable(const struct store *s)
{
	return s && s->unavailable;
}

int store_maintain(struct store *s, char *err)
{
	int ret;

	/* the replicator checkpoints a group's site: a checkpoint is a log record to ship */
	if (s->relayed)
		return 0;
	if (store_space_low(s, err))
		return -1;
	if (!s->env && store_open_handles(s, err))
		return -1;
	alarm(MAINTAIN_SECS);	/* see store.h: stuck here is worse than restarted */
	if (!(ret = s->env->failchk(s->env, 0)))
		ret = s->env->txn_checkpoint(s->env, 1024, 1, 0);
	alarm(0);
	if (ret) {
		s->full = errno_full(ret);
		if (ret == DB_RUNRECOVERY)
			store_close_handles(s);
		return err_set(err, "checkpoint: %s", db_strerror(ret));
	}
	return 0;
}

int store_log_info(struct store *s, struct store_log_info *out, char *err)
{
	DB_TXN_STAT *ts = NULL;
	char **files = NULL, **f, path[2048];
	const char *home = NULL;
	struct stat st;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!s->env && store_open_handles(s, err))
		return -1;
	if ((ret = s->env->txn_stat(s->env, &ts, 0)))
		return err_set(err, "txn_stat: %s", db_strerror(ret));
	out->checkpoint_time = (int64_t)ts->st_time_ckp;
	free(ts);
	s->env->get_home(s->env, &home);
	/* every log file, needed or not: what the disk holds */
	if ((ret = s->env->log_archive(s->env, &files, DB_ARCH_LOG)))
		return err_set(err, "log_archive: %s", db_strerror(ret));
	for (f = files; f && *f; f++) {
		snprintf(path, sizeof(path), "%s/%s", home ? home : ".", *f);
		if (stat(path, &st) == 0) {
			out->log_bytes += (uint64_t)st.st_size;
			out->log_files++;
		}
	}
	free(files);
	return 0;
}

/* ---- rooms ---- */

struct room_arg {
	const char *name;
	int is_public;
	struct store_room *out;
	int result;
};

/*
 * A room's value: be64 last, u8 flags, then (since moderation) be64 last
 * change seq and be64 last queue id. A 9-byte value of an older store
 * reads as no changes and no queue.
 */
#define ROOM_VAL_LEN 25

static void room_decode(struct store_room *r, const char *name, const DBT *v)
{
	const unsigned char *p = v->data;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (v->size >= 9) {
		r->last = get_be64(p);
		r->is_public = p[8] & 1;
	}
	if (v->size >= ROOM_VAL_LEN) {
		r->changes = get_be64(p + 9);
		r->queued = get_be64(p + 17);
	}
}

static void room_encode(unsigned char *p, const struct store_room *r)
{
	put_be64(p, r->last);
	p[8] = r->is_public ? 1 : 0;
	put_be64(p + 9, r->changes);
	put_be64(p + 17, r->queued);
}

static int op_room_add(struct store *s, DB_TXN *txn, void *p)
{
	struct room_arg *a = p;
	unsigned char val[ROOM_VAL_LEN];
	struct store_room r;
	DBT k, v;
	int ret;

	memset(&r, 0, sizeof(r));
	r.is_public = a->is_public;
	room_encode(val, &r);
	dbt_set(&k, a->name, strlen(a->name));
	dbt_set(&v, val, sizeof(val));
	ret = s->rooms->put(s->rooms, txn, &k, &v, DB_NOOVERWRITE);
	a->result = ret == 0;
	if (ret == DB_KEYEXIST)
		ret = 0;
	return ret;
}

int store_room_add(struct store *s, const char *name, int is_public, char *err)
{
	struct room_arg a = { name, is_public, NULL, 0 };

	if (!store_name_ok(name))
		return err_set(err, "invalid room name '%s'", name);
	if (store_run(s, op_room_add, &a, TXN_WRITE, "add room", err))
		return -1;
	return a.result;
}

/* Read a room record inside txn with flags (DB_RMW to update it). */
static int room_read(struct store *s, DB_TXN *txn, const char *name,
		     struct store_room *r, u_int32_t flags)
{
	unsigned char rv[ROOM_VAL_LEN];
	DBT k, v;
	int ret;

	dbt_set(&k, name, strlen(name));
	dbt_head(&v, rv, sizeof(rv));	/* room_decode reads no further */
	ret = s->rooms->get(s->rooms, txn, &k, &v, flags);
	if (!ret)
		room_decode(r, name, &v);
	return ret;
}

static int op_room_get(struct store *s, DB_TXN *txn, void *p)
{
	struct room_arg *a = p;
	int ret;

	ret = room_read(s, txn, a->name, a->out, 0);
	a->result = ret == 0;
	if (ret == DB_NOTFOUND)
		ret = 0;
	return ret;
}

int store_room_get(struct store *s, const char *name, struct store_room *out, char *err)
{
	struct room_arg a = { name, 0, out, 0 };

	if (!store_name_ok(name))
		return 0;
	if (store_run(s, op_room_get, &a, TXN_READ, "read room", err))
		return -1;
	return a.result;
}

struct rooms_arg {
	struct store_room *rooms;
	size_t n;
};

static int op_room_list(struct store *s, DB_TXN *txn, void *p)
{
	struct rooms_arg *a = p;
	struct store_room *grown;
	size_t cap = 0;
	char name[STORE_NAME_MAX + 1];
	unsigned char rv[ROOM_VAL_LEN];
	DBC *c = NULL;
	DBT k, v;
	int ret;

	free(a->rooms);
	a->rooms = NULL;
	a->n = 0;
	if ((ret = s->rooms->cursor(s->rooms, txn, &c, 0)))
		return ret;
	dbt_grow(&k);	/* any length: a name too long is skipped, not an error */
	dbt_head(&v, rv, sizeof(rv));
	while ((ret = c->get(c, &k, &v, DB_NEXT)) == 0) {
		if (k.size > STORE_NAME_MAX)
			continue;
		if (a->n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(a->rooms, cap * sizeof(*grown));
			if (!grown) {
				ret = ENOMEM;
				break;
			}
			a->rooms = grown;
		}
		memcpy(name, k.data, k.size);
		name[k.size] = '\0';
		room_decode(&a->rooms[a->n++], name, &v);
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	c->close(c);
	free(k.data);
	return ret;
}

int store_room_list(struct store *s, struct store_room **rooms, size_t *n, char *err)
{
	struct rooms_arg a = { NULL, 0 };

	if (store_run(s, op_room_list, &a, TXN_READ, "list rooms", err)) {
		free(a.rooms);
		return -1;
	}
	*rooms = a.rooms;
	*n = a.n;
	return 0;
}

/* ---- messages ---- */

struct append_arg {
	const char *room, *sid, *record;
	size_t len;
	/* a chat post's client key (store_append_keyed), NULL for none */
	const char *user, *ckey;
	const void *fp;		/* its STORE_FP_LEN bytes */
	size_t fplen;
	uint64_t index;
	int result;
};

/*
 * A chat post's client key in sids.db: "k:" user "\n" key. No MessageSid
 * holds a ':' (inbound.h: [A-Za-z0-9]) and no user id a '\n' (name.h), so
 * it is never a sid and never another user's key. Its value is the
 * post's fingerprint, then the message key: a retry is told from a reuse
 * without reading the message.
 */
static size_t key_client(char *buf, const char *user, const char *ckey)
{
	size_t lu = strlen(user), lk = strlen(ckey);

	memcpy(buf, "k:", 2);
	memcpy(buf + 2, user, lu);
	buf[2 + lu] = '\n';
	memcpy(buf + 3 + lu, ckey, lk);
	return 3 + lu + lk;
}

/*
 * The sid or client key k is there already: a retry. Gives the first
 * message's index (a->result 0), or STORE_KEY_REUSED when a client key's
 * first post went to another room or said something else.
 */
static int append_seen(struct store *s, DB_TXN *txn, struct append_arg *a, DBT *k)
{
	unsigned char sv[STORE_FP_LEN + KEY_MAX + 1];
	size_t rl = strlen(a->room);
	DBT v;
	int ret;

	/* a message key, or a queued sid's value: both fit */
	dbt_user(&v, sv, 0, sizeof(sv));
	ret = s->sids->get(s->sids, txn, k, &v, 0);
	if (ret == DB_BUFFER_SMALL)
		ret = 0;	/* not a value store.c wrote: no index */
	else if (!ret && a->ckey) {
		if (v.size != STORE_FP_LEN + rl + 9 || memcmp(sv, a->fp, STORE_FP_LEN) ||
		    memcmp(sv + STORE_FP_LEN, a->room, rl + 1)) {
			a->result = STORE_KEY_REUSED;	/* nothing written */
			return 0;
		}
		a->index = get_be64(sv + v.size - 8);
	}
	/* a queued sid ("\0room\0id") has no index yet */
	else if (!ret && v.size >= 9 && sv[0])
		a->index = get_be64(sv + v.size - 8);
	/*
	 * In a group, the first try may have been answered 503 (committed
	 * here, not acknowledged): writing the same value again gives this
	 * commit a log record, so it too waits for group_ack's
	 * acknowledgements, which cover the first one's (earlier in the
	 * log). A retry is then answered 200 only once the group has the
	 * message.
	 */
	if (!ret && s->grouped && v.size <= sizeof(sv)) {
		dbt_set(&v, sv, v.size);
		ret = s->sids->put(s->sids, txn, k, &v, 0);
	}
	a->result = 0;
	return ret;
}

static int op_append(struct store *s, DB_TXN *txn, void *p)
{
	struct append_arg *a = p;
	struct store_room r;
	DBC *room = NULL;
	unsigned char rv[ROOM_VAL_LEN], iv[STORE_FP_LEN + KEY_MAX];
	char key[KEY_MAX], ik[KEY_MAX];
	size_t klen;
	DBT k, v;
	int ret;

	a->result = 0;
	a->index = 0;
	if (a->ckey && (!a->user || a->fplen != STORE_FP_LEN ||
			strlen(a->user) + strlen(a->ckey) + 3 > sizeof(ik)))
		return EINVAL;	/* store_append_keyed checked it: a bad forwarded request */
	/*
	 * The room's write lock first: every append to a room queues here.
	 * A cursor, so the new last is written where it was read (no second
	 * search, no second lock request).
	 */
	if ((ret = s->rooms->cursor(s->rooms, txn, &room, 0)))
		goto out;
	dbt_set(&k, a->room, strlen(a->room));
	dbt_head(&v, rv, sizeof(rv));
	if ((ret = room->get(room, &k, &v, DB_SET | DB_RMW)))
		goto out;
	room_decode(&r, a->room, &v);
	klen = key_msg(key, a->room, r.last + 1);
	if (a->sid || a->ckey) {
		if (a->ckey) {
			dbt_set(&k, ik, key_client(ik, a->user, a->ckey));
			memcpy(iv, a->fp, STORE_FP_LEN);
			memcpy(iv + STORE_FP_LEN, key, klen);
			dbt_set(&v, iv, STORE_FP_LEN + klen);
		} else {
			dbt_set(&k, a->sid, strlen(a->sid));
			dbt_set(&v, key, klen);
		}
		ret = s->sids->put(s->sids, txn, &k, &v, DB_NOOVERWRITE);
		if (ret == DB_KEYEXIST) {
			ret = append_seen(s, txn, a, &k);
			goto out;
		}
		if (ret)
			goto out;
	}
	dbt_set(&k, key, klen);
	dbt_set(&v, a->record, a->len);
	if ((ret = s->msgs->put(s->msgs, txn, &k, &v, DB_NOOVERWRITE)))
		goto out;
	r.last++;
	room_encode(rv, &r);
	dbt_set(&v, rv, sizeof(rv));
	if ((ret = room->put(room, &k, &v, DB_CURRENT)))
		goto out;
	a->index = r.last;
	a->result = 1;
out:
	if (room)
		room->close(room);	/* before the transaction ends */
#ifdef BOOKPICS_TESTHOOKS
	if (!ret && a->result == 1 && a->sid)	/* written, not committed: only locks held */
		store_test_stall("txn", a->sid, strlen(a->sid));
#endif
	if (ret == DB_NOTFOUND)
		ret = ENOENT;
	return ret;	/* a duplicate wrote nothing: its commit logs nothing */
}

int store_append(struct store *s, const char *room, const char *sid,
		 const char *record, size_t len, uint64_t *index, char *err)
{
	struct append_arg a = { room, sid, record, len, NULL, NULL, NULL, 0, 0, 0 };

	if (!store_name_ok(room))
		return err_set(err, "append: invalid room name");
	if (store_run(s, op_append, &a, TXN_WRITE, "append message", err))
		return -1;
	*index = a.index;
	return a.result;
}

int store_append_keyed(struct store *s, const char *room, const char *user, const char *key,
		       const unsigned char *fp, const char *record, size_t len,
		       uint64_t *index, char *err)
{
	struct append_arg a = { room, NULL, record, len, user, key, fp, STORE_FP_LEN, 0, 0 };
	size_t kl = strlen(key);

	if (!store_name_ok(room))
		return err_set(err, "append: invalid room name");
	if (!store_name_ok(user))
		return err_set(err, "append: invalid user id");
	if (!kl || kl > STORE_CLIENT_KEY_MAX)
		return err_set(err, "append: a client key must be 1 to %d bytes",
			       STORE_CLIENT_KEY_MAX);
	if (store_run(s, op_append, &a, TXN_WRITE, "append message", err))
		return -1;
	*index = a.index;
	return a.result;
}

struct msgs_arg {
	const char *room;
	enum store_dir dir;
	uint64_t from;
	size_t limit;
	struct store_msg *msgs;
	size_t n;
};

static void msgs_reset(struct msgs_arg *a)
{
	store_msgs_free(a->msgs, a->n);
	a->msgs = NULL;
	a->n = 0;
}

static int op_messages(struct store *s, DB_TXN *txn, void *p)
{
	struct msgs_arg *a = p;
	struct store_room r;
	uint64_t first, idx;
	size_t plen = strlen(a->room) + 1;
	int forward = a->dir == STORE_ASC, ret;
	char key[KEY_MAX];
	DBC *c = NULL;
	DBT k, v;

	msgs_reset(a);
	dbt_grow(&v);	/* records of any length, one buffer for the page */
	ret = room_read(s, txn, a->room, &r, 0);
	if (ret == DB_NOTFOUND) {
		ret = 0;
		goto out;
	}
	if (ret)
		goto out;
	/* Indexes are gapless, so the first key of the page is known. */
	if (forward)
		first = a->from + 1;
	else if (a->from > 0)
		first = a->from - 1 < r.last ? a->from - 1 : r.last;
	else
		first = r.last;
	if (first < 1 || first > r.last || !a->limit)
		goto out;
	a->msgs = calloc(a->limit, sizeof(*a->msgs));
	if (!a->msgs) {
		ret = ENOMEM;
		goto out;
	}
	if ((ret = s->msgs->cursor(s->msgs, txn, &c, 0)))
		goto out;
	dbt_user(&k, key, key_msg(key, a->room, first), sizeof(key));
	ret = c->get(c, &k, &v, DB_SET);
	while (!ret && a->n < a->limit) {
		struct store_msg *m = &a->msgs[a->n];

		if (k.size != plen + 8 || memcmp(k.data, a->room, plen))
			break;
		idx = get_be64((unsigned char *)k.data + plen);
		if (idx < 1 || idx > r.last)
			break;	/* appended after the room was read: next page */
		m->record = malloc(v.size + 1);
		if (!m->record) {
			ret = ENOMEM;
			break;
		}
		if (v.size)
			memcpy(m->record, v.data, v.size);
		m->record[v.size] = '\0';
		m->len = v.size;
		m->index = idx;
		a->n++;
		ret = c->get(c, &k, &v, forward ? DB_NEXT : DB_PREV);
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
out:
	if (c)
		c->close(c);
	free(v.data);
	return ret;
}

int store_messages(struct store *s, const char *room, enum store_dir dir,
		   uint64_t from, size_t limit, struct store_msg **msgs,
		   size_t *n, char *err)
{
	struct msgs_arg a = { room, dir, from, limit, NULL, 0 };

	*msgs = NULL;
	*n = 0;
	if (!store_name_ok(room))
		return 0;
	if (store_run(s, op_messages, &a, TXN_READ, "read messages", err)) {
		msgs_reset(&a);
		return -1;
	}
	*msgs = a.msgs;
	*n = a.n;
	return 0;
}

void store_msgs_free(struct store_msg *msgs, size_t n)
{
	size_t i;

	if (!msgs)
		return;
	for (i = 0; i < n; i++)
		free(msgs[i].record);
	free(msgs);
}

int store_message_get(struct store *s, const char *room, uint64_t index,
		      char **record, char *err)
{
	struct store_msg *m;
	size_t n;

	*record = NULL;
	if (index < 1)
		return 0;
	if (store_messages(s, room, STORE_ASC, index - 1, 1, &m, &n, err))
		return -1;
	if (n == 1 && m[0].index == index) {
		*record = m[0].record;
		m[0].record = NULL;
	}
	store_msgs_free(m, n);
	return *record != NULL;
}

/* ---- small key/value helpers for users, members, cursors, conns ---- */

/*
 * A kv or scan op names its database by the store's field (&s->users),
 * never by its handle: store_run may close and reopen every handle
 * between two tries (DB_REP_HANDLE_DEAD, a subordinate reconnecting), and
 * a handle taken before would then be freed memory, or another database's
 * new handle at the same address (a user added at a group's master was
 * written into messages.db under load: tests/t9520).
 */
struct kv_arg {
	DB **db;
	const char *key;
	size_t klen;
	const void *val;
	size_t vlen;
	u_int32_t flags;	/* put flags */
	int result;
	unsigned char out[16];	/* get: first bytes of the value */
	size_t outlen;
};

static int op_kv_put(struct store *s, DB_TXN *txn, void *p)
{
	struct kv_arg *a = p;
	DBT k, v;
	int ret;

	(void)s;	/* the db is in the argument */
	dbt_set(&k, a->key, a->klen);
	dbt_set(&v, a->val, a->vlen);
	ret = (*a->db)->put(*a->db, txn, &k, &v, a->flags);
	a->result = ret == 0;
	if (ret == DB_KEYEXIST)
		ret = 0;
	return ret;
}

static int op_kv_del(struct store *s, DB_TXN *txn, void *p)
{
	struct kv_arg *a = p;
	DBT k;
	int ret;

	(void)s;	/* the db is in the argument */
	dbt_set(&k, a->key, a->klen);
	ret = (*a->db)->del(*a->db, txn, &k, 0);
	a->result = ret == 0;
	if (ret == DB_NOTFOUND)
		ret = 0;
	return ret;
}

static int op_kv_get(struct store *s, DB_TXN *txn, void *p)
{
	struct kv_arg *a = p;
	DBT k, v;
	int ret;

	(void)s;	/* the db is in the argument */
	dbt_set(&k, a->key, a->klen);
	dbt_head(&v, a->out, sizeof(a->out));
	ret = (*a->db)->get(*a->db, txn, &k, &v, 0);
	a->result = ret == 0;
	a->outlen = ret ? 0 : v.size;
	if (ret == DB_NOTFOUND)
		ret = 0;
	return ret;
}

struct scan_arg {
	DB **db;		/* the store's field, as kv_arg's */
	const char *prefix;	/* keys "prefix\0rest"; NULL: every key */
	int value;		/* collect the value instead of the key's rest */
	char **v;
	size_t n;
};

static void scan_reset(struct scan_arg *a)
{
	store_strings_free(a->v, a->n);
	a->v = NULL;
	a->n = 0;
}

static int op_scan(struct store *s, DB_TXN *txn, void *p)
{
	struct scan_arg *a = p;
	size_t plen = a->prefix ? strlen(a->prefix) + 1 : 0, cap = 0, len;
	char key[KEY_MAX], **grown;
	const char *from;
	DBC *c = NULL;
	DBT k, v;
	int ret;

	(void)s;	/* the db is in the argument */
	scan_reset(a);
	if ((ret = (*a->db)->cursor(*a->db, txn, &c, 0)))
		return ret;
	if (plen)
		memcpy(key, a->prefix, plen);
	dbt_user(&k, key, plen, sizeof(key));
	if (a->value)
		dbt_grow(&v);
	else
		dbt_head(&v, NULL, 0);	/* keys only: no value copied */
	ret = c->get(c, &k, &v, plen ? DB_SET_RANGE : DB_FIRST);
	while (!ret) {
		if (k.size < plen || memcmp(k.data, a->prefix ? a->prefix : "", plen))
			break;
		from = a->value ? v.data : (char *)k.data + plen;
		len = a->value ? v.size : k.size - plen;
		if (a->n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(a->v, cap * sizeof(*grown));
			if (!grown) {
				ret = ENOMEM;
				break;
			}
			a->v = grown;
		}
		a->v[a->n] = malloc(len + 1);
		if (!a->v[a->n]) {
			ret = ENOMEM;
			break;
		}
		if (len)
			memcpy(a->v[a->n], from, len);
		a->v[a->n++][len] = '\0';
		ret = c->get(c, &k, &v, DB_NEXT);
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	c->close(c);
	if (a->value)
		free(v.data);
	return ret;
}

static int scan(struct store *s, DB **db, const char *prefix, int value,
		char ***out, size_t *n, const char *what, char *err)
{
	struct scan_arg a = { db, prefix, value, NULL, 0 };

	if (store_run(s, op_scan, &a, TXN_READ, what, err)) {
		scan_reset(&a);
		return -1;
	}
	*out = a.v;
	*n = a.n;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void store_strings_free(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- users ---- */

int store_user_add(struct store *s, const char *id, char *err)
{
	unsigned char when[16];
	struct kv_arg a;

	if (!store_name_ok(id))
		return err_set(err, "invalid user id '%s'", id);
	put_be64(when, (uint64_t)time(NULL));
	/*
	 * Not before its creation: a token of an earlier user of the same id
	 * (removed, then added again) must not come back to life.
	 */
	put_be64(when + 8, store_now_us());
	memset(&a, 0, sizeof(a));
	a.db = &s->users, a.key = id, a.klen = strlen(id);
	a.val = when, a.vlen = sizeof(when), a.flags = DB_NOOVERWRITE;
	if (store_run(s, op_kv_put, &a, TXN_WRITE, "add user", err))
		return -1;
	return a.result;
}

int store_user_exists(struct store *s, const char *id, char *err)
{
	struct kv_arg a;

	if (!store_name_ok(id))
		return 0;
	memset(&a, 0, sizeof(a));
	a.db = &s->users, a.key = id, a.klen = strlen(id);
	if (store_run(s, op_kv_get, &a, TXN_READ, "read user", err))
		return -1;
	return a.result;
}

int store_user_list(struct store *s, char ***ids, size_t *n, char *err)
{
	return scan(s, &s->users, NULL, 0, ids, n, "list users", err);
}

/* ---- membership ---- */

struct member_arg {
	const char *user, *room;
	int add, result;
};

static int op_member(struct store *s, DB_TXN *txn, void *p)
{
	struct member_arg *a = p;
	char k1[KEY_MAX], k2[KEY_MAX];
	struct store_room r;
	DBT k, v;
	int ret;

	dbt_set(&k, a->user, strlen(a->user));
	dbt_head(&v, NULL, 0);	/* there or not */
	if ((ret = s->users->get(s->users, txn, &k, &v, 0)))
		goto out;
	if ((ret = room_read(s, txn, a->room, &r, 0)))
		goto out;
	dbt_set(&v, "", 0);
	dbt_set(&k, k1, key_pair(k1, a->user, a->room));
	if (a->add) {
		ret = s->members->put(s->members, txn, &k, &v, DB_NOOVERWRITE);
		if (!ret) {
			dbt_set(&k, k2, key_pair(k2, a->room, a->user));
			ret = s->roomusers->put(s->roomusers, txn, &k, &v, 0);
		}
		if (!ret) {
			/*
			 * A new member is owed what is sent from now on,
			 * connected or not: start the cursor at the room's
			 * end (a cursor kept from an earlier membership is
			 * moved forward too; the history is in the API).
			 */
			unsigned char cur[8];

			put_be64(cur, r.last);
			dbt_set(&k, k1, key_pair(k1, a->user, a->room));
			dbt_set(&v, cur, sizeof(cur));
			ret = s->cursors->put(s->cursors, txn, &k, &v, 0);
		}
		a->result = ret == 0;
		if (ret == DB_KEYEXIST)
			ret = 0;
	} else {
		ret = s->members->del(s->members, txn, &k, 0);
		if (!ret) {
			dbt_set(&k, k2, key_pair(k2, a->room, a->user));
			ret = s->roomusers->del(s->roomusers, txn, &k, 0);
		}
		a->result = ret == 0;
		if (ret == DB_NOTFOUND && !a->result)
			ret = 0;
	}
out:
	if (ret == DB_NOTFOUND)
		ret = ENOENT;	/* unknown user or room */
	return ret;
}

static int member_change(struct store *s, const char *user, const char *room,
			 int add, char *err)
{
	struct member_arg a = { user, room, add, 0 };

	if (!store_name_ok(user) || !store_name_ok(room))
		return err_set(err, "invalid user or room name");
	if (store_user_exists(s, user, err) != 1)
		return err_set(err, "no such user '%s'", user);
	if (store_run(s, op_member, &a, TXN_WRITE, add ? "add member" : "remove member", err))
		return -1;
	return a.result;
}

int store_member_add(struct store *s, const char *user, const char *room, char *err)
{
	return member_change(s, user, room, 1, err);
}

int store_member_remove(struct store *s, const char *user, const char *room, char *err)
{
	return member_change(s, user, room, 0, err);
}

/*
 * Is the pair first \0 second a key of db (members: user \0 room; moderators:
 * room \0 user)? 1/0/-1. An invalid name is simply not there.
 */
static int pair_has(struct store *s, DB **db, const char *first, const char *second,
		    const char *what, char *err)
{
	char key[KEY_MAX];
	struct kv_arg a;

	if (!store_name_ok(first) || !store_name_ok(second))
		return 0;
	memset(&a, 0, sizeof(a));
	a.db = db, a.key = key, a.klen = key_pair(key, first, second);
	if (store_run(s, op_kv_get, &a, TXN_READ, what, err))
		return -1;
	return a.result;
}

int store_is_member(struct store *s, const char *user, const char *room, char *err)
{
	return pair_has(s, &s->members, user, room, "read membership", err);
}

int store_user_rooms(struct store *s, const char *user, char ***rooms, size_t *n, char *err)
{
	*rooms = NULL, *n = 0;
	if (!store_name_ok(user))
		return 0;
	return scan(s, &s->members, user, 0, rooms, n, "list user rooms", err);
}

int store_room_members(struct store *s, const char *room, char ***users, size_t *n, char *err)
{
	*users = NULL, *n = 0;
	if (!store_name_ok(room))
		return 0;
	return scan(s, &s->roomusers, room, 0, users, n, "list room members", err);
}

/* ---- cursors ---- */

int store_cursor_get(struct store *s, const char *user, const char *room,
		     uint64_t *index, char *err)
{
	char key[KEY_MAX];
	struct kv_arg a;

	*index = 0;
	if (!store_name_ok(user) || !store_name_ok(room))
		return 0;
	memset(&a, 0, sizeof(a));
	a.db = &s->cursors, a.key = key, a.klen = key_pair(key, user, room);
	if (store_run(s, op_kv_get, &a, TXN_READ, "read cursor", err))
		return -1;
	if (a.result && a.outlen == 8)
		*index = get_be64(a.out);
	return a.result;
}

struct cursor_arg {
	const char *key;
	size_t klen;
	uint64_t index;
};

static int op_cursor_set(struct store *s, DB_TXN *txn, void *p)
{
	struct cursor_arg *a = p;
	unsigned char val[8];
	DBT k, v;
	int ret;

	dbt_set(&k, a->key, a->klen);
	dbt_user(&v, val, 0, sizeof(val));
	ret = s->cursors->get(s->cursors, txn, &k, &v, DB_RMW);
	if (!ret && v.size == 8 && get_be64(val) >= a->index)
		return 0;		/* never backwards */
	if (ret && ret != DB_NOTFOUND && ret != DB_BUFFER_SMALL)
		return ret;		/* longer than 8 bytes: not a cursor, overwritten */
	put_be64(val, a->index);
	dbt_set(&v, val, sizeof(val));
	return s->cursors->put(s->cursors, txn, &k, &v, 0);
}

struct cursor_batch_arg {
	const void *list;	/* per cursor: its key's length (2 bytes), the key, its index (8) */
	size_t len;
};

static int op_cursor_batch(struct store *s, DB_TXN *txn, void *p)
{
	struct cursor_batch_arg *a = p;
	const unsigned char *b = a->list;
	struct cursor_arg c;
	size_t at = 0, kl;
	int ret;

	while (at < a->len) {
		if (a->len - at < 2)
			return EINVAL;	/* not what store_cursor_batch packs */
		kl = (size_t)b[at] << 8 | b[at + 1];
		if (!kl || kl > KEY_MAX || a->len - at - 2 < kl + 8)
			return EINVAL;
		c.key = (const char *)b + at + 2, c.klen = kl, c.index = get_be64(b + at + 2 + kl);
		if ((ret = op_cursor_set(s, txn, &c)))
			return ret;
		at += 2 + kl + 8;
	}
	return 0;
}

int store_cursor_batch(struct store *s, const struct store_cursor *list, size_t n, char *err)
{
	struct cursor_batch_arg a;
	unsigned char *buf;
	char key[KEY_MAX];
	size_t i, w = 0, kl;
	int ret;

	if (!n)
		return 0;
	if (!(buf = malloc(n * (2 + KEY_MAX + 8))))
		return err_set(err, "write cursors: out of memory");
	for (i = 0; i < n; i++) {
		if (!store_name_ok(list[i].user) || !store_name_ok(list[i].room)) {
			free(buf);
			return err_set(err, "write cursors: invalid user or room name");
		}
		kl = key_pair(key, list[i].user, list[i].room);
		buf[w] = (unsigned char)(kl >> 8), buf[w + 1] = (unsigned char)kl;
		memcpy(buf + w + 2, key, kl);
		put_be64(buf + w + 2 + kl, list[i].index);
		w += 2 + kl + 8;
	}
	a.list = buf, a.len = w;
	ret = store_run(s, op_cursor_batch, &a, TXN_WRITE, "write cursors", err);
	free(buf);
	return ret;
}

/*
 * One cursor is a batch of one. op_cursor_set stays in write_ops, as a
 * site of an older version forwards it.
 */
int store_cursor_set(struct store *s, const char *user, const char *room,
		     uint64_t index, char *err)
{
	struct store_cursor c = { user, room, index };

	return store_cursor_batch(s, &c, 1, err);
}

/* A connection's key: in a group "SITE/conn", so that each site clears only its own. */
static const char *conn_key(struct store *s, const char *conn, char *buf, size_t len)
{
	if (!s->grouped)
		return conn;
	snprintf(buf, len, "%s/%s", s->group.self, conn);
	return buf;
}

/* ---- live connections ---- */

/*
 * A group's sites the master cannot reach, as its relay last wrote them
 * (store_sites_down_set): meta.db "sites_down" = ",A,B," ("" or absent:
 * none). Their connections count for nobody (docs/DESIGN.md "Groups").
 */
#define SITES_DOWN_MAX (GROUP_SITES_MAX * GROUP_ADDR_MAX + 2)

static int sites_down_get(struct store *s, DB_TXN *txn, char *buf, u_int32_t flags)
{
	DBT k, v;
	int ret;

	buf[0] = '\0';
	dbt_set(&k, "sites_down", 10);
	dbt_user(&v, buf, 0, SITES_DOWN_MAX - 1);
	ret = s->meta->get(s->meta, txn, &k, &v, flags);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret == DB_BUFFER_SMALL)
		return EINVAL;	/* the writer never writes more */
	if (!ret)
		buf[v.size] = '\0';
	return ret;
}

/* The site of a group's connection key "SITE/conn" (its length; 0: no site). */
static size_t conn_site_len(const void *key, size_t klen)
{
	const char *slash = memchr(key, '/', klen);

	return slash ? (size_t)(slash - (const char *)key) : 0;
}

/* Is the site of key (site_len bytes) listed in down (",A,B,")? */
static int conn_site_down(const char *down, const void *key, size_t site_len)
{
	const char *p;

	if (!site_len)
		return 0;
	for (p = strstr(down, ","); p && p[1]; p = strchr(p + 1, ',')) {
		if (!strncmp(p + 1, key, site_len) && p[1 + site_len] == ',')
			return 1;
	}
	return 0;
}


int store_conn_add(struct store *s, const char *conn, const char *user, char *err)
{
	unsigned char val[STORE_NAME_MAX + 1 + 8];
	size_t ulen = strlen(user);
	char kbuf[GROUP_ADDR_MAX + 128];
	struct kv_arg a;

	if (ulen > STORE_NAME_MAX)
		return err_set(err, "add connection: user id too long");
	conn = conn_key(s, conn, kbuf, sizeof(kbuf));
	/* "user\0since": readers of the user id stop at the NUL (schema 0 had no since) */
	memcpy(val, user, ulen + 1);
	put_be64(val + ulen + 1, store_now_us());
	memset(&a, 0, sizeof(a));
	a.db = &s->conns, a.key = conn, a.klen = strlen(conn);
	a.val = val, a.vlen = ulen + 1 + 8;
	return store_run(s, op_kv_put, &a, TXN_WRITE, "add connection", err);
}

int store_conn_remove(struct store *s, const char *conn, char *err)
{
	char kbuf[GROUP_ADDR_MAX + 128];
	struct kv_arg a;

	conn = conn_key(s, conn, kbuf, sizeof(kbuf));
	memset(&a, 0, sizeof(a));
	a.db = &s->conns, a.key = conn, a.klen = strlen(conn);
	return store_run(s, op_kv_del, &a, TXN_WRITE, "remove connection", err);
}

struct conn_clear_arg {
	const char *prefix;	/* NULL: every connection; else "SITE/" ones */
	const char *keep;	/* NULL, or keys starting with it stay (prefix included) */
};

static int op_conn_clear(struct store *s, DB_TXN *txn, void *p)
{
	struct conn_clear_arg *a = p;
	size_t plen, klen;
	u_int32_t count;
	DBC *c = NULL;
	DBT k, v;
	int ret;

	if (!a->prefix && !a->keep)
		return s->conns->truncate(s->conns, txn, &count, 0);
	/* a group's: only this site's (its relay restarted), not the others' */
	if (!a->prefix)
		a->prefix = "";
	plen = strlen(a->prefix);
	klen = a->keep ? strlen(a->keep) : 0;
	if ((ret = s->conns->cursor(s->conns, txn, &c, 0)))
		return ret;
	dbt_set(&k, a->prefix, plen);
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_PARTIAL | DB_DBT_MALLOC;	/* the keys are all it needs */
	k.flags = DB_DBT_MALLOC;
	ret = c->get(c, &k, &v, DB_SET_RANGE | DB_RMW);
	while (!ret && k.size >= plen && !memcmp(k.data, a->prefix, plen)) {
		/* this relay's own connections, made before the clear could run */
		int keep = klen && k.size >= klen && !memcmp(k.data, a->keep, klen);

		free(k.data);
		free(v.data);
		if (!keep && (ret = c->del(c, 0)))
			break;
		k.data = v.data = NULL;
		ret = c->get(c, &k, &v, DB_NEXT | DB_RMW);
	}
	if (!ret) {
		free(k.data);
		free(v.data);
	}
	c->close(c);
	return ret == DB_NOTFOUND ? 0 : ret;
}

int store_conn_clear(struct store *s, const char *keep, char *err)
{
	char prefix[GROUP_ADDR_MAX + 1], kbuf[GROUP_ADDR_MAX + 128];
	struct conn_clear_arg a = { NULL, keep };

	if (s->grouped) {
		snprintf(prefix, sizeof(prefix), "%s/", s->group.self);
		a.prefix = prefix;
		if (keep)
			a.keep = conn_key(s, keep, kbuf, sizeof(kbuf));
	}
	return store_run(s, op_conn_clear, &a, TXN_WRITE, "clear connections", err);
}


static int conn_users_live(struct store *s, char ***users, size_t *n, char *err);

int store_conn_users(struct store *s, char ***users, size_t *n, char *err)
{
	if (s->grouped)
		return conn_users_live(s, users, n, err);
	if (scan(s, &s->conns, NULL, 1, users, n, "list connections", err))
		return -1;
	if (*n)
		qsort(*users, *n, sizeof(**users), str_cmp);
	return 0;
}

/* ---- schema, revocation, removal, listings (bookpics 0.13) ---- */

struct schema_arg {
	int found;		/* the store's version, 0 = none written (before 0.13) */
	int upgrade;		/* this process may write it (store_writes_here) */
};

/* Read the schema; write STORE_SCHEMA over an older (or missing) one. */
static int op_schema(struct store *s, DB_TXN *txn, void *p)
{
	struct schema_arg *a = p;
	char buf[16];
	DBT k, v;
	int ret;

	a->found = 0;
	dbt_set(&k, "schema", 6);
	dbt_user(&v, buf, 0, sizeof(buf) - 1);	/* room for the NUL */
	/* read-only handles (the relay of a group's site) take no write lock */
	ret = s->meta->get(s->meta, txn, &k, &v, a->upgrade ? DB_RMW : 0);
	if (ret == DB_BUFFER_SMALL)
		return EINVAL;	/* no version is that long */
	if (ret && ret != DB_NOTFOUND)
		return ret;
	if (!ret) {
		buf[v.size] = '\0';
		a->found = atoi(buf);
		if (a->found < 1)
			return EINVAL;
		if (a->found >= STORE_SCHEMA)
			return 0;	/* current, or newer: the caller refuses that */
	}
	if (!a->upgrade)
		return 0;	/* the master's to upgrade; it comes by replication */
	/*
	 * Upgrades, one schema at a time. 0 -> 1 converts nothing: 8-byte
	 * user records read as "not before 0", connection records without
	 * a time as "since 0"; writing the version is all.
	 */
	snprintf(buf, sizeof(buf), "%d", STORE_SCHEMA);
	dbt_set(&v, buf, strlen(buf));
	return s->meta->put(s->meta, txn, &k, &v, 0);
}

static int store_schema_check(struct store *s, char *err)
{
	struct schema_arg a = { 0, store_writes_here(s) };

	/* a client reads the schema its master wrote; only a master upgrades it */
	if (store_run(s, op_schema, &a, a.upgrade ? TXN_WRITE : TXN_READ,
		      "store schema", err))
		return -1;
	if (a.found > STORE_SCHEMA) {
		s->refused = 1;
		return err_set(err, "store %s has schema version %d, but this bookpics knows "
			       "versions up to %d: run the newer bookpics that wrote it "
			       "(docs/UPGRADING.md)", s->home, a.found, STORE_SCHEMA);
	}
	s->schema_was = a.found;
	return 0;
}

int store_schema(struct store *s, int *was)
{
	if (was)
		*was = s->schema_was;
	return STORE_SCHEMA;
}

/* A user record's not-before (µs), 0 when it has none (schema 0). */
static uint64_t user_not_before(const DBT *v)
{
	return v->size >= 16 ? get_be64((unsigned char *)v->data + 8) : 0;
}

struct user_arg {
	const char *id;
	uint64_t us;		/* revoke: the new not-before */
	uint64_t not_before;	/* get: the record's */
	int result;
};

static int op_user_get(struct store *s, DB_TXN *txn, void *p)
{
	struct user_arg *a = p;
	unsigned char val[16];
	DBT k, v;
	int ret;

	dbt_set(&k, a->id, strlen(a->id));
	dbt_head(&v, val, sizeof(val));	/* creation time, not-before */
	ret = s->users->get(s->users, txn, &k, &v, 0);
	a->result = ret == 0;
	a->not_before = ret ? 0 : user_not_before(&v);
	return ret == DB_NOTFOUND ? 0 : ret;
}

int store_user_not_before(struct store *s, const char *id, uint64_t *us, char *err)
{
	struct user_arg a = { id, 0, 0, 0 };

	*us = 0;
	if (!store_name_ok(id))
		return 0;
	if (store_run(s, op_user_get, &a, TXN_READ, "read user", err))
		return -1;
	*us = a.not_before;
	return a.result;
}

static int op_user_revoke(struct store *s, DB_TXN *txn, void *p)
{
	struct user_arg *a = p;
	unsigned char val[16];
	uint64_t was;
	DBT k, v;
	int ret;

	a->result = 0;
	dbt_set(&k, a->id, strlen(a->id));
	dbt_head(&v, val, sizeof(val));
	ret = s->users->get(s->users, txn, &k, &v, DB_RMW);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret)
		return ret;
	was = user_not_before(&v);
	if (v.size < 8)
		put_be64(val, 0);	/* no creation time: 0, as before */
	/* never backwards: a revocation is not undone by an older one */
	put_be64(val + 8, a->us > was ? a->us : was);
	dbt_set(&v, val, sizeof(val));
	if ((ret = s->users->put(s->users, txn, &k, &v, 0)))
		return ret;
	a->result = 1;
	return 0;
}

int store_user_revoke(struct store *s, const char *id, uint64_t us, char *err)
{
	struct user_arg a = { id, us, 0, 0 };

	if (!store_name_ok(id))
		return 0;
	if (store_run(s, op_user_revoke, &a, TXN_WRITE, "revoke tokens", err))
		return -1;
	return a.result;
}

/* Delete every key "prefix\0..." of db inside txn; *rests (may be NULL) collects the rests. */
static int del_prefix(DB *db, DB_TXN *txn, const char *prefix, char ***rests, size_t *n)
{
	size_t plen = strlen(prefix) + 1, cap = 0;
	char key[KEY_MAX], **grown;
	DBC *c = NULL;
	DBT k, v;
	int ret;

	if ((ret = db->cursor(db, txn, &c, 0)))
		return ret;
	memcpy(key, prefix, plen);
	dbt_user(&k, key, plen, sizeof(key));
	dbt_head(&v, NULL, 0);	/* the keys are all it needs */
	ret = c->get(c, &k, &v, DB_SET_RANGE | DB_RMW);
	while (!ret && k.size >= plen && !memcmp(k.data, prefix, plen)) {
		if (rests) {
			if (*n == cap) {
				cap = cap ? 2 * cap : 16;
				grown = realloc(*rests, cap * sizeof(*grown));
				if (!grown) {
					ret = ENOMEM;
					break;
				}
				*rests = grown;
			}
			(*rests)[*n] = strndup((char *)k.data + plen, k.size - plen);
			if (!(*rests)[*n]) {
				ret = ENOMEM;
				break;
			}
			(*n)++;
		}
		if ((ret = c->del(c, 0)))
			break;
		ret = c->get(c, &k, &v, DB_NEXT | DB_RMW);
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	c->close(c);
	return ret;
}

static int op_user_remove(struct store *s, DB_TXN *txn, void *p)
{
	struct user_arg *a = p;
	char key[KEY_MAX], **rooms = NULL;
	size_t n = 0, i;
	DBT k;
	int ret;

	a->result = 0;
	dbt_set(&k, a->id, strlen(a->id));
	ret = s->users->del(s->users, txn, &k, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret)
		return ret;
	/* memberships both ways, then the cursors */
	if ((ret = del_prefix(s->members, txn, a->id, &rooms, &n)))
		goto out;
	for (i = 0; i < n; i++) {
		dbt_set(&k, key, key_pair(key, rooms[i], a->id));
		ret = s->roomusers->del(s->roomusers, txn, &k, 0);
		if (ret && ret != DB_NOTFOUND)
			goto out;
	}
	if ((ret = del_prefix(s->cursors, txn, a->id, NULL, NULL)))
		goto out;
	a->result = 1;
out:
	store_strings_free(rooms, n);
	return ret;
}

int store_user_remove(struct store *s, const char *id, char *err)
{
	struct user_arg a = { id, 0, 0, 0 };

	if (!store_name_ok(id))
		return 0;
	if (store_run(s, op_user_remove, &a, TXN_WRITE, "remove user", err))
		return -1;
	return a.result;
}

struct conns_arg {
	struct store_conn *conns;
	size_t n;
	int live;		/* a group's: leave out the sites that are down */
};

static int op_conn_list(struct store *s, DB_TXN *txn, void *p)
{
	struct conns_arg *a = p;
	struct store_conn *grown, *c;
	char down[SITES_DOWN_MAX] = "";
	size_t cap = 0, ulen;
	DBC *cur = NULL;
	DBT k, v;
	int ret;

	free(a->conns);
	a->conns = NULL;
	a->n = 0;
	if (a->live && s->grouped && (ret = sites_down_get(s, txn, down, 0)))
		return ret;
	if ((ret = s->conns->cursor(s->conns, txn, &cur, 0)))
		return ret;
	/* any length: store_conn_add takes any id; what does not fit is skipped */
	dbt_grow(&k);
	dbt_grow(&v);
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		ulen = strnlen(v.data, v.size);
		if (k.size >= sizeof(c->conn) || ulen > STORE_NAME_MAX)
			continue;
		if (down[0] && conn_site_down(down, k.data, conn_site_len(k.data, k.size)))
			continue;
		if (a->n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(a->conns, cap * sizeof(*grown));
			if (!grown) {
				ret = ENOMEM;
				break;
			}
			a->conns = grown;
		}
		c = &a->conns[a->n++];
		memcpy(c->conn, k.data, k.size);
		c->conn[k.size] = '\0';
		memcpy(c->user, v.data, ulen);
		c->user[ulen] = '\0';
		c->since_us = v.size >= ulen + 1 + 8 ?
			get_be64((unsigned char *)v.data + ulen + 1) : 0;
		c->replaces = v.size == ulen + 1 + 9 &&
			      ((unsigned char *)v.data)[ulen + 1 + 8] == 'r';
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	cur->close(cur);
	free(k.data);
	free(v.data);
	return ret;
}

int store_conn_list(struct store *s, struct store_conn **conns, size_t *n, char *err)
{
	struct conns_arg a = { NULL, 0, 0 };

	if (store_run(s, op_conn_list, &a, TXN_READ, "list connections", err)) {
		free(a.conns);
		return -1;
	}
	*conns = a.conns;
	*n = a.n;
	return 0;
}

/* A group's store_conn_users: every live site's connections, sorted. */
static int conn_users_live(struct store *s, char ***users, size_t *n, char *err)
{
	struct conns_arg a = { NULL, 0, 1 };
	char **v = NULL;
	size_t i;
	int ret = -1;

	*users = NULL;
	*n = 0;
	if (store_run(s, op_conn_list, &a, TXN_READ, "list connections", err))
		goto out;
	if (!(v = calloc(a.n ? a.n : 1, sizeof(*v)))) {
		err_set(err, "list connections: out of memory");
		goto out;
	}
	for (i = 0; i < a.n; i++) {
		if (!(v[i] = strdup(a.conns[i].user))) {
			store_strings_free(v, i);
			v = NULL;
			err_set(err, "list connections: out of memory");
			goto out;
		}
	}
	if (a.n)
		qsort(v, a.n, sizeof(*v), str_cmp);
	*users = v;
	*n = a.n;
	ret = 0;
out:
	free(a.conns);
	return ret;
}

/* ---- backup ---- */

int store_backup(struct store *s, const char *target, char *err)
{
	int ret;

	if (!s->env && store_open_handles(s, err))
		return -1;
	/* a checkpoint first (db_hotbackup -c): less log to copy and replay */
	if ((ret = s->env->txn_checkpoint(s->env, 0, 0, 0)))
		return err_set(err, "checkpoint: %s", db_strerror(ret));
	/*
	 * The database files, then every log file, while writers go on;
	 * Berkeley DB holds off log removal meanwhile. Recovery of the copy
	 * (store_recover) brings every file to the end of the copied log:
	 * every transaction committed before this call is in it.
	 */
	if ((ret = s->env->backup(s->env, target, DB_CREATE)))
		return err_set(err, "backup %s to %s: %s", s->home, target,
			       ret > 0 ? strerror(ret) : db_strerror(ret));
	return 0;
}

int store_recover(const char *home, char *err)
{
	u_int32_t flags = DB_CREATE | DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG |
			  DB_INIT_TXN | DB_RECOVER_FATAL | DB_PRIVATE | DB_THREAD;
	DB_ENV *env;
	int ret;

	if ((ret = db_env_create(&env, 0)))
		return err_set(err, "db_env_create: %s", db_strerror(ret));
	env->set_errfile(env, stderr);
	env->set_errpfx(env, "bookpics db");
	ret = env->open(env, home, flags, 0600);
	env->close(env, 0);
	if (ret)
		return err_set(err, "catastrophic recovery of %s: %s", home, db_strerror(ret));
	return 0;
}

/* ---- moderation: hide/show and the room's changes ---- */

static size_t key_seq(char *buf, const char *room, uint64_t seq)
{
	return key_msg(buf, room, seq);	/* the same shape: room \0 be64 */
}

struct hide_arg {
	const char *room;
	uint64_t index;
	int hidden;
	uint64_t seq;
	int result;
};

static int op_hide(struct store *s, DB_TXN *txn, void *p)
{
	struct hide_arg *a = p;
	struct store_room r;
	unsigned char rv[ROOM_VAL_LEN], cv[9];
	char key[KEY_MAX], ckey[KEY_MAX], *rec = NULL, *edited = NULL, err[ERR_LEN];
	DBC *room = NULL;
	DBT k, v, mv;
	int ret, changed;

	a->result = 0;
	a->seq = 0;
	dbt_grow(&mv);	/* the record, any length */
	/* the room first, as appends do: the change seq is counted there */
	if ((ret = s->rooms->cursor(s->rooms, txn, &room, 0)))
		goto out;
	dbt_set(&k, a->room, strlen(a->room));
	dbt_head(&v, rv, sizeof(rv));
	if ((ret = room->get(room, &k, &v, DB_SET | DB_RMW)))
		goto out;
	room_decode(&r, a->room, &v);
	dbt_set(&k, key, key_msg(key, a->room, a->index));
	if ((ret = s->msgs->get(s->msgs, txn, &k, &mv, DB_RMW)))
		goto out;
	rec = malloc(mv.size + 1);
	if (!rec) {
		ret = ENOMEM;
		goto out;
	}
	memcpy(rec, mv.data, mv.size);
	rec[mv.size] = '\0';
	edited = msg_record_hidden(rec, a->hidden, &changed, err);
	if (!edited) {
		ret = EINVAL;	/* an unreadable record: already a tombstone */
		goto out;
	}
	if (!changed)
		goto out;
	dbt_set(&v, edited, strlen(edited));
	if ((ret = s->msgs->put(s->msgs, txn, &k, &v, 0)))
		goto out;
	r.changes++;
	put_be64(cv, a->index);
	cv[8] = a->hidden ? 1 : 0;
	dbt_set(&k, ckey, key_seq(ckey, a->room, r.changes));
	dbt_set(&v, cv, sizeof(cv));
	if ((ret = s->changes->put(s->changes, txn, &k, &v, 0)))
		goto out;
	room_encode(rv, &r);
	dbt_set(&k, a->room, strlen(a->room));
	dbt_set(&v, rv, sizeof(rv));
	if ((ret = room->put(room, &k, &v, DB_CURRENT)))
		goto out;
	a->seq = r.changes;
	a->result = 1;
out:
	if (room)
		room->close(room);
	free(mv.data);
	free(rec);
	free(edited);
	if (ret == DB_NOTFOUND)
		ret = ENOENT;	/* no such room or message */
	return ret;
}

int store_message_hide(struct store *s, const char *room, uint64_t index,
		       int hidden, uint64_t *seq, char *err)
{
	struct hide_arg a = { room, index, hidden, 0, 0 };

	if (!store_name_ok(room) || index < 1)
		return err_set(err, "no message %llu in '%s'", (unsigned long long)index, room);
	if (store_run(s, op_hide, &a, TXN_WRITE, hidden ? "hide message" : "show message", err))
		return -1;
	if (seq)
		*seq = a.seq;
	return a.result;
}

struct changes_arg {
	const char *room;
	uint64_t after;
	size_t limit;
	struct store_change *out;
	size_t n;
};

static int op_changes(struct store *s, DB_TXN *txn, void *p)
{
	struct changes_arg *a = p;
	size_t plen = strlen(a->room) + 1;
	unsigned char cv[9];
	char key[KEY_MAX];
	DBC *c = NULL;
	DBT k, v;
	int ret;

	free(a->out);
	a->n = 0;
	a->out = calloc(a->limit ? a->limit : 1, sizeof(*a->out));
	if (!a->out)
		return ENOMEM;
	if ((ret = s->changes->cursor(s->changes, txn, &c, 0)))
		return ret;
	dbt_user(&k, key, key_seq(key, a->room, a->after + 1), sizeof(key));
	dbt_head(&v, cv, sizeof(cv));	/* be64 index, u8 hidden */
	ret = c->get(c, &k, &v, DB_SET_RANGE);
	while (!ret && a->n < a->limit) {
		if (k.size != plen + 8 || memcmp(k.data, a->room, plen) || v.size < 9)
			break;
		a->out[a->n].seq = get_be64((unsigned char *)k.data + plen);
		a->out[a->n].index = get_be64(cv);
		a->out[a->n].hidden = cv[8] & 1;
		a->n++;
		ret = c->get(c, &k, &v, DB_NEXT);
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	c->close(c);
	return ret;
}

int store_changes(struct store *s, const char *room, uint64_t after, size_t limit,
		  struct store_change **out, size_t *n, char *err)
{
	struct changes_arg a = { room, after, limit, NULL, 0 };

	*out = NULL;
	*n = 0;
	if (!store_name_ok(room))
		return 0;
	if (store_run(s, op_changes, &a, TXN_READ, "read changes", err)) {
		free(a.out);
		return -1;
	}
	*out = a.out;
	*n = a.n;
	return 0;
}

/* ---- moderation: the queue ---- */

/* A queued sid's value in sids.db: "\0" room "\0" be64 id (never a message key). */
static size_t key_queued_sid(char *buf, const char *room, uint64_t id)
{
	buf[0] = '\0';
	return 1 + key_msg(buf + 1, room, id);
}

struct queue_arg {
	const char *room, *sid, *record;
	size_t len;
	uint64_t id, index;
	int result;
};

static int op_queue_add(struct store *s, DB_TXN *txn, void *p)
{
	struct queue_arg *a = p;
	struct store_room r;
	unsigned char rv[ROOM_VAL_LEN];
	char key[KEY_MAX], skey[KEY_MAX + 1], *val = NULL;
	size_t slen = a->sid ? strlen(a->sid) : 0;
	DBC *room = NULL;
	DBT k, v;
	int ret;

	a->result = 0;
	a->id = 0;
	if (slen > 255)
		return EINVAL;
	if ((ret = s->rooms->cursor(s->rooms, txn, &room, 0)))
		goto out;
	dbt_set(&k, a->room, strlen(a->room));
	dbt_head(&v, rv, sizeof(rv));
	if ((ret = room->get(room, &k, &v, DB_SET | DB_RMW)))
		goto out;
	room_decode(&r, a->room, &v);
	r.queued++;
	if (a->sid) {
		dbt_set(&k, a->sid, slen);
		dbt_set(&v, skey, key_queued_sid(skey, a->room, r.queued));
		ret = s->sids->put(s->sids, txn, &k, &v, DB_NOOVERWRITE);
		if (ret == DB_KEYEXIST) {
			ret = 0;	/* a retry: queued, approved or rejected before */
			goto out;
		}
		if (ret)
			goto out;
	}
	val = malloc(1 + slen + a->len);
	if (!val) {
		ret = ENOMEM;
		goto out;
	}
	val[0] = (char)slen;
	memcpy(val + 1, a->sid ? a->sid : "", slen);
	memcpy(val + 1 + slen, a->record, a->len);
	dbt_set(&k, key, key_msg(key, a->room, r.queued));
	dbt_set(&v, val, 1 + slen + a->len);
	if ((ret = s->queue->put(s->queue, txn, &k, &v, DB_NOOVERWRITE)))
		goto out;
	room_encode(rv, &r);
	dbt_set(&k, a->room, strlen(a->room));
	dbt_set(&v, rv, sizeof(rv));
	if ((ret = room->put(room, &k, &v, DB_CURRENT)))
		goto out;
	a->id = r.queued;
	a->result = 1;
out:
	if (room)
		room->close(room);
	free(val);
	if (ret == DB_NOTFOUND)
		ret = ENOENT;
	return ret;
}

int store_queue_add(struct store *s, const char *room, const char *sid,
		    const char *record, size_t len, uint64_t *id, char *err)
{
	struct queue_arg a = { room, sid, record, len, 0, 0, 0 };

	if (!store_name_ok(room))
		return err_set(err, "queue: invalid room name");
	if (store_run(s, op_queue_add, &a, TXN_WRITE, "queue message", err))
		return -1;
	*id = a.id;
	return a.result;
}

struct qlist_arg {
	const char *room;
	uint64_t id;		/* 0: every item; else that one */
	struct store_msg *items;
	size_t n;
};

static void qlist_reset(struct qlist_arg *a)
{
	store_msgs_free(a->items, a->n);
	a->items = NULL;
	a->n = 0;
}

static int op_queue_list(struct store *s, DB_TXN *txn, void *p)
{
	struct qlist_arg *a = p;
	size_t plen = strlen(a->room) + 1, cap = 0, sl;
	struct store_msg *grown, *m;
	char key[KEY_MAX];
	DBC *c = NULL;
	DBT k, v;
	int ret;

	qlist_reset(a);
	if ((ret = s->queue->cursor(s->queue, txn, &c, 0)))
		return ret;
	dbt_user(&k, key, key_msg(key, a->room, a->id ? a->id : 1), sizeof(key));
	dbt_grow(&v);	/* sid and record, any length: one buffer for the walk */
	ret = c->get(c, &k, &v, DB_SET_RANGE);
	while (!ret) {
		if (k.size != plen + 8 || memcmp(k.data, a->room, plen) || v.size < 1)
			break;
		if (a->id && get_be64((unsigned char *)k.data + plen) != a->id)
			break;
		if (a->n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(a->items, cap * sizeof(*grown));
			if (!grown) {
				ret = ENOMEM;
				break;
			}
			a->items = grown;
		}
		m = &a->items[a->n];
		sl = ((unsigned char *)v.data)[0];
		if (1 + sl > v.size)
			sl = v.size - 1;
		m->len = v.size - 1 - sl;
		m->record = malloc(m->len + 1);
		if (!m->record) {
			ret = ENOMEM;
			break;
		}
		memcpy(m->record, (char *)v.data + 1 + sl, m->len);
		m->record[m->len] = '\0';
		m->index = get_be64((unsigned char *)k.data + plen);
		a->n++;
		if (a->id)
			break;
		ret = c->get(c, &k, &v, DB_NEXT);
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	c->close(c);
	free(v.data);
	return ret;
}

int store_queue_list(struct store *s, const char *room, struct store_msg **items,
		     size_t *n, char *err)
{
	struct qlist_arg a = { room, 0, NULL, 0 };

	*items = NULL;
	*n = 0;
	if (!store_name_ok(room))
		return 0;
	if (store_run(s, op_queue_list, &a, TXN_READ, "list queue", err)) {
		qlist_reset(&a);
		return -1;
	}
	*items = a.items;
	*n = a.n;
	return 0;
}

int store_queue_get(struct store *s, const char *room, uint64_t id, char **record,
		    char *err)
{
	struct qlist_arg a = { room, id, NULL, 0 };

	*record = NULL;
	if (!store_name_ok(room) || id < 1)
		return 0;
	if (store_run(s, op_queue_list, &a, TXN_READ, "read queue", err)) {
		qlist_reset(&a);
		return -1;
	}
	if (a.n == 1) {
		*record = a.items[0].record;
		a.items[0].record = NULL;
	}
	qlist_reset(&a);
	return *record != NULL;
}

/* approve (a->index set) or reject one queued item: room, then queue, then message, sid. */
static int op_queue_take(struct store *s, DB_TXN *txn, void *p)
{
	struct queue_arg *a = p;
	struct store_room r;
	unsigned char rv[ROOM_VAL_LEN];
	char key[KEY_MAX], mkey[KEY_MAX];
	DBC *room = NULL;
	DBT k, v, qk, qv;
	size_t sl, mlen;
	int ret, approve = a->record != NULL;

	a->result = 0;
	a->index = 0;
	dbt_grow(&qv);	/* the queued item, any length */
	if ((ret = s->rooms->cursor(s->rooms, txn, &room, 0)))
		goto out;
	dbt_set(&k, a->room, strlen(a->room));
	dbt_head(&v, rv, sizeof(rv));
	if ((ret = room->get(room, &k, &v, DB_SET | DB_RMW)))
		goto out;
	room_decode(&r, a->room, &v);
	dbt_set(&qk, key, key_msg(key, a->room, a->id));
	ret = s->queue->get(s->queue, txn, &qk, &qv, DB_RMW);
	if (ret == DB_NOTFOUND) {
		ret = 0;	/* no such item (approved or rejected already) */
		goto out;
	}
	if (ret)
		goto out;
	if (approve) {
		sl = qv.size ? ((unsigned char *)qv.data)[0] : 0;
		if (!qv.size || 1 + sl > qv.size) {
			ret = EINVAL;
			goto out;
		}
		mlen = key_msg(mkey, a->room, r.last + 1);
		if (sl) {
			DBT sk, sv;

			dbt_set(&sk, (char *)qv.data + 1, sl);
			dbt_set(&sv, mkey, mlen);
			if ((ret = s->sids->put(s->sids, txn, &sk, &sv, 0)))
				goto out;
		}
		dbt_set(&k, mkey, mlen);
		dbt_set(&v, (char *)qv.data + 1 + sl, qv.size - 1 - sl);
		if ((ret = s->msgs->put(s->msgs, txn, &k, &v, DB_NOOVERWRITE)))
			goto out;
		r.last++;
		room_encode(rv, &r);
		dbt_set(&k, a->room, strlen(a->room));
		dbt_set(&v, rv, sizeof(rv));
		if ((ret = room->put(room, &k, &v, DB_CURRENT)))
			goto out;
		a->index = r.last;
	}
	if ((ret = s->queue->del(s->queue, txn, &qk, 0)))
		goto out;
	a->result = 1;
out:
	if (room)
		room->close(room);
	free(qv.data);
	if (ret == DB_NOTFOUND)
		ret = ENOENT;
	return ret;
}

int store_queue_approve(struct store *s, const char *room, uint64_t id,
			uint64_t *index, char *err)
{
	struct queue_arg a = { room, NULL, "", 0, id, 0, 0 };

	*index = 0;
	if (!store_name_ok(room) || id < 1)
		return 0;
	if (store_run(s, op_queue_take, &a, TXN_WRITE, "approve queued message", err))
		return -1;
	*index = a.index;
	return a.result;
}

int store_queue_reject(struct store *s, const char *room, uint64_t id, char *err)
{
	struct queue_arg a = { room, NULL, NULL, 0, id, 0, 0 };

	if (!store_name_ok(room) || id < 1)
		return 0;
	if (store_run(s, op_queue_take, &a, TXN_WRITE, "reject queued message", err))
		return -1;
	return a.result;
}

/* ---- moderation: moderators, blocked senders, rates ---- */

static int mod_change(struct store *s, const char *user, const char *room, int add,
		      char *err)
{
	struct store_room r;
	char key[KEY_MAX];
	struct kv_arg a;
	int ret;

	if (!store_name_ok(user) || !store_name_ok(room))
		return err_set(err, "invalid user or room name");
	if ((ret = store_user_exists(s, user, err)) != 1)
		return ret < 0 ? -1 : err_set(err, "no such user '%s'", user);
	if ((ret = store_room_get(s, room, &r, err)) != 1)
		return ret < 0 ? -1 : err_set(err, "no such room '%s'", room);
	memset(&a, 0, sizeof(a));
	a.db = &s->mods, a.key = key, a.klen = key_pair(key, room, user);
	a.val = "", a.vlen = 0, a.flags = DB_NOOVERWRITE;
	if (store_run(s, add ? op_kv_put : op_kv_del, &a, TXN_WRITE,
		      add ? "add moderator" : "remove moderator", err))
		return -1;
	return a.result;
}

int store_moderator_add(struct store *s, const char *user, const char *room, char *err)
{
	return mod_change(s, user, room, 1, err);
}

int store_moderator_remove(struct store *s, const char *user, const char *room, char *err)
{
	return mod_change(s, user, room, 0, err);
}

int store_is_moderator(struct store *s, const char *user, const char *room, char *err)
{
	return pair_has(s, &s->mods, room, user, "read moderator", err);
}

static int hash_ok(const char *hash)
{
	size_t i;

	for (i = 0; hash && hash[i]; i++)
		if (!strchr("0123456789abcdef", hash[i]))
			return 0;
	return hash && i == STORE_SENDER_HEX;
}

int store_sender_block(struct store *s, const char *hash, const char *note, char *err)
{
	char val[STORE_SENDER_HEX + 256];
	struct kv_arg a;

	if (!hash_ok(hash))
		return err_set(err, "block: bad sender hash");
	snprintf(val, sizeof(val), "%s\t%s", hash, note);
	memset(&a, 0, sizeof(a));
	a.db = &s->blocked, a.key = hash, a.klen = strlen(hash);
	a.val = val, a.vlen = strlen(val), a.flags = DB_NOOVERWRITE;
	if (store_run(s, op_kv_put, &a, TXN_WRITE, "block sender", err))
		return -1;
	return a.result;
}

int store_sender_unblock(struct store *s, const char *hash, char *err)
{
	struct kv_arg a;

	if (!hash_ok(hash))
		return err_set(err, "unblock: bad sender hash");
	memset(&a, 0, sizeof(a));
	a.db = &s->blocked, a.key = hash, a.klen = strlen(hash);
	if (store_run(s, op_kv_del, &a, TXN_WRITE, "unblock sender", err))
		return -1;
	return a.result;
}

int store_sender_blocked(struct store *s, const char *hash, char *err)
{
	struct kv_arg a;

	if (!hash_ok(hash))
		return 0;
	memset(&a, 0, sizeof(a));
	a.db = &s->blocked, a.key = hash, a.klen = strlen(hash);
	if (store_run(s, op_kv_get, &a, TXN_READ, "read blocked sender", err))
		return -1;
	return a.result;
}

int store_sender_list(struct store *s, char ***lines, size_t *n, char *err)
{
	return scan(s, &s->blocked, NULL, 1, lines, n, "list blocked senders", err);
}

#define RATE_WINDOW 3600
#define RATE_PRUNE 8	/* stale windows dropped per call, at most */

static size_t key_rate(char *buf, uint64_t window, const char *room, const char *hash)
{
	put_be64((unsigned char *)buf, window);
	return 8 + key_pair(buf + 8, room, hash);
}

struct rate_arg {
	const char *room, *hash;
	long limit;
	time_t now;
	int result;
};

static uint32_t rate_count(const DBT *v)
{
	const unsigned char *p = v->data;

	return v->size == 4 ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			      (uint32_t)p[2] << 8 | p[3] : 0;
}

static int op_rate(struct store *s, DB_TXN *txn, void *p)
{
	struct rate_arg *a = p;
	uint64_t win = (uint64_t)a->now / RATE_WINDOW, prev = 0, cur = 0;
	uint64_t into = (uint64_t)a->now % RATE_WINDOW;
	unsigned char cv[4];
	char key[KEY_MAX];
	DBC *c = NULL;
	DBT k, v;
	int ret, i;

	/* a count is 4 bytes; a longer value (DB_BUFFER_SMALL) counts 0, as before */
	a->result = 0;
	dbt_set(&k, key, key_rate(key, win - 1, a->room, a->hash));
	dbt_user(&v, cv, 0, sizeof(cv));
	ret = s->rates->get(s->rates, txn, &k, &v, 0);
	if (!ret)
		prev = rate_count(&v);
	else if (ret != DB_NOTFOUND && ret != DB_BUFFER_SMALL)
		return ret;
	dbt_set(&k, key, key_rate(key, win, a->room, a->hash));
	dbt_user(&v, cv, 0, sizeof(cv));
	ret = s->rates->get(s->rates, txn, &k, &v, DB_RMW);
	if (!ret)
		cur = rate_count(&v);
	else if (ret != DB_NOTFOUND && ret != DB_BUFFER_SMALL)
		return ret;
	/*
	 * A sliding hour, estimated from two fixed windows: the previous
	 * hour's count weighted by how much of it is still inside the last
	 * 3600 s, plus this hour's (so a sender cannot post 2x the limit
	 * across a window boundary).
	 */
	if (prev * (RATE_WINDOW - into) + cur * RATE_WINDOW >= (uint64_t)a->limit * RATE_WINDOW)
		return 0;
	cur++;
	cv[0] = (unsigned char)(cur >> 24), cv[1] = (unsigned char)(cur >> 16);
	cv[2] = (unsigned char)(cur >> 8), cv[3] = (unsigned char)cur;
	dbt_set(&v, cv, sizeof(cv));
	if ((ret = s->rates->put(s->rates, txn, &k, &v, 0)))
		return ret;
	a->result = 1;
	/*
	 * Bounded: keys start with their window, so the stale ones (older
	 * than the previous hour) are at the front; a few go per call, now
	 * and then, so the table holds about two hours of senders.
	 */
	if (rand() % 16)
		return 0;
	if ((ret = s->rates->cursor(s->rates, txn, &c, 0)))
		return ret;
	/* every key is key_rate's, so it fits; the values are not needed */
	dbt_user(&k, key, 0, sizeof(key));
	dbt_head(&v, NULL, 0);
	for (i = 0; i < RATE_PRUNE; i++) {
		if ((ret = c->get(c, &k, &v, DB_NEXT)))
			break;
		if (k.size < 8 || get_be64(k.data) + 1 >= win)
			break;
		if ((ret = c->del(c, 0)))
			break;
	}
	c->close(c);
	return ret == DB_NOTFOUND ? 0 : ret;
}

int store_rate_take(struct store *s, const char *room, const char *hash, long limit,
		    time_t now, char *err)
{
	struct rate_arg a = { room, hash, limit, now, 0 };

	if (!store_name_ok(room) || !hash_ok(hash))
		return err_set(err, "rate: bad room or sender hash");
	if (store_run(s, op_rate, &a, TXN_WRITE, "count sender rate", err))
		return -1;
	return a.result;
}

/* ---- event hooks: connect/disconnect events and the deliverer's cursors ---- */

struct conn_event_arg {
	const char *conn, *user;
	int open, event;
	int replaces;		/* open: marked as replacing the user's older ones elsewhere */
};

/* meta.db's counter key + 1, written back; *now (may be NULL) gets it. */
static int meta_bump(struct store *s, DB_TXN *txn, const char *key, uint64_t *now)
{
	unsigned char sv[8];
	uint64_t seq = 0;
	DBT k, v;
	int ret;

	dbt_set(&k, key, strlen(key));
	dbt_user(&v, sv, 0, sizeof(sv));
	ret = s->meta->get(s->meta, txn, &k, &v, DB_RMW);
	if (ret && ret != DB_NOTFOUND && ret != DB_BUFFER_SMALL)
		return ret;	/* longer than 8 bytes: not a seq, counted from 0 as before */
	if (!ret && v.size == 8)
		seq = get_be64(sv);
	put_be64(sv, ++seq);
	dbt_set(&v, sv, sizeof(sv));
	if ((ret = s->meta->put(s->meta, txn, &k, &v, 0)))
		return ret;
	if (now)
		*now = seq;
	return 0;
}

/* conns.db put or delete, and with a->event the next events.db record. */
static int op_conn_event(struct store *s, DB_TXN *txn, void *p)
{
	struct conn_event_arg *a = p;
	size_t clen = strlen(a->conn), ulen = strlen(a->user);
	unsigned char val[STORE_NAME_MAX + 1 + 9], ev[9 + 64 + STORE_NAME_MAX + 1], sk[8];
	uint64_t now = store_now_us(), seq = 0;
	DBT k, v;
	int ret;

	dbt_set(&k, a->conn, clen);
	if (a->open) {
		/* "user\0since", as store_conn_add writes it; "r" after it: replacing */
		memcpy(val, a->user, ulen + 1);
		put_be64(val + ulen + 1, now);
		val[ulen + 1 + 8] = 'r';
		dbt_set(&v, val, ulen + 1 + 8 + (a->replaces != 0));
		if ((ret = s->conns->put(s->conns, txn, &k, &v, 0)))
			return ret;
	} else if ((ret = s->conns->del(s->conns, txn, &k, 0)) && ret != DB_NOTFOUND) {
		return ret;
	}
	/* a group's relays look for connections newer than theirs when it moves */
	/* (only a user's connection can replace one: an anonymous one moves nothing) */
	if (a->open && a->user[0] && s->grouped && (ret = meta_bump(s, txn, "conn_gen", NULL)))
		return ret;
	if (!a->event)
		return 0;
	if ((ret = meta_bump(s, txn, "event_seq", &seq)))
		return ret;
	put_be64(ev, now);
	ev[8] = (unsigned char)(a->open ? STORE_EVENT_CONNECT : STORE_EVENT_DISCONNECT);
	memcpy(ev + 9, a->conn, clen + 1);
	memcpy(ev + 9 + clen + 1, a->user, ulen + 1);
	put_be64(sk, seq);
	dbt_set(&k, sk, sizeof(sk));
	dbt_set(&v, ev, 9 + clen + 1 + ulen + 1);
	return s->events->put(s->events, txn, &k, &v, 0);
}

/* op_conn_event's open of a connection that replaces (store_conn_replace). */
static int op_conn_replace(struct store *s, DB_TXN *txn, void *p)
{
	struct conn_event_arg *a = p;

	a->open = a->replaces = 1;
	return op_conn_event(s, txn, a);
}

static int conn_event(struct store *s, const char *conn, const char *user, int open,
		      int event, char *err)
{
	char kbuf[GROUP_ADDR_MAX + 128];
	struct conn_event_arg a = { conn_key(s, conn, kbuf, sizeof(kbuf)), user ? user : "",
				    open != 0, event, 0 };

	if (strlen(conn) >= sizeof(((struct store_event *)0)->conn) ||
	    strlen(a.user) > STORE_NAME_MAX)
		return err_set(err, "%s connection: id too long", open ? "add" : "remove");
	return store_run(s, open == 2 && s->grouped ? op_conn_replace : op_conn_event, &a,
			 TXN_WRITE, open ? "add connection" : "remove connection", err);
}

int store_conn_open(struct store *s, const char *conn, const char *user, int event,
		    char *err)
{
	return conn_event(s, conn, user, 1, event, err);
}

int store_conn_close(struct store *s, const char *conn, const char *user, int event,
		     char *err)
{
	return conn_event(s, conn, user, 0, event, err);
}

int store_conn_replace(struct store *s, const char *conn, const char *user, int event,
		       char *err)
{
	return conn_event(s, conn, user, 2, event, err);
}

/* ---- a group's anonymous connections, in batches ---- */

struct conn_batch_arg {
	const void *opens, *closes;	/* "SITE/id\0" each, as conn_key makes them */
	size_t olen, clen;
	int event;
};

/* op_conn_event for every id of list (len bytes, NUL-terminated ids). */
static int conn_batch_each(struct store *s, DB_TXN *txn, const char *list, size_t len,
			   int open, int event)
{
	struct conn_event_arg e = { NULL, "", open, event, 0 };
	size_t at, n;
	int ret;

	for (at = 0; at < len; at += n + 1) {
		n = strnlen(list + at, len - at);
		if (at + n == len || !n || n >= sizeof(((struct store_event *)0)->conn) + GROUP_ADDR_MAX)
			return EINVAL;	/* not what store_conn_batch packs */
		e.conn = list + at;
		if ((ret = op_conn_event(s, txn, &e)))
			return ret;
	}
	return 0;
}

static int op_conn_batch(struct store *s, DB_TXN *txn, void *p)
{
	struct conn_batch_arg *a = p;
	int ret;

	if ((ret = conn_batch_each(s, txn, a->opens, a->olen, 1, a->event)))
		return ret;
	return conn_batch_each(s, txn, a->closes, a->clen, 0, a->event);
}

/* ids (NUL-terminated each, len bytes) as conn_key keys, malloc'd into *out. */
static int conn_batch_keys(struct store *s, const char *ids, size_t len, char **out,
			   size_t *outlen, char *err)
{
	size_t at, n, cap = len + (len / 2 + 1) * (strlen(s->group.self) + 1), w = 0;
	char *buf = malloc(cap ? cap : 1);

	if (!buf)
		return err_set(err, "connection batch: out of memory");
	for (at = 0; at < len; at += n + 1) {
		n = strnlen(ids + at, len - at);
		if (at + n == len || !n || n >= sizeof(((struct store_event *)0)->conn) ||
		    w + strlen(s->group.self) + n + 2 > cap) {
			free(buf);
			return err_set(err, "connection batch: a bad id list");
		}
		w += (size_t)sprintf(buf + w, "%s/%.*s", s->group.self, (int)n, ids + at) + 1;
	}
	*out = buf;
	*outlen = w;
	return 0;
}

int store_conn_batch(struct store *s, const char *opens, size_t open_len, const char *closes,
		     size_t close_len, int event, char *err)
{
	struct conn_batch_arg a = { NULL, NULL, 0, 0, event != 0 };
	char *o = NULL, *c = NULL;
	int ret = -1;

	if (!s->grouped)
		return err_set(err, "connection batch: not in a group");
	if (conn_batch_keys(s, opens, open_len, &o, &a.olen, err) ||
	    conn_batch_keys(s, closes, close_len, &c, &a.clen, err))
		goto out;
	a.opens = o, a.closes = c;
	ret = store_run(s, op_conn_batch, &a, TXN_WRITE, "connection batch", err);
out:
	free(o);
	free(c);
	return ret;
}

/* ---- a group's duplicate-connection rule (docs/DESIGN.md "Groups") ---- */

struct conn_claim_arg {
	const char *conn, *user;	/* conn: "SITE/id" */
	int event;
	int result;			/* 1 added, 0 the user is connected elsewhere */
};

/*
 * At the master, in one transaction: is user connected at a live site
 * other than conn's? If not, op_conn_event's open. The walk takes write
 * locks (DB_RMW): two sites claiming the same user at once run one after
 * the other, so the second sees the first's connection.
 */
static int op_conn_claim(struct store *s, DB_TXN *txn, void *p)
{
	struct conn_claim_arg *a = p;
	struct conn_event_arg e = { a->conn, a->user, 1, a->event, 0 };
	size_t ulen, self, site;
	char down[SITES_DOWN_MAX];
	DBC *cur = NULL;
	DBT k, v;
	int ret, found = 0;

	a->result = 0;
	if (!a->conn || !a->user)
		return EINVAL;
	ulen = strlen(a->user);
	self = conn_site_len(a->conn, strlen(a->conn));
	/* write-locked first: claims queue here rather than deadlock on meta.db later */
	if ((ret = sites_down_get(s, txn, down, DB_RMW)))
		return ret;
	if ((ret = s->conns->cursor(s->conns, txn, &cur, 0)))
		return ret;
	dbt_grow(&k);
	dbt_grow(&v);
	while (!found && (ret = cur->get(cur, &k, &v, DB_NEXT | DB_RMW)) == 0) {
		site = conn_site_len(k.data, k.size);
		found = v.size > ulen && !memcmp(v.data, a->user, ulen + 1) &&
			!(site == self && !memcmp(k.data, a->conn, self)) &&
			!conn_site_down(down, k.data, site);
	}
	if (ret == DB_NOTFOUND || found)
		ret = 0;
	cur->close(cur);
	free(k.data);
	free(v.data);
	if (ret || found)
		return ret;
	if ((ret = op_conn_event(s, txn, &e)))
		return ret;
	a->result = 1;
	return 0;
}

int store_conn_claim(struct store *s, const char *conn, const char *user, int event,
		     char *err)
{
	char kbuf[GROUP_ADDR_MAX + 128];
	struct conn_claim_arg a = { conn_key(s, conn, kbuf, sizeof(kbuf)), user, event, 0 };

	if (!s->grouped || !user[0])
		return store_conn_open(s, conn, user, event, err) ? -1 : 1;
	if (strlen(conn) >= sizeof(((struct store_event *)0)->conn) ||
	    strlen(user) > STORE_NAME_MAX)
		return err_set(err, "add connection: id too long");
	if (store_run(s, op_conn_claim, &a, TXN_WRITE, "add connection", err))
		return -1;
	return a.result;
}

struct sites_down_arg {
	const char *down;	/* ",A,B," or "" */
};

static int op_sites_down(struct store *s, DB_TXN *txn, void *p)
{
	struct sites_down_arg *a = p;
	DBT k, v;

	if (!a->down)
		return EINVAL;
	dbt_set(&k, "sites_down", 10);
	dbt_set(&v, a->down, strlen(a->down));
	return s->meta->put(s->meta, txn, &k, &v, 0);
}

int store_sites_down_set(struct store *s, const char *down, char *err)
{
	struct sites_down_arg a = { down };

	if (strlen(down) >= SITES_DOWN_MAX)
		return err_set(err, "sites down: list too long");
	return store_run(s, op_sites_down, &a, TXN_WRITE, "write the sites down", err);
}

struct meta_u64_arg {
	const char *key;
	uint64_t v;
};

static int op_meta_u64(struct store *s, DB_TXN *txn, void *p)
{
	struct meta_u64_arg *a = p;
	unsigned char b[8];
	DBT k, v;
	int ret;

	a->v = 0;
	dbt_set(&k, a->key, strlen(a->key));
	dbt_user(&v, b, 0, sizeof(b));
	ret = s->meta->get(s->meta, txn, &k, &v, 0);
	if (ret == DB_NOTFOUND || ret == DB_BUFFER_SMALL)
		return 0;
	if (!ret && v.size == 8)
		a->v = get_be64(b);
	return ret;
}

int store_conn_gen(struct store *s, uint64_t *gen, char *err)
{
	struct meta_u64_arg a = { "conn_gen", 0 };

	*gen = 0;
	if (store_run(s, op_meta_u64, &a, TXN_READ, "read the connection generation", err))
		return -1;
	*gen = a.v;
	return 0;
}

static int conn_user_cmp(const void *a, const void *b)
{
	const struct store_conn *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c ? c : x->since_us < y->since_us ? -1 : x->since_us > y->since_us;
}

int store_conn_superseded(struct store *s, struct store_conn **out, size_t *nout, char *err)
{
	struct conns_arg a = { NULL, 0, 1 };
	size_t self = strlen(s->group.self), i, j, n = 0, end;
	uint64_t newest;

	*out = NULL;
	*nout = 0;
	if (!s->grouped)
		return 0;
	if (store_run(s, op_conn_list, &a, TXN_READ, "list connections", err)) {
		free(a.conns);
		return -1;
	}
	if (a.n)
		qsort(a.conns, a.n, sizeof(*a.conns), conn_user_cmp);
	/* per user (by since): this site's older than another site's newest that replaces */
	for (i = 0; i < a.n; i = end) {
		newest = 0;
		for (end = i; end < a.n && !strcmp(a.conns[end].user, a.conns[i].user); end++) {
			int mine = !strncmp(a.conns[end].conn, s->group.self, self) &&
				   a.conns[end].conn[self] == '/';

			if (!mine && a.conns[end].replaces && a.conns[end].since_us > newest)
				newest = a.conns[end].since_us;
		}
		for (j = i; j < end && a.conns[i].user[0]; j++) {
			struct store_conn *c = &a.conns[j];

			if (strncmp(c->conn, s->group.self, self) || c->conn[self] != '/' ||
			    c->since_us >= newest)
				continue;
			memmove(c->conn, c->conn + self + 1, strlen(c->conn + self + 1) + 1);
			a.conns[n++] = *c;
		}
	}
	*out = a.conns;
	*nout = n;
	return 0;
}

struct events_arg {
	uint64_t after;
	size_t limit;
	struct store_event *out;
	size_t n;
};

static int op_events(struct store *s, DB_TXN *txn, void *p)
{
	struct events_arg *a = p;
	unsigned char key[8];
	const unsigned char *d;
	struct store_event *e;
	size_t clen, ulen;
	DBC *c = NULL;
	DBT k, v;
	int ret;

	free(a->out);
	a->n = 0;
	a->out = calloc(a->limit ? a->limit : 1, sizeof(*a->out));
	if (!a->out)
		return ENOMEM;
	if ((ret = s->events->cursor(s->events, txn, &c, 0)))
		return ret;
	put_be64(key, a->after + 1);
	dbt_user(&k, key, sizeof(key), sizeof(key));
	dbt_grow(&v);	/* one buffer for the walk */
	ret = c->get(c, &k, &v, DB_SET_RANGE);
	while (!ret && a->n < a->limit) {
		d = v.data;
		if (k.size == 8 && v.size >= 11) {
			clen = strnlen((const char *)d + 9, v.size - 9);
			ulen = 9 + clen + 1 < v.size ?
			       strnlen((const char *)d + 9 + clen + 1, v.size - 9 - clen - 1) : 0;
			e = &a->out[a->n];
			if (clen < sizeof(e->conn) && ulen <= STORE_NAME_MAX) {
				e->seq = get_be64(k.data);
				e->time_us = get_be64(d);
				e->kind = d[8];
				memcpy(e->conn, d + 9, clen);
				e->conn[clen] = '\0';
				if (ulen)
					memcpy(e->user, d + 9 + clen + 1, ulen);
				e->user[ulen] = '\0';
				a->n++;
			}
		}
		ret = c->get(c, &k, &v, DB_NEXT);
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	c->close(c);
	free(v.data);
	return ret;
}

int store_events(struct store *s, uint64_t after, size_t limit,
		 struct store_event **out, size_t *n, char *err)
{
	struct events_arg a = { after, limit, NULL, 0 };

	*out = NULL;
	*n = 0;
	if (store_run(s, op_events, &a, TXN_READ, "read events", err)) {
		free(a.out);
		return -1;
	}
	*out = a.out;
	*n = a.n;
	return 0;
}

/* hooks.db keys: "m\0room", "c\0room", "e". */
static int key_hook(char *buf, int which, const char *room, size_t *len)
{
	if (which == STORE_HOOK_EVENTS) {
		buf[0] = 'e';
		*len = 1;
		return 0;
	}
	if ((which != STORE_HOOK_MSG && which != STORE_HOOK_CHANGE) || !room ||
	    !store_name_ok(room))
		return -1;
	buf[0] = (char)which;
	*len = key_pair(buf + 1, "", room) + 1;
	return 0;
}

int store_hook_get(struct store *s, int which, const char *room, uint64_t *v, char *err)
{
	char key[KEY_MAX];
	struct kv_arg a;

	*v = 0;
	memset(&a, 0, sizeof(a));
	if (key_hook(key, which, room, &a.klen))
		return err_set(err, "read hook cursor: bad cursor or room");
	a.db = &s->hooks, a.key = key;
	if (store_run(s, op_kv_get, &a, TXN_READ, "read hook cursor", err))
		return -1;
	if (a.result && a.outlen == 8)
		*v = get_be64(a.out);
	return a.result;
}

struct hook_set_arg {
	const char *key;
	size_t klen;
	uint64_t v;
	int events;	/* also delete events.db up to v */
};

static int op_hook_set(struct store *s, DB_TXN *txn, void *p)
{
	struct hook_set_arg *a = p;
	unsigned char val[8], ek[8];
	uint64_t seq;
	DBC *c = NULL;
	DBT k, v;
	int ret;

	dbt_set(&k, a->key, a->klen);
	dbt_user(&v, val, 0, sizeof(val));
	ret = s->hooks->get(s->hooks, txn, &k, &v, DB_RMW);
	if (!ret && v.size == 8 && get_be64(val) >= a->v)
		return 0;		/* never backwards */
	if (ret && ret != DB_NOTFOUND && ret != DB_BUFFER_SMALL)
		return ret;		/* longer than 8 bytes: not a cursor, overwritten */
	put_be64(val, a->v);
	dbt_set(&v, val, sizeof(val));
	if ((ret = s->hooks->put(s->hooks, txn, &k, &v, 0)) || !a->events)
		return ret;
	if ((ret = s->events->cursor(s->events, txn, &c, 0)))
		return ret;
	/* events.db keys are be64 seqs; a longer one (DB_BUFFER_SMALL) ends it */
	dbt_user(&k, ek, 0, sizeof(ek));
	dbt_head(&v, NULL, 0);
	while ((ret = c->get(c, &k, &v, DB_FIRST)) == 0) {
		if (k.size != 8)
			break;
		seq = get_be64(ek);
		if (seq > a->v)
			break;
		if ((ret = c->del(c, 0)))
			break;
	}
	if (ret == DB_NOTFOUND || ret == DB_BUFFER_SMALL)
		ret = 0;
	c->close(c);
	return ret;
}

int store_hook_set(struct store *s, int which, const char *room, uint64_t v, char *err)
{
	char key[KEY_MAX];
	struct hook_set_arg a = { key, 0, v, which == STORE_HOOK_EVENTS };

	if (key_hook(key, which, room, &a.klen))
		return err_set(err, "write hook cursor: bad cursor or room");
	return store_run(s, op_hook_set, &a, TXN_WRITE, "write hook cursor", err);
}

struct hook_init_arg {
	int result;
};

static int op_hook_init(struct store *s, DB_TXN *txn, void *p)
{
	struct hook_init_arg *a = p;
	unsigned char val[8], rv[ROOM_VAL_LEN];
	struct store_room r;
	char key[KEY_MAX], name[STORE_NAME_MAX + 1];
	DBC *c = NULL;
	DBT k, v, hk, hv;
	size_t klen;
	int ret;

	a->result = 0;
	dbt_set(&k, "init", 4);
	dbt_head(&v, NULL, 0);	/* there or not */
	ret = s->hooks->get(s->hooks, txn, &k, &v, DB_RMW);
	if (ret != DB_NOTFOUND)
		return ret;	/* 0: initialised before */
	if ((ret = s->rooms->cursor(s->rooms, txn, &c, 0)))
		return ret;
	dbt_grow(&k);	/* as op_room_list: a name too long is skipped */
	dbt_head(&v, rv, sizeof(rv));
	while ((ret = c->get(c, &k, &v, DB_NEXT)) == 0) {
		if (k.size > STORE_NAME_MAX)
			continue;
		memcpy(name, k.data, k.size);
		name[k.size] = '\0';
		room_decode(&r, name, &v);
		if (key_hook(key, STORE_HOOK_MSG, name, &klen))
			continue;
		put_be64(val, r.last);
		dbt_set(&hk, key, klen);
		dbt_set(&hv, val, 8);
		if ((ret = s->hooks->put(s->hooks, txn, &hk, &hv, 0)))
			break;
		key[0] = STORE_HOOK_CHANGE;
		put_be64(val, r.changes);
		if ((ret = s->hooks->put(s->hooks, txn, &hk, &hv, 0)))
			break;
	}
	c->close(c);
	free(k.data);
	if (ret != DB_NOTFOUND)
		return ret;
	put_be64(val, store_now_us());
	dbt_set(&hk, "init", 4);
	dbt_set(&hv, val, 8);
	if ((ret = s->hooks->put(s->hooks, txn, &hk, &hv, 0)))
		return ret;
	a->result = 1;
	return 0;
}

int store_hook_init(struct store *s, char *err)
{
	struct hook_init_arg a = { 0 };

	if (store_run(s, op_hook_init, &a, TXN_WRITE, "initialise hook cursors", err))
		return -1;
	return a.result;
}

/* ---- groups: a write carried to the master (docs/DESIGN.md "Groups") ---- */

/*
 * The codec of a forwarded write: one function per op names the fields
 * of its argument, in order, for both directions (pack at the asking
 * site, unpack at the master), then those of its results (pack at the
 * master, unpack at the asker). Integers are 8 bytes big-endian; strings
 * and byte strings a 1-byte "present" flag, be64 length, the bytes and a
 * NUL (so that an unpacked string is used in place, inside the request).
 */
struct codec {
	struct store *s;
	int unpack;		/* 0 pack into buf, 1 unpack from in */
	int results;		/* 0 the op's arguments, 1 its results */
	int bad;		/* short input, or out of memory */
	unsigned char *buf;
	size_t len, cap;
	const unsigned char *in;
	size_t inlen, pos;
	struct store_room room;	/* where an unpacked room_arg.out points */
};

static void c_raw(struct codec *c, const void *p, size_t n)
{
	unsigned char *grown;

	if (c->bad)
		return;
	if (c->unpack) {
		if (n > c->inlen - c->pos) {
			c->bad = 1;
			return;
		}
		memcpy((void *)p, c->in + c->pos, n);
		c->pos += n;
		return;
	}
	if (c->len + n > c->cap) {
		if (!(grown = realloc(c->buf, c->cap * 2 + n + 64))) {
			c->bad = 1;
			return;
		}
		c->buf = grown;
		c->cap = c->cap * 2 + n + 64;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void c_u64(struct codec *c, uint64_t *v)
{
	unsigned char b[8];

	if (!c->unpack)
		put_be64(b, *v);
	c_raw(c, b, 8);
	if (c->unpack && !c->bad)
		*v = get_be64(b);
}

static void c_int(struct codec *c, int *v)
{
	uint64_t u = (uint64_t)(int64_t)*v;

	c_u64(c, &u);
	*v = (int)(int64_t)u;
}

static void c_long(struct codec *c, long *v)
{
	uint64_t u = (uint64_t)(int64_t)*v;

	c_u64(c, &u);
	*v = (long)(int64_t)u;
}

/* Bytes (NULL kept apart from empty); *len may be NULL for a string. */
static void c_bytes(struct codec *c, const void **p, size_t *len)
{
	unsigned char present = *p != NULL;
	uint64_t n = len ? *len : (*p ? strlen(*p) : 0);

	c_raw(c, &present, 1);
	if (!present) {
		*p = NULL;
		return;
	}
	c_u64(c, &n);
	if (!c->unpack) {
		c_raw(c, *p, (size_t)n);
		c_raw(c, "", 1);
		return;
	}
	if (c->bad || n >= c->inlen - c->pos || c->in[c->pos + n] != '\0') {
		c->bad = 1;
		return;
	}
	*p = c->in + c->pos;
	if (len)
		*len = (size_t)n;
	c->pos += (size_t)n + 1;
}

static void c_str(struct codec *c, const char **p)
{
	c_bytes(c, (const void **)p, NULL);
}

/* A database by its place among the store's handles (kv_arg.db). */
static void c_db(struct codec *c, DB ***db)
{
	DB **dbs[] = { &c->s->users, &c->s->conns, &c->s->mods, &c->s->blocked };
	int i = 0;

	if (!c->unpack)
		while (i < 4 && dbs[i] != *db)
			i++;
	c_int(c, &i);
	if (c->unpack && (i < 0 || i >= 4))
		c->bad = 1;
	else if (c->unpack)
		*db = dbs[i];
	else if (i == 4)
		c->bad = 1;	/* a kv op on a database no write op uses */
}

static void cx_room(struct codec *c, void *p)
{
	struct room_arg *a = p;
	int has_out = a->out != NULL;

	if (!c->results) {
		c_str(c, &a->name);
		c_int(c, &a->is_public);
		c_int(c, &has_out);
		if (c->unpack)
			a->out = has_out ? &c->room : NULL;
		return;
	}
	c_int(c, &a->result);
}

static void cx_append(struct codec *c, void *p)
{
	struct append_arg *a = p;

	if (!c->results) {
		c_str(c, &a->room);
		c_str(c, &a->sid);
		c_bytes(c, (const void **)&a->record, &a->len);
		/* a site of a version before client keys ends here: no key */
		if (c->unpack && !c->bad && c->pos == c->inlen)
			return;
		c_str(c, &a->user);
		c_str(c, &a->ckey);
		c_bytes(c, &a->fp, &a->fplen);
		return;
	}
	c_u64(c, &a->index);
	c_int(c, &a->result);
}

static void cx_kv(struct codec *c, void *p)
{
	struct kv_arg *a = p;
	uint64_t flags = a->flags;

	if (!c->results) {
		c_db(c, &a->db);
		c_bytes(c, (const void **)&a->key, &a->klen);
		c_bytes(c, &a->val, &a->vlen);
		c_u64(c, &flags);
		a->flags = (u_int32_t)flags;
		return;
	}
	c_int(c, &a->result);
}

static void cx_member(struct codec *c, void *p)
{
	struct member_arg *a = p;

	if (!c->results) {
		c_str(c, &a->user);
		c_str(c, &a->room);
		c_int(c, &a->add);
		return;
	}
	c_int(c, &a->result);
}

static void cx_cursor(struct codec *c, void *p)
{
	struct cursor_arg *a = p;

	if (!c->results) {
		c_bytes(c, (const void **)&a->key, &a->klen);
		c_u64(c, &a->index);
	}
}

static void cx_conn_clear(struct codec *c, void *p)
{
	struct conn_clear_arg *a = p;

	if (!c->results) {
		c_str(c, &a->prefix);
		c_str(c, &a->keep);
	}
}

static void cx_user(struct codec *c, void *p)
{
	struct user_arg *a = p;

	if (!c->results) {
		c_str(c, &a->id);
		c_u64(c, &a->us);
		return;
	}
	c_u64(c, &a->not_before);
	c_int(c, &a->result);
}

static void cx_hide(struct codec *c, void *p)
{
	struct hide_arg *a = p;

	if (!c->results) {
		c_str(c, &a->room);
		c_u64(c, &a->index);
		c_int(c, &a->hidden);
		return;
	}
	c_u64(c, &a->seq);
	c_int(c, &a->result);
}

static void cx_queue(struct codec *c, void *p)
{
	struct queue_arg *a = p;

	if (!c->results) {
		c_str(c, &a->room);
		c_str(c, &a->sid);
		c_bytes(c, (const void **)&a->record, &a->len);
		c_u64(c, &a->id);
		return;
	}
	c_u64(c, &a->id);
	c_u64(c, &a->index);
	c_int(c, &a->result);
}

static void cx_rate(struct codec *c, void *p)
{
	struct rate_arg *a = p;
	long now = (long)a->now;

	if (!c->results) {
		c_str(c, &a->room);
		c_str(c, &a->hash);
		c_long(c, &a->limit);
		c_long(c, &now);
		a->now = (time_t)now;
		return;
	}
	c_int(c, &a->result);
}

static void cx_conn_event(struct codec *c, void *p)
{
	struct conn_event_arg *a = p;

	if (!c->results) {
		c_str(c, &a->conn);
		c_str(c, &a->user);
		c_int(c, &a->open);
		c_int(c, &a->event);
	}
}

static void cx_cursor_batch(struct codec *c, void *p)
{
	struct cursor_batch_arg *a = p;

	if (!c->results)
		c_bytes(c, &a->list, &a->len);
}

static void cx_conn_batch(struct codec *c, void *p)
{
	struct conn_batch_arg *a = p;

	if (!c->results) {
		c_bytes(c, &a->opens, &a->olen);
		c_bytes(c, &a->closes, &a->clen);
		c_int(c, &a->event);
	}
}

static void cx_conn_claim(struct codec *c, void *p)
{
	struct conn_claim_arg *a = p;

	if (!c->results) {
		c_str(c, &a->conn);
		c_str(c, &a->user);
		c_int(c, &a->event);
		return;
	}
	c_int(c, &a->result);
}

static void cx_sites_down(struct codec *c, void *p)
{
	struct sites_down_arg *a = p;

	if (!c->results)
		c_str(c, &a->down);
}

static void cx_hook_set(struct codec *c, void *p)
{
	struct hook_set_arg *a = p;

	if (!c->results) {
		c_bytes(c, (const void **)&a->key, &a->klen);
		c_u64(c, &a->v);
		c_int(c, &a->events);
	}
}

static void cx_hook_init(struct codec *c, void *p)
{
	struct hook_init_arg *a = p;

	if (c->results)
		c_int(c, &a->result);
}

/*
 * Every op a store_run(TXN_WRITE) runs, by id (its place here): what a
 * client site sends and the master runs. An op missing here cannot be
 * forwarded (store_forward says so): a new write op gets a row.
 */
static const struct write_op {
	store_op op;
	void (*codec)(struct codec *c, void *arg);
	size_t size;		/* of its argument */
} write_ops[] = {
	{ op_room_add, cx_room, sizeof(struct room_arg) },
	{ op_append, cx_append, sizeof(struct append_arg) },
	{ op_kv_put, cx_kv, sizeof(struct kv_arg) },
	{ op_kv_del, cx_kv, sizeof(struct kv_arg) },
	{ op_member, cx_member, sizeof(struct member_arg) },
	{ op_cursor_set, cx_cursor, sizeof(struct cursor_arg) },
	{ op_conn_clear, cx_conn_clear, sizeof(struct conn_clear_arg) },
	{ op_user_revoke, cx_user, sizeof(struct user_arg) },
	{ op_user_remove, cx_user, sizeof(struct user_arg) },
	{ op_hide, cx_hide, sizeof(struct hide_arg) },
	{ op_queue_add, cx_queue, sizeof(struct queue_arg) },
	{ op_queue_take, cx_queue, sizeof(struct queue_arg) },
	{ op_rate, cx_rate, sizeof(struct rate_arg) },
	{ op_conn_event, cx_conn_event, sizeof(struct conn_event_arg) },
	{ op_hook_set, cx_hook_set, sizeof(struct hook_set_arg) },
	{ op_hook_init, cx_hook_init, sizeof(struct hook_init_arg) },
	{ op_conn_claim, cx_conn_claim, sizeof(struct conn_claim_arg) },
	{ op_sites_down, cx_sites_down, sizeof(struct sites_down_arg) },
	{ op_conn_replace, cx_conn_event, sizeof(struct conn_event_arg) },
	{ op_conn_batch, cx_conn_batch, sizeof(struct conn_batch_arg) },
	{ op_cursor_batch, cx_cursor_batch, sizeof(struct cursor_batch_arg) },
};
#define NWRITE_OPS (sizeof(write_ops) / sizeof(write_ops[0]))

/* What the master answers first: then the error text, then the op's results. */
enum { SERVED_OK, SERVED_FAILED, SERVED_FULL, SERVED_NOT_MASTER, SERVED_UNACKED };

#define STORE_GROUP_WAIT_MS 5000	/* a write waits this long for a master */

#define STORE_APPLIED_US 2000000	/* a forwarded write waits this long to be seen here */

/*
 * Read your own writes: a write the master committed for this site is
 * answered once this site has applied it too (txn_applied on the commit
 * token the master sent back), so the asker's next request here (a
 * member add after its room add, a GET after a POST) sees it. Past
 * STORE_APPLIED_US the answer goes out anyway: the write is the
 * group's (acknowledged as group_ack wants), only this copy is behind.
 */
static void store_applied(struct store *s, const void *token)
{
	DB_TXN_TOKEN t;

	memcpy(&t, token, sizeof(t));
	(void)s->env->txn_applied(s->env, &t, STORE_APPLIED_US, 0);
}

/*
 * The relay's transport (s->relayed): the packed write to its site's
 * replicator, which runs it as any of its own writes (forwarded to the
 * master, or run there) and answers once this site has it. The bound
 * covers the replicator's own waits: for a master, its request, the
 * commit's application here. Returns as group_request does: 0; 1 nothing
 * sent (no replicator listening: it is starting, or gone); -1 sent, no
 * answer.
 */
#define STORE_RELAY_MS (STORE_GROUP_WAIT_MS + (GROUP_CONNECT_US + GROUP_REQUEST_US + \
			STORE_APPLIED_US) / 1000 + 2000)

static int store_relay_request(struct store *s, const void *req, size_t len, void **out,
			       size_t *outlen, char *err)
{
	int fresh = 0, r;

	if (s->link_fd < 0) {
		if ((s->link_fd = replink_connect(s->group.socket, err)) < 0)
			return 1;
		fresh = 1;
	}
	if (replink_send(s->link_fd, req, len, 1000, err)) {
		close(s->link_fd);
		s->link_fd = -1;
		/* a kept connection the replicator closed (restarted): nothing was read */
		return fresh ? -1 : 1;
	}
	r = replink_recv(s->link_fd, out, outlen, STORE_RELAY_MS, err);
	if (r) {
		close(s->link_fd);
		s->link_fd = -1;
		if (r > 0)
			err_set(err, "replicator: closed the connection without an answer");
		return -1;
	}
	return 0;
}

/*
 * Set while this thread (the replicator's main one) runs a relay's write
 * (store_serve_relay): the relay's event loop waits for the answer, every
 * client of the site with it, so store_forward does not wait for a master
 * that cannot answer (none known during an election, or this site cut
 * off): it fails at once, and the relay answers "unavailable".
 */
static __thread int relay_no_wait;

static int store_forward(struct store *s, store_op op, void *arg, const char *what, char *err)
{
	struct codec c;
	const char *msg = NULL;
	void *out = NULL;
	size_t outlen = 0;
	uint64_t id, status;
	int64_t start = clock_ms();
	int r;

	for (id = 0; id < NWRITE_OPS && write_ops[id].op != op; id++)
		;
	if (id == NWRITE_OPS)
		return err_set(err, "%s: not a write a client site can forward", what);
	memset(&c, 0, sizeof(c));
	c.s = s;
	c_u64(&c, &id);
	write_ops[id].codec(&c, arg);
	if (c.bad) {
		free(c.buf);
		return err_set(err, "%s: out of memory", what);
	}
	/*
	 * The bound is on the clock, not on a count of tries: an attempt at
	 * a frozen master takes GROUP_CONNECT_US before it gives up.
	 */
	for (;;) {
		if (relay_no_wait && group_master_reachable(s->env) != 1) {
			err_set(err, "%s: no master answers this site", what);
			break;
		}
		r = s->relayed ? store_relay_request(s, c.buf, c.len, &out, &outlen, err)
			       : group_request(s->env, c.buf, c.len, &out, &outlen, err);
		if (r < 0)
			break;
		if (r == 0) {
			struct codec in;

			memset(&in, 0, sizeof(in));
			in.s = s, in.unpack = 1, in.results = 1, in.in = out, in.inlen = outlen;
			c_u64(&in, &status);
			c_str(&in, &msg);
			if (!in.bad && status == SERVED_OK) {
				const void *tok = NULL;
				size_t toklen = 0;

				c_bytes(&in, &tok, &toklen);
				write_ops[id].codec(&in, arg);
				/* the replicator answers once its site applied it: no token */
				if (!in.bad && (toklen == sizeof(DB_TXN_TOKEN) || (s->relayed && !toklen))) {
					if (toklen)
						store_applied(s, tok);
					free(out);
					free(c.buf);
					return 0;
				}
				in.bad = 1;
			}
			if (in.bad || status != SERVED_NOT_MASTER) {
				s->full = !in.bad && status == SERVED_FULL;
				s->unavailable = !in.bad && status == SERVED_UNACKED;
				err_set(err, "%s %s: %s", what,
					s->relayed ? "through the replicator" : "at the master",
					in.bad ? "an answer that does not parse" : msg ? msg : "failed");
				free(out);
				free(c.buf);
				return -1;
			}
			free(out);
			out = NULL;
			/* it stopped being the master before it ran it: ask the next one */
		}
		if (clock_ms() - start >= STORE_GROUP_WAIT_MS) {
			err_set(err, "%s: no master known for %d ms", what, STORE_GROUP_WAIT_MS);
			break;
		}
		usleep(100000);
		if (!s->relayed && group_is_master(s->env) == 1) {
			/* elected here meanwhile: do it here */
			free(c.buf);
			return store_run(s, op, arg, TXN_WRITE, what, err);
		}
	}
	free(c.buf);
	/* no master, or sent and not answered: it may be stored (docs/DESIGN.md) */
	s->unavailable = 1;
	return -1;
}

/* An answer's start, into a new o: its status (SERVED_*), then msg. */
static void answer_head(struct codec *o, struct store *runner, uint64_t status, const char *msg)
{
	memset(o, 0, sizeof(*o));
	o->s = runner, o->results = 1;
	c_u64(o, &status);
	c_str(o, &msg);
}

/* The answer o made, into *out (*outlen bytes): 0; -1 out of memory (o freed). */
static int answer_end(struct codec *o, void **out, size_t *outlen)
{
	if (o->bad) {
		free(o->buf);
		return -1;
	}
	*out = o->buf;
	*outlen = o->len;
	return 0;
}

/*
 * At the master, on a replication manager thread: unpack the op, run it
 * in a view of the store (its handles shared, free-threaded; its own
 * flags), answer status, error and results.
 */
static int serve_op(struct store *runner, const void *req, size_t len, int token, void **out,
		    size_t *outlen)
{
	union { struct room_arg a; struct append_arg b; struct kv_arg c; struct member_arg d;
		struct cursor_arg e; struct conn_clear_arg f; struct user_arg g;
		struct hide_arg h; struct queue_arg i; struct rate_arg j;
		struct conn_event_arg k; struct hook_set_arg l; struct hook_init_arg m;
		struct conn_claim_arg n; struct sites_down_arg o; struct conn_batch_arg p;
		struct cursor_batch_arg q; } arg;
	char err[ERR_LEN] = "";
	const char *msg = err;
	struct codec in, o;
	uint64_t id = 0, status;
	int r;

	memset(&arg, 0, sizeof(arg));
	memset(&in, 0, sizeof(in));
	in.s = runner, in.unpack = 1, in.in = req, in.inlen = len;
	c_u64(&in, &id);
	if (!in.bad && id < NWRITE_OPS)
		write_ops[id].codec(&in, &arg);
	if (in.bad || id >= NWRITE_OPS || (token && !runner->env)) {
		status = SERVED_FAILED;
		err_set(err, "a request that does not parse");
	} else {
		r = store_run(runner, write_ops[id].op, &arg, TXN_WRITE,
			      token ? "forwarded write" : "the relay's write", err);
		status = !r ? SERVED_OK : runner->full ? SERVED_FULL :
			 runner->unavailable ? SERVED_UNACKED :
			 token && group_is_master(runner->env) != 1 ? SERVED_NOT_MASTER :
			 SERVED_FAILED;
	}
	answer_head(&o, runner, status, msg);
	if (status == SERVED_OK) {
		const void *tok = &runner->token;
		size_t toklen = token ? sizeof(runner->token) : 0;

		c_bytes(&o, &tok, &toklen);
		write_ops[id].codec(&o, &arg);
	}
	return answer_end(&o, out, outlen);
}

/* An answer with status alone (SERVED_*) and msg: into *out, 0; -1 out of memory. */
static int serve_status(struct store *runner, uint64_t status, const char *msg, void **out,
			size_t *outlen)
{
	struct codec o;

	answer_head(&o, runner, status, msg);
	return answer_end(&o, out, outlen);
}

static int store_serve(void *ctx, const void *req, size_t len, void **out, size_t *outlen)
{
	struct store *owner = ctx, *view;
	int r;

	if (!(view = malloc(sizeof(*view))))
		return -1;
	pthread_rwlock_rdlock(&owner->lock);
	if (!owner->handles_open) {
		/*
		 * Elected while its handles open (a restart), or reopening
		 * them: the asker waits and asks again, as for a new master.
		 */
		pthread_rwlock_unlock(&owner->lock);
		free(view);
		return serve_status(owner, SERVED_NOT_MASTER, "the master is opening its store",
				    out, outlen);
	}
	memcpy(view, owner, sizeof(*view));
	view->serving = 1;
	r = serve_op(view, req, len, 1, out, outlen);
	pthread_rwlock_unlock(&owner->lock);
	free(view);
	return r;
}

int store_serve_relay(struct store *s, const void *req, size_t len, void **out, size_t *outlen)
{
	int r;

	if (!s->grouped || !s->replicator)
		return -1;
	relay_no_wait = 1;
	r = serve_op(s, req, len, 0, out, outlen);
	relay_no_wait = 0;
	return r;
}

int store_grouped(const struct store *s)
{
	return s && s->grouped;
}

int store_group_status(struct store *s, int lsns, struct group_status *out, char *err)
{
	if (!s->grouped)
		return err_set(err, "not in a group (no group_self)");
	if (!s->env && store_open_handles(s, err))
		return -1;
	return group_status(s->env, lsns, out, err);
}

uint64_t store_group_lsn(struct store *s)
{
	return s->grouped && s->env ? group_lsn(s->env) : 0;
}

int store_group_remove(struct store *s, const char *addr, char *err)
{
	if (!s->grouped)
		return err_set(err, "not in a group (no group_self)");
	if (!strcmp(addr, s->group.self))
		return err_set(err, "group remove: %s is this site (group_self): stop it, then "
			       "remove it at another site", addr);
	if (!s->env && store_open_handles(s, err))
		return -1;
	return group_remove(s->env, addr, err);
}
