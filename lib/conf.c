/* conf.c - reading, creating and editing $VAR/bookpics.conf. */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "name.h"

#define LINE_MAX_LEN 2048

static int conf_path(char *buf, size_t len, const char *var, const char *name,
		     char *err)
{
	if ((size_t)snprintf(buf, len, "%s/%s", var, name) >= len)
		return err_set(err, "path too long: %s/%s", var, name);
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* ---- the keys: one table gives the defaults, the checks and the first-run file ---- */

/* How a value is checked and where it goes (field at offset in struct conf). */
enum conf_type {
	CONF_STRING,	/* char[CONF_VAL_MAX]; check (if any) may also normalize it */
	CONF_LONG,	/* long, a decimal >= min */
	CONF_ENUM,	/* an enum (int-sized): the index of the value in choices */
};

/* What the file written on first run says for a key. */
enum conf_fresh {
	CONF_FRESH_DEFAULT,	/* "key = DEFAULT" */
	CONF_FRESH_URL,		/* "key = http://127.0.0.1:PORT" */
	CONF_FRESH_SECRET,	/* "key = " 64 random hex digits */
};

/*
 * One key, lighttpd's config_plugin_keys_t style. The default goes through
 * the same check as a value from the file, so a bad default fails every
 * load at once (test-conf) instead of hiding.
 */
struct conf_key {
	const char *name;
	size_t offset;
	enum conf_type type;
	const char *dflt;
	int (*check)(const struct conf_key *k, char *val, char *err);	/* CONF_STRING; NULL: any */
	long min;			/* CONF_LONG */
	const char *const *choices;	/* CONF_ENUM, NULL-terminated */
	enum conf_fresh fresh;
	const char *comment;		/* the line above the key in the first-run file */
};

/* An http(s) URL; trailing slashes dropped (public_url + "/twilio/sms"). */
static int check_url(const struct conf_key *k, char *val, char *err)
{
	size_t len = strlen(val);

	if (strncmp(val, "http://", 7) && strncmp(val, "https://", 8))
		return err_set(err, "%s: must start with http:// or https://", k->name);
	while (len > 0 && val[len - 1] == '/')
		val[--len] = '\0';
	return 0;
}

static int check_name(const struct conf_key *k, char *val, char *err)
{
	if (!name_ok(val))
		return err_set(err, "%s: invalid room name '%s'", k->name, val);
	return 0;
}

static int check_secret(const struct conf_key *k, char *val, char *err)
{
	if (strlen(val) < 16)
		return err_set(err, "%s: at least 16 characters", k->name);
	return 0;
}

/* Empty, or check_url / check_secret: keys that are off until set. */
static int check_url_or_empty(const struct conf_key *k, char *val, char *err)
{
	return val[0] ? check_url(k, val, err) : 0;
}

static int check_secret_or_empty(const struct conf_key *k, char *val, char *err)
{
	return val[0] ? check_secret(k, val, err) : 0;
}

/*
 * One origin of len bytes at o: http or https, a host of letters, digits,
 * '.', '-' (or a [v6] literal), an optional :port 1..65535, nothing after.
 * What a browser puts in Origin, so the list compares byte for byte.
 */
static int origin_ok(const char *o, size_t len)
{
	size_t i = strncmp(o, "https://", 8) ? strncmp(o, "http://", 7) ? 0 : 7 : 8, host;
	long port = 0;

	if (!i || i >= len)
		return 0;
	host = i;
	if (o[i] == '[') {
		for (i++; i < len && (isxdigit((unsigned char)o[i]) || o[i] == ':'); i++)
			;
		if (i >= len || o[i] != ']' || i == host + 1)
			return 0;
		i++;
	} else {
		while (i < len && (islower((unsigned char)o[i]) || isdigit((unsigned char)o[i]) ||
				   o[i] == '.' || o[i] == '-'))
			i++;
	}
	if (i == host)
		return 0;
	if (i < len && o[i] == ':') {
		if (++i == len)
			return 0;
		for (; i < len && isdigit((unsigned char)o[i]) && port <= 65535; i++)
			port = port * 10 + (o[i] - '0');
		if (port < 1 || port > 65535)
			return 0;
	}
	return i == len;
}

/* Comma-separated origins (spaces around commas allowed): each origin_ok. */
static int check_origins(const struct conf_key *k, char *val, char *err)
{
	const char *p = val;
	size_t n;

	while (*p) {
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n && !origin_ok(p, n))
			return err_set(err, "%s: '%.*s' is not an origin "
				       "(scheme://host[:port], lowercase, no path)", k->name, (int)n, p);
		p += n;
	}
	return 0;
}

