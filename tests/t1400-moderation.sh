#!/bin/sh
test_description='moderation: hide/show, the queue, moderators, blocked senders, rates, webhook filters, reply'
. ./test-lib.sh
. "$TEST_DIR/lib-moderation.sh"

test_cmp_str() {
	printf "%s" "$1" >expect.str && test_cmp expect.str "$2"
}

status() {
	curl -s -o /dev/null -w '%{http_code}\n' ${2:+-H "Authorization: Bearer $2"} "$BASE$1"
}

test_expect_success 'start; a moderator of books and another user' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	set_conf media_hosts "http://127.0.0.1:$AUX_PORT" &&
	start_bookpics &&
	admin user add mod1 && admin user add other &&
	admin moderator add mod1 books >out && test_cmp /dev/null out &&
	admin moderator add mod1 books >out &&
	echo "mod1 is already a moderator of books" >expect && test_cmp expect out &&
	admin token mod1 >mod.token && admin token other >other.token &&
	! grep -q "^sender_secret = $(sed -n "s/^token_secret = //p" "$VAR/bookpics.conf")$" "$VAR/bookpics.conf" &&
	grep -q "^sender_secret = [0-9a-f]\{64\}$" "$VAR/bookpics.conf"
'

test_expect_success 'pictures arrive; message list: newest first, visible' '
	test "$(pic SMa1 0101 first)" = 200 && test_cmp_str "$EMPTY" response &&
	test "$(pic SMa2 0101 second)" = 200 &&
	test "$(pic SMb1 0202 third)" = 200 &&
	admin message list books >out &&
	printf "3\tvisible\tsms:…0202\tthird\n2\tvisible\tsms:…0101\tsecond\n1\tvisible\tsms:…0101\tfirst\n" >expect &&
	test_cmp expect out &&
	admin message list books --limit 1 >out &&
	printf "3\tvisible\tsms:…0202\tthird\n" >expect && test_cmp expect out &&
	! grep -rq 14155550101 "$VAR/db" "$VAR/log"
'

test_expect_success 'message hide: a tombstone in the API, /media 404, listed hidden' '
	test "$(status /media/books/2/0)" = 502 &&
	admin message hide books 2 >out && test_cmp /dev/null out &&
	admin message hide books 2 >out &&
	echo "message 2 is already hidden" >expect && test_cmp expect out &&
	curl -s "$BASE/api/rooms/books/messages?after=1&limit=1" >page &&
	node -e "const m = JSON.parse(require(\"fs\").readFileSync(\"page\")).messages[0];
		console.log(Object.keys(m).join(), m.index, m.hidden, /^\d{4}-/.test(m.createTime))" >actual &&
	echo "room,index,createTime,hidden 2 true true" >expect && test_cmp expect actual &&
	! grep -q second page &&
	test "$(status /media/books/2/0)" = 404 &&
	test "$(status /media/books/2/0 $(cat mod.token))" = 404 &&
	admin message list books >out &&
	printf "3\tvisible\tsms:…0202\tthird\n2\thidden\tsms:…0101\tsecond\n1\tvisible\tsms:…0101\tfirst\n" >expect &&
	test_cmp expect out
'

test_expect_success 'message show restores it whole' '
	admin message show books 2 >out && test_cmp /dev/null out &&
	admin message show books 2 >out &&
	echo "message 2 is already visible" >expect && test_cmp expect out &&
	room_lines books >actual &&
	printf "1 sms:…0101 picture first\n2 sms:…0101 picture second\n3 sms:…0202 picture third\n" >expect &&
	test_cmp expect actual &&
	test "$(status /media/books/2/0)" = 502
'

test_expect_success 'admin errors: unknown room, index, bad numbers' '
	! admin message hide books 9 2>err &&
	echo "bookpics-admin: no message 9 in '\''books'\''" >expect && test_cmp expect err &&
	! admin message hide nope 1 2>err &&
	echo "bookpics-admin: no such room '\''nope'\''" >expect && test_cmp expect err &&
	! admin message list books --limit x 2>err &&
	echo "bookpics-admin: --limit must be a positive number, not '\''x'\''" >expect && test_cmp expect err &&
	! admin queue approve books 77 2>err &&
	echo "bookpics-admin: no queued item 77 in '\''books'\''" >expect && test_cmp expect err
