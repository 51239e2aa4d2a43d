/*
 * test-store.c - the Berkeley DB store: rooms, gapless append, sids, pages,
 * members, cursors, moderation, users, connections, events, hook cursors,
 * backup. The store opens its environment with DB_THREAD, under which a
 * read that does not name its memory fails (BDB0630): every public read
 * runs here at least once, with records longer and shorter than each other
 * in one walk (DB_DBT_REALLOC buffers) and under ASan (make SANITIZE=...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "store.h"
#include "unit.h"

static char *indexes(struct store_msg *m, size_t n)
{
	static char buf[1024];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%llu",
					i ? " " : "", (unsigned long long)m[i].index);
	return buf;
}

static const char *page(struct store *s, const char *room, enum store_dir dir,
			uint64_t from, size_t limit)
{
	static char err[ERR_LEN];
	struct store_msg *m;
	size_t n;
	const char *out;

	if (store_messages(s, room, dir, from, limit, &m, &n, err))
		return err;
	out = indexes(m, n);
	store_msgs_free(m, n);
	return out;
}

/* Hide/show, changes, the queue, moderators, blocked senders, rates: room "wall". */
static void moderation(struct store *s)
{
	static const char hash1[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char hash2[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
	char err[ERR_LEN], *record, **v;
	struct store_change *ch;
	struct store_room room;
	struct store_msg *m;
	uint64_t idx, seq, id, i;
	size_t n;
	int r;

	CHECK(store_room_add(s, "wall", 1, err) == 1, "moderation: a public room");
	for (i = 1; i <= 3; i++)
		store_append(s, "wall", NULL, "{\"chatMessage\":\"hi\"}", 20, &idx, err);
	CHECK(store_message_hide(s, "wall", 2, 1, &seq, err) == 1 && seq == 1, "hide: change 1");
	CHECK(store_message_get(s, "wall", 2, &record, err) == 1 &&
	      !strcmp(record, "{\"chatMessage\":\"hi\",\"hidden\":true}"),
	      "a hidden record keeps its content and gets the flag");
	free(record);
	CHECK(store_message_hide(s, "wall", 2, 1, &seq, err) == 0 && seq == 0,
	      "hiding it again changes nothing");
	CHECK(store_message_hide(s, "wall", 2, 0, &seq, err) == 1 && seq == 2, "show: change 2");
	CHECK(store_message_get(s, "wall", 2, &record, err) == 1 &&
	      !strcmp(record, "{\"chatMessage\":\"hi\"}"), "shown: the record as it was");
	free(record);
	CHECK(store_message_hide(s, "wall", 9, 1, &seq, err) == -1, "no such message: error");
	CHECK(store_message_hide(s, "wall", 3, 1, &seq, err) == 1 && seq == 3, "hide another");
	CHECK(store_room_get(s, "wall", &room, err) == 1 && room.last == 3 && room.changes == 3,
	      "the room counts its changes; indexes unchanged");
	CHECK(store_changes(s, "wall", 0, 10, &ch, &n, err) == 0 && n == 3 &&
	      ch[0].seq == 1 && ch[0].index == 2 && ch[0].hidden == 1 &&
	      ch[1].seq == 2 && ch[1].index == 2 && ch[1].hidden == 0 &&
	      ch[2].seq == 3 && ch[2].index == 3 && ch[2].hidden == 1, "changes in order");
	free(ch);
	CHECK(store_changes(s, "wall", 2, 10, &ch, &n, err) == 0 && n == 1 && ch[0].seq == 3,
	      "changes after a seq");
	free(ch);
	CHECK(store_changes(s, "books", 0, 10, &ch, &n, err) == 0 && n == 0, "another room: none");
	free(ch);

	CHECK(store_queue_add(s, "wall", "SMq1", "{\"q\":1}", 7, &id, err) == 1 && id == 1,
	      "queue add: id 1");
	CHECK(store_queue_add(s, "wall", "SMq2", "{\"q\":2}", 7, &id, err) == 1 && id == 2,
	      "queue add: id 2");
	CHECK(store_queue_add(s, "wall", NULL, "{\"q\":3}", 7, &id, err) == 1 && id == 3,
	      "queue add without a sid");
	CHECK(store_queue_add(s, "wall", "SMq1", "{}", 2, &id, err) == 0 && id == 0,
	      "a queued sid again: nothing");
	CHECK(store_append(s, "wall", "SMq1", "{}", 2, &idx, err) == 0,
	      "a queued sid is not appended either");
	CHECK(store_queue_list(s, "wall", &m, &n, err) == 0 && n == 3 && m[0].index == 1 &&
	      !strcmp(m[0].record, "{\"q\":1}") && m[2].index == 3, "queue list");
	store_msgs_free(m, n);
	CHECK(store_room_get(s, "wall", &room, err) == 1 && room.last == 3,
	      "queued items are not in the room");
	CHECK(store_queue_approve(s, "wall", 2, &idx, err) == 1 && idx == 4, "approve: next index");
	CHECK(store_message_get(s, "wall", 4, &record, err) == 1 && !strcmp(record, "{\"q\":2}"),
	      "the approved record is the message");
	free(record);
	CHECK(store_queue_approve(s, "wall", 2, &idx, err) == 0, "approving twice: no such item");
	CHECK(store_append(s, "wall", "SMq2", "{}", 2, &idx, err) == 0 && idx == 4,
	      "its sid now names the message");
	CHECK(store_queue_reject(s, "wall", 1, err) == 1 && store_queue_reject(s, "wall", 1, err) == 0,
	      "reject, then no such item");
	CHECK(store_queue_add(s, "wall", "SMq1", "{}", 2, &id, err) == 0,
	      "a rejected sid is not queued again");
	CHECK(store_queue_get(s, "wall", 3, &record, err) == 1 && !strcmp(record, "{\"q\":3}"),
	      "queue get");
	free(record);
	CHECK(store_queue_get(s, "wall", 1, &record, err) == 0, "queue get: rejected is gone");
	CHECK(store_queue_list(s, "wall", &m, &n, err) == 0 && n == 1 && m[0].index == 3,
	      "what is left");
	store_msgs_free(m, n);
	CHECK(store_room_get(s, "wall", &room, err) == 1 && room.last == 4 && room.queued == 3 &&
	      room.changes == 3, "room: last, queue ids, changes");

	CHECK(store_moderator_add(s, "uuid1", "wall", err) == 1 &&
	      store_moderator_add(s, "uuid1", "wall", err) == 0, "moderator add");
	CHECK(store_moderator_add(s, "uuid9", "wall", err) == -1 &&
	      store_moderator_add(s, "uuid1", "nope", err) == -1, "unknown user or room");
	CHECK(store_is_moderator(s, "uuid1", "wall", err) == 1 &&
	      store_is_moderator(s, "uuid1", "books", err) == 0, "is moderator");
	CHECK(store_moderator_remove(s, "uuid1", "wall", err) == 1 &&
	      store_moderator_remove(s, "uuid1", "wall", err) == 0 &&
	      store_is_moderator(s, "uuid1", "wall", err) == 0, "moderator remove");

	CHECK(store_sender_block(s, hash1, "sms:x\twall\t2", err) == 1 &&
	      store_sender_block(s, hash1, "again", err) == 0, "block a sender");
	CHECK(store_sender_block(s, "1234", "x", err) == -1, "a hash is 64 hex digits");
	CHECK(store_sender_blocked(s, hash1, err) == 1 && store_sender_blocked(s, hash2, err) == 0,
	      "blocked");
	CHECK(store_sender_list(s, &v, &n, err) == 0 && n == 1 && !strncmp(v[0], hash1, 64) &&
	      !strcmp(v[0] + 64, "\tsms:x\twall\t2"), "sender list");
	store_strings_free(v, n);
	CHECK(store_sender_unblock(s, hash1, err) == 1 && store_sender_unblock(s, hash1, err) == 0 &&
	      store_sender_blocked(s, hash1, err) == 0, "unblock");

	for (i = 0, r = 1; i < 3 && r == 1; i++)
		r = store_rate_take(s, "wall", hash1, 3, 7200 + 10, err);
	CHECK(i == 3 && r == 1, "three posts under a limit of 3");
	CHECK(store_rate_take(s, "wall", hash1, 3, 7200 + 20, err) == 0, "the fourth is over");
	CHECK(store_rate_take(s, "wall", hash2, 3, 7200 + 20, err) == 1, "another sender is not");
	CHECK(store_rate_take(s, "books", hash1, 3, 7200 + 20, err) == 1, "nor another room");
	CHECK(store_rate_take(s, "wall", hash1, 3, 7200 + 3600 + 60, err) == 1 &&
	      store_rate_take(s, "wall", hash1, 3, 7200 + 3600 + 61, err) == 0,
	      "early in the next hour the last hour still counts (2.95 + 1 >= 3)");
	CHECK(store_rate_take(s, "wall", hash1, 3, 7200 + 3600 + 2400, err) == 1,
	      "as the hour slides, it counts less");
	CHECK(store_rate_take(s, "wall", hash1, 3, 7200 + 3 * 3600, err) == 1,
	      "two hours on: a fresh window");
}

/* A record of len bytes: {"t":"xxx..."} */
static char *long_record(size_t len)
{
	char *r = malloc(len + 1);

	if (!r)
		return NULL;
	memset(r, 'x', len);
	memcpy(r, "{\"t\":\"", 6);
	memcpy(r + len - 2, "\"}", 2);
	r[len] = '\0';
	return r;
}

/* Records of any size: growing, then shrinking, in one page; hide and queue them. */
static void big_records(struct store *s)
{
	static const size_t sizes[] = { 40000, 12, 100000, 9, 70000 };
	char err[ERR_LEN], *rec[5], *got;
	struct store_msg *m;
	uint64_t idx, id, seq;
	size_t n, i;
	int ok;

	CHECK(store_room_add(s, "big", 1, err) == 1, "big: a room");
	for (i = 0, ok = 1; i < 5; i++) {
		rec[i] = long_record(sizes[i]);
		ok = ok && rec[i] && store_append(s, "big", NULL, rec[i], sizes[i], &idx, err) == 1 &&
		     idx == i + 1;
	}
	CHECK(ok, "big: five records of 9 bytes to 100 kB appended");
	CHECK(store_messages(s, "big", STORE_ASC, 0, 10, &m, &n, err) == 0 && n == 5,
	      "big: one page holds them all");
	for (i = 0, ok = 1; i < n && i < 5; i++)
		ok = ok && m[i].index == i + 1 && m[i].len == sizes[i] && !strcmp(m[i].record, rec[i]);
	CHECK(ok, "big: each record exactly, oldest first");
	store_msgs_free(m, n);
	CHECK(store_messages(s, "big", STORE_DESC, 0, 2, &m, &n, err) == 0 && n == 2 &&
	      m[0].index == 5 && !strcmp(m[0].record, rec[4]) &&
	      m[1].index == 4 && !strcmp(m[1].record, rec[3]), "big: newest first");
	store_msgs_free(m, n);
	CHECK(store_message_hide(s, "big", 3, 1, &seq, err) == 1 && seq == 1 &&
	      store_message_get(s, "big", 3, &got, err) == 1 && strlen(got) == sizes[2] + 14 &&
	      !strcmp(got + sizes[2] - 1, ",\"hidden\":true}") && !strncmp(got, rec[2], sizes[2] - 1),
	      "big: a 100 kB record hidden");
	free(got);
	CHECK(store_queue_add(s, "big", "SMbig1", rec[2], sizes[2], &id, err) == 1 && id == 1 &&
	      store_queue_add(s, "big", "SMbig2", rec[3], sizes[3], &id, err) == 1 && id == 2 &&
	      store_queue_add(s, "big", NULL, rec[0], sizes[0], &id, err) == 1 && id == 3,
	      "big: three queued, long, short, long");
	CHECK(store_queue_list(s, "big", &m, &n, err) == 0 && n == 3 &&
	      m[0].len == sizes[2] && !strcmp(m[0].record, rec[2]) &&
	      m[1].len == sizes[3] && !strcmp(m[1].record, rec[3]) &&
	      m[2].len == sizes[0] && !strcmp(m[2].record, rec[0]), "big: the queue, exactly");
	store_msgs_free(m, n);
	CHECK(store_queue_approve(s, "big", 1, &idx, err) == 1 && idx == 6 &&
	      store_message_get(s, "big", 6, &got, err) == 1 && !strcmp(got, rec[2]),
	      "big: a long queued record approved");
	free(got);
	CHECK(store_append(s, "big", "SMbig1", "{}", 2, &idx, err) == 0 && idx == 6 &&
	      store_append(s, "big", "SMbig2", "{}", 2, &idx, err) == 0 && idx == 0,
	      "big: sids of an approved and a queued item");
	for (i = 0; i < 5; i++)
		free(rec[i]);
}

/* Users, connections and events, hook cursors, the log, backup and recovery. */
static void the_rest(struct store *s, const char *dir)
{
	char err[ERR_LEN], path[256], **v;
	struct store_log_info li;
	struct store_conn *c;
	struct store_event *e;
	struct store *b;
	struct store_room room;
	uint64_t us, before, cur;
	size_t n;
	int was;

	CHECK(store_schema(s, &was) == STORE_SCHEMA && was == 0, "schema: current, none before");
	CHECK(store_user_list(s, &v, &n, err) == 0 && n == 7 && !strcmp(v[0], "A") &&
	      !strcmp(v[6], "uuid1"), "user list, in key order");
	store_strings_free(v, n);
	before = store_now_us();
	CHECK(store_user_add(s, "rest1", err) == 1 &&
	      store_user_not_before(s, "rest1", &us, err) == 1 && us >= before &&
	      us <= store_now_us(), "a new user's not-before is its creation");
	CHECK(store_user_not_before(s, "nobody", &cur, err) == 0 && cur == 0, "no such user: 0");
	CHECK(store_user_revoke(s, "rest1", us + 5000000, err) == 1 &&
	      store_user_not_before(s, "rest1", &cur, err) == 1 && cur == us + 5000000,
	      "revoke moves it on");
	CHECK(store_user_revoke(s, "rest1", us, err) == 1 &&
	      store_user_not_before(s, "rest1", &cur, err) == 1 && cur == us + 5000000,
	      "never backwards");
	CHECK(store_user_revoke(s, "nobody", us, err) == 0, "revoke: no such user");
	CHECK(store_member_add(s, "rest1", "books", err) == 1 &&
	      store_member_add(s, "rest1", "wall", err) == 1 &&
	      store_cursor_set(s, "rest1", "books", 3, err) == 0, "rest1 in two rooms");
	CHECK(store_user_remove(s, "rest1", err) == 1 && store_user_exists(s, "rest1", err) == 0 &&
	      store_is_member(s, "rest1", "books", err) == 0 &&
	      store_cursor_get(s, "rest1", "books", &cur, err) == 0 && cur == 0,
	      "remove: user, memberships, cursors");
	CHECK(store_room_members(s, "wall", &v, &n, err) == 0 && n == 0, "and the other direction");
	store_strings_free(v, n);
	CHECK(store_user_remove(s, "rest1", err) == 0, "remove again: 0");

	CHECK(store_hook_init(s, err) == 1 && store_hook_init(s, err) == 0, "hook init once");
	CHECK(store_hook_get(s, STORE_HOOK_MSG, "books", &cur, err) == 1 && cur == 11 &&
	      store_hook_get(s, STORE_HOOK_CHANGE, "wall", &cur, err) == 1 && cur == 3,
	      "init: cursors at each room's last index and change");
	CHECK(store_hook_get(s, STORE_HOOK_EVENTS, NULL, &cur, err) == 0 && cur == 0,
	      "no events cursor yet");
	CHECK(store_hook_set(s, STORE_HOOK_MSG, "books", 12, err) == 0 &&
	      store_hook_set(s, STORE_HOOK_MSG, "books", 4, err) == 0 &&
	      store_hook_get(s, STORE_HOOK_MSG, "books", &cur, err) == 1 && cur == 12,
	      "hook cursor set, never backwards");
	CHECK(store_hook_get(s, 'x', "books", &cur, err) == -1, "a bad cursor: error");

	CHECK(store_conn_open(s, "cA", "uuid1", 1, err) == 0 &&
	      store_conn_open(s, "cB", "", 1, err) == 0 &&
	      store_conn_open(s, "cC", "a", 0, err) == 0, "three connections, two with events");
	CHECK(store_conn_list(s, &c, &n, err) == 0 && n == 3 &&
	      !strcmp(c[0].conn, "cA") && !strcmp(c[0].user, "uuid1") && c[0].since_us >= before &&
	      !strcmp(c[1].conn, "cB") && !strcmp(c[1].user, "") &&
	      !strcmp(c[2].conn, "cC") && !strcmp(c[2].user, "a"), "connection list");
	free(c);
	CHECK(store_conn_close(s, "cA", "uuid1", 1, err) == 0 &&
	      store_conn_close(s, "cC", "a", 0, err) == 0, "two closed, one with an event");
	CHECK(store_events(s, 0, 10, &e, &n, err) == 0 && n == 3 &&
	      e[0].seq == 1 && e[0].kind == STORE_EVENT_CONNECT && !strcmp(e[0].conn, "cA") &&
	      !strcmp(e[0].user, "uuid1") && e[0].time_us >= before &&
	      e[1].seq == 2 && e[1].kind == STORE_EVENT_CONNECT && !strcmp(e[1].conn, "cB") &&
	      !strcmp(e[1].user, "") &&
	      e[2].seq == 3 && e[2].kind == STORE_EVENT_DISCONNECT && !strcmp(e[2].conn, "cA"),
	      "events in order");
	free(e);
	CHECK(store_events(s, 1, 1, &e, &n, err) == 0 && n == 1 && e[0].seq == 2,
	      "events after a seq, limited");
	free(e);
	CHECK(store_hook_set(s, STORE_HOOK_EVENTS, NULL, 2, err) == 0 &&
	      store_events(s, 0, 10, &e, &n, err) == 0 && n == 1 && e[0].seq == 3,
	      "the events cursor deletes what was delivered");
	free(e);
	CHECK(store_conn_list(s, &c, &n, err) == 0 && n == 1 && !strcmp(c[0].conn, "cB"),
	      "one connection left");
	free(c);

	CHECK(store_log_info(s, &li, err) == 0 && li.log_files >= 1 && li.log_bytes > 0,
	      "log info");
	CHECK(store_space(s, err) == 0 && !store_full(s), "space: not full");
	snprintf(path, sizeof(path), "%s.backup", dir);
	CHECK(store_backup(s, path, err) == 0 && store_recover(path, err) == 0, "backup, recover");
	b = store_open(path, err);
	CHECK(b && store_room_get(b, "books", &room, err) == 1 && room.last == 11 &&
	      store_events(b, 0, 10, &e, &n, err) == 0 && n == 1 && e[0].seq == 3,
	      "the copy opens with the data");
	if (b)
		free(e);
	store_close(b);
}

/*
 * Client keys (store_append_keyed): a retry gives the first index, a reuse
 * for another room or fingerprint is refused, another user's key of the
 * same name is its own. Rooms of its own.
 */
static void keyed(struct store *s)
{
	unsigned char fp1[STORE_FP_LEN], fp2[STORE_FP_LEN];
	char err[ERR_LEN], key[STORE_CLIENT_KEY_MAX + 2];
	struct store_room room;
	uint64_t idx = 99;

	memset(fp1, 1, sizeof(fp1));
	memset(fp2, 2, sizeof(fp2));
	CHECK(store_room_add(s, "keyed", 0, err) == 1 && store_room_add(s, "keyed2", 0, err) == 1,
	      "keyed: two rooms");
	CHECK(store_append_keyed(s, "keyed", "ann", "k-1", fp1, "{}", 2, &idx, err) == 1 &&
	      idx == 1, "keyed: the first post is appended");
	CHECK(store_append_keyed(s, "keyed", "ann", "k-1", fp1, "{\"x\":1}", 7, &idx, err) == 0 &&
	      idx == 1, "keyed: the retry stores nothing and gives the first index");
	idx = 99;
	CHECK(store_append_keyed(s, "keyed", "ann", "k-1", fp2, "{}", 2, &idx, err) ==
	      STORE_KEY_REUSED && idx == 0, "keyed: the key with another fingerprint: reused");
	CHECK(store_append_keyed(s, "keyed2", "ann", "k-1", fp1, "{}", 2, &idx, err) ==
	      STORE_KEY_REUSED, "keyed: the key in another room: reused");
	CHECK(store_room_get(s, "keyed", &room, err) == 1 && room.last == 1 &&
	      store_room_get(s, "keyed2", &room, err) == 1 && room.last == 0,
	      "keyed: neither stored anything");
	CHECK(store_append_keyed(s, "keyed", "bob", "k-1", fp2, "{}", 2, &idx, err) == 1 &&
	      idx == 2, "keyed: another user's key of the same name is its own");
	CHECK(store_append_keyed(s, "keyed", "ann", "k-1", fp1, "{}", 2, &idx, err) == 0 &&
	      idx == 1, "keyed: still the first index after another user's post");
	CHECK(store_append(s, "keyed", "k:ann", "{}", 2, &idx, err) == 1 && idx == 3,
	      "keyed: a sid that looks like a key's prefix is a sid of its own");
	memset(key, 'a', STORE_CLIENT_KEY_MAX + 1);
	key[STORE_CLIENT_KEY_MAX + 1] = '\0';
	CHECK(store_append_keyed(s, "keyed", "ann", key, fp1, "{}", 2, &idx, err) == -1 &&
	      store_append_keyed(s, "keyed", "ann", "", fp1, "{}", 2, &idx, err) == -1 &&
	      store_append_keyed(s, "keyed", "a\nb", "k", fp1, "{}", 2, &idx, err) == -1,
	      "keyed: a key too long, an empty key, an invalid user: refused");
	key[STORE_CLIENT_KEY_MAX] = '\0';
	CHECK(store_append_keyed(s, "keyed", "ann", key, fp1, "{}", 2, &idx, err) == 1 &&
	      idx == 4, "keyed: a key of STORE_CLIENT_KEY_MAX bytes");
	CHECK(store_append_keyed(s, "nope", "ann", "k-2", fp1, "{}", 2, &idx, err) == -1,
	      "keyed: an unknown room fails");
}

int main(void)
{
	char dir[] = "/tmp/bookpics-test-store.XXXXXX", err[ERR_LEN], rec[64], **v;
	struct store_room room, *rooms;
	struct store *s;
	uint64_t idx = 0, i;
	size_t n;
	char *record;

	if (!mkdtemp(dir))
		return 1;
	s = store_open(dir, err);
	CHECK(s != NULL, "store_open creates an environment");
	if (!s) {
		printf("# %s\n", err);
		return unit_done();
	}
	CHECK(store_name_ok("uuid-room_1") && !store_name_ok("") && !store_name_ok("a b") &&
	      !store_name_ok("../x") && !store_name_ok(NULL), "room names are checked");
	CHECK(store_room_add(s, "books", 1, err) == 1, "room add");
	CHECK(store_room_add(s, "books", 0, err) == 0, "adding it again changes nothing");
	CHECK(store_room_get(s, "books", &room, err) == 1 && room.is_public && room.last == 0,
	      "room get: public, empty");
	CHECK(store_room_get(s, "nope", &room, err) == 0, "unknown room: 0");
	CHECK(store_room_add(s, "bad name", 0, err) == -1, "invalid name refused");

	for (i = 1; i <= 10; i++) {
		snprintf(rec, sizeof(rec), "{\"n\":%llu}", (unsigned long long)i);
		if (store_append(s, "books", NULL, rec, strlen(rec), &idx, err) != 1 || idx != i)
			break;
	}
	CHECK(i == 11, "ten appends are numbered 1..10");
	CHECK(store_append(s, "books", "SM1", "{}", 2, &idx, err) == 1 && idx == 11, "append with a sid");
	CHECK(store_append(s, "books", "SM1", "{\"x\":1}", 7, &idx, err) == 0 && idx == 11,
	      "the same sid again stores nothing and gives the first index");
	CHECK(store_room_get(s, "books", &room, err) == 1 && room.last == 11, "last follows appends");
	CHECK(store_append(s, "nope", NULL, "{}", 2, &idx, err) == -1, "append to an unknown room fails");

	CHECK_STR(page(s, "books", STORE_ASC, 0, 3), "1 2 3", "after=0: oldest first");
	CHECK_STR(page(s, "books", STORE_ASC, 8, 50), "9 10 11", "after=8");
	CHECK_STR(page(s, "books", STORE_ASC, 11, 50), "", "after=last: empty");
	CHECK_STR(page(s, "books", STORE_ASC, 500, 50), "", "after beyond the end: empty");
	CHECK_STR(page(s, "books", STORE_DESC, 0, 3), "11 10 9", "newest page");
	CHECK_STR(page(s, "books", STORE_DESC, 4, 50), "3 2 1", "before=4: newest first");
	CHECK_STR(page(s, "books", STORE_DESC, 1, 50), "", "before=1: empty");
	CHECK_STR(page(s, "books", STORE_DESC, 1000, 2), "11 10", "before beyond the end");
	CHECK_STR(page(s, "nope", STORE_DESC, 0, 2), "", "unknown room: empty page");

	CHECK(store_message_get(s, "books", 3, &record, err) == 1 && !strcmp(record, "{\"n\":3}"),
	      "message get");
	free(record);
	CHECK(store_message_get(s, "books", 12, &record, err) == 0 && !record, "missing message: 0");
	CHECK(store_message_get(s, "books", 0, &record, err) == 0, "index 0: 0");

	CHECK(store_room_add(s, "uuidroom1", 0, err) == 1, "private room");
	CHECK(store_room_list(s, &rooms, &n, err) == 0 && n == 2 &&
	      !strcmp(rooms[0].name, "books") && rooms[0].last == 11 &&
	      !strcmp(rooms[1].name, "uuidroom1") && !rooms[1].is_public, "room list");
	free(rooms);

	CHECK(store_user_add(s, "uuid1", err) == 1 && store_user_add(s, "uuid1", err) == 0, "user add");
	CHECK(store_user_exists(s, "uuid1", err) == 1 && store_user_exists(s, "uuid9", err) == 0,
	      "user exists");
	CHECK(store_append(s, "uuidroom1", NULL, "{}", 2, &idx, err) == 1, "a message before joining");
	CHECK(store_member_add(s, "uuid1", "uuidroom1", err) == 1, "member add");
	CHECK(store_member_add(s, "uuid1", "uuidroom1", err) == 0, "member add again: 0");
	CHECK(store_cursor_get(s, "uuid1", "uuidroom1", &idx, err) == 1 && idx == 1,
	      "joining starts the cursor at the room's end");
	CHECK(store_member_add(s, "uuid9", "uuidroom1", err) == -1, "unknown user: error");
	CHECK(store_member_add(s, "uuid1", "nope", err) == -1, "unknown room: error");
	CHECK(store_is_member(s, "uuid1", "uuidroom1", err) == 1 &&
	      store_is_member(s, "uuid1", "books", err) == 0, "is member");
	CHECK(store_user_rooms(s, "uuid1", &v, &n, err) == 0 && n == 1 && !strcmp(v[0], "uuidroom1"),
	      "a user's rooms");
	store_strings_free(v, n);
	CHECK(store_room_members(s, "uuidroom1", &v, &n, err) == 0 && n == 1 && !strcmp(v[0], "uuid1"),
	      "a room's members");
	store_strings_free(v, n);

	CHECK(store_cursor_set(s, "uuid1", "uuidroom1", 7, err) == 0 &&
	      store_cursor_get(s, "uuid1", "uuidroom1", &idx, err) == 1 && idx == 7, "cursor set");
	CHECK(store_cursor_set(s, "uuid1", "uuidroom1", 5, err) == 0 &&
	      store_cursor_get(s, "uuid1", "uuidroom1", &idx, err) == 1 && idx == 7,
	      "a cursor never moves backwards");
	{
		struct store_cursor batch[] = { { "uuid1", "uuidroom1", 9 }, { "uuid2", "uuidroom1", 4 },
						{ "uuid1", "uuidroom1", 8 } };
		struct store_cursor bad[] = { { "uuid3", "uuidroom1", 2 }, { "no/name", "r", 1 } };
		uint64_t idx2 = 0;

		CHECK(store_cursor_batch(s, batch, 3, err) == 0 &&
		      store_cursor_get(s, "uuid1", "uuidroom1", &idx, err) == 1 && idx == 9 &&
		      store_cursor_get(s, "uuid2", "uuidroom1", &idx2, err) == 1 && idx2 == 4,
		      "a cursor batch: each set, the same key twice keeps the higher");
		CHECK(store_cursor_batch(s, bad, 2, err) == -1 && strstr(err, "invalid") &&
		      store_cursor_get(s, "uuid3", "uuidroom1", &idx, err) == 0,
		      "a batch with a bad name writes none of it");
		CHECK(store_cursor_batch(s, NULL, 0, err) == 0, "an empty batch: nothing, 0");
	}
	CHECK(store_member_remove(s, "uuid1", "uuidroom1", err) == 1 &&
	      store_is_member(s, "uuid1", "uuidroom1", err) == 0, "member remove");
	CHECK(store_member_remove(s, "uuid1", "uuidroom1", err) == 0, "remove again: 0");
	CHECK(store_room_members(s, "uuidroom1", &v, &n, err) == 0 && n == 0, "both directions removed");
	store_strings_free(v, n);

	/* Presence merges this list with the sorted connection users. */
	for (i = 0; i < 6; i++) {
		static const char *const ids[] = { "b", "ab", "a_", "a-", "a", "A" };

		if (store_user_add(s, ids[i], err) < 0 || store_member_add(s, ids[i], "uuidroom1", err) != 1)
			break;
	}
	CHECK(i == 6, "six members with names that sort apart only by length and punctuation");
	CHECK(store_room_members(s, "uuidroom1", &v, &n, err) == 0 && n == 6 &&
	      !strcmp(v[0], "A") && !strcmp(v[1], "a") && !strcmp(v[2], "a-") &&
	      !strcmp(v[3], "a_") && !strcmp(v[4], "ab") && !strcmp(v[5], "b"),
	      "a room's members come in strcmp order");
	store_strings_free(v, n);

	CHECK(store_conn_add(s, "c1", "uuid1", err) == 0 && store_conn_add(s, "c2", "", err) == 0 &&
	      store_conn_add(s, "c3", "uuid1", err) == 0, "connections");
	CHECK(store_conn_users(s, &v, &n, err) == 0 && n == 3 && !strcmp(v[0], "") &&
	      !strcmp(v[2], "uuid1"), "connection users, sorted");
	store_strings_free(v, n);
	CHECK(store_conn_remove(s, "c3", err) == 0 && store_conn_clear(s, NULL, err) == 0 &&
	      store_conn_users(s, &v, &n, err) == 0 && n == 0, "remove and clear");
	store_strings_free(v, n);
	CHECK(store_conn_add(s, "old-1", "uuid1", err) == 0 && store_conn_add(s, "new-1", "uuid2", err) == 0 &&
	      store_conn_add(s, "new-2", "", err) == 0 && store_conn_add(s, "ne", "uuid3", err) == 0 &&
	      store_conn_clear(s, "new-", err) == 0 &&
	      store_conn_users(s, &v, &n, err) == 0 && n == 2 && !strcmp(v[0], "") &&
	      !strcmp(v[1], "uuid2"), "clear keeps the ids that start with keep, only those");
	store_strings_free(v, n);
	CHECK(store_conn_clear(s, NULL, err) == 0 && store_conn_users(s, &v, &n, err) == 0 && n == 0,
	      "clear with no keep: none");
	store_strings_free(v, n);
	{
		/* a single site: the group's calls are the plain ones; sites down change nothing */
		struct store_conn *sc = NULL;
		uint64_t gen = 1;
		size_t m = 1;

		CHECK(store_conn_claim(s, "k1", "uuid1", 0, err) == 1 &&
		      store_conn_claim(s, "k2", "uuid1", 0, err) == 1 &&
		      store_sites_down_set(s, ",127.0.0.1:1,", err) == 0 &&
		      store_conn_users(s, &v, &n, err) == 0 && n == 2 && !strcmp(v[1], "uuid1"),
		      "single site: claim adds (the relay's index refuses), sites down ignored");
		store_strings_free(v, n);
		CHECK(store_conn_replace(s, "k3", "uuid1", 0, err) == 0 &&
		      store_conn_list(s, &sc, &m, err) == 0 && m == 3 && !sc[2].replaces,
		      "single site: replace is a plain open, unmarked");
		free(sc);
		CHECK(store_conn_gen(s, &gen, err) == 0 && gen == 0 &&
		      store_conn_superseded(s, &sc, &m, err) == 0 && m == 0 && !sc,
		      "single site: no generation, nothing superseded");
		CHECK(store_conn_clear(s, NULL, err) == 0, "clear again");
	}
	CHECK(store_maintain(s, err) == 0, "maintain (failchk, checkpoint)");

	moderation(s);
	big_records(s);
	the_rest(s, dir);
	keyed(s);

	store_close(s);
	s = store_open(dir, err);
	CHECK(s && store_room_get(s, "books", &room, err) == 1 && room.last == 11,
	      "data survives close and reopen");
	store_close(s);
	store_close(NULL);
	if (system("rm -rf /tmp/bookpics-test-store.*") != 0)
		return 1;
	return unit_done();
}
