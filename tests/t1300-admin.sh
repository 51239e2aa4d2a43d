#!/bin/sh
test_description='bookpics-admin: help, usage errors, every command'"'"'s output and exit code'
. ./test-lib.sh

# test_expect_code N CMD...: CMD exits with status N (as git's t/).
test_expect_code() {
	_want=$1
	shift
	"$@" && _got=0 || _got=$?
	test "$_got" = "$_want" || { echo "exit $_got, not $_want: $*"; return 1; }
}

cat >usage <<'EOF'
usage: bookpics-admin [--var DIR] COMMAND

  init [--port PORT]            create DIR with its configuration and store
  user add ID                   create a user
  user list                     list users
  room add NAME [--public]      create a room (private unless --public)
  room list                     list rooms: name, visibility, last index
  member add ID ROOM            make user ID a member of ROOM
  member remove ID ROOM         remove user ID from ROOM
  token ID [--ttl SECONDS]      print a connection token (default 30 days)
  twilio-token TOKEN            store the Twilio auth token (- : stdin, --file F)
  twilio-account SID            store the Twilio account SID
  check                         check the configuration and DIR's owner and modes
  backup BACKUPDIR              copy store, conf and media, while running
  restore BACKUPDIR             create DIR (new or empty) from a backup
  member list ROOM              list the members of ROOM
  user remove ID                remove a user, its memberships and cursors
  token revoke ID               refuse every token of ID issued until now
  connections                   list live connections: id, user, since
  group status                  a group's sites: address, role, state, lsn, lag
  group remove HOST:PORT        take a stopped site out of the group
  version                       print the version (also --version)
  message list ROOM [--limit N] newest messages: index, visible|hidden, user, text
  message hide ROOM INDEX       take a message off every wall
  message show ROOM INDEX       show a hidden message again
  queue list ROOM               pictures waiting: id, user, text
  queue approve ROOM ID         post a queued item (prints its index)
  queue reject ROOM ID          drop a queued item
  moderator add USER ROOM       let USER moderate ROOM
  moderator remove USER ROOM    USER no longer moderates ROOM
  sender block ROOM INDEX       block the number that sent a message
  sender unblock ROOM INDEX     unblock it again
  sender list                   blocked senders: hash, user, room, index
  help                          print this help (also --help, -h)

DIR defaults to $BOOKPICS_VAR, else ./var.
EOF

test_expect_success 'help, --help and -h print the usage on stdout and exit 0' '
	for h in help --help -h; do
		admin $h >out 2>err &&
		test_cmp usage out && test_cmp /dev/null err || return 1
	done &&
	"$BIN/bookpics-admin" --help >out 2>err && test_cmp usage out
'

# usage_error ARGS...: exit 2, the usage on stderr, nothing on stdout.
usage_error() {
	test_expect_code 2 admin "$@" >out 2>err &&
	test_cmp usage err && test_cmp /dev/null out
}

test_expect_success 'no command, an unknown one, a group word alone: usage, exit 2' '
	test_expect_code 2 "$BIN/bookpics-admin" >out 2>err &&
	test_cmp usage err && test_cmp /dev/null out &&
	usage_error frobnicate &&
	usage_error user &&
	usage_error member &&
	usage_error member list &&
	usage_error tokens uuid1
'

test_expect_success 'wrong arguments: usage, exit 2, and nothing is created' '
	usage_error init --prt 8080 &&
	usage_error init --port &&
	usage_error user add &&
	usage_error user add a b &&
	usage_error user list x &&
	usage_error room add &&
	usage_error room add r --private &&
	usage_error room add r --public x &&
	usage_error room list x &&
	usage_error member add uuid1 &&
	usage_error member remove uuid1 r x &&
	usage_error token &&
	usage_error token uuid1 --ttl &&
	usage_error token uuid1 --tll 5 &&
	usage_error twilio-token &&
	usage_error twilio-account a b &&
	usage_error help me &&
	usage_error group remove &&
	usage_error group remove 127.0.0.1:1 127.0.0.1:2 &&
	test ! -e "$VAR"
'

test_expect_success 'init: creates DIR, says so the first time only' '
	test_expect_code 1 admin init --port 0 >out 2>err &&
	echo "bookpics-admin: init: --port must be 1..65535" >expect && test_cmp expect err &&
	admin init --port $PORT >out &&
	echo "created $VAR/bookpics.conf" >expect && test_cmp expect out &&
	admin init --port $PORT >out && test_cmp /dev/null out &&
	grep -q "^public_url = http://127.0.0.1:$PORT$" "$VAR/bookpics.conf"
