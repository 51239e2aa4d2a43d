#!/bin/sh
test_description='behind Apache 2.4: apache.conf as checked in, mod_fcgid programs and the relay as www-data'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

if ! test_have_prereq ROOT; then
	skip_all='not root: cannot run Apache and the programs as www-data'
	test_done
fi
if ! test_have_prereq APACHE; then
	skip_all='no apache2 with mod_fcgid, runuser and www-data'
	test_done
fi

# Everything here is on 127.0.0.1: no proxy may get in the way.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# Apache runs the programs as its User, never as root; the data, the relay
# and bookpics-admin belong to that user too (README, "Deploying behind
# Apache"). The checkout may sit where www-data cannot go (/root is 0700),
# so everything Apache serves or runs is copied under a fresh directory in
# /tmp: the programs, www/, Vue, and $VAR, which test-lib's log checks read.
RUN_AS=www-data
ROOT=$(mktemp -d /tmp/bookpics-t7000.XXXXXX) || exit 1
chmod 755 "$ROOT"
VAR=$ROOT/var
export VAR
APACHE=$ROOT/apache
MODS=/usr/lib/apache2/modules
VUE=node_modules/vue/dist/vue.esm-browser.prod.js
SID=ACapache0123456789abcdef
TOKEN=apache-auth-token-7
FAKE=$TOP/tests/tools/fake-twilio.mjs
FAKE_LOG=$TRASH/fake.log

# as_www CMD...: run CMD as Apache's user, as the README says to.
as_www() {
	runuser -u "$RUN_AS" -- "$@"
}

# bookpics-admin as Apache's user: as root it would create store files
# (0600) that the programs could not open.
admin() {
	as_www "$ROOT/bin/bookpics-admin" --var "$VAR" "$@"
}

# The relay as Apache's user; its own pid goes to run/relay.pid.
start_relay() {
	as_www sh -c 'echo $$ >"$1/run/relay.pid" && BOOKPICS_VAR=$1 exec "$2" --port "$3"' \
		sh "$VAR" "$ROOT/bin/bookpics-relay" "$RELAY_PORT" 2>>"$VAR/log/relay.log" &
	wait_for "test -s '$VAR/run/relay.pid'" 10 &&
	wait_for "curl -s -o /dev/null http://127.0.0.1:$RELAY_PORT/ws" 10
}

stop_relay() {
	[ -f "$VAR/run/relay.pid" ] || return 0
	_pid=$(cat "$VAR/run/relay.pid")
	rm -f "$VAR/run/relay.pid"
	kill "$_pid" 2>/dev/null && wait_for "! kill -0 $_pid" 10
}

# Apache with our own server config around apache.conf as checked in: its
# own pid file, runtime files and port; ErrorLog under $VAR/log, where
# mod_fcgid also sends the programs' stderr (and so any sanitizer report).
start_apache() {
	mkdir -p "$APACHE" &&
	sed -e "s|@TOP@|$ROOT|g" -e "s|@BIN@|$ROOT/bin|g" -e "s|@VAR@|$VAR|g" \
		-e "s|@PORT@|$PORT|g" -e "s|@RELAY_PORT@|$RELAY_PORT|g" \
		"$TOP/apache.conf" >"$APACHE/bookpics.conf" &&
	cat >"$APACHE/httpd.conf" <<-EOF &&
	ServerRoot "$APACHE"
	ServerName 127.0.0.1
	Listen 127.0.0.1:$PORT
	PidFile "$APACHE/httpd.pid"
	DefaultRuntimeDir "$APACHE"
	Mutex file:$APACHE default
	ErrorLog "$VAR/log/apache.log"
	LogLevel warn
	User $RUN_AS
	Group $RUN_AS
	TypesConfig /etc/mime.types
	LoadModule mpm_event_module $MODS/mod_mpm_event.so
	LoadModule authz_core_module $MODS/mod_authz_core.so
	LoadModule mime_module $MODS/mod_mime.so
	LoadModule dir_module $MODS/mod_dir.so
	LoadModule alias_module $MODS/mod_alias.so
	LoadModule fcgid_module $MODS/mod_fcgid.so
	LoadModule proxy_module $MODS/mod_proxy.so
	LoadModule proxy_http_module $MODS/mod_proxy_http.so
	FcgidIPCDir "$APACHE/fcgid"
	FcgidProcessTableFile "$APACHE/fcgid_shm"
	# The sanitized pass: mod_fcgid gives the programs no other environment.
	FcgidInitialEnv ASAN_OPTIONS "$ASAN_OPTIONS"
	FcgidInitialEnv UBSAN_OPTIONS "$UBSAN_OPTIONS"
	Include "$APACHE/bookpics.conf"
	EOF
	apache2 -t -f "$APACHE/httpd.conf" &&
	apache2 -f "$APACHE/httpd.conf" -k start &&
	wait_for "test -s '$APACHE/httpd.pid'" 10 &&
	wait_for "curl -sf $BASE/api/health" 20
}

