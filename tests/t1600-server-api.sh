#!/bin/sh
test_description='the server API (/api/admin/, admin_token) and CORS (cors_origins)'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

ADMIN=0123456789abcdef-the-backend

# call METHOD PATH [BODY [AUTHORIZATION]]: prints "STATUS BODY" (the body as received).
call() {
	_auth=${4-Bearer $ADMIN}
	if [ -n "$3" ]; then
		curl -s -o body -w "%{http_code}" -X "$1" -H "Authorization: $_auth" \
			-H "Content-Type: application/json" --data-binary "$3" "$BASE$2"
	else
		curl -s -o body -w "%{http_code}" -X "$1" -H "Authorization: $_auth" \
			-H "Content-Length: 0" "$BASE$2"
	fi
	printf ' %s\n' "$(cat body)"
}

# cors_headers [CURL ARGS]: the CORS lines of a response, and its status.
cors_headers() {
	curl -s -o cors.body -D cors.head -w "%{http_code}\n" "$@" >cors.status &&
	cat cors.status && tr -d '\r' <cors.head | grep -i "^\(access-control-\|vary:\)" ; true
}

test_expect_success 'start: admin_token empty, so no server API' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	start_bookpics
'

test_expect_success 'while admin_token is empty, every /api/admin/ route is 404 (OPTIONS too)' '
	call POST /api/admin/users "{\"id\":\"alice\"}" >actual &&
	call GET /api/admin/rooms/books/presence >>actual &&
	call OPTIONS /api/admin/users >>actual &&
	call POST /api/admin "{}" >>actual &&
	cat >expect <<-\EOF &&
	404 {"error":"not_found","message":"no such resource: /api/admin/users"}
	404 {"error":"not_found","message":"no such resource: /api/admin/rooms/books/presence"}
	404 {"error":"not_found","message":"no such resource: /api/admin/users"}
	404 {"error":"not_found","message":"no such resource: /api/admin"}
	EOF
	test_cmp expect actual &&
	admin user list >users && test_cmp /dev/null users
'

test_expect_success 'with admin_token: 401 without it, with a wrong one, or not Bearer' '
	set_conf admin_token $ADMIN &&
	call POST /api/admin/users "{\"id\":\"alice\"}" "" >actual &&
	call POST /api/admin/users "{\"id\":\"alice\"}" "Bearer ${ADMIN}x" >>actual &&
	call POST /api/admin/users "{\"id\":\"alice\"}" "Bearer 0123456789abcdef-the-backenD" >>actual &&
	call POST /api/admin/users "{\"id\":\"alice\"}" "Basic $ADMIN" >>actual &&
	call GET /api/admin/nothing "" "Bearer nope" >>actual &&
	msg="{\"error\":\"unauthorized\",\"message\":\"the server API needs '\''Authorization: Bearer ADMIN_TOKEN'\''\"}" &&
	for i in 1 2 3 4 5; do echo "401 $msg"; done >expect &&
	test_cmp expect actual &&
	curl -s -D head -o /dev/null -X POST -H "Content-Length: 0" "$BASE/api/admin/users" &&
	grep -q "^WWW-Authenticate: Bearer realm=\"bookpics-admin\"" head &&
	admin user list >users && test_cmp /dev/null users
'

test_expect_success 'unknown path 404, wrong method 405' '
	call GET /api/admin/nothing >actual &&
	call GET /api/admin/users >>actual &&
	call POST /api/admin/users/ "{}" >>actual &&
	call POST /api/admin/members/a/b/c "{}" >>actual &&
	call DELETE /api/admin/tokens >>actual &&
	cat >expect <<-\EOF &&
	404 {"error":"not_found","message":"no such resource: /api/admin/nothing"}
	405 {"error":"method_not_allowed","message":"GET is not allowed here"}
	404 {"error":"not_found","message":"no such resource: /api/admin/users/"}
	404 {"error":"not_found","message":"no such resource: /api/admin/members/a/b/c"}
	405 {"error":"method_not_allowed","message":"DELETE is not allowed here"}
	EOF
	test_cmp expect actual
'

