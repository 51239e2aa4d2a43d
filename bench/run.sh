#!/bin/sh
# run.sh - `make bench`: bookpics side by side with nginx + nchan, one
# summary line per system and scenario, and the bookpics/nchan ratios.
#
# Environment: SCENARIOS (default: all, in this order)
#   fanout-1000-proxy fanout-1000-direct fanout-10000-proxy fanout-10000-direct
#   ingest catchup history pictures
# and, not in the default set (three sites on one machine: a minute or two
# each), group-fanout-N (N clients at each of 3 sites vs 3N at one site)
# and group-write (webhook writes with group_ack = quorum at the master and
# at a client site vs one site): `make bench SCENARIOS="group-fanout-300 group-write"`.
# BENCH_PORT (18080: bookpics' lighttpd; +1 relay, +10 nginx, +11 the
# FastCGI ceiling or the bare write loop; a group's sites +20..+25 for
# lighttpd and relays, +26..+28 for replication), ROUNDS (3: fan-out rounds),
# BIN, BUILD (where wsload and the other bench programs are), PERF=1
# (record the relay with perf during fanout-10000-direct:
# bench/out/perf-relay*.txt; the webhook programs during ingest:
# bench/out/perf-webhook*.txt). Everything listens on 127.0.0.1 only, each
# scenario is bounded in count and time, and only processes started here
# are stopped, by pid.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$TOP/bin}
BUILD=${BUILD:-$TOP/build/obj}
case $BIN in /*) ;; *) BIN=$TOP/$BIN ;; esac
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
OUT=$TOP/bench/out
SCENARIOS=${SCENARIOS:-"fanout-1000-proxy fanout-1000-direct fanout-10000-proxy fanout-10000-direct ingest catchup history pictures"}
BP_PORT=${BENCH_PORT:-18080}
RELAY_PORT=$((BP_PORT + 1))
NCHAN_PORT=$((BP_PORT + 10))
HELLO_PORT=$((BP_PORT + 11))
PERF=${PERF:-0}
ROUNDS=${ROUNDS:-3}
WSLOAD=$BUILD/bench/wsload
BASE=http://127.0.0.1:$BP_PORT
NBASE=http://127.0.0.1:$NCHAN_PORT
SECRET=benchsecret
RESULTS=$OUT/results.txt

say() { printf '%s\n' "$*"; }
die() { say "bench: $*" >&2; exit 1; }

# ---- what the benchmark needs beyond `make deps` ----

bench_deps() {
	missing=
	for p in nginx-light libnginx-mod-nchan wrk linux-perf; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		say "bench: missing Debian packages:$missing" >&2
		die "run 'make bench' as root, or: sudo apt-get install$missing"
	fi
	say "bench: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		die "apt-get install$missing failed"
}

# 10,000 clients through lighttpd take 20,000 descriptors in lighttpd alone
# (client and relay side of each) and 10,000 in wsload. Every process
# started here inherits this limit. Raising the hard limit needs
# CAP_SYS_RESOURCE; without it (a container), each process gets the hard
# limit, and a proxy scenario that does not fit runs with as many clients
# as lighttpd can hold (its summary line says how many).
raise_nofile() {
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
	NOFILE=$(ulimit -n)
	[ "$NOFILE" = unlimited ] && NOFILE=1048576
}

# ---- processes ----

# wait_http URL SECONDS: until URL answers at all.
wait_http() {
	_n=$(($2 * 10))
	while [ $_n -gt 0 ]; do
		curl -s -o /dev/null -m 1 "$1" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

port_free() {
	! curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/"
}

# wait_gone PID SECONDS
wait_gone() {
	_n=$(($2 * 10))
	while kill -0 "$1" 2>/dev/null && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
}

BP_PID=
NGINX_PID=
HELLO_PID=
FLOOR_PID=
PERF_PID=

# bookpics as `make run` starts it (scripts/run.sh), with a fresh VAR.
# With TUNED=1, the same steps by hand with lighttpd.conf's server.max-fds
# and server.max-connections replaced by the open-files limit: the
# shipped 16384 / 7000 hold 7,000 proxied clients, the scenario wants
# as many as the machine allows.
start_bookpics() {
	VAR=$1
	port_free "$BP_PORT" && port_free "$RELAY_PORT" || die "port $BP_PORT or $RELAY_PORT is busy"
	mkdir -p "$VAR/log"
	if [ "${TUNED:-0}" = 1 ]; then
		say "# this run sets lighttpd's server.max-fds = $NOFILE, server.max-connections = $(((NOFILE - 100) / 2))"
		setsid sh -c '
			TOP=$1 BIN=$2 VAR=$3 PORT=$4 RELAY_PORT=$5 FDS=$6
			mkdir -p "$VAR/run" "$VAR/tmp" "$VAR/media"
			sed -e "s|@TOP@|$TOP|g" -e "s|@BIN@|$BIN|g" -e "s|@VAR@|$VAR|g" \
			    -e "s|@PORT@|$PORT|g" -e "s|@RELAY_PORT@|$RELAY_PORT|g" \
			    -e "/^ *server.max-fds/d" -e "/^ *server.max-connections/d" \
			    "$TOP/lighttpd.conf" > "$VAR/lighttpd.conf"
			printf "server.max-fds = %s\nserver.max-connections = %s\n" \
				"$FDS" $(((FDS - 100) / 2)) >> "$VAR/lighttpd.conf"
			BOOKPICS_VAR=$VAR "$BIN/bookpics-relay" --port "$RELAY_PORT" 2>>"$VAR/log/relay.log" &
			echo $! > "$VAR/run/relay.pid"
			lighttpd -D -f "$VAR/lighttpd.conf" &
			echo $! > "$VAR/run/lighttpd.pid"
			trap "kill $(cat "$VAR/run/relay.pid") $(cat "$VAR/run/lighttpd.pid") 2>/dev/null; wait; exit 0" TERM INT
			wait' sh "$TOP" "$BIN" "$VAR" "$BP_PORT" "$RELAY_PORT" "$NOFILE" >>"$VAR/log/run.log" 2>&1 &
	else
		PORT=$BP_PORT VAR=$VAR RELAY_PORT=$RELAY_PORT BIN=$BIN \
			setsid sh "$TOP/scripts/run.sh" >>"$VAR/log/run.log" 2>&1 &
	fi
	BP_PID=$!
	wait_http "$BASE/api/health" 20 || { cat "$VAR/log/run.log" >&2; die "bookpics did not start"; }
	curl -s "$BASE/api/health" | grep -q '"relay":true' || die "the relay is not up"
	BP_SERVERS="--server $(cat "$VAR/run/relay.pid") --server $(cat "$VAR/run/lighttpd.pid")"
	RELAY_PID=$(cat "$VAR/run/relay.pid")
}

# A fresh data directory with the bench's auth token. wall_text = on: the
# bench's webhooks are texts (NumMedia=0), which the default (off) answers
# 200 and does not store.
new_var() {
	rm -rf "$1"
	mkdir -p "$1/db" "$1/log"
	"$BIN/bookpics-admin" --var "$1" init --port "$BP_PORT" >/dev/null &&
		"$BIN/bookpics-admin" --var "$1" twilio-token "$SECRET" >/dev/null || die "bookpics-admin init failed"
	# the ingest webhooks are texts: with wall_text off (the default) they
	# would be answered 200 and stored nowhere, and measure nothing
	echo "wall_text = on" >>"$1/bookpics.conf"
}

stop_bookpics() {
	[ -n "$BP_PID" ] || return 0
	kill "$BP_PID" 2>/dev/null
	wait_gone "$BP_PID" 10
	BP_PID=
	_n=50
	while ! port_free "$BP_PORT" && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	reap_var "$VAR"
}

# A FastCGI program stuck in Berkeley DB (after a panic: waiting for a lock
# of a dead process) catches SIGTERM (libfcgi) and outlives lighttpd. Find
# what this run started by its BOOKPICS_VAR, say so, and kill it.
reap_var() {
	sleep 0.5
	for _p in /proc/[0-9]*; do
		grep -qsxzF "BOOKPICS_VAR=$1" "$_p/environ" || continue
		_pid=${_p#/proc/}
		say "# left behind by lighttpd: pid $_pid ($(cat "$_p/comm" 2>/dev/null)) in $(cat "$_p/wchan" 2>/dev/null): killed"
		kill -9 "$_pid" 2>/dev/null
	done
}

start_nchan() {
	N=$OUT/nginx
	port_free "$NCHAN_PORT" || die "port $NCHAN_PORT is busy"
	rm -rf "$N"
	mkdir -p "$N/tmp"
	sed -e "s|@OUT@|$N|g" -e "s|@PORT@|$NCHAN_PORT|g" "$TOP/bench/nchan.conf" >"$N/nginx.conf"
	nginx -t -q -e "$N/error.log" -p "$N" -c "$N/nginx.conf" || die "nginx -t failed"
	nginx -e "$N/error.log" -p "$N" -c "$N/nginx.conf" -g 'daemon off;' >>"$N/out.log" 2>&1 &
	NGINX_PID=$!
	wait_http "$NBASE/" 10 || die "nginx did not start"
	NCHAN_SERVERS="--server $NGINX_PID"
}

stop_nchan() {
	[ -n "$NGINX_PID" ] || return 0
	kill "$NGINX_PID" 2>/dev/null
	wait_gone "$NGINX_PID" 10
	NGINX_PID=
}

start_hello() {
	H=$OUT/hello
	port_free "$HELLO_PORT" || die "port $HELLO_PORT is busy"
	rm -rf "$H"
	mkdir -p "$H"
	sed -e "s|@OUT@|$H|g" -e "s|@PORT@|$HELLO_PORT|g" -e "s|@BENCH@|$BUILD/bench|g" \
		"$TOP/bench/hello-lighttpd.conf" >"$H/lighttpd.conf"
	lighttpd -D -f "$H/lighttpd.conf" >>"$H/out.log" 2>&1 &
	HELLO_PID=$!
	wait_http "http://127.0.0.1:$HELLO_PORT/" 10 || die "the FastCGI ceiling did not start"
}

stop_hello() {
	[ -n "$HELLO_PID" ] || return 0
	kill "$HELLO_PID" 2>/dev/null
	wait_gone "$HELLO_PID" 10
	HELLO_PID=
}

# the bare write loop (bench/floor.c): the least any fan-out server can spend
start_floor() {
	port_free "$HELLO_PORT" || die "port $HELLO_PORT is busy"
	"$BUILD/bench/floor" "$HELLO_PORT" >>"$OUT/floor.log" 2>&1 &
	FLOOR_PID=$!
	wait_http "http://127.0.0.1:$HELLO_PORT/" 10 || die "the floor server did not start"
}

stop_floor() {
	[ -n "$FLOOR_PID" ] || return 0
	kill "$FLOOR_PID" 2>/dev/null
	wait_gone "$FLOOR_PID" 10
	FLOOR_PID=
}

stop_all() {
	[ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null
	stop_bookpics
	stop_nchan
	stop_hello
	stop_floor
	stop_group
}
trap 'stop_all; exit 130' INT TERM
trap 'stop_all' EXIT

# ---- helpers ----

room_last() {	# room_last ROOM [BASE]
	curl -s "${2:-$BASE}/api/rooms/$1/messages?limit=1" | sed -n 's/.*"last":\([0-9]*\).*/\1/p'
}

