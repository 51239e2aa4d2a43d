#!/bin/sh
test_description='hostile input: poisoned fields refused at ingest, bodies bounded at the server, POST /ws refused unread, no token in any log, $VAR private'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

MEDIA=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FSM1%2FMedia%2FME

test_expect_success 'start' '
	start_bookpics &&
	admin twilio-token secret123 &&
	# the webhooks here are texts without pictures too: let them on the wall
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	admin user add u1 && admin room add chat1 && admin member add u1 chat1
'

test_expect_success 'a MediaUrl that is not UTF-8 (correctly signed) is dropped; the room keeps flowing' '
	test "$(tw_post "MessageSid=SMP1&From=%2B15550000001&Body=poison&NumMedia=2&MediaUrl0=${MEDIA}1%FF&MediaContentType0=image%2Fjpeg&MediaUrl1=${MEDIA}2&MediaContentType1=image%2Fpng")" = 200 &&
	test "$(tw_post "MessageSid=SMP2&From=%2B15550000001&Body=after&NumMedia=0")" = 200 &&
	room_lines books >actual &&
	cat >expect <<-\EOF &&
	1 sms:…0001 picture poison
	2 sms:…0001 text message after
	EOF
	test_cmp expect actual &&
	curl -s "$BASE/api/rooms/books/messages?after=0" >page &&
	grep -q "\"media\":\[{\"url\":\"/media/books/1/0\",\"contentType\":\"image/png\"}\]" page
'

test_expect_success 'a MediaUrl with a space, a quote or a bare % is never stored' '
	test "$(tw_post "MessageSid=SMP3&From=%2B15550000001&Body=odd&NumMedia=3&MediaUrl0=${MEDIA}1%20x&MediaUrl1=${MEDIA}1%22&MediaUrl2=${MEDIA}1%25zz")" = 200 &&
	room_lines books >actual &&
	tail -n 1 actual >last &&
	echo "3 sms:…0001 text message odd" >expect &&
	test_cmp expect last
'

test_expect_success 'a Body over 1600 characters: 400, nothing stored; 1600 multi-byte characters are taken' '
	long=$(head -c 1601 /dev/zero | tr "\0" a) &&
	test "$(tw_post "MessageSid=SMP4&From=%2B15550000001&Body=$long")" = 400 &&
	grep -q "\"error\":\"bad_request\"" response &&
	grep -q "over 1600 characters" response &&
	room_lines books >actual && test_line_count = 3 actual &&
	euro=$(i=0; while [ $i -lt 1600 ]; do printf "%%E2%%82%%AC"; i=$((i + 1)); done) &&
	test "$(tw_post "MessageSid=SMP5&From=%2B15550000001&Body=$euro")" = 200 &&
	room_lines books >actual && test_line_count = 4 actual
'

test_expect_success 'POST /ws with a large body: refused at once, nothing spooled' '
	head -c 20000000 /dev/zero >big &&
	status=$(curl -s -o /dev/null -w "%{http_code}" --max-time 10 \
		--data-binary @big "$BASE/ws") &&
	case $status in 403|413) ;; *) false ;; esac &&
	find "$VAR/tmp" -type f >spooled &&
	test_line_count = 0 spooled
'

test_expect_success 'a body over the server limit on /api/ is refused by lighttpd, under it by the program (JSON 413)' '
	token=$(admin token u1) &&
	head -c 20000 /dev/zero | tr "\0" a >mid &&
	status=$(curl -s -o response -w "%{http_code}" -H "Authorization: Bearer $token" \
		-H "Content-Type: application/json" --data-binary @mid "$BASE/api/rooms/chat1/messages") &&
	test "$status" = 413 && grep -q "\"error\":\"too_large\"" response &&
	head -c 40000 /dev/zero | tr "\0" a >over &&
	status=$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $token" \
		--data-binary @over "$BASE/api/rooms/chat1/messages") &&
	test "$status" = 413
'

test_expect_success 'relay down: a token connection is refused and the token is in no log' '
	token=$(admin token u1) &&
	relay_kill9 &&
	{ node "$TOP/tests/tools/ws-client.mjs" "ws://127.0.0.1:$PORT/ws?token=$token" \
		--timeout 2 >ws.out 2>&1 || :; } &&
	grep -q "^http 50[23]\|^close 1006\|^fail" ws.out &&
	sig=${token##*.} &&
	! grep -r -F -e "$sig" "$VAR/log" &&
	grep -q "token=\[redacted\]" "$VAR/log/lighttpd.log" &&
	relay_start
'

test_expect_success '$VAR and everything in it is private (0700 directories, 0600 files)' '
	test "$(stat -c %a "$VAR")" = 700 &&
	find "$VAR" -perm /077 ! -type s ! -type p >open &&
	test_line_count = 0 open
'

test_done
