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

kill_bg
test_done
