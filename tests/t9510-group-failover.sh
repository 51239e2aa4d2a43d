#!/bin/sh
test_description='groups: kill -9 the master under load from 8 senders; a new master, nothing lost or doubled, the dead site rejoins'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"
GROUP_RESTARTS=1
. "$TEST_DIR/lib-group.sh"
trap 'kill_bg; stop_sites' EXIT

SENDERS=4	# tw-load clients at each of the two client sites: 8 in all
COUNT=30	# webhooks per sender
N=$((2 * SENDERS * COUNT))
SUB='{"action":"subscribe","room":"books","after":0}'

# lines_of N: site N's books room, "INDEX USER TYPE TEXT" per message.
lines_of() {
	use_site "$1" && TRASH=$GROUP_ROOT room_lines books "limit=1000"
}

test_expect_success 'three sites, site 1 the master as every site says' '
	site_conf 1 && site_conf 2 && site_conf 3 && start_sites ||
	{ for n in 1 2 3; do use_site $n && curl -s "$BASE/api/health" && echo; done; false; }
'

test_expect_success 'a WebSocket client on each of the client sites follows the books room' '
	for n in 2 3; do
		use_site $n &&
		{ node "$WSC" "$WS" --clients 1 --send "$SUB" --expect-messages $N --verbose \
			--ready "$GROUP_ROOT/ws$n.ready" --timeout 120 >"$GROUP_ROOT/ws$n.sum" 2>&1 & } &&
		bg_pid $! && echo $! >"$GROUP_ROOT/ws$n.pid" &&
		wait_for "test -f $GROUP_ROOT/ws$n.ready" 15 || return 1
	done
'

test_expect_success "8 senders post $N webhooks to sites 2 and 3; kill -9 every process of the master meanwhile; a new master within 10 s" '
	for n in 2 3; do
		use_site $n &&
		{ "$BUILD/tools/tw-load" -l -t 15 -p 150 "$BASE/twilio/sms" secret123 $SENDERS $COUNT SM$n 200 \
			>"$GROUP_ROOT/answers$n" & } &&
		bg_pid $! && echo $! >"$GROUP_ROOT/load$n.pid" || return 1
	done &&
	# about a third of the webhooks stored before the kill
	wait_for "test \$(cat $GROUP_ROOT/answers2 $GROUP_ROOT/answers3 | grep -c \" 200 \") -ge $((N / 3))" 60 &&
	before=$(cat "$GROUP_ROOT/answers2" "$GROUP_ROOT/answers3" | grep -c " 200 ") &&
	pids=$(site_pids 1 | tr "\n" " ") &&
	echo "answered before the kill: $before; killing site 1:" $pids &&
	# held first, so that the supervisor restarts nothing; a short-lived
	# child may be gone between pgrep and kill
	{ kill -STOP $pids 2>/dev/null; : ; } &&
	t0=$(date +%s%N) &&
	{ kill -9 $pids 2>/dev/null; : ; } &&
	{ wait_for "all_gone $pids" 20 || { ps -o pid,stat,wchan:20,cmd -p "$(echo $pids | tr " " ,)"; false; }; } &&
	rm -f "$GROUP_ROOT/s1/bookpics.pid" &&
	echo "site 1 gone after $(( ($(date +%s%N) - t0) / 1000000 )) ms" &&
	wait_for "test -n \"\$(master_site)\"" 10 &&
	t1=$(date +%s%N) &&
	m=$(master_site) &&
	echo "new master: site $m after $(( (t1 - t0) / 1000000 )) ms" &&
	echo $(( (t1 - t0) / 1000000 )) >"$GROUP_ROOT/election_ms" &&
	case $m in 2|3) ;; *) false ;; esac &&
	echo $m >"$GROUP_ROOT/new_master" &&
	test "$(health_field 2 master)" = "$(health_field 3 master)" &&
	wait_for "! kill -0 $(cat "$GROUP_ROOT/load2.pid") && ! kill -0 $(cat "$GROUP_ROOT/load3.pid")" 120 &&
	echo "load done $(( ($(date +%s%N) - t0) / 1000000 )) ms after the kill"
'

test_expect_success 'every webhook was answered 200 in the end; 503s were retried with the same MessageSid' '
	cat "$GROUP_ROOT/answers2" "$GROUP_ROOT/answers3" >answers &&
	sed -n "/^SM[23][0-9]*x[0-9]* \(200\|503\|0\) [0-9]*\$/!p" answers >unexpected &&
	test_cmp /dev/null unexpected &&
	awk "\$2 == 200 { print \$1 }" answers | sort >acked &&
	sort -u acked >acked.u &&
	test_cmp acked acked.u &&
	test_line_count = $N acked &&
	echo "attempts=$(wc -l <answers) 200=$N 503=$(grep -c " 503 " answers) no_answer=$(grep -c " 0 " answers)" \
	     "max_ms=$(awk "{ print \$3 }" answers | sort -n | tail -n 1)" &&
	awk "\$2 != 200 { print \$1 }" answers | sort -u | wc -l | sed "s/^/sids retried: /"
'

test_expect_success 'both survivors store every acknowledged webhook exactly once, indexes 1..N, identical' '
	for n in 2 3; do
		wait_for "test \"\$(last_of $n)\" = $N" 10 &&
		lines_of $n >"$GROUP_ROOT/books$n" || return 1
	done &&
	cut -d" " -f1 "$GROUP_ROOT/books2" >idx && seq 1 $N >expect && test_cmp expect idx &&
	test_cmp "$GROUP_ROOT/books2" "$GROUP_ROOT/books3" &&
	awk "{ print \$NF }" "$GROUP_ROOT/books2" | sort >stored &&
	test_cmp acked stored
'

test_expect_success 'the WebSocket clients on the survivors got all N in order, no gap, no duplicate' '
	for n in 2 3; do
		wait_for "! kill -0 $(cat "$GROUP_ROOT/ws$n.pid")" 30 &&
		cat "$GROUP_ROOT/ws$n.sum" &&
		grep -q "^clients=1 complete=1 dup=0 gap=0 order=ok" "$GROUP_ROOT/ws$n.sum" &&
		grep -q "^client 0 books 1-$N $N\$" "$GROUP_ROOT/ws$n.sum" || return 1
	done
'

test_expect_success 'the killed site, restarted, rejoins as a client and catches up' '
	use_site 1 &&
	t0=$(date +%s%N) &&
	start_bookpics &&
	wait_for "test \"\$(last_of 1)\" = $N" 30 &&
	t1=$(date +%s%N) &&
	echo "site 1 caught up $(( (t1 - t0) / 1000000 )) ms after its start" &&
	test "$(health_field 1 role)" = client &&
	test "$(master_site)" = "$(cat "$GROUP_ROOT/new_master")" &&
	lines_of 1 >"$GROUP_ROOT/books1" &&
	test_cmp "$GROUP_ROOT/books2" "$GROUP_ROOT/books1" &&
	wait_for "test \$(health_field 1 connected) = 3" 10
'

test_expect_success 'the rejoined site takes writes again (through the new master)' '
	use_site 1 &&
	test "$(TRASH=$GROUP_ROOT tw_post "MessageSid=SMafter&AccountSid=AC1&From=%2B14155550999&To=%2B18005551212&Body=after&NumMedia=0")" = 200 &&
	for n in 1 2 3; do
		wait_for "test \"\$(last_of $n)\" = $((N + 1))" 10 || return 1
	done
'

kill_bg
stop_sites
test_done
