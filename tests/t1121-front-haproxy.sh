#!/bin/sh
test_description='haproxy in front (dist/haproxy.cfg): webhook and WebSocket through it, per-source limits and the header deadline against slowloris'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"
. "$TEST_DIR/lib-load.sh"

if ! test_have_prereq HAPROXY; then skip_all='no haproxy (Debian package haproxy)'; test_done; fi
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}

# haproxy on $AUX_PORT, lighttpd behind it on $PORT; public_url is the
# front's address (the one Twilio calls), as in a deployment.
FRONT=127.0.0.1:$AUX_PORT
HBASE=http://$FRONT

# More slow sockets than lighttpd's 7,000 connections, from 8 addresses
# (127.0.0.2..127.0.0.9), each far over the 100 one source may hold. With
# fewer descriptors than that the attack is scaled down, but a source
# still asks for more than its 100.
SOURCES=8
PER_SOURCE=1000
ulimit -n "$(ulimit -Hn)" 2>/dev/null
fds=$(ulimit -n)
[ "$fds" = unlimited ] || [ $((SOURCES * PER_SOURCE + 1000)) -le "$fds" ] ||
	PER_SOURCE=$(( (fds - 1000) / SOURCES ))
if [ "$PER_SOURCE" -le 150 ]; then skip_all="open-files limit $fds too low for the attack"; test_done; fi
SOCKETS=$((SOURCES * PER_SOURCE))
# Past the shipped 10 s header deadline: the sockets haproxy held must be
# closed by it before the attack ends.
SECONDS_ATTACK=14

# render DEADLINE: dist/haproxy.cfg filled in as README says, logging to
# stderr (no syslog here), without the chroot and user switch (the test
# need not be root), and with the header deadline DEADLINE. One thread:
# haproxy drops a log line rather than wait when two threads write one
# at the same time (fd.c, fd_write_frag_line: 200 tries of the lock), and
# step 8 counts the lines of 800 closes in the same second (one went
# missing under load).
render() {
	sed -e "s|@FRONT@|$FRONT|" -e "s|@PORT@|$PORT|" \
		-e "s|^\(	log\) /dev/log local0$|\1 stderr format raw local0|" \
		-e "/^global$/a\\	nbthread 1" \
		-e "/^	chroot /d" -e "/^	user /d" -e "/^	group /d" \
		-e "s|^\(	timeout http-request\) 10s$|\1 $1|" \
		"$TOP/dist/haproxy.cfg" >haproxy.cfg &&
	grep -q "^	timeout http-request $1$" haproxy.cfg &&
	grep -q "^	log stderr format raw local0$" haproxy.cfg &&
	grep -q "^	nbthread 1$" haproxy.cfg &&
	! grep -q @ haproxy.cfg
}

# haproxy_start LOG / haproxy_stop: haproxy in the foreground (-db), in
# the background of the script (kill_bg stops it on any exit), its log
# lines in LOG (a fresh file each: a second haproxy on the same file wrote
# over the first one's lines, even opened for appending).
haproxy_start() {
	"$HAPROXY" -c -q -f haproxy.cfg &&
	{ "$HAPROXY" -f haproxy.cfg -db >"$1" 2>&1 & } &&
	echo $! >haproxy.pid && bg_pid $(cat haproxy.pid) &&
	wait_for "curl -sf -o /dev/null $HBASE/api/health" 10
}

haproxy_stop() {
	kill "$(cat haproxy.pid)" &&
	wait_for "! kill -0 $(cat haproxy.pid)" 10
}

# hpost FORM: a webhook signed for, and sent to, the front; prints the status.
hpost() {
	_sig=$("$BUILD/tools/tw-sign" "$HBASE/twilio/sms" secret123 "$1")
	curl -s -o response -w '%{http_code}\n' -H "X-Twilio-Signature: $_sig" \
		--data-binary "$1" "$HBASE/twilio/sms"
}

test_expect_success 'start the site and haproxy in front of it (the template as shipped)' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	sed -i "s|^public_url.*|public_url = $HBASE|" "$VAR/bookpics.conf" &&
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	admin user add u1 && admin token u1 >t1 &&
	start_bookpics &&
	render 10s &&
	haproxy_start haproxy.log &&
	curl -s "$HBASE/api/health" >actual &&
	printf "{\"ok\":true,\"relay\":true,\"twilio_room\":\"books\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a signed webhook through haproxy is stored; haproxy logs the client' '
	test "$(hpost "MessageSid=SMfront1&From=%2B14155550100&Body=through+the+front")" = 200 &&
	room_lines books >actual &&
	echo "1 sms:…0100 text message through the front" >expect &&
	test_cmp expect actual &&
	wait_for "grep -q \"^127.0.0.1:[0-9]* .* site lighttpd/site .* 200 .*\\\"POST /twilio/sms\\\"\" haproxy.log" 5
'

