#!/bin/sh
test_description='a writer stopped inside the store, then kill -9: the site heals by itself, nothing acknowledged lost'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

# The stall points exist only in the TESTHOOKS build (lib/store.c,
# store_test_stall): `make TESTHOOKS=1 all` writes it to build/hooks/bin.
use_hooks_build webhook.fcgi bookpics-run

text_form() {
	echo "MessageSid=$1&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=$1&NumMedia=0"
}

# post SID: one webhook in the foreground, prints its status.
post() {
	tw_post "$(text_form "$1")"
}

# post_bg SID: one webhook in the background; NAME.code gets its status
# once answered (000: no answer), NAME.ms the time it took.
post_bg() {
	(
		_t0=$(date +%s%N)
		_token=$(sed -n 's/^twilio_auth_token *= *//p' "$VAR/bookpics.conf")
		_sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" "$_token" "$(text_form "$1")")
		curl -s -o /dev/null -m 60 -w '%{http_code}' -H "X-Twilio-Signature: $_sig" \
			--data-binary "$(text_form "$1")" "$BASE/twilio/sms" >"$1.code.new" || :
		echo $(( ($(date +%s%N) - _t0) / 1000000 )) >"$1.ms"
		mv "$1.code.new" "$1.code"
	) &
	bg_pid $!
}

# stalled FILE: the pid in the stall file, once that process is stopped.
stalled() {
	_p=$(cut -d" " -f1 "$1" 2>/dev/null) && test -n "$_p" &&
	test "$(sed 's/.*) \(.\).*/\1/' /proc/$_p/stat 2>/dev/null)" = T && echo "$_p"
}

# cpu_ticks PID...: "PID utime+stime" (clock ticks) for each.
cpu_ticks() {
	for _p; do
		sed "s/.*) //" /proc/$_p/stat | awk -v p=$_p "{ print p, \$12 + \$13 }"
	done
}

# check_room N: books holds exactly 1..N, each SID once, and every SID
# answered 200 (the *.code files and answered.list) among them.
check_room() {
	node "$TOP/tests/tools/room-dump.mjs" $BASE books >dump &&
	cut -d" " -f1 dump >indexes && seq 1 "$1" >expect && test_cmp expect indexes &&
	cut -d" " -f3 dump | sort >stored && sort -u stored >unique && test_cmp unique stored &&
	sort -u answered.list >answered && comm -23 answered stored >lost &&
	test_cmp /dev/null lost
}

# ack SID...: post each, expect 200, remember it as answered.
ack() {
	for _s; do
		test "$(post "$_s")" = 200 || { echo "$_s not answered 200"; return 1; }
		echo "$_s" >>answered.list
	done
}

# start_stalling POINT SID: the site, with the stall armed at POINT for SID.
start_stalling() {
	BOOKPICS_TEST_STALL_AT=$1 BOOKPICS_TEST_STALL_SID=$2 \
	BOOKPICS_TEST_STALL_FILE=$TRASH/stall.$1 BOOKPICS_RUN_FAILCHK_MS=500 start_bookpics
}

test_expect_success 'start, armed to stall in the transaction (locks held)' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	: >answered.list &&
	start_stalling txn SMstall1 &&
	wait_for "grep -q event=running $VAR/log/run.log" 20 &&
	ack SMa1 SMa2 SMa3
'

test_expect_success 'a writer stopped holding the room lock: the next one waits, past the 2 s lock timeout' '
	ws $WS --clients 1 --reconnect --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":0}" \
		--expect-messages 10 --ready ws.ready --timeout 50 >ws.sum &
	echo $! >ws.pid && bg_pid $(cat ws.pid) &&
	wait_for "test -f ws.ready" 10 &&
	post_bg SMstall1 &&
	wait_for "stalled $TRASH/stall.txn" 10 &&
	grep -q " txn$" "$TRASH/stall.txn" &&
	post_bg SMb1 &&
	sleep 3 &&
	! test -f SMb1.code &&
	stalled "$TRASH/stall.txn" >stall.pid
'

test_expect_success 'kill -9 it: failchk frees its locks, the waiting webhook is answered 200' '
	t0=$(date +%s%N) &&
	kill -9 $(cat stall.pid) &&
	wait_for "test -f SMb1.code" 10 &&
	echo "answered $(( ($(date +%s%N) - t0) / 1000000 )) ms after the kill" &&
	test "$(cat SMb1.code)" = 200 && echo SMb1 >>answered.list &&
	wait_for "test -f SMstall1.code" 10 &&
	test "$(cat SMstall1.code)" != 200 &&
	ack SMstall1 SMb2 &&
	! grep -q "event=recover" "$VAR/log/run.log" &&
	check_room 6
'

test_expect_success 'restart, armed to stall inside DB->put (a page latch held)' '
	stop_bookpics &&
	start_stalling page SMstall2 &&
	wait_for "grep -c event=running $VAR/log/run.log | grep -q 2" 20 &&
	ack SMc1
'

test_expect_success 'a writer stopped in the library, kill -9: DB_RUNRECOVERY, the supervisor recovers the site' '
	post_bg SMstall2 &&
	wait_for "stalled $TRASH/stall.page" 10 &&
	grep -q " page$" "$TRASH/stall.page" &&
	post_bg SMd1 &&
	sleep 1 &&
	! test -f SMd1.code &&
	t0=$(date +%s%N) &&
	kill -9 $(stalled "$TRASH/stall.page") &&
	wait_for "grep -q \"event=recover step=done\" $VAR/log/run.log" 20 &&
	wait_for "curl -sf -o /dev/null $BASE/api/health" 20 &&
	echo "site answers $(( ($(date +%s%N) - t0) / 1000000 )) ms after the kill" &&
	grep -q "event=failchk result=runrecovery" "$VAR/log/run.log" &&
	wait_for "test -f SMd1.code" 20 &&
	if test "$(cat SMd1.code)" = 200; then echo SMd1 >>answered.list; else ack SMd1; fi &&
	ack SMstall2 SMd2 &&
	check_room 10
'

test_expect_success 'the WebSocket client reconnected and got every message in order' '
	wait_for "! kill -0 $(cat ws.pid)" 50 &&
	cat ws.sum &&
	sed "s/ reconnects=[0-9]*//" ws.sum >actual &&
	echo "clients=1 complete=1 dup=0 gap=0 order=ok" >expect &&
	test_cmp expect actual
'

test_expect_success 'no process of the site spins afterwards' '
	pids="$(cat "$VAR/run/lighttpd.pid") $(pgrep -P "$(cat "$VAR/run/lighttpd.pid")") $(cat "$VAR/run/relay.pid")" &&
	cpu_ticks $pids >before && sleep 1 && cpu_ticks $pids >after &&
	paste before after | awk "{ d = \$4 - \$2; print \$1, d; if (d > 50) bad = 1 } END { exit bad }"
'

kill_bg
test_done
