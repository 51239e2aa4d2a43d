#!/bin/sh
test_description='disk full under webhook load: 503 within 5 s, reads served, writes back by themselves, nothing acknowledged lost, nothing spins, SIGTERM ends it'
. ./test-lib.sh

if ! test_have_prereq ROOT; then
	skip_all='needs root (mounts a small tmpfs as $VAR)'
	test_done
fi

# $VAR is a tmpfs of its own, so the test can fill it without filling the
# machine. The store reserves its region files at open (about 80 MB,
# docs/DESIGN.md "Disk full"), so the filesystem is that plus room to write.
mkdir -p "$VAR"
mount -t tmpfs -o size=256m,mode=0700 tmpfs "$VAR" || exit 1
# Unmounted at the end even on failure; the logs are kept beside it first.
unmount_var() {
	mountpoint -q "$VAR" || return 0
	stop_bookpics
	mkdir -p "$TRASH/logs" && cp "$VAR"/log/*.log "$TRASH/logs/" 2>/dev/null
	umount "$VAR" || umount -l "$VAR"
}
trap 'touch "$TRASH/load.stop"; driver_stop; unmount_var' EXIT

# loader N: post signed webhooks SMdfN-1, SMdfN-2, ... until load.stop
# exists, each with 5 s at most, one "SID STATUS SECONDS" line per answer
# (STATUS 000: no answer within 5 s) into answers.N.
loader() {
	_i=0
	_token=$(sed -n 's/^twilio_auth_token *= *//p' "$VAR/bookpics.conf")
	while [ ! -f "$TRASH/load.stop" ]; do
		_i=$((_i + 1))
		_form="MessageSid=SMdf$1x$_i&AccountSid=AC1&From=%2B14155550100&To=%2B18005551212&Body=df+$1+$_i"
		_sig=$("$BUILD/tools/tw-sign" "$BASE/twilio/sms" "$_token" "$_form")
		_ans=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}' \
			-H "X-Twilio-Signature: $_sig" --data-binary "$_form" \
			-H 'Content-Type: application/x-www-form-urlencoded' "$BASE/twilio/sms")
		echo "SMdf$1x$_i $_ans" >>"$TRASH/answers.$1"
	done
}

count_200() {
	cat "$TRASH"/answers.* 2>/dev/null | grep -c " 200 " || true
}

# The CPU time (utime + stime, in ticks) of every process of the site:
# the supervisor and everything under it.
site_pids() {
	_sup=$(cat "$TRASH/bookpics.pid")
	echo "$_sup"
	for _p in $(pgrep -P "$_sup"); do
		echo "$_p"
		pgrep -P "$_p" || :	# bookpics-hooks has no children
	done
}

