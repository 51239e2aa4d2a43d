/*
 * main.c - bookpics-hooks: follows the store and POSTs event hooks (docs/HOOKS.md).
 *
 * The outbox is the store itself: messages.db (each room's 1, 2, 3, ...),
 * changes.db (each room's hides and shows) and events.db (connects and
 * disconnects, written by the relay) are durable, ordered sequences, and
 * hooks.db keeps, per sequence, the last item a receiver answered 2xx to.
 * A stream is one room (its messages and changes merged) or the site's
 * connection events. Each stream sends one event at a time, in order, and
 * moves its cursor only after a 2xx: at least once, never out of order.
 * A failed stream waits (1 s doubling to 5 min) while the others go on.
 * Memory: one small record per room and one event at a time.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "hooks.h"
#include "log.h"
#include "post.h"
#include "version.h"

#define IDLE_MS 250		/* poll the store this often when nothing is owed */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)

struct stream {
	char room[STORE_NAME_MAX + 1];	/* "" : the connection events */
	uint64_t msg, chg;		/* cursors: last sent (2xx) */
	uint64_t last, changes;		/* the room's, at the last look */
	int64_t retry_at;		/* ms (clock_ms), 0: now */
	int backoff_ms;
	int failing;			/* logged as failing since */
};

static volatile sig_atomic_t stop_flag, hup_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	hup_flag = 1;
}

static void nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	if (!stop_flag)
		nanosleep(&ts, NULL);	/* a signal ends it early */
}

struct hooks {
	struct app app;
	const char *var;
	struct stream *s;	/* s[0]: connection events */
	size_t n, cap;
	int inited;
};

/* Find or add room's stream (cursors read from hooks.db). NULL on error. */
static struct stream *stream_for(struct hooks *h, const char *room, char *err)
{
	struct stream *grown, *st;
	size_t i;

	for (i = 0; i < h->n; i++)
		if (!strcmp(h->s[i].room, room))
			return &h->s[i];
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 16;
		grown = realloc(h->s, h->cap * sizeof(*grown));
		if (!grown) {
			err_set(err, "streams: out of memory");
			return NULL;
		}
		h->s = grown;
	}
	st = &h->s[h->n];
	memset(st, 0, sizeof(*st));
	snprintf(st->room, sizeof(st->room), "%s", room);
	if (room[0] ? store_hook_get(h->app.store, STORE_HOOK_MSG, room, &st->msg, err) < 0 ||
		      store_hook_get(h->app.store, STORE_HOOK_CHANGE, room, &st->chg, err) < 0
		    : store_hook_get(h->app.store, STORE_HOOK_EVENTS, NULL, &st->msg, err) < 0)
		return NULL;
	h->n++;
	return st;
}

/* Every room's last index and change, new rooms as new streams. 0/-1. */
static int look(struct hooks *h, char *err)
{
	struct store_room *rooms = NULL;
	struct stream *st;
	size_t n = 0, i;
	int ret = -1;

	if (!h->n && !stream_for(h, "", err))
		return -1;
	if (store_room_list(h->app.store, &rooms, &n, err))
		return -1;
	for (i = 0; i < n; i++) {
		if (!(st = stream_for(h, rooms[i].name, err)))
			goto out;
		st->last = rooms[i].last;
		st->changes = rooms[i].changes;
	}
	ret = 0;
out:
	free(rooms);
	return ret;
}

/*
 * The stream's next event into *body (malloc'd), with what sending it
 * moves: *which cursor to *to. 1 one is owed, 0 none, -1 error.
 */
static int next_event(struct hooks *h, struct stream *st, char **body, int *which,
		      uint64_t *to, char *err)
{
	struct store_change *ch = NULL;
	struct store_event *ev = NULL;
	char *rec = NULL;
	size_t n = 0;
	int ret = -1, r;

	*body = NULL;
	if (!st->room[0]) {
		if (store_events(h->app.store, st->msg, 1, &ev, &n, err))
			return -1;
		if (n) {
			*which = STORE_HOOK_EVENTS, *to = ev[0].seq;
			*body = hooks_conn_event(&ev[0], err);
		}
		ret = !n ? 0 : *body ? 1 : -1;
		goto out;
	}
	/*
	 * Messages first, then changes: a change of message I always comes
	 * after message I, and as changes keep no time this is the order they
	 * happened in whenever the receiver keeps up (docs/HOOKS.md).
	 */
	if (st->msg >= st->last && st->changes > st->chg &&
	    store_changes(h->app.store, st->room, st->chg, 1, &ch, &n, err))
		return -1;
	if (n) {
		*which = STORE_HOOK_CHANGE, *to = ch[0].seq;
		*body = hooks_change_event(st->room, &ch[0], err);
		ret = *body ? 1 : -1;
		goto out;
	}
	if (st->msg >= st->last) {
		ret = 0;
		goto out;
	}
	*which = STORE_HOOK_MSG, *to = st->msg + 1;
	r = store_message_get(h->app.store, st->room, st->msg + 1, &rec, err);
	if (r < 0)
		goto out;
	/* a message that is not there (cannot happen: no gaps) gives its tombstone */
	*body = hooks_message_event(st->room, st->msg + 1, r ? rec : "", err);
	ret = *body ? 1 : -1;
out:
	free(ch);
	free(ev);
	free(rec);
	return ret;
}

