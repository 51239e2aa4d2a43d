#!/bin/sh
test_description='backup under webhook load, restore into a new $VAR: same messages, tokens, signatures, pictures; revoke, remove, connections, versions, schema'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
SID=ACfake0123456789abcdef
TOKEN=fake-auth-token-42
TW=http://127.0.0.1:$AUX_PORT/2010-04-01/Accounts/$SID/Messages
FAKE_LOG=$TRASH/fake.log
OLDVAR=$VAR
NEWVAR=$TRASH/newvar
trap 'kill_bg; stop_fake; stop_bookpics' EXIT

test_expect_code() {
	_want=$1
	shift
	"$@" && _got=0 || _got=$?
	test "$_got" = "$_want" || { echo "exit $_got, not $_want: $*"; return 1; }
}

# last ROOM [TOKEN]: the room's last index, as the API says it.
last() {
	curl -s ${2:+-H "Authorization: Bearer $2"} "$BASE/api/rooms/$1/messages?limit=1" |
		sed -n 's/.*"last":\([0-9]*\).*/\1/p'
}

# status PATH TOKEN: the HTTP status of GET PATH with the token.
status() {
	curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $2" "$BASE$1"
}

test_expect_success 'a site with a private room, a token, Twilio setup and a cached picture' '
	admin init --port $PORT >/dev/null &&
	admin twilio-token "$TOKEN" && admin twilio-account "$SID" &&
	# the load posts texts: on the wall only with wall_text on
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	sed -i "s|^media_hosts *=.*|media_hosts = http://127.0.0.1:$AUX_PORT|" "$VAR/bookpics.conf" &&
	admin user add alice && admin room add priv && admin member add alice priv &&
	admin token alice >token && test -s token &&
	start_fake && start_bookpics &&
	test "$(tw_post "MessageSid=MM1&AccountSid=$SID&From=%2B14155550100&To=%2B18005551212&Body=pic&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=$TW/MM1/Media/pic-30000")" = 200 &&
	curl -s -o pic.bin -w "%{http_code}\n" "$BASE/media/books/1/0" >code &&
	echo 200 >expect && test_cmp expect code &&
	# the clean picture and its three variants: made by the webhook after it
	# answered, or (if this request took the picture first) when asked for
	for w in 320 640 1280; do
		test "$(curl -s -o /dev/null -w "%{http_code}" "$BASE/media/books/1/0/$w")" = 200 || return 1
	done &&
	test $(find "$VAR/media/books" -type f | wc -l) = 4 &&
	test "$(status /api/rooms/priv/messages "$(cat token)")" = 200 &&
	stop_fake
'

test_expect_success 'backup while signed webhooks keep coming' '
	{ "$BUILD/tools/tw-load" "$BASE/twilio/sms" "$TOKEN" 2 1200 SMload >answers 2>load.err &
	  echo $! >load.pid; } &&
	bg_pid $(cat load.pid) &&
	wait_for "test \$(last books) -ge 200" 30 &&
	last books >before &&
	admin backup "$TRASH/backup" >out &&
	last books >after &&
	cat >expect <<-EOF &&
	conf: $TRASH/backup/bookpics.conf (secrets: keep it private)
	store: $TRASH/backup/db
	media: $TRASH/backup/media (4 files)
	EOF
	test_cmp expect out &&
	test "$(stat -c %a backup/bookpics.conf)" = 600 &&
	test "$(cat after)" -gt "$(cat before)" &&
	wait_for "! kill -0 $(cat load.pid)" 120 &&
	test $(grep -c " 200$" answers) = 2400 &&
	node "$TOP/tests/tools/room-dump.mjs" $BASE books >dump.old
'

test_expect_success 'restore refuses a non-empty $VAR, and a directory that is no backup' '
	mkdir -p busy && : >busy/x &&
	test_expect_code 1 "$BIN/bookpics-admin" --var "$TRASH/busy" restore "$TRASH/backup" 2>err &&
	echo "bookpics-admin: restore target $TRASH/busy is not empty: refusing to write into it" >expect &&
	test_cmp expect err &&
	test_expect_code 1 "$BIN/bookpics-admin" --var "$TRASH/new2" restore "$TRASH/busy" 2>err &&
	echo "bookpics-admin: $TRASH/busy: not a bookpics backup (no BACKUP file)" >expect &&
	test_cmp expect err
'

test_expect_success 'restore into a new $VAR' '
	stop_bookpics &&
	"$BIN/bookpics-admin" --var "$NEWVAR" restore "$TRASH/backup" >out &&
	cat >expect <<-EOF &&
	store: $NEWVAR/db (recovered)
	media: $NEWVAR/media (4 files)
	EOF
	test_cmp expect out &&
	cmp "$OLDVAR/bookpics.conf" "$NEWVAR/bookpics.conf" &&
	test "$(stat -c %a "$NEWVAR/bookpics.conf")" = 600 &&
	"$BIN/bookpics-admin" --var "$NEWVAR" check
'

VAR=$NEWVAR
export VAR

test_expect_success 'the restored site: every message acknowledged before the backup, gapless' '
	start_bookpics &&
	node "$TOP/tests/tools/room-dump.mjs" $BASE books >dump.new &&
	n=$(wc -l <dump.new) &&
	test $n -ge $(cat before) &&
	cut -d" " -f1 dump.new >indexes && seq 1 $n >expect && test_cmp expect indexes &&
	head -n $n dump.old >expect && test_cmp expect dump.new
'

test_expect_success 'the restored site: the old token reads the private room' '
	test "$(status /api/rooms/priv/messages "$(cat token)")" = 200
'

