/* dbwatch.h - the supervisor's watch on the Berkeley DB environment: failchk, recovery. */
#ifndef BP_DBWATCH_H
#define BP_DBWATCH_H

#include <sys/types.h>

/*
 * lib/store.c handles what one process can heal (deadlocks, a dead
 * process's locks and transactions, a panic after another's recovery).
 * A process that dies while holding a region mutex cannot be healed from
 * inside: the others wait on that mutex forever. Only the supervisor can
 * stop them all, so it watches with its own environment handle, joined
 * the way every bookpics process joins (DB_REGISTER, the same thread
 * count, an is_alive that asks the kernel).
 */
struct dbwatch;

/*
 * Join the environment in home (it must exist: `bookpics-admin init`).
 * Returns a handle; NULL with *needs_recovery = 1 when Berkeley DB says
 * recovery must run first (DB_RUNRECOVERY); NULL with *needs_recovery = 0
 * and err filled on any other failure. dbwatch_close(NULL) is a no-op.
 */
struct dbwatch *dbwatch_open(const char *home, int *needs_recovery, char *err);
void dbwatch_close(struct dbwatch *w);

/*
 * DB_ENV->failchk: 0 healthy (dead processes' locks and transactions
 * cleared), 1 DB_RUNRECOVERY (a process died inside the library: stop
 * every process of the site, dbwatch_close, dbwatch_recover), -1 other
 * error with err filled.
 */
int dbwatch_check(struct dbwatch *w, char *err);

/*
 * Run normal recovery on home (DB_RECOVER), then create the regions again
 * with the store's sizes: store_open at a single site; at a group's site
 * (var's bookpics.conf sets group_self) store_group_create, the regions
 * configured for the group and no replication started (the relay, next,
 * joins). Only with no other process attached: the caller has stopped
 * every one and closed its handle. Returns 0, or -1 with err filled
 * (var's configuration does not load: nothing is changed).
 */
int dbwatch_recover(const char *home, const char *var, char *err);

/*
 * The same work in a child process, so that no Berkeley DB call can block
 * the supervisor's signals or its care of the children (it hung in
 * futex_do_wait inside failchk, ignoring SIGTERM, issue 11). The caller
 * reaps the child (waitpid) and kills it with SIGKILL past its own bound.
 *
 * dbwatch_check_start: the child joins home (dbwatch_open), runs failchk
 * (dbwatch_check), leaves and exits with what it found. dbwatch_check_result
 * reads that from its wait status: 0 healthy, 1 recovery needed
 * (DB_RUNRECOVERY at open or from failchk), -1 any other failure (a child
 * killed or one that could not join, err filled). In the TESTHOOKS build
 * (make TESTHOOKS=1) the child first waits BOOKPICS_TEST_FAILCHK_SLEEP_MS
 * when that is set (tests/t9020: a slow or a stalled check).
 *
 * dbwatch_recover_start: the child runs dbwatch_recover (home, var); exit 0 when it
 * worked (dbwatch_recover_result: 0, or -1 with err).
 *
 * Both return the child's pid, or -1 with err filled (fork failed). The
 * child's messages go to the supervisor's log (runlog).
 */
pid_t dbwatch_check_start(const char *home, char *err);
int dbwatch_check_result(int status, char *err);
pid_t dbwatch_recover_start(const char *home, const char *var, char *err);
int dbwatch_recover_result(int status, char *err);

#endif
