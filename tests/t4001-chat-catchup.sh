#!/bin/sh
test_description='chat catch-up: what was sent while away arrives first, in order, across relay crashes; resume'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

# burst FROM TO: messages FROM..TO, odd ones to uuidroom2 (by uuid1),
# even ones to uuidroom3 (by uuid3), texts "m N".
burst() {
	for _i in $(seq "$1" "$2"); do
		if [ $((_i % 2)) = 1 ]; then
			chat_post uuidroom2 t1 "m $_i" || return 1
		else
			chat_post uuidroom3 t3 "m $_i" || return 1
		fi
	done
}

# indexes FILE ROOM: the indexes of ROOM's messages in FILE, in arrival order.
indexes() {
	messages_of "$1" | grep "^$2 " | cut -d" " -f2
}

test_expect_success 'set up: uuid2 in uuidroom2 and uuidroom3' '
	chat_rooms &&
	admin member add uuid3 uuidroom3 &&
	start_bookpics
'

test_expect_success 'uuid2 connects, then goes away' '
	ws_bg a "$WS?token=$(cat t2)" &&
	ws_stop a &&
	head -n 1 a.out >actual &&
	echo "{\"type\":\"hello\",\"connectionId\":\"ID\",\"userId\":\"uuid2\",\"rooms\":[{\"room\":\"uuidroom2\",\"last\":0},{\"room\":\"uuidroom3\",\"last\":0}]}" >expect &&
	test_cmp expect actual
'

test_expect_success 'uuid2 reconnects: exactly the 50 sent meanwhile, in room order, then live ones' '
	burst 1 50 &&
	ws_bg b "$WS?token=$(cat t2)" &&
	head -n 1 b.out >actual &&
	echo "{\"type\":\"hello\",\"connectionId\":\"ID\",\"userId\":\"uuid2\",\"rooms\":[{\"room\":\"uuidroom2\",\"last\":25},{\"room\":\"uuidroom3\",\"last\":25}]}" >expect &&
	test_cmp expect actual &&
	wait_count b.out "^message " 50 &&
	indexes b.out uuidroom2 >actual2 && seq 1 25 >expect && test_cmp expect actual2 &&
	indexes b.out uuidroom3 >actual3 && test_cmp expect actual3 &&
	messages_of b.out | grep "^uuidroom2 7 " >m7 &&
	echo "uuidroom2 7 uuid1 m 13" >expect && test_cmp expect m7 &&
	burst 51 52 &&
	wait_count b.out "^message " 52 &&
	indexes b.out uuidroom2 | tail -n 1 >actual &&
	echo 26 >expect && test_cmp expect actual &&
	indexes b.out uuidroom3 | tail -n 1 >actual &&
	test_cmp expect actual
'

test_expect_success 'kill -9 of the relay, 10 messages meanwhile: after reconnecting, exactly those' '
	sleep 1.5 &&
	relay_kill9 &&
	wait_for "grep -q \"^close\" b.out" 5 &&
	burst 53 62 &&
	relay_start &&
	ws_bg c "$WS?token=$(cat t2)" &&
	wait_count c.out "^message " 10 &&
	sleep 0.5 &&
	indexes c.out uuidroom2 >actual && seq 27 31 >expect && test_cmp expect actual &&
	indexes c.out uuidroom3 >actual && test_cmp expect actual
'

test_expect_success 'kill -9 right after deliveries: a replay of at most ~1 s, never a gap or a duplicate on one connection' '
	burst 63 70 &&
	wait_count c.out "^message " 18 &&
	relay_kill9 &&
	wait_for "grep -q \"^close\" c.out" 5 &&
	burst 71 74 &&
	relay_start &&
	ws_bg d "$WS?token=$(cat t2)" &&
	wait_for "indexes d.out uuidroom2 | grep -qx 37" 10 &&
	wait_for "indexes d.out uuidroom3 | grep -qx 37" 10 &&
	sleep 0.5 &&
	for r in uuidroom2 uuidroom3; do
		indexes d.out $r >got &&
		first=$(head -n 1 got) &&
		test "$first" -le 36 &&
		seq "$first" 37 >expect &&
		test_cmp expect got || exit 1
	done
'

test_expect_success 'resume overrides the cursors: replays from the index given' '
	n0=$(indexes d.out uuidroom2 | grep -c .) &&
	ws_say d "{\"action\":\"resume\",\"rooms\":{\"uuidroom2\":33}}" &&
	wait_for "test \$(indexes d.out uuidroom2 | grep -c .) -ge $((n0 + 4))" 5 &&
	sleep 0.3 &&
	indexes d.out uuidroom2 | tail -n +$((n0 + 1)) >actual &&
	seq 34 37 >expect &&
	test_cmp expect actual &&
	indexes d.out uuidroom3 | sort -n | uniq -d >dups &&
	test_cmp /dev/null dups
'

test_expect_success 'resume to the end skips, to a public or bad room is answered' '
	ws_say d "{\"action\":\"resume\",\"rooms\":{\"uuidroom3\":38}}" &&
	sleep 0.5 &&
	burst 75 76 &&
	wait_count d.out "^message uuidroom2 38 " 1 &&
	sleep 1.2 &&
	! grep -q "^message uuidroom3 38 " d.out &&
	ws_say d "{\"action\":\"resume\",\"rooms\":{\"uuidroom1\":0}}" &&
	ws_say d "{\"action\":\"resume\",\"rooms\":{\"nosuch\":0}}" &&
	ws_say d "{\"action\":\"resume\",\"rooms\":{\"uuidroom2\":\"x\"}}" &&
	ws_say d "{\"action\":\"resume\",\"rooms\":[]}" &&
	wait_count d.out "^\\{\"type\":\"error\"" 4 &&
	grep "^{\"type\":\"error\"" d.out >actual &&
	cat >expect <<-\EOF &&
	{"type":"error","code":"not_member","message":"room uuidroom1 is private: only its members read it"}
	{"type":"error","code":"not_found","message":"no such room: nosuch"}
	{"type":"error","code":"bad_request","message":"rooms.uuidroom2 must be a non-negative integer"}
	{"type":"error","code":"bad_request","message":"resume needs \"rooms\": {\"room\": index, ...}"}
	EOF
	test_cmp expect actual
'

test_expect_success 'a cursor moved by resume is not moved backwards in the store' '
	ws_say d "{\"action\":\"resume\",\"rooms\":{\"uuidroom2\":10}}" &&
	wait_for "test \$(indexes d.out uuidroom2 | grep -c -x 38) -ge 2" 5 &&
	ws_stop d &&
	ws_bg e "$WS?token=$(cat t2)" &&
	sleep 1 &&
	messages_of e.out | sed -n "/^uuidroom2 /p" >actual &&
	test_cmp /dev/null actual &&
	burst 77 77 &&
	wait_count e.out "^message uuidroom2 39 " 1 &&
	ws_stop e
'

test_expect_success 'a public room can be resumed too (it acts as subscribe)' '
	# a text without a picture: let it on the wall
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	form="MessageSid=SMc1&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=wall&NumMedia=0" &&
	test "$(tw_post "$form")" = 200 &&
	ws "$WS" --send "{\"action\":\"resume\",\"rooms\":{\"books\":0}}" --count 2 >actual &&
	tail -n 1 actual >last &&
	echo "message books 1 sms:…0100 wall" >expect &&
	test_cmp expect last
'

kill_bg
test_done
