#!/bin/sh
test_description='groups: bookpics-admin group remove takes a stopped site out, the two left go on'
. ./test-lib.sh
. "$TEST_DIR/lib-group.sh"
trap 'stop_sites' EXIT
trap 'exit 1' TERM INT

S1=127.0.0.1:$((GROUP_BASE + 6))
S2=127.0.0.1:$((GROUP_BASE + 7))
S3=127.0.0.1:$((GROUP_BASE + 8))

sms() {
	echo "MessageSid=SM953$1&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=$1&NumMedia=0"
}

# status_shape: the current site's group status without its LSN and LAG columns.
status_shape() {
	admin group status >status && cut -d" " -f1-3 status
}

# removed_error WANT ADDR: group remove ADDR at the current site exits 1
# with "bookpics-admin: WANT" on stderr and nothing on stdout.
removed_error() {
	_rc=0 && admin group remove "$2" >out 2>err || _rc=$?
	test "$_rc" = 1 && echo "bookpics-admin: $1" >expect.err && test_cmp expect.err err &&
	test_cmp /dev/null out
}

test_expect_success 'three sites, site 1 the master; a webhook at each' '
	site_conf 1 && site_conf 2 && site_conf 3 &&
	grep -q "^group_ack = quorum$" "$VAR/bookpics.conf" &&
	use_site 1 && start_bookpics &&
	use_site 2 && start_bookpics &&
	use_site 3 && start_bookpics &&
	wait_for "test \$(masters) = 1" 10 &&
	test "$(health_field 1 role)" = master &&
	for n in 1 2 3; do
		use_site $n && test "$(TRASH=$GROUP_ROOT tw_post "$(sms a$n)")" = 200 || return 1
	done
'

test_expect_success 'site 3 stopped: still listed, unreachable' '
	use_site 3 && stop_bookpics &&
	use_site 2 &&
	cat >expect <<-EOF &&
	$S2 client self
	$S1 master connected
	$S3 - unreachable
	EOF
	wait_for "status_shape >actual && cmp -s expect actual" 10 &&
	test_cmp expect actual
'

test_expect_success 'refused, nothing changed: an unknown site, this site, the master' '
	use_site 2 &&
	removed_error "group remove: 127.0.0.1:1 is not a site of the group" 127.0.0.1:1 &&
	removed_error "group remove: $S2 is this site (group_self): stop it, then remove it at another site" $S2 &&
	removed_error "group remove: $S1 is the master: stop it, then remove it once another site is the master" $S1 &&
	status_shape >actual && test_cmp expect actual
'

test_expect_success 'group remove of site 3 at site 2 (a client): the master confirms' '
	use_site 2 &&
	admin group remove $S3 >out &&
	cat >expect <<-EOF &&
	removed $S3 from the group
	now drop it from group_sites in every site'"'"'s bookpics.conf, and do not start it again with its group_* keys: it would join again
	EOF
	test_cmp expect out
'

test_expect_success 'group status at both sites lists two sites' '
	use_site 2 &&
	cat >expect <<-EOF &&
	$S2 client self
	$S1 master connected
	EOF
	wait_for "status_shape >actual && cmp -s expect actual" 10 &&
	test_cmp expect actual &&
	use_site 1 &&
	cat >expect <<-EOF &&
	$S1 master self
	$S2 client connected
	EOF
	wait_for "status_shape >actual && cmp -s expect actual" 10 &&
	test_cmp expect actual &&
	removed_error "group remove: $S3 is not a site of the group" $S3
'

test_expect_success 'quorum writes at both sites answered 200, the same rows at each' '
	for i in 1 2 3 4; do
		use_site $(( (i - 1) % 2 + 1 )) &&
		test "$(TRASH=$GROUP_ROOT tw_post "$(sms b$i)")" = 200 || return 1
	done &&
	printf "%s\n" "1 a1" "2 a2" "3 a3" "4 b1" "5 b2" "6 b3" "7 b4" >expect &&
	for n in 1 2; do
		use_site $n && wait_for "books >actual && cmp -s expect actual" 5 &&
		test_cmp expect actual || return 1
	done
'

# Berkeley DB counts the group's sites (nsites) from its membership
# database: 2 now. 5.3 keeps the strict majority in a two-site group
# (DB_REPMGR_CONF_2SITE_STRICT is on by default): an election needs both
# votes, so the survivor of its master's loss stays a client (and a
# quorum commit needs no ack: no election can happen without the master).
test_expect_success 'nsites is 2: the master stopped, site 2 alone is not elected (2 votes of 2)' '
	use_site 1 && stop_bookpics &&
	wait_for "grep -q \"Not enough votes to elect: recvd 1 of 2 from 2 sites\" \
		$GROUP_ROOT/s2/var/log/*.log" 15 &&
	sleep 3 && test "$(health_field 2 role)" = client
'

test_expect_success 'site 1 started again: one master, a write at site 2 answered 200' '
	use_site 1 && start_bookpics &&
	wait_for "test \$(masters) = 1" 15 &&
	use_site 2 &&
	wait_for "test \"\$(TRASH=$GROUP_ROOT tw_post \"\$(sms c1)\")\" = 200" 10 &&
	use_site 1 && printf "%s\n" "8 c1" >expect &&
	wait_for "books | tail -n 1 >actual && cmp -s expect actual" 5 &&
	test_cmp expect actual
'

# The other side of the strict majority: a quorum of two needs no ack
# (no election can happen without the master), where the master of three
# alone waits 2 s for one and answers 503 (README, "A lost host").
test_expect_success 'nsites is 2: the client stopped, a write at the master alone answered 200' '
	if test "$(health_field 1 role)" = master; then m=1 c=2; else m=2 c=1; fi &&
	test "$(health_field $m role)" = master &&
	use_site $c && stop_bookpics &&
	use_site $m &&
	test "$(TRASH=$GROUP_ROOT tw_post "$(sms d1)")" = 200 &&
	books | tail -n 1 >actual && echo "9 d1" >expect && test_cmp expect actual
'

stop_sites
test_done
