/* test-conf.c - bookpics.conf: creation, loading, editing, media_hosts matching. */
#include <stdlib.h>
#include <sys/stat.h>

#include "conf.h"
#include "err.h"
#include "unit.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* The file at path with token_secret's value (random) replaced by SECRET. */
static void read_masked(const char *path, char *out, size_t len)
{
	char line[1024];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f) && n < len) {
		if (!strncmp(line, "token_secret = ", 15) && strlen(line) == 15 + 64 + 1)
			strcpy(line + 15, "SECRET\n");
		snprintf(out + n, len - n, "%s", line);
		n = strlen(out);
	}
	if (f)
		fclose(f);
}

/* Load a file holding only the secret and line; the error ("" if it loads). */
static const char *load_with(const char *dir, const char *path, const char *line, struct conf *c)
{
	static char err[ERR_LEN];
	char text[1024];

	snprintf(text, sizeof(text), "token_secret = 0123456789abcdef0\n%s\n", line);
	write_file(path, text);
	err[0] = '\0';
	conf_load(c, dir, err);
	return err;
}

/* Every key's check and its message; defaults for the keys a file leaves out. */
static void test_keys(const char *dir, const char *path)
{
	char big[700];
	struct conf c;

	CHECK_STR(load_with(dir, path, "", &c), "", "a file with only the secret loads");
	CHECK(!strcmp(c.public_url, "http://127.0.0.1:8080") && !strcmp(c.twilio_room, "books") &&
	      !strcmp(c.media_hosts, "api.twilio.com") && c.twilio_account_sid[0] == '\0' &&
	      c.twilio_auth_token[0] == '\0' && c.media_max_bytes == 5242880 &&
	      c.duplicate_connections == CONF_DUP_REFUSE, "every other key at its default");
	CHECK_STR(load_with(dir, path, "public_url = ftp://x", &c),
		  "conf public_url: must start with http:// or https://", "public_url checked");
	CHECK(!strcmp(load_with(dir, path, "public_url = https://a.org///", &c), "") &&
	      !strcmp(c.public_url, "https://a.org"), "public_url: every trailing slash dropped");
	CHECK_STR(load_with(dir, path, "twilio_room = a/b", &c),
		  "conf twilio_room: invalid room name 'a/b'", "twilio_room follows the name rule");
	CHECK_STR(load_with(dir, path, "twilio_room = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &c),
		  "conf twilio_room: invalid room name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
		  "twilio_room: 65 bytes is too long");
	CHECK_STR(load_with(dir, path, "token_secret = short", &c),
		  "conf token_secret: at least 16 characters", "token_secret checked");
	CHECK_STR(load_with(dir, path, "media_max_bytes = 0", &c),
		  "conf media_max_bytes: not a positive number '0'", "media_max_bytes positive");
	CHECK_STR(load_with(dir, path, "media_max_bytes = 12k", &c),
		  "conf media_max_bytes: not a positive number '12k'", "media_max_bytes a number");
	CHECK(!strcmp(load_with(dir, path, "media_max_bytes = 1", &c), "") && c.media_max_bytes == 1,
	      "media_max_bytes 1 is fine");
	CHECK_STR(load_with(dir, path, "duplicate_connections = sometimes", &c),
		  "conf duplicate_connections: refuse, replace or allow, not 'sometimes'",
		  "duplicate_connections names its choices");
	CHECK_STR(load_with(dir, path, "media_prefetch = yes", &c),
		  "conf media_prefetch: off or on, not 'yes'", "media_prefetch is on or off");
	CHECK(!strcmp(load_with(dir, path, "media_prefetch = off", &c), "") &&
	      c.media_prefetch == CONF_OFF, "media_prefetch = off");
	CHECK(!strcmp(load_with(dir, path, "duplicate_connections = allow", &c), "") &&
	      c.duplicate_connections == CONF_DUP_ALLOW, "duplicate_connections = allow");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "media_hosts = ", 14);
	CHECK_STR(load_with(dir, path, big, &c), "conf media_hosts: value too long", "values have a limit");
	CHECK_STR(load_with(dir, path, "twilio_room", &c), "conf: expected 'key = value', got 'twilio_room'",
		  "a line without '='");
}

