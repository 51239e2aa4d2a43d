#!/bin/sh
test_description='chat in headless Chromium: two users in a shared room, text never becomes HTML'
. ./test-lib.sh

if ! test_have_prereq CHROMIUM; then
	skip_all='no Chromium (or playwright-core) to drive'
	test_done
fi

test_expect_success 'start with two users sharing uuidroom2' '
	admin init --port $PORT >/dev/null &&
	start_bookpics &&
	wait_for "curl -s $BASE/api/health | grep -q \"relay\\\":true\"" &&
	admin user add uuid1 && admin user add uuid2 &&
	for r in uuidroom1 uuidroom2 uuidroom3; do admin room add $r || return 1; done &&
	admin member add uuid1 uuidroom1 && admin member add uuid1 uuidroom2 &&
	admin member add uuid2 uuidroom2 && admin member add uuid2 uuidroom3 &&
	admin token uuid1 >tok1 && admin token uuid2 >tok2 &&
	curl -s -H "Authorization: Bearer $(cat tok1)" -H "Content-Type: application/json" \
		--data-binary "{\"chatMessage\":\"history before anyone came\"}" \
		$BASE/api/rooms/uuidroom2/messages | grep -q "\"index\":1"
'

test_expect_success 'each page sees its own user and rooms' '
	driver_start one "$TOP/tests/browser/chat.mjs" "$BASE" "$(cat tok1)" "$TRASH" &&
	driver_start two "$TOP/tests/browser/chat.mjs" "$BASE" "$(cat tok2)" "$TRASH" &&
	driver_wait one "^ready" && driver_wait two "^ready" &&
	printf "user uuid1\nroom uuidroom1\nroom uuidroom2\nready 2\n" >expect &&
	test_cmp expect one.out &&
	printf "user uuid2\nroom uuidroom2\nroom uuidroom3\nready 2\n" >expect &&
	test_cmp expect two.out
'

test_expect_success 'both open the shared room and see its history' '
	driver_send one "open uuidroom2" && driver_send two "open uuidroom2" &&
	driver_wait one "^opened uuidroom2" && driver_wait two "^opened uuidroom2" &&
	grep -q "^msg 1 uuid1 history before anyone came$" one.out &&
	grep -q "^msg 1 uuid1 history before anyone came$" two.out
'

test_expect_success 'uuid1 types, uuid2 sees it live, and back' '
	driver_send one "say hello from one" && driver_wait one "^sent" &&
	driver_send two "expect-text hello from one" && driver_wait two "^seen " &&
	grep -q "^seen 2 uuid1$" two.out &&
	driver_send two "say and hello from two" && driver_wait two "^sent" &&
	driver_send one "expect-text and hello from two" && driver_wait one "^seen " &&
	grep -q "^seen 3 uuid2$" one.out
'

test_expect_success 'a message with <script> is shown as text' '
	driver_send two "say <script>window.__owned=1</script><b>bold?</b>" && driver_wait two "^sent" &&
	driver_send one "expect-text <script>window.__owned=1</script><b>bold?</b>" &&
	driver_wait one "^html-free" &&
	grep -q "^html-free yes$" one.out &&
	driver_send one "shot chat-one" && driver_wait one "^shot "
'

test_expect_success 'a message to a room only uuid2 follows raises its unread badge, not uuid1s' '
	admin user add uuid3 && admin member add uuid3 uuidroom3 && admin token uuid3 >tok3 &&
	curl -s -H "Authorization: Bearer $(cat tok3)" -H "Content-Type: application/json" \
		--data-binary "{\"chatMessage\":\"room three only\"}" \
		$BASE/api/rooms/uuidroom3/messages | grep -q "\"index\":1" &&
	wait_for "driver_send two \"unread uuidroom3\"; grep -q \"^unread uuidroom3 1$\" two.out" 10 &&
	! grep -q "room three only" one.out
'

test_expect_success 'no JavaScript errors on either page' '
	driver_send one errors && driver_send two errors &&
	driver_wait one "^errors " && driver_wait two "^errors " &&
	grep -q "^errors 0$" one.out && grep -q "^errors 0$" two.out &&
	driver_send one quit && driver_send two quit
'

test_expect_success 'an expired token: the page says it has expired' '
	admin token uuid2 --ttl 1 >stale && sleep 2 &&
	driver_start stale "$TOP/tests/browser/chat.mjs" "$BASE" "$(cat stale)" "$TRASH" &&
	driver_wait stale "^ready" 30 &&
	printf "error This token has expired. Ask for a new one, paste it and press Connect.\nready 0\n" >expect &&
	test_cmp expect stale.out &&
	driver_send stale "conn not connected" && driver_wait stale "^conn " &&
	driver_send stale quit
'

test_expect_success 'a second page for a user connected elsewhere: the page says so; the first stays live' '
	driver_start first "$TOP/tests/browser/chat.mjs" "$BASE" "$(cat tok2)" "$TRASH" &&
	driver_wait first "^ready" &&
	driver_start second "$TOP/tests/browser/chat.mjs" "$BASE" "$(cat tok2)" "$TRASH" &&
	driver_wait second "^ready" 30 &&
	printf "error This user is already connected elsewhere (another tab or device). Close it there, then press Connect.\nready 0\n" >expect &&
	test_cmp expect second.out &&
	driver_send first "conn live" && driver_wait first "^conn live" &&
	driver_send first errors && driver_wait first "^errors " && grep -q "^errors 0$" first.out &&
	driver_send second errors && driver_wait second "^errors " && grep -q "^errors 0$" second.out &&
	driver_send first quit && driver_send second quit
'

test_done
