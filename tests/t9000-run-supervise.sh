#!/bin/sh
test_description='bookpics-run (make run): answers before "running", restarts, causes named, clean stop, SIGHUP'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

# run_bg: scripts/run.sh as `make run` starts it, in the background; its
# exit status goes to run.rc, stdout to run.out, stderr to run.err.
run_bg() {
	rm -f run.rc
	# the test bodies run under set -e: keep the status instead of dying on it
	(rc=0; setsid sh "$TOP/scripts/run.sh" >run.out 2>run.err || rc=$?; echo $rc >run.rc) &
}

# sup_pid: the supervisor's pid, as it logged when running.
sup_pid() {
	sed -n "s/.* event=running .* pid=\([0-9]*\)$/\1/p" "$VAR/log/run.log" | tail -n 1
}

# The FastCGI programs under the current lighttpd, on one line.
fcgi_pids() {
	pgrep -P "$(cat "$VAR/run/lighttpd.pid")" | tr "\n" " "
}

# all_gone PID...: none of them runs (zombies of others count as gone).
all_gone() {
	for _p in "$@"; do
		kill -0 "$_p" 2>/dev/null && return 1
	done
	return 0
}

pic() {
	tw_post "MessageSid=SMsup$1&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=pic+$1&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FSMsup$1%2FMedia%2FME1"
}

test_expect_success 'relay port taken: exits 1 naming the port, starts nothing' '
	python3 -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen(1)
