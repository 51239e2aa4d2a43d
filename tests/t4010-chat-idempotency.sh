#!/bin/sh
test_description='client keys: Idempotency-Key on POST, clientMessageId on sendMessage, one namespace per user'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

ADMIN=0123456789abcdef-the-admin

# kpost ROOM TOKEN_FILE KEY TEXT: POST a chat message with Idempotency-Key
# KEY (none when KEY is -); prints "STATUS BODY" and the Idempotent-Replayed
# header when there is one.
kpost() {
	if [ "$3" = - ]; then _h=X-Nothing:; else _h="Idempotency-Key: $3"; fi
	curl -s -o body -D head -w "%{http_code}" -H "Authorization: Bearer $(cat "$2")" \
		-H "Content-Type: application/json" -H "$_h" \
		--data-binary "{\"chatMessage\":\"$4\"}" "$BASE/api/rooms/$1/messages" &&
	printf ' %s\n' "$(cat body)" &&
	tr -d '\r' <head | grep -i "^idempotent-replayed:" ; true
}

# lines ROOM TOKEN_FILE: the room's messages as "INDEX USER TEXT".
lines() {
	curl -s -H "Authorization: Bearer $(cat "$2")" "$BASE/api/rooms/$1/messages?after=0&limit=500" |
		node -e '
			let s = ""; process.stdin.on("data", d => s += d);
			process.stdin.on("end", () => {
				for (const m of JSON.parse(s).messages)
					console.log(m.index, m.userId, m.chatMessage);
			});'
}

# send ROOM TEXT KEY: a sendMessage frame with clientMessageId KEY.
send() {
	echo "{\"action\":\"sendMessage\",\"chatroomId\":\"$1\",\"chatMessage\":\"$2\",\"clientMessageId\":\"$3\"}"
}

test_expect_success 'set up the Tripsense users and rooms; the system runs' '
	chat_rooms &&
	sed -i "/^admin_token *=/d" "$VAR/bookpics.conf" &&
	echo "admin_token = $ADMIN" >>"$VAR/bookpics.conf" &&
	start_bookpics &&
	wait_for "relay_health true" 10
'

test_expect_success 'POST with an Idempotency-Key, then its retry: the same 201, replayed, stored once' '
	kpost uuidroom1 t1 key-1 "first try" >actual &&
	kpost uuidroom1 t1 key-1 "first try" >>actual &&
	kpost uuidroom1 t1 key-1 "first try" >>actual &&
	cat >expect <<-\EOF &&
	201 {"room":"uuidroom1","index":1}
	201 {"room":"uuidroom1","index":1}
	Idempotent-Replayed: true
	201 {"room":"uuidroom1","index":1}
	Idempotent-Replayed: true
	EOF
	test_cmp expect actual &&
	lines uuidroom1 t1 >actual &&
	echo "1 uuid1 first try" >expect &&
	test_cmp expect actual
'

test_expect_success 'the key again with other text or in another room: 422, nothing stored' '
	kpost uuidroom1 t1 key-1 "other text" >actual &&
	kpost uuidroom2 t1 key-1 "first try" >>actual &&
	msg="{\"error\":\"idempotency_key_reused\",\"message\":\"the key '\''key-1'\'' was used for another message\"}" &&
	printf "422 %s\n" "$msg" "$msg" >expect &&
	test_cmp expect actual &&
	lines uuidroom1 t1 >actual &&
	echo "1 uuid1 first try" >expect &&
	test_cmp expect actual &&
	lines uuidroom2 t1 >actual &&
	test_cmp /dev/null actual
'

