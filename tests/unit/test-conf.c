/* test-conf.c - bookpics.conf: creation, loading, editing, media_hosts matching. */
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

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
		if (!strncmp(line, "sender_secret = ", 16) && strlen(line) == 16 + 64 + 1)
			strcpy(line + 16, "SECRET\n");
		snprintf(out + n, len - n, "%s", line);
		n = strlen(out);
	}
	if (f)
		fclose(f);
}

/*
 * Load a file holding only the secret and line; the error ("" if it
 * loads) without its "PATH:" prefix, so "2: KEY: problem".
 */
static const char *load_with(const char *dir, const char *path, const char *line, struct conf *c)
{
	static char err[ERR_LEN];
	char text[1024];

	snprintf(text, sizeof(text), "token_secret = 0123456789abcdef0\n%s\n", line);
	write_file(path, text);
	err[0] = '\0';
	conf_load(c, dir, err);
	return strncmp(err, path, strlen(path)) ? err : err + strlen(path) + 1;
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
		  "2: public_url: must start with http:// or https://", "public_url checked");
	CHECK(!strcmp(load_with(dir, path, "public_url = https://a.org///", &c), "") &&
	      !strcmp(c.public_url, "https://a.org"), "public_url: every trailing slash dropped");
	CHECK_STR(load_with(dir, path, "twilio_room = a/b", &c),
		  "2: twilio_room: invalid room name 'a/b'", "twilio_room follows the name rule");
	CHECK_STR(load_with(dir, path, "twilio_room = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &c),
		  "2: twilio_room: invalid room name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
		  "twilio_room: 65 bytes is too long");
	CHECK_STR(load_with(dir, path, "token_secret = short", &c),
		  "2: token_secret: at least 16 characters", "token_secret checked");
	CHECK_STR(load_with(dir, path, "media_max_bytes = 0", &c),
		  "2: media_max_bytes: not a positive number '0'", "media_max_bytes positive");
	CHECK_STR(load_with(dir, path, "media_max_bytes = 12k", &c),
		  "2: media_max_bytes: not a positive number '12k'", "media_max_bytes a number");
	CHECK(!strcmp(load_with(dir, path, "media_max_bytes = 1", &c), "") && c.media_max_bytes == 1,
	      "media_max_bytes 1 is fine");
	CHECK_STR(load_with(dir, path, "duplicate_connections = sometimes", &c),
		  "2: duplicate_connections: refuse, replace or allow, not 'sometimes'",
		  "duplicate_connections names its choices");
	CHECK_STR(load_with(dir, path, "media_prefetch = yes", &c),
		  "2: media_prefetch: off or on, not 'yes'", "media_prefetch is on or off");
	CHECK(!strcmp(load_with(dir, path, "media_prefetch = off", &c), "") &&
	      c.media_prefetch == CONF_OFF, "media_prefetch = off");
	CHECK(!strcmp(load_with(dir, path, "duplicate_connections = allow", &c), "") &&
	      c.duplicate_connections == CONF_DUP_ALLOW, "duplicate_connections = allow");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "media_hosts = ", 14);
	CHECK_STR(load_with(dir, path, big, &c), "2: media_hosts: value too long", "values have a limit");
	CHECK(!strcmp(load_with(dir, path, "", &c), "") && !c.admin_token[0] && !c.cors_origins[0] &&
	      !c.ws_origins[0] && !c.hook_url[0] && !c.hook_secret[0], "web developer keys off by default");
	CHECK_STR(load_with(dir, path, "admin_token = short", &c),
		  "2: admin_token: at least 16 characters", "admin_token: empty or 16+");
	CHECK_STR(load_with(dir, path, "hook_url = ftp://x", &c),
		  "2: hook_url: must start with http:// or https://", "hook_url: empty or a URL");
	CHECK(!strcmp(load_with(dir, path, "cors_origins = https://app.example.org, http://127.0.0.1:3000,"
				"http://[::1]:8080", &c), "") &&
	      !strcmp(c.cors_origins, "https://app.example.org, http://127.0.0.1:3000,http://[::1]:8080"),
	      "cors_origins: origins, comma separated");
	CHECK_STR(load_with(dir, path, "cors_origins = https://a.org/", &c),
		  "2: cors_origins: 'https://a.org/' is not an origin (scheme://host[:port], lowercase, no path)",
		  "an origin has no path");
	CHECK_STR(load_with(dir, path, "ws_origins = http://a.org, *", &c),
		  "2: ws_origins: '*' is not an origin (scheme://host[:port], lowercase, no path)",
		  "no wildcard");
	CHECK(load_with(dir, path, "cors_origins = https://A.org", &c)[0] &&
	      load_with(dir, path, "cors_origins = ftp://a.org", &c)[0] &&
	      load_with(dir, path, "cors_origins = http://a.org:0", &c)[0] &&
	      load_with(dir, path, "cors_origins = http://a.org:65536", &c)[0] &&
	      load_with(dir, path, "cors_origins = http://a.org:", &c)[0] &&
	      load_with(dir, path, "cors_origins = http://", &c)[0] &&
	      load_with(dir, path, "cors_origins = http://[]", &c)[0] &&
	      load_with(dir, path, "cors_origins = null", &c)[0], "uppercase, other schemes, bad ports refused");
	CHECK_STR(load_with(dir, path, "twilio_room", &c), "2: expected 'key = value', got 'twilio_room'",
		  "a line without '='");
}

