/* admin.c - bookpics-admin: users, rooms, memberships, tokens, Twilio secrets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "err.h"
#include "fifo.h"
#include "token.h"

#define DEFAULT_TTL (30L * 24 * 3600)

static const char usage[] =
	"usage: bookpics-admin [--var DIR] COMMAND\n"
	"\n"
	"  init [--port PORT]          create DIR with its configuration and store\n"
	"  user add ID                 create a user\n"
	"  user list                   list users\n"
	"  room add NAME [--public]    create a room (private unless --public)\n"
	"  room list                   list rooms: name, visibility, last index\n"
	"  member add ID ROOM          make user ID a member of ROOM\n"
	"  member remove ID ROOM       remove user ID from ROOM\n"
	"  token ID [--ttl SECONDS]    print a connection token (default 30 days)\n"
	"  twilio-token TOKEN          store the Twilio auth token\n"
	"  twilio-account SID          store the Twilio account SID\n"
	"\n"
	"DIR defaults to $BOOKPICS_VAR, else ./var.\n";

static int die_usage(void)
{
	fputs(usage, stderr);
	return 2;
}

static int fail(const char *err)
{
	fprintf(stderr, "bookpics-admin: %s\n", err);
	return 1;
}

static int cmd_init(const char *var, int argc, char **argv)
{
	struct app app = { 0 };
	char err[ERR_LEN];
	long port = 8080;
	int r;

	if (argc == 2 && !strcmp(argv[0], "--port"))
		port = strtol(argv[1], NULL, 10);
	else if (argc)
		return die_usage();
	if (port < 1 || port > 65535)
		return fail("init: --port must be 1..65535");
	r = conf_init(var, (int)port, err);
	if (r < 0 || app_ready(&app, var, err) || fifo_create(var, err) ||
	    store_room_add(app.store, app.conf.twilio_room, 1, err) < 0) {
		app_close(&app);
		return fail(err);
	}
	if (r == 1)
		printf("created %s/bookpics.conf\n", var);
	app_close(&app);
	return 0;
}

static void print_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%s\n", v[i]);
}

static int cmd_user(struct app *app, int argc, char **argv, char *err)
{
	char **ids;
	size_t n;
	int r;

	if (argc == 2 && !strcmp(argv[0], "add")) {
		r = store_user_add(app->store, argv[1], err);
		if (r < 0)
			return -1;
		if (!r)
			printf("user %s already exists\n", argv[1]);
		return 0;
	}
	if (argc == 1 && !strcmp(argv[0], "list")) {
		if (store_user_list(app->store, &ids, &n, err))
			return -1;
		print_strings(ids, n);
		store_strings_free(ids, n);
		return 0;
	}
	return 2;
}

static int cmd_room(struct app *app, int argc, char **argv, char *err)
{
	struct store_room *rooms;
	size_t n, i;
	int r;

	if ((argc == 2 || (argc == 3 && !strcmp(argv[2], "--public"))) &&
	    !strcmp(argv[0], "add")) {
		r = store_room_add(app->store, argv[1], argc == 3, err);
		if (r < 0)
			return -1;
		if (!r)
			printf("room %s already exists\n", argv[1]);
		return 0;
	}
	if (argc == 1 && !strcmp(argv[0], "list")) {
		if (store_room_list(app->store, &rooms, &n, err))
			return -1;
		for (i = 0; i < n; i++)
			printf("%s\t%s\t%llu\n", rooms[i].name,
			       rooms[i].is_public ? "public" : "private",
			       (unsigned long long)rooms[i].last);
		free(rooms);
		return 0;
	}
	return 2;
}

static int cmd_member(struct app *app, int argc, char **argv, char *err)
{
	struct store_room room;
	int r, add;

	if (argc != 3 || (strcmp(argv[0], "add") && strcmp(argv[0], "remove")))
		return 2;
	add = !strcmp(argv[0], "add");
	r = store_room_get(app->store, argv[2], &room, err);
	if (r <= 0)
		return r < 0 ? -1 : err_set(err, "no such room '%s'", argv[2]);
	if (room.is_public)
		return err_set(err, "room '%s' is public: everyone reads it", argv[2]);
	r = add ? store_member_add(app->store, argv[1], argv[2], err)
		: store_member_remove(app->store, argv[1], argv[2], err);
	if (r < 0)
		return -1;
	if (!r)
		printf("%s is %s a member of %s\n", argv[1], add ? "already" : "not", argv[2]);
	fifo_notify_user(app->conf.var, argv[1]);	/* live connections follow */
	return 0;
}

static int cmd_token(struct app *app, int argc, char **argv, char *err)
{
	char token[TOKEN_MAX], *end;
	long ttl = DEFAULT_TTL;
	int r;

	if (argc == 3 && !strcmp(argv[1], "--ttl")) {
		ttl = strtol(argv[2], &end, 10);
		if (*end || ttl <= 0)
			return err_set(err, "--ttl must be a positive number of seconds");
	} else if (argc != 1) {
		return 2;
	}
	r = store_user_exists(app->store, argv[0], err);
	if (r <= 0)
		return r < 0 ? -1 : err_set(err, "no such user '%s'", argv[0]);
	if (token_mint(app->conf.token_secret, argv[0], time(NULL) + ttl, token, err))
		return -1;
	printf("%s\n", token);
	return 0;
}

int main(int argc, char **argv)
{
	struct app app = { 0 };
	const char *var = NULL, *cmd;
	char err[ERR_LEN] = "";
	int r = 2;

	argv++, argc--;
	if (argc >= 2 && !strcmp(argv[0], "--var")) {
		var = argv[1];
		argv += 2, argc -= 2;
	}
	if (argc < 1)
		return die_usage();
	var = app_var(var);
	cmd = argv[0];
	argv++, argc--;
	if (!strcmp(cmd, "init"))
		return cmd_init(var, argc, argv);
	if (!strcmp(cmd, "twilio-token") || !strcmp(cmd, "twilio-account")) {
		if (argc != 1)
			return die_usage();
		if (conf_set(var, cmd[7] == 't' ? "twilio_auth_token" : "twilio_account_sid",
			     argv[0], err))
			return fail(err);
		return 0;
	}
	if (app_ready(&app, var, err))
		return fail(err);
	if (!strcmp(cmd, "user"))
		r = cmd_user(&app, argc, argv, err);
	else if (!strcmp(cmd, "room"))
		r = cmd_room(&app, argc, argv, err);
	else if (!strcmp(cmd, "member"))
		r = cmd_member(&app, argc, argv, err);
	else if (!strcmp(cmd, "token"))
		r = cmd_token(&app, argc, argv, err);
	app_close(&app);
	if (r == 2)
		return die_usage();
	return r ? fail(err) : 0;
}