test_expect_success 'POST /api/admin/users: 201, 409 duplicate, 400 bad id or body' '
	call POST /api/admin/users "{\"id\":\"alice\"}" >actual &&
	call POST /api/admin/users "{\"id\":\"carol\",\"other\":1}" >>actual &&
	call POST /api/admin/users "{\"id\":\"alice\"}" >>actual &&
	call POST /api/admin/users "{\"id\":\"a b\"}" >>actual &&
	call POST /api/admin/users "{\"id\":7}" >>actual &&
	call POST /api/admin/users "{}" >>actual &&
	call POST /api/admin/users "[\"alice\"]" >>actual &&
	call POST /api/admin/users "" >>actual &&
	cat >expect <<-\EOF &&
	201 {"id":"alice"}
	201 {"id":"carol"}
	409 {"error":"conflict","message":"user '\''alice'\'' already exists"}
	400 {"error":"bad_request","message":"invalid user id '\''a b'\''"}
	400 {"error":"bad_request","message":"\"id\" must be a string"}
	400 {"error":"bad_request","message":"\"id\" must be a string"}
	400 {"error":"bad_request","message":"body must be a JSON object"}
	EOF
	head -n 7 actual >first && test_cmp expect first &&
	sed -n 8p actual | grep -q "^400 {\"error\":\"bad_request\",\"message\":\"" &&
	call POST /api/admin/users "{\"id\":\"bob\"" >actual &&
	grep -q "^400 {\"error\":\"bad_request\",\"message\":\"" actual &&
	call POST /api/admin/users "{\"id\":\"bob\"} x" >actual &&
	grep -q "^400 {\"error\":\"bad_request\",\"message\":\"" actual &&
	admin user list >users && printf "alice\ncarol\n" >expect && test_cmp expect users
'

test_expect_success 'POST /api/admin/rooms: 201 private or public, 409, 400' '
	call POST /api/admin/rooms "{\"name\":\"club\",\"public\":false}" >actual &&
	call POST /api/admin/rooms "{\"name\":\"lobby\",\"public\":true}" >>actual &&
	call POST /api/admin/rooms "{\"name\":\"quiet\"}" >>actual &&
	call POST /api/admin/rooms "{\"name\":\"club\",\"public\":true}" >>actual &&
	call POST /api/admin/rooms "{\"name\":\"x\",\"public\":\"yes\"}" >>actual &&
	call POST /api/admin/rooms "{\"name\":\"../x\"}" >>actual &&
	call POST /api/admin/rooms "{\"public\":true}" >>actual &&
	call POST /api/admin/rooms "{\"name\":" >>actual &&
	cat >expect <<-\EOF &&
	201 {"name":"club","public":false}
	201 {"name":"lobby","public":true}
	201 {"name":"quiet","public":false}
	409 {"error":"conflict","message":"room '\''club'\'' already exists"}
	400 {"error":"bad_request","message":"\"public\" must be true or false"}
	400 {"error":"bad_request","message":"invalid room name '\''../x'\''"}
	400 {"error":"bad_request","message":"\"name\" must be a string"}
	EOF
	head -n 7 actual >first && test_cmp expect first &&
	sed -n 8p actual | grep -q "^400 {\"error\":\"bad_request\",\"message\":\"" &&
	admin room list >rooms &&
	printf "books\tpublic\t0\nclub\tprivate\t0\nlobby\tpublic\t0\nquiet\tprivate\t0\n" >expect &&
	test_cmp expect rooms
'

test_expect_success 'POST /api/admin/members: 201, 409, 404 unknown user or room' '
	call POST /api/admin/members "{\"user\":\"alice\",\"room\":\"club\"}" >actual &&
	call POST /api/admin/members "{\"user\":\"alice\",\"room\":\"club\"}" >>actual &&
	call POST /api/admin/members "{\"user\":\"nobody\",\"room\":\"club\"}" >>actual &&
	call POST /api/admin/members "{\"user\":\"alice\",\"room\":\"nowhere\"}" >>actual &&
	call POST /api/admin/members "{\"user\":\"alice\",\"room\":\"lobby\"}" >>actual &&
	call POST /api/admin/members "{\"user\":\"alice\"}" >>actual &&
	call POST /api/admin/members "nope" >>actual &&
	cat >expect <<-\EOF &&
	201 {"user":"alice","room":"club"}
	409 {"error":"conflict","message":"'\''alice'\'' is already a member of '\''club'\''"}
	404 {"error":"not_found","message":"no such user '\''nobody'\''"}
	404 {"error":"not_found","message":"no such room '\''nowhere'\''"}
	409 {"error":"conflict","message":"room '\''lobby'\'' is public: everyone reads it"}
	400 {"error":"bad_request","message":"\"room\" must be a string"}
	EOF
	head -n 6 actual >first && test_cmp expect first &&
	sed -n 7p actual | grep -q "^400 {\"error\":\"bad_request\",\"message\":\""