# Stop Apache by its own pid (it stops the programs it started) and wait
# until its port is free.
stop_apache() {
	[ -f "$APACHE/httpd.pid" ] || return 0
	_pid=$(cat "$APACHE/httpd.pid")
	kill "$_pid" 2>/dev/null || return 0
	wait_for "! kill -0 $_pid" 15
	wait_for "! curl -s -o /dev/null $BASE/" 10
}

cleanup() {
	kill_bg
	stop_fake
	stop_apache
	stop_relay
	[ -n "$KEEP_TRASH" ] || rm -rf "$ROOT"
}
trap cleanup EXIT

# pic N FROM: picture N texted from FROM (digits); prints the HTTP status.
pic() {
	tw_post "MessageSid=SMap$1&AccountSid=$SID&From=%2B$2&Body=pic+$1&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F$SID%2FMessages%2FSMap$1%2FMedia%2FME1"
}

# How many lines room_lines prints for ROOM.
count() {
	room_lines "$1" | wc -l
}

header() {
	tr -d '\r' <headers | sed -n "s/^$1: //Ip"
}

mkdir -p "$ROOT/bin" "$ROOT/$(dirname "$VUE")" "$VAR/log" "$VAR/run" "$VAR/tmp" "$VAR/media" &&
cp "$BIN/webhook.fcgi" "$BIN/api.fcgi" "$BIN/bookpics-relay" "$BIN/bookpics-admin" "$ROOT/bin/" &&
cp -R "$TOP/www" "$ROOT/www" &&
mkdir -p "$ROOT/clients/js" && cp "$TOP/clients/js/bookpics-client.js" "$ROOT/clients/js/" &&
cp "$TOP/$VUE" "$ROOT/$VUE" &&
chown -R "$RUN_AS:$RUN_AS" "$VAR" || exit 1

test_expect_success 'apache.conf filled in passes apache2 -t; Apache and the relay start' '
	admin init --port $PORT >/dev/null &&
	admin twilio-token "$TOKEN" &&
	# some webhooks here are texts without pictures: let them on the wall
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	start_relay &&
	start_apache &&
	curl -s $BASE/api/health >actual && echo >>actual &&
	echo "{\"ok\":true,\"relay\":true,\"twilio_room\":\"books\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'the programs run as www-data, started by Apache (mod_fcgid) with BOOKPICS_VAR' '
	curl -s -o /dev/null $BASE/twilio/sms &&
	ps -eo user:20,args | grep -F "$ROOT/bin/" | grep -v -F -e grep -e runuser >procs &&
	cat procs &&
	grep -q -F "$ROOT/bin/api.fcgi" procs &&
	grep -q -F "$ROOT/bin/webhook.fcgi" procs &&
	grep -q -F "$ROOT/bin/bookpics-relay" procs &&
	cut -d" " -f1 procs | sort -u >actual &&
	echo $RUN_AS >expect &&
	test_cmp expect actual &&
	pid=$(pgrep -f -n "^$ROOT/bin/api.fcgi") &&
	tr "\0" "\n" </proc/$pid/environ | grep -E "^(BOOKPICS_VAR|ASAN_OPTIONS|UBSAN_OPTIONS)=" | sort >actual &&
	printf "ASAN_OPTIONS=%s\nBOOKPICS_VAR=%s\nUBSAN_OPTIONS=%s\n" "$ASAN_OPTIONS" "$VAR" "$UBSAN_OPTIONS" >expect &&
	test_cmp expect actual
'

