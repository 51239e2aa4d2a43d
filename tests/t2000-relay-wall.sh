#!/bin/sh
test_description='the relay and the picture wall: 200 clients, catch-up, kill -9, a lost or full FIFO, bad frames'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

# pic N: text picture N to the wall (signed webhook); prints the HTTP status.
pic() {
	tw_post "MessageSid=SMwall$1&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=pic+$1&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FSMwall$1%2FMedia%2FME1"
}

# pics FROM TO: send pictures FROM..TO, each must be accepted.
pics() {
	for _i in $(seq "$1" "$2"); do
		test "$(pic "$_i")" = 200 || return 1
	done
}

test_expect_success 'start: the relay is up' '
	admin init --port $PORT >/dev/null &&
	admin twilio-token secret123 &&
	# one sender posts every picture here, more in an hour than sender_rate allows
	echo "sender_rate = 100000" >>"$VAR/bookpics.conf" &&
	admin room add secretroom &&
	start_bookpics &&
	wait_for "relay_health true" 10 &&
	test -p "$VAR/relay.fifo"
'

test_expect_success 'an anonymous client gets hello with no user and no rooms' '
	ws $WS --count 1 >actual &&
	echo "{\"type\":\"hello\",\"connectionId\":\"ID\",\"userId\":null,\"rooms\":[]}" >expect &&
	test_cmp expect actual
'

test_expect_success '200 clients on /ws each get all 20 pictures exactly once, in order' '
	ws $WS --clients 200 --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":0}" \
		--expect-messages 20 --ready wall.ready --timeout 40 >wall.sum &
	pid=$! && bg_pid $pid &&
	wait_for "test -f wall.ready" 20 &&
	start=$(date +%s%N) &&
	pics 1 20 &&
	wait $pid &&
	echo "# 200 clients x 20 pictures: $(( ($(date +%s%N) - start) / 1000000 )) ms from the first webhook to the last delivery" &&
	echo "clients=200 complete=200 dup=0 gap=0 order=ok" >expect &&
	test_cmp expect wall.sum
'

test_expect_success 'a frame is the public message: picture, masked sender, media URL' '
	ws $WS --raw --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":1}" --count 2 >raw &&
	sed -n 2p raw | sed "s/\"createTime\":\"[^\"]*\"/\"createTime\":\"T\"/" >actual &&
	echo "{\"type\":\"message\",\"room\":\"books\",\"index\":2,\"userId\":\"sms:…0100\",\"messageType\":\"picture\",\"chatMessage\":\"pic 2\",\"createTime\":\"T\",\"media\":[{\"url\":\"/media/books/2/0\",\"contentType\":\"image/jpeg\"}]}" >expect &&
	test_cmp expect actual
'

test_expect_success 'after=5 gets 6..20 from the store, then live ones' '
	ws_bg late $WS --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":5}" &&
	wait_count late.out "^message books" 15 &&
	pics 21 21 &&
	wait_count late.out "^message books" 16 &&
	messages_of late.out | cut -d" " -f2 >actual &&
	seq 6 21 >expect &&
	test_cmp expect actual &&
	ws_stop late
'

test_expect_success 'subscribe without after: only new messages' '
	ws_bg new $WS --send "{\"action\":\"subscribe\",\"room\":\"books\"}" &&
	sleep 0.3 &&
	pics 22 22 &&
	wait_count new.out "^message books" 1 &&
	sleep 0.3 &&
	messages_of new.out >actual &&
	echo "books 22 sms:…0100 pic 22" >expect &&
	test_cmp expect actual &&
	ws_stop new
'

test_expect_success 'kill -9 of the relay while 3 pictures are sent: reconnecting clients get exactly the missing ones' '
	ws $WS --clients 200 --reconnect --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":22}" \
		--expect-messages 3 --ready crash.ready --timeout 40 >crash.sum &
	pid=$! && bg_pid $pid &&
	wait_for "test -f crash.ready" 20 &&
	pics 23 23 &&
	relay_kill9 &&
	pics 24 25 &&
	relay_health false &&
	relay_start &&
	wait $pid &&
	sed "s/ reconnects=[0-9]*//" crash.sum >actual &&
	echo "clients=200 complete=200 dup=0 gap=0 order=ok" >expect &&
	test_cmp expect actual &&
	grep -q "reconnects=[1-9]" crash.sum
'

test_expect_success '/api/health says relay false while it is down, true again after' '
	relay_kill9 &&
	curl -s $BASE/api/health >health &&
	grep -q "\"relay\":false" health &&
	relay_start &&
	curl -s $BASE/api/health >health &&
	grep -q "\"relay\":true" health
'