'

test_expect_success 'DELETE /api/admin/members/{user}/{room}: 204 with no body, then 404' '
	call POST /api/admin/members "{\"user\":\"carol\",\"room\":\"quiet\"}" >actual &&
	curl -s -o body -D head -w "%{http_code} %{size_download}\n" -X DELETE \
		-H "Authorization: Bearer $ADMIN" "$BASE/api/admin/members/carol/quiet" >>actual &&
	call DELETE /api/admin/members/carol/quiet >>actual &&
	call DELETE /api/admin/members/nobody/quiet >>actual &&
	call DELETE /api/admin/members/carol/nowhere >>actual &&
	cat >expect <<-\EOF &&
	201 {"user":"carol","room":"quiet"}
	204 0
	404 {"error":"not_found","message":"'\''carol'\'' is not a member of '\''quiet'\''"}
	404 {"error":"not_found","message":"no such user '\''nobody'\''"}
	404 {"error":"not_found","message":"no such room '\''nowhere'\''"}
	EOF
	test_cmp expect actual &&
	! grep -i "^content-length: [1-9]" head &&
	call POST /api/admin/members "{\"user\":\"carol\",\"room\":\"quiet\"}" >actual &&
	call DELETE /api/admin/members/carol/quiet >>actual &&
	printf "201 {\"user\":\"carol\",\"room\":\"quiet\"}\n204 \n" >expect && test_cmp expect actual
'

# token_of: the token of the last 201 of POST /api/admin/tokens (./body).
token_of() {
	sed -n "s/^{\"token\":\"\([^\"]*\)\",\"expires\":\"[^\"]*\"}$/\1/p" body
}

test_expect_success 'POST /api/admin/tokens: 201 {"token","expires"}, ttl bounded, 404 unknown user' '
	now=$(date +%s) &&
	call POST /api/admin/tokens "{\"user\":\"alice\",\"ttl\":60}" >actual &&
	grep -q "^201 {\"token\":\"alice\.[0-9]*\.[0-9]*\.[A-Za-z0-9_-]*\",\"expires\":\"[0-9T:-]*Z\"}$" actual &&
	token_of >tok.alice &&
	exp=$(cut -d. -f2 tok.alice) &&
	test $exp -ge $((now + 60)) && test $exp -le $((now + 65)) &&
	echo "\"expires\":\"$(date -u -d @$exp +%Y-%m-%dT%H:%M:%SZ)\"}" >expect &&
	echo "$(sed "s/.*,//" body)" >actual && test_cmp expect actual &&
	call POST /api/admin/tokens "{\"user\":\"alice\"}" >actual &&
	exp=$(token_of | cut -d. -f2) &&
	test $exp -ge $((now + 2592000)) && test $exp -le $((now + 2592005)) &&
	call POST /api/admin/tokens "{\"user\":\"alice\",\"ttl\":0}" >actual &&
	call POST /api/admin/tokens "{\"user\":\"alice\",\"ttl\":3153600001}" >>actual &&
	call POST /api/admin/tokens "{\"user\":\"alice\",\"ttl\":\"60\"}" >>actual &&
	call POST /api/admin/tokens "{\"user\":\"alice\",\"ttl\":1.5}" >>actual &&
	call POST /api/admin/tokens "{\"user\":\"nobody\"}" >>actual &&
	call POST /api/admin/tokens "{\"ttl\":60}" >>actual &&
	m="400 {\"error\":\"bad_request\",\"message\":\"\\\\\"ttl\\\\\" must be 1..3153600000 seconds\"}" &&
	{ echo "$m"; echo "$m"; echo "$m"; echo "$m"; } >expect &&
	cat >>expect <<-\EOF &&
	404 {"error":"not_found","message":"no such user '\''nobody'\''"}
	400 {"error":"bad_request","message":"\"user\" must be a string"}
	EOF
	test_cmp expect actual
'

test_expect_success 'a token made over the server API reads a private room over the public API' '
	curl -s -o page -w "%{http_code}\n" -H "Authorization: Bearer $(cat tok.alice)" \
		"$BASE/api/rooms/club/messages" >status &&
	echo 200 >expect && test_cmp expect status &&
	echo "{\"room\":\"club\",\"last\":0,\"messages\":[]}" >expect &&
	echo "$(cat page)" >actual && test_cmp expect actual
