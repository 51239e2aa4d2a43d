/* app.h - what every bookpics program holds: its configuration and store. */
#ifndef BP_APP_H
#define BP_APP_H

#include "conf.h"
#include "store.h"

struct app {
	struct conf conf;
	struct store *store;	/* NULL until app_ready succeeds */
};

/*
 * The data directory: var if not NULL, else $BOOKPICS_VAR, else "./var".
 */
const char *app_var(const char *var);

/*
 * Make a ready: load (or reload, if the file changed) the configuration of
 * var and open the store in var/db if not open yet. Cheap when nothing
 * changed, so call it per request. Returns 0, or -1 with err filled.
 */
int app_ready(struct app *a, const char *var, char *err);

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

/* Close the store; safe to call twice. */
void app_close(struct app *a);

#endif
