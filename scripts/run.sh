#!/bin/sh
# run.sh - the one-time set-up of a data directory, then bookpics-run, which
# supervises lighttpd (and through it the FastCGI programs) and the relay in
# the foreground. Ctrl-C or SIGTERM stops everything.
# Environment: PORT, VAR, RELAY_PORT, BIN (set by `make run`; tests set them too);
# BOOKPICS_SHARE, where the templates and www/ are (the checkout, or what
# `make install` wrote: its bookpics-start sets it).
set -e
TOP=${BOOKPICS_SHARE:-$(cd "$(dirname "$0")/.." && pwd)}
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
if [ ! -f "$TOP/node_modules/vue/dist/vue.esm-browser.prod.js" ]; then
	echo "run.sh: $TOP/node_modules/vue is missing: run 'make deps' (npm ci) first" >&2
	exit 1
fi

# It prints "bookpics is running on ..." once lighttpd and the relay answer,
# and exits non-zero naming the cause if either cannot start.
exec "$BIN/bookpics-run" --var "$VAR" --port "$PORT" --relay-port "$RELAY_PORT" \
	--bin "$BIN" --lighttpd-conf "$VAR/lighttpd.conf"