field() {	# field NAME LINE
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# The summary line of one system (also kept in results.txt).
result() {
	say "$1" | tee -a "$RESULTS"
}

# ratio bookpics/nchan of each field named, for two summary lines
ratios() {	# ratios SCENARIO BP_LINE NCHAN_LINE FIELD...
	_s=$1 _b=$2 _n=$3
	shift 3
	_out="ratio $_s"
	for _f in "$@"; do
		_bv=$(field "$_f" "$_b")
		_nv=$(field "$_f" "$_n")
		_r=$(awk -v b="${_bv:-0}" -v n="${_nv:-0}" 'BEGIN { if (n > 0) printf "%.2f", b / n; else print "-" }')
		_out="$_out $_f=$_r"
	done
	result "$_out"
}

# one wrk run: wrk_run URL SECONDS CONNECTIONS [LUA] -> "rps=.. p50_ms=.. p99_ms=.. errors=.."
wrk_run() {
	_log=$OUT/wrk.log
	WRK_THREADS=1 timeout 60 wrk -t1 -c"$3" -d"$2"s --latency ${4:+-s "$4"} "$1" >"$_log" 2>&1
	_rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$_log")
	_p50=$(awk '$1 == "50%" { print $2 }' "$_log")
	_p99=$(awk '$1 == "99%" { print $2 }' "$_log")
	_non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$_log")
	_sockerr=$(sed -n 's/.*Socket errors: *\(.*\)/\1/p' "$_log")
	_reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$_log")
	echo "requests=${_reqs:-0} rps=${_rps:-0} p50_ms=$(to_ms "$_p50") p99_ms=$(to_ms "$_p99") non2xx=${_non2xx:-0}${_sockerr:+ socket_errors}"
}

to_ms() {	# wrk's "1.23ms" / "456.00us" / "1.20s" -> milliseconds
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
		else print "0" }'
}

