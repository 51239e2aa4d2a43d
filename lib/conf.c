/* conf.c - reading, creating and editing $VAR/bookpics.conf. */
#include <ctype.h>
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

static void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->public_url, "http://127.0.0.1:8080");
	strcpy(c->twilio_room, "books");
	strcpy(c->media_hosts, "api.twilio.com");
	c->media_max_bytes = 5L * 1024 * 1024;
	c->duplicate_connections = CONF_DUP_REFUSE;
}

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

/* Apply one key/value to c; the single place where values are validated. */
static int conf_apply(struct conf *c, const char *key, const char *val, char *err)
{
	char *end;
	size_t len = strlen(val);

	if (len >= CONF_VAL_MAX)
		return err_set(err, "conf %s: value too long", key);
	if (!strcmp(key, "public_url")) {
		if (strncmp(val, "http://", 7) && strncmp(val, "https://", 8))
			return err_set(err, "conf public_url: must start with http:// or https://");
		strcpy(c->public_url, val);
		len = strlen(c->public_url);
		while (len > 0 && c->public_url[len - 1] == '/')
			c->public_url[--len] = '\0';
	} else if (!strcmp(key, "twilio_account_sid")) {
		strcpy(c->twilio_account_sid, val);
	} else if (!strcmp(key, "twilio_auth_token")) {
		strcpy(c->twilio_auth_token, val);
	} else if (!strcmp(key, "twilio_room")) {
		if (!name_ok(val))
			return err_set(err, "conf twilio_room: invalid room name '%s'", val);
		strcpy(c->twilio_room, val);
	} else if (!strcmp(key, "token_secret")) {
		if (len < 16)
			return err_set(err, "conf token_secret: at least 16 characters");
		strcpy(c->token_secret, val);
	} else if (!strcmp(key, "media_hosts")) {
		strcpy(c->media_hosts, val);
	} else if (!strcmp(key, "media_max_bytes")) {
		errno = 0;
		c->media_max_bytes = strtol(val, &end, 10);
		if (errno || end == val || *end || c->media_max_bytes <= 0)
			return err_set(err, "conf media_max_bytes: not a positive number '%s'", val);
	} else if (!strcmp(key, "duplicate_connections")) {
		if (!strcmp(val, "refuse"))
			c->duplicate_connections = CONF_DUP_REFUSE;
		else if (!strcmp(val, "replace"))
			c->duplicate_connections = CONF_DUP_REPLACE;
		else if (!strcmp(val, "allow"))
			c->duplicate_connections = CONF_DUP_ALLOW;
		else
			return err_set(err, "conf duplicate_connections: refuse, replace or allow, not '%s'", val);
	} else {
		return err_set(err, "conf: unknown key '%s'", key);
	}
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
		return err_set(err, "conf: expected 'key = value', got '%s'", s);
	*eq = '\0';
	*key = trim(s);
	*val = trim(eq + 1);
	return 1;
}

int conf_load(struct conf *c, const char *var, char *err)
{
	char path[CONF_PATH_MAX + 32], line[LINE_MAX_LEN], *key, *val;
	struct stat st;
	FILE *f = NULL;
	int r, ret = -1;

	conf_defaults(c);
	if (strlen(var) >= sizeof(c->var))
		return err_set(err, "conf: var path too long");
	strcpy(c->var, var);
	if (conf_path(path, sizeof(path), var, "bookpics.conf", err))
		return -1;
	f = fopen(path, "r");
	if (!f)
		return err_set(err, "open %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st)) {
		err_set(err, "stat %s: %s", path, strerror(errno));
		goto out;
	}
	c->mtime = st.st_mtim;
	while (fgets(line, sizeof(line), f)) {
		r = conf_split(line, &key, &val, err);
		if (r < 0)
			goto out;
		if (r && conf_apply(c, key, val, err))
			goto out;
	}
	if (!c->token_secret[0]) {
		err_set(err, "conf %s: token_secret missing", path);
		goto out;
	}
	ret = 0;
out:
	fclose(f);
	return ret;
}

int conf_refresh(struct conf *c, char *err)
{
	char path[CONF_PATH_MAX + 32];
	struct conf fresh;
	struct stat st;

	if (conf_path(path, sizeof(path), c->var, "bookpics.conf", err))
		return -1;
	if (stat(path, &st))
		return err_set(err, "stat %s: %s", path, strerror(errno));
	if (st.st_mtim.tv_sec == c->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == c->mtime.tv_nsec)
		return 0;
	if (conf_load(&fresh, c->var, err))
		return -1;
	*c = fresh;
	return 1;
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

int conf_init(const char *var, int port, char *err)
{
	char path[CONF_PATH_MAX + 32], secret[65], text[2048];

	if (mkdir(var, 0700) && errno != EEXIST)
		return err_set(err, "mkdir %s: %s", var, strerror(errno));
	if (conf_path(path, sizeof(path), var, "bookpics.conf", err))
		return -1;
	if (access(path, F_OK) == 0)
		return 0;
	if (random_hex(secret, 32, err))
		return -1;
	snprintf(text, sizeof(text),
		 "# bookpics configuration: key = value. Created on first run;\n"
		 "# edit it freely (see README.md, \"Configuration\").\n"
		 "public_url = http://127.0.0.1:%d\n"
		 "twilio_account_sid =\n"
		 "twilio_auth_token =\n"
		 "twilio_room = books\n"
		 "token_secret = %s\n"
		 "media_hosts = api.twilio.com\n"
		 "media_max_bytes = 5242880\n"
		 "duplicate_connections = refuse\n", port, secret);
	if (write_atomic(path, text, err))
		return -1;
	return 1;
}

int conf_set(const char *var, const char *key, const char *value, char *err)
{
	char path[CONF_PATH_MAX + 32], line[LINE_MAX_LEN], copy[LINE_MAX_LEN];
	char *text = NULL, *k, *v;
	size_t len = 0, cap = 0, need;
	struct conf check;
	int found = 0, ret = -1, r;
	FILE *f;

	conf_defaults(&check);
	if (conf_apply(&check, key, value, err))
		return -1;
	if (strchr(value, '\n'))
		return err_set(err, "conf %s: value has a newline", key);
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
