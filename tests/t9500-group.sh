#!/bin/sh
test_description='groups: three sites on one replication manager group, writes anywhere'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"
. "$TEST_DIR/lib-group.sh"
trap 'kill_bg; stop_sites' EXIT
trap 'exit 1' TERM INT

N=12	# writes in the round robin: 6 webhooks, 6 chat posts

sms() {
	echo "MessageSid=SM95$1&AccountSid=AC1&From=%2B1415555$2&To=%2B18005551212&Body=$3&NumMedia=0"
}

# lines ROOM [TOKENFILE]: the room at the current site, "INDEX USER TYPE
# TEXT" each (a private room: read with the token in TOKENFILE).
lines() {
	curl -s -m 5 ${2:+-H "Authorization: Bearer $(cat "$2")"} \
		"$BASE/api/rooms/$1/messages?after=0&limit=500" | node -e '
		let s = ""; process.stdin.on("data", d => s += d);
		process.stdin.on("end", () => {
			for (const m of JSON.parse(s).messages)
				console.log(m.index, m.userId, m.messageType, m.chatMessage);
		});'
}

# kpost ROOM KEY TEXT: a chat post by u1 with Idempotency-Key KEY at the
# current site: "STATUS BODY", then the Idempotent-Replayed header if any.
kpost() {
	curl -s -m 10 -o body -D head -w "%{http_code}" \
		-H "Authorization: Bearer $(cat "$GROUP_ROOT/tok")" -H "Idempotency-Key: $2" \
		-H "Content-Type: application/json" --data-binary "{\"chatMessage\":\"$3\"}" \
		"$BASE/api/rooms/$1/messages" &&
	printf ' %s\n' "$(cat body)" &&
	tr -d '\r' <head | grep -i "^idempotent-replayed:" ; true
}

# only_u1_present: the chat room's presence at the current site is u1 alone.
only_u1_present() {
	curl -s -m 5 -H "Authorization: Bearer $(cat "$GROUP_ROOT/tok")" \
		"$BASE/api/rooms/chat/presence" | grep -q '"users":\["u1"\]'
}

test_expect_success 'three sites form a group: exactly one master within 10 s' '
	site_conf 1 && site_conf 2 && site_conf 3 &&
	: u1 has a client at every site below: t9520 tests the duplicate rule &&
	for n in 1 2 3; do
		sed -i "s/^duplicate_connections *=.*/duplicate_connections = allow/" \
			"$GROUP_ROOT/s$n/var/bookpics.conf" || return 1
	done &&
	t0=$(date +%s%N) &&
	use_site 1 && start_bookpics &&
	use_site 2 && start_bookpics &&
	use_site 3 && start_bookpics &&
	wait_for "test \$(masters) = 1" 10 &&
	t1=$(date +%s%N) &&
	echo "three sites up, one master, in $(( (t1 - t0) / 1000000 )) ms" &&
	m1=$(health_field 1 master) && m2=$(health_field 2 master) && m3=$(health_field 3 master) &&
	test "$m1" = 127.0.0.1:$((GROUP_BASE + 6)) && test "$m2" = "$m1" && test "$m3" = "$m1" &&
	test "$(health_field 1 role)" = master && test "$(health_field 2 role)" = client &&
	test "$(health_field 3 role)" = client
'

test_expect_success 'bookpics-admin at a client site writes through the master' '
	use_site 2 &&
	admin user add u1 && admin room add chat && admin member add u1 chat &&
	admin token u1 >"$GROUP_ROOT/tok" &&
	use_site 3 &&
	wait_for "admin member list chat | grep -q ^u1\$" 5 &&
	cat >expect <<-EOF &&
	127.0.0.1:$((GROUP_BASE + 8)) client self LSN LAG
	127.0.0.1:$((GROUP_BASE + 6)) master connected LSN LAG
	127.0.0.1:$((GROUP_BASE + 7)) client connected LSN LAG
	EOF
	# a new process (this admin) connects to every site within a moment
	wait_for "admin group status >status &&
		sed \"s/ [0-9]*\/[0-9]* / LSN /; s/ [0-9]*\\\$/ LAG/\" status >actual &&
		cmp -s expect actual" 5 &&
	test_cmp expect actual
'

