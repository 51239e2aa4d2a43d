/* admin.c - bookpics-admin: users, rooms, memberships, tokens, Twilio secrets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "group.h"
#include "backup.h"
#include "err.h"
#include "fifo.h"
#include "msg.h"
#include "token.h"
#include "version.h"

#define DEFAULT_TTL (30L * 24 * 3600)
#define MAX_TTL (100LL * 365 * 24 * 3600)	/* far below time_t's end */
/* A handler's bad argument: exit 2, printing ad->err, or the usage if it is empty. */
#define USAGE_ERROR -2

/* What one invocation works with. */
struct admin {
	const char *var;	/* the var directory (--var, $BOOKPICS_VAR, ./var) */
	struct app app;		/* conf + store: ready if the command needs it */
	char err[ERR_LEN];	/* what failed, when a handler returns -1 */
};

#define CMD_APP 1	/* app_ready (conf + store) before the handler runs */
#define CMD_ALIAS 2	/* another spelling: left out of the usage text */

/*
 * One row per command: a new command is one row plus its handler. main
 * checks the shape of the arguments against the row before anything is
 * opened (a usage error changes nothing): min..max operands, then nothing
 * or the row's one option followed by opt_args words. So a handler sees
 * argv = operands [option [value]], and returns 0, or -1 with ad->err
 * filled.
 */
struct cmd {
	const char *name;	/* one or two words: "init", "member add" */
	int (*fn)(struct admin *ad, int argc, char **argv);
	const char *args;	/* what follows the name, for the usage text */
	const char *help;	/* one line, for the usage text */
	int min, max;		/* how many operands follow the name */
	const char *opt;	/* the one option it takes ("--ttl"), or NULL */
	int opt_args;		/* how many words follow the option: 0 or 1 */
	unsigned flags;		/* CMD_APP, CMD_ALIAS */
};

static int cmd_init(struct admin *ad, int argc, char **argv);
static int cmd_user_add(struct admin *ad, int argc, char **argv);
static int cmd_user_list(struct admin *ad, int argc, char **argv);
static int cmd_room_add(struct admin *ad, int argc, char **argv);
static int cmd_room_list(struct admin *ad, int argc, char **argv);
static int cmd_member_add(struct admin *ad, int argc, char **argv);
static int cmd_member_remove(struct admin *ad, int argc, char **argv);
static int cmd_token(struct admin *ad, int argc, char **argv);
static int cmd_twilio_token(struct admin *ad, int argc, char **argv);
static int cmd_twilio_account(struct admin *ad, int argc, char **argv);
static int cmd_help(struct admin *ad, int argc, char **argv);
/* operations (issue 13) */
static int cmd_check(struct admin *ad, int argc, char **argv);
static int cmd_backup(struct admin *ad, int argc, char **argv);
static int cmd_restore(struct admin *ad, int argc, char **argv);
static int cmd_member_list(struct admin *ad, int argc, char **argv);
static int cmd_user_remove(struct admin *ad, int argc, char **argv);
static int cmd_token_revoke(struct admin *ad, int argc, char **argv);
static int cmd_connections(struct admin *ad, int argc, char **argv);
static int cmd_version(struct admin *ad, int argc, char **argv);
static int cmd_group_status(struct admin *ad, int argc, char **argv);
static int cmd_group_remove(struct admin *ad, int argc, char **argv);
static int cmd_message_list(struct admin *ad, int argc, char **argv);
static int cmd_message_hide(struct admin *ad, int argc, char **argv);
static int cmd_message_show(struct admin *ad, int argc, char **argv);
static int cmd_queue_list(struct admin *ad, int argc, char **argv);
static int cmd_queue_approve(struct admin *ad, int argc, char **argv);
static int cmd_queue_reject(struct admin *ad, int argc, char **argv);
static int cmd_moderator_add(struct admin *ad, int argc, char **argv);
static int cmd_moderator_remove(struct admin *ad, int argc, char **argv);
static int cmd_sender_block(struct admin *ad, int argc, char **argv);
static int cmd_sender_unblock(struct admin *ad, int argc, char **argv);
static int cmd_sender_list(struct admin *ad, int argc, char **argv);

