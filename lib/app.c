/* app.c - configuration and store, loaded once and refreshed per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "err.h"
#include "token.h"

const char *app_var(const char *var)
{
	const char *env = getenv("BOOKPICS_VAR");

	if (var)
		return var;
	return env && *env ? env : "./var";
}

int app_ready(struct app *a, const char *var, char *err)
{
	char home[CONF_PATH_MAX + 8];

	if (!a->conf.var[0]) {
		if (conf_load(&a->conf, var, err))
			return -1;
	} else if (conf_refresh(&a->conf, err) < 0) {
		return -1;
	}
	if (!a->store) {
		snprintf(home, sizeof(home), "%s/db", var);
		a->store = store_open(home, err);
		if (!a->store)
			return -1;
	}
	return 0;
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
}