'

test_expect_success 'POST /api/admin/rooms/{room}/messages: sent as the user, seen over WebSocket' '
	ws_bg a "$WS?token=$(cat tok.alice)" &&
	grep -q "\"type\":\"hello\",\"connectionId\":\"ID\",\"userId\":\"alice\"" a.out &&
	call POST /api/admin/rooms/club/messages \
		"{\"userId\":\"alice\",\"chatMessage\":\"from the backend\",\"messageType\":\"text message\"}" >actual &&
	call POST /api/admin/rooms/club/messages "{\"userId\":\"alice\",\"chatMessage\":\"again\"}" >>actual &&
	cat >expect <<-\EOF &&
	201 {"room":"club","index":1}
	201 {"room":"club","index":2}
	EOF
	test_cmp expect actual &&
	wait_count a.out "^message " 2 &&
	messages_of a.out >actual &&
	printf "club 1 alice from the backend\nclub 2 alice again\n" >expect && test_cmp expect actual &&
	curl -s -H "Authorization: Bearer $(cat tok.alice)" "$BASE/api/rooms/club/messages?after=0" >page &&
	grep -q "\"index\":1,\"userId\":\"alice\",\"messageType\":\"text message\",\"chatMessage\":\"from the backend\"" page
'

test_expect_success 'messages: 404 unknown room or user, 403 not a member, 400 bad fields; nothing stored' '
	call POST /api/admin/rooms/nowhere/messages "{\"userId\":\"alice\",\"chatMessage\":\"x\"}" >actual &&
	call POST /api/admin/rooms/club/messages "{\"userId\":\"nobody\",\"chatMessage\":\"x\"}" >>actual &&
	call POST /api/admin/rooms/club/messages "{\"userId\":\"carol\",\"chatMessage\":\"x\"}" >>actual &&
	call POST /api/admin/rooms/club/messages "{\"chatMessage\":\"x\"}" >>actual &&
	call POST /api/admin/rooms/club/messages "{\"userId\":\"alice\"}" >>actual &&
	call POST /api/admin/rooms/club/messages "{\"userId\":\"alice\",\"chatMessage\":\"x\",\"messageType\":\"picture\"}" >>actual &&
	cat >expect <<-\EOF &&
	404 {"error":"not_found","message":"no such room"}
	404 {"error":"not_found","message":"no such user '\''nobody'\''"}
	403 {"error":"not_member","message":"user '\''carol'\'' is not a member of '\''club'\''"}
	400 {"error":"bad_request","message":"\"userId\" must be a string"}
	400 {"error":"bad_request","message":"chatMessage must be a string"}
	400 {"error":"bad_request","message":"messageType must be \"text message\""}
	EOF
	test_cmp expect actual &&
	admin room list | grep "^club" >rooms && printf "club\tprivate\t2\n" >expect && test_cmp expect rooms
'

test_expect_success 'GET /api/admin/rooms/{room}/presence: no membership needed; 404 unknown room' '
	call GET /api/admin/rooms/club/presence >actual &&
	call GET /api/admin/rooms/quiet/presence >>actual &&
	call GET /api/admin/rooms/nowhere/presence >>actual &&
	cat >expect <<-\EOF &&
	200 {"room":"club","users":["alice"]}
	200 {"room":"quiet","users":[]}
	404 {"error":"not_found","message":"no such room '\''nowhere'\''"}
	EOF
	test_cmp expect actual &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$BASE/api/rooms/club/presence")" = 401
'

test_expect_success 'POST /api/admin/users/{id}/revoke: 204; earlier tokens 401, later ones work' '
	ws_stop a &&
	admin token alice >tok.cli &&
	call POST /api/admin/tokens "{\"user\":\"carol\"}" >/dev/null && token_of >tok.carol &&
	call POST /api/admin/users/alice/revoke >actual &&
	call POST /api/admin/users/nobody/revoke >>actual &&
	printf "204 \n404 {\"error\":\"not_found\",\"message\":\"no such user '\''nobody'\''\"}\n" >expect &&
	test_cmp expect actual &&
	for t in tok.alice tok.cli; do
		curl -s -w " %{http_code}\n" -H "Authorization: Bearer $(cat $t)" "$BASE/api/rooms/club/messages" || return 1
	done >actual &&
	m="{\"error\":\"unauthorized\",\"message\":\"token revoked\"} 401" &&
	printf "%s\n%s\n" "$m" "$m" >expect && test_cmp expect actual &&
	ws "$WS?token=$(cat tok.alice)" --count 1 >refused ; grep -q "^http 401" refused &&
	call POST /api/admin/tokens "{\"user\":\"alice\"}" >/dev/null && token_of >tok.new &&
	admin token alice >tok.cli2 &&
	for t in tok.new tok.cli2; do
		curl -s -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer $(cat $t)" \
			"$BASE/api/rooms/club/messages" || return 1
	done >actual &&
	printf "200\n200\n" >expect && test_cmp expect actual &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer $(cat tok.carol)" \
		"$BASE/api/rooms/books/messages" >actual &&
	echo 200 >expect && test_cmp expect actual
