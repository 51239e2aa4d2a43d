#!/bin/sh
test_description='the Twilio webhook: signatures, storage, idempotency, media filtering'
. ./test-lib.sh

SID_FORM='MessageSid=SM0001&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=My+favourite%21&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FSM0001%2FMedia%2FME1'

test_expect_success 'start with no auth token configured: health is 503 and says so' '
	start_bookpics &&
	wait_for "curl -s $BASE/api/health | grep -q relay.:true" 10 &&
	curl -s -w "\n%{http_code}\n" $BASE/api/health >actual &&
	cat >expect <<-\EOF &&
	{"ok":false,"relay":true,"twilio_room":"books","problems":["no twilio_auth_token configured"]}
	503
	EOF
	test_cmp expect actual
'

test_expect_success 'no twilio_auth_token: every webhook is refused, even signed' '
	sed -i "s/^twilio_auth_token *=.*/twilio_auth_token =/" "$VAR/bookpics.conf" &&
	sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" "" "$SID_FORM") &&
	status=$(curl -s -o response -w "%{http_code}" -H "X-Twilio-Signature: $sig" --data-binary "$SID_FORM" $BASE/twilio/sms) &&
	test "$status" = 403 &&
	grep -q "\"error\":\"forbidden\"" response &&
	room_lines books >actual && test_cmp /dev/null actual
'

test_expect_success 'bookpics-admin twilio-token stores the token, running programs see it' '
	admin twilio-token secret123 &&
	# the webhooks here are texts without pictures too: let them on the wall
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	grep -q "^twilio_auth_token = secret123$" "$VAR/bookpics.conf" &&
	test "$(stat -c %a "$VAR/bookpics.conf")" = 600
'

test_expect_success 'a signed webhook is answered with empty TwiML' '
	curl -s -D headers -o response -H "X-Twilio-Signature: $("$BUILD/tools/tw-sign" "$BASE/twilio/sms" secret123 "$SID_FORM")" \
		--data-binary "$SID_FORM" $BASE/twilio/sms &&
	head -n 1 headers | grep -q "^HTTP/1.1 200" &&
	grep -qi "^Content-Type: text/xml" headers &&
	printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>" >expect &&
	test_cmp expect response
'

test_expect_success 'the picture is in the API at once, sender masked, media rewritten' '
	curl -s "$BASE/api/rooms/books/messages" >page &&
	first_picture_ok &&
	! grep -q 14155550100 page && ! grep -q api.twilio.com page && ! grep -q SM0001 page
'

test_expect_success 'the same MessageSid again: 200, nothing new stored' '
	test "$(tw_post "$SID_FORM")" = 200 &&
	test "$(tw_post "$SID_FORM")" = 200 &&
	room_lines books >actual &&
	echo "1 sms:…0100 picture My favourite!" >expect &&
	test_cmp expect actual
'

test_expect_success 'a wrong signature: 403, room unchanged' '
	status=$(curl -s -o response -w "%{http_code}" -H "X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=" \
		--data-binary "MessageSid=SM0002&Body=x" $BASE/twilio/sms) &&
	test "$status" = 403 &&
	grep -q "X-Twilio-Signature" response &&
	room_lines books | wc -l >count && echo 1 >expect && test_cmp expect count
'

test_expect_success 'a missing signature: 403, room unchanged' '
	status=$(curl -s -o /dev/null -w "%{http_code}" --data-binary "MessageSid=SM0003&Body=x" $BASE/twilio/sms) &&
	test "$status" = 403 &&
	room_lines books | wc -l >count && echo 1 >expect && test_cmp expect count
'

test_expect_success 'a body changed after signing: 403' '
	sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" secret123 "MessageSid=SM0004&Body=hello") &&
	status=$(curl -s -o /dev/null -w "%{http_code}" -H "X-Twilio-Signature: $sig" \
		--data-binary "MessageSid=SM0004&Body=hellO" $BASE/twilio/sms) &&
	test "$status" = 403 &&
	room_lines books >actual &&
	echo "1 sms:…0100 picture My favourite!" >expect &&
	test_cmp expect actual
'

test_expect_success 'signed for another URL (wrong public_url or path): 403' '
	sig=$("$BUILD/tools/tw-sign" "http://example.org/twilio/sms" secret123 "MessageSid=SM0005&Body=x") &&
	status=$(curl -s -o /dev/null -w "%{http_code}" -H "X-Twilio-Signature: $sig" \
		--data-binary "MessageSid=SM0005&Body=x" $BASE/twilio/sms) &&
	test "$status" = 403 &&
	sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms?x=1" secret123 "MessageSid=SM0005&Body=x") &&
	status=$(curl -s -o /dev/null -w "%{http_code}" -H "X-Twilio-Signature: $sig" \
		--data-binary "MessageSid=SM0005&Body=x" $BASE/twilio/sms) &&
	test "$status" = 403 &&
	room_lines books | wc -l >count && echo 1 >expect && test_cmp expect count
'

test_expect_success 'the query string is signed as received' '
	test "$(tw_post "MessageSid=SM0006&From=%2B15550000001&Body=q" "/twilio/sms?site=a%27b&x=1")" = 200 &&
	room_lines books | tail -n 1 >actual &&
	echo "2 sms:…0001 text message q" >expect &&
	test_cmp expect actual
'

