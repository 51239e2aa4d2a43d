#!/bin/sh
test_description='chat over the relay: the Tripsense scenario, who gets what, refusals, tokens'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

# post ROOM TOKEN_FILE TEXT: send over HTTP; prints "STATUS BODY".
post() {
	curl -s -o post.body -w "%{http_code}" -H "Authorization: Bearer $(cat "$2")" \
		-H "Content-Type: application/json" \
		--data-binary "{\"chatMessage\":\"$3\",\"messageType\":\"text message\"}" \
		"$BASE/api/rooms/$1/messages" &&
	echo " $(cat post.body)"
}

# send ROOM TEXT: a sendMessage frame.
send() {
	echo "{\"action\":\"sendMessage\",\"chatroomId\":\"$1\",\"chatMessage\":\"$2\",\"messageType\":\"text message\"}"
}

# last ROOM TOKEN_FILE: the room's last index, read through the API.
last() {
	curl -s -H "Authorization: Bearer $(cat "$2")" "$BASE/api/rooms/$1/messages?limit=1" |
		sed -n 's/.*"last":\([0-9]*\).*/\1/p'
}

test_expect_success 'set up users uuid1, uuid2, uuid3 and private rooms uuidroom1..3' '
	chat_rooms &&
	start_bookpics
'

test_expect_success 'both users connect with tokens: hello lists their rooms' '
	ws_bg u1 "$WS?token=$(cat t1)" &&
	ws_bg u2 "$WS?token=$(cat t2)" &&
	cat >expect <<-\EOF &&
	{"type":"hello","connectionId":"ID","userId":"uuid1","rooms":[{"room":"uuidroom1","last":0},{"room":"uuidroom2","last":0}]}
	{"type":"hello","connectionId":"ID","userId":"uuid2","rooms":[{"room":"uuidroom2","last":0},{"room":"uuidroom3","last":0}]}
	EOF
	cat u1.out u2.out >actual &&
	test_cmp expect actual &&
	ws "$WS" --raw --count 1 >raw &&
	grep -q "^{\"type\":\"hello\",\"connectionId\":\"[0-9a-f]\{16\}-[0-9]\{1,\}\"," raw
'

test_expect_success 'sendMessage over WebSocket: the sender gets an ack for each' '
	ws_say u1 "$(send uuidroom1 "one from uuid1")" &&
	wait_count u1.out "\"type\":\"ack\"" 1 &&
	ws_say u1 "$(send uuidroom2 "two from uuid1")" &&
	wait_count u1.out "\"type\":\"ack\"" 2 &&
	ws_say u2 "$(send uuidroom3 "three from uuid2")" &&
	wait_count u2.out "\"type\":\"ack\"" 1 &&
	ws_say u2 "$(send uuidroom2 "two from uuid2")" &&
	wait_count u2.out "\"type\":\"ack\"" 2 &&
	grep "\"type\":\"ack\"" u1.out u2.out >actual &&
	cat >expect <<-\EOF &&
	u1.out:{"type":"ack","room":"uuidroom1","index":1}
	u1.out:{"type":"ack","room":"uuidroom2","index":1}
	u2.out:{"type":"ack","room":"uuidroom3","index":1}
	u2.out:{"type":"ack","room":"uuidroom2","index":2}
	EOF
	test_cmp expect actual
'

test_expect_success 'sending over HTTP with a Bearer token reaches WebSocket members too' '
	post uuidroom1 t1 "http one" >actual &&
	post uuidroom2 t1 "http two" >>actual &&
	post uuidroom3 t2 "http three" >>actual &&
	cat >expect <<-\EOF &&
	201 {"room":"uuidroom1","index":2}
	201 {"room":"uuidroom2","index":3}
	201 {"room":"uuidroom3","index":2}
	EOF
	test_cmp expect actual
'