open(\"taken\", \"w\").close(); time.sleep(30)" $RELAY_PORT &
	holder=$! && bg_pid $holder &&
	wait_for "test -f taken" 10 &&
	run_bg &&
	wait_for "test -f run.rc" 20 &&
	test "$(cat run.rc)" = 1 &&
	grep "event=start_failed child=relay" run.err >line &&
	grep -q "reason=\"port $RELAY_PORT is in use (bind 127.0.0.1:$RELAY_PORT: Address already in use)\"" line &&
	! grep -q running run.out &&
	! grep -q "event=start " "$VAR/log/run.log" &&
	kill $holder
'

test_expect_success 'bad lighttpd conf: exits 1 with lighttpd'"'"'s own complaint' '
	echo "server.port = " >"$TRASH/bad.conf" &&
	rc=0 &&
	"$BIN/bookpics-run" --var "$VAR" --port $PORT --bin "$BIN" \
		--lighttpd-conf "$TRASH/bad.conf" >out 2>err || rc=$? &&
	test $rc = 1 &&
	grep -q "event=start_failed child=lighttpd status=exited code=255" err &&
	grep "event=log child=lighttpd" err | grep -q "bad.conf" &&
	! grep -q running out &&
	! kill -0 "$(cat "$VAR/run/relay.pid")" 2>/dev/null
'

test_expect_success '$VAR that is not a directory, or not writable: exits 1 with the reason' '
	: >"$TRASH/afile" &&
	rc=0 && VAR=$TRASH/afile sh "$TOP/scripts/run.sh" >out 2>err || rc=$? &&
	test $rc != 0 && grep -q "Not a directory" err &&
	mkdir -p "$TRASH/v2/run" && : >"$TRASH/v2/log" &&
	rc=0 && "$BIN/bookpics-run" --var "$TRASH/v2" --port $PORT >out 2>err || rc=$? &&
	test $rc = 1 &&
	echo "bookpics-run: cannot start: $TRASH/v2/log: not a directory" >expect &&
	test_cmp expect err &&
	rm "$TRASH/v2/log" && mkdir -p "$TRASH/v2/log" && chmod 755 "$TRASH/v2/log" &&
	rc=0 && setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BIN/bookpics-run" --var "$TRASH/v2" --port $PORT >out 2>err || rc=$? &&
	test $rc = 1 &&
	echo "bookpics-run: cannot start: $TRASH/v2/log: not writable by uid 65534 (owner uid 0): Permission denied" >expect &&
	test_cmp expect err
'

test_expect_success 'a relay that never answers: no "running", exits 1 after the bound' '
	mkdir -p fakebin &&
	printf "#!/bin/sh\nexec sleep 60\n" >fakebin/bookpics-relay &&
	chmod +x fakebin/bookpics-relay &&
	rc=0 && BOOKPICS_RUN_START_MS=2000 "$BIN/bookpics-run" --var "$VAR" --port $PORT \
		--bin "$TRASH/fakebin" >out 2>err || rc=$? &&
	test $rc = 1 &&
	grep -q "event=start_failed child=relay reason=\"no answer within 2000 ms\"" err &&
	! grep -q "child=lighttpd reason" err &&
	! grep -q running out &&
	! pgrep -f "$TRASH/fakebin" >/dev/null
'

test_expect_success 'start: "running" printed only once lighttpd and the relay answer' '
	admin twilio-token secret123 &&
	: >"$VAR/log/run.log" &&
	run_bg &&
	wait_for "grep -q \"^bookpics is running on http://127.0.0.1:$PORT/\" run.out" 30 &&
	sup_pid >sup.pid && test -s sup.pid && cp sup.pid "$TRASH/bookpics.pid" &&
	curl -s -o /dev/null -w "%{http_code}" $BASE/api/health | grep -q "^[25]0[03]$" &&
	ws ws://127.0.0.1:$RELAY_PORT/ws --count 1 >hello &&
	grep -q "\"type\":\"hello\"" hello &&
	grep -o "event=[a-z]* child=[a-z]*\|event=running" "$VAR/log/run.log" >actual &&
	grep -q "event=ready child=relay" actual && grep -q "event=ready child=lighttpd" actual &&
	tail -n 1 actual >last && echo event=running >expect && test_cmp expect last
'

test_expect_success 'kill -9 the relay: back within 2 s, a client catches up' '
	ws $WS --clients 1 --reconnect --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":0}" \
		--expect-messages 2 --ready crash.ready --timeout 20 >crash.sum &
	pid=$! && bg_pid $pid &&
	wait_for "test -f crash.ready" 10 &&
	test "$(pic 1)" = 200 &&
	old=$(cat "$VAR/run/relay.pid") &&
	kill -9 $old &&
	test "$(pic 2)" = 200 &&
	wait_for "test \"\$(cat $VAR/run/relay.pid)\" != $old" 2 &&
	wait_for "ws ws://127.0.0.1:$RELAY_PORT/ws --count 1" 2 &&
	wait $pid &&
	sed "s/ reconnects=[0-9]*//" crash.sum >actual &&
	echo "clients=1 complete=1 dup=0 gap=0 order=ok" >expect &&
	test_cmp expect actual &&
	grep -q "event=restart child=relay status=killed signal=9 .* backoff_ms=100" "$VAR/log/run.log"
'

test_expect_success 'kill -9 lighttpd: the site answers within 5 s, no FastCGI program of the old one left' '
	old=$(cat "$VAR/run/lighttpd.pid") &&
	fcgi_pids >old.fcgi && test $(wc -w <old.fcgi) -ge 4 &&
	kill -9 $old &&
	wait_for "test \"\$(cat $VAR/run/lighttpd.pid)\" != $old" 5 &&
	wait_for "curl -sf -o /dev/null $BASE/api/health" 5 &&
	wait_for "all_gone $(cat old.fcgi)" 2 &&
	test "$(pic 3)" = 200 &&
	grep -q "event=restart child=lighttpd status=killed signal=9" "$VAR/log/run.log"
'

test_expect_success 'SIGHUP: nothing dies, every log is reopened' '
	for f in run relay lighttpd; do mv "$VAR/log/$f.log" "$VAR/log/$f.log.1" || return 1; done &&
	pids="$(cat sup.pid) $(cat "$VAR/run/relay.pid") $(cat "$VAR/run/lighttpd.pid")" &&
	kill -HUP $(cat sup.pid) &&
	wait_for "test -f $VAR/log/run.log && test -f $VAR/log/relay.log && test -f $VAR/log/lighttpd.log" 5 &&
	grep -q "event=reopen" "$VAR/log/run.log" &&
	wait_for "grep -q \"relay: log reopened\" $VAR/log/relay.log" 5 &&
	sleep 0.5 &&
	for p in $pids; do kill -0 $p || return 1; done &&
	curl -sf -o /dev/null $BASE/api/health &&
	test "$(pic 4)" = 200
'

test_expect_success 'SIGTERM: exit 0 and no process of the site remains' '
	pids="$(cat sup.pid) $(cat "$VAR/run/relay.pid") $(cat "$VAR/run/lighttpd.pid") $(fcgi_pids)" &&
	test $(echo $pids | wc -w) -ge 7 &&
	kill -TERM $(cat sup.pid) &&
	wait_for "test -f run.rc" 10 &&
	test "$(cat run.rc)" = 0 &&
	wait_for "all_gone $pids" 2 &&
	rm -f "$TRASH/bookpics.pid" &&
	! curl -s -o /dev/null $BASE/ &&
	grep -q "event=stopped" "$VAR/log/run.log"
'

kill_bg
test_done