cpu_now() {	# cpu_now SERVERS... -> microseconds of server CPU so far
	"$WSLOAD" --sample "$@" | sed -n 's/^cpu_us=\([0-9]*\).*/\1/p'
}

# perf_start NAME PIDS: record PIDS (comma-separated) with call graphs
# into $OUT/perf-NAME.data until perf_stop NAME, which writes the top
# symbols, self time (perf-NAME.txt) and with callees (perf-NAME-children.txt).
perf_start() {
	perf record -F 999 -g -p "$2" -o "$OUT/perf-$1.data" >"$OUT/perf.log" 2>&1 &
	PERF_PID=$!
}

perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID"
	wait "$PERF_PID" 2>/dev/null
	PERF_PID=
	perf report -i "$OUT/perf-$1.data" --stdio --no-children --sort symbol 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -n 60 >"$OUT/perf-$1.txt"
	perf report -i "$OUT/perf-$1.data" --stdio --children --sort symbol 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -n 80 >"$OUT/perf-$1-children.txt"
	say "# perf profile of $1: $OUT/perf-$1.txt, $OUT/perf-$1-children.txt"
}

# ---- scenarios ----

# fan-out: N clients follow the public room; M signed webhooks (bookpics)
# or publisher POSTs (nchan), paced so that one message's fan-out mostly
# ends before the next starts, in 3 rounds on the same connections (one
# line per round in the logs; the summary is over all three); bookpics
# either through lighttpd's /ws (proxy) or straight to the relay's port
# (direct). Direct scenarios also measure the bare write loop (floor).
scenario_fanout() {	# scenario_fanout NAME N HOW
	name=$1 n=$2 how=$3
	# 200,000 deliveries at 10,000 clients; 100,000 at 1,000
	if [ "$n" -ge 5000 ]; then msgs=20 interval=250; else msgs=100 interval=50; fi
	if [ $((n + 100)) -gt "$NOFILE" ]; then
		say "# $name: skipped, wsload needs $((n + 100)) open files, the limit is $NOFILE"
		return 0
	fi
	TUNED=0
	if [ "$how" = proxy ] && [ "$n" -gt 1300 ]; then
		TUNED=1
		# lighttpd holds two descriptors per proxied client and stops
		# accepting at 90% of server.max-fds ("sockets disabled, out-of-fds")
		if [ $((2 * n + 200)) -gt $((NOFILE * 9 / 10)) ]; then
			n=$(((NOFILE * 9 / 10 - 200) / 200 * 100))
			say "# $name: lighttpd may hold $NOFILE descriptors (the hard limit), accepts up to 90%, 2 per proxied client: $n clients"
		fi
	fi
	new_var "$OUT/bookpics-$name/var"
	start_bookpics "$OUT/bookpics-$name/var"
	TUNED=0
	# warm up: the FastCGI programs open the store, the relay learns the room
	"$BUILD/tools/tw-load" "$BASE/twilio/sms" "$SECRET" 2 2 "SMwarm" >/dev/null
	last=$(room_last books)
	if [ "$how" = proxy ]; then ws=ws://127.0.0.1:$BP_PORT/ws; else ws=ws://127.0.0.1:$RELAY_PORT/ws; fi
	if [ "$PERF" = 1 ] && [ "$name" = fanout-10000-direct ]; then
		perf_start relay "$RELAY_PID"
	fi
	bp=$(timeout 110 "$WSLOAD" --ws "$ws" --clients "$n" --msgs "$msgs" --interval-ms "$interval" \
		--rounds $ROUNDS --timeout 30 \
		--subscribe "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":$last}" \
		--pub-kind twilio --pub "$BASE/twilio/sms" --auth "$SECRET" $BP_SERVERS \
		--label "bookpics $name" 2>"$OUT/wsload-bookpics-$name.log" | tail -n 1)
	perf_stop relay
	stop_bookpics
	result "${bp:-bookpics $name failed: see $OUT/wsload-bookpics-$name.log}"

	start_nchan
	curl -s -o /dev/null -d warm "$NBASE/pub?id=warm"
	nc=$(timeout 110 "$WSLOAD" --ws "ws://127.0.0.1:$NCHAN_PORT/sub?id=$name" --clients "$n" \
		--msgs "$msgs" --interval-ms "$interval" --rounds $ROUNDS --timeout 30 \
		--pub-kind nchan --pub "$NBASE/pub?id=$name" $NCHAN_SERVERS \
		--label "nchan $name" 2>"$OUT/wsload-nchan-$name.log" | tail -n 1)
	stop_nchan
	result "${nc:-nchan $name failed: see $OUT/wsload-nchan-$name.log}"
	if [ "$how" = direct ]; then
		start_floor
		fl=$(timeout 110 "$WSLOAD" --ws "ws://127.0.0.1:$HELLO_PORT/sub" --clients "$n" \
			--msgs "$msgs" --interval-ms "$interval" --rounds $ROUNDS --timeout 30 \
			--pub-kind nchan --pub "http://127.0.0.1:$HELLO_PORT/pub" --server "$FLOOR_PID" \
			--label "floor $name" 2>"$OUT/wsload-floor-$name.log" | tail -n 1)
		stop_floor
		result "${fl:-floor $name failed: see $OUT/wsload-floor-$name.log}"
	fi
	ratios "$name" "$bp" "$nc" p50_ms p99_ms cpu_us_per_msg rss_kb_per_conn cpu_us_per_conn
	[ -n "${fl:-}" ] && result "ratio-to-floor $name cpu_us_per_msg=$(awk -v b="$(field cpu_us_per_msg "$bp")" -v f="$(field cpu_us_per_msg "$fl")" 'BEGIN { if (f > 0) printf "%.2f", b / f; else print "-" }')"
	fl=
}