test_expect_success 'the front end, /vendor/vue.js and /js/bookpics-client.js are served; dot files are not' '
	curl -s -D headers -o body $BASE/ &&
	cmp "$TOP/www/index.html" body &&
	test "$(header Content-Type)" = "text/html; charset=utf-8" &&
	curl -s -D headers -o body $BASE/vendor/vue.js &&
	cmp "$TOP/$VUE" body &&
	test "$(header Content-Type)" = "text/javascript; charset=utf-8" &&
	curl -s -D headers -o body $BASE/js/bookpics-client.js &&
	cmp "$TOP/clients/js/bookpics-client.js" body &&
	test "$(header Content-Type)" = "text/javascript; charset=utf-8" &&
	echo secret >"$ROOT/www/.hidden" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" $BASE/.hidden)" = 403
'

test_expect_success 'a signed webhook: 200 empty TwiML, the picture in the API as under lighttpd' '
	form="MessageSid=SM0001&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=My+favourite%21&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FSM0001%2FMedia%2FME1" &&
	curl -s -D headers -o response -H "X-Twilio-Signature: $("$BUILD/tools/tw-sign" "$BASE/twilio/sms" "$TOKEN" "$form")" \
		--data-binary "$form" $BASE/twilio/sms &&
	head -n 1 headers | grep -q "^HTTP/1.1 200" &&
	test "$(header Content-Type)" = text/xml &&
	printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>" >expect &&
	test_cmp expect response &&
	curl -s "$BASE/api/rooms/books/messages" >page &&
	first_picture_ok &&
	! grep -q 14155550100 page && ! grep -q api.twilio.com page
'

test_expect_success 'the signature covers the request URI exactly as received' '
	test "$(tw_post "MessageSid=SM0002&From=%2B15550000001&Body=q" "/twilio/sms?site=a%27b&x=1")" = 200 &&
	sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" "$TOKEN" "MessageSid=SM0003&Body=x") &&
	status=$(curl -s -o /dev/null -w "%{http_code}" -H "X-Twilio-Signature: $sig" \
		--data-binary "MessageSid=SM0003&Body=x" "$BASE/twilio/sms?x=1") &&
	test "$status" = 403 &&
	room_lines books >actual &&
	cat >expect <<-\EOF &&
	1 sms:…0100 picture My favourite!
	2 sms:…0001 text message q
	EOF
	test_cmp expect actual
'

test_expect_success 'a wrong or a missing signature: 403, nothing stored' '
	status=$(curl -s -o response -w "%{http_code}" -H "X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=" \
		--data-binary "MessageSid=SM0004&Body=x" $BASE/twilio/sms) &&
	test "$status" = 403 &&
	printf "{\"error\":\"forbidden\",\"message\":\"missing or invalid X-Twilio-Signature\"}" >expect &&
	test_cmp expect response &&
	status=$(curl -s -o response -w "%{http_code}" --data-binary "MessageSid=SM0005&Body=x" $BASE/twilio/sms) &&
	test "$status" = 403 &&
	test_cmp expect response &&
	test "$(count books)" = 2
'

test_expect_success 'oversized bodies: the program answers its JSON 413, chunked or not; over 1 MiB Apache answers 413' '
	head -c 70000 /dev/zero | tr "\0" a >big &&
	status=$(curl -s -o response -w "%{http_code}" -H "X-Twilio-Signature: x" \
		--data-binary @big $BASE/twilio/sms) &&
	test "$status" = 413 &&
	printf "{\"error\":\"too_large\",\"message\":\"request body of 70000 bytes is over the limit of 65536\"}" >expect &&
	test_cmp expect response &&
	status=$(curl -s -o response -w "%{http_code}" -H "X-Twilio-Signature: x" \
		-H "Transfer-Encoding: chunked" --data-binary @big $BASE/twilio/sms) &&
	test "$status" = 413 &&
	test_cmp expect response &&
	head -c 2000000 /dev/zero | tr "\0" a >huge &&
	status=$(curl -s -o response -w "%{http_code}" -H "X-Twilio-Signature: x" \
		--data-binary @huge $BASE/twilio/sms) &&
	test "$status" = 413 &&
	grep -q "Request Entity Too Large" response &&
	status=$(curl -s -o response -w "%{http_code}" -H "X-Twilio-Signature: x" \
		-H "Transfer-Encoding: chunked" --data-binary @huge $BASE/twilio/sms) &&
	test "$status" = 413 &&
	grep -q "^{\"error\":\"too_large\"" response &&
	test "$(count books)" = 2
'

