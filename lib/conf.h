/* conf.h - $VAR/bookpics.conf: `key = value` lines, created with fresh secrets. */
#ifndef BP_CONF_H
#define BP_CONF_H

#include <stddef.h>
#include <time.h>

#define CONF_PATH_MAX 1024
#define CONF_VAL_MAX 512

enum conf_dup { CONF_DUP_REFUSE, CONF_DUP_REPLACE, CONF_DUP_ALLOW };
enum conf_moderation { CONF_MOD_OFF, CONF_MOD_PRE };
enum conf_onoff { CONF_OFF, CONF_ON };
enum conf_group_ack { CONF_ACK_QUORUM, CONF_ACK_ALL, CONF_ACK_ONE };

struct conf {
	char var[CONF_PATH_MAX];	/* the data directory ($VAR) */
	char public_url[CONF_VAL_MAX];	/* no trailing slash */
	char twilio_account_sid[CONF_VAL_MAX];
	char twilio_auth_token[CONF_VAL_MAX];	/* "" = every webhook refused */
	char twilio_room[CONF_VAL_MAX];
	char token_secret[CONF_VAL_MAX];
	char media_hosts[CONF_VAL_MAX];	/* comma or space separated */
	long media_max_bytes;
	long media_retry_after;		/* s a failed fetch is remembered */
	enum conf_onoff media_prefetch;	/* webhook.fcgi fetches and cleans right after answering */
	enum conf_dup duplicate_connections;
	char metrics_token[CONF_VAL_MAX];	/* "" = /api/metrics for 127.0.0.1 only */
	char admin_token[CONF_VAL_MAX];	/* "" = the server API (/api/admin/) is off */
	char cors_origins[CONF_VAL_MAX];	/* "scheme://host[:port],...", lowercase */
	char ws_origins[CONF_VAL_MAX];	/* the same form */
	char hook_url[CONF_VAL_MAX];	/* "" = no event hooks */
	char hook_secret[CONF_VAL_MAX];
	char sender_secret[CONF_VAL_MAX];	/* keys the sender hash; "" = derived from token_secret */
	enum conf_moderation moderation;	/* pre: pictures wait in the queue */
	enum conf_onoff wall_text;	/* on: texts without a picture reach the wall */
	long sender_rate;		/* pictures per sender per room per hour */
	char twilio_reply[CONF_VAL_MAX];	/* "" = no reply SMS */
	char wall_number[CONF_VAL_MAX];	/* shown on the wall */
	char group_self[CONF_VAL_MAX];	/* HOST:PORT of this site's replication; "" = one site */
	char group_sites[CONF_VAL_MAX];	/* HOST:PORT,... of every site, group_self among them */
	long group_priority;		/* election priority, 0 = never master */
	enum conf_group_ack group_ack;	/* acknowledgements a commit waits for */
	struct timespec mtime;		/* of the file when loaded */
	int failed;			/* the file changed since, and did not load: */
	struct timespec failed_mtime;	/* its mtime then ({0, -1}: it was missing) */
};

/* Told each problem of a conf, as "FILE:LINE: problem" (or "FILE: problem"). */
typedef void (*conf_problem_fn)(void *ctx, const char *problem);

/*
 * Create VAR (mode 0700) and VAR/bookpics.conf (mode 0600) if the file does
 * not exist yet, with public_url http://127.0.0.1:PORT and fresh random
 * token_secret and sender_secret (one each); an existing file is left alone. Returns 1 if it created the
 * file, 0 if it existed, -1 on error (err filled).
 */
int conf_init(const char *var, int port, char *err);

/*
 * Load VAR/bookpics.conf into c: defaults first, then the file. Unknown keys
 * are an error (a typo must not silently fall back to a default), so are
 * invalid values and control characters other than tab. Returns 0, or -1
 * with err filled ("FILE:LINE: problem", the first one) and c unspecified.
 */
int conf_load(struct conf *c, const char *var, char *err);

/*
 * Check VAR/bookpics.conf like conf_load, going on past a problem: fn
 * (may be NULL) gets every one, in file order, in conf_load's words.
 * Returns 0 when the file would load, -1 (err = the first problem).
 */
int conf_check(const char *var, conf_problem_fn fn, void *ctx, char *err);

/*
 * Reload c from its file if the file changed since c was loaded (so that
 * `bookpics-admin twilio-token` takes effect in running processes). On a
 * failed reload c keeps its old values (the last good configuration) and
 * remembers the bad file's mtime, so the same bad file is reported once.
 * Returns 1 reloaded, 0 unchanged (or the same bad file as before), -1 a
 * file that changed and does not load (err filled).
 */
int conf_refresh(struct conf *c, char *err);

/*
 * The i-th (from 0) HOST:PORT of a group_sites value, copied into out (len
 * bytes). Returns 1, or 0 when there is no i-th site (or it does not fit).
 */
int conf_group_site(const char *sites, size_t i, char *out, size_t len);

/*
 * Set key to value in VAR/bookpics.conf, keeping every other line and
 * comment; written to a temporary file and renamed, mode 0600. The key must
 * be a known one and the value valid (checked like conf_load, control
 * characters such as CR included). Returns 0, or -1 with err
 * ("conf KEY: problem") and the file unchanged.
 */
int conf_set(const char *var, const char *key, const char *value, char *err);

/*
 * Does url (absolute http(s) URL) match one of c->media_hosts? A bare host
 * name allows https://host/...; an origin such as http://127.0.0.1:9000
 * allows exactly that scheme, host and port. Returns 1 or 0.
 */
int conf_media_allowed(const struct conf *c, const char *url);

#endif