# ingest: signed webhooks per second through lighttpd (wrk, pre-signed
# distinct webhooks), beside the trivial FastCGI responder through the same
# lighttpd settings (the ceiling) and nchan's publisher (for reference: no
# signature, nothing durable).
scenario_ingest() {
	secs=10
	new_var "$OUT/bookpics-ingest/var"
	start_bookpics "$OUT/bookpics-ingest/var"
	"$BUILD/bench/presign" "$BASE/twilio/sms" "$SECRET" 150000 "SMingest$$x" >"$OUT/webhooks.txt" ||
		die "presign failed"
	"$BUILD/tools/tw-load" "$BASE/twilio/sms" "$SECRET" 2 2 "SMwarm" >/dev/null
	before=$(room_last books)
	if [ "$PERF" = 1 ]; then
		perf_start webhook "$(pgrep -d, -P "$(cat "$VAR/run/lighttpd.pid")" -f webhook.fcgi)"
	fi
	c0=$(cpu_now $BP_SERVERS)
	w=$(WEBHOOKS=$OUT/webhooks.txt wrk_run "$BASE/twilio/sms" $secs 16 "$TOP/bench/ingest.lua")
	c1=$(cpu_now $BP_SERVERS)
	perf_stop webhook
	after=$(room_last books)
	stored=$((after - before))
	[ "$stored" -gt 0 ] || die "ingest: no webhook was stored (see $VAR/log)"
	stop_bookpics
	bp="bookpics ingest stored=$stored stored_per_s=$((stored / secs)) cpu_us_per_webhook=$(awk -v c=$((c1 - c0)) -v n=$stored 'BEGIN { printf "%.1f", n ? c / n : 0 }') $w"
	result "$bp"

	start_hello
	hello_servers="--server $HELLO_PID"
	c0=$(cpu_now $hello_servers)
	h=$(WEBHOOKS=$OUT/webhooks.txt wrk_run "http://127.0.0.1:$HELLO_PORT/twilio/sms" $secs 16 "$TOP/bench/ingest.lua")
	c1=$(cpu_now $hello_servers)
	stop_hello
	hreq=$(field requests "$h")
	result "ceiling ingest stored=0 stored_per_s=$((hreq / secs)) cpu_us_per_webhook=$(awk -v c=$((c1 - c0)) -v n="$hreq" 'BEGIN { printf "%.1f", n ? c / n : 0 }') $h"

	start_nchan
	printf 'wrk.method = "POST"\nwrk.body = "ingest: The Left Hand of Darkness"\n' >"$OUT/nchan-post.lua"
	c0=$(cpu_now $NCHAN_SERVERS)
	nn=$(wrk_run "$NBASE/pub?id=ingest" $secs 16 "$OUT/nchan-post.lua")
	c1=$(cpu_now $NCHAN_SERVERS)
	stop_nchan
	nreq=$(field requests "$nn")
	result "nchan ingest stored=0 stored_per_s=$((nreq / secs)) cpu_us_per_webhook=$(awk -v c=$((c1 - c0)) -v n="$nreq" 'BEGIN { printf "%.1f", n ? c / n : 0 }') $nn"
	result "ratio ingest bookpics_stored_per_s/ceiling=$(awk -v b=$((stored / secs)) -v c=$((hreq / secs)) 'BEGIN { printf "%.2f", c ? b / c : 0 }') (target >= 0.50)"
}