test_expect_success 'delivery matrix: room1 only uuid1, room3 only uuid2, room2 both, in index order' '
	wait_count u1.out "^message " 5 &&
	wait_count u2.out "^message " 5 &&
	sleep 0.5 &&
	messages_of u1.out | sort -k1,1 -k2,2n >actual1 &&
	cat >expect1 <<-\EOF &&
	uuidroom1 1 uuid1 one from uuid1
	uuidroom1 2 uuid1 http one
	uuidroom2 1 uuid1 two from uuid1
	uuidroom2 2 uuid2 two from uuid2
	uuidroom2 3 uuid1 http two
	EOF
	test_cmp expect1 actual1 &&
	messages_of u2.out | sort -k1,1 -k2,2n >actual2 &&
	cat >expect2 <<-\EOF &&
	uuidroom2 1 uuid1 two from uuid1
	uuidroom2 2 uuid2 two from uuid2
	uuidroom2 3 uuid1 http two
	uuidroom3 1 uuid2 three from uuid2
	uuidroom3 2 uuid2 http three
	EOF
	test_cmp expect2 actual2 &&
	for f in u1.out u2.out; do
		for r in uuidroom1 uuidroom2 uuidroom3; do
			messages_of $f | grep "^$r " | cut -d" " -f2 >order &&
			sort -n order >sorted && test_cmp sorted order || exit 1
		done
	done
'

test_expect_success 'a non-member is refused with not_member, over WebSocket and HTTP; nothing stored' '
	ws_say u1 "$(send uuidroom3 "intruder")" &&
	wait_count u1.out "not_member" 1 &&
	grep "not_member" u1.out >actual &&
	echo "{\"type\":\"error\",\"code\":\"not_member\",\"message\":\"user '"'"'uuid1'"'"' is not a member of '"'"'uuidroom3'"'"'\"}" >expect &&
	test_cmp expect actual &&
	post uuidroom3 t1 "intruder" | cut -d" " -f1 >status &&
	echo 403 >expect && test_cmp expect status &&
	test "$(last uuidroom3 t2)" = 2
'

test_expect_success 'userId must be the connection user: a mismatch is refused, a match is fine' '
	ws_say u1 "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom1\",\"chatMessage\":\"as uuid2\",\"userId\":\"uuid2\"}" &&
	wait_count u1.out "forbidden" 1 &&
	grep forbidden u1.out >actual &&
	echo "{\"type\":\"error\",\"code\":\"forbidden\",\"message\":\"userId must be the connection'"'"'s user (uuid1)\"}" >expect &&
	test_cmp expect actual &&
	test "$(last uuidroom1 t1)" = 2 &&
	ws_say u1 "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom1\",\"chatMessage\":\"as me\",\"userId\":\"uuid1\",\"messageType\":\"text message\"}" &&
	wait_count u1.out "\"type\":\"ack\"" 3 &&
	test "$(last uuidroom1 t1)" = 3
'

test_expect_success 'malformed sendMessage frames: bad_request or not_found, connection usable' '
	long=$(head -c 4097 /dev/zero | tr "\0" a) &&
	ws "$WS?token=$(cat t3)" \
		--send "{\"action\":\"sendMessage\",\"chatMessage\":\"no room\"}" \
		--send "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom9\",\"chatMessage\":\"x\"}" \
		--count 3 >actual3 &&
	cat >expect3 <<-\EOF &&
	{"type":"hello","connectionId":"ID","userId":"uuid3","rooms":[]}
	{"type":"error","code":"bad_request","message":"sendMessage needs \"chatroomId\": a room name"}
	{"type":"error","code":"not_found","message":"no such room"}
	EOF
	test_cmp expect3 actual3 &&
	n=$(grep -c "^{\"type\":\"error\"" u1.out) &&
	ws_say u1 "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom1\",\"chatMessage\":\"$long\"}" &&
	ws_say u1 "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom1\",\"chatMessage\":7}" &&
	ws_say u1 "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom1\",\"chatMessage\":\"x\",\"messageType\":\"picture\"}" &&
	ws_say u1 "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom1\",\"chatMessage\":\"a\\u0000b\"}" &&
	wait_count u1.out "^\\{\"type\":\"error\"" $((n + 4)) &&
	grep "^{\"type\":\"error\"" u1.out | tail -n 4 >actual &&
	cat >expect <<-\EOF &&
	{"type":"error","code":"bad_request","message":"chatMessage must be at most 4096 bytes of text"}
	{"type":"error","code":"bad_request","message":"chatMessage must be a string"}
	{"type":"error","code":"bad_request","message":"messageType must be \"text message\""}
	{"type":"error","code":"bad_request","message":"chatMessage must be at most 4096 bytes of text"}
	EOF
	test_cmp expect actual &&
	test "$(last uuidroom1 t1)" = 3 &&
	ws_say u1 "$(send uuidroom1 "still here")" &&
	wait_count u1.out "\"type\":\"ack\"" 4
