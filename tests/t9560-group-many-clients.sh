#!/bin/sh
test_description='groups: a site holds more WebSocket clients than select() can watch while replication connections come and go'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"
. "$TEST_DIR/lib-group.sh"
trap 'kill_bg; stop_sites' EXIT
trap 'exit 1' TERM INT

# Past FD_SETSIZE (1024): Berkeley DB 5.3's replication manager select()s
# its connections and aborts a process that hands it a descriptor above
# that; the relay holds one per client, so it must not be that process.
CLIENTS=1100
SUB='{"action":"subscribe","room":"books","after":0}'

# lighttpd holds two descriptors per client (the client's, the relay's):
# the processes started here inherit this shell's limit.
FDS=$((3 * CLIENTS + 500))
if test "$(ulimit -Hn)" != unlimited && test "$(ulimit -Hn)" -lt $FDS; then
	skip_all="the hard descriptor limit ($(ulimit -Hn)) is under $FDS"
	test_done
fi
ulimit -n $FDS

# relay_pids: site 1's relay and its replicator, "RELAY REPLICATOR".
relay_pids() {
	_r=$(pgrep -s "$(cat "$GROUP_ROOT/s1/bookpics.pid")" -x bookpics-relay) &&
	echo "$_r $(pgrep -P "$_r" -f "^bookpics-replicator")"
}

test_expect_success 'three sites; site 1, the master, has a relay and its replicator' '
	site_conf 1 && site_conf 2 && site_conf 3 && start_sites &&
	relay_pids >"$GROUP_ROOT/pids.before" &&
	test $(wc -w <"$GROUP_ROOT/pids.before") = 2 &&
	: the relay has one thread: no replication manager in it &&
	ls /proc/$(cut -d" " -f1 "$GROUP_ROOT/pids.before")/task >tasks &&
	test_line_count = 1 tasks
'

test_expect_success "$CLIENTS WebSocket clients at site 1 follow the books room" '
	use_site 1 &&
	: in waves of 100, as visitors come, not one burst &&
	w=1 &&
	while [ $w -le $((CLIENTS / 100)) ]; do
		{ node "$WSC" "$WS" --clients 100 --send "$SUB" --expect-messages 3 --reconnect \
			--ready "$GROUP_ROOT/ws$w.ready" --timeout 100 >"$GROUP_ROOT/ws$w.sum" 2>&1 & } &&
		bg_pid $! && echo $! >"$GROUP_ROOT/ws$w.pid" &&
		wait_for "test -f $GROUP_ROOT/ws$w.ready" 30 &&
		w=$((w + 1)) || return 1
	done &&
	ls /proc/$(cut -d" " -f1 "$GROUP_ROOT/pids.before")/fd >fds &&
	test $(wc -l <fds) -gt $CLIENTS
'

test_expect_success 'new replication connections to site 1 (a new process at each site, a webhook at each) leave its relay running' '
	for n in 2 3 1; do
		use_site $n && admin group status >"$GROUP_ROOT/status$n" || return 1
	done &&
	for n in 1 2 3; do
		use_site $n &&
		test "$(TRASH=$GROUP_ROOT tw_post "MessageSid=SM956$n&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=m$n&NumMedia=0")" = 200 ||
		return 1
	done &&
	relay_pids >"$GROUP_ROOT/pids.after" &&
	test_cmp "$GROUP_ROOT/pids.before" "$GROUP_ROOT/pids.after" &&
	ls /proc/$(cut -d" " -f1 "$GROUP_ROOT/pids.after")/task >tasks &&
	test_line_count = 1 tasks
'

test_expect_success "all $CLIENTS clients got the three messages, in order" '
	w=1 &&
	while [ $w -le $((CLIENTS / 100)) ]; do
		wait_for "! kill -0 $(cat "$GROUP_ROOT/ws$w.pid")" 60 &&
		grep -q "^clients=100 complete=100 dup=0 gap=0 order=ok reconnects=" "$GROUP_ROOT/ws$w.sum" ||
		{ cat "$GROUP_ROOT/ws$w.sum"; return 1; }
		w=$((w + 1))
	done &&
	! grep -q "FD_SETSIZE" "$GROUP_ROOT/s1/var/log/relay.log"
'

kill_bg
stop_sites
test_done
