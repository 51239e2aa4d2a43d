#!/bin/sh
test_description='the media mirror: /media/{room}/{index}/{n} fetched once from (fake) Twilio, cleaned, then sent by lighttpd'
. ./test-lib.sh

# Everything here is on 127.0.0.1: no proxy may get in the way.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
SID=ACfake0123456789abcdef
TOKEN=fake-auth-token-42
MAX=100000
TW=http://127.0.0.1:$AUX_PORT/2010-04-01/Accounts/$SID/Messages
FAKE=$TOP/tests/tools/fake-twilio.mjs
FAKE_LOG=$TRASH/fake.log
CONF=$VAR/bookpics.conf

# The alternative lighttpd of the docroot test, if it is still running.
stop_alt() {
	[ -f "$TRASH/alt.pid" ] || return 0
	kill "$(cat "$TRASH/alt.pid")" 2>/dev/null
	rm -f "$TRASH/alt.pid"
}
trap 'stop_alt; stop_fake; stop_bookpics' EXIT

# post_media MSGSID SID... - a webhook whose media are Twilio media SIDs
# (the fake's /cdn/ names); prints the webhook's HTTP status.
post_media() {
	_msg=$1
	shift
	_form="MessageSid=$_msg&AccountSid=$SID&From=%2B14155550100&To=%2B18005551212&Body=pic&NumMedia=$#"
	_i=0
	for _m in "$@"; do
		_form="$_form&MediaContentType$_i=image%2Fjpeg&MediaUrl$_i=$TW/$_msg/Media/$_m"
		_i=$((_i + 1))
	done
	tw_post "$_form"
}

# get PATH [curl args] - GET $BASE$PATH: body to ./body, headers to ./headers, prints the status.
get() {
	_p=$1
	shift
	rm -f headers body
	curl -s --path-as-is -m 40 -D headers -o body -w '%{http_code}\n' "$@" "$BASE$_p"
}

# How many upstream requests for exactly this path (its end) were seen.
seen() {
	grep -c -- "$1 host=" "$FAKE_LOG" || true
}

expect_bytes() {
	node "$FAKE" --print "$1" >expect.bin
}

# clean_of NAME FILE: FILE is the clean picture made of what the fake
# serves as NAME (t5100 tests the cleaning itself): a JPEG of the same
# size, without the upstream's COM padding or any APP1/APP2/APP13 block.
clean_of() {
	expect_bytes "$1" &&
	node "$IMG" info expect.bin | cut -d" " -f1,2 >clean.expect &&
	node "$IMG" info "$2" >clean.info &&
	cut -d" " -f1,2 clean.info >clean.actual &&
	test_cmp clean.expect clean.actual &&
	! grep -E "COM|APP1|APP2|APP13" clean.info &&
	! cmp -s expect.bin "$2"
}
IMG=$TOP/tests/tools/img.mjs

# Every file under $VAR/media, relative, sorted.
media_files() {
	(cd "$VAR/media" && find . -type f | sort)
}

header() {
	tr -d '\r' <headers | sed -n "s/^$1: //Ip"
}

start_fake || { echo "fake Twilio did not start"; cat "$TRASH/fake.out"; exit 1; }
start_bookpics || exit 1

test_expect_success 'bookpics-admin twilio-account stores the account SID' '
	admin twilio-account "$SID" &&
	grep -q "^twilio_account_sid = $SID\$" "$CONF" &&
	admin twilio-token "$TOKEN" &&
	grep -q "^twilio_auth_token = $TOKEN\$" "$CONF" &&
	test "$(stat -c %a "$CONF")" = 600 &&
	{ admin twilio-account 2>err; test $? = 2; } &&
	grep -q "twilio-account SID" err
'

test_expect_success 'media_hosts allows the fake Twilio; pictures are stored' '
	sed -i -e "s|^media_hosts *=.*|media_hosts = http://127.0.0.1:$AUX_PORT|" \
		-e "s|^media_max_bytes *=.*|media_max_bytes = $MAX|" \
		-e "s|^media_prefetch *=.*|media_prefetch = off|" \
		-e "s|^media_retry_after *=.*|media_retry_after = 0|" "$CONF" &&
	grep -q "^media_prefetch = off\$" "$CONF" &&
	grep -q "^media_retry_after = 0\$" "$CONF" &&
	test "$(post_media MM1 pic-30000 chunked-20000 back relative)" = 200 &&
	curl -s "$BASE/api/rooms/books/messages" >page &&
	grep -q "\"media\":\[{\"url\":\"/media/books/1/0\",\"contentType\":\"image/jpeg\"},{\"url\":\"/media/books/1/1\"" page &&
	! grep -q "$AUX_PORT" page &&
	! grep -q /Media/ "$FAKE_LOG"