/* Send the stream's next event if one is owed and due. 1 sent, 0 not, -1 store error. */
static int step(struct hooks *h, struct stream *st)
{
	char err[ERR_LEN], status_s[16], retry_s[16], to_s[24], *body = NULL;
	const struct conf *c = &h->app.conf;
	uint64_t to = 0;
	long status = 0;
	int which = 0, r, ret = 0;

	if (st->retry_at && clock_ms() < st->retry_at)
		return 0;
	r = next_event(h, st, &body, &which, &to, err);
	if (r <= 0) {
		if (r < 0)
			log_event(LOG_ERROR, "store_failed", "error", err, NULL);
		return r;
	}
	r = post_event(c->hook_url, c->hook_secret, body, strlen(body), &stop_flag, &status, err);
	if (stop_flag)
		goto out;
	if (r == 1) {
		if (store_hook_set(h->app.store, which, st->room[0] ? st->room : NULL, to, err)) {
			/* sent but not recorded: it goes again (at least once) */
			log_event(LOG_ERROR, "store_failed", "error", err, NULL);
			ret = -1;
			goto out;
		}
		if (which == STORE_HOOK_CHANGE)
			st->chg = to;
		else
			st->msg = to;
		if (st->failing)
			log_event(LOG_INFO, "hook_resumed", "room", st->room[0] ? st->room : "-", NULL);
		st->failing = 0, st->backoff_ms = 0, st->retry_at = 0;
		ret = 1;
		goto out;
	}
	st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (st->backoff_ms > BACKOFF_MAX_MS)
		st->backoff_ms = BACKOFF_MAX_MS;
	/* up to a tenth more, so streams that failed together do not retry in step */
	st->retry_at = clock_ms() + st->backoff_ms + rand() % (st->backoff_ms / 10 + 1);
	snprintf(status_s, sizeof(status_s), "%ld", status);
	snprintf(retry_s, sizeof(retry_s), "%d", st->backoff_ms);
	snprintf(to_s, sizeof(to_s), "%" PRIu64, to);
	log_event(st->failing ? LOG_DEBUG : LOG_WARN, "hook_failed",
		  "room", st->room[0] ? st->room : "-", "seq", to_s, "status", status_s,
		  "retry_ms", retry_s, "error", err, NULL);
	st->failing = 1;
out:
	free(body);
	return ret;
}

static int run(struct hooks *h)
{
	char err[ERR_LEN];
	int64_t next_look = 0;
	int sent, idle_logged = 0;
	size_t i;

	while (!stop_flag) {
		if (hup_flag) {
			hup_flag = 0;
			log_reopen();
		}
		if (app_ready(&h->app, h->var, err)) {
			log_event(LOG_ERROR, "not_ready", "error", err, NULL);
			nap(1000);
			continue;
		}
		if (!h->app.conf.hook_url[0] || !h->app.conf.hook_secret[0]) {
			if (!idle_logged)
				log_event(LOG_INFO, "idle", "reason",
					  h->app.conf.hook_url[0] ? "no hook_secret" : "no hook_url", NULL);
			idle_logged = 1;
			nap(1000);
			continue;
		}
		idle_logged = 0;
		if (!h->inited) {
			if (store_hook_init(h->app.store, err) < 0) {
				log_event(LOG_ERROR, "store_failed", "error", err, NULL);
				nap(1000);
				continue;
			}
			h->inited = 1;
			log_event(LOG_INFO, "delivering", NULL);
		}
		if (clock_ms() >= next_look) {
			if (look(h, err)) {
				log_event(LOG_ERROR, "store_failed", "error", err, NULL);
				nap(1000);
				continue;
			}
			next_look = clock_ms() + IDLE_MS;
		}
		/* one event per stream per round: rooms take turns */
		sent = 0;
		for (i = 0; i < h->n && !stop_flag; i++)
			sent += step(h, &h->s[i]) > 0;
		if (!sent) {
			nap(IDLE_MS);
			next_look = 0;
		}
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bookpics-hooks [--var DIR] [--log FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct hooks h;	/* the app's buffers: not on the stack */
	struct sigaction sa;
	const char *logpath = NULL;
	char err[ERR_LEN];
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version"))
			return version_print("bookpics-hooks");
		else if (!strcmp(argv[i], "--var") && i + 1 < argc)
			h.var = argv[++i];
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			logpath = argv[++i];
		else
			return usage();
	}
	h.var = app_var(h.var);
	log_init("hooks");
	if (logpath && log_open(logpath, err)) {
		fprintf(stderr, "bookpics-hooks: %s\n", err);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;	/* no SA_RESTART: a nap ends at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		log_event(LOG_ERROR, "start_failed", "error", "curl_global_init failed", NULL);
		return 1;
	}
	log_event(LOG_INFO, "start", "var", h.var, NULL);
	ret = run(&h);
	log_event(LOG_INFO, "stop", NULL);
	free(h.s);
	store_close(h.app.store);
	curl_global_cleanup();
	return ret;
}