'

test_expect_success 'without cors_origins: no CORS headers, OPTIONS 204' '
	cors_headers -X OPTIONS -H "Origin: https://app.example.org" \
		-H "Access-Control-Request-Method: POST" "$BASE/api/rooms/books/messages" >actual &&
	echo 204 >expect && test_cmp expect actual &&
	cors_headers -H "Origin: https://app.example.org" "$BASE/api/health" >actual &&
	echo 200 >expect && test_cmp expect actual
'

test_expect_success 'CORS preflight from an allowed origin: 204 with the exact headers' '
	set_conf cors_origins "https://app.example.org, http://127.0.0.1:3000" &&
	cors_headers -X OPTIONS -H "Origin: https://app.example.org" \
		-H "Access-Control-Request-Method: POST" \
		-H "Access-Control-Request-Headers: authorization, content-type" \
		"$BASE/api/admin/users" >actual &&
	cat >expect <<-\EOF &&
	204
	Vary: Origin
	Access-Control-Allow-Origin: https://app.example.org
	Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS
	Access-Control-Allow-Headers: Authorization, Content-Type, Idempotency-Key
	Access-Control-Max-Age: 7200
	EOF
	test_cmp expect actual && test_cmp /dev/null cors.body &&
	cors_headers -X OPTIONS -H "Origin: http://127.0.0.1:3000" \
		-H "Access-Control-Request-Method: GET" "$BASE/api/rooms/books/messages" >actual &&
	sed "s|https://app.example.org|http://127.0.0.1:3000|" expect >expect2 && test_cmp expect2 actual
'

test_expect_success 'CORS from an allowed origin on real requests: the origin echoed, no credentials' '
	cors_headers -H "Origin: https://app.example.org" "$BASE/api/rooms/books/messages" >actual &&
	printf "200\nVary: Origin\nAccess-Control-Allow-Origin: https://app.example.org\n" >expect &&
	test_cmp expect actual &&
	cors_headers -X POST -H "Origin: https://app.example.org" -H "Authorization: Bearer $ADMIN" \
		-H "Content-Type: application/json" --data-binary "{\"id\":\"dave\"}" "$BASE/api/admin/users" >actual &&
	printf "201\nVary: Origin\nAccess-Control-Allow-Origin: https://app.example.org\n" >expect &&
	test_cmp expect actual &&
	cors_headers -H "Origin: https://app.example.org" "$BASE/api/rooms/club/messages" >actual &&
	printf "401\nVary: Origin\nAccess-Control-Allow-Origin: https://app.example.org\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'CORS from any other origin: no CORS headers, preflight 204 without them' '
	for o in https://evil.example.org https://app.example.org.evil.org http://app.example.org \
		 https://APP.example.org null "https://app.example.org, https://evil.example.org"; do
		cors_headers -X OPTIONS -H "Origin: $o" -H "Access-Control-Request-Method: POST" \
			"$BASE/api/admin/users" >actual &&
		printf "204\nVary: Origin\n" >expect && test_cmp expect actual &&
		cors_headers -H "Origin: $o" "$BASE/api/health" >actual &&
		printf "200\nVary: Origin\n" >expect && test_cmp expect actual || return 1
	done &&
	cors_headers "$BASE/api/health" >actual && test_cmp expect actual
'

test_expect_success 'a bad cors_origins does not load' '
	set_conf cors_origins "https://a.org/path" &&
	! admin user list >/dev/null 2>err &&
	grep -q "cors_origins: '\''https://a.org/path'\'' is not an origin" err &&
	set_conf cors_origins "https://app.example.org"
'

test_expect_success 'stop' '
	kill_bg && stop_bookpics && check_sanitizer_logs
'

test_done