cpu_ticks() {
	for _p in $(site_pids); do
		awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$_p/stat" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}

test_expect_success 'a site on a small tmpfs, under webhook load' '
	admin init --port $PORT >/dev/null && admin twilio-token secret123 &&
	echo "wall_text = on" >>"$VAR/bookpics.conf" &&
	start_bookpics &&
	rm -f "$TRASH/load.stop" &&
	(loader 1 &) && (loader 2 &) &&
	wait_for "test \$(count_200) -ge 20" 30
'

test_expect_success 'disk filled: every webhook answered within 5 s, 503 while full' '
	dd if=/dev/zero of="$VAR/fill" bs=1M 2>/dev/null || : &&
	test "$(df --output=avail "$VAR" | tail -n 1)" -lt 1024 &&
	date +%s.%N >"$TRASH/t.full" &&
	cat "$TRASH"/answers.* | wc -l >"$TRASH/n.full" &&
	sleep 6 &&
	cat "$TRASH"/answers.* | tail -n +1 >all &&
	tail -n 4 "$TRASH/answers.1" >last1 && tail -n 4 "$TRASH/answers.2" >last2 &&
	cat last1 last2 &&
	test $(grep -c " 503 " last1) = 4 && test $(grep -c " 503 " last2) = 4
'

test_expect_success 'while full: messages are read (200), health names the full disk' '
	curl -s -o page -w "%{http_code}\n" "$BASE/api/rooms/books/messages?limit=5" >code &&
	echo 200 >expect && test_cmp expect code &&
	grep -q "\"messages\":\[" page &&
	curl -s "$BASE/api/health" >health &&
	grep -q "\"ok\":false" health &&
	grep -q "store: disk full" health
'

test_expect_success 'space back: writes succeed again within 10 s, by themselves' '
	n=$(count_200) &&
	rm -f "$VAR/fill" &&
	t0=$(date +%s.%N) &&
	wait_for "test \$(count_200) -ge $((n + 10))" 10 &&
	t1=$(date +%s.%N) &&
	echo "writes back after $(echo "$t1 - $t0" | bc) s" &&
	touch "$TRASH/load.stop" &&
	sleep 6
'

test_expect_success 'every answer in 5 s, 200 or 503; each 200 stored exactly once, gapless' '
	cat "$TRASH"/answers.* >all &&
	awk "\$2 != 200 && \$2 != 503" all >bad &&
	test_line_count = 0 bad &&
	awk "\$3 >= 5" all >slow &&
	test_line_count = 0 slow &&
	echo "answers: $(wc -l <all) total, $(grep -c " 200 " all) 200, $(grep -c " 503 " all) 503, slowest $(sort -k3 -n all | tail -n 1 | cut -d" " -f3) s" &&
	grep -q " 503 " all &&
	node "$TOP/tests/tools/room-dump.mjs" $BASE books >dump &&
	cut -d" " -f1 dump >indexes &&
	seq 1 $(wc -l <dump) >expect &&
	test_cmp expect indexes &&
	sed -n "s/.*df \([0-9]*\) \([0-9]*\)$/SMdf\1x\2/p" dump | sort >stored &&
	grep " 200 " all | cut -d" " -f1 | sort >expect &&
	test_cmp expect stored
'

test_expect_success 'no process of the site spins afterwards' '
	a=$(cpu_ticks) && sleep 3 && b=$(cpu_ticks) &&
	echo "site CPU over 3 s idle: $((b - a)) ticks" &&
	test $((b - a)) -lt 30
'

test_expect_success 'writers killed inside the store: the site heals by itself (failchk, or recovery when one died holding a mutex)' '
	# A writer killed outside a mutex leaves locks and a transaction that
	# failchk cleans up; one killed holding a mutex makes failchk say
	# DB_RUNRECOVERY and the supervisor recovers the site (t9010 forces
	# that case). Either way writes go on and nothing is lost.
	# two short writers: each fills the small disk fast, and a full disk
	# is the test above, not this one
	for round in 1 2; do
		{ "$BUILD/bench/fill" "$VAR" scratch 1000000 >/dev/null 2>&1 & } &&
		pid=$! && sleep 0.2 && { kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; :; } &&
		sleep 1.2 || return 1
	done &&
	if grep -q "event=failchk result=runrecovery" "$VAR/log/run.log"; then
		wait_for "grep -q \"event=recover step=done\" \"$VAR/log/run.log\"" 60
	fi &&
	wait_for "test \"\$(tw_post \"MessageSid=SMdfback&AccountSid=AC1&From=%2B14155550100&Body=back\")\" = 200" 60 &&
	node "$TOP/tests/tools/room-dump.mjs" $BASE books >dump &&
	cut -d" " -f1 dump >indexes && seq 1 $(wc -l <dump) >expect && test_cmp expect indexes &&
	tail -n 1 dump | grep -q " back$"
'

test_expect_success 'SIGTERM of the supervisor ends everything within 10 s' '
	site_pids >pids &&
	sup=$(cat "$TRASH/bookpics.pid") &&
	kill $sup &&
	wait_for "! kill -0 $sup" 10 &&
	for p in $(cat pids); do ! kill -0 $p 2>/dev/null || { echo "left: $p"; false; }; done &&
	rm -f "$TRASH/bookpics.pid" &&
	unmount_var
'

test_done