test_expect_success 'a WebSocket through haproxy: catch-up, then a live message; no token in its log' '
	ws_bg wall "ws://$FRONT/ws?token=$(cat t1)" --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":0}" &&
	wait_count wall.out "^message books 1 " 1 &&
	grep -q "\"userId\":\"u1\"" wall.out &&
	test "$(hpost "MessageSid=SMfront2&From=%2B14155550100&Body=live")" = 200 &&
	wait_count wall.out "^message books 2 " 1 &&
	messages_of wall.out >actual &&
	cat >expect <<-\EOF &&
	books 1 sms:…0100 through the front
	books 2 sms:…0100 live
	EOF
	test_cmp expect actual &&
	ws_stop wall &&
	wait_for "grep -q \"\\\"GET /ws\\\"\" haproxy.log" 5 &&
	! grep -q "token" haproxy.log
'

test_expect_success 'metrics through haproxy: refused to another address, served to 127.0.0.1' '
	test "$(curl -s -o refused --interface 127.0.0.2 -w "%{http_code}" "$HBASE/api/metrics")" = 403 &&
	printf "{\"error\":\"forbidden\",\"message\":\"metrics are for 127.0.0.1, or Authorization: Bearer metrics_token\"}" >expect &&
	test_cmp expect refused &&
	test "$(curl -s -o /dev/null --interface 127.0.0.2 -w "%{http_code}" "$HBASE/api/%6detrics")" = 404 &&
	test "$(curl -s -o metrics -w "%{http_code}" "$HBASE/api/metrics")" = 200 &&
	grep -q "^bookpics_webhooks_total" metrics
'

test_expect_success 'lighttpd sees the client through the front, and a forged X-Forwarded-For nowhere' '
	# the front replaces a client'"'"'s own header: still 127.0.0.2, still refused
	test "$(curl -s -o /dev/null --interface 127.0.0.2 -H "X-Forwarded-For: 127.0.0.1" \
		-w "%{http_code}" "$HBASE/api/metrics")" = 403 &&
	# straight at lighttpd, only 127.0.0.1 is believed as a forwarder
	test "$(curl -s -o /dev/null --interface 127.0.0.2 -H "X-Forwarded-For: 127.0.0.1" \
		-w "%{http_code}" "$BASE/api/metrics")" = 403 &&
	curl -s -o /dev/null --interface 127.0.0.3 "$HBASE/api/health?front=seen" &&
	wait_for "grep -q \"ip=127.0.0.3 .*/api/health\" \"$VAR/log/access.log\"" 5
'

test_expect_success 'the webhook latency through haproxy without an attack' '
	load_webhooks "$HBASE/twilio/sms" 5 SMquiet &&
	{ grep -v " 200 " SMquiet.answers >bad || :; } &&
	test_line_count = 0 bad &&
	test_line_count = 200 SMquiet.answers &&
	echo "webhooks, quiet: $(latency SMquiet.answers)"
'

test_expect_success "slowloris, $SOCKETS sockets from 127.0.0.2-127.0.0.9 through haproxy: each source held to 100, the rest refused, webhooks all answered" '
	{ node "$TOP/tests/tools/slowloris.mjs" $AUX_PORT $SOCKETS $SECONDS_ATTACK 127.0.0.2 $PER_SOURCE >loris.out 2>&1 & } &&
	echo $! >loris.pid && bg_pid $(cat loris.pid) &&
	wait_for "grep -q ^open loris.out" 30 &&
	sleep 1 &&
	# refused: reset as soon as accepted (before the client saw it
	# connected), or closed by haproxy since
	held=$(sed -n "s/^open //p" loris.out) &&
	reset=$(sed -n "s/^failed.*ECONNRESET=\([0-9]*\).*/\1/p" loris.out) &&
	closed=$(sed -n "s/^alive [0-9]* closed \([0-9]*\)$/\1/p" loris.out | tail -n 1) &&
	echo "$held $((${reset:-0} + closed))" >held &&
	echo "attack: $SOCKETS sockets, $held held by haproxy, $((${reset:-0} + closed)) refused" &&
	sed -n "/^failed/p" loris.out &&
	test "$held" -le $((SOURCES * 100)) &&
	test "$held" -ge $((SOURCES * 90)) &&
	test $((${reset:-0} + closed + held)) = $SOCKETS &&
	load_webhooks "$HBASE/twilio/sms" 5 SMattack &&
	{ grep -v " 200 " SMattack.answers >bad || :; } &&
	test_line_count = 0 bad &&
	test_line_count = 200 SMattack.answers &&
	curl -sf -m 5 -o /dev/null $HBASE/api/health &&
	echo "webhooks under attack: $(latency SMattack.answers)" &&
	still=$(sed -n "s/^alive \([0-9]*\) .*/\1/p" loris.out | tail -n 1) &&
	echo "sockets still held after the webhooks: $still" &&
	test "$still" = "$held"
