#!/bin/sh
test_description='the JavaScript client (clients/js) against the real system: resume across kill -9, refusals, acks, resends, history, duplicates'
. ./test-lib.sh
. "$TEST_DIR/lib-ws.sh"

test_expect_success 'the package packs: the module, its types, its README' '
	(cd "$TOP/clients/js" && npm pack --dry-run --json 2>/dev/null) >pack.json &&
	node -e "
		const p = JSON.parse(require(\"fs\").readFileSync(\"pack.json\"))[0];
		console.log(p.name);
		for (const f of p.files.map(f => f.path).sort()) console.log(f);
	" >actual &&
	cat >expect <<-\EOF &&
	bookpics-client
	README.md
	bookpics-client.d.ts
	bookpics-client.js
	package.json
	EOF
	test_cmp expect actual
'

test_expect_success 'set up: users uuid1..3, rooms uuidroom1..3, tokens; the system runs' '
	chat_rooms &&
	start_bookpics &&
	wait_for "relay_health true" 10
'

test_expect_success 'node --test tests/client/*.test.mjs' '
	BASE=$BASE WS=$WS VAR=$VAR BIN=$BIN RELAY_PORT=$RELAY_PORT TRASH=$TRASH \
	T1=$(cat t1) T2=$(cat t2) T3=$(cat t3) \
		node --test --test-concurrency=1 --test-timeout=60000 "$TOP"/tests/client/*.test.mjs >node.out 2>&1 ||
		{ cat node.out; false; } &&
	grep -E "^# (pass|fail)" node.out >actual &&
	grep -q "^# fail 0$" actual
'

kill_bg
test_done