static const struct cmd cmds[] = {
	{ "init", cmd_init, "[--port PORT]", "create DIR with its configuration and store",
	  0, 0, "--port", 1, 0 },
	{ "user add", cmd_user_add, "ID", "create a user", 1, 1, NULL, 0, CMD_APP },
	{ "user list", cmd_user_list, "", "list users", 0, 0, NULL, 0, CMD_APP },
	{ "room add", cmd_room_add, "NAME [--public]", "create a room (private unless --public)",
	  1, 1, "--public", 0, CMD_APP },
	{ "room list", cmd_room_list, "", "list rooms: name, visibility, last index",
	  0, 0, NULL, 0, CMD_APP },
	{ "member add", cmd_member_add, "ID ROOM", "make user ID a member of ROOM",
	  2, 2, NULL, 0, CMD_APP },
	{ "member remove", cmd_member_remove, "ID ROOM", "remove user ID from ROOM",
	  2, 2, NULL, 0, CMD_APP },
	{ "token", cmd_token, "ID [--ttl SECONDS]", "print a connection token (default 30 days)",
	  1, 1, "--ttl", 1, CMD_APP },
	{ "twilio-token", cmd_twilio_token, "TOKEN", "store the Twilio auth token "
	  "(- : stdin, --file F)", 0, 1, "--file", 1, 0 },
	{ "twilio-account", cmd_twilio_account, "SID", "store the Twilio account SID",
	  1, 1, NULL, 0, 0 },
	/* operations (issue 13) */
	{ "check", cmd_check, "", "check the configuration and DIR's owner and modes",
	  0, 0, NULL, 0, 0 },
	{ "backup", cmd_backup, "BACKUPDIR", "copy store, conf and media, while running",
	  1, 1, NULL, 0, CMD_APP },
	{ "restore", cmd_restore, "BACKUPDIR", "create DIR (new or empty) from a backup",
	  1, 1, NULL, 0, 0 },
	{ "member list", cmd_member_list, "ROOM", "list the members of ROOM",
	  1, 1, NULL, 0, CMD_APP },
	{ "user remove", cmd_user_remove, "ID", "remove a user, its memberships and cursors",
	  1, 1, NULL, 0, CMD_APP },
	{ "token revoke", cmd_token_revoke, "ID", "refuse every token of ID issued until now",
	  1, 1, NULL, 0, CMD_APP },
	{ "connections", cmd_connections, "", "list live connections: id, user, since",
	  0, 0, NULL, 0, CMD_APP },
	{ "group status", cmd_group_status, "", "a group's sites: address, role, state, lsn, lag",
	  0, 0, NULL, 0, CMD_APP },
	{ "group remove", cmd_group_remove, "HOST:PORT", "take a stopped site out of the group",
	  1, 1, NULL, 0, CMD_APP },
	{ "version", cmd_version, "", "print the version (also --version)", 0, 0, NULL, 0, 0 },
	{ "--version", cmd_version, "", "", 0, 0, NULL, 0, CMD_ALIAS },
	{ "message list", cmd_message_list, "ROOM [--limit N]",
	  "newest messages: index, visible|hidden, user, text", 1, 1, "--limit", 1, CMD_APP },
	{ "message hide", cmd_message_hide, "ROOM INDEX", "take a message off every wall",
	  2, 2, NULL, 0, CMD_APP },
	{ "message show", cmd_message_show, "ROOM INDEX", "show a hidden message again",
	  2, 2, NULL, 0, CMD_APP },
	{ "queue list", cmd_queue_list, "ROOM", "pictures waiting: id, user, text",
	  1, 1, NULL, 0, CMD_APP },
	{ "queue approve", cmd_queue_approve, "ROOM ID", "post a queued item (prints its index)",
	  2, 2, NULL, 0, CMD_APP },
	{ "queue reject", cmd_queue_reject, "ROOM ID", "drop a queued item",
	  2, 2, NULL, 0, CMD_APP },
	{ "moderator add", cmd_moderator_add, "USER ROOM", "let USER moderate ROOM",
	  2, 2, NULL, 0, CMD_APP },
	{ "moderator remove", cmd_moderator_remove, "USER ROOM", "USER no longer moderates ROOM",
	  2, 2, NULL, 0, CMD_APP },
	{ "sender block", cmd_sender_block, "ROOM INDEX", "block the number that sent a message",
	  2, 2, NULL, 0, CMD_APP },
	{ "sender unblock", cmd_sender_unblock, "ROOM INDEX", "unblock it again",
	  2, 2, NULL, 0, CMD_APP },
	{ "sender list", cmd_sender_list, "", "blocked senders: hash, user, room, index",
	  0, 0, NULL, 0, CMD_APP },
	{ "help", cmd_help, "", "print this help (also --help, -h)", 0, 0, NULL, 0, 0 },
	{ "--help", cmd_help, "", "", 0, 0, NULL, 0, CMD_ALIAS },
	{ "-h", cmd_help, "", "", 0, 0, NULL, 0, CMD_ALIAS },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* The usage text, from the table: so it cannot miss a command. */
static void usage(FILE *to)
{
	char line[128];
	size_t i;

	fputs("usage: bookpics-admin [--var DIR] COMMAND\n\n", to);
	for (i = 0; i < NCMDS; i++) {
		if (cmds[i].flags & CMD_ALIAS)
			continue;
		snprintf(line, sizeof(line), "%s%s%s", cmds[i].name,
			 cmds[i].args[0] ? " " : "", cmds[i].args);
		fprintf(to, "  %-29s %s\n", line, cmds[i].help);
	}
	fputs("\nDIR defaults to $BOOKPICS_VAR, else ./var.\n", to);
}

/*
 * How many words of argv name c: 1 or 2, or 0 if c is not the command
 * argv starts with. A two-word name needs both words.
 */
static int cmd_words(const struct cmd *c, int argc, char **argv)
{
	const char *sp = strchr(c->name, ' ');
	size_t n = sp ? (size_t)(sp - c->name) : strlen(c->name);

	if (argc < 1 || strlen(argv[0]) != n || strncmp(argv[0], c->name, n))
		return 0;
	if (!sp)
		return 1;
	return argc >= 2 && !strcmp(argv[1], sp + 1) ? 2 : 0;
}

/*
 * The command argv starts with, *words set to its length; NULL if none.
 * The longest name wins, so "token revoke" can sit beside "token".
 */
static const struct cmd *cmd_find(int argc, char **argv, int *words)
{
	const struct cmd *best = NULL;
	size_t i;
	int w;

	*words = 0;
	for (i = 0; i < NCMDS; i++) {
		w = cmd_words(&cmds[i], argc, argv);
		if (w > *words) {
			best = &cmds[i];
			*words = w;
		}
	}
	return best;
}

/*
 * Do argv's words after the name fit c: min..max operands (words not
 * starting with "--"), then nothing or c's option with its opt_args words?
 */
static int cmd_args_ok(const struct cmd *c, int argc, char **argv)
{
	int n = 0;

	while (n < argc && strncmp(argv[n], "--", 2))
		n++;
	if (n < c->min || n > c->max)
		return 0;
	if (n == argc)
		return 1;
	return c->opt && !strcmp(argv[n], c->opt) && argc - n == 1 + c->opt_args;
}

static int cmd_help(struct admin *ad, int argc, char **argv)
{
	(void)ad, (void)argc, (void)argv;
	usage(stdout);
	return 0;
}

static int cmd_init(struct admin *ad, int argc, char **argv)
{
	long port = argc == 2 ? strtol(argv[1], NULL, 10) : 8080;
	int r;

	if (port < 1 || port > 65535)
		return err_set(ad->err, "init: --port must be 1..65535");
	r = conf_init(ad->var, (int)port, ad->err);
	if (r < 0 || conf_load(&ad->app.conf, ad->var, ad->err))
		return -1;
	if (ad->app.conf.group_self[0]) {
		/* a group's site: its databases are the master's (the relay adds the room) */
		if (app_group_env(&ad->app, ad->var, ad->err) || fifo_create(ad->var, ad->err))
			return -1;
	} else if (app_ready(&ad->app, ad->var, ad->err) || fifo_create(ad->var, ad->err) ||
		   store_room_add(ad->app.store, ad->app.conf.twilio_room, 1, ad->err) < 0) {
		return -1;
	}
	if (r == 1)
		printf("created %s/bookpics.conf\n", ad->var);
	return 0;
}

/*
 * One line per site, this one first (docs/DESIGN.md, Groups):
 * "ADDR ROLE STATE LSN LAG": ROLE master|client|- (not reached), STATE
 * self|connected|unreachable, LSN FILE/OFFSET of the end of its log or -,
 * LAG bytes behind the master's log (in the same file), "Nf" (N log
 * files behind) or - (unknown: no master, or no answer).
 */
static int cmd_group_status(struct admin *ad, int argc, char **argv)
{
	const struct group_site *m = NULL, *site;
	struct group_status st;
	char lsn[48], lag[32];
	size_t i;

	(void)argc, (void)argv;
	if (store_group_status(ad->app.store, 1, &st, ad->err))
		return -1;
	for (i = 0; i < st.nsites; i++)
		if (st.sites[i].is_master && st.sites[i].has_lsn)
			m = &st.sites[i];
	for (i = 0; i < st.nsites; i++) {
		site = &st.sites[i];
		snprintf(lsn, sizeof(lsn), "-");
		snprintf(lag, sizeof(lag), "-");
		if (site->has_lsn)
			snprintf(lsn, sizeof(lsn), "%u/%u", (unsigned)(site->lsn >> 32),
				 (unsigned)(site->lsn & 0xffffffff));
		if (site->has_lsn && m && (m->lsn >> 32) == (site->lsn >> 32))
			snprintf(lag, sizeof(lag), "%llu", m->lsn > site->lsn ?
				 (unsigned long long)(m->lsn - site->lsn) : 0ULL);
		else if (site->has_lsn && m && m->lsn > site->lsn)
			snprintf(lag, sizeof(lag), "%uf",
				 (unsigned)((m->lsn >> 32) - (site->lsn >> 32)));
		printf("%s %s %s %s %s\n", site->addr,
		       site->is_master ? "master" : site->connected ? "client" : "-",
		       i == 0 ? "self" : site->connected ? "connected" : "unreachable", lsn, lag);
	}
	return 0;
}

/*
 * At any site of the group but the one removed (store_group_remove). The
 * removal is the group's, kept in its membership database; the confs
 * are the operator's: a site started again with its old group_* keys
 * asks to join and is added back (Berkeley DB's one rejoin attempt).
 */
static int cmd_group_remove(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	if (store_group_remove(ad->app.store, argv[0], ad->err))
		return -1;
	printf("removed %s from the group\n"
	       "now drop it from group_sites in every site's bookpics.conf, and do not start "
	       "it again with its group_* keys: it would join again\n", argv[0]);
	return 0;
}

static void print_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%s\n", v[i]);
}