test_expect_success 'a malformed Idempotency-Key: 400 bad_request, nothing stored' '
	kpost uuidroom1 t1 "a b" "bad key" >actual &&
	kpost uuidroom1 t1 "a/b" "bad key" >>actual &&
	kpost uuidroom1 t1 "$(printf "%065d" 0)" "bad key" >>actual &&
	msg="{\"error\":\"bad_request\",\"message\":\"Idempotency-Key must be 1 to 64 of A-Z a-z 0-9 . _ : -\"}" &&
	printf "400 %s\n" "$msg" "$msg" "$msg" >expect &&
	test_cmp expect actual &&
	lines uuidroom1 t1 >actual &&
	echo "1 uuid1 first try" >expect &&
	test_cmp expect actual &&
	kpost uuidroom1 t1 "$(printf "%064d" 0)" "sixty-four" >actual &&
	kpost uuidroom1 t1 "A.z_9:-" "punctuation" >>actual &&
	cat >expect <<-\EOF &&
	201 {"room":"uuidroom1","index":2}
	201 {"room":"uuidroom1","index":3}
	EOF
	test_cmp expect actual
'

test_expect_success 'a non-member learns nothing of the key: 403 first' '
	kpost uuidroom1 t2 "a b" "not mine" >actual &&
	echo "403 {\"error\":\"not_member\",\"message\":\"user '\''uuid2'\'' is not a member of '\''uuidroom1'\''\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'another user may use the same key: its own message' '
	kpost uuidroom2 t2 key-1 "first try" >actual &&
	kpost uuidroom2 t2 key-1 "first try" >>actual &&
	cat >expect <<-\EOF &&
	201 {"room":"uuidroom2","index":1}
	201 {"room":"uuidroom2","index":1}
	Idempotent-Replayed: true
	EOF
	test_cmp expect actual
'

test_expect_success 'sendMessage with a clientMessageId, sent twice: the same ack, one broadcast' '
	ws_bg u1 "$WS?token=$(cat t1)" &&
	ws_bg u2 "$WS?token=$(cat t2)" &&
	ws_say u1 "$(send uuidroom2 "over the socket" ws-1)" &&
	wait_count u1.out "\"type\":\"ack\"" 1 &&
	ws_say u1 "$(send uuidroom2 "over the socket" ws-1)" &&
	wait_count u1.out "\"type\":\"ack\"" 2 &&
	wait_count u2.out "^message uuidroom2 2 " 1 &&
	ws_say u1 "$(send uuidroom2 "a marker" ws-marker)" &&
	wait_count u2.out "^message uuidroom2 3 " 1 &&
	grep "\"type\":\"ack\"" u1.out >actual &&
	cat >expect <<-\EOF &&
	{"type":"ack","room":"uuidroom2","index":2,"clientMessageId":"ws-1"}
	{"type":"ack","room":"uuidroom2","index":2,"clientMessageId":"ws-1"}
	{"type":"ack","room":"uuidroom2","index":3,"clientMessageId":"ws-marker"}
	EOF
	test_cmp expect actual &&
	messages_of u2.out >actual &&
	cat >expect <<-\EOF &&
	uuidroom2 1 uuid2 first try
	uuidroom2 2 uuid1 over the socket
	uuidroom2 3 uuid1 a marker
	EOF
	test_cmp expect actual
'

test_expect_success 'sendMessage: a reused clientMessageId and a malformed one are error frames' '
	ws_say u1 "$(send uuidroom2 "something else" ws-1)" &&
	ws_say u1 "$(send uuidroom2 "bad" "a b")" &&
	ws_say u1 "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom2\",\"chatMessage\":\"bad\",\"clientMessageId\":7}" &&
	wait_count u1.out "\"type\":\"error\"" 3 &&
	grep "\"type\":\"error\"" u1.out >actual &&
	cat >expect <<-\EOF &&
	{"type":"error","code":"idempotency_key_reused","message":"the key '\''ws-1'\'' was used for another message"}
	{"type":"error","code":"bad_request","message":"clientMessageId must be 1 to 64 of A-Z a-z 0-9 . _ : -"}
	{"type":"error","code":"bad_request","message":"clientMessageId must be 1 to 64 of A-Z a-z 0-9 . _ : -"}
	EOF
	test_cmp expect actual &&
	lines uuidroom2 t2 >actual &&
	cat >expect <<-\EOF &&
	1 uuid2 first try
	2 uuid1 over the socket
	3 uuid1 a marker
	EOF
	test_cmp expect actual
'

