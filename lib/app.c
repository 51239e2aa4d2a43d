/* app.c - configuration and store, loaded once and refreshed per request. */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "err.h"
#include "group.h"
#include "token.h"

const char *app_var(const char *var)
{
	const char *env = getenv("BOOKPICS_VAR");

	if (var)
		return var;
	return env && *env ? env : "./var";
}

/* A user's name for messages: "www-data", or "uid 1234" when it has none. */
static void user_name(uid_t uid, char *out, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(out, len, "%s", pw->pw_name);
	else
		snprintf(out, len, "uid %ld", (long)uid);
}

/* Is path (a file or directory under VAR) owned by want? Else tell fn. */
static int owner_check(const char *path, uid_t want, app_problem_fn fn, void *ctx)
{
	char owner[64], user[64], msg[6 * CONF_PATH_MAX];
	struct stat st;

	if (lstat(path, &st) || st.st_uid == want)
		return 0;
	user_name(st.st_uid, owner, sizeof(owner));
	user_name(want, user, sizeof(user));
	snprintf(msg, sizeof(msg), "%s: owned by %s, not by %s (the site's user): chown %s %s",
		 path, owner, user, user, path);
	fn(ctx, msg);
	return 1;
}

/* owner_check every entry of directory dir (not deeper). */
static int owner_check_dir(const char *dir, uid_t want, app_problem_fn fn, void *ctx)
{
	char path[CONF_PATH_MAX * 2];
	struct dirent *e;
	int problems = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		problems += owner_check(path, want, fn, ctx);
	}
	closedir(d);
	return problems;
}

int app_var_check(const char *var, app_problem_fn fn, void *ctx)
{
	char msg[6 * CONF_PATH_MAX], owner[64], user[64], path[CONF_PATH_MAX + 32];
	uid_t me = geteuid(), want;
	struct stat st;
	int problems = 0;

	if (stat(var, &st)) {
		snprintf(msg, sizeof(msg), "%s: %s (bookpics-admin --var %s init creates it)",
			 var, strerror(errno), var);
		fn(ctx, msg);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(msg, sizeof(msg), "%s: not a directory", var);
		fn(ctx, msg);
		return 1;
	}
	user_name(st.st_uid, owner, sizeof(owner));
	user_name(me, user, sizeof(user));
	/*
	 * root may write anywhere, but what it creates there is root's and
	 * locks the site's user out later: for root, every file should
	 * belong to VAR's owner.
	 */
	want = me == 0 ? st.st_uid : me;
	if (st.st_uid != want) {
		snprintf(msg, sizeof(msg), "%s: owned by %s, but this runs as %s: "
			 "chown -R %s %s, or run as %s", var, owner, user, user, var, owner);
		fn(ctx, msg);
		problems++;
	} else if (access(var, W_OK | X_OK)) {
		snprintf(msg, sizeof(msg), "%s: not writable by %s (owner %s, mode %04o)",
			 var, user, owner, (unsigned)(st.st_mode & 07777));
		fn(ctx, msg);
		problems++;
	}
	if (!problems) {
		problems += owner_check_dir(var, want, fn, ctx);
		snprintf(path, sizeof(path), "%s/db", var);
		problems += owner_check_dir(path, want, fn, ctx);
	}
	snprintf(path, sizeof(path), "%s/bookpics.conf", var);
	if (!stat(path, &st) && (st.st_mode & 077)) {
		snprintf(msg, sizeof(msg), "%s: mode %04o lets others read its secrets: chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		fn(ctx, msg);
		problems++;
	}
	return problems;
}

/* app_var_check's first problem into err (ERR_LEN bytes). */
static void first_problem(void *ctx, const char *problem)
{
	char *err = ctx;

	if (!err[0])
		snprintf(err, ERR_LEN, "%s", problem);
}

/*
 * What failed at start may be a $VAR of the wrong owner: say that, not
 * only the call that failed (a bare "permission denied" 503 told nobody).
 */
static void explain_var(const char *var, char *err)
{
	char why[ERR_LEN] = "", was[ERR_LEN];

	app_var_check(var, first_problem, why);
	if (why[0] && err) {
		snprintf(was, sizeof(was), "%s", err);
		err_set(err, "%s (%s)", why, was);
	}
}

int app_ready(struct app *a, const char *var, char *err)
{
	char home[CONF_PATH_MAX + 8], why[ERR_LEN];

	if (!a->conf.var[0]) {
		if (conf_load(&a->conf, var, err)) {
			a->conf.var[0] = '\0';	/* no good configuration yet */
			explain_var(var, err);
			return -1;
		}
	} else if (conf_refresh(&a->conf, why) < 0) {
		/*
		 * A bad edit must not take the site down: keep serving with
		 * the last good configuration, and say so once per change of
		 * the file, on stderr (the server's log).
		 */
		fprintf(stderr, "bookpics[%ld]: configuration not reloaded, keeping the last good one: %s\n",
			(long)getpid(), why);
	}
	if (!a->store) {
		struct group_conf g;

		snprintf(home, sizeof(home), "%s/db", var);
		if (group_conf_from(&g, &a->conf, err) < 0)
			return -1;
		a->store = store_open_group(home, &g, a->group_role, err);
		if (!a->store) {
			explain_var(var, err);
			return -1;
		}
	}
	return 0;
}

int app_group_env(struct app *a, const char *var, char *err)
{
	char home[CONF_PATH_MAX + 8];
	struct group_conf g;

	snprintf(home, sizeof(home), "%s/db", var);
	if (group_conf_from(&g, &a->conf, err) <= 0)
		return err_set(err, "app_group_env: not a group's site");
	return store_group_create(home, &g, err);
}

struct stats *app_stats(struct app *a, const char *var)
{
	if (!a->stats)
		a->stats = stats_open(var, NULL);
	return a->stats;
}

enum app_token app_token_user(struct app *a, const char *token, char *user, char *err)
{
	uint64_t issued, not_before;
	int r;

	if (token_verify_issued(a->conf.token_secret, token, time(NULL), user, &issued, err)) {
		user[0] = '\0';
		return APP_TOKEN_REJECTED;
	}
	r = store_user_not_before(a->store, user, &not_before, err);
	if (r == 1 && issued >= not_before)
		return APP_TOKEN_USER;
	user[0] = '\0';
	if (r < 0)
		return APP_TOKEN_STORE_FAILED;
	err_set(err, r ? "token revoked" : "unknown user");
	return APP_TOKEN_REJECTED;
}

void app_close(struct app *a)
{
	store_close(a->store);
	a->store = NULL;
	stats_close(a->stats);
	a->stats = NULL;
}
