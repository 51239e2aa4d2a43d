/* dbwatch.c - failchk and recovery of the store's environment (see dbwatch.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "conf.h"
#include "dbwatch.h"
#include "err.h"
#include "group.h"
#include "runlog.h"
#include "store.h"

/* lib/store.c sets the same: the thread table is sized by its creator. */
#define DBWATCH_THREADS 1024

struct dbwatch {
	DB_ENV *env;
};

static int dbwatch_isalive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	(void)env, (void)tid, (void)flags;
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* Berkeley DB's own lines go into the supervisor's log, quoted. */
static void dbwatch_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env, (void)pfx;
	runlog("error", "event=db message=\"%s\"", msg);
}

static void dbwatch_msgcall(const DB_ENV *env, const char *msg)
{
	(void)env;
	runlog("info", "event=db message=\"%s\"", msg);
}

/*
 * An environment handle configured as every bookpics process configures its
 * own (DB_THREAD in the open flags too, as store_open_handles: one way to
 * join the environment).
 */
static DB_ENV *dbwatch_env(char *err)
{
	DB_ENV *env;
	int ret;

	if ((ret = db_env_create(&env, 0))) {
		err_set(err, "db_env_create: %s", db_strerror(ret));
		return NULL;
	}
	/* failchk's reports ("freeing log information for process") are messages */
	env->set_errcall(env, dbwatch_errcall);
	env->set_msgcall(env, dbwatch_msgcall);
	env->set_thread_count(env, DBWATCH_THREADS);
	env->set_isalive(env, dbwatch_isalive);
	return env;
}

struct dbwatch *dbwatch_open(const char *home, int *needs_recovery, char *err)
{
	/*
	 * No DB_REGISTER: a check child opens the environment every time, and
	 * with DB_REGISTER every open after any kill -9 of a registered
	 * process (the relay, a FastCGI program) answers DB_RUNRECOVERY, so a
	 * crash of one program restarted the whole site. failchk itself
	 * (thread tracking, is_alive) tells a dead process that left nothing
	 * held from one that died inside the library.
	 */
	u_int32_t flags = DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_TXN |
			  DB_THREAD;
	struct dbwatch *w = NULL;
	DB_ENV *env;
	int ret;

	*needs_recovery = 0;
	if (!(env = dbwatch_env(err)))
		return NULL;
	if ((ret = env->open(env, home, flags, 0600))) {
		if (ret == DB_RUNRECOVERY)
			*needs_recovery = 1;
		err_set(err, "open environment %s: %s", home, db_strerror(ret));
		goto fail;
	}
	if (!(w = calloc(1, sizeof(*w)))) {
		err_set(err, "dbwatch_open: out of memory");
		goto fail;
	}
	w->env = env;
	return w;
fail:
	env->close(env, 0);
	return NULL;
}

void dbwatch_close(struct dbwatch *w)
{
	if (!w)
		return;
	w->env->close(w->env, 0);
	free(w);
}

int dbwatch_check(struct dbwatch *w, char *err)
{
	int ret = w->env->failchk(w->env, 0);

	if (!ret)
		return 0;
	err_set(err, "failchk: %s", db_strerror(ret));
	return ret == DB_RUNRECOVERY ? 1 : -1;
}

int dbwatch_recover(const char *home, const char *var, char *err)
{
	u_int32_t flags = DB_CREATE | DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG |
			  DB_INIT_TXN | DB_RECOVER | DB_THREAD;
	static struct conf c;	/* large: not on the stack (a child, run once) */
	struct group_conf g;
	struct store *s;
	DB_ENV *env;
	int ret, grouped;

	/* before anything is changed: which kind of site this is */
	if (conf_load(&c, var, err) || (grouped = group_conf_from(&g, &c, err)) < 0)
		return -1;

	if (!(env = dbwatch_env(err)))
		return -1;
	/* without DB_REGISTER: recovery runs unconditionally, nobody is attached */
	ret = env->open(env, home, flags, 0600);
	env->close(env, 0);
	if (ret)
		return err_set(err, "recover %s: %s", home, db_strerror(ret));
	/*
	 * The recovered regions have this handle's default sizes (cache, locks,
	 * mutexes), far under the store's: remove them (the databases and logs
	 * stay) and let the store create them again as every process expects.
	 */
	if (!(env = dbwatch_env(err)))
		return -1;
	if ((ret = env->remove(env, home, 0)))	/* remove frees the handle */
		return err_set(err, "remove environment %s: %s", home, db_strerror(ret));
	/*
	 * A group's site: the regions as its programs make them (replication
	 * configured), nothing more, as `bookpics-admin init` there. Not
	 * store_open: every open of the site's programs (DB_INIT_REP) then
	 * failed with BDB1540 "configured environment flags incompatible
	 * with existing environment" (t9550). Not a subordinate's
	 * store_open_group either: with every process of the site stopped it
	 * would wait for the relay's listener in vain, then take the site's
	 * replication role itself and wait for a master, all inside
	 * SUP_RECOVER_MS. The relay, started next, joins the group.
	 */
	if (grouped)
		return store_group_create(home, &g, err);
	if (!(s = store_open(home, err)))
		return -1;
	store_close(s);
	return 0;
}

