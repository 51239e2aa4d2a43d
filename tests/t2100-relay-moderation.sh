#!/bin/sh
test_description='the relay and moderation: hidden/shown live and on catch-up, token revocation (4403), connect/disconnect lines, delivery metrics'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

ADMIN=0123456789abcdef-the-backend
HIDDEN3='{"type":"hidden","room":"books","index":3}'
HIDDEN4='{"type":"hidden","room":"books","index":4}'
SUB0='{"action":"subscribe","room":"books","after":0}'

# text N: text N to the wall (wall_text = on); prints the HTTP status.
text() {
	tw_post "MessageSid=SMmod$1&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=text+$1"
}

SHOWN='{"type":"shown",'

# count_frame FRAME: lines of wall.out (any client) that are exactly FRAME.
count_frame() {
	sed 's/^[0-9]* //' wall.out | grep -c -x -F -- "$1"
}

# count_grep TEXT: lines of wall.out holding TEXT.
count_grep() {
	grep -c -F -- "$1" wall.out
}

# each_client_once FRAME: each of the 50 clients has exactly one line FRAME.
each_client_once() {
	awk -v f="$1" '{ id = $1; sub(/^[0-9]+ /, ""); if ($0 == f) c[id]++ }
		END { for (k in c) { if (c[k] == 1) n++; else bad = 1 }; exit !(n == 50 && !bad) }' wall.out
}

# mask_time: createTime values as "T".
mask_time() {
	sed 's/"createTime":"[^"]*"/"createTime":"T"/'
}

test_expect_success 'start: books takes texts, wall1 and wall2 are users' '
	admin init --port $PORT >/dev/null &&
	admin twilio-token secret123 &&
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	echo "admin_token = $ADMIN" >>"$VAR/bookpics.conf" &&
	admin user add wall1 && admin room add club && admin member add wall1 club &&
	admin user add wall2 &&
	start_bookpics &&
	wait_for "relay_health true" 10
'

test_expect_success '50 clients following books get texts 1..5' '
	node "$TEST_DIR/t2100-relay-moderation.mjs" "$WS" --clients 50 --send "$SUB0" \
		--out wall.out --ready wall.ready &
	bg_pid $! &&
	wait_for "test -f wall.ready" 20 &&
	for i in 1 2 3 4 5; do test "$(text $i)" = 200 || return 1; done &&
	wait_for "test \$(grep -c \" message books [1-5] \" wall.out) -eq 250" 15 &&
	each_client_once "message books 3 sms:…0100 text 3"
'

