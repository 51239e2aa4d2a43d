/* app.h - what every bookpics program holds: its configuration and store. */
#ifndef BP_APP_H
#define BP_APP_H

#include "conf.h"
#include "stats.h"
#include "store.h"

struct app {
	struct conf conf;
	struct store *store;	/* NULL until app_ready succeeds */
	/*
	 * $VAR/run/stats, mapped by the programs that count (webhook, api:
	 * app_stats); NULL until then or if it cannot be. bookpics-admin never
	 * maps it: run as root it would make the file root's.
	 */
	struct stats *stats;
	/*
	 * In a group (group_self set): this process's part in it (store.h,
	 * groups), set before app_ready: bookpics-replicator is the site's
	 * replication process, the relay hands its writes to it; every other
	 * process is a subordinate (0).
	 */
	enum store_role group_role;
};

/*
 * The data directory: var if not NULL, else $BOOKPICS_VAR, else "./var".
 */
const char *app_var(const char *var);

/*
 * Make a ready: load (or reload, if the file changed) the configuration of
 * var and open the store in var/db if not open yet. Cheap when nothing
 * changed, so call it per request. A changed file that does not load is
 * logged once (stderr: the server's log) and a keeps its last good
 * configuration: that is success. Returns 0, or -1 with err filled when
 * there is no good configuration yet or the store cannot be opened; then
 * err starts with what is wrong with var if app_var_check finds something
 * (its owner, say), followed by the failed call in parentheses.
 */
int app_ready(struct app *a, const char *var, char *err);

/*
 * `bookpics-admin init` at a group's site (a->conf loaded, group_self
 * set): create the environment in var/db (its regions, configured for
 * the group) and nothing else, for the supervisor's check to find one:
 * the databases are the master's, they come by replication. 0 or -1.
 */
int app_group_env(struct app *a, const char *var, char *err);

/*
 * a->stats, mapping var's counters first if not yet (tried again on each
 * call while it fails: counting never stops serving). May return NULL,
 * which every stats_* function takes.
 */
struct stats *app_stats(struct app *a, const char *var);

/* Told each problem app_var_check finds, one line of text. */
typedef void (*app_problem_fn)(void *ctx, const char *problem);

/*
 * Is var usable by the user running this? var must exist, be a directory
 * owned by this user (root: every file must belong to var's owner, as a
 * file root creates there would lock the site's user out) and writable;
 * the entries of var and var/db must be owned by that user too, and
 * var/bookpics.conf readable by nobody else. Each problem names the owner
 * and the user and how to fix it. Returns how many problems fn was told.
 */
int app_var_check(const char *var, app_problem_fn fn, void *ctx);

/* What a connection token says about its bearer (app_token_user). */
enum app_token {
	APP_TOKEN_USER,		/* a valid token of an existing user */
	APP_TOKEN_REJECTED,	/* malformed, bad signature, expired, revoked, or unknown user */
	APP_TOKEN_STORE_FAILED	/* the store could not say whether the user exists */
};

/*
 * Which user is this token (the "TOKEN" of "Bearer TOKEN" or ?token=)?
 * The one place both the HTTP API and the relay ask it: token_verify
 * against a->conf.token_secret at the current time, then the user must
 * exist in a->store (a ready app) and the token must not be issued before
 * the user's not-before time (store_user_revoke; "token revoked"). user (STORE_NAME_MAX + 1 bytes) gets the
 * user id on APP_TOKEN_USER and "" otherwise. On APP_TOKEN_REJECTED err
 * holds the words for the client ("token expired", "unknown user", ...);
 * on APP_TOKEN_STORE_FAILED err holds the store's error, for the log.
 */
enum app_token app_token_user(struct app *a, const char *token, char *user, char *err);

/* Close the store and the counters; safe to call twice. */
void app_close(struct app *a);

#endif
