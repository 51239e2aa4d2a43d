#!/bin/sh
test_description='relay options: --iface ADDR; keepalive pings and hang-ups'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

# The relay alone, not lighttpd: these tests are about its own socket.
RWS=ws://127.0.0.1:$RELAY_PORT/ws

# relay_run ARGS...: a relay in the background as run.sh starts it, plus ARGS.
relay_run() {
	BOOKPICS_VAR=$VAR "$BIN/bookpics-relay" --port "$RELAY_PORT" "$@" \
		2>>"$VAR/log/relay.log" &
	echo $! >"$VAR/run/relay.pid"
	bg_pid $!
}

# relay_term: SIGTERM the relay started by relay_run, wait until it is gone.
relay_term() {
	_rp=$(cat "$VAR/run/relay.pid")
	kill -TERM "$_rp" &&
	wait_for "! kill -0 $_rp" 5
}

test_expect_success 'set up' '
	admin init --port $PORT >/dev/null &&
	mkdir -p "$VAR/log" "$VAR/run"
'

test_expect_success '--iface that is not an IPv4 address: usage error' '
	rc=0 &&
	"$BIN/bookpics-relay" --port $RELAY_PORT --iface eth0 2>err || rc=$? &&
	test $rc = 2 &&
	grep -q -e "--iface must be an IPv4 address" err
'

test_expect_success 'by default the relay listens on 127.0.0.1 only' '
	relay_run &&
	wait_for "ws $RWS --count 1" 10 &&
	ws ws://127.0.0.2:$RELAY_PORT/ws --count 1 >actual || true &&
	grep -q "^fail .*ECONNREFUSED" actual &&
	relay_term
'

test_expect_success '--iface 127.0.0.2: clients reach it there, not on 127.0.0.1' '
	relay_run --iface 127.0.0.2 &&
	wait_for "ws ws://127.0.0.2:$RELAY_PORT/ws --count 1" 10 &&
	ws ws://127.0.0.2:$RELAY_PORT/ws --count 1 >actual &&
	echo "{\"type\":\"hello\",\"connectionId\":\"ID\",\"userId\":null,\"rooms\":[]}" >expect &&
	test_cmp expect actual &&
	ws $RWS --count 1 >actual || true &&
	grep -q "^fail .*ECONNREFUSED" actual &&
	relay_term
'

test_expect_success '--iface 0.0.0.0: every interface' '
	relay_run --iface 0.0.0.0 &&
	wait_for "ws $RWS --count 1" 10 &&
	ws ws://127.0.0.2:$RELAY_PORT/ws --count 1 >actual &&
	test_cmp expect actual &&
	relay_term
'

test_expect_success 'a bad BOOKPICS_RELAY_KEEPALIVE is refused' '
	rc=0 &&
	BOOKPICS_RELAY_KEEPALIVE="3 1" "$BIN/bookpics-relay" --port $RELAY_PORT 2>err || rc=$? &&
	test $rc = 2 &&
	grep -q "BOOKPICS_RELAY_KEEPALIVE must be" err
'

# Keepalive shortened to: ping after 1 s of silence, hang up after 3 s.
test_expect_success 'keepalive: start a relay that pings after 1 s, hangs up after 3 s' '
	BOOKPICS_RELAY_KEEPALIVE="1 3" relay_run &&
	wait_for "ws $RWS --count 1" 10
'

test_expect_success 'a client that answers pings is pinged and stays connected' '
	ws $RWS --pings --timeout 7 >actual &&
	head -n 1 actual >first &&
	echo "{\"type\":\"hello\",\"connectionId\":\"ID\",\"userId\":null,\"rooms\":[]}" >expect &&
	test_cmp expect first &&
	test $(grep -c "^ping$" actual) -ge 2 &&
	! grep -q "^close" actual
'

test_expect_success 'a client that answers nothing gets one ping, then the relay hangs up' '
	start=$(date +%s%N) &&
	ws $RWS --pings --no-pong --timeout 15 >actual &&
	ms=$(( ($(date +%s%N) - start) / 1000000 )) &&
	echo "# hung up after $ms ms" &&
	cat >expect <<-\EOF &&
	{"type":"hello","connectionId":"ID","userId":null,"rooms":[]}
	ping
	close 1006
	EOF
	test_cmp expect actual &&
	test $ms -ge 2500 && test $ms -lt 8000 &&
	grep -q "hung up 1 connection silent for 3 s" "$VAR/log/relay.log"
'

test_expect_success 'a client that sends frames is not pinged' '
	: >talk.in &&
	( for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		echo "{\"action\":\"subscribe\",\"room\":\"books\"}" >>talk.in; sleep 0.4
	  done ) &
	bg_pid $! &&
	ws $RWS --pings --no-pong --in talk.in --timeout 5 >actual &&
	! grep -q "^ping" actual &&
	! grep -q "^close" actual
'

test_expect_success 'SIGINT (Ctrl-C) stops the relay too, closing with 1001' '
	stops_with_1001 INT $RWS
'

kill_bg
test_done