test_expect_success 'routing by REQUEST_URI: the same JSON 404 and 405 as under lighttpd' '
	curl -s -o response -w "%{http_code}\n" $BASE/api/rooms/books/nothing >actual &&
	cat response >>actual &&
	curl -s -o response -w "%{http_code}\n" $BASE/media/books/1/0/extra >>actual &&
	cat response >>actual &&
	curl -s -o response -w "%{http_code}\n" $BASE/twilio/sms >>actual &&
	cat response >>actual && echo >>actual &&
	cat >expect <<-\EOF &&
	404
	{"error":"not_found","message":"no such resource: /api/rooms/books/nothing"}404
	{"error":"not_found","message":"no such media: use /media/{room}/{index}/{n}"}405
	{"error":"method_not_allowed","message":"use POST"}
	EOF
	test_cmp expect actual
'

test_expect_success 'CORS through Apache: OPTIONS reaches api.fcgi, a listed origin is answered' '
	echo "cors_origins = https://app.example.org" >>"$VAR/bookpics.conf" &&
	for o in https://app.example.org https://evil.example.org; do
		curl -s -o /dev/null -D head -w "%{http_code}\n" -X OPTIONS -H "Origin: $o" \
			-H "Access-Control-Request-Method: POST" "$BASE/api/rooms/books/messages" &&
		tr -d "\r" <head | grep -i "^\(access-control-\|vary:\)" || return 1
	done >raw &&
	# Apache adds Content-Length to the Vary of a 204 (its own, harmless)
	sed "s/^Vary: Origin,Content-Length$/Vary: Origin/" raw >actual &&
	cat >expect <<-\EOF &&
	204
	Vary: Origin
	Access-Control-Allow-Origin: https://app.example.org
	Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS
	Access-Control-Allow-Headers: Authorization, Content-Type, Idempotency-Key
	Access-Control-Max-Age: 7200
	204
	Vary: Origin
	EOF
	test_cmp expect actual
'

test_expect_success 'a WebSocket through Apache /ws subscribed to books gets the next picture live' '
	ws_bg wall $WS --send "{\"action\":\"subscribe\",\"room\":\"books\"}" &&
	head -n 1 wall.out >actual &&
	echo "{\"type\":\"hello\",\"connectionId\":\"ID\",\"userId\":null,\"rooms\":[]}" >expect &&
	test_cmp expect actual &&
	test "$(pic 3 14155550123)" = 200 &&
	wait_count wall.out "^message books" 1 &&
	messages_of wall.out >actual &&
	echo "books 3 sms:…0123 pic 3" >expect &&
	test_cmp expect actual &&
	ws_stop wall
'

test_expect_success 'chat: a Bearer token through the API (CGIPassAuth) reaches a member over /ws' '
	admin user add uuid1 && admin user add uuid2 && admin user add uuid3 &&
	admin room add uuidroom1 &&
	admin member add uuid1 uuidroom1 && admin member add uuid2 uuidroom1 &&
	admin token uuid1 >t1 && admin token uuid2 >t2 && admin token uuid3 >t3 &&
	ws_bg u1 "$WS?token=$(cat t1)" &&
	for t in t2 t3 none; do
		auth= &&
		if [ -f $t ]; then auth="Authorization: Bearer $(cat $t)"; fi &&
		curl -s -o post.body -w "%{http_code} " -H "$auth" -H "Content-Type: application/json" \
			--data-binary "{\"chatMessage\":\"from $t\",\"messageType\":\"text message\"}" \
			"$BASE/api/rooms/uuidroom1/messages" >>posts &&
		cat post.body >>posts && echo >>posts || return 1
	done &&
	cat >expect <<-\EOF &&
	201 {"room":"uuidroom1","index":1}
	403 {"error":"not_member","message":"user '"'"'uuid3'"'"' is not a member of '"'"'uuidroom1'"'"'"}
	401 {"error":"unauthorized","message":"a Bearer token is required to send"}
	EOF
	test_cmp expect posts &&
	wait_count u1.out "^message " 1 &&
	sleep 0.3 &&
	messages_of u1.out >actual &&
	echo "uuidroom1 1 uuid2 from t2" >expect &&
	test_cmp expect actual &&
	ws_stop u1
'

