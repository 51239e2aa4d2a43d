#!/bin/sh
# run.sh - start bookpics in the foreground: the relay and lighttpd (which
# spawns the FastCGI programs). Ctrl-C or SIGTERM stops everything it started.
# Environment: PORT, VAR, RELAY_PORT, BIN (set by `make run`; tests set them too).
set -e
TOP=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
VAR=${VAR:-$TOP/var}
RELAY_PORT=${RELAY_PORT:-$((PORT + 1))}
BIN=${BIN:-$TOP/bin}
# Everything under $VAR is the site's alone: tokens, secrets, the store.
umask 077
case $VAR in /*) ;; *) VAR=$(pwd)/$VAR ;; esac
case $BIN in /*) ;; *) BIN=$TOP/$BIN ;; esac

mkdir -p "$VAR/log" "$VAR/run" "$VAR/tmp" "$VAR/media"
chmod 700 "$VAR" "$VAR/log"	# made by hand or by an older version: private now
"$BIN/bookpics-admin" --var "$VAR" init --port "$PORT"
sed -e "s|@TOP@|$TOP|g" -e "s|@BIN@|$BIN|g" -e "s|@VAR@|$VAR|g" \
    -e "s|@PORT@|$PORT|g" -e "s|@RELAY_PORT@|$RELAY_PORT|g" \
    "$TOP/lighttpd.conf" > "$VAR/lighttpd.conf"
lighttpd -tt -f "$VAR/lighttpd.conf" >/dev/null

relay_pid=
lighttpd_pid=
stop() {
	trap - INT TERM EXIT
	[ -n "$lighttpd_pid" ] && kill "$lighttpd_pid" 2>/dev/null
	[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
	wait 2>/dev/null
	exit 0
}
trap stop INT TERM EXIT

if [ -x "$BIN/bookpics-relay" ]; then
	BOOKPICS_VAR=$VAR "$BIN/bookpics-relay" --port "$RELAY_PORT" \
		2>>"$VAR/log/relay.log" &
	relay_pid=$!
	echo "$relay_pid" > "$VAR/run/relay.pid"
fi
# TZ=UTC: lighttpd stamps the access log in local time (lighttpd.conf)
TZ=UTC lighttpd -D -f "$VAR/lighttpd.conf" &
lighttpd_pid=$!
echo "$lighttpd_pid" > "$VAR/run/lighttpd.pid"

echo "bookpics is running on http://127.0.0.1:$PORT/ (data in $VAR; Ctrl-C stops it)"
wait