'

# media_prefetch is off here: this script tests the fetch of the first
# request; t5100 tests the prefetch after the webhook.
test_expect_success 'first request: Basic auth to Twilio, redirect followed without it, the clean picture served' '
	test "$(get /media/books/1/0)" = 200 &&
	clean_of pic-30000 body &&
	test "$(header Content-Type)" = image/jpeg &&
	test "$(header Content-Length)" = "$(wc -c <body)" &&
	test "$(header Cache-Control)" = "public, max-age=60" &&
	header ETag | grep -q "^\"[0-9a-f]\{16\}\"\$" &&
	test "$(header X-Content-Type-Options)" = nosniff &&
	header Content-Security-Policy | grep -q sandbox &&
	test -z "$(header X-Sendfile)" &&
	basic=$(printf "%s" "$SID:$TOKEN" | base64 -w0) &&
	grep "/Media/pic-30000 " "$FAKE_LOG" >api.log &&
	echo "GET /2010-04-01/Accounts/$SID/Messages/MM1/Media/pic-30000 host=127.0.0.1:$AUX_PORT auth=Basic $basic" >expect &&
	test_cmp expect api.log &&
	grep "/cdn/pic-30000" "$FAKE_LOG" >cdn.log &&
	echo "GET /cdn/pic-30000 host=localhost:$AUX_PORT auth=-" >expect &&
	test_cmp expect cdn.log
'

test_expect_success 'the file is kept as {index}-{n}-{etag}, nothing else left behind' '
	etag=$(get /media/books/1/0 >/dev/null && header ETag | tr -d "\"") &&
	media_files >actual &&
	echo "./books/1-0-$etag" >expect &&
	test_cmp expect actual &&
	cmp body "$VAR/media/books/1-0-$etag"
'

test_expect_success 'later requests: no upstream request, sent by lighttpd from disk (X-Sendfile)' '
	before=$(wc -l <"$FAKE_LOG") &&
	etag=$(header ETag | tr -d "\"") &&
	cp "$VAR/media/books/1-0-$etag" kept.bin &&
	for i in 1 2 3; do
		test "$(get /media/books/1/0)" = 200 && cmp kept.bin body || return 1
	done &&
	test "$(wc -l <"$FAKE_LOG")" = "$before" &&
	test "$(header Content-Type)" = image/jpeg &&
	test "$(header Cache-Control)" = "public, max-age=60" &&
	test -z "$(header X-Sendfile)" &&
	test -n "$(header Last-Modified)" &&
	etag=$(header ETag | tr -d "\"") &&
	printf "lighttpd reads the disk" | dd of="$VAR/media/books/1-0-$etag" bs=1 seek=100 conv=notrunc 2>/dev/null &&
	test "$(get /media/books/1/0)" = 200 &&
	dd if=body bs=1 skip=100 count=23 2>/dev/null >start &&
	printf "lighttpd reads the disk" >expect && test_cmp expect start &&
	cp kept.bin "$VAR/media/books/1-0-$etag"
'

test_expect_success 'HEAD: headers only; If-None-Match: 304; Range: lighttpd answers 206' '
	curl -s -I -o headers -w "%{http_code}\n" "$BASE/media/books/1/0" >status &&
	test "$(cat status)" = 200 &&
	test "$(header Content-Length)" = "$(wc -c <kept.bin)" &&
	test "$(header Content-Type)" = image/jpeg &&
	etag=$(header ETag) &&
	test "$(get /media/books/1/0 -H "If-None-Match: $etag")" = 304 &&
	test ! -s body &&
	test "$(get /media/books/1/0 -r 100-199)" = 206 &&
	dd if=kept.bin bs=100 skip=1 count=1 2>/dev/null >expect.range && cmp expect.range body
'

# libcurl's own redirect following (curl -u ... -L) sends the credentials
# again when a later hop returns to the first host; bookpics must not.
test_expect_success 'chunked upstream answer; a relative Location; a later hop to the API host gets no credentials either' '
	test "$(get /media/books/1/1)" = 200 &&
	clean_of chunked-20000 body &&
	test "$(get /media/books/1/3)" = 200 &&
	clean_of pic-1000 body &&
	grep -q "^GET /cdn/pic-1000 host=localhost:$AUX_PORT auth=-\$" "$FAKE_LOG" &&
	test "$(get /media/books/1/2)" = 200 &&
	clean_of pic-640 body &&
	grep "/cdn/pic-640" "$FAKE_LOG" >cdn.log &&
	echo "GET /cdn/pic-640 host=127.0.0.1:$AUX_PORT auth=-" >expect &&
	test_cmp expect cdn.log &&
	! grep "/cdn/.*auth=Basic" "$FAKE_LOG"