static int cmd_user_add(struct admin *ad, int argc, char **argv)
{
	int r = store_user_add(ad->app.store, argv[0], ad->err);

	(void)argc;
	if (r == 0)
		printf("user %s already exists\n", argv[0]);
	return r < 0 ? -1 : 0;
}

static int cmd_user_list(struct admin *ad, int argc, char **argv)
{
	char **ids;
	size_t n;

	(void)argc, (void)argv;
	if (store_user_list(ad->app.store, &ids, &n, ad->err))
		return -1;
	print_strings(ids, n);
	store_strings_free(ids, n);
	return 0;
}

static int cmd_room_add(struct admin *ad, int argc, char **argv)
{
	int r = store_room_add(ad->app.store, argv[0], argc == 2, ad->err);

	if (r == 0)
		printf("room %s already exists\n", argv[0]);
	return r < 0 ? -1 : 0;
}

static int cmd_room_list(struct admin *ad, int argc, char **argv)
{
	struct store_room *rooms;
	size_t n, i;

	(void)argc, (void)argv;
	if (store_room_list(ad->app.store, &rooms, &n, ad->err))
		return -1;
	for (i = 0; i < n; i++)
		printf("%s\t%s\t%llu\n", rooms[i].name,
		       rooms[i].is_public ? "public" : "private",
		       (unsigned long long)rooms[i].last);
	free(rooms);
	return 0;
}