'

test_expect_success 'HTTP hide/show: 401 without a token, 403 for others, 404 unknown' '
	test "$(api POST /api/rooms/books/messages/1/hide)" = 401 &&
	grep -q "\"error\":\"unauthorized\"" body &&
	test "$(api POST /api/rooms/books/messages/1/hide $(cat other.token))" = 403 &&
	grep -q "\"error\":\"not_moderator\"" body &&
	test "$(api POST /api/rooms/books/messages/9/hide $(cat mod.token))" = 404 &&
	test "$(api POST /api/rooms/nope/messages/1/hide $(cat mod.token))" = 404 &&
	test "$(api POST /api/rooms/books/messages/x/hide $(cat mod.token))" = 404 &&
	test "$(api GET /api/rooms/books/messages/1/hide $(cat mod.token))" = 405 &&
	room_lines books | wc -l >n && echo 3 >expect && test_cmp expect n &&
	test "$(api POST /api/rooms/books/messages/1/hide $(cat mod.token))" = 200 &&
	test_cmp_str "{\"room\":\"books\",\"index\":1,\"hidden\":true}" body &&
	test "$(status /media/books/1/0)" = 404 &&
	test "$(api POST /api/rooms/books/messages/1/show $(cat mod.token))" = 200 &&
	test_cmp_str "{\"room\":\"books\",\"index\":1,\"hidden\":false}" body &&
	test "$(status /media/books/1/0)" = 502
'