/*
 * HOST:PORT of len bytes at a: a host of letters, digits, '.', '-' and a
 * port 1..65535 (what DB_ENV->repmgr_site takes; no [v6] literal).
 */
static int hostport_ok(const char *a, size_t len)
{
	size_t i = 0;
	long port = 0;

	if (len >= 256)		/* what the store keeps of an address (STORE_ADDR_MAX) */
		return 0;
	while (i < len && (isalnum((unsigned char)a[i]) || a[i] == '.' || a[i] == '-'))
		i++;
	if (i == 0 || i >= len || a[i] != ':' || ++i == len)
		return 0;
	for (; i < len && isdigit((unsigned char)a[i]) && port <= 65535; i++)
		port = port * 10 + (a[i] - '0');
	return i == len && port >= 1 && port <= 65535;
}

static int check_hostport_or_empty(const struct conf_key *k, char *val, char *err)
{
	if (val[0] && !hostport_ok(val, strlen(val)))
		return err_set(err, "%s: '%s' is not HOST:PORT", k->name, val);
	return 0;
}

/* Comma-separated HOST:PORT (spaces around commas allowed), each hostport_ok. */
static int check_hostports(const struct conf_key *k, char *val, char *err)
{
	const char *p = val;
	size_t n;

	while (*p) {
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n && !hostport_ok(p, n))
			return err_set(err, "%s: '%.*s' is not HOST:PORT", k->name, (int)n, p);
		p += n;
	}
	return 0;
}

int conf_group_site(const char *sites, size_t i, char *out, size_t len)
{
	const char *p = sites;
	size_t n;

	for (;;) {
		p += strspn(p, ", \t");
		if (!*p)
			return 0;
		n = strcspn(p, ", \t");
		if (i-- == 0) {
			if (n >= len)
				return 0;
			memcpy(out, p, n);
			out[n] = '\0';
			return 1;
		}
		p += n;
	}
}

/* The keys that only make sense together: group_self among group_sites. */
static int group_check(const struct conf *c, char *err)
{
	char site[CONF_VAL_MAX];
	size_t i;

	if (!c->group_self[0])
		return c->group_sites[0] ? err_set(err, "group_sites: set, but group_self is not") : 0;
	for (i = 0; conf_group_site(c->group_sites, i, site, sizeof(site)); i++)
		if (!strcmp(site, c->group_self))
			return 0;
	return err_set(err, "group_self: '%s' is not one of group_sites", c->group_self);
}

static const char *const ack_choices[] = {
	[CONF_ACK_QUORUM] = "quorum", [CONF_ACK_ALL] = "all", [CONF_ACK_ONE] = "one", NULL
};

static const char *const dup_choices[] = {
	[CONF_DUP_REFUSE] = "refuse", [CONF_DUP_REPLACE] = "replace",
	[CONF_DUP_ALLOW] = "allow", NULL
};

static const char *const mod_choices[] = {
	[CONF_MOD_OFF] = "off", [CONF_MOD_PRE] = "pre", NULL
};

static const char *const onoff_choices[] = {
	[CONF_OFF] = "off", [CONF_ON] = "on", NULL
};

_Static_assert(sizeof(enum conf_onoff) == sizeof(int), "CONF_ENUM fields are int-sized");
_Static_assert(sizeof(enum conf_dup) == sizeof(int), "CONF_ENUM fields are int-sized");
_Static_assert(sizeof(enum conf_group_ack) == sizeof(int), "CONF_ENUM fields are int-sized");
_Static_assert(sizeof(enum conf_moderation) == sizeof(int), "CONF_ENUM fields are int-sized");
_Static_assert(sizeof(enum conf_onoff) == sizeof(int), "CONF_ENUM fields are int-sized");

#define F(field) #field, offsetof(struct conf, field)
#define STRING(field, dflt, check, fresh, comment) \
	{ F(field), CONF_STRING, dflt, check, 0, NULL, fresh, comment }
