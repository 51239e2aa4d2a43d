#!/bin/sh
# churn.sh - does the relay keep anything of closed connections? Ten rounds
# of 2,000 clients that connect, subscribe to books, receive 2 pictures and
# leave; the relay's VmRSS after each round (a leak shows as steady growth).
# Run after `make all tools`. Environment: CHURN_PORT (19180; +1 relay),
# ROUNDS (10), CLIENTS (2000). Data in a temporary directory, removed after.
set -e
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$TOP/bin}
BUILD=${BUILD:-$TOP/build/obj}
P=${CHURN_PORT:-19180}
ROUNDS=${ROUNDS:-10}
CLIENTS=${CLIENTS:-2000}
SECRET=churnsecret
BASE=http://127.0.0.1:$P
V=$(mktemp -d /tmp/bookpics-churn.XXXXXX)
RUNPID=

stop() {
	[ -n "$RUNPID" ] && kill "$RUNPID" 2>/dev/null && wait "$RUNPID" 2>/dev/null
	rm -rf "$V"
}
trap stop EXIT INT TERM

"$BIN/bookpics-admin" --var "$V" init --port "$P" >/dev/null
"$BIN/bookpics-admin" --var "$V" twilio-token "$SECRET" >/dev/null
PORT=$P RELAY_PORT=$((P + 1)) VAR=$V BIN=$BIN sh "$TOP/scripts/run.sh" >"$V/run.out" 2>&1 &
RUNPID=$!
n=50
until curl -s -o /dev/null "$BASE/api/health" || [ $n -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
RELAY=$(cat "$V/run/relay.pid")
"$BUILD/tools/tw-load" "$BASE/twilio/sms" "$SECRET" 1 1 SMwarm >/dev/null
echo "# churn: $ROUNDS rounds of $CLIENTS clients, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "before: relay $(grep VmRSS "/proc/$RELAY/status")"
i=1
while [ $i -le "$ROUNDS" ]; do
	"$BUILD/bench/wsload" --ws "ws://127.0.0.1:$((P + 1))/ws" --clients "$CLIENTS" \
		--msgs 2 --interval-ms 50 --quiet 1 --settle 0.5 \
		--subscribe '{"action":"subscribe","room":"books"}' \
		--pub-kind twilio --pub "$BASE/twilio/sms" --auth "$SECRET" \
		--label "round $i" 2>/dev/null | cut -d" " -f1-7
	sleep 1
	echo "after round $i: relay $(grep VmRSS "/proc/$RELAY/status")"
	i=$((i + 1))
done