/* member add / member remove: ROOM must be private (public rooms need none). */
static int member_change(struct admin *ad, char **argv, int add)
{
	struct store_room room;
	int r;

	r = store_room_get(ad->app.store, argv[1], &room, ad->err);
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(ad->err, "no such room '%s'", argv[1]);
	if (room.is_public)
		return err_set(ad->err, "room '%s' is public: everyone reads it", argv[1]);
	r = add ? store_member_add(ad->app.store, argv[0], argv[1], ad->err)
		: store_member_remove(ad->app.store, argv[0], argv[1], ad->err);
	if (r < 0)
		return -1;
	if (!r)
		printf("%s is %s a member of %s\n", argv[0], add ? "already" : "not", argv[1]);
	fifo_notify_user(ad->var, argv[0]);	/* live connections follow */
	return 0;
}

static int cmd_member_add(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return member_change(ad, argv, 1);
}

static int cmd_member_remove(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return member_change(ad, argv, 0);
}

static int cmd_token(struct admin *ad, int argc, char **argv)
{
	char token[TOKEN_MAX], *end;
	long long ttl = DEFAULT_TTL;
	int r;

	if (argc == 3) {
		errno = 0;
		ttl = strtoll(argv[2], &end, 10);
		/* 9223372036854775807 wrapped around to an expired token (issue 11) */
		if (errno || end == argv[2] || *end || ttl <= 0 || ttl > MAX_TTL) {
			err_set(ad->err, "--ttl must be 1..%lld seconds (100 years), not '%s'",
				MAX_TTL, argv[2]);
			return USAGE_ERROR;
		}
	}
	r = store_user_exists(ad->app.store, argv[0], ad->err);
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(ad->err, "no such user '%s'", argv[0]);
	if (token_mint_issued(ad->app.conf.token_secret, argv[0], store_now_us(),
			      time(NULL) + (time_t)ttl, token, ad->err))
		return -1;
	printf("%s\n", token);
	return 0;
}