test_expect_success 'public_url is what is signed, not the address seen' '
	sed -i "s|^public_url *=.*|public_url = https://books.example.org|" "$VAR/bookpics.conf" &&
	sig=$("$BUILD/tools/tw-sign" "https://books.example.org/twilio/sms" secret123 "MessageSid=SM0007&Body=proxied") &&
	status=$(curl -s -o /dev/null -w "%{http_code}" -H "X-Twilio-Signature: $sig" \
		--data-binary "MessageSid=SM0007&Body=proxied" $BASE/twilio/sms) &&
	sed -i "s|^public_url *=.*|public_url = $BASE|" "$VAR/bookpics.conf" &&
	test "$status" = 200 &&
	room_lines books | tail -n 1 | cut -d" " -f4- >actual &&
	echo "message proxied" >expect && test_cmp expect actual
'

test_expect_success 'media from a host not in media_hosts is dropped' '
	test "$(tw_post "MessageSid=SM0008&From=%2B15550000002&Body=evil&NumMedia=2&MediaUrl0=https%3A%2F%2Fevil.example.org%2Fx.jpg&MediaContentType0=image%2Fjpeg&MediaUrl1=http%3A%2F%2Fapi.twilio.com%2Fplain&MediaContentType1=image%2Fjpeg")" = 200 &&
	curl -s "$BASE/api/rooms/books/messages?limit=1" >page &&
	grep -q "\"messageType\":\"text message\"" page &&
	grep -q "\"media\":\[\]" page &&
	! grep -q evil.example.org page
'

test_expect_success 'NumMedia=3: three media, in order' '
	u="https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FSM0009%2FMedia%2FME" &&
	test "$(tw_post "MessageSid=SM0009&From=%2B15550000003&Body=&NumMedia=3&MediaUrl0=${u}0&MediaContentType0=image%2Fjpeg&MediaUrl1=${u}1&MediaContentType1=image%2Fpng&MediaUrl2=${u}2&MediaContentType2=image%2Fgif")" = 200 &&
	curl -s "$BASE/api/rooms/books/messages?limit=1" >page &&
	node -e "
		const m = JSON.parse(require(\"fs\").readFileSync(\"page\")).messages[0];
		console.log(m.index, m.messageType, JSON.stringify(m.chatMessage));
		for (const x of m.media) console.log(x.url, x.contentType);
	" >actual &&
	cat >expect <<-\EOF &&
	5 picture ""
	/media/books/5/0 image/jpeg
	/media/books/5/1 image/png
	/media/books/5/2 image/gif
	EOF
	test_cmp expect actual
'

test_expect_success 'a body over 64 KiB: 413 JSON, nothing stored' '
	head -c 70000 /dev/zero | tr "\0" a >big &&
	status=$(curl -s -o response -w "%{http_code}" -H "X-Twilio-Signature: x" \
		--data-binary "@big" $BASE/twilio/sms) &&
	test "$status" = 413 &&
	grep -q "\"error\":\"too_large\"" response &&
	room_lines books | wc -l >count && echo 5 >expect && test_cmp expect count
'

test_expect_success 'malformed input: no MessageSid (400), GET (405)' '
	test "$(tw_post "From=%2B15550000004&Body=nosid")" = 400 &&
	printf "\n" >>response &&
	echo "{\"error\":\"bad_request\",\"message\":\"MessageSid missing or malformed\"}" >expect &&
	test_cmp expect response &&
	status=$(curl -s -o response -w "%{http_code}" $BASE/twilio/sms) &&
	test "$status" = 405 &&
	printf "\n" >>response &&
	echo "{\"error\":\"method_not_allowed\",\"message\":\"use POST\"}" >expect &&
	test_cmp expect response &&
	room_lines books | wc -l >count && echo 5 >expect && test_cmp expect count
'

test_expect_success 'a short From is masked without leaking it' '
	test "$(tw_post "MessageSid=SM0010&From=12&Body=short")" = 200 &&
	room_lines books | tail -n 1 >actual &&
	echo "6 sms:…12 text message short" >expect &&
	test_cmp expect actual
'

test_expect_success 'twilio_room renamed in the conf: a new public room, and back' '
	sed -i "s|^twilio_room *=.*|twilio_room = shelf|" "$VAR/bookpics.conf" &&
	for i in 1 2 3 4 5 6; do
		test "$(tw_post "MessageSid=SM010$i&From=%2B15550000005&Body=shelf$i")" = 200 || return 1
	done &&
	sed -i "s|^twilio_room *=.*|twilio_room = books|" "$VAR/bookpics.conf" &&
	test "$(tw_post "MessageSid=SM0111&From=%2B15550000005&Body=back")" = 200 &&
	sed -i "s|^twilio_room *=.*|twilio_room = shelf|" "$VAR/bookpics.conf" &&
	test "$(tw_post "MessageSid=SM0112&From=%2B15550000005&Body=shelf7")" = 200 &&
	sed -i "s|^twilio_room *=.*|twilio_room = books|" "$VAR/bookpics.conf" &&
	room_lines shelf | cut -d" " -f1,4- >actual &&
	cat >expect <<-\EOF &&
	1 message shelf1
	2 message shelf2
	3 message shelf3
	4 message shelf4
	5 message shelf5
	6 message shelf6
	7 message shelf7
	EOF
	test_cmp expect actual &&
	room_lines books | tail -n 1 | cut -d" " -f1,4- >actual &&
	echo "7 message back" >expect && test_cmp expect actual &&
	admin room list >rooms &&
	grep "^shelf" rooms >actual &&
	printf "shelf\tpublic\t7\n" >expect &&
	test_cmp expect actual
'

test_done
