#!/bin/sh
test_description='moderation: block and unblock a sender over HTTP (issue 14)'
. ./test-lib.sh
. "$TEST_DIR/lib-moderation.sh"

# body_is JSON: ./body is exactly JSON.
body_is() {
	printf "%s" "$1" >expect.body && test_cmp expect.body body
}

test_expect_success 'start; a moderator of books (and of a private room with chat), another user' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	set_conf media_hosts "http://127.0.0.1:$AUX_PORT" &&
	start_bookpics &&
	admin user add mod1 && admin user add other &&
	admin moderator add mod1 books &&
	admin room add club && admin member add mod1 club && admin moderator add mod1 club &&
	admin token mod1 >mod.token && admin token other >other.token &&
	test "$(pic SMa1 0101 first)" = 200 &&
	test "$(pic SMb1 0202 second)" = 200 &&
	room_lines books >actual &&
	printf "1 sms:…0101 picture first\n2 sms:…0202 picture second\n" >expect && test_cmp expect actual
'

test_expect_success 'block and unblock: 401 without a token, 403 for others, nothing blocked' '
	for what in block unblock; do
		test "$(api POST /api/rooms/books/messages/1/$what)" = 401 &&
		body_is "{\"error\":\"unauthorized\",\"message\":\"a moderator'\''s Bearer token is required\"}" &&
		test "$(api POST /api/rooms/books/messages/1/$what $(cat other.token))" = 403 &&
		body_is "{\"error\":\"not_moderator\",\"message\":\"user '\''other'\'' is not a moderator of '\''books'\''\"}" || return 1
	done &&
	admin sender list >out && test_cmp /dev/null out
'

test_expect_success 'block and unblock: 404 unknown message or room, 405 other methods' '
	for what in block unblock; do
		test "$(api POST /api/rooms/books/messages/9/$what $(cat mod.token))" = 404 &&
		body_is "{\"error\":\"not_found\",\"message\":\"no message 9 in '\''books'\''\"}" &&
		test "$(api POST /api/rooms/nope/messages/1/$what $(cat mod.token))" = 404 &&
		body_is "{\"error\":\"not_found\",\"message\":\"no such room\"}" &&
		test "$(api POST /api/rooms/books/messages/0/$what $(cat mod.token))" = 404 &&
		test "$(api GET /api/rooms/books/messages/1/$what $(cat mod.token))" = 405 &&
		body_is "{\"error\":\"method_not_allowed\",\"message\":\"GET is not allowed here\"}" &&
		test "$(api DELETE /api/rooms/books/messages/1/$what $(cat mod.token))" = 405 || return 1
	done &&
	admin sender list >out && test_cmp /dev/null out
'

test_expect_success 'a chat message has no SMS sender: 409 conflict' '
	curl -s -o /dev/null -H "Authorization: Bearer $(cat mod.token)" -H "Content-Type: application/json" \
		--data-binary "{\"chatMessage\":\"hi\"}" "$BASE/api/rooms/club/messages" &&
	test "$(api POST /api/rooms/club/messages/1/block $(cat mod.token))" = 409 &&
	body_is "{\"error\":\"conflict\",\"message\":\"message 1 has no SMS sender to block\"}" &&
	test "$(api POST /api/rooms/club/messages/1/unblock $(cat mod.token))" = 409 &&
	body_is "{\"error\":\"conflict\",\"message\":\"message 1 has no SMS sender to unblock\"}" &&
	admin sender list >out && test_cmp /dev/null out
'

test_expect_success 'bookpics-admin refuses the same message' '
	! admin sender block club 1 2>err &&
	echo "bookpics-admin: message 1 was not sent by SMS" >expect && test_cmp expect err
'

test_expect_success 'POST block: 200, the note is the one bookpics-admin writes; again: 200 unchanged' '
	test "$(api POST /api/rooms/books/messages/1/block $(cat mod.token))" = 200 &&
	body_is "{\"room\":\"books\",\"index\":1,\"blocked\":true}" &&
	admin sender list >http.list &&
	test_line_count = 1 http.list &&
	grep -q "^[0-9a-f]\{64\}	sms:…0101	books	1$" http.list &&
	test "$(api POST /api/rooms/books/messages/1/block $(cat mod.token))" = 200 &&
	body_is "{\"room\":\"books\",\"index\":1,\"blocked\":true}" &&
	admin sender list >out && test_cmp http.list out &&
	admin sender block books 1 >out &&
	echo "the sender of books 1 is already blocked" >expect && test_cmp expect out &&
	! grep -rq 14155550101 "$VAR/db" "$VAR/log"
'

test_expect_success 'the same note from bookpics-admin: unblock, block by command, same list' '
	admin sender unblock books 1 >out && test_cmp /dev/null out &&
	admin sender block books 1 >out && test_cmp /dev/null out &&
	admin sender list >out && test_cmp http.list out
'

test_expect_success 'blocking does not hide the message' '
	room_lines books >actual &&
	printf "1 sms:…0101 picture first\n2 sms:…0202 picture second\n" >expect && test_cmp expect actual
'

test_expect_success 'a blocked sender: 200 with empty TwiML, nothing stored; others still get through' '
	set_conf twilio_reply "Thanks" &&
	test "$(pic SMa2 0101 blocked)" = 200 &&
	printf "%s" "$EMPTY" >expect && test_cmp expect response &&
	test "$(pic SMb2 0202 fine)" = 200 &&
	room_lines books | cut -d" " -f1,4 >actual &&
	printf "1 first\n2 second\n3 fine\n" >expect && test_cmp expect actual &&
	admin queue list books >out && test_cmp /dev/null out &&
	grep -q "event=not_posted reason=\"blocked sender[^\"]*\" sid=SMa2$" "$VAR"/log/*.log &&
	set_conf twilio_reply ""
'

test_expect_success 'POST unblock: 200 blocked false; again: 200 unchanged; the sender gets through' '
	test "$(api POST /api/rooms/books/messages/1/unblock $(cat mod.token))" = 200 &&
	body_is "{\"room\":\"books\",\"index\":1,\"blocked\":false}" &&
	admin sender list >out && test_cmp /dev/null out &&
	test "$(api POST /api/rooms/books/messages/1/unblock $(cat mod.token))" = 200 &&
	body_is "{\"room\":\"books\",\"index\":1,\"blocked\":false}" &&
	test "$(pic SMa3 0101 back)" = 200 &&
	room_lines books | cut -d" " -f1,4 | tail -n 1 >actual &&
	echo "4 back" >expect && test_cmp expect actual
'

test_expect_success 'blocking from any message of a number blocks the number' '
	test "$(api POST /api/rooms/books/messages/4/block $(cat mod.token))" = 200 &&
	body_is "{\"room\":\"books\",\"index\":4,\"blocked\":true}" &&
	test "$(api POST /api/rooms/books/messages/1/block $(cat mod.token))" = 200 &&
	admin sender list >out && test_line_count = 1 out &&
	grep -q "^[0-9a-f]\{64\}	sms:…0101	books	4$" out &&
	test "$(api POST /api/rooms/books/messages/1/unblock $(cat mod.token))" = 200 &&
	admin sender list >out && test_cmp /dev/null out
'

test_done
