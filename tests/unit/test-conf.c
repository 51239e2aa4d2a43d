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

int main(void)
{
	char dir[] = "/tmp/bookpics-test-conf.XXXXXX", path[256], err[ERR_LEN];
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
	CHECK(c.media_max_bytes == 5242880 && c.duplicate_connections == CONF_DUP_REFUSE, "defaults");
	conf_init(dir, 9999, err);

	CHECK(conf_set(dir, "twilio_auth_token", "tok123", err) == 0, "set a key");
	CHECK(conf_set(dir, "public_url", "https://example.org/", err) == 0, "set another");
	CHECK(conf_refresh(&c, err) == 1, "refresh sees the change");
	CHECK_STR(c.twilio_auth_token, "tok123", "new token");
	CHECK_STR(c.public_url, "https://example.org", "trailing slash dropped");
	CHECK(conf_refresh(&c, err) == 0, "no change: no reload");
	CHECK(conf_set(dir, "nope", "1", err) == -1, "unknown key refused by set");
	CHECK(conf_set(dir, "duplicate_connections", "sometimes", err) == -1, "bad value refused");
	CHECK(conf_set(dir, "twilio_auth_token", "a\nb", err) == -1, "newline refused");
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
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return unit_done();
}