test_expect_success 'a WebSocket client on every site' '
	for n in 1 2 3; do
		use_site $n && ws_bg "$GROUP_ROOT/ws$n" "$WS?token=$(cat "$GROUP_ROOT/tok")" || return 1
	done
'

test_expect_success 'webhooks and chat posts round-robin over the three sites: all stored once' '
	i=1 && : >"$GROUP_ROOT/lat" &&
	while [ $i -le $N ]; do
		use_site $(( (i - 1) % 3 + 1 )) &&
		a=$(date +%s%N) &&
		if [ $((i % 2)) = 1 ]; then
			test "$(TRASH=$GROUP_ROOT tw_post "$(sms $i 010$((i % 10)) w$i)")" = 200 || return 1
		else
			TRASH=$GROUP_ROOT chat_post chat "$GROUP_ROOT/tok" c$i || return 1
		fi &&
		echo "$(( (i - 1) % 3 + 1 )) $(( ($(date +%s%N) - a) / 1000000 ))" >>"$GROUP_ROOT/lat" &&
		i=$((i + 1)) || return 1
	done &&
	awk "{ n[\$1]++; t[\$1] += \$2 } END { for (s in n) print \"site \" s \": \" n[s] \" writes, mean \" int(t[s] / n[s]) \" ms\" }" "$GROUP_ROOT/lat"
'

test_expect_success 'every site shows the same rooms, indexes 1..N gapless, no duplicates' '
	for n in 1 2 3; do
		use_site $n &&
		T="$GROUP_ROOT/tok" &&
		wait_for "test \$(lines books | wc -l) -ge $((N / 2)) && test \$(lines chat \"$T\" | wc -l) -ge $((N / 2))" 10 &&
		lines books >"$GROUP_ROOT/books$n" && lines chat "$T" >"$GROUP_ROOT/chat$n" || return 1
	done &&
	cut -d" " -f1 "$GROUP_ROOT/books1" >idx && seq 1 $((N / 2)) >expect && test_cmp expect idx &&
	cut -d" " -f1 "$GROUP_ROOT/chat1" >idx && test_cmp expect idx &&
	test_cmp "$GROUP_ROOT/books1" "$GROUP_ROOT/books2" && test_cmp "$GROUP_ROOT/books1" "$GROUP_ROOT/books3" &&
	test_cmp "$GROUP_ROOT/chat1" "$GROUP_ROOT/chat2" && test_cmp "$GROUP_ROOT/chat1" "$GROUP_ROOT/chat3" &&
	awk "{ print \$NF }" "$GROUP_ROOT/books1" | sort >texts &&
	printf "w%s\n" 1 3 5 7 9 11 | sort >expect && test_cmp expect texts
'

test_expect_success 'the same MessageSid sent to another site stores nothing new' '
	use_site 3 &&
	test "$(TRASH=$GROUP_ROOT tw_post "$(sms 1 0101 w1)")" = 200 &&
	use_site 2 &&
	test "$(TRASH=$GROUP_ROOT tw_post "$(sms 3 0103 w3)")" = 200 &&
	sleep 1 &&
	for n in 1 2 3; do
		use_site $n && lines books >actual && test_cmp "$GROUP_ROOT/books1" actual || return 1
	done
'

test_expect_success 'the WebSocket client of every site got every chat message, in order' '
	seq 1 $((N / 2)) >expect &&
	for n in 1 2 3; do
		wait_count "$GROUP_ROOT/ws$n.out" "^message chat " $((N / 2)) 10 &&
		messages_of "$GROUP_ROOT/ws$n.out" | grep "^chat " | cut -d" " -f2 >actual &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'an Idempotency-Key post at site 2, retried at site 3 and 1: one message group-wide' '
	K=$((N / 2 + 1)) &&
	use_site 2 && kpost chat key-g1 keyed >actual &&
	use_site 3 && kpost chat key-g1 keyed >>actual &&
	use_site 1 && kpost chat key-g1 keyed >>actual &&
	use_site 3 && kpost chat key-g1 "keyed, other text" >>actual &&
	cat >expect <<-EOF &&
	201 {"room":"chat","index":$K}
	201 {"room":"chat","index":$K}
	Idempotent-Replayed: true
	201 {"room":"chat","index":$K}
	Idempotent-Replayed: true
	422 {"error":"idempotency_key_reused","message":"the key '\''key-g1'\'' was used for another message"}
	EOF
	test_cmp expect actual &&
	for n in 1 2 3; do
		use_site $n &&
		lines chat "$GROUP_ROOT/tok" >"$GROUP_ROOT/keyed$n" &&
		test_line_count = $K "$GROUP_ROOT/keyed$n" &&
		tail -n 1 "$GROUP_ROOT/keyed$n" >actual &&
		echo "$K u1 text message keyed" >expect &&
		test_cmp expect actual &&
		wait_count "$GROUP_ROOT/ws$n.out" "^message chat " $K 10 || return 1
	done &&
	sleep 0.5 &&
	for n in 1 2 3; do
		messages_of "$GROUP_ROOT/ws$n.out" | grep "^chat " | cut -d" " -f2 >actual &&
		seq 1 $K >expect && test_cmp expect actual || return 1
	done