'

test_expect_success 'the held sockets were closed with 408 at the 10 s header deadline, before the attack ended' '
	read held refused <held &&
	wait_for "grep -q ^done loris.out" $((SECONDS_ATTACK + 10)) &&
	tail -n 1 loris.out &&
	test "$(tail -n 1 loris.out)" = "done alive 0 closed $held" &&
	# "Ta" (accept to close) of each 408: the deadline, to the second
	sed -n "s|^127[.]0[.]0[.][2-9]:[0-9]* .* -1/-1/-1/-1/\([0-9]*\) 408 0 cR-- .*|\1|p" haproxy.log >ta &&
	# (any other line of theirs, shown: there should be none)
	grep "^127[.]0[.]0[.][2-9]:" haproxy.log | grep -v " -1/-1/-1/-1/[0-9]* 408 0 cR-- " || : &&
	test_line_count = "$held" ta &&
	echo "408 at the deadline: $held, Ta $(sort -n ta | head -n 1)..$(sort -n ta | tail -n 1) ms" &&
	test "$(sort -n ta | head -n 1)" -ge 9900 && test "$(sort -n ta | tail -n 1)" -le 11000
'

test_expect_success 'a 2 s deadline: a header a byte a second is closed with 408; an open WebSocket lives on' '
	haproxy_stop &&
	render 2s &&
	haproxy_start haproxy2.log &&
	last=$(room_lines books | tail -n 1 | cut -d" " -f1) &&
	ws_bg live "ws://$FRONT/ws" --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":$last}" &&
	node "$TOP/tests/tools/slowloris.mjs" $AUX_PORT 1 5 127.0.0.10 >slow.out &&
	cat slow.out &&
	# alive at 1 s, closed by 4 s (haproxy answers 408 at 2 s, below;
	# the client notices at its next write or so)
	test "$(sed -n 2p slow.out)" = "alive 1 closed 0" &&
	test "$(sed -n 5p slow.out)" = "alive 0 closed 1" &&
	test "$(tail -n 1 slow.out)" = "done alive 0 closed 1" &&
	grep "^127.0.0.10:" haproxy2.log >slow.log &&
	test_line_count = 1 slow.log &&
	grep -q " -1/-1/-1/-1/20[0-9][0-9] 408 0 cR-- " slow.log &&
	test "$(hpost "MessageSid=SMfront3&From=%2B14155550100&Body=after+the+deadline")" = 200 &&
	wait_count live.out "^message books $((last + 1)) sms:…0100 after the deadline$" 1 &&
	grep -q "^{\"type\":\"hello\"" live.out &&
	! grep -q "^close" live.out
'

# hpost_tls FORM: hpost over https (public_url https://$FRONT).
hpost_tls() {
	_sig=$("$BUILD/tools/tw-sign" "https://$FRONT/twilio/sms" secret123 "$1")
	curl -sk -o response -w '%{http_code}\n' -H "X-Twilio-Signature: $_sig" \
		--data-binary "$1" "https://$FRONT/twilio/sms"
}

test_expect_success 'TLS with the bind line the template documents: https webhook, wss WebSocket' '
	haproxy_stop &&
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 \
		-keyout key.pem -out cert.pem 2>/dev/null &&
	cat cert.pem key.pem >site.pem &&
	line=$(sed -n "s|^	#   \(bind \*:443 ssl crt\) /etc/haproxy/site.pem$|\1|p" "$TOP/dist/haproxy.cfg") &&
	test "$line" = "bind *:443 ssl crt" &&
	render 10s &&
	sed -i "s|^	bind $FRONT$|	bind $FRONT ssl crt $TRASH/site.pem|" haproxy.cfg &&
	grep -q "^	bind $FRONT ssl crt $TRASH/site.pem$" haproxy.cfg &&
	"$HAPROXY" -c -q -f haproxy.cfg &&
	{ "$HAPROXY" -f haproxy.cfg -db >haproxy3.log 2>&1 & } &&
	echo $! >haproxy.pid && bg_pid $(cat haproxy.pid) &&
	wait_for "curl -skf -o /dev/null https://$FRONT/api/health" 10 &&
	sed -i "s|^public_url.*|public_url = https://$FRONT|" "$VAR/bookpics.conf" &&
	last=$(room_lines books | tail -n 1 | cut -d" " -f1) &&
	NODE_TLS_REJECT_UNAUTHORIZED=0 ws_bg tls "wss://$FRONT/ws" --send "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":$last}" &&
	test "$(hpost_tls "MessageSid=SMfront4&From=%2B14155550100&Body=over+tls")" = 200 &&
	wait_count tls.out "^message books " 1 &&
	messages_of tls.out >actual &&
	echo "books $((last + 1)) sms:…0100 over tls" >expect &&
	test_cmp expect actual
'

kill_bg
test_done