int main(void)
{
	char dir[] = "/tmp/bookpics-test-conf.XXXXXX", path[256], err[ERR_LEN], text[4096];
	struct conf c, c2;
	struct stat st;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/bookpics.conf", dir);
	CHECK(conf_init(dir, 9999, err) == 1, "init creates the file");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	CHECK(conf_init(dir, 1234, err) == 0, "a second init leaves it alone");
	CHECK(conf_load(&c, dir, err) == 0, "load");
	CHECK_STR(c.public_url, "http://127.0.0.1:9999", "public_url from the port");
	CHECK_STR(c.twilio_room, "books", "default room");
	CHECK_STR(c.twilio_auth_token, "", "no auth token at first");
	CHECK(strlen(c.token_secret) == 64, "a fresh 256-bit token secret");
	CHECK(c.media_max_bytes == 5242880 && c.duplicate_connections == CONF_DUP_REFUSE &&
	      c.media_prefetch == CONF_ON, "defaults");
	conf_init(dir, 9999, err);
	read_masked(path, text, sizeof(text));
	CHECK_STR(text,
		  "# bookpics configuration: key = value. Created on first run;\n"
		  "# edit it freely (see README.md, \"Configuration\").\n"
		  "# the address Twilio and browsers use; signatures are checked against it\n"
		  "public_url = http://127.0.0.1:9999\n"
		  "# for fetching media from Twilio (HTTP Basic user)\n"
		  "twilio_account_sid =\n"
		  "# checks webhook signatures, fetches media; empty: every webhook refused\n"
		  "twilio_auth_token =\n"
		  "# the public room pictures go to (created if missing)\n"
		  "twilio_room = books\n"
		  "# signs connection tokens; changing it logs everyone out\n"
		  "token_secret = SECRET\n"
		  "# where media may come from: host names (https) or origins, comma separated\n"
		  "media_hosts = api.twilio.com\n"
		  "# largest media file fetched, in bytes\n"
		  "media_max_bytes = 5242880\n"
		  "# on: pictures are fetched and cleaned as soon as their webhook is answered\n"
		  "media_prefetch = on\n"
		  "# a second connection of a connected user: refuse, replace or allow\n"
		  "duplicate_connections = refuse\n",
		  "the first-run file: every key, its comment, its default");

	CHECK(conf_set(dir, "twilio_auth_token", "tok123", err) == 0, "set a key");
	CHECK(conf_set(dir, "public_url", "https://example.org/", err) == 0, "set another");
	CHECK(conf_refresh(&c, err) == 1, "refresh sees the change");
	CHECK_STR(c.twilio_auth_token, "tok123", "new token");
	CHECK_STR(c.public_url, "https://example.org", "trailing slash dropped");
	CHECK(conf_refresh(&c, err) == 0, "no change: no reload");
	CHECK(conf_set(dir, "nope", "1", err) == -1, "unknown key refused by set");
	CHECK(conf_set(dir, "duplicate_connections", "sometimes", err) == -1, "bad value refused");
	CHECK(conf_set(dir, "twilio_auth_token", "a\nb", err) == -1, "newline refused");
	CHECK(conf_set(dir, "twilio_room", "a b", err) == -1 &&
	      !strcmp(err, "conf twilio_room: invalid room name 'a b'"), "set checks like load");
	CHECK(conf_load(&c2, dir, err) == 0 && !strcmp(c2.twilio_auth_token, "tok123") &&
	      !strcmp(c2.token_secret, c.token_secret), "other lines kept");

	write_file(path, "token_secret = 0123456789abcdef0\ntypo_key = 1\n");
	CHECK(conf_load(&c2, dir, err) == -1, "an unknown key is an error");
	CHECK_STR(err, "conf: unknown key 'typo_key'", "naming it");
	write_file(path, "token_secret = 0123456789abcdef0\nmedia_max_bytes = lots\n");
	CHECK(conf_load(&c2, dir, err) == -1, "a bad number is an error");
	write_file(path, "# comment\n\n  token_secret=0123456789abcdef0  \nmedia_hosts = api.twilio.com, http://127.0.0.1:9000\nduplicate_connections = replace\n");
	CHECK(conf_load(&c2, dir, err) == 0 && c2.duplicate_connections == CONF_DUP_REPLACE,
	      "comments, blanks and spaces");
	CHECK(conf_refresh(&c, err) == 1 && c.duplicate_connections == CONF_DUP_REPLACE,
	      "a running process picks the edit up");

	CHECK(conf_media_allowed(&c2, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"),
	      "Twilio's media URL allowed");
	CHECK(!conf_media_allowed(&c2, "http://api.twilio.com/x"), "a host name means https only");
	CHECK(!conf_media_allowed(&c2, "https://api.twilio.com.evil.org/x"), "no suffix tricks");
	CHECK(!conf_media_allowed(&c2, "https://api.twilio.com@evil.org/x"), "no user-info tricks");
	CHECK(!conf_media_allowed(&c2, "https://evil.org/api.twilio.com/x"), "another host refused");
	CHECK(conf_media_allowed(&c2, "http://127.0.0.1:9000/media/1"), "an origin allows exactly it");
	CHECK(!conf_media_allowed(&c2, "http://127.0.0.1:90001/media/1"), "not a longer port");
	CHECK(!conf_media_allowed(&c2, "https://127.0.0.1:9000/media/1"), "not another scheme");
	test_keys(dir, path);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return unit_done();
}
