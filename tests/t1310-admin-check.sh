#!/bin/sh
test_description='bookpics-admin check: FILE:LINE problems like nginx -t; a bad conf never takes the site down; $VAR owner'
. ./test-lib.sh

# test_expect_code N CMD...: CMD exits with status N (as git's t/).
test_expect_code() {
	_want=$1
	shift
	"$@" && _got=0 || _got=$?
	test "$_got" = "$_want" || { echo "exit $_got, not $_want: $*"; return 1; }
}

CONF=$VAR/bookpics.conf

test_expect_success 'a fresh configuration: ok, exit 0' '
	admin init --port $PORT >/dev/null &&
	cp "$CONF" good.conf &&
	admin check >out 2>err &&
	echo ok >expect && test_cmp expect out && test_cmp /dev/null err
'

# bad_line LINE MESSAGE: good.conf plus LINE (line 19) -> check says MESSAGE, exit 1.
bad_line() {
	{ cat good.conf && printf "%s\n" "$1"; } >"$CONF" &&
	_n=$(wc -l <good.conf) &&
	test_expect_code 1 admin check >out 2>err &&
	printf "%s:%d: %s\nbookpics-admin: check: 1 problem\n" "$CONF" $((_n + 1)) "$2" >expect &&
	test_cmp expect err && test_cmp /dev/null out
}

test_expect_success 'each kind of bad line: FILE:LINE: problem, exit 1' '
	bad_line "media_host = api.twilio.com" "unknown key '\''media_host'\''" &&
	bad_line "twilio_room" "expected '\''key = value'\'', got '\''twilio_room'\''" &&
	bad_line "public_url = ftp://example.org" "public_url: must start with http:// or https://" &&
	bad_line "media_max_bytes = 5M" "media_max_bytes: not a positive number '\''5M'\''" &&
	bad_line "duplicate_connections = maybe" \
		"duplicate_connections: refuse, replace or allow, not '\''maybe'\''" &&
	bad_line "twilio_room = two words" "twilio_room: invalid room name '\''two words'\''" &&
	bad_line "token_secret = short" "token_secret: at least 16 characters" &&
	bad_line "twilio_auth_token = a$(printf "\033")b" \
		"twilio_auth_token: control character (byte 0x1b) in the value" &&
	cp good.conf "$CONF"
'

test_expect_success 'several problems: all of them, in file order' '
	{ cat good.conf && echo "nope = 1" && echo "# fine" && echo "public_url = x"; } >"$CONF" &&
	n=$(wc -l <good.conf) &&
	test_expect_code 1 admin check 2>err &&
	cat >expect <<-EOF &&
	$CONF:$((n + 1)): unknown key '\''nope'\''
	$CONF:$((n + 3)): public_url: must start with http:// or https://
	bookpics-admin: check: 2 problems
	EOF
	test_cmp expect err &&
	cp good.conf "$CONF"
'

test_expect_success 'twilio-token - reads standard input; --file reads a file; CR refused' '
	echo "tok-from-stdin" | admin twilio-token - >out && test_cmp /dev/null out &&
	grep -x "twilio_auth_token = tok-from-stdin" "$CONF" &&
	echo "tok-from-file" >secret && admin twilio-token --file secret &&
	grep -x "twilio_auth_token = tok-from-file" "$CONF" &&
	printf "tok\r\n" | test_expect_code 1 admin twilio-token - 2>err &&
	echo "bookpics-admin: conf twilio_auth_token: control character (byte 0x0d) in the value" >expect &&
	test_cmp expect err &&
	grep -x "twilio_auth_token = tok-from-file" "$CONF" &&
	: | test_expect_code 1 admin twilio-token - 2>err &&
	echo "bookpics-admin: standard input: no secret on its first line" >expect &&
	test_cmp expect err &&
	admin twilio-token tok-argv && admin check >out && echo ok >expect && test_cmp expect out
'

FORM='MessageSid=SMcheck1&From=%2B15550100&To=%2B15550199&Body=hello&NumMedia=0'
FORM2='MessageSid=SMcheck2&From=%2B15550100&To=%2B15550199&Body=again&NumMedia=0'

test_expect_success 'a running site keeps serving with a bad conf written under it' '
	# texts, not pictures, reach the wall with wall_text on (default off)
	echo "wall_text = on" >>"$CONF" &&
	start_bookpics &&
	test "$(tw_post "$FORM")" = 200 &&
	cp "$CONF" before.conf &&
	echo "media_host = api.twilio.com" >>"$CONF" &&
	curl -s -o /dev/null -w "%{http_code}\n" "$BASE/api/rooms/books/messages?after=0" >code &&
	echo 200 >expect && test_cmp expect code &&
	test "$(tw_post "$FORM2")" = 200 &&
	room_lines books >actual &&
	printf "1 sms:…0100 text message hello\n2 sms:…0100 text message again\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the error is in the log (FastCGI stderr), once per process and change of the file' '
	n=$(wc -l <before.conf) &&
	msg="configuration not reloaded, keeping the last good one: $CONF:$((n + 1)): unknown key '\''media_host'\''" &&
	wait_for "cat \"$VAR\"/log/*.log | grep -qF \"$msg\"" 5 &&
	for i in 1 2 3 4 5; do curl -s -o /dev/null "$BASE/api/rooms/books/messages?after=0"; done &&
	cat "$VAR"/log/*.log | grep -F "$msg" | sed "s/^.*bookpics\[\([0-9]*\)\].*/\1/" >pids &&
	sort pids | uniq -d >repeated && test_cmp /dev/null repeated
'

test_expect_success 'the next good conf is picked up (a new Twilio token signs)' '
	sed "s/^twilio_auth_token = .*/twilio_auth_token = the-new-token/" before.conf >"$CONF" &&
	admin check >out && echo ok >expect && test_cmp expect out &&
	test "$(tw_post "MessageSid=SMcheck3&From=%2B15550100&To=%2B15550199&Body=new&NumMedia=0")" = 200 &&
	sed "s/^twilio_auth_token = .*/twilio_auth_token = tok-argv/" before.conf >old-token.conf &&
	_sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" tok-argv "$FORM") &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "X-Twilio-Signature: $_sig" \
		--data-binary "$FORM" "$BASE/twilio/sms" >code &&
	echo 403 >expect && test_cmp expect code
'

test_expect_success 'stop' '
	stop_bookpics
'

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	test_expect_success 'root: a file of another owner under $VAR names both users' '
		mkdir -p other && cp -r "$VAR/bookpics.conf" "$VAR/db" other/ &&
		chown -R nobody other &&
		touch other/db/stray && chown root other/db/stray &&
		test_expect_code 1 "$BIN/bookpics-admin" --var other check 2>err &&
		cat >expect <<-EOF &&
		other/db/stray: owned by root, not by nobody (the site'\''s user): chown nobody other/db/stray
		bookpics-admin: check: 1 problem
		EOF
		test_cmp expect err
	'

	test_expect_success '$VAR owned by root, run as nobody: the message names both' '
		mkdir -p rootvar && chmod 755 rootvar && cp "$VAR/bookpics.conf" rootvar/ &&
		test_expect_code 1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$BIN/bookpics-admin" --var "$TRASH/rootvar" check 2>err &&
		head -n 1 err >first &&
		echo "$TRASH/rootvar: owned by root, but this runs as nobody: chown -R nobody $TRASH/rootvar, or run as root" >expect &&
		test_cmp expect first
	'
else
	say "ok # skip owner tests (not root)"
fi

test_done