'

test_expect_success 'a sendMessage clientMessageId at site 1, retried at site 3: the same ack, one message' '
	K=$((N / 2 + 2)) &&
	f="{\"action\":\"sendMessage\",\"chatroomId\":\"chat\",\"chatMessage\":\"over ws\",\"clientMessageId\":\"ws-g1\"}" &&
	ws_say "$GROUP_ROOT/ws1" "$f" &&
	wait_count "$GROUP_ROOT/ws1.out" "\"clientMessageId\":\"ws-g1\"" 1 10 &&
	ws_say "$GROUP_ROOT/ws3" "$f" &&
	wait_count "$GROUP_ROOT/ws3.out" "\"clientMessageId\":\"ws-g1\"" 1 10 &&
	grep -h "\"clientMessageId\":\"ws-g1\"" "$GROUP_ROOT/ws1.out" "$GROUP_ROOT/ws3.out" >actual &&
	printf "{\"type\":\"ack\",\"room\":\"chat\",\"index\":$K,\"clientMessageId\":\"ws-g1\"}\n" >expect &&
	cat expect expect >expect2 &&
	test_cmp expect2 actual &&
	for n in 1 2 3; do
		wait_count "$GROUP_ROOT/ws$n.out" "^message chat " $K 10 || return 1
	done &&
	sleep 0.5 &&
	for n in 1 2 3; do
		use_site $n &&
		lines chat "$GROUP_ROOT/tok" >lines$n && test_line_count = $K lines$n &&
		messages_of "$GROUP_ROOT/ws$n.out" | grep "^chat " | cut -d" " -f2 >actual &&
		seq 1 $K >expect && test_cmp expect actual || return 1
	done
'

test_expect_success 'a user offline at one site gets every message missed, in order, on reconnecting at another' '
	K=$((N / 2 + 2)) &&
	use_site 2 &&
	admin user add u2 && admin member add u2 chat && admin token u2 >"$GROUP_ROOT/tok2" &&
	use_site 1 && ws_bg "$GROUP_ROOT/u2a" "$WS?token=$(cat "$GROUP_ROOT/tok2")" &&
	use_site 2 && TRASH=$GROUP_ROOT chat_post chat "$GROUP_ROOT/tok" seen &&
	wait_count "$GROUP_ROOT/u2a.out" "^message chat $((K + 1)) " 1 10 &&
	ws_stop "$GROUP_ROOT/u2a" &&
	: gone from presence at site 3: its cursor, written before, is there too &&
	use_site 3 &&
	wait_for only_u1_present 10 &&
	use_site 2 &&
	for i in 1 2 3; do
		TRASH=$GROUP_ROOT chat_post chat "$GROUP_ROOT/tok" away$i || return 1
	done &&
	use_site 3 && ws_bg "$GROUP_ROOT/u2b" "$WS?token=$(cat "$GROUP_ROOT/tok2")" &&
	wait_count "$GROUP_ROOT/u2b.out" "^message chat " 3 10 &&
	sleep 0.5 &&
	messages_of "$GROUP_ROOT/u2b.out" | grep "^chat " | cut -d" " -f2,4 >actual &&
	printf "%s away%s\\n" $((K + 2)) 1 $((K + 3)) 2 $((K + 4)) 3 >expect &&
	test_cmp expect actual
'

kill_bg
stop_sites
test_done
