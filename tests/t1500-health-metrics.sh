#!/bin/sh
test_description='/api/health names its problems; /api/metrics in Prometheus text; one log format, no secrets'
. ./test-lib.sh

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
TOKEN=health-token-1500
WRONG=another-token-1500
MTOKEN=metrics-token-0123456789
SID=ACfake1500
FAKE_LOG=$TRASH/fake.log
TW=http://127.0.0.1:$AUX_PORT/2010-04-01/Accounts/$SID/Messages
# ISO-8601 UTC with milliseconds: the start of every program line
TIME='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
trap 'stop_fake; stop_bookpics' EXIT

form() {
	echo "MessageSid=$1&AccountSid=$SID&From=%2B14155550100&To=%2B18005551212&Body=hello+$1&NumMedia=${2:-0}&MediaContentType0=image%2Fjpeg&MediaUrl0=$TW/$1/Media/pic-3000"
}

# signed FORM TOKEN: POST a webhook signed with TOKEN; prints the status.
signed() {
	_sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" "$2" "$1")
	curl -s -o response -w '%{http_code}\n' -H "X-Twilio-Signature: $_sig" \
		--data-binary "$1" "$BASE/twilio/sms"
}

health() {
	curl -s -w '\n%{http_code}\n' "$BASE/api/health"
}

