#!/bin/sh
test_description='the benchmark load client at a tiny size: 20 clients through /ws, 5 signed webhooks'
. ./test-lib.sh

test_expect_success 'start' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	# these webhooks are texts without pictures: let them on the wall
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	start_bookpics
'

test_expect_success 'wsload: 20 clients x 5 webhooks = 100 receipts, none missing or twice' '
	curl -s "$BASE/api/rooms/books/messages?limit=1" | grep -q "\"last\":0" &&
	"$BUILD/bench/wsload" --ws ws://127.0.0.1:$PORT/ws --clients 20 --msgs 5 \
		--interval-ms 20 --quiet 5 --timeout 30 \
		--subscribe "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":0}" \
		--pub-kind twilio --pub $BASE/twilio/sms --auth secret123 \
		--server $(cat "$VAR/run/relay.pid") --server $(cat "$VAR/run/lighttpd.pid") \
		--label "bookpics smoke" >summary 2>wsload.log &&
	cat summary &&
	test $(wc -l <summary) = 1 &&
	grep "^bookpics smoke clients=20 msgs=5 receipts=100 missing=0 dup=0 ooo=0 " summary &&
	grep " connected=20 failed=0 dropped=0 errors=0 pub_fail=0 " summary
'

test_expect_success 'the summary line is machine-readable: every field is name=number' '
	cut -d" " -f3- summary | tr " " "\n" >fields &&
	! grep -v "^[a-z0-9_]*=[0-9.]*$" fields &&
	grep -q "^p99_ms=" fields && grep -q "^cpu_us_per_msg=" fields &&
	grep -q "^rss_kb_per_conn=" fields
'

test_expect_success 'the webhooks were stored once each' '
	curl -s "$BASE/api/rooms/books/messages?limit=1" | grep -q "\"last\":5,"
'

test_done