test_expect_success 'FIFO removed while the relay runs: messages still arrive, a new FIFO appears' '
	ws_bg gone $WS --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":25}" &&
	rm "$VAR/relay.fifo" &&
	pics 26 26 &&
	wait_count gone.out "^message books" 1 5 &&
	wait_for "test -p \"$VAR/relay.fifo\"" 5 &&
	wait_for "relay_health true" 5 &&
	pics 27 27 &&
	wait_count gone.out "^message books" 2 5 &&
	messages_of gone.out | cut -d" " -f2 >actual &&
	printf "26\n27\n" >expect &&
	test_cmp expect actual &&
	ws_stop gone
'

test_expect_success 'FIFO full (notices lost): the 1 s store check delivers anyway' '
	ws_bg full $WS --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":27}" &&
	rp=$(cat "$VAR/run/relay.pid") &&
	kill -STOP $rp &&
	node -e "
		const fs = require(\"fs\");
		const fd = fs.openSync(process.argv[1], fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
		const line = Buffer.from(\"m books 1\n\"); let n = 0;
		for (;;) { try { fs.writeSync(fd, line); n++ } catch (e) { if (e.code === \"EAGAIN\") break; throw e } }
		console.log(\"# fifo full after\", n, \"lines\");
	" "$VAR/relay.fifo" &&
	pics 28 29 &&
	kill -CONT $rp &&
	wait_count full.out "^message books" 2 5 &&
	messages_of full.out | cut -d" " -f2 >actual &&
	printf "28\n29\n" >expect &&
	test_cmp expect actual &&
	ws_stop full
'

test_expect_success 'bad frames get error frames and the connection keeps working' '
	ws $WS --send "not json" \
		--send "[1,2]" \
		--send "{\"action\":\"zap\"}" \
		--send "{\"room\":\"books\"}" \
		--send "{\"action\":\"subscribe\"}" \
		--send "{\"action\":\"subscribe\",\"room\":\"secretroom\"}" \
		--send "{\"action\":\"subscribe\",\"room\":\"nosuchroom\"}" \
		--send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":-1}" \
		--send "{\"action\":\"resume\",\"rooms\":{\"secretroom\":1}}" \
		--send "{\"action\":\"sendMessage\",\"chatroomId\":\"books\",\"chatMessage\":\"hi\"}" \
		--send-size 65536 \
		--send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":28}" \
		--count 13 >actual &&
	cat >expect <<-\EOF &&
	{"type":"hello","connectionId":"ID","userId":null,"rooms":[]}
	{"type":"error","code":"bad_request","message":"invalid JSON: null expected"}
	{"type":"error","code":"bad_request","message":"a frame must be a JSON object with an \"action\""}
	{"type":"error","code":"bad_request","message":"unknown action zap: use subscribe, resume or sendMessage"}
	{"type":"error","code":"bad_request","message":"a frame must be a JSON object with an \"action\""}
	{"type":"error","code":"bad_request","message":"subscribe needs \"room\": a room name"}
	{"type":"error","code":"not_member","message":"room secretroom is private: only its members read it"}
	{"type":"error","code":"not_found","message":"no such room: nosuchroom"}
	{"type":"error","code":"bad_request","message":"\"after\" must be a non-negative integer"}
	{"type":"error","code":"not_member","message":"room secretroom is private: only its members read it"}
	{"type":"error","code":"unauthorized","message":"connect with a token to send messages"}
	{"type":"error","code":"bad_request","message":"unknown action pad: use subscribe, resume or sendMessage"}
	message books 29 sms:…0100 pic 29
	EOF
	test_cmp expect actual
'

test_expect_success 'a frame over 64 KiB: error too_large, then close 1009' '
	ws $WS --send-size 65537 >actual &&
	cat >expect <<-\EOF &&
	{"type":"hello","connectionId":"ID","userId":null,"rooms":[]}
	{"type":"error","code":"too_large","message":"a frame may hold at most 65536 bytes"}
	close 1009 frame too large
	EOF
	test_cmp expect actual
'

test_expect_success 'the 64 KiB limit counts every fragment of a frame' '
	ws $WS --fragment 40000 --send-size 70000 >actual &&
	test_cmp expect actual &&
	ws $WS --fragment 30000 --send-size 65536 --count 2 >actual &&
	tail -n 1 actual >last &&
	echo "{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"unknown action pad: use subscribe, resume or sendMessage\"}" >expect &&
	test_cmp expect last
'

test_expect_success 'plain HTTP to the relay and other paths are answered 404' '
	curl -s -o body -w "%{http_code}\n" http://127.0.0.1:$RELAY_PORT/ws >status &&
	echo 404 >expect && test_cmp expect status &&
	ws ws://127.0.0.1:$RELAY_PORT/other >actual &&
	echo "http 404 {\"error\":\"not_found\",\"message\":\"the WebSocket endpoint is /ws\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'on SIGTERM the relay closes connections with 1001 and stops' '
	stops_with_1001 TERM $WS
'

kill_bg
test_done