/*
 * The secret from argv, standard input ("-") or a file (--file F): its
 * first line without the newline. argv leaves it in `ps` and the shell's
 * history; the other two do not.
 */
static int secret_arg(struct admin *ad, int argc, char **argv, char *out, size_t len)
{
	const char *from = NULL;
	size_t n;
	FILE *f;

	if (argc == 1 && strcmp(argv[0], "-")) {
		if (strlen(argv[0]) >= len)
			return err_set(ad->err, "secret too long");
		strcpy(out, argv[0]);
		return 0;
	}
	if (argc == 1)
		f = stdin, from = "standard input";
	else if (argc == 2)
		f = fopen(from = argv[1], "r");
	else
		return err_set(ad->err, "give the secret, - (standard input) or --file FILE");
	if (!f)
		return err_set(ad->err, "open %s: %s", from, strerror(errno));
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	if (f != stdin)
		fclose(f);
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	else if (n == len - 1)
		return err_set(ad->err, "%s: secret too long", from);
	if (!n)
		return err_set(ad->err, "%s: no secret on its first line", from);
	return 0;
}

static int cmd_twilio_token(struct admin *ad, int argc, char **argv)
{
	char secret[CONF_VAL_MAX + 2];

	if (argc == 0 || (argc == 2 && strcmp(argv[0], "--file")))
		return USAGE_ERROR;	/* ad->err empty: the usage text */
	if (secret_arg(ad, argc, argv, secret, sizeof(secret)))
		return -1;
	return conf_set(ad->var, "twilio_auth_token", secret, ad->err);
}