'

test_expect_success 'failed fetches: 502 bad_gateway, nothing kept' '
	test "$(post_media MM2 api404 api500 missing boom pic-200000 chunked-200000 truncated-50000 loop file)" = 200 &&
	media_files >before &&
	for n in 0 1 2 3 4 5 6 7 8; do
		test "$(get /media/books/2/$n)" = 502 &&
		grep -q "^{\"error\":\"bad_gateway\",\"message\":\"could not fetch the media: " body &&
		test "$(header Content-Type)" = application/json &&
		test -z "$(header Cache-Control)" &&
		cp body msg.$n || return 1
	done &&
	grep -q "upstream answered 404" msg.0 &&
	grep -q "upstream answered 500" msg.1 &&
	grep -q "upstream answered 404" msg.2 &&
	grep -q "upstream answered 500" msg.3 &&
	grep -q "larger than media_max_bytes ($MAX bytes)" msg.4 &&
	grep -q "larger than media_max_bytes ($MAX bytes)" msg.5 &&
	grep -q "curl_easy_perform" msg.6 &&
	grep -q "more than 5 redirects" msg.7 &&
	grep -q "redirect to a scheme other than" msg.8 &&
	! grep -q "$SID" msg.* &&
	media_files >after &&
	test_cmp before after &&
	test "$(seen /cdn/loop)" = 5
'

test_expect_success 'media_retry_after = 0: a failed fetch is tried again at once' '
	n=$(seen /Media/api500) &&
	test "$(get /media/books/2/1)" = 502 &&
	test "$(seen /Media/api500)" = $((n + 1))
'

test_expect_success 'media_retry_after = 60 (the default): a failed fetch is remembered, no new fetch (no credentials sent again), then tried again' '
	sed -i "s|^media_retry_after *=.*|media_retry_after = 60|" "$CONF" &&
	test "$(get /media/books/2/1)" = 502 &&
	n=$(seen /Media/api500) &&
	test "$(get /media/books/2/1)" = 502 &&
	grep -q "remembered for 60 s" body &&
	test "$(seen /Media/api500)" = $n &&
	touch -d "-61 seconds" "$VAR/media/tmp/books.2.1.bad" &&
	test "$(get /media/books/2/1)" = 502 &&
	test "$(seen /Media/api500)" = $((n + 1)) &&
	sed -i "s|^media_retry_after *=.*|media_retry_after = 0|" "$CONF" &&
	rm -f "$VAR"/media/tmp/*.bad
'

test_expect_success 'the size limit: exactly media_max_bytes is fine, one byte more is not' '
	test "$(post_media MM3 pic-$MAX pic-$((MAX + 1)) chunked-$((MAX + 1)))" = 200 &&
	test "$(get /media/books/3/0)" = 200 &&
	clean_of pic-$MAX body &&
	test "$(get /media/books/3/1)" = 502 &&
	test "$(get /media/books/3/2)" = 502 &&
	media_files | grep "books/3-" >actual &&
	grep -c . actual >count && echo 1 >expect && test_cmp expect count
'

test_expect_success '20 concurrent first requests: one upstream fetch, 20 complete identical answers' '
	test "$(post_media MM4 pic-90000)" = 200 &&
	for i in $(seq 20); do
		curl -s -m 40 -o c.$i -w "%{http_code}\n" "$BASE/media/books/4/0" >s.$i &
	done &&
	wait &&
	cat s.* | sort | uniq -c | sed "s/^ *//" >actual &&
	echo "20 200" >expect && test_cmp expect actual &&
	clean_of pic-90000 c.1 &&
	for i in $(seq 20); do cmp c.1 c.$i || return 1; done &&
	test "$(seen /Media/pic-90000)" = 1 &&
	test "$(seen /cdn/pic-90000)" = 1 &&
	test -z "$(ls "$VAR/media/tmp")"
'

