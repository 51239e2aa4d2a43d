#!/bin/sh
test_description='kill -9 the FastCGI programs under load: no answered webhook lost, still gapless'
. ./test-lib.sh

test_expect_success 'start' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	# these webhooks are texts without pictures: let them on the wall
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	start_bookpics
'

# The webhook programs lighttpd spawned for this test (children of its pid).
webhook_pids() {
	for p in $(pgrep -P "$(cat "$VAR/run/lighttpd.pid")"); do
		if grep -q webhook.fcgi "/proc/$p/cmdline" 2>/dev/null; then echo "$p"; fi
	done
}

test_expect_success 'kill -9 the webhook processes three times during 8 x 500 webhooks' '
	test -n "$(webhook_pids)" &&
	"$BUILD/tools/tw-load" "$BASE/twilio/sms" secret123 8 500 SMk 50 >answers &
	load=$! &&
	kills=0 &&
	while [ $kills -lt 3 ] && kill -0 $load 2>/dev/null; do
		sleep 0.3 &&
		pids=$(webhook_pids) &&
		if [ -n "$pids" ] && kill -0 $load 2>/dev/null; then
			kill -9 $pids && kills=$((kills + 1))
		fi
	done &&
	wait $load &&
	echo "killed during the load: $kills times" &&
	sed -n "s/ 200\$//p" answers | sort -u | wc -l >count &&
	echo 4000 >expect && test_cmp expect count &&
	sed -n "/^SMk[0-7]x[0-9]* \(200\|0\|5[0-9][0-9]\)\$/!p" answers >unexpected &&
	test_cmp /dev/null unexpected
'

test_expect_success 'lighttpd respawned them and they work' '
	wait_for "test -n \"\$(webhook_pids)\"" 20 &&
	"$BUILD/tools/tw-load" "$BASE/twilio/sms" secret123 1 1 SMafter >after &&
	grep -q " 200$" after
'

test_expect_success 'every webhook answered 200 is stored, once; numbering gapless' '
	node "$TOP/tests/tools/room-dump.mjs" $BASE books >dump &&
	n=$(wc -l <dump) &&
	cut -d" " -f1 dump >indexes &&
	seq 1 $n >expect &&
	test_cmp expect indexes &&
	cut -d" " -f3 dump | sort >stored &&
	sort -u stored >unique &&
	test_cmp unique stored &&
	grep " 200$" answers after | cut -d" " -f1 | sed "s/^[^:]*://" | sort -u >answered &&
	comm -23 answered stored >lost &&
	test_cmp /dev/null lost &&
	test $(wc -l <answered) = 4001
'

test_done
