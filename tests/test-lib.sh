# test-lib.sh - sourced by every tNNNN-*.sh: git-style test helpers.
#
#   test_description='...'
#   . ./test-lib.sh
#   test_expect_success 'what it checks' '
#           commands && ...
#   '
#   test_done
#
# test_expect_success PREREQ 'title' '...' runs only where every prerequisite
# in the comma-separated PREREQ holds (else "ok N # skip"); a script that
# cannot run at all without one says so first, as git's t/ does:
#   if ! test_have_prereq CHROMIUM; then skip_all='no Chromium'; test_done; fi
# Prerequisites known here: CHROMIUM, ROOT, APACHE, HAPROXY; test_set_prereq
# adds more.
#
# Each script runs in its own scratch directory tests/trash.tNNNN (removed
# when every test passed), with its own ports derived from NNNN: $PORT for
# lighttpd, $RELAY_PORT = PORT+1, $AUX_PORT = PORT+2 for fake upstreams.
# PORT_BASE (default 10000) moves them all: a second checkout running its
# suite at the same time uses PORT_BASE=10010 (no test NNNN has a
# neighbour NNNN+3, so the two sets never meet). NNNN*3 wraps at 22,000 so
# that every port stays below 32768, where Linux's ephemeral ports begin
# (32768-60999): there an outgoing connection's own port can take a
# listener's (t8000 at 34000 once found its port in use). Scripts run one
# after another, so two NNNN that wrap onto each other never meet either.
# Environment from run-all.sh: BIN (programs), BUILD (unit tests, tools).

TEST_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$TEST_DIR/.." && pwd)
TEST_NAME=$(basename "$0" .sh)
TEST_NUM=$(echo "$TEST_NAME" | sed 's/^t\([0-9]*\).*/\1/')
BIN=${BIN:-$TOP/bin}
BUILD=${BUILD:-$TOP/build/obj}
case $BIN in /*) ;; *) BIN=$TOP/$BIN ;; esac
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export BIN BUILD TOP
PORT=$((${PORT_BASE:-10000} + $(echo "$TEST_NUM" | sed 's/^0*//') * 3 % 22000))
RELAY_PORT=$((PORT + 1))
AUX_PORT=$((PORT + 2))
export PORT RELAY_PORT AUX_PORT
TRASH=$TEST_DIR/trash.$TEST_NAME
VAR=$TRASH/var
export VAR
BASE=http://127.0.0.1:$PORT
# Sanitizer reports fail the run; the programs' stderr lands in $VAR/log.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
# abort_on_error: a sanitizer report is death by SIGABRT, which test_must_fail
# tells apart from an ordinary failure.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}

test_count=0
test_failed=0
test_skipped=0
skip_all=
prereqs_set=" "
prereqs_probed=" "

rm -rf "$TRASH"
mkdir -p "$TRASH"
cd "$TRASH" || exit 1

say() { printf '%s\n' "$*"; }

# test_set_prereq NAME: NAME holds from now on.
test_set_prereq() {
	prereqs_set="$prereqs_set$1 "
}

# Probe a known prerequisite once, on first use.
prereq_probe() {
	case $prereqs_probed in *" $1 "*) return ;; esac
	prereqs_probed="$prereqs_probed$1 "
	case $1 in
	CHROMIUM)
		# the browser and the driver library the tests/browser scripts use
		test -x "${CHROMIUM:-/usr/bin/chromium}" &&
		test -d "$TOP/node_modules/playwright-core" && test_set_prereq CHROMIUM ;;
	ROOT)
		test "$(id -u)" = 0 && test_set_prereq ROOT ;;
	APACHE)
		command -v apache2 >/dev/null 2>&1 &&
		test -f /usr/lib/apache2/modules/mod_fcgid.so &&
		command -v runuser >/dev/null 2>&1 &&
		id www-data >/dev/null 2>&1 && test_set_prereq APACHE ;;
	HAPROXY)
		# Debian's package, the front of dist/haproxy.cfg
		test -x "${HAPROXY:-/usr/sbin/haproxy}" && test_set_prereq HAPROXY ;;
	esac
}

# test_have_prereq P1,P2,...: every one holds ("!P": P must not hold).
test_have_prereq() {
	_ifs=$IFS; IFS=,; set -- $*; IFS=$_ifs
	for _p; do
		_want=yes
		case $_p in !*) _want=no; _p=${_p#!} ;; esac
		prereq_probe "$_p"
		case $prereqs_set in *" $_p "*) _have=yes ;; *) _have=no ;; esac
		[ $_have = $_want ] || { missing_prereq=$_p; return 1; }
	done
	return 0
}