#define LONG(field, dflt, min, comment) \
	{ F(field), CONF_LONG, dflt, NULL, min, NULL, CONF_FRESH_DEFAULT, comment }
#define ENUM(field, dflt, choices, comment) \
	{ F(field), CONF_ENUM, dflt, NULL, 0, choices, CONF_FRESH_DEFAULT, comment }

/* In the order of the first-run file. Adding a key: a line here, a field in struct conf. */
static const struct conf_key keys[] = {
	STRING(public_url, "http://127.0.0.1:8080", check_url, CONF_FRESH_URL,
	       "the address Twilio and browsers use; signatures are checked against it"),
	STRING(twilio_account_sid, "", NULL, CONF_FRESH_DEFAULT,
	       "for fetching media from Twilio (HTTP Basic user)"),
	STRING(twilio_auth_token, "", NULL, CONF_FRESH_DEFAULT,
	       "checks webhook signatures, fetches media; empty: every webhook refused"),
	STRING(twilio_room, "books", check_name, CONF_FRESH_DEFAULT,
	       "the public room pictures go to (created if missing)"),
	STRING(token_secret, "", check_secret, CONF_FRESH_SECRET,
	       "signs connection tokens; changing it logs everyone out"),
	STRING(media_hosts, "api.twilio.com", NULL, CONF_FRESH_DEFAULT,
	       "where media may come from: host names (https) or origins, comma separated"),
	LONG(media_max_bytes, "5242880", 1,
	     "largest media file fetched, in bytes"),
	LONG(media_retry_after, "60", 0,
	     "seconds a failed media fetch is not tried again (0: every request tries)"),
	ENUM(media_prefetch, "on", onoff_choices,
	     "on: pictures are fetched and cleaned as soon as their webhook is answered"),
	ENUM(duplicate_connections, "refuse", dup_choices,
	     "a second connection of a connected user: refuse, replace or allow"),
	STRING(metrics_token, "", NULL, CONF_FRESH_DEFAULT,
	       "lets /api/metrics answer Authorization: Bearer TOKEN; empty: 127.0.0.1 only"),
	STRING(admin_token, "", check_secret_or_empty, CONF_FRESH_DEFAULT,
	       "the server API's Bearer token (/api/admin/, 16+ characters); empty: API off"),
	STRING(cors_origins, "", check_origins, CONF_FRESH_DEFAULT,
	       "origins (scheme://host[:port], comma separated) whose pages may call /api/"),
	STRING(ws_origins, "", check_origins, CONF_FRESH_DEFAULT,
	       "origins besides the site's own that may open token WebSocket connections"),
	STRING(hook_url, "", check_url_or_empty, CONF_FRESH_DEFAULT,
	       "where event hooks are POSTed; empty: no hooks"),
	STRING(hook_secret, "", check_secret_or_empty, CONF_FRESH_DEFAULT,
	       "signs event hooks (X-Bookpics-Signature)"),
	STRING(sender_secret, "", check_secret, CONF_FRESH_SECRET,
	       "keys the hash blocked senders are kept as; changing it unblocks everyone"),
	ENUM(moderation, "off", mod_choices,
	     "off: pictures go on the wall at once; pre: they wait for a moderator"),
	ENUM(wall_text, "off", onoff_choices,
	     "on: a text without a picture goes on the wall too"),
	LONG(sender_rate, "20", 1,
	     "pictures one sender may post to a room per hour"),
	STRING(twilio_reply, "", NULL, CONF_FRESH_DEFAULT,
	       "the SMS that answers an accepted picture; empty: no reply"),
	STRING(wall_number, "", NULL, CONF_FRESH_DEFAULT,
	       "the number the wall asks people to text"),
	STRING(group_self, "", check_hostport_or_empty, CONF_FRESH_DEFAULT,
	       "HOST:PORT this site replicates on; empty: a single site (see docs/DESIGN.md, Groups)"),
	STRING(group_sites, "", check_hostports, CONF_FRESH_DEFAULT,
	       "HOST:PORT of every site of the group, this one included, comma separated"),
	LONG(group_priority, "100", 0,
	     "election priority of this site; 0: never the master"),
	ENUM(group_ack, "quorum", ack_choices,
	     "a write is answered once acknowledged by: quorum, all or one (sites besides the master)"),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct conf_key *conf_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* "refuse, replace or allow": the choices as an error message says them. */
static void choices_text(const char *const *choices, char *out, size_t len)
{
	size_t i, n = strlen(out);

	for (i = 0; choices[i] && n < len; i++) {
		snprintf(out + n, len - n, "%s%s", i == 0 ? "" : choices[i + 1] ? ", " : " or ",
			 choices[i]);
		n = strlen(out);
	}
}

/* Check val for k and store it in c: the single place where values are validated. */
static int key_apply(struct conf *c, const struct conf_key *k, const char *val, char *err)
{
	char *field = (char *)c + k->offset, *end, names[CONF_VAL_MAX] = "";
	long n;
	int i;

	switch (k->type) {
	case CONF_STRING:
		strcpy(field, val);	/* conf_apply checked the length */
		return k->check ? k->check(k, field, err) : 0;
	case CONF_LONG:
		errno = 0;
		n = strtol(val, &end, 10);
		if (errno || end == val || *end || n < k->min)
			return err_set(err, "%s: not a positive number '%s'", k->name, val);
		memcpy(field, &n, sizeof(n));
		return 0;
	case CONF_ENUM:
		for (i = 0; k->choices[i]; i++)
			if (!strcmp(val, k->choices[i])) {
				memcpy(field, &i, sizeof(i));
				return 0;
			}
		choices_text(k->choices, names, sizeof(names));
		return err_set(err, "%s: %s, not '%s'", k->name, names, val);
	}
	return err_set(err, "%s: unknown type", k->name);
}

/*
 * Apply one key/value to c. The message names the key but not where the
 * value came from: conf_parse prefixes "FILE:LINE: ", conf_set "conf ", so
 * `bookpics-admin check` and a running program say the same words.
 */
static int conf_apply(struct conf *c, const char *key, const char *val, char *err)
{
	const struct conf_key *k = conf_key(key);
	const char *p;

	if (!k)
		return err_set(err, "unknown key '%s'", key);
	if (strlen(val) >= CONF_VAL_MAX)
		return err_set(err, "%s: value too long", key);
	/* a CR or an escape in a secret is a paste gone wrong, never meant (issue 11) */
	for (p = val; *p; p++)
		if (iscntrl((unsigned char)*p) && *p != '\t')
			return err_set(err, "%s: control character (byte 0x%02x) in the value", key,
				       (unsigned char)*p);
	return key_apply(c, k, val, err);
}

/* Every key at its default. Returns 0, or -1 with err if a default is bad. */
static int conf_defaults(struct conf *c, char *err)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++)
		if (keys[i].dflt[0] && key_apply(c, &keys[i], keys[i].dflt, err))
			return -1;
	return 0;
}