# catch-up storm: 1,000 chat members of one room connect once, leave, are
# owed 100 messages (sent through the HTTP API), and reconnect all at once;
# timed until every client has its 100; through lighttpd, then straight to
# the relay. nchan: the same 1,000 reconnect to a location that sends each
# new subscriber the channel's buffer (100).
scenario_catchup() {
	n=1000 msgs=100
	V=$OUT/bookpics-catchup/var
	new_var "$V"
	A="$BIN/bookpics-admin --var $V"
	$A room add chat1 >/dev/null && $A user add sender >/dev/null &&
		$A member add sender chat1 >/dev/null || die "bookpics-admin failed"
	i=1
	while [ $i -le $n ]; do
		$A user add "m$i" >/dev/null && $A member add "m$i" chat1 >/dev/null || die "bookpics-admin failed"
		i=$((i + 1))
	done
	i=1
	while [ $i -le $n ]; do
		$A token "m$i" --ttl 3600
		i=$((i + 1))
	done >"$OUT/tokens.txt"
	sender=$($A token sender --ttl 3600)
	# through lighttpd (as deployed), then straight to the relay
	for how in proxy direct; do
		if [ $how = proxy ]; then ws=ws://127.0.0.1:$BP_PORT/ws; else ws=ws://127.0.0.1:$RELAY_PORT/ws; fi
		start_bookpics "$V"
		line=$(timeout 60 "$WSLOAD" --mode catchup --ws "$ws" --hello \
			--tokens "$OUT/tokens.txt" --clients $n --msgs $msgs --interval-ms 0 \
			--pub-kind api --pub "$BASE/api/rooms/chat1/messages" --auth "$sender" $BP_SERVERS \
			--label "bookpics catchup-$n-$how" 2>"$OUT/wsload-bookpics-catchup-$how.log" | tail -n 1)
		stop_bookpics
		result "${line:-bookpics catchup-$n-$how failed: see $OUT/wsload-bookpics-catchup-$how.log}"
		[ $how = proxy ] && bp=$line
		[ $how = direct ] && bpd=$line
	done

	start_nchan
	nc=$(timeout 110 "$WSLOAD" --mode catchup --ws "ws://127.0.0.1:$NCHAN_PORT/subold?id=catchup" \
		--clients $n --msgs $msgs --interval-ms 0 \
		--pub-kind nchan --pub "$NBASE/pub?id=catchup" $NCHAN_SERVERS \
		--label "nchan catchup-$n" 2>"$OUT/wsload-nchan-catchup.log" | tail -n 1)
	stop_nchan
	result "${nc:-nchan catchup failed: see $OUT/wsload-nchan-catchup.log}"
	ratios "catchup-$n-proxy" "$bp" "$nc" p50_ms p99_ms max_ms cpu_us_per_msg
	ratios "catchup-$n-direct" "$bpd" "$nc" p50_ms p99_ms max_ms cpu_us_per_msg
}

