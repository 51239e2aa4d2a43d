#!/bin/sh
test_description='a hostile relay client: foreign Origin, U+0000 and long room names, floods; public presence'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

RAW=$TOP/tests/tools/ws-raw.mjs

# raw URL ARGS...: tests/tools/ws-raw.mjs (any Origin, floods).
raw() {
	node "$RAW" "$@"
}

ORIGIN_REFUSED='http 403 {"error":"origin_not_allowed","message":"token connections are not allowed from this origin (the site'\''s own, or conf ws_origins)"}'
LONG=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa

test_expect_success 'set up: the chat layout (and the wall, books), a room named with 64 characters' '
	chat_rooms &&
	admin room add $LONG &&
	admin member add uuid1 $LONG &&
	start_bookpics
'

test_expect_success 'Origin: a token connection from a foreign page is refused 403, before the token is read' '
	raw "$WS?token=$(cat t1)" --origin http://evil.example >actual &&
	raw "$WS?token=not-a-token" --origin http://evil.example >>actual &&
	raw "$WS?token=$(cat t1)" --origin null >>actual &&
	printf "%s\n" "$ORIGIN_REFUSED" "$ORIGIN_REFUSED" "$ORIGIN_REFUSED" >expect &&
	test_cmp expect actual &&
	grep -q "handshake refused 403 origin_not_allowed" "$VAR/log/relay.log"
'

test_expect_success 'Origin: the own origin (public_url), no Origin at all, and anonymous from anywhere are admitted' '
	raw "$WS?token=$(cat t1)" --origin http://127.0.0.1:$PORT --timeout 1 >actual &&
	raw "$WS?token=$(cat t2)" --timeout 1 >>actual &&
	raw "$WS" --origin http://evil.example --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":0}" \
		--timeout 1 >>actual &&
	cat >expect <<-\EOF &&
	open
	hello
	fail timeout
	open
	hello
	fail timeout
	open
	hello
	fail timeout
	EOF
	test_cmp expect actual
'

test_expect_success 'Origin: ws_origins admits the origins it lists, and only those' '
	set_conf ws_origins "https://app.example.com,http://localhost:3000" &&
	raw "$WS?token=$(cat t1)" --origin http://localhost:3000 --timeout 1 >actual &&
	raw "$WS?token=$(cat t1)" --origin http://localhost:3001 >>actual &&
	raw "$WS?token=$(cat t1)" --origin http://127.0.0.1:$PORT --timeout 1 >>actual &&
	printf "%s\n" open hello "fail timeout" "$ORIGIN_REFUSED" open hello "fail timeout" >expect &&
	test_cmp expect actual
'