/* Split "key = value" in place; 0 for a blank/comment line, 1 for a pair. */
static int conf_split(char *line, char **key, char **val, char *err)
{
	char *eq, *s = trim(line);

	if (!*s || *s == '#')
		return 0;
	eq = strchr(s, '=');
	if (!eq)
		return err_set(err, "expected 'key = value', got '%s'", s);
	*eq = '\0';
	*key = trim(s);
	*val = trim(eq + 1);
	return 1;
}

/* A problem at path:line (line 0: the file as a whole): to fn, and the first to err. */
static void conf_problem(const char *path, int line, const char *what, int *problems,
			 conf_problem_fn fn, void *ctx, char *err)
{
	char msg[ERR_LEN + CONF_PATH_MAX + 64];

	if (line)
		snprintf(msg, sizeof(msg), "%s:%d: %s", path, line, what);
	else
		snprintf(msg, sizeof(msg), "%s: %s", path, what);
	if (!(*problems)++)
		err_set(err, "%s", msg);
	if (fn)
		fn(ctx, msg);
}

/*
 * Load var's file into c, every problem to fn (when fn is NULL, stop at
 * the first). Returns 0, or -1 with err holding the first problem.
 */
static int conf_parse(struct conf *c, const char *var, conf_problem_fn fn, void *ctx, char *err)
{
	char path[CONF_PATH_MAX + 32], line[LINE_MAX_LEN], *key, *val, why[ERR_LEN];
	int r, lineno = 0, problems = 0, ch;
	struct stat st;
	FILE *f = NULL;

	if (conf_defaults(c, err))
		return -1;
	if (strlen(var) >= sizeof(c->var))
		return err_set(err, "conf: var path too long");
	strcpy(c->var, var);
	if (conf_path(path, sizeof(path), var, "bookpics.conf", err))
		return -1;
	f = fopen(path, "r");
	if (!f || fstat(fileno(f), &st)) {
		snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
		conf_problem(path, 0, why, &problems, fn, ctx, err);
		goto out;
	}
	c->mtime = st.st_mtim;
	while ((fn || !problems) && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;	/* the rest of the overlong line */
			snprintf(why, sizeof(why), "line longer than %d bytes", LINE_MAX_LEN - 2);
			conf_problem(path, lineno, why, &problems, fn, ctx, err);
			continue;
		}
		r = conf_split(line, &key, &val, why);
		if (r > 0)
			r = conf_apply(c, key, val, why) ? -1 : 1;
		if (r < 0)
			conf_problem(path, lineno, why, &problems, fn, ctx, err);
	}
	if (!problems && !c->token_secret[0])
		conf_problem(path, 0, "token_secret missing", &problems, fn, ctx, err);
	if (!problems && group_check(c, why))
		conf_problem(path, 0, why, &problems, fn, ctx, err);
