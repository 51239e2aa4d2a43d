/* test-store.c - the Berkeley DB store: rooms, gapless append, sids, pages, members, cursors. */
#include <stdlib.h>
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
	CHECK(store_conn_remove(s, "c3", err) == 0 && store_conn_clear(s, err) == 0 &&
	      store_conn_users(s, &v, &n, err) == 0 && n == 0, "remove and clear");
	store_strings_free(v, n);
	CHECK(store_maintain(s, err) == 0, "maintain (failchk, checkpoint)");

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
