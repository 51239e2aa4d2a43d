#!/bin/sh
test_description='kill -9 every kind of process in turn, 40 times, under webhook load: nothing lost, nothing hangs'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

ROUNDS=${ROUNDS:-40}
CLIENTS=4
COUNT=125

# kind_pid KIND: one live process of KIND (webhook, api, relay, lighttpd).
kind_pid() {
	case $1 in
	relay|lighttpd)
		_p=$(cat "$VAR/run/$1.pid" 2>/dev/null) && kill -0 "$_p" 2>/dev/null && echo "$_p" ;;
	*)
		for _p in $(pgrep -P "$(cat "$VAR/run/lighttpd.pid")"); do
			if grep -q "$1.fcgi" "/proc/$_p/cmdline" 2>/dev/null; then echo "$_p"; return 0; fi
		done
		return 1 ;;
	esac
}

# cpu_ticks PID...: "PID utime+stime" (clock ticks) for each.
cpu_ticks() {
	for _p; do
		sed "s/.*) //" /proc/$_p/stat | awk -v p=$_p '{ print p, $12 + $13 }'
	done
}

test_expect_success 'start; WebSocket clients subscribed, reconnecting' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	start_bookpics &&
	wait_for "grep -q event=running $VAR/log/run.log" 20 &&
	{ ws $WS --clients 2 --reconnect --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":0}" \
		--expect-messages $((CLIENTS * COUNT)) --ready ws.ready --timeout 100 >ws.sum & } &&
	echo $! >ws.pid && bg_pid $(cat ws.pid) &&
	wait_for "test -f ws.ready" 10
'

test_expect_success "$ROUNDS rounds of kill -9 (webhook, api, relay, lighttpd in turn) under load" '
	t0=$(date +%s%N) &&
	{ "$BUILD/tools/tw-load" -l -t 5 -p 100 "$BASE/twilio/sms" secret123 $CLIENTS $COUNT SMk 100 \
		>answers & } &&
	load=$! && bg_pid $load &&
	sleep 0.5 &&
	i=0 && : >kills &&
	while [ $i -lt $ROUNDS ]; do
		case $((i % 4)) in 0) kind=webhook ;; 1) kind=api ;; 2) kind=relay ;; 3) kind=lighttpd ;; esac &&
		wait_for "kind_pid $kind" 6 || { echo "no $kind process within 6 s"; return 1; } &&
		p=$(kind_pid $kind) &&
		kill -9 $p && echo "$kind $p" >>kills &&
		i=$((i + 1)) &&
		sleep 0.4
	done &&
	echo "kills done in $(( ($(date +%s%N) - t0) / 1000000 )) ms" &&
	wait_for "! kill -0 $load" 60 &&
	echo "load done in $(( ($(date +%s%N) - t0) / 1000000 )) ms" &&
	test_line_count = $ROUNDS kills &&
	for k in webhook api relay lighttpd; do
		test $(grep -c "^$k " kills) = $((ROUNDS / 4)) || return 1
	done
'

test_expect_success 'every attempt answered (or refused) within 5 s; every webhook answered 200 in the end' '
	awk "{ print \$3 }" answers | sort -n >ms &&
	n=$(wc -l <ms) &&
	echo "attempts=$n refused_or_dropped=$(grep -c " 0 " answers) status5xx=$(grep -c " 5[0-9][0-9] " answers)" \
	     "p50=$(sed -n "$(( (n + 1) / 2 ))p" ms) p99=$(sed -n "$(( (n * 99 + 99) / 100 ))p" ms)" \
	     "max=$(tail -n 1 ms) ms" &&
	awk "\$3 >= 5000" answers >slow && test_cmp /dev/null slow &&
	sed -n "/^SMk[0-9]*x[0-9]* \(200\|0\|5[0-9][0-9]\) [0-9]*\$/!p" answers >unexpected &&
	test_cmp /dev/null unexpected &&
	awk "\$2 == 200 { print \$1 }" answers | sort -u >answered &&
	test_line_count = $((CLIENTS * COUNT)) answered &&
	awk "{ t[\$1] += \$3 + (\$2 == 200 ? 0 : 100) } END { for (s in t) print t[s] }" answers |
		sort -n | tail -n 1 >worst &&
	echo "longest time to a 200, retries included: $(cat worst) ms"
'

test_expect_success 'every webhook answered 200 is stored once; numbering gapless' '
	wait_for "curl -sf -o /dev/null $BASE/api/health" 10 &&
	node "$TOP/tests/tools/room-dump.mjs" $BASE books >dump &&
	n=$(wc -l <dump) &&
	cut -d" " -f1 dump >indexes && seq 1 $n >expect && test_cmp expect indexes &&
	cut -d" " -f3 dump | sort >stored && sort -u stored >unique && test_cmp unique stored &&
	comm -23 answered stored >lost && test_cmp /dev/null lost &&
	echo "stored=$n answered=$(wc -l <answered)"
'

test_expect_success 'the WebSocket clients got every message, in order, across the kills' '
	wait_for "! kill -0 $(cat ws.pid)" 60 &&
	cat ws.sum &&
	sed "s/ reconnects=[0-9]*//" ws.sum >actual &&
	echo "clients=2 complete=2 dup=0 gap=0 order=ok" >expect &&
	test_cmp expect actual
'

test_expect_success 'no hang: nothing spins, a new webhook is answered at once, one of each kind runs' '
	for k in webhook api relay lighttpd; do kind_pid $k >/dev/null || return 1; done &&
	pids="$(cat "$VAR/run/lighttpd.pid") $(pgrep -P "$(cat "$VAR/run/lighttpd.pid")") $(cat "$VAR/run/relay.pid")" &&
	cpu_ticks $pids >before && sleep 1 && cpu_ticks $pids >after &&
	paste before after | awk "{ d = \$4 - \$2; if (d > 50) { print \$1, d; bad = 1 } } END { exit bad }" &&
	"$BUILD/tools/tw-load" -l -t 5 "$BASE/twilio/sms" secret123 1 1 SMafter >after.out &&
	grep -q "^SMafter0x1 200 " after.out
'

kill_bg
test_done
