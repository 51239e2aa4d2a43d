#!/bin/sh
test_description='duplicate connections (refuse, replace, allow), presence, membership changes while connected'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

# presence ROOM TOKEN_FILE: the users connected now, as the API says.
presence() {
	curl -s -H "Authorization: Bearer $(cat "$2")" "$BASE/api/rooms/$1/presence"
}

# presence_is ROOM TOKEN_FILE USERS: e.g. presence_is uuidroom2 t2 '"uuid1","uuid2"'
presence_is() {
	test "$(presence "$1" "$2")" = "{\"room\":\"$1\",\"users\":[$3]}"
}

# duplicates MODE: set duplicate_connections as an admin would, by editing the file.
duplicates() {
	sed -i "s/^duplicate_connections *=.*/duplicate_connections = $1/" "$VAR/bookpics.conf" &&
	grep -q "^duplicate_connections = $1$" "$VAR/bookpics.conf"
}

test_expect_success 'set up the Tripsense users and rooms' '
	chat_rooms &&
	start_bookpics &&
	grep -q "^duplicate_connections = refuse$" "$VAR/bookpics.conf"
'

test_expect_success 'refuse (default): a second connection is answered 409, the first keeps working' '
	ws_bg a1 "$WS?token=$(cat t1)" &&
	ws "$WS?token=$(cat t1)" >actual &&
	echo "http 409 {\"error\":\"duplicate_connection\",\"message\":\"user uuid1 is already connected\"}" >expect &&
	test_cmp expect actual &&
	chat_post uuidroom1 t1 "still one" &&
	wait_count a1.out "^message uuidroom1 1 " 1 &&
	ws_bg a2 "$WS?token=$(cat t2)" &&
	head -n 1 a2.out | grep -q "\"userId\":\"uuid2\""
'

test_expect_success 'presence right after connecting: every member connected' '
	presence_is uuidroom2 t2 "\"uuid1\",\"uuid2\"" &&
	presence_is uuidroom1 t1 "\"uuid1\"" &&
	presence_is uuidroom3 t2 "\"uuid2\"" &&
	ws_bg anon "$WS" &&
	presence_is uuidroom2 t1 "\"uuid1\",\"uuid2\"" &&
	ws_stop anon
'

test_expect_success 'presence right after a disconnect' '
	ws_stop a1 &&
	wait_for "presence_is uuidroom2 t2 \"\\\"uuid2\\\"\"" 5 &&
	presence_is uuidroom1 t1 "" &&
	ws_bg a1b "$WS?token=$(cat t1)" &&
	presence_is uuidroom1 t1 "\"uuid1\"" &&
	ws_stop a1b
'

test_expect_success 'replace: the new connection is accepted, the old one closed with 4000' '
	duplicates replace &&
	ws_bg b1 "$WS?token=$(cat t1)" &&
	chat_post uuidroom1 t1 "before replace" &&
	wait_count b1.out "^message uuidroom1 2 " 1 &&
	ws_bg b2 "$WS?token=$(cat t1)" &&
	wait_for "grep -q ^close b1.out" 5 &&
	tail -n 1 b1.out >actual &&
	echo "close 4000 replaced by a new connection" >expect &&
	test_cmp expect actual &&
	head -n 1 b2.out >actual &&
	echo "{\"type\":\"hello\",\"connectionId\":\"ID\",\"userId\":\"uuid1\",\"rooms\":[{\"room\":\"uuidroom1\",\"last\":2},{\"room\":\"uuidroom2\",\"last\":0}]}" >expect &&
	test_cmp expect actual &&
	chat_post uuidroom1 t1 "after replace" &&
	wait_count b2.out "^message uuidroom1 3 " 1 &&
	sleep 0.3 &&
	messages_of b2.out >actual &&
	echo "uuidroom1 3 uuid1 after replace" >expect &&
	test_cmp expect actual &&
	presence_is uuidroom1 t1 "\"uuid1\""
'

test_expect_success 'allow: both connections live, both get every message' '
	duplicates allow &&
	ws_bg c2 "$WS?token=$(cat t1)" &&
	head -n 1 c2.out | grep -q "\"userId\":\"uuid1\"" &&
	chat_post uuidroom1 t1 "to both" &&
	wait_count b2.out "^message uuidroom1 4 " 1 &&
	wait_count c2.out "^message uuidroom1 4 " 1 &&
	! grep -q "^close" b2.out &&
	presence_is uuidroom1 t1 "\"uuid1\"" &&
	ws_stop c2 &&
	presence_is uuidroom1 t1 "\"uuid1\""
'

test_expect_success 'back to refuse: the conf is re-read on each new connection' '
	duplicates refuse &&
	ws "$WS?token=$(cat t1)" >actual &&
	echo "http 409 {\"error\":\"duplicate_connection\",\"message\":\"user uuid1 is already connected\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'member add while connected: the new room is followed without reconnecting' '
	admin member add uuid1 uuidroom3 &&
	chat_post uuidroom3 t2 "welcome uuid1" &&
	wait_count b2.out "^message uuidroom3 1 " 1 &&
	ws_say b2 "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom3\",\"chatMessage\":\"hello room3\"}" &&
	wait_count b2.out "\"type\":\"ack\",\"room\":\"uuidroom3\"" 1 &&
	wait_count a2.out "^message uuidroom3 2 uuid1 hello room3" 1 &&
	presence_is uuidroom3 t2 "\"uuid1\",\"uuid2\""
'

test_expect_success 'member remove while connected: the room is dropped at once' '
	admin member remove uuid1 uuidroom3 &&
	chat_post uuidroom3 t2 "uuid1 is gone" &&
	chat_post uuidroom1 t1 "marker" &&
	wait_count b2.out "^message uuidroom1 5 " 1 &&
	wait_count a2.out "^message uuidroom3 3 " 1 &&
	sleep 0.3 &&
	! grep -q "^message uuidroom3 3 " b2.out &&
	ws_say b2 "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom3\",\"chatMessage\":\"let me in\"}" &&
	wait_count b2.out "not_member" 1 &&
	presence_is uuidroom3 t2 "\"uuid2\""
'

test_expect_success 'relay restart (kill -9): presence is empty until clients reconnect' '
	relay_kill9 &&
	wait_for "grep -q ^close b2.out" 5 &&
	relay_start &&
	presence_is uuidroom2 t2 "" &&
	ws_bg d2 "$WS?token=$(cat t2)" &&
	presence_is uuidroom2 t2 "\"uuid2\"" &&
	ws_bg d1 "$WS?token=$(cat t1)" &&
	presence_is uuidroom2 t2 "\"uuid1\",\"uuid2\"" &&
	ws "$WS?token=$(cat t1)" >actual &&
	echo "http 409 {\"error\":\"duplicate_connection\",\"message\":\"user uuid1 is already connected\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'after the restart each user gets what was missed, once' '
	chat_post uuidroom1 t1 "after restart" &&
	wait_count d1.out "^message uuidroom1 6 " 1 &&
	sleep 0.3 &&
	messages_of d1.out | cut -d" " -f1,2 | sort | uniq -d >dups &&
	test_cmp /dev/null dups &&
	ws_stop d1 && ws_stop d2 &&
	wait_for "presence_is uuidroom2 t2 \"\"" 5
'

kill_bg
test_done
