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

/* Close the store; safe to call twice. */
void app_close(struct app *a);

#endif