out:
	if (f)
		fclose(f);
	return problems ? -1 : 0;
}

int conf_load(struct conf *c, const char *var, char *err)
{
	return conf_parse(c, var, NULL, NULL, err);
}

int conf_check(const char *var, conf_problem_fn fn, void *ctx, char *err)
{
	struct conf c;

	return conf_parse(&c, var, fn, ctx, err);
}

int conf_refresh(struct conf *c, char *err)
{
	char path[CONF_PATH_MAX + 32];
	struct timespec none = { 0, -1 };	/* "the file is missing" */
	struct conf fresh;
	struct stat st;

	if (conf_path(path, sizeof(path), c->var, "bookpics.conf", err))
		return -1;
	if (stat(path, &st))
		st.st_mtim = none;
	if ((st.st_mtim.tv_sec == c->mtime.tv_sec && st.st_mtim.tv_nsec == c->mtime.tv_nsec) ||
	    (c->failed && st.st_mtim.tv_sec == c->failed_mtime.tv_sec &&
	     st.st_mtim.tv_nsec == c->failed_mtime.tv_nsec))
		return 0;	/* unchanged, or the same bad file as last time */
	if (st.st_mtim.tv_nsec == -1) {
		err_set(err, "%s: cannot open: %s", path, strerror(errno));
	} else if (!conf_load(&fresh, c->var, err)) {
		*c = fresh;
		return 1;
	}
	c->failed = 1;
	c->failed_mtime = st.st_mtim;
	return -1;
}