static int cmd_twilio_account(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return conf_set(ad->var, "twilio_account_sid", argv[0], ad->err);
}

/* ---- operations (issue 13) ---- */

static void print_problem(void *ctx, const char *problem)
{
	int *n = ctx;

	fprintf(stderr, "%s\n", problem);
	(*n)++;
}

/* Like `nginx -t`: every problem with its place, or "ok". */
static int cmd_check(struct admin *ad, int argc, char **argv)
{
	char home[CONF_PATH_MAX + 8];
	struct store *s;
	struct stat st;
	int n = 0;

	(void)argc, (void)argv;
	if (app_var_check(ad->var, print_problem, &n) == 0 || access(ad->var, F_OK) == 0) {
		conf_check(ad->var, print_problem, &n, ad->err);
		snprintf(home, sizeof(home), "%s/db", ad->var);
		/* the store's schema, if there is a store (check creates nothing) */
		if (n == 0 && !stat(home, &st)) {
			s = store_open(home, ad->err);
			if (!s)
				print_problem(&n, ad->err);
			store_close(s);
		}
	}
	if (n)
		return err_set(ad->err, "check: %d problem%s", n, n == 1 ? "" : "s");
	printf("ok\n");
	return 0;
}

static int cmd_backup(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return backup_create(ad->app.store, ad->var, argv[0], stdout, ad->err);
}

static int cmd_restore(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return backup_restore(argv[0], ad->var, stdout, ad->err);
}

static int cmd_member_list(struct admin *ad, int argc, char **argv)
{
	struct store_room room;
	char **users;
	size_t n;
	int r;

	(void)argc;
	r = store_room_get(ad->app.store, argv[0], &room, ad->err);
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(ad->err, "no such room '%s'", argv[0]);
	if (store_room_members(ad->app.store, argv[0], &users, &n, ad->err))
		return -1;
	print_strings(users, n);
	store_strings_free(users, n);
	return 0;
}

static int cmd_user_remove(struct admin *ad, int argc, char **argv)
{
	int r = store_user_remove(ad->app.store, argv[0], ad->err);

	(void)argc;
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(ad->err, "no such user '%s'", argv[0]);
	fifo_notify_revoke(ad->var, argv[0]);	/* the relay closes its connections */
	return 0;
}

static int cmd_token_revoke(struct admin *ad, int argc, char **argv)
{
	int r = store_user_revoke(ad->app.store, argv[0], store_now_us(), ad->err);

	(void)argc;
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(ad->err, "no such user '%s'", argv[0]);
	fifo_notify_revoke(ad->var, argv[0]);	/* the relay closes its connections */
	return 0;
}

/* "CONN\tUSER\tSINCE" (ISO-8601 UTC, "-" if the relay did not say), by connection id. */
static int cmd_connections(struct admin *ad, int argc, char **argv)
{
	struct store_conn *conns;
	char since[32];
	size_t n, i;
	time_t t;

	(void)argc, (void)argv;
	if (store_conn_list(ad->app.store, &conns, &n, ad->err))
		return -1;
	for (i = 0; i < n; i++) {
		t = (time_t)(conns[i].since_us / 1000000);
		if (!conns[i].since_us ||
		    !strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t)))
			strcpy(since, "-");
		printf("%s\t%s\t%s\n", conns[i].conn, conns[i].user, since);
	}
	free(conns);
	return 0;
}

static int cmd_version(struct admin *ad, int argc, char **argv)
{
	(void)ad, (void)argc, (void)argv;
	return version_print("bookpics-admin");
}