# test_expect_success [PREREQ] 'title' 'script'
test_expect_success() {
	if [ $# = 3 ]; then
		if ! test_have_prereq "$1"; then
			test_count=$((test_count + 1))
			test_skipped=$((test_skipped + 1))
			say "ok $test_count # skip $2 (missing $missing_prereq)"
			return 0
		fi
		shift
	fi
	test_count=$((test_count + 1))
	if (set -e; eval "$2") >"$TRASH/out.$test_count" 2>&1; then
		say "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $1"
		sed 's/^/#	/' "$TRASH/out.$test_count"
		printf '%s\n' "$2" | sed 's/^/#	> /'
	fi
}

# test_must_fail CMD...: CMD must fail the ordinary way. Success fails the
# test, and so does death by a signal (exit > 128: a crash, a sanitizer's
# abort) or a command that could not run (126, 127), as in git's t/.
test_must_fail() {
	"$@"
	_code=$?
	if [ $_code = 0 ]; then
		echo >&2 "test_must_fail: command succeeded: $*"
		return 1
	elif [ $_code -gt 128 ]; then
		echo >&2 "test_must_fail: died by signal $((_code - 128)): $*"
		return 1
	elif [ $_code = 126 ] || [ $_code = 127 ]; then
		echo >&2 "test_must_fail: could not run ($_code): $*"
		return 1
	fi
	return 0
}

# test_cmp EXPECTED ACTUAL: files must be identical (diff shown otherwise).
test_cmp() {
	diff -u "$1" "$2"
}

# test_line_count = N FILE: FILE has exactly N lines (git's helper).
test_line_count() {
	_n=$(wc -l <"$3")
	test "$_n" "$1" "$2" || { echo "$3 has $_n lines, not $1 $2:"; cat "$3"; return 1; }
}

# The programs' logs, shown when a test fails, for the reader of CI output.
show_logs() {
	for f in "$VAR"/log/*.log; do
		[ -s "$f" ] || continue
		say "# --- $f"
		tail -n 30 "$f" | sed 's/^/#	/'
	done
}

# Sanitizer reports in the logs fail the script even if every test passed.
check_sanitizer_logs() {
	if grep -l -E 'ERROR: AddressSanitizer|runtime error:' "$VAR"/log/*.log 2>/dev/null; then
		say "not ok - sanitizer report in the logs"
		grep -h -A 20 -E 'ERROR: AddressSanitizer|runtime error:' "$VAR"/log/*.log | sed 's/^/#	/'
		return 1
	fi
	return 0
}

# Wait until cmd succeeds, at most $2 seconds (default 10).
wait_for() {
	_n=$(( ${2:-10} * 10 ))
	while [ $_n -gt 0 ]; do
		eval "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# Start the whole system (scripts/run.sh) in the background on $PORT. The
# pid goes to a file: tests run in subshells, so a variable would be lost.
start_bookpics() {
	mkdir -p "$VAR/log"
	(umask 077; : >>"$VAR/log/run.log")
	setsid sh "$TOP/scripts/run.sh" >>"$VAR/log/run.log" 2>&1 &
	echo $! >"$TRASH/bookpics.pid"
	# up = health answers (503 too: no twilio_auth_token yet is a problem it names)
	wait_for "curl -s $BASE/api/health | grep -q '^{\"ok\":'" 20 || { cat "$VAR/log/run.log"; return 1; }
}

# Stop what start_bookpics started (run.sh stops its children) and wait
# until lighttpd's port is free again.
stop_bookpics() {
	[ -f "$TRASH/bookpics.pid" ] || return 0
	_pid=$(cat "$TRASH/bookpics.pid")
	rm -f "$TRASH/bookpics.pid"
	kill "$_pid" 2>/dev/null || return 0
	wait_for "! kill -0 $_pid" 10
	wait_for "! curl -s -o /dev/null $BASE/" 10
}

# use_hooks_build PROGRAM...: run the programs of the TESTHOOKS build
# (`make TESTHOOKS=1 all`: $HOOKS_BIN, default build/hooks/bin), which
# holds the stall points (store_test_stall, dbwatch_test_sleep); without
# every PROGRAM there the whole script is skipped.
use_hooks_build() {
	HOOKS_BIN=${HOOKS_BIN:-$TOP/build/hooks/bin}
	for _prog; do
		if ! test -x "$HOOKS_BIN/$_prog"; then
			skip_all="no TESTHOOKS build in $HOOKS_BIN (make TESTHOOKS=1 all)"
			test_done
		fi
	done
	BIN=$HOOKS_BIN
	export BIN
}

# set_conf KEY VALUE: KEY = VALUE in $VAR/bookpics.conf, in its place or
# appended; the running programs reload the file by its mtime.
set_conf() {
	K=$1 V=$2 awk '$1 == ENVIRON["K"] { print ENVIRON["K"] " = " ENVIRON["V"]; f = 1; next }
		{ print } END { if (!f) print ENVIRON["K"] " = " ENVIRON["V"] }' \
		"$VAR/bookpics.conf" >"$TRASH/conf.new" &&
	cat "$TRASH/conf.new" >"$VAR/bookpics.conf" &&
	grep -qxF "$1 = $2" "$VAR/bookpics.conf"
}

admin() {
	"$BIN/bookpics-admin" --var "$VAR" "$@"
}

# tw_post FORM [URI]: a webhook signed with the configured auth token;
# prints the HTTP status, the body goes to ./response.
tw_post() {
	_uri=${2:-/twilio/sms}
	_token=$(sed -n 's/^twilio_auth_token *= *//p' "$VAR/bookpics.conf")
	_sig=$("$BUILD/tools/tw-sign" "$BASE$_uri" "$_token" "$1")
	curl -s -m 60 -o response -w '%{http_code}\n' -H "X-Twilio-Signature: $_sig" \
		--data-binary "$1" -H 'Content-Type: application/x-www-form-urlencoded' \
		"$BASE$_uri"
}

# start_fake / stop_fake: tests/tools/fake-twilio.mjs on $AUX_PORT for
# account $SID with auth token $TOKEN, logging requests to $FAKE_LOG.
start_fake() {
	: >"$FAKE_LOG"
	node "$TOP/tests/tools/fake-twilio.mjs" --port "$AUX_PORT" --log "$FAKE_LOG" \
		--sid "$SID" --token "$TOKEN" >"$TRASH/fake.out" 2>&1 &
	echo $! >"$TRASH/fake.pid"
	wait_for "grep -q '^listening' '$FAKE_LOG'" 10
}

stop_fake() {
	[ -f "$TRASH/fake.pid" ] || return 0
	kill "$(cat "$TRASH/fake.pid")" 2>/dev/null
	rm -f "$TRASH/fake.pid"
}

# first_picture_ok: ./page, the books room after its first webhook (t1000's
# SID_FORM), exactly as every front end must see it: room fields, sender
# masked, media URLs rewritten, ISO time, no other keys.
first_picture_ok() {
	node -e '
		const p = JSON.parse(require("fs").readFileSync("page"));
		const m = p.messages[0];
		console.log(p.room, p.last, p.messages.length);
		console.log(m.room, m.index, m.userId, m.messageType, m.chatMessage);
		console.log(JSON.stringify(m.media));
		console.log(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(m.createTime));
		console.log(Object.keys(m).join(","));
	' >actual &&
	cat >expect <<-\EOF &&
	books 1 1
	books 1 sms:…0100 picture My favourite!
	[{"url":"/media/books/1/0","contentType":"image/jpeg"}]
	true
	room,index,userId,messageType,chatMessage,createTime,media
	EOF
	test_cmp expect actual
}

# The messages of a room as "index userId messageType chatMessage" lines.
room_lines() {
	curl -s "$BASE/api/rooms/$1/messages?after=0&limit=500${2:+&$2}" |
		node -e '
			let s = ""; process.stdin.on("data", d => s += d);
			process.stdin.on("end", () => {
				for (const m of JSON.parse(s).messages)
					console.log(m.index, m.userId, m.messageType, m.chatMessage);
			});'
}

# Browser drivers (tests/browser/*.mjs) read commands on stdin and print
# lines: run one in the background with a FIFO for its stdin and a file for
# its stdout. driver_start NAME ARGS..., driver_send NAME LINE,
# driver_wait NAME PATTERN [SECONDS] (a grep -E pattern on its output).
driver_start() {
	_name=$1; shift
	rm -f "$TRASH/$_name.in"
	mkfifo "$TRASH/$_name.in"
	node "$@" <"$TRASH/$_name.in" >"$TRASH/$_name.out" 2>"$TRASH/$_name.err" &
	echo $! >"$TRASH/$_name.driver"
	# Hold the FIFO open for writing: the driver sees EOF only on driver_stop.
	sleep 1000000 >"$TRASH/$_name.in" &
	echo $! >"$TRASH/$_name.holder"
}

driver_send() {
	printf '%s\n' "$2" >"$TRASH/$1.in"
}

driver_wait() {
	wait_for "grep -q -E '$2' '$TRASH/$1.out'" "${3:-20}" || {
		echo "driver $1: no line matching '$2'; it printed:"; cat "$TRASH/$1.out" "$TRASH/$1.err"
		return 1
	}
}

driver_stop() {
	for _f in "$TRASH"/*.holder "$TRASH"/*.driver; do
		[ -f "$_f" ] || continue
		kill "$(cat "$_f")" 2>/dev/null
		rm -f "$_f"
	done
}

test_done() {
	if [ -n "$skip_all" ]; then
		say "1..0 # SKIP $skip_all"
		cd "$TEST_DIR" || exit 1
		[ -n "$KEEP_TRASH" ] || rm -rf "$TRASH"
		exit 0
	fi
	driver_stop
	stop_fake	# here: the EXIT trap runs after $TRASH (with its pid file) is gone
	stop_bookpics
	if ! check_sanitizer_logs; then
		test_failed=$((test_failed + 1))
	fi
	if [ $test_failed -gt 0 ]; then
		show_logs
	fi
	_skips=
	[ $test_skipped = 0 ] || _skips=", $test_skipped skipped"
	say "# $TEST_NAME: $((test_count - test_failed - test_skipped))/$test_count passed$_skips"
	say "1..$test_count"
	cd "$TEST_DIR" || exit 1
	if [ $test_failed -eq 0 ]; then
		[ -n "$KEEP_TRASH" ] || rm -rf "$TRASH"	# KEEP_TRASH=1: look at it
		exit 0
	fi
	exit 1
}

trap 'driver_stop; stop_bookpics' EXIT