test_expect_success 'paths name only validated rooms and numbers: anything else is a JSON 404' '
	before=$(wc -l <"$FAKE_LOG") &&
	for p in /media/books/1/../../etc/passwd /media/books/x/0 /media/books/1/0/extra \
		/media/books/1/0/ /media/books/1/ /media/books/1 /media/books /media/ \
		/media/books/99999999999999999999999/0 /media/books/18446744073709551615/0 \
		/media/books/0/0 /media/books/01/0 /media/books/1/00 /media/books/1/10 \
		/media/books/1/5 /media/books/999/0 /media/books/-1/0 /media/books/+1/0 \
		/media/books/%31/0 /media/books%2F..%2Fetc/1/0 /media/no-such-room/1/0 \
		"/media/a.b/1/0" /media/$(printf "%065d" 1)/1/0; do
		test "$(get "$p")" = 404 &&
		grep -q "^{\"error\":\"not_found\",\"message\":" body &&
		test "$(header Content-Type)" = application/json || { echo "failed: $p"; return 1; }
	done &&
	test "$(get /media/books/1/0?x=../../etc/passwd)" = 200 &&
	test "$(wc -l <"$FAKE_LOG")" = "$before" &&
	test "$(get /media/../etc/passwd)" = 404 && ! grep -q root: body &&
	test "$(get /media/books/1/0 -d "")" = 405
'

test_expect_success 'media_hosts changed since the webhook: 502, nothing fetched' '
	test "$(post_media MM5 pic-1000)" = 200 &&
	sed -i "s|^media_hosts *=.*|media_hosts = api.twilio.com|" "$CONF" &&
	test "$(get /media/books/5/0)" = 502 &&
	grep -q "not in media_hosts" body &&
	test "$(seen /Media/pic-1000)" = 0 &&
	test "$(get /media/books/1/0)" = 200 &&
	sed -i "s|^media_hosts *=.*|media_hosts = http://127.0.0.1:$AUX_PORT|" "$CONF" &&
	test "$(get /media/books/5/0)" = 200 &&
	test "$(seen /Media/pic-1000)" = 1
'

test_expect_success 'wrong account SID: Twilio answers 401, we answer 502' '
	test "$(post_media MM6 pic-1001)" = 200 &&
	admin twilio-account ACwrong &&
	test "$(get /media/books/6/0)" = 502 &&
	grep -q "upstream answered 401" body &&
	admin twilio-account "$SID" &&
	test "$(get /media/books/6/0)" = 200
'

test_expect_success 'a private room: members only, Cache-Control private' '
	admin user add alice && admin user add bob &&
	admin room add secret && admin member add alice secret &&
	alice=$(admin token alice) && bob=$(admin token bob) &&
	sed -i "s|^twilio_room *=.*|twilio_room = secret|" "$CONF" &&
	test "$(post_media MM7 pic-7777)" = 200 &&
	sed -i "s|^twilio_room *=.*|twilio_room = books|" "$CONF" &&
	test "$(get /media/secret/1/0)" = 401 &&
	grep -q "^{\"error\":\"unauthorized\"" body &&
	test "$(get /media/secret/1/0 -H "Authorization: Bearer $bob")" = 403 &&
	grep -q "^{\"error\":\"not_member\"" body &&
	test "$(get /media/secret/1/0 -H "Authorization: Bearer nonsense")" = 401 &&
	test "$(seen /Media/pic-7777)" = 0 &&
	test "$(get /media/secret/1/0 -H "Authorization: Bearer $alice")" = 200 &&
	clean_of pic-7777 body &&
	test "$(header Cache-Control)" = "private, max-age=60" &&
	test "$(get /media/secret/1/0 -H "Authorization: Bearer $bob")" = 403 &&
	test "$(get /media/secret/1/0)" = 401 &&
	test "$(get /media/secret/1/0 -H "Authorization: Bearer $alice")" = 200
'

test_expect_success 'as CGI with SERVER_SOFTWARE lighttpd: X-Sendfile with the path, no body' '
	etag=$(get /media/books/1/0 >/dev/null && header ETag | tr -d "\"") &&
	REQUEST_METHOD=GET REQUEST_URI=/media/books/1/0 SERVER_SOFTWARE=lighttpd/1.4.69 BOOKPICS_VAR=$VAR \
		"$BIN/api.fcgi" </dev/null >cgi.raw &&
	tr -d "\r" <cgi.raw >cgi.out &&
	grep -q "^Status: 200 OK\$" cgi.out &&
	grep -q "^Content-Type: image/jpeg\$" cgi.out &&
	grep -q "^Content-Length: 0\$" cgi.out &&
	grep "^X-Sendfile: " cgi.out >actual &&
	echo "X-Sendfile: $VAR/media/books/1-0-$etag" >expect &&
	test_cmp expect actual &&
	test "$(sed -n "/^\$/,\$p" cgi.out)" = ""
'