static int random_hex(char *out, size_t bytes, char *err)
{
	unsigned char buf[64];
	size_t i;

	if (bytes > sizeof(buf))
		return err_set(err, "random_hex: too many bytes");
	if (getrandom(buf, bytes, 0) != (ssize_t)bytes)
		return err_set(err, "getrandom: %s", strerror(errno));
	for (i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", buf[i]);
	return 0;
}

/* Write text to path atomically (temporary file, fsync, rename), mode 0600. */
static int write_atomic(const char *path, const char *text, char *err)
{
	char tmp[CONF_PATH_MAX + 64];
	size_t len = strlen(text);
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return err_set(err, "open %s: %s", tmp, strerror(errno));
	if (write(fd, text, len) != (ssize_t)len || fsync(fd)) {
		err_set(err, "write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path)) {
		err_set(err, "rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * The first-run file: every key of the table with its comment and its fresh
 * value, so that the file lists what can be set. Returns a malloc'd text or
 * NULL with err.
 */
static char *conf_template(int port, char *err)
{
	char secret[65], *text = NULL;
	size_t len = 0, i;
	FILE *m;

	m = open_memstream(&text, &len);
	if (!m) {
		err_set(err, "open_memstream: %s", strerror(errno));
		return NULL;
	}
	fputs("# bookpics configuration: key = value. Created on first run;\n"
	      "# edit it freely (see README.md, \"Configuration\").\n", m);
	for (i = 0; i < NKEYS; i++) {
		fprintf(m, "# %s\n%s =", keys[i].comment, keys[i].name);
		if (keys[i].fresh == CONF_FRESH_URL)
			fprintf(m, " http://127.0.0.1:%d", port);
		else if (keys[i].fresh == CONF_FRESH_SECRET) {
			/* one secret per key: they guard different things */
			if (random_hex(secret, 32, err)) {
				fclose(m);
				free(text);
				return NULL;
			}
			fprintf(m, " %s", secret);
		}
		else if (keys[i].dflt[0])
			fprintf(m, " %s", keys[i].dflt);
		fputc('\n', m);
	}
	if (ferror(m) | fclose(m)) {
		free(text);
		err_set(err, "open_memstream: write failed");
		return NULL;
	}
	return text;
}

int conf_init(const char *var, int port, char *err)
{
	char path[CONF_PATH_MAX + 32], *text = NULL;
	int ret = -1;

	if (mkdir(var, 0700) && errno != EEXIST)
		return err_set(err, "mkdir %s: %s", var, strerror(errno));
	if (conf_path(path, sizeof(path), var, "bookpics.conf", err))
		return -1;
	if (access(path, F_OK) == 0)
		return 0;
	text = conf_template(port, err);
	if (!text || write_atomic(path, text, err))
		goto out;
	ret = 1;
out:
	free(text);
	return ret;
}

int conf_set(const char *var, const char *key, const char *value, char *err)
{
	char path[CONF_PATH_MAX + 32], line[LINE_MAX_LEN], copy[LINE_MAX_LEN];
	char *text = NULL, *k, *v;
	size_t len = 0, cap = 0, need;
	struct conf check;
	int found = 0, ret = -1, r;
	FILE *f;

	if (conf_defaults(&check, err))
		return -1;
	if (conf_apply(&check, key, value, line))
		return err_set(err, "conf %s", line);
	if (conf_path(path, sizeof(path), var, "bookpics.conf", err))
		return -1;
	f = fopen(path, "r");
	if (!f)
		return err_set(err, "open %s: %s", path, strerror(errno));
	for (;;) {
		int last = !fgets(line, sizeof(line), f);

		if (last && found)
			break;
		if (last)	/* key not in the file yet: append it */
			snprintf(line, sizeof(line), "%s = %s\n", key, value);
		strcpy(copy, line);
		r = conf_split(copy, &k, &v, err);
		if (r < 0)
			goto out;
		if (r && !strcmp(k, key)) {
			if (found && !last)
				continue;	/* drop repeated lines of the key */
			snprintf(line, sizeof(line), "%s = %s\n", key, value);
			found = 1;
		}
		need = len + strlen(line) + 2;
		if (need > cap) {
			cap = need * 2;
			text = realloc(text, cap);
			if (!text) {
				err_set(err, "realloc: out of memory");
				goto out;
			}
		}
		strcpy(text + len, line);
		len += strlen(line);
		if (line[strlen(line) - 1] != '\n')
			text[len++] = '\n', text[len] = '\0';
		if (last)
			break;
	}
	ret = write_atomic(path, text ? text : "", err);
out:
	fclose(f);
	free(text);
	return ret;
}

/* Compare the scheme://host[:port] origin of url with one media_hosts entry. */
static int origin_matches(const char *url, const char *entry, size_t elen)
{
	const char *rest;
	size_t olen;

	if (memchr(entry, '/', elen)) {		/* a full origin */
		if (strncmp(url, entry, elen))
			return 0;
		rest = url + elen;
		return *rest == '/';
	}
	if (strncmp(url, "https://", 8))	/* a bare host: https only */
		return 0;
	rest = url + 8;
	olen = strcspn(rest, "/?#");
	return olen == elen && !strncasecmp(rest, entry, elen) && rest[olen] == '/';
}

int conf_media_allowed(const struct conf *c, const char *url)
{
	const char *p = c->media_hosts;
	size_t n;

	if (strchr(url, '@'))	/* user-info tricks: https://api.twilio.com@evil/ */
		return 0;
	while (*p) {
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n && origin_matches(url, p, n))
			return 1;
		p += n;
	}
	return 0;
}
