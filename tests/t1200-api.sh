#!/bin/sh
test_description='the message API: paging, errors, private rooms, sending, health'
. ./test-lib.sh

test_expect_success 'start, 12 pictures in books' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	# these webhooks are texts without pictures: let them on the wall
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	start_bookpics &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		test "$(tw_post "MessageSid=SMp$i&From=%2B1555000000$i&Body=pic+$i")" = 200 || return 1
	done
'

indexes() {
	curl -s "$BASE/api/rooms/$1/messages?$2" | node -e '
		let s = ""; process.stdin.on("data", d => s += d);
		process.stdin.on("end", () => {
			const p = JSON.parse(s);
			console.log(p.last + ":", p.messages.map(m => m.index).join(" "));
		});'
}

test_expect_success 'no parameters: the newest page, newest first' '
	indexes books "limit=5" >actual && echo "12: 12 11 10 9 8" >expect && test_cmp expect actual &&
	indexes books "" >actual && echo "12: 12 11 10 9 8 7 6 5 4 3 2 1" >expect && test_cmp expect actual
'

test_expect_success 'after=N: oldest first, index > N' '
	indexes books "after=0&limit=3" >actual && echo "12: 1 2 3" >expect && test_cmp expect actual &&
	indexes books "after=9" >actual && echo "12: 10 11 12" >expect && test_cmp expect actual &&
	indexes books "after=12" >actual && echo "12: " >expect && test_cmp expect actual &&
	indexes books "after=99999" >actual && test_cmp expect actual
'

test_expect_success 'before=N: newest first, index < N' '
	indexes books "before=4" >actual && echo "12: 3 2 1" >expect && test_cmp expect actual &&
	indexes books "before=10&limit=2" >actual && echo "12: 9 8" >expect && test_cmp expect actual &&
	indexes books "before=1" >actual && echo "12: " >expect && test_cmp expect actual &&
	indexes books "before=0" >actual && test_cmp expect actual &&
	indexes books "before=100&limit=1" >actual && echo "12: 12" >expect && test_cmp expect actual
'

test_expect_success 'limit above 500 is capped at 500; other bad values are 400' '
	indexes books "limit=100000" >actual && echo "12: 12 11 10 9 8 7 6 5 4 3 2 1" >expect && test_cmp expect actual &&
	for q in limit=0 limit=-1 limit=abc after=1x before=-3 "after=1&before=5" after= limit=99999999999999999999999; do
		status=$(curl -s -o response -w "%{http_code}" "$BASE/api/rooms/books/messages?$q") &&
		test "$status" = 400 &&
		grep -q "^{\"error\":\"bad_request\",\"message\":\"" response || return 1
	done
'

test_expect_success 'unknown room or path: 404 JSON; wrong method: 405' '
	status=$(curl -s -o response -w "%{http_code}" "$BASE/api/rooms/nope/messages") &&
	test "$status" = 404 && echo "{\"error\":\"not_found\",\"message\":\"no such room\"}" >expect &&
	printf "\n" >>response && test_cmp expect response &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$BASE/api/rooms/../../etc/passwd/messages")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$BASE/api/nothing")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X DELETE "$BASE/api/rooms/books/messages")" = 405
'

test_expect_success 'private room: users, membership and tokens' '
	admin user add uuid1 && admin user add uuid2 &&
	admin room add uuidroom1 && admin member add uuid1 uuidroom1 &&
	admin token uuid1 >tok1 && admin token uuid2 >tok2 &&
	admin room list >rooms &&
	printf "books\tpublic\t12\nuuidroom1\tprivate\t0\n" >expect && test_cmp expect rooms
'

post() {
	curl -s -o response -w "%{http_code}" -H "Authorization: Bearer $1" \
		-H "Content-Type: application/json" --data-binary "$3" "$BASE/api/rooms/$2/messages"
}