test_expect_success 'chat: Idempotency-Key reaches the API through Apache (HTTP_IDEMPOTENCY_KEY): a retry is replayed' '
	for i in 1 2; do
		curl -s -o post.body -D post.head -w "%{http_code} " -H "Authorization: Bearer $(cat t2)" \
			-H "Idempotency-Key: apache-1" -H "Content-Type: application/json" \
			--data-binary "{\"chatMessage\":\"keyed\"}" \
			"$BASE/api/rooms/uuidroom1/messages" >>keyed &&
		cat post.body >>keyed && echo >>keyed &&
		tr -d "\r" <post.head | grep -i "^idempotent-replayed:" >>keyed; true
	done &&
	cat >expect <<-\EOF &&
	201 {"room":"uuidroom1","index":2}
	201 {"room":"uuidroom1","index":2}
	Idempotent-Replayed: true
	EOF
	test_cmp expect keyed
'

test_expect_success 'media through Apache: fetched once from (fake) Twilio, the clean picture sent by the handler itself' '
	start_fake &&
	admin twilio-account "$SID" &&
	sed -i "s|^media_hosts *=.*|media_hosts = http://127.0.0.1:$AUX_PORT|" "$VAR/bookpics.conf" &&
	tw=http%3A%2F%2F127.0.0.1%3A$AUX_PORT%2F2010-04-01%2FAccounts%2F$SID%2FMessages%2FMM1%2FMedia &&
	test "$(tw_post "MessageSid=MM1&From=%2B14155550100&NumMedia=2&MediaUrl0=$tw%2Fpic-30000&MediaContentType0=image%2Fjpeg&MediaUrl1=$tw%2Fmissing&MediaContentType1=image%2Fjpeg")" = 200 &&
	curl -s -D headers -o body -w "%{http_code}\n" $BASE/media/books/4/0 >status &&
	echo 200 >expect && test_cmp expect status &&
	cp "$VAR/media/books/4-0-$(header ETag | tr -d "\"")" expect.bin &&
	cmp expect.bin body &&
	test "$(header Content-Type)" = image/jpeg &&
	test "$(header Content-Length)" = "$(wc -c <expect.bin)" &&
	test "$(header Cache-Control)" = "public, max-age=60" &&
	test -z "$(header X-Sendfile)" &&
	grep -c "/Media/pic-30000 host=.* auth=Basic " "$FAKE_LOG" >n &&
	echo 1 >expect && test_cmp expect n &&
	etag=$(header ETag) &&
	curl -s -D headers -o body $BASE/media/books/4/0 &&
	cmp expect.bin body &&
	rm body &&
	test "$(curl -s -o body -w "%{http_code}" -H "If-None-Match: $etag" $BASE/media/books/4/0)" = 304 &&
	test ! -s body &&
	test "$(curl -s -o body -w "%{http_code}" -r 100-199 $BASE/media/books/4/0)" = 200 &&
	cmp expect.bin body &&
	grep -c "/pic-30000 " "$FAKE_LOG" >n &&
	echo 2 >expect && test_cmp expect n &&
	test "$(curl -s -o body -w "%{http_code}" $BASE/media/books/4/1)" = 502 &&
	grep -q "upstream answered 404" body
'

test_expect_success 'the programs stderr lands in $VAR/log (where test-lib looks for sanitizer reports)' '
	# the webhook may have tried it first (prefetch): then the request
	# answers from the remembered failure, "... (remembered for 60 s)"
	wait_for "grep -q \"^media: books/4/1: upstream answered 404\" \"$VAR/log/apache.log\"" 5
'

test_expect_success 'everything under $VAR but the logs Apache opens belongs to www-data; the store is 0700, its files 0600' '
	find "$VAR" ! -user $RUN_AS ! -path "$VAR/log/*.log" >actual &&
	test_cmp /dev/null actual &&
	test "$(stat -c %a "$VAR/db")" = 700 &&
	# __db.register holds only the pids of the processes using the store.
	find "$VAR/db" -type f ! -perm 0600 ! -name __db.register >actual &&
	test_cmp /dev/null actual
'

test_expect_success 'Apache stops: no program it started is left running' '
	stop_apache &&
	{ ps -eo args | grep -F -e "$ROOT/bin/api.fcgi" -e "$ROOT/bin/webhook.fcgi" | grep -v grep >actual || :; } &&
	test_cmp /dev/null actual
'

# test_done removes $TRASH: stop everything first ($ROOT goes on exit).
kill_bg
stop_fake
stop_relay
test_done