# history: pages of 50 from a room of 1,000,000 messages, after= near the
# start, the middle and the end. The room is filled once straight through
# the store (bench/fill) and kept in bench/out/history for later runs.
# nchan has no column: its buffer holds the newest N messages (100 here)
# in shared memory, with no paging by index.
scenario_history() {
	V=$OUT/history/var
	size=1000000
	if [ "$(cat "$OUT/history/filled" 2>/dev/null)" != "$size" ]; then
		rm -rf "$OUT/history"
		new_var "$V"
		say "# history: filling a room with $size messages (once; kept in $OUT/history)"
		timeout 110 "$BUILD/bench/fill" "$V" books $size >"$OUT/history/filled" ||
			die "fill failed"
	fi
	start_bookpics "$V"
	for at in start middle end; do
		case $at in
		start) after=10 ;;
		middle) after=$((size / 2)) ;;
		end) after=$((size - 50)) ;;
		esac
		url="$BASE/api/rooms/books/messages?after=$after&limit=50"
		first=$(curl -s "$url" | sed -n 's/.*"messages":\[{"room":"books","index":\([0-9]*\).*/\1/p')
		[ "$first" = $((after + 1)) ] || say "# history: $url starts at ${first:-nothing}, not $((after + 1))"
		c0=$(cpu_now $BP_SERVERS)
		h=$(wrk_run "$url" 5 8)
		c1=$(cpu_now $BP_SERVERS)
		reqs=$(field requests "$h")
		result "bookpics history-$at after=$after limit=50 cpu_us_per_page=$(awk -v c=$((c1 - c0)) -v n="$reqs" 'BEGIN { printf "%.1f", n ? c / n : 0 }') $h"
	done
	stop_bookpics
	result "nchan history: no column (its buffer keeps the newest messages in shared memory, no paging by index)"
}

# ---- groups (issue 12): three sites on this machine ----

GROUP_PIDS=
GROUP_VARS=

# group_port K: site K's (1..3) lighttpd port; its relay is one above.
group_port() {
	echo $((BP_PORT + 20 + 2 * ($1 - 1)))
}

# new_group DIR ACK: three fresh sites DIR/s1..s3 of one group (the same
# token_secret, sender_secret and auth token, group_ack = ACK).
new_group() {
	rm -rf "$1"
	_sites="127.0.0.1:$((BP_PORT + 26)),127.0.0.1:$((BP_PORT + 27)),127.0.0.1:$((BP_PORT + 28))"
	for _k in 1 2 3; do
		_v=$1/s$_k
		mkdir -p "$_v/log"
		"$BIN/bookpics-admin" --var "$_v.proto" init --port "$(group_port $_k)" >/dev/null ||
			die "bookpics-admin init failed"
		cp "$_v.proto/bookpics.conf" "$_v/bookpics.conf" && rm -rf "$_v.proto"
		chmod 700 "$_v"
		if [ $_k = 1 ]; then
			_ts=$(sed -n 's/^token_secret *= *//p' "$_v/bookpics.conf")
			_ss=$(sed -n 's/^sender_secret *= *//p' "$_v/bookpics.conf")
		fi
		sed -i -e "s/^token_secret *=.*/token_secret = $_ts/" \
			-e "s/^sender_secret *=.*/sender_secret = $_ss/" \
			-e "s/^twilio_auth_token *=.*/twilio_auth_token = $SECRET/" \
			-e "s/^group_self *=.*/group_self = 127.0.0.1:$((BP_PORT + 25 + _k))/" \
			-e "s/^group_sites *=.*/group_sites = $_sites/" \
			-e "s/^wall_text *=.*/wall_text = on/" \
			-e "s/^group_ack *=.*/group_ack = $2/" "$_v/bookpics.conf"
	done
}