test_expect_success 'U+0000 in a room name: bad_request, nothing stored (priv1\u0000x is not priv1)' '
	ws "$WS?token=$(cat t1)" \
		--send "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom1\\u0000x\",\"chatMessage\":\"cut\"}" \
		--send "{\"action\":\"resume\",\"rooms\":{\"uuidroom1\\u0000x\":0}}" \
		--send "{\"action\":\"subscribe\",\"room\":\"books\\u0000x\"}" --count 4 >actual &&
	cat >expect <<-\EOF &&
	{"type":"hello","connectionId":"ID","userId":"uuid1","rooms":[{"room":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","last":0},{"room":"uuidroom1","last":0},{"room":"uuidroom2","last":0}]}
	{"type":"error","code":"bad_request","message":"a frame may not hold U+0000 (\\u0000)"}
	{"type":"error","code":"bad_request","message":"a frame may not hold U+0000 (\\u0000)"}
	{"type":"error","code":"bad_request","message":"a frame may not hold U+0000 (\\u0000)"}
	EOF
	test_cmp expect actual &&
	test "$(curl -s "$BASE/api/rooms/uuidroom1/messages" -H "Authorization: Bearer $(cat t1)")" = \
		"{\"room\":\"uuidroom1\",\"last\":0,\"messages\":[]}"
'

test_expect_success 'a room name of 65 characters is no room, never its first 64 (HTTP 404, relay not_found)' '
	curl -s -H "Authorization: Bearer $(cat t1)" -w " %{http_code}\n" \
		"$BASE/api/rooms/${LONG}x/messages" >actual &&
	curl -s -H "Authorization: Bearer $(cat t1)" -H "Content-Type: application/json" \
		--data-binary "{\"chatMessage\":\"long\"}" -w " %{http_code}\n" \
		"$BASE/api/rooms/${LONG}x/messages" >>actual &&
	curl -s -H "Authorization: Bearer $(cat t1)" -w " %{http_code}\n" \
		"$BASE/api/rooms/${LONG}x/presence" >>actual &&
	ws "$WS?token=$(cat t1)" --count 3 \
		--send "{\"action\":\"sendMessage\",\"chatroomId\":\"${LONG}x\",\"chatMessage\":\"long\"}" \
		--send "{\"action\":\"subscribe\",\"room\":\"${LONG}x\",\"after\":0}" | sed 1d >>actual &&
	cat >expect <<-\EOF &&
	{"error":"not_found","message":"no such room"} 404
	{"error":"not_found","message":"no such room"} 404
	{"error":"not_found","message":"no such room"} 404
	{"type":"error","code":"not_found","message":"no such room"}
	{"type":"error","code":"not_found","message":"no such room: (invalid name)"}
	EOF
	test_cmp expect actual &&
	test "$(curl -s "$BASE/api/rooms/$LONG/messages" -H "Authorization: Bearer $(cat t1)")" = \
		"{\"room\":\"$LONG\",\"last\":0,\"messages\":[]}"
'

test_expect_success 'a subscribe flood is refused rate_limited, then closed 4429; a polite client on the same relay keeps receiving' '
	ws_bg polite "$WS?token=$(cat t2)" &&
	raw "$WS" --flood "{\"action\":\"subscribe\",\"room\":\"nosuchroom\"}" --seconds 8 >flood &
	flood=$! && bg_pid $flood &&
	sleep 1 &&
	chat_post uuidroom2 t1 "still here" &&
	wait_count polite.out "^message uuidroom2 1 uuid1 still here$" 1 2 &&
	wait $flood &&
	echo "close 4429 rate limited" >expect &&
	tail -n 1 flood >actual &&
	test_cmp expect actual &&
	sed -n "s/^flood sent=[0-9]* errors=[0-9]* codes=//p" flood >actual &&
	echo "not_found,rate_limited" >expect &&
	test_cmp expect actual &&
	grep -q "closed: over its rate limit for 3 s (user -)" "$VAR/log/relay.log" &&
	ws_say polite "{\"action\":\"subscribe\",\"room\":\"nosuchroom\"}" &&
	wait_count polite.out "no such room: nosuchroom" 1 5 &&
	! grep -q rate_limited polite.out &&
	ws_stop polite
'

test_expect_success 'a member posting 100 messages back to back is never limited' '
	ws "$WS?token=$(cat t1)" --repeat 100 \
		--send "{\"action\":\"sendMessage\",\"chatroomId\":\"uuidroom1\",\"chatMessage\":\"burst\"}" \
		--count 201 --timeout 20 >burst.out &&
	test "$(grep -c "^{\"type\":\"ack\"" burst.out)" = 100
'

test_expect_success 'presence of a public room: nobody, or the asker itself, never everyone online' '
	ws_bg u1 "$WS?token=$(cat t1)" &&
	ws_bg u3 "$WS?token=$(cat t3)" &&
	for t in "" t1 t2 t3; do
		curl -s ${t:+-H "Authorization: Bearer $(cat $t)"} "$BASE/api/rooms/books/presence" &&
		echo || return 1
	done >actual &&
	cat >expect <<-\EOF &&
	{"room":"books","users":[]}
	{"room":"books","users":["uuid1"]}
	{"room":"books","users":[]}
	{"room":"books","users":["uuid3"]}
	EOF
	test_cmp expect actual &&
	curl -s -H "Authorization: Bearer $(cat t1)" "$BASE/api/rooms/uuidroom2/presence" >actual &&
	echo >>actual &&
	echo "{\"room\":\"uuidroom2\",\"users\":[\"uuid1\"]}" >expect &&
	test_cmp expect actual
'

kill_bg
stop_bookpics
test_done