'

test_expect_success 'a tampered token is refused with 401' '
	t=$(cat t1) &&
	case $t in *A) bad=${t%A}B ;; *) bad=${t%?}A ;; esac &&
	ws "$WS?token=$bad" >actual &&
	echo "http 401 {\"error\":\"unauthorized\",\"message\":\"bad signature\"}" >expect &&
	test_cmp expect actual &&
	other=$(echo "$t" | sed "s/^uuid1\./uuid2./") &&
	ws "$WS?token=$other" >actual &&
	test_cmp expect actual
'

test_expect_success 'an expired token is refused with 401' '
	admin token uuid3 --ttl 1 >short &&
	sleep 2 &&
	ws "$WS?token=$(cat short)" >actual &&
	echo "http 401 {\"error\":\"unauthorized\",\"message\":\"token expired\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a well-signed token of an unknown user is refused with 401' '
	secret=$(sed -n "s/^token_secret *= *//p" "$VAR/bookpics.conf") &&
	ghost=$(node -e "
		const c = require(\"crypto\");
		const body = \"ghost.\" + (Math.floor(Date.now() / 1000) + 3600);
		const sig = c.createHmac(\"sha256\", process.argv[1]).update(body).digest(\"base64url\");
		console.log(body + \".\" + sig);
	" "$secret") &&
	ws "$WS?token=$ghost" >actual &&
	echo "http 401 {\"error\":\"unauthorized\",\"message\":\"unknown user\"}" >expect &&
	test_cmp expect actual &&
	ws "$WS?token=" >actual &&
	echo "http 401 {\"error\":\"unauthorized\",\"message\":\"malformed token\"}" >expect &&
	test_cmp expect actual
'

test_expect_success '?userId=uuid1 alone grants nothing: userId null, cannot send or read' '
	ws "$WS?userId=uuid1" \
		--send "$(send uuidroom1 "spoof")" \
		--send "{\"action\":\"resume\",\"rooms\":{\"uuidroom1\":0}}" \
		--count 3 >actual &&
	cat >expect <<-\EOF &&
	{"type":"hello","connectionId":"ID","userId":null,"rooms":[]}
	{"type":"error","code":"unauthorized","message":"connect with a token to send messages"}
	{"type":"error","code":"not_member","message":"room uuidroom1 is private: only its members read it"}
	EOF
	test_cmp expect actual &&
	test "$(last uuidroom1 t1)" = 4
'

test_expect_success 'nothing was delivered twice or to the wrong user' '
	for f in u1.out u2.out; do
		messages_of $f | cut -d" " -f1,2 | sort | uniq -d >dups &&
		test_cmp /dev/null dups || exit 1
	done &&
	! messages_of u1.out | grep -q "^uuidroom3 " &&
	! messages_of u2.out | grep -q "^uuidroom1 " &&
	ws_stop u1 && ws_stop u2
'

kill_bg
test_done
