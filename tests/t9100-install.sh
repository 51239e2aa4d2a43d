#!/bin/sh
test_description='make install and uninstall (GNU conventions), the systemd units, and the README install section followed line by line into a scratch prefix'
. ./test-lib.sh

# make as the suite built the programs under test (the same flags: nothing
# is rebuilt under the other tests' feet; a sanitized BIN stays sanitized).
MK="make -s -C $TOP DEVELOPER=1 BIN=$BIN BUILD=$BUILD${BOOKPICS_SANITIZED:+ SANITIZE=address,undefined}"

# The README's install block, as the test runs it: into $S instead of /,
# as the user running the test instead of www-data, and bookpics-start
# (the unit's ExecStart) in the background instead of systemctl.
readme_block() {
	sed -n '/<!-- install-begin/,/<!-- install-end/p' "$TOP/README.md" | sed -n '/^```sh$/,/^```$/p' | sed '1d;$d'
}

test_expect_success 'the README block is the one this test knows' '
	readme_block >block &&
	cat >expect <<-\EOF &&
	make deps all
	make install PREFIX=/usr/local
	install -d -o www-data -g www-data -m 0700 /var/lib/bookpics
	runuser -u www-data -- bookpics-admin --var /var/lib/bookpics init --port 8080
	runuser -u www-data -- bookpics-admin --var /var/lib/bookpics twilio-token - <twilio-token.txt
	systemctl daemon-reload
	systemctl enable --now bookpics
	EOF
	test_cmp expect block
'

test_expect_success 'make install DESTDIR= writes only under DESTDIR: programs, front end with Vue, templates, units, logrotate' '
	$MK install DESTDIR="$TRASH/dest" PREFIX=/usr/local >/dev/null &&
	(cd dest && find . -type f | sort) >files &&
	cat >expect <<-\EOF &&
	./etc/logrotate.d/bookpics
	./usr/local/bin/bookpics-admin
	./usr/local/bin/bookpics-start
	./usr/local/lib/systemd/system/bookpics-relay.service
	./usr/local/lib/systemd/system/bookpics.service
	./usr/local/libexec/bookpics/api.fcgi
	./usr/local/libexec/bookpics/bookpics-admin
	./usr/local/libexec/bookpics/bookpics-hooks
	./usr/local/libexec/bookpics/bookpics-relay
	./usr/local/libexec/bookpics/bookpics-replicator
	./usr/local/libexec/bookpics/bookpics-run
	./usr/local/libexec/bookpics/webhook.fcgi
	./usr/local/share/bookpics/apache.conf
	./usr/local/share/bookpics/haproxy.cfg
	./usr/local/share/bookpics/lighttpd.conf
	./usr/local/share/bookpics/node_modules/vue/dist/vue.esm-browser.prod.js
	./usr/local/share/bookpics/run.sh
	EOF
	grep -v "^./usr/local/share/doc/\|^./usr/local/share/bookpics/www/\|^./usr/local/share/bookpics/clients/" files >got &&
	test_cmp expect got &&
	grep -q "^./usr/local/share/bookpics/www/index.html$" files &&
	grep -q "^./usr/local/share/doc/bookpics/README.md$" files &&
	! grep -q "node_modules/\(playwright\|ws\)" files &&
	grep -q "^BOOKPICS_SHARE=/usr/local/share/bookpics$" dest/usr/local/bin/bookpics-start &&
	grep -q "^ExecStart=/usr/local/bin/bookpics-start$" dest/usr/local/lib/systemd/system/bookpics.service
'

test_expect_success 'make uninstall takes away every file it wrote' '
	$MK uninstall DESTDIR="$TRASH/dest" PREFIX=/usr/local >/dev/null &&
	(cd dest && find . -type f) >left &&
	test_line_count = 0 left
'

S=$TRASH/root
test_expect_success 'the README block, followed into a scratch prefix, gives a running site' '
	echo secret123 >twilio-token.txt &&
	readme_block | sed \
		-e "s|^make deps all$|$MK all >/dev/null|" \
		-e "s|^make install PREFIX=/usr/local$|$MK install PREFIX=$S/usr/local logrotatedir=$S/etc/logrotate.d >/dev/null|" \
		-e "s| -o www-data -g www-data||" \
		-e "s|^runuser -u www-data -- bookpics-admin|$S/usr/local/bin/bookpics-admin|" \
		-e "s|/var/lib/bookpics|$VAR|g" \
		-e "s|--port 8080|--port $PORT|" \
		-e "/^systemctl daemon-reload$/d" \
		-e "s|^systemctl enable --now bookpics$|VAR=$VAR PORT=$PORT setsid $S/usr/local/bin/bookpics-start >run.out 2>\&1 \& echo \$! >$TRASH/bookpics.pid|" \
		>steps.sh &&
	sh -e steps.sh &&
	wait_for "grep -q \"^bookpics is running on http://127.0.0.1:$PORT/\" run.out" 90 &&
	curl -sf -o /dev/null $BASE/api/health &&
	grep -q "^twilio_auth_token = secret123$" "$VAR/bookpics.conf"
'

test_expect_success 'the installed site serves the page with its Vue, and stores a signed webhook' '
	curl -sf "$BASE/" | grep -q "importmap" &&
	curl -sf -o vue.js "$BASE/vendor/vue.js" &&
	cmp vue.js "$TOP/node_modules/vue/dist/vue.esm-browser.prod.js" &&
	test "$(tw_post "MessageSid=SMI1&From=%2B15550000001&Body=installed&NumMedia=1&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fx&MediaContentType0=image%2Fjpeg")" = 200 &&
	room_lines books >actual &&
	echo "1 sms:…0001 picture installed" >expect &&
	test_cmp expect actual &&
	ls -l /proc/$(cat "$VAR/run/relay.pid")/exe | grep -q "$S/usr/local/libexec/bookpics/bookpics-relay"
'

test_expect_success 'systemd-analyze verify finds nothing wrong with the installed units' '
	systemd-analyze verify "$S/usr/local/lib/systemd/system/bookpics.service" \
		"$S/usr/local/lib/systemd/system/bookpics-relay.service" >verify.out 2>&1 &&
	grep -v "sysinit.target\|Unit .*\.target not found" verify.out >problems || : &&
	test_line_count = 0 problems
'

test_done
