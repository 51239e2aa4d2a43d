# lib-ws.sh - helpers for the relay tests (t2xxx, t4xxx); source after test-lib.sh.
#
# Every background process a script starts is recorded in $TRASH/bg.pids
# and killed by kill_bg (called before test_done, and on any exit).

WS=ws://127.0.0.1:$PORT/ws
WSC=$TOP/tests/tools/ws-client.mjs

# ws URL ARGS...: one client in the foreground (tests/tools/ws-client.mjs).
ws() {
	node "$WSC" "$@"
}

# bg_pid PID: remember a background process for kill_bg.
bg_pid() {
	echo "$1" >>"$TRASH/bg.pids"
}

kill_bg() {
	# a supervisor held by relay_kill9 must hear stop_bookpics' SIGTERM
	[ -f "$TRASH/bookpics.pid" ] && kill -CONT "$(cat "$TRASH/bookpics.pid")" 2>/dev/null
	[ -f "$TRASH/bg.pids" ] || return 0
	while read -r _p; do
		kill "$_p" 2>/dev/null
	done <"$TRASH/bg.pids"
	rm -f "$TRASH/bg.pids"
}
trap 'kill_bg; driver_stop; stop_bookpics' EXIT

# ws_bg NAME URL ARGS...: a client in the background; its lines go to
# NAME.out, lines appended to NAME.in are sent (ws_say). Returns once it
# is in place (hello received, or refused).
ws_bg() {
	_name=$1
	shift
	rm -f "$_name.ready" "$_name.out"
	: >"$_name.in"
	node "$WSC" "$@" --in "$_name.in" --out "$_name.out" --ready "$_name.ready" \
		--timeout 55 >/dev/null 2>&1 &
	echo $! >"$_name.pid"
	bg_pid $!
	wait_for "test -f $_name.ready" 15
}

# ws_say NAME FRAME: send FRAME on background client NAME.
ws_say() {
	printf '%s\n' "$2" >>"$1.in"
}

# ws_stop NAME: disconnect background client NAME.
ws_stop() {
	kill "$(cat "$1.pid")" 2>/dev/null
	wait_for "! kill -0 $(cat "$1.pid")" 5
}

# wait_count FILE REGEX N [SECONDS]: until FILE has N lines matching REGEX.
wait_count() {
	wait_for "test \$(grep -c -E -- '$2' '$1') -ge $3" ${4:-10}
}

# The "message" lines of a client's output as "ROOM INDEX USER TEXT".
messages_of() {
	sed -n 's/^message //p' "$1"
}

relay_health() {
	curl -s "$BASE/api/health" | grep -q "\"relay\":$1"
}

# Kill the relay with SIGKILL (no cleanup at all) and wait until it is gone.
# Under bookpics-run (start_bookpics), the supervisor is held (SIGSTOP) so
# that it cannot restart the relay before relay_start: these tests look at
# the site while the relay is down.
relay_kill9() {
	_rp=$(cat "$VAR/run/relay.pid")
	if [ -f "$TRASH/bookpics.pid" ]; then
		kill -STOP "$(cat "$TRASH/bookpics.pid")" || return 1
	fi
	kill -9 "$_rp" &&
	wait_for "gone_or_zombie $_rp" 5 &&
	wait_for "relay_health false" 5
}

# gone_or_zombie PID: not running (a held supervisor has not reaped it yet).
gone_or_zombie() {
	! kill -0 "$1" 2>/dev/null || test "$(awk "{ print \$3 }" "/proc/$1/stat")" = Z
}

# all_gone PID...: none of them runs any more.
all_gone() {
	for _p; do
		gone_or_zombie "$_p" || return 1
	done
}

# Start a relay again: let bookpics-run restart it, or, without one, start
# it as run.sh used to (the script's cleanup kills it).
relay_start() {
	if [ -f "$TRASH/bookpics.pid" ]; then
		kill -CONT "$(cat "$TRASH/bookpics.pid")" &&
		wait_for "relay_health true" 10
		return
	fi
	BOOKPICS_VAR=$VAR "$BIN/bookpics-relay" --port "$RELAY_PORT" \
		2>>"$VAR/log/relay.log" &
	echo $! >"$VAR/run/relay.pid"
	bg_pid $!
	wait_for "relay_health true" 10
}

# stops_with_1001 SIGNAL URL: a client on URL; the relay, sent SIGNAL, logs
# "relay: stopped", exits, and the client was closed with 1001 first.
stops_with_1001() {
	ws_bg bye "$2" &&
	_rp=$(cat "$VAR/run/relay.pid") &&
	kill -"$1" "$_rp" &&
	wait_for "! kill -0 $_rp" 5 &&
	tail -n 1 "$VAR/log/relay.log" | grep -q "relay: stopped" &&
	wait_for "grep -q ^close bye.out" 5 &&
	tail -n 1 bye.out >actual &&
	echo "close 1001 relay stopping" >expect &&
	test_cmp expect actual
}

# chat_post ROOM TOKEN_FILE TEXT: a chat message over HTTP, must be stored (201).
chat_post() {
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $(cat "$2")" \
		-H "Content-Type: application/json" \
		--data-binary "{\"chatMessage\":\"$3\"}" \
		"$BASE/api/rooms/$1/messages")" = 201
}

# chat_rooms: a fresh $VAR with the seeds' chat layout: users uuid1..3,
# private rooms uuidroom1..3, uuid1 in rooms 1 and 2, uuid2 in rooms 2 and
# 3 (uuid3 in none), their tokens in ./t1 ./t2 ./t3; auth token secret123.
chat_rooms() {
	admin init --port $PORT >/dev/null &&
	admin twilio-token secret123 &&
	for _u in uuid1 uuid2 uuid3; do admin user add $_u || return 1; done &&
	for _r in uuidroom1 uuidroom2 uuidroom3; do admin room add $_r || return 1; done &&
	admin member add uuid1 uuidroom1 && admin member add uuid1 uuidroom2 &&
	admin member add uuid2 uuidroom2 && admin member add uuid2 uuidroom3 &&
	admin token uuid1 >t1 && admin token uuid2 >t2 && admin token uuid3 >t3
}
