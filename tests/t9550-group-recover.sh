#!/bin/sh
test_description='groups: a writer killed inside the library at the master, the supervisor recovers the site, it rejoins the group'
. ./test-lib.sh
GROUP_RESTARTS=1
. "$TEST_DIR/lib-group.sh"
trap 'stop_sites' EXIT
trap 'exit 1' TERM INT

# The stall points exist only in the TESTHOOKS build (as t9010).
use_hooks_build webhook.fcgi bookpics-run

S1=127.0.0.1:$((GROUP_BASE + 6))

sms() {
	echo "MessageSid=SM954$1&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=$1&NumMedia=0"
}

# stalled FILE: the pid in the stall file, once that process is stopped.
stalled() {
	_p=$(cut -d" " -f1 "$1" 2>/dev/null) && test -n "$_p" &&
	test "$(sed 's/.*) \(.\).*/\1/' /proc/$_p/stat 2>/dev/null)" = T && echo "$_p"
}

test_expect_success 'three sites; site 1, the master, armed to stall inside DB->put' '
	site_conf 1 && site_conf 2 && site_conf 3 &&
	use_site 1 &&
	BOOKPICS_TEST_STALL_AT=page BOOKPICS_TEST_STALL_SID=SM954stall \
	BOOKPICS_TEST_STALL_FILE=$GROUP_ROOT/stall BOOKPICS_RUN_FAILCHK_MS=500 start_bookpics &&
	use_site 2 && start_bookpics &&
	use_site 3 && start_bookpics &&
	wait_for "test \$(masters) = 1" 10 &&
	test "$(health_field 1 role)" = master &&
	use_site 1 && test "$(TRASH=$GROUP_ROOT tw_post "$(sms a1)")" = 200
'

test_expect_success 'the writer killed holding a page latch: site 1 recovered by its supervisor' '
	use_site 1 &&
	{ TRASH=$GROUP_ROOT tw_post "$(sms stall)" >stall.code & } &&
	wait_for "stalled $GROUP_ROOT/stall" 10 &&
	kill -9 $(stalled $GROUP_ROOT/stall) &&
	wait_for "grep -q \"event=recover step=done\" $VAR/log/run.log" 30 &&
	grep -q "event=failchk result=runrecovery" "$VAR/log/run.log" &&
	! grep -q "event=recover_failed" "$VAR/log/run.log"
'

test_expect_success 'site 1 is a group site again: one master, site 1 a client or the master' '
	wait_for "test \$(masters) = 1" 30 &&
	use_site 1 &&
	wait_for "curl -sf -o /dev/null $BASE/api/health" 30 &&
	m=$(health_field 1 master) && test -n "$m" &&
	test "$(health_field 2 master)" = "$m" && test "$(health_field 3 master)" = "$m" &&
	wait_for "admin group status >status && test \$(grep -c \" connected \" status) = 2" 10 &&
	grep -q "^$S1 [-a-z]* self " status
'

test_expect_success 'writes at every site answered 200; every site has the same rows' '
	for n in 1 2 3; do
		use_site $n &&
		wait_for "test \"\$(TRASH=$GROUP_ROOT tw_post \"\$(sms b$n)\")\" = 200" 15 || return 1
	done &&
	use_site 1 && books >expect &&
	tail -n 3 expect | cut -d" " -f2 >texts && printf "%s\n" b1 b2 b3 >want &&
	test_cmp want texts &&
	for n in 2 3; do
		use_site $n && wait_for "books >actual && cmp -s expect actual" 10 &&
		test_cmp expect actual || return 1
	done
'

stop_sites
test_done