test_expect_success 'message hide: every client gets hidden for index 3, once' '
	admin message hide books 3 &&
	wait_for "test \$(count_frame \"\$HIDDEN3\") -eq 50" 10 &&
	sleep 1 &&
	each_client_once "$HIDDEN3" &&
	test "$(count_grep " {")" = 50
'

test_expect_success 'message show: every client gets shown with the whole message' '
	admin message show books 3 &&
	wait_for "test \$(count_grep \"\$SHOWN\") -eq 50" 10 &&
	grep "^0 {\"type\":\"shown\"" wall.out | cut -d" " -f2- | mask_time >actual &&
	echo "{\"type\":\"shown\",\"room\":\"books\",\"index\":3,\"userId\":\"sms:…0100\",\"messageType\":\"text message\",\"chatMessage\":\"text 3\",\"createTime\":\"T\",\"media\":[]}" >expect &&
	test_cmp expect actual &&
	grep "^[0-9]* {\"type\":\"shown\"" wall.out | cut -d" " -f2- | sort | uniq -c >counts &&
	test_line_count = 1 counts
'

test_expect_success 'hidden again: clients get it; a text after it arrives as usual' '
	admin message hide books 3 &&
	wait_for "test \$(count_frame \"\$HIDDEN3\") -eq 100" 10 &&
	test "$(text 6)" = 200 &&
	wait_for "test \$(grep -c \" message books 6 \" wall.out) -eq 50" 10 &&
	# per client: hidden, shown, hidden, then message 6, and nothing else since 5
	sed -n "s/^7 //p" wall.out | sed -n "/^message books 5 /,\$p" | mask_time |
		sed "s/\"chatMessage\":\"text 3\".*/.../" >actual &&
	cat >expect <<-EOF &&
	message books 5 sms:…0100 text 5
	$HIDDEN3
	{"type":"shown","room":"books","index":3,"userId":"sms:…0100","messageType":"text message",...
	$HIDDEN3
	message books 6 sms:…0100 text 6
	EOF
	test_cmp expect actual
'

test_expect_success 'subscribe after=5: the hidden frame for 3, never its content' '
	ws $WS --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":5}" --count 3 >actual &&
	cat >expect <<-EOF &&
	{"type":"hello","connectionId":"ID","userId":null,"rooms":[]}
	$HIDDEN3
	message books 6 sms:…0100 text 6
	EOF
	test_cmp expect actual
'

test_expect_success 'subscribe after=2: index 3 comes as its tombstone' '
	ws $WS --raw --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":2}" --count 5 >raw &&
	sed -n "2,3p" raw | mask_time >actual &&
	cat >expect <<-\EOF &&
	{"type":"message","room":"books","index":3,"createTime":"T","hidden":true}
	{"type":"message","room":"books","index":4,"userId":"sms:…0100","messageType":"text message","chatMessage":"text 4","createTime":"T","media":[]}
	EOF
	test_cmp expect actual &&
	! grep -q "text 3" raw
'

test_expect_success 'resume of a public room replays the hidden state too' '
	ws $WS --send "{\"action\":\"resume\",\"rooms\":{\"books\":4}}" --count 4 >actual &&
	cat >expect <<-EOF &&
	{"type":"hello","connectionId":"ID","userId":null,"rooms":[]}
	$HIDDEN3
	message books 5 sms:…0100 text 5
	message books 6 sms:…0100 text 6
	EOF
	test_cmp expect actual
'

test_expect_success 'paging the API shows the tombstone' '
	{ curl -s "$BASE/api/rooms/books/messages?after=2&limit=1" && echo; } | mask_time >actual &&
	echo "{\"room\":\"books\",\"last\":6,\"messages\":[{\"room\":\"books\",\"index\":3,\"createTime\":\"T\",\"hidden\":true}]}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a user offline during a hide learns it on reconnect (stored cursor)' '
	admin token wall1 >wall1.token &&
	for i in 1 2 3; do chat_post club wall1.token "club $i" || return 1; done &&
	ws "$WS?token=$(cat wall1.token)" --expect-messages 3 >first &&
	messages_of first >actual &&
	printf "club %s wall1 club %s\n" 1 1 2 2 3 3 >expect && test_cmp expect actual &&
	wait_for "! admin connections | grep -q wall1" 5 &&
	admin message hide club 2 && admin message hide books 4 &&
	ws "$WS?token=$(cat wall1.token)" --count 2 >second &&
	cat >expect <<-\EOF &&
	{"type":"hello","connectionId":"ID","userId":"wall1","rooms":[{"room":"club","last":3}]}
	{"type":"hidden","room":"club","index":2}
	EOF
	test_cmp expect second &&
	# and nothing more: it has the messages themselves
	ws "$WS?token=$(cat wall1.token)" --timeout 2 >third &&
	test_cmp expect third
'

test_expect_success 'the live clients got hidden for 4 as well' '
	wait_for "test \$(count_frame \"\$HIDDEN4\") -eq 50" 10
'

test_expect_success 'token revoke closes a live connection with 4403; reconnecting is refused' '
	ws_bg live "$WS?token=$(cat wall1.token)" &&
	admin token revoke wall1 &&
	wait_for "grep -q ^close live.out" 5 &&
	tail -n 1 live.out >actual &&
	echo "close 4403 token revoked" >expect &&
	test_cmp expect actual &&
	ws "$WS?token=$(cat wall1.token)" >again &&
	echo "http 401 {\"error\":\"unauthorized\",\"message\":\"token revoked\"}" >expect &&
	test_cmp expect again
'

test_expect_success 'POST /api/admin/users/{id}/revoke closes live connections too' '
	admin token wall2 >wall2.token &&
	ws_bg live2 "$WS?token=$(cat wall2.token)" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X POST --data-binary "" \
		-H "Authorization: Bearer $ADMIN" "$BASE/api/admin/users/wall2/revoke")" = 204 &&
	wait_for "grep -q ^close live2.out" 5 &&
	tail -n 1 live2.out >actual &&
	echo "close 4403 token revoked" >expect &&
	test_cmp expect actual
'

test_expect_success 'user remove closes its live connections with 4403; its token then fails' '
	admin user add wall3 && admin room add club3 && admin member add wall3 club3 &&
	admin token wall3 >wall3.token &&
	ws_bg live3 "$WS?token=$(cat wall3.token)" &&
	admin user remove wall3 &&
	wait_for "grep -q ^close live3.out" 5 &&
	tail -n 1 live3.out >actual &&
	echo "close 4403 token revoked" >expect &&
	test_cmp expect actual &&
	ws "$WS?token=$(cat wall3.token)" >again &&
	echo "http 401 {\"error\":\"unauthorized\",\"message\":\"unknown user\"}" >expect &&
	test_cmp expect again
'

test_expect_success 'relay.log: connect and disconnect lines in the one format, no token' '
	ts="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z" &&
	conn="conn=[0-9a-f]{16}-[0-9]+" &&
	grep -E " event=(connect|disconnect) " "$VAR/log/relay.log" >lines &&
	! grep -v -E "^$ts level=info prog=relay event=(connect $conn user=[a-z0-9-]+|disconnect $conn user=[a-z0-9-]+ code=([0-9]+|-) seconds=[0-9]+)\$" lines &&
	test $(grep -c -E "event=connect $conn user=-\$" lines) -ge 50 &&
	grep -E "event=disconnect $conn user=wall1 code=4403 seconds=[0-9]+\$" lines &&
	grep -E "event=disconnect $conn user=wall2 code=4403 seconds=[0-9]+\$" lines &&
	grep -E "event=disconnect $conn user=wall1 code=- seconds=[0-9]+\$" lines &&
	! grep -q -F "$(cat wall1.token)" "$VAR/log/relay.log" &&
	! grep -q -F "$(cat wall2.token)" "$VAR/log/relay.log"
'

test_expect_success 'metrics: delivered counts every message frame written; backlog 0' '
	curl -s "$BASE/api/metrics" >metrics &&
	delivered=$(sed -n "s/^bookpics_relay_delivered_total //p" metrics) &&
	# 50 clients x 6, then the single clients: 1 + 4 + 2, and wall1: 3
	test "$delivered" = 310 &&
	grep -qx "bookpics_relay_backlog 0" metrics
'

kill_bg
test_done
