#!/bin/sh
test_description='groups: the duplicate-connection rule and presence across the sites'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"
. "$TEST_DIR/lib-group.sh"

trap 'kill_all_bg; stop_sites' EXIT
trap 'exit 1' TERM INT


# presence_at N: the chat room's presence at site N, asked by u2.
presence_at() {
	use_site "$1" &&
	curl -s -m 5 -H "Authorization: Bearer $(cat "$T2")" "$BASE/api/rooms/chat/presence"
}

# presence_is N USERS: e.g. presence_is 2 '"u1"'
presence_is() {
	test "$(presence_at "$1")" = "{\"room\":\"chat\",\"users\":[$2]}"
}

# open_at N: site N's bookpics_connections_open (the group's connection records).
open_at() {
	use_site "$1" &&
	curl -s -m 5 "$BASE/api/metrics" | sed -n "s/^bookpics_connections_open \([0-9]*\)\$/\1/p"
}

# duplicates MODE: duplicate_connections at every live site, as an admin
# edits bookpics.conf (the relay reads it again on each new connection).
duplicates() {
	for _s in 1 2 3; do
		_c=$GROUP_ROOT/s$_s/var/bookpics.conf &&
		sed -i "s/^duplicate_connections *=.*/duplicate_connections = $1/" "$_c" &&
		grep -q "^duplicate_connections = $1$" "$_c" || return 1
	done
}

# refused USER: what ws prints for a duplicate refused at the handshake.
refused() {
	echo "http 409 {\"error\":\"duplicate_connection\",\"message\":\"user $1 is already connected\"}"
}

test_expect_success 'three sites, site 1 the master; users u1 u2 in room chat' '
	site_conf 1 && site_conf 2 && site_conf 3 &&
	grep -q "^duplicate_connections = refuse$" "$GROUP_ROOT/s2/var/bookpics.conf" &&
	start_sites && chat_users
'

test_expect_success 'refuse: u1 connected at site 1 is answered 409 at sites 2 and 3' '
	use_site 1 && ws_bg "$C/a1" "$WS?token=$(cat "$T1")" &&
	head -n 1 "$C/a1.out" | grep -q "\"userId\":\"u1\"" &&
	refused u1 >expect &&
	use_site 2 && ws "$WS?token=$(cat "$T1")" >actual && test_cmp expect actual &&
	use_site 3 && ws "$WS?token=$(cat "$T1")" >actual && test_cmp expect actual &&
	use_site 1 && ws "$WS?token=$(cat "$T1")" >actual && test_cmp expect actual &&
	: the first connection keeps working &&
	use_site 3 && TRASH=$GROUP_ROOT chat_post chat "$T2" "from three" &&
	wait_count "$C/a1.out" "^message chat 1 u2 from three" 1 &&
	! grep -q "^close" "$C/a1.out"
'

test_expect_success 'presence is the group s: u1 (at site 1) at every site, once' '
	for n in 1 2 3; do
		presence_is $n "\"u1\"" || return 1
	done &&
	use_site 2 && ws_bg "$C/anon2" "$WS" &&
	presence_is 3 "\"u1\"" &&
	use_site 3 && ws_bg "$C/b3" "$WS?token=$(cat "$T2")" &&
	for n in 1 2 3; do
		wait_for "presence_is $n \"\\\"u1\\\",\\\"u2\\\"\"" 5 || return 1
	done &&
	ws_stop "$C/b3" &&
	for n in 1 2 3; do
		wait_for "presence_is $n \"\\\"u1\\\"\"" 5 || return 1
	done
'

test_expect_success 'refuse across sites at once: u2 at sites 2 and 3 together, one wins' '
	for round in 1 2 3 4 5; do
		for n in 2 3; do
			use_site $n &&
			rm -f "$C/r$n.ready" "$C/r$n.out" && : >"$C/r$n.in" &&
			{ node "$WSC" "$WS?token=$(cat "$T2")" --in "$C/r$n.in" --out "$C/r$n.out" \
				--ready "$C/r$n.ready" --timeout 20 >/dev/null 2>&1 & } &&
			echo $! >"$C/r$n.pid" && bg_pid $! || return 1
		done &&
		wait_for "test -f $C/r2.ready && test -f $C/r3.ready" 15 &&
		cat "$C/r2.out" "$C/r3.out" | grep -c "\"type\":\"hello\"" >hellos &&
		cat "$C/r2.out" "$C/r3.out" | grep -c "^http 409 " >refusals &&
		echo "round $round: $(cat hellos) admitted, $(cat refusals) refused" &&
		echo 1 >expect && test_cmp expect hellos && test_cmp expect refusals &&
		ws_stop "$C/r2" && ws_stop "$C/r3" &&
		for n in 1 2 3; do
			wait_for "presence_is $n \"\\\"u1\\\"\"" 5 || return 1
		done || return 1
	done