# start_group DIR: its three sites as `make run` starts each, the first
# listed (the group's creator, its first master) first; until each
# answers health with its relay up and all three name one master.
# GROUP_SERVERS: --server of every site's relay and lighttpd.
start_group() {
	GROUP_PIDS= GROUP_VARS= GROUP_SERVERS=
	for _k in 1 2 3; do
		_p=$(group_port $_k)
		port_free "$_p" && port_free $((_p + 1)) || die "port $_p or $((_p + 1)) is busy"
		PORT=$_p VAR=$1/s$_k RELAY_PORT=$((_p + 1)) BIN=$BIN \
			setsid sh "$TOP/scripts/run.sh" >>"$1/s$_k/log/run.log" 2>&1 &
		GROUP_PIDS="$GROUP_PIDS $!"
		GROUP_VARS="$GROUP_VARS $1/s$_k"
		wait_http "http://127.0.0.1:$_p/api/health" 30 || die "site $_k did not start: $1/s$_k/log"
	done
	_n=300
	while [ $_n -gt 0 ]; do
		_m=
		_ok=1
		for _k in 1 2 3; do
			_h=$(curl -s -m 2 "http://127.0.0.1:$(group_port $_k)/api/health")
			case $_h in *'"relay":true'*) ;; *) _ok=0 ;; esac
			_m="$_m $(printf '%s' "$_h" | sed -n 's/.*"master":"\([^"]*\)".*/\1/p')"
		done
		[ $_ok = 1 ] && [ "$_m" = " 127.0.0.1:$((BP_PORT + 26)) 127.0.0.1:$((BP_PORT + 26)) 127.0.0.1:$((BP_PORT + 26))" ] && break
		sleep 0.1
		_n=$((_n - 1))
	done
	[ $_n -gt 0 ] || die "the group did not form in 30 s (masters:$_m): $1/s*/log"
	for _v in $GROUP_VARS; do
		GROUP_SERVERS="$GROUP_SERVERS --server $(cat "$_v/run/relay.pid") --server $(cat "$_v/run/lighttpd.pid")"
	done
}

stop_group() {
	for _p in $GROUP_PIDS; do
		kill "$_p" 2>/dev/null
	done
	for _p in $GROUP_PIDS; do
		wait_gone "$_p" 15
	done
	GROUP_PIDS=
	for _v in $GROUP_VARS; do
		reap_var "$_v"
	done
	GROUP_VARS=
}

# group-fanout: N clients following the public room at each of the three
# sites (client i at site i mod 3, through its lighttpd's /ws), webhooks
# posted at the master; beside one site with all 3N clients. The same
# pacing as fanout-1000 (100 messages 50 ms apart, ROUNDS rounds); the
# latency is publish (at the master) to receipt at any site, the CPU that
# of all three sites' relays and lighttpds (and their FastCGI programs).
scenario_group_fanout() {	# scenario_group_fanout NAME N
	name=$1 n=$2 total=$(($2 * 3))
	msgs=100 interval=50
	if [ $((total + 100)) -gt "$NOFILE" ]; then
		say "# $name: skipped, wsload needs $((total + 100)) open files, the limit is $NOFILE"
		return 0
	fi
	G=$OUT/bookpics-$name
	new_group "$G" quorum
	start_group "$G"
	m=http://127.0.0.1:$(group_port 1)
	"$BUILD/tools/tw-load" "$m/twilio/sms" "$SECRET" 2 2 "SMwarm" >/dev/null
	sleep 1
	last=$(room_last books "$m")
	ws=
	for k in 1 2 3; do ws="$ws --ws ws://127.0.0.1:$(group_port $k)/ws"; done
	gl=$(timeout 150 "$WSLOAD" $ws --clients "$total" --msgs "$msgs" --interval-ms "$interval" \
		--rounds $ROUNDS --timeout 30 \
		--subscribe "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":$last}" \
		--pub-kind twilio --pub "$m/twilio/sms" --auth "$SECRET" $GROUP_SERVERS \
		--label "bookpics $name-3x$n" 2>"$OUT/wsload-bookpics-$name.log" | tail -n 1)
	stop_group
	result "${gl:-bookpics $name-3x$n failed: see $OUT/wsload-bookpics-$name.log}"

	new_var "$OUT/bookpics-$name-single/var"
	start_bookpics "$OUT/bookpics-$name-single/var"
	"$BUILD/tools/tw-load" "$BASE/twilio/sms" "$SECRET" 2 2 "SMwarm" >/dev/null
	last=$(room_last books)
	sl=$(timeout 150 "$WSLOAD" --ws "ws://127.0.0.1:$BP_PORT/ws" --clients "$total" --msgs "$msgs" \
		--interval-ms "$interval" --rounds $ROUNDS --timeout 30 \
		--subscribe "{\"action\":\"subscribe\",\"room\":\"books\",\"after\":$last}" \
		--pub-kind twilio --pub "$BASE/twilio/sms" --auth "$SECRET" $BP_SERVERS \
		--label "bookpics $name-single-$total" 2>"$OUT/wsload-bookpics-$name-single.log" | tail -n 1)
	stop_bookpics
	result "${sl:-bookpics $name-single-$total failed: see $OUT/wsload-bookpics-$name-single.log}"
	ratios "$name group/single" "$gl" "$sl" p50_ms p99_ms cpu_us_per_msg rss_kb_per_conn
}

# group-write: distinct signed webhooks (bench/presign, wrk as in ingest)
# at one site, then at the master and at a client site of a group with
# group_ack = quorum (a commit waits for one other site's ack; a client
# site carries the write to the master over a repmgr channel). One
# connection (the latency of one write after another) and 16 (throughput).
scenario_group_write() {
	for where in single master client; do
		if [ $where = single ]; then
			new_var "$OUT/bookpics-group-write/var"
			start_bookpics "$OUT/bookpics-group-write/var"
			url=$BASE/twilio/sms
			servers=$BP_SERVERS
		else
			if [ $where = master ]; then
				new_group "$OUT/bookpics-group-write" quorum
				start_group "$OUT/bookpics-group-write"
				k=1
			else
				k=2
			fi
			url=http://127.0.0.1:$(group_port $k)/twilio/sms
			servers=$GROUP_SERVERS
		fi
		"$BUILD/tools/tw-load" "$url" "$SECRET" 1 2 "SMwarm$where" >/dev/null
		for c in 1 16; do
			secs=10
			"$BUILD/bench/presign" "$url" "$SECRET" 150000 "SMgw$where$c$$x" >"$OUT/webhooks-$where.txt" ||
				die "presign failed"
			base=${url%/twilio/sms}
			before=$(room_last books "$base")
			c0=$(cpu_now $servers)
			w=$(WEBHOOKS=$OUT/webhooks-$where.txt wrk_run "$url" $secs $c "$TOP/bench/ingest.lua")
			c1=$(cpu_now $servers)
			sleep 1
			after=$(room_last books "$base")
			stored=$((after - before))
			result "bookpics group-write-$where-c$c stored=$stored stored_per_s=$((stored / secs)) cpu_us_per_webhook=$(awk -v c=$((c1 - c0)) -v n=$stored 'BEGIN { printf "%.1f", n ? c / n : 0 }') $w"
		done
		if [ $where = single ]; then
			stop_bookpics
		elif [ $where = client ]; then
			stop_group
		fi
	done
}

# ---- main ----

[ -x "$WSLOAD" ] || die "$WSLOAD is missing: run 'make bench' (or 'make tools')"
bench_deps
raise_nofile
mkdir -p "$OUT"
: >"$RESULTS"
say "# bookpics vs nginx + nchan, $(date -u '+%Y-%m-%d %H:%M UTC')"
say "# machine: $(nproc) cpus, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r), open files $NOFILE"
say "# nginx $(nginx -v 2>&1 | sed 's/.*\///'), nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan), lighttpd $(lighttpd -v | sed -n 's/^lighttpd\/\([^ ]*\).*/\1/p'), libwebsockets $(pkg-config --modversion libwebsockets)"
# pictures: CPU per phone picture processed (a 3000x4000 JPEG stored 4000x3000
# with EXIF orientation 6: clean + the 320/640/1280 WebP variants, libvips,
# one thread), bench/picture-cpu; no peer (nchan does not touch pictures).
# The first-view latency after a webhook is the last test of
# tests/t5100-media-pictures.sh (it needs the fake Twilio): docs/BENCHMARKS.md.
scenario_pictures() {
	"$BUILD/bench/picture-cpu" 5 >"$OUT/pictures.txt" 2>&1 || die "picture-cpu failed: $(tail -n 1 "$OUT/pictures.txt")"
	say "bookpics pictures $(tail -n 1 "$OUT/pictures.txt" | sed 's/^picture-cpu: //')"
}

for s in $SCENARIOS; do
	say "# --- $s"
	start=$(date +%s)
	case $s in
	fanout-*-proxy|fanout-*-direct)
		n=${s#fanout-}
		n=${n%-*}
		scenario_fanout "$s" "$n" "${s##*-}" ;;
	ingest) scenario_ingest ;;
	catchup) scenario_catchup ;;
	history) scenario_history ;;
	pictures) scenario_pictures ;;
	group-fanout-*) scenario_group_fanout "$s" "${s#group-fanout-}" ;;
	group-write) scenario_group_write ;;
	*) die "unknown scenario $s" ;;
	esac
	say "# $s: $(($(date +%s) - start)) s"
done
say "# every line above is in $RESULTS; the logs are in $OUT"