# scrape [CURL ARGS]: /api/metrics, checked strictly as Prometheus text
# 0.0.4 (prom.check), its samples as "name{labels} value" lines in ./samples.
scrape() {
	curl -s -D headers -o metrics "$@" "$BASE/api/metrics" &&
	tr -d '\r' <headers | grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8$' &&
	node -e '
		const fs = require("fs");
		const text = fs.readFileSync("metrics", "utf8");
		const readme = fs.readFileSync(process.env.TOP + "/README.md", "utf8");
		const help = {}, type = {}, out = [];
		const name = "bookpics_[a-z_]+", label = "[a-z_]+=\"[^\"\\\\\\n]*\"";
		const sample = new RegExp(`^(${name})(\\{${label}(,${label})*\\})? (-?[0-9]+(\\.[0-9]+)?)$`);
		if (!text.endsWith("\n")) throw new Error("no final newline");
		for (const line of text.slice(0, -1).split("\n")) {
			let m;
			if ((m = /^# HELP (\S+) \S.*$/.exec(line))) {
				if (help[m[1]]) throw new Error("second HELP: " + line);
				help[m[1]] = 1;
			} else if ((m = /^# TYPE (\S+) (counter|gauge)$/.exec(line))) {
				if (type[m[1]] || !help[m[1]]) throw new Error("TYPE twice or before HELP: " + line);
				type[m[1]] = m[2];
			} else if ((m = sample.exec(line))) {
				if (!type[m[1]]) throw new Error("sample before its TYPE: " + line);
				if (type[m[1]] === "counter" && !m[1].endsWith("_total"))
					throw new Error("a counter not named _total: " + line);
				out.push(line);
			} else {
				throw new Error("not Prometheus text: " + JSON.stringify(line));
			}
		}
		for (const n of Object.keys(help))
			if (!type[n] || !readme.includes("`" + n + "`"))
				throw new Error("no TYPE or not in README: " + n);
		fs.writeFileSync("samples", out.join("\n") + "\n");
	'
}

# value NAME[{LABELS}]: one sample of the last scrape
value() {
	awk -v k="$1" '$1 == k { print $2; n++ } END { exit n != 1 }' samples
}

start_fake || { echo "fake Twilio did not start"; cat "$TRASH/fake.out"; exit 1; }
start_bookpics || exit 1

test_expect_success 'all in order: health 200, exactly' '
	admin twilio-token "$TOKEN" &&
	admin twilio-account "$SID" &&
	sed -i "s|^media_hosts *=.*|media_hosts = http://127.0.0.1:$AUX_PORT|" "$VAR/bookpics.conf" &&
	wait_for "curl -s $BASE/api/health | grep -q relay.:true" 10 &&
	health >actual &&
	printf "%s\n" "{\"ok\":true,\"relay\":true,\"twilio_room\":\"books\"}" 200 >expect &&
	test_cmp expect actual
'

test_expect_success 'a metrics scrape parses as Prometheus text; every family documented' '
	scrape &&
	cut -d" " -f1 samples >names &&
	cat >expect <<-\EOF &&
	bookpics_webhooks_total{outcome="stored"}
	bookpics_webhooks_total{outcome="duplicate"}
	bookpics_webhooks_total{outcome="refused_signature"}
	bookpics_webhooks_total{outcome="bad_request"}
	bookpics_webhooks_total{outcome="error"}
	bookpics_webhooks_total{outcome="not_posted"}
	bookpics_webhooks_total{outcome="queued"}
	bookpics_webhooks_refused_streak
	bookpics_media_fetches_total{result="ok"}
	bookpics_media_fetches_total{result="failed"}
	bookpics_media_cache_hits_total
	bookpics_relay_up
	bookpics_relay_delivered_total
	bookpics_relay_backlog
	bookpics_rooms
	bookpics_messages_stored_total
	bookpics_connections_open
	bookpics_store_log_bytes
	bookpics_store_log_files
	EOF
	grep -v -e checkpoint_age -e scrape_errors names >actual &&
	test_cmp expect actual &&
	test "$(value bookpics_relay_up)" = 1 &&
	test "$(value bookpics_scrape_errors)" = 0 &&
	test "$(value bookpics_store_log_bytes)" -gt 0
'

test_expect_success 'counters move with the requests: stored, duplicate, bad request, media' '
	scrape && cp samples before &&
	test "$(signed "$(form MM1500A 1)" "$TOKEN")" = 200 &&
	test "$(signed "$(form MM1500A 1)" "$TOKEN")" = 200 &&
	test "$(signed "MessageSid=bad!&Body=x" "$TOKEN")" = 400 &&
	# the webhook fetched the picture itself after answering (prefetch):
	# one fetch, and both requests are cache hits
	wait_for "ls \"$VAR\"/media/books/1-0-*.webp" 20 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" $BASE/media/books/1/0)" = 200 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" $BASE/media/books/1/0)" = 200 &&
	scrape &&
	for k in "bookpics_webhooks_total{outcome=\"stored\"} 1" \
		 "bookpics_webhooks_total{outcome=\"duplicate\"} 1" \
		 "bookpics_webhooks_total{outcome=\"bad_request\"} 1" \
		 "bookpics_webhooks_total{outcome=\"refused_signature\"} 0" \
		 "bookpics_messages_stored_total 1" \
		 "bookpics_media_fetches_total{result=\"ok\"} 1" \
		 "bookpics_media_cache_hits_total 2"; do
		set -- $k &&
		old=$(awk -v k="$1" "\$1 == k { print \$2 }" before) &&
		test "$(value "$1")" = $((old + $2)) || { echo "$1: $old -> $(value "$1"), not +$2"; exit 1; }
	done
'

test_expect_success 'a stored webhook is logged at info, sender masked' '
	grep -h -E "^$TIME level=info prog=webhook event=stored room=books index=1 sid=MM1500A from=\"sms:…0100\"\$" "$VAR"/log/*.log >lines &&
	test_line_count = 1 lines &&
	grep -h -E "^$TIME level=warn prog=webhook event=bad_request reason=message_sid ip=127\.0\.0\.1\$" "$VAR"/log/*.log >lines &&
	test_line_count = 1 lines
'

test_expect_success 'wrong Twilio token: five 403s, each logged with its reason' '
	for i in 1 2 3 4 5; do
		test "$(signed "$(form SM1500W$i)" "$WRONG")" = 403 || exit 1
	done &&
	grep -h -E "^$TIME level=warn prog=webhook event=refused reason=bad_signature ip=127\.0\.0\.1 detail=http://127\.0\.0\.1:$PORT/twilio/sms\$" \
		"$VAR"/log/*.log >lines &&
	test_line_count = 5 lines
'

test_expect_success 'health is 503 naming the refused webhooks; metrics count them' '
	health >actual &&
	printf "%s\n" "{\"ok\":false,\"relay\":true,\"twilio_room\":\"books\",\"problems\":[\"the last 5 webhooks were all refused: check twilio_auth_token and public_url\"]}" 503 >expect &&
	test_cmp expect actual &&
	scrape &&
	test "$(value "bookpics_webhooks_total{outcome=\"refused_signature\"}")" = 5 &&
	test "$(value bookpics_webhooks_refused_streak)" = 5
'

test_expect_success 'a missing signature is its own reason; one good webhook clears the problem' '
	test "$(curl -s -o /dev/null -w "%{http_code}" --data-binary "$(form SM1500M)" $BASE/twilio/sms)" = 403 &&
	grep -h -E "^$TIME level=warn prog=webhook event=refused reason=missing_signature ip=127\.0\.0\.1 " "$VAR"/log/*.log >lines &&
	test_line_count = 1 lines &&
	test "$(signed "$(form SM1500B)" "$TOKEN")" = 200 &&
	health >actual &&
	printf "%s\n" "{\"ok\":true,\"relay\":true,\"twilio_room\":\"books\"}" 200 >expect &&
	test_cmp expect actual
'

# The programs as plain CGI (cgit-style): REMOTE_ADDR is whatever we say.
cgi_metrics() {
	env REQUEST_METHOD=GET REQUEST_URI=/api/metrics REMOTE_ADDR=192.0.2.7 \
		BOOKPICS_VAR="$VAR" "$@" "$BIN/api.fcgi" </dev/null | tr -d "\r" | sed -n "s/^Status: //p"
}

test_expect_success 'metrics from elsewhere: 403, unless Bearer metrics_token' '
	test "$(cgi_metrics)" = "403 Forbidden" &&
	test "$(cgi_metrics HTTP_AUTHORIZATION="Bearer $MTOKEN")" = "403 Forbidden" &&
	sed -i "s|^metrics_token *=.*|metrics_token = $MTOKEN|" "$VAR/bookpics.conf" &&
	test "$(cgi_metrics)" = "403 Forbidden" &&
	test "$(cgi_metrics HTTP_AUTHORIZATION="Bearer ${MTOKEN}x")" = "403 Forbidden" &&
	test "$(cgi_metrics HTTP_AUTHORIZATION="Bearer $MTOKEN")" = "200 OK" &&
	scrape -H "Authorization: Bearer $MTOKEN"
'

test_expect_success 'the access log: one line per request in the format, no query, no token' '
	curl -s -o /dev/null "$BASE/api/health?token=sekrit1500" &&
	wait_for "grep -q \"path=\\\"/api/health\\\" status=200\" \"$VAR/log/access.log\"" 5 &&
	grep -E "^$TIME level=info prog=lighttpd event=access ip=127\.0\.0\.1 method=GET path=\"/api/health\" status=200 bytes=[0-9]+ us=[0-9]+ ua=\"curl/[^\"]*\" referer=\"-\"\$" \
		"$VAR/log/access.log" >lines &&
	test -s lines &&
	! grep -q sekrit1500 "$VAR/log/access.log"
'

test_expect_success 'relay killed: 503 with "relay is down"' '
	kill -9 "$(cat "$VAR/run/relay.pid")" &&
	wait_for "curl -s $BASE/api/health | grep -q relay.:false" 10 &&
	health >actual &&
	printf "%s\n" "{\"ok\":false,\"relay\":false,\"twilio_room\":\"books\",\"problems\":[\"relay is down\"]}" 503 >expect &&
	test_cmp expect actual &&
	scrape && test "$(value bookpics_relay_up)" = 0
'

test_expect_success 'every program line has the format; no token, signature or phone number in any log' '
	grep -h "prog=" "$VAR"/log/*.log | grep -v -E "^$TIME level=(debug|info|warn|error) prog=[a-z]+ event=[a-z_]+( |\$)" >bad || :;
	test_cmp /dev/null bad &&
	sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" "$WRONG" "$(form SM1500W1)") &&
	! grep -r -F -e "$TOKEN" -e "$WRONG" -e "$MTOKEN" -e "$sig" -e 14155550100 -e 4155550100 "$VAR/log"
'


test_done