test_expect_success 'the restored site: the same Twilio signature verifies, the picture is served' '
	form="MessageSid=SMafter&From=%2B15550100&To=%2B15550199&Body=after&NumMedia=0" &&
	sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" "$TOKEN" "$form") &&
	curl -s -o /dev/null -w "%{http_code}\n" -H "X-Twilio-Signature: $sig" \
		--data-binary "$form" "$BASE/twilio/sms" >code &&
	echo 200 >expect && test_cmp expect code &&
	curl -s -o pic.new -w "%{http_code}\n" "$BASE/media/books/1/0" >code &&
	test_cmp expect code && cmp pic.bin pic.new
'

test_expect_success 'member list, connections (who, since when)' '
	admin member list priv >out && echo alice >expect && test_cmp expect out &&
	test_expect_code 1 admin member list nowhere 2>err &&
	echo "bookpics-admin: no such room '\''nowhere'\''" >expect && test_cmp expect err &&
	admin connections >out && test_cmp /dev/null out &&
	ws_bg a "$WS?token=$(cat token)" &&
	grep -q "\"type\":\"hello\"" a.out &&
	admin connections >out &&
	test_line_count = 1 out &&
	cut -f2 out >user && echo alice >expect && test_cmp expect user &&
	since=$(cut -f3 out) && now=$(date -u +%s) &&
	t=$(date -u -d "$since" +%s) && test $((now - t)) -le 30 &&
	echo "$since" | grep -qx "[0-9-]*T[0-9:]*Z"
'

test_expect_success 'token revoke: older tokens refused, a new one works' '
	admin token revoke alice >out && test_cmp /dev/null out &&
	curl -s -H "Authorization: Bearer $(cat token)" "$BASE/api/rooms/priv/messages" >body &&
	grep -q "\"message\":\"token revoked\"" body &&
	test "$(status /api/rooms/priv/messages "$(cat token)")" = 401 &&
	admin token alice >token2 &&
	test "$(status /api/rooms/priv/messages "$(cat token2)")" = 200 &&
	test_expect_code 1 admin token revoke nobody 2>err &&
	echo "bookpics-admin: no such user '\''nobody'\''" >expect && test_cmp expect err
'

test_expect_success 'token --ttl overflow or negative: exit 2 and a message' '
	for ttl in 9223372036854775807 99999999999999999999 -1 0 3153600001 12x; do
		test_expect_code 2 admin token alice --ttl $ttl >out 2>err &&
		echo "bookpics-admin: --ttl must be 1..3153600000 seconds (100 years), not '\''$ttl'\''" >expect &&
		test_cmp expect err && test_cmp /dev/null out || return 1
	done &&
	admin token alice --ttl 3153600000 >t && test "$(status /api/rooms/priv/messages "$(cat t)")" = 200
'

test_expect_success 'user remove: memberships and cursors go, tokens stop working' '
	admin user remove alice >out && test_cmp /dev/null out &&
	admin member list priv >out && test_cmp /dev/null out &&
	admin user list >out && test_cmp /dev/null out &&
	curl -s -H "Authorization: Bearer $(cat token2)" "$BASE/api/rooms/priv/messages" >body &&
	grep -q "\"message\":\"unknown user\"" body &&
	admin user add alice &&
	test "$(status /api/rooms/priv/messages "$(cat token2)")" = 401 &&
	test_expect_code 1 admin user remove alice2 2>err &&
	echo "bookpics-admin: no such user '\''alice2'\''" >expect && test_cmp expect err
'

test_expect_success '--version: one version string for every program' '
	v=$(cat "$TOP/VERSION") &&
	for p in bookpics-admin webhook.fcgi api.fcgi bookpics-relay; do
		"$BIN/$p" --version >out &&
		echo "$p $v (store schema 1)" >expect && test_cmp expect out || return 1
	done &&
	admin version >out && echo "bookpics-admin $v (store schema 1)" >expect && test_cmp expect out
'

test_expect_success 'the store schema is written; a newer one is refused naming both versions' '
	kill_bg && stop_bookpics &&
	db5.3_dump -p -h "$VAR/db" meta.db | grep -A1 "^ schema$" | tail -n 1 >got &&
	echo " 1" >expect && test_cmp expect got &&
	printf "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n schema\n 99\nDATA=END\n" |
		db5.3_load -h "$VAR/db" meta.db &&
	test_expect_code 1 admin user list 2>err &&
	echo "bookpics-admin: store $VAR/db has schema version 99, but this bookpics knows versions up to 1: run the newer bookpics that wrote it (docs/UPGRADING.md)" >expect &&
	test_cmp expect err &&
	test_expect_code 1 admin check 2>err &&
	head -n 1 err | sed "s/^bookpics-admin: //" >got &&
	sed "s/^bookpics-admin: //" expect >want && test_cmp want got
'

test_expect_success 'a store without a schema (before 0.13) is upgraded on open' '
	rm -rf old && mkdir old && cp "$VAR/bookpics.conf" old/ &&
	"$BIN/bookpics-admin" --var "$TRASH/old" user add bob &&
	: "an empty meta.db: what a store of bookpics 0.12 looks like to 0.13" &&
	printf "VERSION=3\nformat=print\ntype=btree\nHEADER=END\nDATA=END\n" >empty.dump &&
	rm -f old/db/meta.db && db5.3_load -h old/db -f empty.dump meta.db &&
	db5.3_dump -p -h old/db meta.db | grep -c "^ schema$" >n || : &&
	echo 0 >expect && test_cmp expect n &&
	"$BIN/bookpics-admin" --var "$TRASH/old" user list >out &&
	echo bob >expect && test_cmp expect out &&
	db5.3_dump -p -h old/db meta.db | grep -A1 "^ schema$" | tail -n 1 >got &&
	echo " 1" >expect && test_cmp expect got
'

kill_bg
test_done