'

test_expect_success 'replace: u1 at site 3 closes site 1 s connection with 4000; the new one works' '
	duplicates replace &&
	use_site 3 &&
	t0=$(date +%s%N) &&
	ws_bg "$C/a3" "$WS?token=$(cat "$T1")" &&
	head -n 1 "$C/a3.out" | grep -q "\"userId\":\"u1\"" &&
	wait_for "grep -q ^close $C/a1.out" 5 &&
	echo "site 1 closed its connection $(( ($(date +%s%N) - t0) / 1000000 )) ms after the new one was asked for" &&
	tail -n 1 "$C/a1.out" >actual &&
	echo "close 4000 replaced by a new connection" >expect &&
	test_cmp expect actual &&
	use_site 2 && TRASH=$GROUP_ROOT chat_post chat "$T2" "after replace" &&
	wait_count "$C/a3.out" "^message chat 2 u2 after replace" 1 &&
	for n in 1 2 3; do
		wait_for "presence_is $n \"\\\"u1\\\"\"" 5 || return 1
	done &&
	: the new one, the newest, is not replaced by the old one &&
	sleep 0.5 && ! grep -q "^close" "$C/a3.out"
'

test_expect_success 'allow: nothing changes, both sites connections live' '
	duplicates allow &&
	use_site 2 && ws_bg "$C/a2" "$WS?token=$(cat "$T1")" &&
	head -n 1 "$C/a2.out" | grep -q "\"userId\":\"u1\"" &&
	use_site 1 && TRASH=$GROUP_ROOT chat_post chat "$T2" "to both" &&
	wait_count "$C/a2.out" "^message chat 3 u2 to both" 1 &&
	wait_count "$C/a3.out" "^message chat 3 u2 to both" 1 &&
	! grep -q "^close" "$C/a3.out" &&
	presence_is 1 "\"u1\"" &&
	ws_stop "$C/a2"
'

test_expect_success 'anonymous connections at a client site are counted at every site (in batches), and forgotten when they close' '
	base=$(open_at 1) && test -n "$base" &&
	use_site 2 &&
	for i in 1 2 3; do
		ws_bg "$C/anon$i" "$WS" || return 1
	done &&
	: one more that comes and goes at once: its open and close may share a batch &&
	ws "$WS" >/dev/null &&
	for n in 1 2 3; do
		wait_for "test \"\$(open_at $n)\" = $((base + 3))" 5 || return 1
	done &&
	use_site 2 &&
	for i in 1 2 3; do
		ws_stop "$C/anon$i" || return 1
	done &&
	for n in 1 2 3; do
		wait_for "test \"\$(open_at $n)\" = $base" 5 || return 1
	done
'

test_expect_success 'a dead site locks nobody out: u1 at site 3, site 3 killed, u1 admitted at site 2' '
	duplicates refuse &&
	use_site 2 && ws "$WS?token=$(cat "$T1")" >actual &&
	refused u1 >expect && test_cmp expect actual &&
	pids=$(site_pids 3 | tr "\n" " ") && test -n "$pids" &&
	: held first, so that the supervisor restarts nothing &&
	{ kill -STOP $pids 2>/dev/null; : ; } &&
	t0=$(date +%s%N) &&
	{ kill -9 $pids 2>/dev/null; : ; } &&
	wait_for "all_gone $pids" 10 &&
	rm -f "$GROUP_ROOT/s3/bookpics.pid" &&
	wait_for "presence_is 2 \"\"" 10 &&
	echo "site 3 out of presence $(( ($(date +%s%N) - t0) / 1000000 )) ms after kill -9" &&
	presence_is 1 "" &&
	use_site 2 && ws_bg "$C/a2b" "$WS?token=$(cat "$T1")" &&
	head -n 1 "$C/a2b.out" | grep -q "\"userId\":\"u1\"" &&
	presence_is 1 "\"u1\"" &&
	use_site 1 && ws "$WS?token=$(cat "$T1")" >actual && test_cmp expect actual
'

kill_all_bg
stop_sites
test_done
