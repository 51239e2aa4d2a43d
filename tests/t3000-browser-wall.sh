#!/bin/sh
test_description='the picture wall in headless Chromium: history, live pictures, relay restart'
. ./test-lib.sh

if ! test_have_prereq CHROMIUM; then
	skip_all='no Chromium (or playwright-core) to drive'
	test_done
fi

SID=AC0000000000000000000000000000wall
TW=http://127.0.0.1:$AUX_PORT/2010-04-01/Accounts/$SID/Messages

# A picture texted to the number: MessageSid $1, caption $2, a WxH PNG.
picture() {
	u=$(printf '%s' "$TW/$1/Media/png-$3" | sed 's|:|%3A|g; s|/|%2F|g')
	tw_post "MessageSid=$1&From=%2B1415555010$4&Body=$2&NumMedia=1&MediaUrl0=$u&MediaContentType0=image%2Fpng"
}

test_expect_success 'start bookpics and a fake Twilio serving real PNGs' '
	node "$TOP/tests/tools/fake-twilio.mjs" --port "$AUX_PORT" --log "$TRASH/fake.log" \
		--sid "$SID" --token secret123 >"$TRASH/fake.out" 2>&1 &
	echo $! >"$TRASH/fake.driver" &&
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	# these webhooks are texts without pictures: let them on the wall
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	admin twilio-account "$SID" &&
	sed -i "s|^media_hosts *=.*|media_hosts = http://127.0.0.1:$AUX_PORT|" "$VAR/bookpics.conf" &&
	start_bookpics &&
	wait_for "curl -s $BASE/api/health | grep -q \"relay\\\":true\"" &&
	test "$(picture MMw1 First+book 120x80 1)" = 200 &&
	test "$(picture MMw2 Second+book 120x80 2)" = 200 &&
	test "$(tw_post "MessageSid=MMw3&From=%2B14155550103&Body=Just+words+%3Cscript%3Ealert(1)%3C%2Fscript%3E")" = 200
'

test_expect_success 'the wall shows the stored pictures, newest first' '
	driver_start wall "$TOP/tests/browser/wall.mjs" "$BASE" "$TRASH" &&
	driver_wait wall "^ready" &&
	sed -n "/^card/p" "$TRASH/wall.out" >actual &&
	cat >expect <<-\EOF &&
	card 3 Just words <script>alert(1)</script>
	card 2 Second book
	card 1 First book
	EOF
	test_cmp expect actual
'

test_expect_success 'a texted picture appears live: banner, then its pixels, no reload' '
	driver_send wall "conn live" && driver_wait wall "^conn live" &&
	test "$(picture MMw4 Live+book 160x120 4)" = 200 &&
	driver_send wall "expect 4" &&
	driver_wait wall "^img 4 " &&
	grep -q "^live 4 banner$" "$TRASH/wall.out" &&
	grep -q "^img 4 160x120$" "$TRASH/wall.out" &&
	driver_send wall "shot wall-live" && driver_wait wall "^shot "
'

test_expect_success 'the relay is restarted: pictures sent meanwhile appear' '
	relay=$(cat "$VAR/run/relay.pid") &&
	kill -9 "$relay" &&
	driver_send wall "conn reconnecting" && driver_wait wall "^conn reconnecting" &&
	test "$(picture MMw5 While+away 64x64 5)" = 200 &&
	(BOOKPICS_VAR=$VAR setsid "$BIN/bookpics-relay" --port $RELAY_PORT 2>>"$VAR/log/relay.log" &
	 echo $! >"$TRASH/relay2.driver") &&
	driver_send wall "expect 5" &&
	driver_wait wall "^img 5 " &&
	grep -q "^img 5 64x64$" "$TRASH/wall.out" &&
	test "$(picture MMw6 After+restart 64x64 6)" = 200 &&
	driver_send wall "expect 6" && driver_wait wall "^img 6 " &&
	grep -q "^img 6 64x64$" "$TRASH/wall.out"
'

test_expect_success 'every picture exactly once, no JavaScript error' '
	driver_send wall "cards" && driver_wait wall "^ready 6" &&
	sed -n "/^card/p" "$TRASH/wall.out" | tail -n 6 | cut -d" " -f2 >actual &&
	printf "6\n5\n4\n3\n2\n1\n" >expect && test_cmp expect actual &&
	driver_send wall "errors" && driver_wait wall "^errors " &&
	grep -q "^errors 0$" "$TRASH/wall.out"
'

test_expect_success 'on a phone-sized screen too' '
	driver_send wall "viewport 390x844" && driver_wait wall "^viewport" &&
	driver_send wall "shot wall-phone" && driver_wait wall "shot .*wall-phone" &&
	driver_send wall "sockets" && driver_wait wall "^sockets " &&
	sed -n "s/^socket //p" "$TRASH/wall.out" | sort -u >actual &&
	echo "127.0.0.1:$PORT/ws" >expect &&
	test_cmp expect actual &&
	driver_send wall quit
'

test_expect_success 'with <meta name="bookpics-ws"> the page goes straight to the relay' '
	WS_URL=ws://127.0.0.1:$RELAY_PORT/ws &&
	export WS_URL &&
	driver_start direct "$TOP/tests/browser/wall.mjs" "$BASE" "$TRASH" &&
	unset WS_URL &&
	driver_wait direct "^ready 6" &&
	driver_send direct "conn live" && driver_wait direct "^conn live" &&
	test "$(picture MMw7 Straight+there 48x48 7)" = 200 &&
	driver_send direct "expect 7" && driver_wait direct "^img 7 " &&
	grep -q "^img 7 48x48$" "$TRASH/direct.out" &&
	driver_send direct "sockets" && driver_wait direct "^sockets " &&
	sed -n "s/^socket //p" "$TRASH/direct.out" | sort -u >actual &&
	echo "127.0.0.1:$RELAY_PORT/ws" >expect &&
	test_cmp expect actual &&
	driver_send direct "errors" && driver_wait direct "^errors " &&
	grep -q "^errors 0$" "$TRASH/direct.out" &&
	driver_send direct quit
'

test_done
