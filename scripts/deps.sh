#!/bin/sh
# deps.sh - install what bookpics needs and is missing: Debian packages, npm modules.
# Idempotent and non-interactive; prints nothing when everything is there.
set -e
cd "$(dirname "$0")/.."

# libwebsockets-evlib-ev: lws's libev glue, loaded at run time by the relay
# (libwebsockets-dev pulls it in today; a server without -dev needs it named).
# apache2 and libapache2-mod-fcgid are for t7000 (apache.conf); their install
# may start a system Apache on port 80 (not in containers without an init),
# which nothing here uses: the test runs its own on its own port.
# libvips-tools: the `vips` command the media tests make their fixtures with.
# haproxy: the front of dist/haproxy.cfg (t1121); its install enables
# Debian's haproxy.service with Debian's own config, which listens nowhere.
PKGS="build-essential pkg-config lighttpd libfcgi-dev libwebsockets-dev libdb-dev
db5.3-util libjson-c-dev libssl-dev libcurl4-openssl-dev chromium curl
libev-dev libwebsockets-evlib-ev apache2 libapache2-mod-fcgid clang libclang-rt-14-dev
libvips-dev libvips-tools haproxy"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# Node.js may come from elsewhere than Debian (nodesource, nvm): any will do.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: run 'make deps' as root, or: sudo apt-get install$missing" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm modules (Vue for the page, playwright-core and ws for the tests),
# installed again only when package-lock.json's content changed: a fresh
# checkout's newer mtime says nothing (and a node_modules shared by several
# checkouts of one commit must not be reinstalled under their feet).
lock_sum=$(sha256sum package-lock.json | cut -d" " -f1)
if [ ! -f node_modules/.package-lock.json ] ||
   [ "$(cat node_modules/.bookpics-lock 2>/dev/null)" != "$lock_sum" ]; then
	echo "deps: installing npm modules"
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
	echo "$lock_sum" >node_modules/.bookpics-lock
fi