'

test_expect_success 'user add, user list' '
	admin user add uuid2 >out && test_cmp /dev/null out &&
	admin user add uuid1 >out && test_cmp /dev/null out &&
	admin user add uuid1 >out &&
	echo "user uuid1 already exists" >expect && test_cmp expect out &&
	admin user list >out &&
	printf "uuid1\nuuid2\n" >expect && test_cmp expect out &&
	test_expect_code 1 admin user add "a b" >out 2>err &&
	echo "bookpics-admin: invalid user id '\''a b'\''" >expect && test_cmp expect err &&
	admin user list >out && printf "uuid1\nuuid2\n" >expect && test_cmp expect out
'

test_expect_success 'room add, room list' '
	admin room add uuidroom1 >out && test_cmp /dev/null out &&
	admin room add lobby --public >out && test_cmp /dev/null out &&
	admin room add uuidroom1 --public >out &&
	echo "room uuidroom1 already exists" >expect && test_cmp expect out &&
	test_expect_code 1 admin room add "bad room" >out 2>err &&
	echo "bookpics-admin: invalid room name '\''bad room'\''" >expect && test_cmp expect err &&
	admin room list >out &&
	printf "books\tpublic\t0\nlobby\tpublic\t0\nuuidroom1\tprivate\t0\n" >expect &&
	test_cmp expect out
'

test_expect_success 'member add, member remove' '
	admin member add uuid1 uuidroom1 >out && test_cmp /dev/null out &&
	admin member add uuid1 uuidroom1 >out &&
	echo "uuid1 is already a member of uuidroom1" >expect && test_cmp expect out &&
	admin member remove uuid1 uuidroom1 >out && test_cmp /dev/null out &&
	admin member remove uuid1 uuidroom1 >out &&
	echo "uuid1 is not a member of uuidroom1" >expect && test_cmp expect out &&
	test_expect_code 1 admin member add uuid9 uuidroom1 >out 2>err &&
	echo "bookpics-admin: no such user '\''uuid9'\''" >expect && test_cmp expect err &&
	test_expect_code 1 admin member add uuid1 nowhere >out 2>err &&
	echo "bookpics-admin: no such room '\''nowhere'\''" >expect && test_cmp expect err &&
	test_expect_code 1 admin member add uuid1 lobby >out 2>err &&
	echo "bookpics-admin: room '\''lobby'\'' is public: everyone reads it" >expect &&
	test_cmp expect err
'

test_expect_success 'token: USER.EXPIRY.ISSUED.SIG, 30 days or --ttl' '
	now=$(date +%s) &&
	admin token uuid1 >out &&
	grep -q "^uuid1\.[0-9]*\.[0-9]*\.[A-Za-z0-9_-]*$" out &&
	exp=$(cut -d. -f2 out) &&
	test $exp -ge $((now + 2592000)) && test $exp -le $((now + 2592005)) &&
	admin token uuid1 --ttl 60 >out &&
	exp=$(cut -d. -f2 out) &&
	test $exp -ge $((now + 60)) && test $exp -le $((now + 65)) &&
	test_expect_code 2 admin token uuid1 --ttl 0 >out 2>err &&
	echo "bookpics-admin: --ttl must be 1..3153600000 seconds (100 years), not '\''0'\''" >expect &&
	test_cmp expect err && test_cmp /dev/null out &&
	test_expect_code 1 admin token nobody >out 2>err &&
	echo "bookpics-admin: no such user '\''nobody'\''" >expect && test_cmp expect err
'

test_expect_success 'twilio-token, twilio-account: stored in the configuration' '
	admin twilio-token secret123 >out && test_cmp /dev/null out &&
	admin twilio-account AC123 >out && test_cmp /dev/null out &&
	grep -q "^twilio_auth_token = secret123$" "$VAR/bookpics.conf" &&
	grep -q "^twilio_account_sid = AC123$" "$VAR/bookpics.conf"
'

test_expect_success 'group status, group remove at a single site: not in a group, exit 1' '
	test_expect_code 1 admin group status >out 2>err &&
	echo "bookpics-admin: not in a group (no group_self)" >expect &&
	test_cmp expect err && test_cmp /dev/null out &&
	test_expect_code 1 admin group remove 127.0.0.1:1 >out 2>err &&
	test_cmp expect err && test_cmp /dev/null out
'

test_done