/* A positive decimal operand (an index, an id, a limit). */
static int number_arg(struct admin *ad, const char *what, const char *s, uint64_t *v)
{
	char *end;

	if (*s < '1' || *s > '9')
		return err_set(ad->err, "%s must be a positive number, not '%s'", what, s);
	*v = strtoull(s, &end, 10);
	if (*end)
		return err_set(ad->err, "%s must be a positive number, not '%s'", what, s);
	return 0;
}

/* The room operand: it must exist. */
static int room_arg(struct admin *ad, const char *name, struct store_room *room)
{
	int r = store_room_get(ad->app.store, name, room, ad->err);

	if (r < 0)
		return -1;
	if (!r)
		return err_set(ad->err, "no such room '%s'", name);
	return 0;
}

/* One line of text: tabs and newlines would break the columns. */
static void print_text(const char *t)
{
	for (; *t; t++)
		putchar(*t == '\t' || *t == '\n' || *t == '\r' ? ' ' : *t);
}

static int cmd_message_list(struct admin *ad, int argc, char **argv)
{
	struct store_room room;
	struct store_msg *m;
	struct msg_fields f;
	uint64_t limit = 20;
	size_t n, i;

	if ((argc == 3 && number_arg(ad, "--limit", argv[2], &limit)) ||
	    room_arg(ad, argv[0], &room) ||
	    store_messages(ad->app.store, argv[0], STORE_DESC, 0, limit, &m, &n, ad->err))
		return -1;
	for (i = 0; i < n; i++) {
		msg_fields(m[i].record, &f);
		printf("%llu\t%s\t%s\t", (unsigned long long)m[i].index,
		       f.hidden ? "hidden" : "visible", f.user);
		print_text(f.text);
		putchar('\n');
	}
	store_msgs_free(m, n);
	return 0;
}

static int message_visibility(struct admin *ad, char **argv, int hidden)
{
	struct store_room room;
	uint64_t index, seq;
	int r;

	if (room_arg(ad, argv[0], &room) || number_arg(ad, "INDEX", argv[1], &index))
		return -1;
	if (index > room.last)
		return err_set(ad->err, "no message %llu in '%s'", (unsigned long long)index, argv[0]);
	r = store_message_hide(ad->app.store, argv[0], index, hidden, &seq, ad->err);
	if (r < 0)
		return -1;
	if (!r)
		printf("message %llu is already %s\n", (unsigned long long)index,
		       hidden ? "hidden" : "visible");
	else
		fifo_notify_change(ad->var, argv[0], seq);	/* live walls */
	return 0;
}

static int cmd_message_hide(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return message_visibility(ad, argv, 1);
}

static int cmd_message_show(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return message_visibility(ad, argv, 0);
}

static int cmd_queue_list(struct admin *ad, int argc, char **argv)
{
	struct store_room room;
	struct store_msg *q;
	struct msg_fields f;
	size_t n, i;

	(void)argc;
	if (room_arg(ad, argv[0], &room) ||
	    store_queue_list(ad->app.store, argv[0], &q, &n, ad->err))
		return -1;
	for (i = 0; i < n; i++) {
		msg_fields(q[i].record, &f);
		printf("%llu\t%s\t", (unsigned long long)q[i].index, f.user);
		print_text(f.text);
		putchar('\n');
	}
	store_msgs_free(q, n);
	return 0;
}

static int queue_take(struct admin *ad, char **argv, int approve)
{
	struct store_room room;
	uint64_t id, index;
	int r;

	if (room_arg(ad, argv[0], &room) || number_arg(ad, "ID", argv[1], &id))
		return -1;
	r = approve ? store_queue_approve(ad->app.store, argv[0], id, &index, ad->err)
		    : store_queue_reject(ad->app.store, argv[0], id, ad->err);
	if (r < 0)
		return -1;
	if (!r)
		return err_set(ad->err, "no queued item %llu in '%s'", (unsigned long long)id, argv[0]);
	if (approve) {
		fifo_notify_message(ad->var, argv[0], index);
		printf("%llu\n", (unsigned long long)index);
	}
	return 0;
}

