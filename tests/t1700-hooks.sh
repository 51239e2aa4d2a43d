#!/bin/sh
test_description='event hooks: bookpics-hooks POSTs signed connect, message, hidden, disconnect events'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

SECRET=whsec_t1700_secret
HOOK_LOG=$TRASH/hooks.rec
CONTROL=$TRASH/receiver.mode

# receiver MODE: tests/tools/hook-receiver.mjs on $AUX_PORT, switched by $CONTROL.
receiver() {
	echo "$1" >"$CONTROL"
	node "$TOP/tests/tools/hook-receiver.mjs" --port "$AUX_PORT" --secret "$SECRET" \
		--log "$HOOK_LOG" --control "$CONTROL" >"$TRASH/receiver.out" 2>&1 &
	bg_pid $!
}

# What the receiver accepted, as "TYPE ID" lines, first copy of each id only.
accepted() {
	awk '$1 == "ok" && !seen[$3]++ { print $2, $3 }' "$HOOK_LOG"
}

# median of the numbers on stdin
median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# webhooks N TAG: N signed text webhooks to the wall, their times (ms) on stdout.
webhooks() {
	_token=$(sed -n 's/^twilio_auth_token *= *//p' "$VAR/bookpics.conf")
	_i=0
	while [ $_i -lt $1 ]; do
		_form="MessageSid=SM$2$_i&From=%2B14155550101&Body=hi$_i&NumMedia=0"
		_sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" "$_token" "$_form")
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "X-Twilio-Signature: $_sig" \
			--data-binary "$_form" -H 'Content-Type: application/x-www-form-urlencoded' \
			"$BASE/twilio/sms" | awk '$1 == 200 { printf "%.1f\n", $2 * 1000 }'
		_i=$((_i + 1))
	done
}

test_expect_success 'start with hook_url set and the receiver down' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	set_conf hook_url "http://127.0.0.1:$AUX_PORT/hook" && set_conf hook_secret $SECRET &&
	set_conf wall_text on && set_conf sender_rate 1000 &&
	admin user add alice && admin room add r1 && admin member add alice r1 &&
	admin token alice >t1 &&
	: >"$HOOK_LOG" && receiver down &&
	start_bookpics &&
	wait_for "test -f $VAR/run/hooks.pid" 5
'

test_expect_success 'while it is down: a connect, 5 messages, a hide, a disconnect' '
	ws "$WS?token=$(cat t1)" --count 1 >hello &&
	grep -q "\"type\":\"hello\"" hello &&
	for i in 1 2 3 4 5; do chat_post r1 t1 "m$i" || return 1; done &&
	admin message hide r1 2 &&
	wait_for "grep -q event=hook_failed $VAR/log/hooks.log" 10 &&
	! grep -q "^ok" "$HOOK_LOG"
'

test_expect_success 'the receiver comes up: every event, in order per room, signed' '
	echo up >"$CONTROL" &&
	wait_for "test \$(grep -c ^ok $HOOK_LOG) -ge 8" 40 &&
	accepted >all &&
	grep " msg:r1\| hid:r1" all >actual &&
	cat >expect <<-\EOF &&
	message msg:r1:1
	message msg:r1:2
	message msg:r1:3
	message msg:r1:4
	message msg:r1:5
	hidden hid:r1:1
	EOF
	test_cmp expect actual &&
	grep " conn:" all >actual &&
	cat >expect <<-\EOF &&
	connect conn:1
	disconnect conn:2
	EOF
	test_cmp expect actual &&
	! grep "^bad" "$HOOK_LOG" &&
	now=$(date +%s) &&
	awk -v now=$now "\$1 == \"ok\" && (now - \$5 > 300 || \$5 - now > 300) { bad++ } END { exit bad }" "$HOOK_LOG"
'

test_expect_success 'a tampered body fails the documented check' '
	body="{\"type\":\"message\",\"id\":\"test:1\"}" &&
	t=$(date +%s) &&
	hex=$(printf "%s" "$t.$body" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d" " -f1) &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "X-Bookpics-Signature: t=$t,v1=$hex" \
		--data-binary "$body" http://127.0.0.1:$AUX_PORT/hook >status &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "X-Bookpics-Signature: t=$t,v1=$hex" \
		--data-binary "{\"type\":\"message\",\"id\":\"test:2\"}" \
		http://127.0.0.1:$AUX_PORT/hook >>status &&
	old=$((t - 301)) &&
	hex=$(printf "%s" "$old.$body" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d" " -f1) &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "X-Bookpics-Signature: t=$old,v1=$hex" \
		--data-binary "$body" http://127.0.0.1:$AUX_PORT/hook >>status &&
	printf "200\n400\n400\n" >expect && test_cmp expect status &&
	grep "^bad" "$HOOK_LOG" >actual &&
	printf "bad bad_signature\nbad too_old\n" >expect && test_cmp expect actual
'

test_expect_success 'a receiver answering 500 gets the event again until it answers 200' '
	echo 500 >"$CONTROL" && sleep 0.3 &&
	chat_post r1 t1 m6 &&
	wait_for "grep -q \"^refused msg:r1:6\" $HOOK_LOG" 10 &&
	echo up >"$CONTROL" &&
	wait_for "grep -q \"^ok message msg:r1:6\" $HOOK_LOG" 20
'

test_expect_success 'bookpics-hooks killed: restarted, continues from its cursor' '
	pid=$(cat "$VAR/run/hooks.pid") && kill -9 $pid &&
	wait_for "test \"\$(cat $VAR/run/hooks.pid)\" != $pid" 10 &&
	chat_post r1 t1 m7 && admin message show r1 2 &&
	wait_for "grep -q \"^ok shown shw:r1:2\" $HOOK_LOG" 20 &&
	accepted | grep " msg:r1\| hid:r1\| shw:r1" >actual &&
	cat >expect <<-\EOF &&
	message msg:r1:1
	message msg:r1:2
	message msg:r1:3
	message msg:r1:4
	message msg:r1:5
	hidden hid:r1:1
	message msg:r1:6
	message msg:r1:7
	shown shw:r1:2
	EOF
	test_cmp expect actual &&
	grep "^ok" "$HOOK_LOG" | awk "{ print \$3 }" | sort | uniq -d >dups &&
	test_cmp /dev/null dups
'

test_expect_success 'a receiver that hangs does not slow webhooks (50 each, medians)' '
	webhooks 50 up >up.ms && test_line_count = 50 up.ms &&
	wait_for "grep -q \"^ok message msg:books:50 \" $HOOK_LOG" 60 &&
	echo hang >"$CONTROL" && sleep 0.3 &&
	webhooks 50 hang >hang.ms && test_line_count = 50 hang.ms &&
	up=$(median <up.ms) && hang=$(median <hang.ms) &&
	echo "# webhook median: receiver up $up ms, receiver hanging $hang ms" &&
	awk -v u=$up -v h=$hang "BEGIN { exit !(h < 2 * u + 20) }"
'

kill_bg
test_done
