#!/bin/sh
test_description='slowloris from other loopback addresses: webhooks from 127.0.0.1 keep their latency'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"
. "$TEST_DIR/lib-load.sh"

SOCKETS=${SOCKETS:-2000}
SECONDS_ATTACK=${SECONDS_ATTACK:-20}

test_expect_success 'start; the webhook latency without an attack' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	start_bookpics &&
	load_webhooks "$BASE/twilio/sms" 10 SMquiet &&
	test $(grep -c " 200 " SMquiet.answers) = 200 &&
	echo "quiet: $(latency SMquiet.answers)" | tee quiet.txt
'

test_expect_success "$SOCKETS slow sockets from 127.0.0.2..: webhooks still answered, in the same time" '
	{ node "$TOP/tests/tools/slowloris.mjs" $PORT $SOCKETS $SECONDS_ATTACK >loris.out 2>&1 & } &&
	echo $! >loris.pid && bg_pid $(cat loris.pid) &&
	wait_for "grep -q ^open loris.out" 20 &&
	sleep 2 &&
	cat loris.out | head -n 3 &&
	load_webhooks "$BASE/twilio/sms" 10 SMattack &&
	test $(grep -c " 200 " SMattack.answers) = 200 &&
	curl -sf -m 5 -o /dev/null $BASE/api/health &&
	tail -n 1 loris.out &&
	echo "attack: $(latency SMattack.answers)" | tee attack.txt &&
	q99=$(sed "s/.*p99=\([0-9]*\).*/\1/" quiet.txt) &&
	a99=$(sed "s/.*p99=\([0-9]*\).*/\1/" attack.txt) &&
	test $a99 -le $((q99 * 3 + 200))
'

test_expect_success 'the attack held its sockets open (it was a real attack)' '
	wait_for "grep -q ^done loris.out" $((SECONDS_ATTACK + 10)) &&
	alive=$(sed -n "s/^done alive \([0-9]*\).*/\1/p" loris.out) &&
	echo "sockets alive at the end: $alive of $SOCKETS" &&
	test "$alive" -ge $((SOCKETS * 9 / 10))
'

kill_bg
test_done