static int cmd_queue_approve(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return queue_take(ad, argv, 1);
}

static int cmd_queue_reject(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return queue_take(ad, argv, 0);
}

static int moderator_change(struct admin *ad, char **argv, int add)
{
	int r = add ? store_moderator_add(ad->app.store, argv[0], argv[1], ad->err)
		    : store_moderator_remove(ad->app.store, argv[0], argv[1], ad->err);

	if (r < 0)
		return -1;
	if (!r)
		printf("%s is %s a moderator of %s\n", argv[0], add ? "already" : "not", argv[1]);
	return 0;
}

static int cmd_moderator_add(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return moderator_change(ad, argv, 1);
}

static int cmd_moderator_remove(struct admin *ad, int argc, char **argv)
{
	(void)argc;
	return moderator_change(ad, argv, 0);
}

/* The sender hash kept in message INDEX of ROOM (an SMS), into f. */
static int sender_of(struct admin *ad, char **argv, struct msg_fields *f, uint64_t *index)
{
	struct store_room room;
	char *record = NULL;
	int r;

	if (room_arg(ad, argv[0], &room) || number_arg(ad, "INDEX", argv[1], index))
		return -1;
	r = store_message_get(ad->app.store, argv[0], *index, &record, ad->err);
	if (r < 0)
		return -1;
	if (!r)
		return err_set(ad->err, "no message %llu in '%s'", (unsigned long long)*index, argv[0]);
	r = msg_fields(record, f);
	free(record);
	if (r || !f->sender[0])
		return err_set(ad->err, "message %llu was not sent by SMS", (unsigned long long)*index);
	return 0;
}

static int cmd_sender_block(struct admin *ad, int argc, char **argv)
{
	struct msg_fields f;
	uint64_t index;
	char note[MSG_NOTE_LEN];
	int r;

	(void)argc;
	if (sender_of(ad, argv, &f, &index))
		return -1;
	msg_sender_note(&f, argv[0], index, note);
	r = store_sender_block(ad->app.store, f.sender, note, ad->err);
	if (r < 0)
		return -1;
	if (!r)
		printf("the sender of %s %llu is already blocked\n", argv[0], (unsigned long long)index);
	return 0;
}

static int cmd_sender_unblock(struct admin *ad, int argc, char **argv)
{
	struct msg_fields f;
	uint64_t index;
	int r;

	(void)argc;
	if (sender_of(ad, argv, &f, &index))
		return -1;
	r = store_sender_unblock(ad->app.store, f.sender, ad->err);
	if (r < 0)
		return -1;
	if (!r)
		printf("the sender of %s %llu is not blocked\n", argv[0], (unsigned long long)index);
	return 0;
}

static int cmd_sender_list(struct admin *ad, int argc, char **argv)
{
	char **lines;
	size_t n;

	(void)argc, (void)argv;
	if (store_sender_list(ad->app.store, &lines, &n, ad->err))
		return -1;
	print_strings(lines, n);
	store_strings_free(lines, n);
	return 0;
}

int main(int argc, char **argv)
{
	struct admin ad = { 0 };
	const struct cmd *c;
	int words, r;

	argv++, argc--;
	if (argc >= 2 && !strcmp(argv[0], "--var")) {
		ad.var = argv[1];
		argv += 2, argc -= 2;
	}
	ad.var = app_var(ad.var);
	c = cmd_find(argc, argv, &words);
	if (!c || !cmd_args_ok(c, argc - words, argv + words)) {
		usage(stderr);
		return 2;
	}
	r = (c->flags & CMD_APP) && app_ready(&ad.app, ad.var, ad.err) ? -1
		: c->fn(&ad, argc - words, argv + words);
	app_close(&ad.app);
	if (r == USAGE_ERROR && !ad.err[0]) {
		usage(stderr);
		return 2;
	}
	if (r) {
		fprintf(stderr, "bookpics-admin: %s\n", ad.err);
		return r == USAGE_ERROR ? 2 : 1;
	}
	return 0;
}