test_expect_success 'a send over WebSocket retried over HTTP: one message, the first index' '
	ws_say u1 "$(send uuidroom2 "both ways" both-1)" &&
	wait_count u1.out "\"clientMessageId\":\"both-1\"" 1 &&
	kpost uuidroom2 t1 both-1 "both ways" >actual &&
	cat >expect <<-\EOF &&
	201 {"room":"uuidroom2","index":4}
	Idempotent-Replayed: true
	EOF
	test_cmp expect actual &&
	kpost uuidroom2 t1 http-1 "the other way" >actual &&
	ws_say u1 "$(send uuidroom2 "the other way" http-1)" &&
	wait_count u1.out "\"clientMessageId\":\"http-1\"" 1 &&
	grep "\"clientMessageId\":\"http-1\"" u1.out >>actual &&
	cat >expect <<-\EOF &&
	201 {"room":"uuidroom2","index":5}
	{"type":"ack","room":"uuidroom2","index":5,"clientMessageId":"http-1"}
	EOF
	test_cmp expect actual &&
	ws_say u1 "$(send uuidroom2 "a second marker" ws-marker-2)" &&
	wait_count u2.out "^message uuidroom2 6 " 1 &&
	messages_of u2.out >actual &&
	cat >expect <<-\EOF &&
	uuidroom2 1 uuid2 first try
	uuidroom2 2 uuid1 over the socket
	uuidroom2 3 uuid1 a marker
	uuidroom2 4 uuid1 both ways
	uuidroom2 5 uuid1 the other way
	uuidroom2 6 uuid1 a second marker
	EOF
	test_cmp expect actual &&
	lines uuidroom2 t2 | cut -d" " -f1 | paste -sd" " >actual &&
	echo "1 2 3 4 5 6" >expect &&
	test_cmp expect actual
'

test_expect_success 'the server API: the key is userId'\''s, the same as the member'\''s own' '
	: >actual &&
	for i in 1 2; do
		curl -s -D head -w " %{http_code}\n" -H "Authorization: Bearer $ADMIN" \
			-H "Idempotency-Key: adm-1" -H "Content-Type: application/json" \
			--data-binary "{\"userId\":\"uuid1\",\"chatMessage\":\"from the backend\"}" \
			"$BASE/api/admin/rooms/uuidroom1/messages" >>actual &&
		tr -d "\r" <head | grep -i "^idempotent-replayed:" >>actual; true
	done &&
	kpost uuidroom1 t1 adm-1 "from the backend" >>actual &&
	kpost uuidroom1 t1 adm-1 "not what the backend said" >>actual &&
	cat >expect <<-\EOF &&
	{"room":"uuidroom1","index":4} 201
	{"room":"uuidroom1","index":4} 201
	Idempotent-Replayed: true
	201 {"room":"uuidroom1","index":4}
	Idempotent-Replayed: true
	422 {"error":"idempotency_key_reused","message":"the key '\''adm-1'\'' was used for another message"}
	EOF
	test_cmp expect actual &&
	curl -s -w " %{http_code}\n" -H "Authorization: Bearer $ADMIN" -H "Idempotency-Key: a b" \
		--data-binary "{\"userId\":\"uuid1\",\"chatMessage\":\"x\"}" \
		"$BASE/api/admin/rooms/uuidroom1/messages" >actual &&
	echo "{\"error\":\"bad_request\",\"message\":\"Idempotency-Key must be 1 to 64 of A-Z a-z 0-9 . _ : -\"} 400" >expect &&
	test_cmp expect actual &&
	lines uuidroom1 t1 | cut -d" " -f1 | paste -sd" " >actual &&
	echo "1 2 3 4" >expect &&
	test_cmp expect actual
'

test_expect_success 'posts without a key are not deduplicated' '
	kpost uuidroom3 t2 - "same" >actual &&
	kpost uuidroom3 t2 - "same" >>actual &&
	cat >expect <<-\EOF &&
	201 {"room":"uuidroom3","index":1}
	201 {"room":"uuidroom3","index":2}
	EOF
	test_cmp expect actual
'

kill_bg
test_done