/* A check's or a recovery's exit codes. */
enum { DBWATCH_EXIT_OK = 0, DBWATCH_EXIT_RECOVER = 3, DBWATCH_EXIT_ERROR = 4 };

/* fork, and in the child: default signals (the parent reads its own from a signalfd). */
static pid_t dbwatch_fork(char *err)
{
	sigset_t none;
	pid_t pid = fork();

	if (pid < 0) {
		err_set(err, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	return pid;
}

#ifdef BOOKPICS_TESTHOOKS
/*
 * Test-only (make TESTHOOKS=1, never in a release build): a check child
 * that answers BOOKPICS_TEST_FAILCHK_SLEEP_MS late, so that tests/t9020
 * can freeze the supervisor while one runs, or let one run past
 * SUP_CHECK_MS. It waits before it joins the environment: nothing of the
 * store is held, a kill leaves nothing to recover. The end is absolute on
 * the monotonic clock, so a child stopped past it answers at its thaw, as
 * a check frozen in the middle of its work would.
 */
static void dbwatch_test_sleep(void)
{
	const char *env = getenv("BOOKPICS_TEST_FAILCHK_SLEEP_MS");
	long ms = env ? atol(env) : 0;
	struct timespec until;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}
#endif

pid_t dbwatch_check_start(const char *home, char *err)
{
	struct dbwatch *w;
	int needs = 0, r;
	pid_t pid;

	if ((pid = dbwatch_fork(err)) != 0)
		return pid;
#ifdef BOOKPICS_TESTHOOKS
	dbwatch_test_sleep();
#endif
	if (!(w = dbwatch_open(home, &needs, err))) {
		if (!needs)
			runlog("warn", "event=failchk error=\"%s\"", err);
		_exit(needs ? DBWATCH_EXIT_RECOVER : DBWATCH_EXIT_ERROR);
	}
	r = dbwatch_check(w, err);
	if (r)
		runlog(r > 0 ? "error" : "warn", "event=failchk error=\"%s\"", err);
	dbwatch_close(w);
	_exit(r > 0 ? DBWATCH_EXIT_RECOVER : r < 0 ? DBWATCH_EXIT_ERROR : DBWATCH_EXIT_OK);
}

int dbwatch_check_result(int status, char *err)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == DBWATCH_EXIT_OK)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == DBWATCH_EXIT_RECOVER)
		return 1;
	if (WIFSIGNALED(status))
		return err_set(err, "failchk: killed by signal %d", WTERMSIG(status));
	return err_set(err, "failchk: exited %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

pid_t dbwatch_recover_start(const char *home, const char *var, char *err)
{
	pid_t pid;

	if ((pid = dbwatch_fork(err)) != 0)
		return pid;
	if (dbwatch_recover(home, var, err)) {
		runlog("error", "event=recover_failed reason=\"%s\"", err);
		_exit(DBWATCH_EXIT_ERROR);
	}
	_exit(DBWATCH_EXIT_OK);
}

int dbwatch_recover_result(int status, char *err)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == DBWATCH_EXIT_OK)
		return 0;
	if (WIFSIGNALED(status))
		return err_set(err, "recover: killed by signal %d", WTERMSIG(status));
	return err_set(err, "recover: failed (exit %d, its reason logged)",
		       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