test_expect_success 'never posted: STOP, HELP, empty, text-only while wall_text = off' '
	test "$(tw_post "MessageSid=SMs1&From=%2B14155550303&Body=STOP&OptOutType=STOP&NumMedia=0")" = 200 &&
	test_cmp_str "$EMPTY" response &&
	test "$(tw_post "MessageSid=SMs2&From=%2B14155550303&Body=HELP&OptOutType=HELP&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=http%3A%2F%2F127.0.0.1%3A$AUX_PORT%2Fm%2Fx")" = 200 &&
	test_cmp_str "$EMPTY" response &&
	test "$(tw_post "MessageSid=SMs3&From=%2B14155550303&Body=&NumMedia=0")" = 200 &&
	test "$(tw_post "MessageSid=SMs4&From=%2B14155550303&Body=hello&NumMedia=0")" = 200 &&
	test "$(tw_post "MessageSid=SMs5&From=%2B14155550303&Body=&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fevil.example%2Fx")" = 200 &&
	test_cmp_str "$EMPTY" response &&
	room_lines books | wc -l >n && echo 3 >expect && test_cmp expect n &&
	grep -q "event=not_posted reason=\"opt-out[^\"]*\" sid=SMs1$" "$VAR"/log/*.log &&
	grep -q "event=not_posted reason=\"text without a picture[^\"]*\" sid=SMs4$" "$VAR"/log/*.log &&
	set_conf wall_text on &&
	test "$(tw_post "MessageSid=SMs6&From=%2B14155550303&Body=hello&NumMedia=0")" = 200 &&
	room_lines books | tail -n 1 >actual &&
	echo "4 sms:…0303 text message hello" >expect && test_cmp expect actual &&
	set_conf wall_text off
'

test_expect_success 'sender block ROOM INDEX: that number is refused, others are not' '
	admin sender block books 1 >out && test_cmp /dev/null out &&
	admin sender block books 2 >out &&
	echo "the sender of books 2 is already blocked" >expect && test_cmp expect out &&
	admin sender list >out &&
	test_line_count = 1 out &&
	grep -q "^[0-9a-f]\{64\}	sms:…0101	books	1$" out &&
	! grep -rq 14155550101 "$VAR/db" &&
	test "$(pic SMa3 0101 blocked)" = 200 && test_cmp_str "$EMPTY" response &&
	test "$(pic SMb2 0202 fine)" = 200 &&
	room_lines books | cut -d" " -f1,4 | tail -n 1 >actual &&
	echo "5 fine" >expect && test_cmp expect actual &&
	grep -q "event=not_posted reason=\"blocked sender[^\"]*\" sid=SMa3$" "$VAR"/log/*.log &&
	! admin sender block books 99 2>err &&
	echo "bookpics-admin: no message 99 in '\''books'\''" >expect && test_cmp expect err &&
	admin sender unblock books 2 >out && test_cmp /dev/null out &&
	admin sender unblock books 2 >out &&
	echo "the sender of books 2 is not blocked" >expect && test_cmp expect out &&
	admin sender list >out && test_cmp /dev/null out &&
	test "$(pic SMa4 0101 back)" = 200 &&
	room_lines books | cut -d" " -f1,4 | tail -n 1 >actual &&
	echo "6 back" >expect && test_cmp expect actual
'

test_expect_success 'sender_rate: a third picture within the hour is not posted' '
	set_conf sender_rate 2 &&
	test "$(pic SMr1 0404 r1)" = 200 && test "$(pic SMr2 0404 r2)" = 200 &&
	test "$(pic SMr3 0404 r3)" = 200 && test_cmp_str "$EMPTY" response &&
	test "$(pic SMr4 0505 other)" = 200 &&
	room_lines books | cut -d" " -f4 | tail -n 3 >actual &&
	printf "r1\nr2\nother\n" >expect && test_cmp expect actual &&
	grep -q "event=not_posted reason=\"sender over sender_rate[^\"]*\" sid=SMr3$" "$VAR"/log/*.log &&
	set_conf sender_rate 20
'

test_expect_success 'twilio_reply: an accepted picture is answered with escaped TwiML' '
	set_conf twilio_reply "Thanks <3 & \"see\" it'\''s up" &&
	test "$(pic SMt1 0606 reply)" = 200 &&
	test_cmp_str "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Thanks &lt;3 &amp; &quot;see&quot; it&apos;s up</Message></Response>" response &&
	test "$(tw_post "MessageSid=SMt2&From=%2B14155550606&Body=STOP&OptOutType=STOP")" = 200 &&
	test_cmp_str "$EMPTY" response &&
	set_conf twilio_reply ""
'

test_expect_success 'moderation = pre: queued, invisible to the public, visible to moderators' '
	set_conf moderation pre &&
	last=$(room_lines books | wc -l) && echo $last >last &&
	test "$(pic SMq1 0707 held)" = 200 && test_cmp_str "$EMPTY" response &&
	test "$(pic SMq1 0707 held)" = 200 &&
	test "$(pic SMq2 0707 nope)" = 200 &&
	admin queue list books >out &&
	printf "1\tsms:…0707\theld\n2\tsms:…0707\tnope\n" >expect && test_cmp expect out &&
	room_lines books | wc -l >n && test_cmp last n &&
	test "$(status /media/books/q1/0)" = 404 &&
	test "$(status /media/books/q1/0 $(cat other.token))" = 404 &&
	test "$(status /media/books/q1/0 $(cat mod.token))" = 502 &&
	test "$(api GET /api/rooms/books/queue)" = 401 &&
	test "$(api GET /api/rooms/books/queue $(cat other.token))" = 403 &&
	test "$(api GET /api/rooms/books/queue $(cat mod.token))" = 200 &&
	node -e "const q = JSON.parse(require(\"fs\").readFileSync(\"body\"));
		console.log(q.room, q.items.length, Object.keys(q.items[0]).join());
		console.log(q.items[0].id, q.items[0].userId, q.items[0].chatMessage, JSON.stringify(q.items[0].media))" >actual &&
	cat >expect <<-\EOF &&
	books 2 id,userId,chatMessage,createTime,media
	1 sms:…0707 held [{"url":"/media/books/q1/0","contentType":"image/jpeg"}]
	EOF
	test_cmp expect actual
'

test_expect_success 'approve gives the next index; reject leaves nothing; a retried sid stays out' '
	next=$(($(cat last) + 1)) &&
	admin queue approve books 1 >out && echo $next >expect && test_cmp expect out &&
	room_lines books | tail -n 1 >actual &&
	echo "$next sms:…0707 picture held" >expect && test_cmp expect actual &&
	test "$(api POST /api/rooms/books/queue/2/reject $(cat other.token))" = 403 &&
	test "$(api POST /api/rooms/books/queue/2/reject $(cat mod.token))" = 200 &&
	test_cmp_str "{\"room\":\"books\",\"id\":2}" body &&
	test "$(api POST /api/rooms/books/queue/2/approve $(cat mod.token))" = 404 &&
	admin queue list books >out && test_cmp /dev/null out &&
	test "$(pic SMq2 0707 nope)" = 200 && test "$(pic SMq1 0707 held)" = 200 &&
	admin queue list books >out && test_cmp /dev/null out &&
	room_lines books | wc -l >n && echo $next >expect && test_cmp expect n &&
	test "$(pic SMq3 0808 viahttp)" = 200 &&
	test "$(api POST /api/rooms/books/queue/3/approve $(cat mod.token))" = 200 &&
	test_cmp_str "{\"room\":\"books\",\"index\":$((next + 1))}" body &&
	test "$(status /media/books/q3/0 $(cat mod.token))" = 404 &&
	! admin queue reject books 3 2>err
'

test_expect_success '8 approvals at once stay gapless' '
	set_conf sender_rate 1000 &&
	for i in 1 2 3 4 5 6 7 8; do test "$(pic SMc$i 0909 c$i)" = 200 || return 1; done &&
	before=$(room_lines books | wc -l) &&
	admin queue list books | cut -f1 >ids && test_line_count = 8 ids &&
	for id in $(cat ids); do admin queue approve books $id >approved.$id & done; wait &&
	cat approved.* | sort -n >got &&
	seq $((before + 1)) $((before + 8)) >expect && test_cmp expect got &&
	room_lines books | cut -d" " -f1 >all && seq 1 $((before + 8)) >expect && test_cmp expect all &&
	room_lines books | cut -d" " -f4 | grep "^c" | sort >texts &&
	printf "c1\nc2\nc3\nc4\nc5\nc6\nc7\nc8\n" >expect && test_cmp expect texts
'

test_expect_success 'kill -9 during approvals: nothing lost, nothing doubled' '
	for i in $(seq 1 60); do test "$(pic SMk$i 1010 k$i)" = 200 || return 1; done &&
	admin queue list books | cut -f1 >ids && test_line_count = 60 ids &&
	for w in 1 2 3 4; do
		(for id in $(cat ids); do
			admin queue approve books $id >/dev/null 2>&1 & echo $! >cur.$w; wait
		done) &
		echo $! >worker.$w
	done &&
	sleep 0.3 &&
	# each worker stops, and the approval it was running dies with kill -9
	for w in 1 2 3 4; do kill -9 $(cat worker.$w) $(cat cur.$w) 2>/dev/null; done;
	sleep 0.5 &&
	for id in $(admin queue list books | cut -f1); do admin queue approve books $id >/dev/null || return 1; done &&
	admin queue list books >out && test_cmp /dev/null out &&
	room_lines books >all &&
	cut -d" " -f1 all >idx && seq 1 $(wc -l <all) >expect && test_cmp expect idx &&
	cut -d" " -f4 all | grep "^k" | sort >texts &&
	seq 1 60 | sed "s/^/k/" | sort >expect && test_cmp expect texts
'

test_expect_success 'moderator remove: the token no longer moderates' '
	admin moderator remove mod1 books >out && test_cmp /dev/null out &&
	admin moderator remove mod1 books >out &&
	echo "mod1 is not a moderator of books" >expect && test_cmp expect out &&
	test "$(api GET /api/rooms/books/queue $(cat mod.token))" = 403 &&
	! admin moderator add nobody books 2>err &&
	echo "bookpics-admin: no such user '\''nobody'\''" >expect && test_cmp expect err
'

test_done
