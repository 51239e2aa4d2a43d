#!/bin/sh
test_description='8 clients x 500 signed webhooks at once: 4000 messages, gapless, no duplicate'
. ./test-lib.sh

test_expect_success 'start' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	# these webhooks are texts without pictures: let them on the wall
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	start_bookpics
'

test_expect_success '8 x 500 concurrent webhooks are all answered 200' '
	"$BUILD/tools/tw-load" "$BASE/twilio/sms" secret123 8 500 SMc >answers &&
	test $(wc -l <answers) = 4000 &&
	test $(grep -c " 200$" answers) = 4000
'

test_expect_success 'the room holds exactly 4000 messages numbered 1..4000' '
	node "$TOP/tests/tools/room-dump.mjs" $BASE books >dump &&
	cut -d" " -f1 dump >indexes &&
	seq 1 4000 >expect &&
	test_cmp expect indexes &&
	cut -d" " -f3 dump | sort >sids &&
	cut -d" " -f1 answers | sort >expect &&
	test_cmp expect sids &&
	curl -s "$BASE/api/rooms/books/messages?limit=1" | grep -q "\"last\":4000"
'

test_expect_success 'every webhook again (a Twilio retry storm): still 4000' '
	"$BUILD/tools/tw-load" "$BASE/twilio/sms" secret123 8 500 SMc >answers2 &&
	test $(grep -c " 200$" answers2) = 4000 &&
	curl -s "$BASE/api/rooms/books/messages?limit=1" | grep -q "\"last\":4000"
'

test_done