test_expect_success 'a member posts: 201 with the index, then reads it back' '
	test "$(post "$(cat tok1)" uuidroom1 "{\"chatMessage\":\"hello <b>all</b>\",\"messageType\":\"text message\"}")" = 201 &&
	echo "{\"room\":\"uuidroom1\",\"index\":1}" >expect && printf "\n" >>response && test_cmp expect response &&
	curl -s -H "Authorization: Bearer $(cat tok1)" "$BASE/api/rooms/uuidroom1/messages" >page &&
	grep -q "\"index\":1,\"userId\":\"uuid1\",\"messageType\":\"text message\",\"chatMessage\":\"hello <b>all</b>\"" page
'

test_expect_success 'private room reads: no token 401, non-member 403, bad token 401' '
	: >actual &&
	for t in "" "Bearer $(cat tok2)" "Bearer $(cat tok1)x" "Basic abc"; do
		curl -s -o response -w "%{http_code} " ${t:+-H "Authorization: $t"} \
			"$BASE/api/rooms/uuidroom1/messages" >>actual &&
		cat response >>actual && echo >>actual || return 1
	done &&
	cat >expect <<-\EOF &&
	401 {"error":"unauthorized","message":"room '"'"'uuidroom1'"'"' is private: a Bearer token is required"}
	403 {"error":"not_member","message":"user '"'"'uuid2'"'"' is not a member of '"'"'uuidroom1'"'"'"}
	401 {"error":"unauthorized","message":"bad signature"}
	401 {"error":"unauthorized","message":"Authorization must be '"'"'Bearer TOKEN'"'"'"}
	EOF
	test_cmp expect actual
'

test_expect_success 'sending errors store nothing' '
	t1=$(cat tok1) &&
	test "$(post "$(cat tok2)" uuidroom1 "{\"chatMessage\":\"intruder\"}")" = 403 &&
	test "$(post "" uuidroom1 "{\"chatMessage\":\"anon\"}")" = 401 &&
	test "$(post "$t1" nope "{\"chatMessage\":\"x\"}")" = 404 &&
	test "$(post "$t1" uuidroom1 "not json")" = 400 &&
	test "$(post "$t1" uuidroom1 "{\"chatMessage\":\"x\"} trailing")" = 400 &&
	test "$(post "$t1" uuidroom1 "[1,2]")" = 400 &&
	test "$(post "$t1" uuidroom1 "{\"chatMessage\":42}")" = 400 &&
	test "$(post "$t1" uuidroom1 "{\"chatMessage\":\"x\",\"messageType\":\"picture\"}")" = 400 &&
	test "$(post "$t1" uuidroom1 "{\"chatMessage\":\"a\\u0000b\"}")" = 400 &&
	printf "{\"chatMessage\":\"\377\"}" >bad-utf8 &&
	test "$(post "$t1" uuidroom1 @bad-utf8)" = 400 &&
	head -c 4097 /dev/zero | tr "\0" x | sed "s/.*/{\"chatMessage\":\"&\"}/" >long &&
	test "$(post "$t1" uuidroom1 @long)" = 400 &&
	head -c 4096 /dev/zero | tr "\0" x | sed "s/.*/{\"chatMessage\":\"&\"}/" >ok4096 &&
	test "$(post "$t1" uuidroom1 @ok4096)" = 201 &&
	grep -q "\"index\":2" response &&
	test "$(post "$t1" books "{\"chatMessage\":\"x\"}")" = 403 &&
	curl -s -H "Authorization: Bearer $t1" "$BASE/api/rooms/uuidroom1/messages?limit=1" | grep -q "\"last\":2,"
'

test_expect_success 'an expired token is refused' '
	admin token uuid1 --ttl 1 >short && sleep 2 &&
	test "$(curl -s -o response -w "%{http_code}" -H "Authorization: Bearer $(cat short)" "$BASE/api/rooms/uuidroom1/messages")" = 401 &&
	grep -q "token expired" response
'

test_expect_success 'bookpics-admin refuses bad input clearly' '
	test_must_fail admin member add uuid9 uuidroom1 2>err && grep -q "no such user" err &&
	test_must_fail admin member add uuid1 books 2>err && grep -q "is public" err &&
	test_must_fail admin room add "bad room" 2>err && grep -q "invalid room name" err &&
	test_must_fail admin token nobody 2>err && grep -q "no such user" err &&
	test_must_fail admin frobnicate 2>err && grep -q "^usage:" err
'

test_done
