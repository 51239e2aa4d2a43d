#!/bin/sh
test_description='the supervisor frozen with a failchk child running: resumed, nothing recovered; a check stuck while it runs still recovers the site'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

# The slow check exists only in the TESTHOOKS build (run/dbwatch.c,
# dbwatch_test_sleep): `make TESTHOOKS=1 all` writes it to build/hooks/bin.
use_hooks_build bookpics-run

# state PID: its state letter in /proc (S, T, Z...), nothing once gone.
state() {
	sed 's/.*) \(.\).*/\1/' /proc/$1/stat 2>/dev/null
}

# freeze SUP: stop a failchk child of SUP (a fork of bookpics-run: the
# relay, lighttpd and the hooks have their own names), then SUP itself;
# prints the child's pid. The child first: stopped, it cannot end before
# SUP is (one that ended already is gone, or a zombie: try the next).
freeze() {
	_n=100
	while [ $_n -gt 0 ]; do
		for _c in $(pgrep -P "$1" -x bookpics-run); do
			kill -STOP "$_c" 2>/dev/null || continue
			if wait_for "test \"\$(state $_c)\" = T" 2; then
				kill -STOP "$1" && echo "$_c" && return 0
			fi
			kill -CONT "$_c" 2>/dev/null
		done
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# since N: run.log from its line N+1 on.
since() {
	sed -n "$(($1 + 1)),\$p" "$VAR/log/run.log"
}

site_pids() {
	cat "$VAR/run/relay.pid" "$VAR/run/lighttpd.pid" "$VAR/run/hooks.pid"
}

text_form() {
	echo "MessageSid=$1&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=$1&NumMedia=0"
}

test_expect_success 'start, every failchk answering after 3 s' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	BOOKPICS_TEST_FAILCHK_SLEEP_MS=3000 start_bookpics &&
	wait_for "grep -q event=running $VAR/log/run.log" 20 &&
	test "$(tw_post "$(text_form SMf1)")" = 200 &&
	ws_bg c1 "$WS" --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":0}" &&
	wait_for "grep -q SMf1 c1.out" 10 &&
	site_pids >pids.before
'

test_expect_success 'the supervisor and its check child stopped for 12 s: resumed, nothing recovered' '
	sup=$(cat "$TRASH/bookpics.pid") &&
	kill -0 $sup &&
	chk=$(freeze $sup) &&
	echo "froze $sup and its check child $chk" &&
	sleep 12 &&
	# the supervisor thaws first: it is the one that saw every deadline
	# past (the check child, started before the freeze, had 10 s)
	kill -CONT $sup &&
	wait_for "grep -q event=resumed $VAR/log/run.log" 5 &&
	sleep 1 &&
	kill -CONT $chk &&
	wait_for "! kill -0 $chk" 5 &&
	# its answer is in; the next check starts and answers too
	wait_for "test \$(pgrep -P $sup -x bookpics-run | grep -v -x $chk | wc -l) -ge 1" 5 &&
	sleep 4 &&
	grep "event=resumed" "$VAR/log/run.log" >resumed &&
	test $(wc -l <resumed) = 1 &&
	lost=$(sed "s/.* lost_ms=\([0-9]*\)$/\1/" resumed) &&
	echo "lost_ms=$lost" &&
	test $lost -ge 11000 && test $lost -le 14000 &&
	grep -q "level=info prog=run event=resumed lost_ms=" resumed &&
	! grep -E "event=(recover|failchk|restart|start_failed|stop)" "$VAR/log/run.log" &&
	test $(grep -c "event=start child=" "$VAR/log/run.log") = 3 &&
	site_pids >pids.after &&
	test_cmp pids.before pids.after &&
	for p in $(cat pids.after); do kill -0 $p || return 1; done
'

test_expect_success 'the WebSocket client opened before the freeze gets a message posted after it' '
	kill -0 $(cat c1.pid) &&
	test "$(tw_post "$(text_form SMf2)")" = 200 &&
	wait_for "grep -q SMf2 c1.out" 10 &&
	curl -sf -o /dev/null "$BASE/api/health"
'

test_expect_success 'a check stuck while the supervisor runs is still a stall: the site is recovered' '
	stop_bookpics &&
	from=$(wc -l <"$VAR/log/run.log") &&
	# the check before the start stalls too: recovered before anything starts
	BOOKPICS_TEST_FAILCHK_SLEEP_MS=15000 start_bookpics &&
	wait_for "since $from | grep -q event=running" 20 &&
	since $from | grep -q "event=recover reason=\"failchk: no answer within 10000 ms\"" &&
	site_pids >pids.before &&
	wait_for "since $from | grep -q \"event=failchk result=stalled reason=\\\"no answer within 10000 ms\\\"\"" 20 &&
	wait_for "since $from | grep -q \"event=recover step=stop\"" 5 &&
	wait_for "test \$(since $from | grep -c \"event=recover step=done\") = 2" 20 &&
	wait_for "test \$(since $from | grep -c event=running) = 2" 20 &&
	wait_for "curl -sf -o /dev/null $BASE/api/health" 10 &&
	! since $from | grep -q event=resumed &&
	site_pids >pids.after &&
	! grep -x -f pids.before pids.after
'

kill_bg
test_done