static void problem(void *ctx, const char *msg)
{
	char *out = ctx;

	strcat(out, msg);
	strcat(out, "\n");
}

/* A file's mtime set to t seconds: two writes in one clock tick look alike. */
static void touch_at(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	utimensat(AT_FDCWD, path, ts, 0);
}

/* conf_check lists every problem; conf_refresh keeps the last good conf. */
static void test_check(const char *dir, const char *path)
{
	char got[2048] = "", want[2048], err[ERR_LEN];
	struct conf c;

	write_file(path, "token_secret = 0123456789abcdef0\nmedia_host = x\n# fine\n"
		   "public_url\nmedia_max_bytes = -1\n");
	CHECK(conf_check(dir, problem, got, err) == -1, "check fails on a bad file");
	snprintf(want, sizeof(want), "%s:2: unknown key 'media_host'\n"
		 "%s:4: expected 'key = value', got 'public_url'\n"
		 "%s:5: media_max_bytes: not a positive number '-1'\n", path, path, path);
	CHECK_STR(got, want, "every problem, file order, FILE:LINE");
	snprintf(want, sizeof(want), "%s:2: unknown key 'media_host'", path);
	CHECK_STR(err, want, "err: the first one, as conf_load says it");
	CHECK(conf_load(&c, dir, err) == -1 && !strcmp(err, want), "conf_load: the same words");

	write_file(path, "token_secret = 0123456789abcdef0\ntwilio_room = good\n");
	touch_at(path, 1000);
	CHECK(conf_load(&c, dir, err) == 0 && conf_check(dir, problem, got, err) == 0, "good file");
	write_file(path, "token_secret = 0123456789abcdef0\ntwilio_room = bad room\n");
	touch_at(path, 1001);
	CHECK(conf_refresh(&c, err) == -1 && !strcmp(c.twilio_room, "good"),
	      "a bad edit: reported, the last good conf kept");
	CHECK(conf_refresh(&c, err) == 0 && !strcmp(c.twilio_room, "good"),
	      "the same bad file: reported once");
	write_file(path, "token_secret = 0123456789abcdef0\ntwilio_room = better\n");
	touch_at(path, 1002);
	CHECK(conf_refresh(&c, err) == 1 && !strcmp(c.twilio_room, "better"), "the next good one loads");
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
	CHECK(strlen(c.sender_secret) == 64 && strcmp(c.sender_secret, c.token_secret),
	      "a fresh sender secret of its own");
	CHECK(c.moderation == CONF_MOD_OFF && c.wall_text == CONF_OFF && c.sender_rate == 20 &&
	      !c.twilio_reply[0] && !c.wall_number[0], "moderation defaults");
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
		  "# seconds a failed media fetch is not tried again (0: every request tries)\n"
		  "media_retry_after = 60\n"
		  "# on: pictures are fetched and cleaned as soon as their webhook is answered\n"
		  "media_prefetch = on\n"
		  "# a second connection of a connected user: refuse, replace or allow\n"
		  "duplicate_connections = refuse\n"
		  "# lets /api/metrics answer Authorization: Bearer TOKEN; empty: 127.0.0.1 only\n"
		  "metrics_token =\n"
		  "# the server API's Bearer token (/api/admin/, 16+ characters); empty: API off\n"
		  "admin_token =\n"
		  "# origins (scheme://host[:port], comma separated) whose pages may call /api/\n"
		  "cors_origins =\n"
		  "# origins besides the site's own that may open token WebSocket connections\n"
		  "ws_origins =\n"
		  "# where event hooks are POSTed; empty: no hooks\n"
		  "hook_url =\n"
		  "# signs event hooks (X-Bookpics-Signature)\n"
		  "hook_secret =\n"
		  "# keys the hash blocked senders are kept as; changing it unblocks everyone\n"
		  "sender_secret = SECRET\n"
		  "# off: pictures go on the wall at once; pre: they wait for a moderator\n"
		  "moderation = off\n"
		  "# on: a text without a picture goes on the wall too\n"
		  "wall_text = off\n"
		  "# pictures one sender may post to a room per hour\n"
		  "sender_rate = 20\n"
		  "# the SMS that answers an accepted picture; empty: no reply\n"
		  "twilio_reply =\n"
		  "# the number the wall asks people to text\n"
		  "wall_number =\n"
		  "# HOST:PORT this site replicates on; empty: a single site (see docs/DESIGN.md, Groups)\n"
		  "group_self =\n"
		  "# HOST:PORT of every site of the group, this one included, comma separated\n"
		  "group_sites =\n"
		  "# election priority of this site; 0: never the master\n"
		  "group_priority = 100\n"
		  "# a write is answered once acknowledged by: quorum, all or one (sites besides the master)\n"
		  "group_ack = quorum\n",
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
	CHECK(conf_set(dir, "twilio_auth_token", "tok\r", err) == -1 &&
	      !strcmp(err, "conf twilio_auth_token: control character (byte 0x0d) in the value"),
	      "CR refused (issue 11)");
	CHECK(conf_set(dir, "twilio_room", "a b", err) == -1 &&
	      !strcmp(err, "conf twilio_room: invalid room name 'a b'"), "set checks like load");
	CHECK(conf_load(&c2, dir, err) == 0 && !strcmp(c2.twilio_auth_token, "tok123") &&
	      !strcmp(c2.token_secret, c.token_secret), "other lines kept");

	/* groups (issue 12): HOST:PORT lists, self among the sites, the ack enum */
	write_file(path, "token_secret = 0123456789abcdef0\ngroup_self = 127.0.0.1:7001\n"
		   "group_sites = 127.0.0.1:7001, 127.0.0.1:7002,127.0.0.1:7003\n"
		   "group_priority = 0\ngroup_ack = all\n");
	CHECK(conf_load(&c2, dir, err) == 0 && !strcmp(c2.group_self, "127.0.0.1:7001") &&
	      c2.group_priority == 0 && c2.group_ack == CONF_ACK_ALL, "a group loads");
	CHECK(conf_group_site(c2.group_sites, 1, text, sizeof(text)) == 1 &&
	      !strcmp(text, "127.0.0.1:7002") &&
	      conf_group_site(c2.group_sites, 2, text, sizeof(text)) == 1 &&
	      !strcmp(text, "127.0.0.1:7003") &&
	      conf_group_site(c2.group_sites, 3, text, sizeof(text)) == 0, "the sites one by one");
	write_file(path, "token_secret = 0123456789abcdef0\ngroup_self = 127.0.0.1:7009\n"
		   "group_sites = 127.0.0.1:7001,127.0.0.1:7002\n");
	snprintf(text, sizeof(text), "%s: group_self: '127.0.0.1:7009' is not one of group_sites",
		 path);
	CHECK(conf_load(&c2, dir, err) == -1 && !strcmp(err, text), "self must be a site");
	write_file(path, "token_secret = 0123456789abcdef0\ngroup_sites = 127.0.0.1:7001\n");
	CHECK(conf_load(&c2, dir, err) == -1, "sites without self refused");
	write_file(path, "token_secret = 0123456789abcdef0\ngroup_self = 127.0.0.1\n");
	snprintf(text, sizeof(text), "%s:2: group_self: '127.0.0.1' is not HOST:PORT", path);
	CHECK(conf_load(&c2, dir, err) == -1 && !strcmp(err, text), "a port is required");
	write_file(path, "token_secret = 0123456789abcdef0\ngroup_sites = a:1,b:99999\n");
	CHECK(conf_load(&c2, dir, err) == -1, "a port past 65535 refused");
	write_file(path, "token_secret = 0123456789abcdef0\ngroup_ack = most\n");
	snprintf(text, sizeof(text), "%s:2: group_ack: quorum, all or one, not 'most'", path);
	CHECK(conf_load(&c2, dir, err) == -1 && !strcmp(err, text), "ack is an enum");

	write_file(path, "token_secret = 0123456789abcdef0\ntypo_key = 1\n");
	CHECK(conf_load(&c2, dir, err) == -1, "an unknown key is an error");
	snprintf(text, sizeof(text), "%s:2: unknown key 'typo_key'", path);
	CHECK_STR(err, text, "naming file, line and key");
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
	test_check(dir, path);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return unit_done();
}