test_expect_success 'plain CGI (no lighttpd, e.g. Apache): the handler sends the bytes itself' '
	REQUEST_METHOD=GET REQUEST_URI=/media/books/1/0 BOOKPICS_VAR=$VAR \
		"$BIN/api.fcgi" </dev/null >cgi.out &&
	sed -n "1,/^\r\$/p" cgi.out | tr -d "\r" >cgi.head &&
	grep -q "^Status: 200 OK\$" cgi.head &&
	grep -q "^Content-Length: $(wc -c <kept.bin)\$" cgi.head &&
	! grep -qi "^X-Sendfile" cgi.head &&
	tail -c "$(wc -c <kept.bin)" cgi.out >cgi.body &&
	cmp kept.bin cgi.body
'

test_expect_success 'x-sendfile-docroot is enforced: the same handler behind a lighttpd whose docroot excludes $VAR/media gets 403' '
	alt=$((AUX_PORT + 1)) &&
	sed -e "s|^server.port .*|server.port = $alt|" \
		-e "s|$VAR/run/|$VAR/run/alt-|g" \
		-e "s|\"$VAR/media/\"|\"$VAR/elsewhere/\"|" \
		-e "s|$VAR/log/lighttpd.log|$VAR/log/lighttpd-alt.log|g" \
		"$VAR/lighttpd.conf" >alt.conf &&
	grep -q "x-sendfile-docroot\" => ( \"$VAR/elsewhere/\" )" alt.conf &&
	{ lighttpd -D -f alt.conf & echo $! >"$TRASH/alt.pid"; } &&
	wait_for "curl -s -o /dev/null http://127.0.0.1:$alt/" 10 &&
	status=$(curl -s -o alt.body -w "%{http_code}" http://127.0.0.1:$alt/media/books/1/0) &&
	stop_alt &&
	test "$status" = 403 &&
	! cmp -s kept.bin alt.body &&
	grep -q "not under configured x-sendfile-docroot" "$VAR/log/lighttpd-alt.log"
'

test_expect_success 'slow upstreams: 502 after the 20 s total timeout, the partial file removed' '
	test "$(post_media MM8 slow trickle)" = 200 &&	# books 7: MM7 went to secret
	start=$(date +%s) &&
	{ get /media/books/7/0 >slow.status & } &&
	{ curl -s -m 40 -o trickle.body -w "%{http_code}\n" "$BASE/media/books/7/1" >trickle.status & } &&
	wait_for "test -s \"$VAR/media/tmp/books.7.1.part\"" 10 &&
	ls "$VAR/media/tmp" >during &&
	grep -q "^books.7.1.lock\$" during &&
	wait &&
	elapsed=$(( $(date +%s) - start )) &&
	echo "elapsed $elapsed s" &&
	test "$(cat slow.status)" = 502 &&
	test "$(cat trickle.status)" = 502 &&
	grep -q "timed out" trickle.body &&
	test $elapsed -ge 19 && test $elapsed -le 30 &&
	test -z "$(ls "$VAR/media/tmp")" &&
	! media_files | grep -q "books/7-"
'

test_expect_success 'failures are logged with their reason (FastCGI stderr: lighttpd.log, where bookpics-run puts it); lighttpd logged no X-Sendfile trouble' '
	grep -q "^media: books/2/0: upstream answered 404\$" "$VAR/log/lighttpd.log" &&
	grep -q "^media: books/7/1: curl_easy_perform (hop 1): timed out" "$VAR/log/lighttpd.log" &&
	! grep -i "X-Sendfile" "$VAR/log/lighttpd.log"
'

test_expect_success 'the content type served is the clean picture'"'"'s, neither the declared nor the upstream one' '
	u=$TW/MMpng/Media/png-120x80 &&
	test "$(tw_post "MessageSid=MMpng&From=%2B14155550100&NumMedia=2&MediaUrl0=$u&MediaContentType0=image%2Fpng&MediaUrl1=$u&MediaContentType1=image%2Fgif")" = 200 &&
	idx=$(curl -s "$BASE/api/rooms/books/messages?limit=1" | sed -n "s/.*\"index\":\([0-9]*\).*/\1/p") &&
	test "$(get /media/books/$idx/0)" = 200 &&
	test "$(header Content-Type)" = image/png &&
	node "$IMG" info body | cut -d" " -f1,2 >info &&
	echo "png 120x80" >expect && test_cmp expect info &&
	cp body png.body &&
	test "$(get /media/books/$idx/1)" = 200 &&
	test "$(header Content-Type)" = image/png &&
	cmp png.body body
'

stop_fake
test_done
