#!/bin/sh
test_description='groups: a picture texted to one site is on the wall of every site, fetched from Twilio and cleaned by each'
. ./test-lib.sh
. "$TEST_DIR/lib-group.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
SID=ACfake0123456789abcdef
TOKEN=secret123			# the group's twilio_auth_token (site_conf)
AUX_PORT=$((GROUP_BASE + 9))	# past the sites' ports
FAKE_LOG=$GROUP_ROOT/fake.log
TW=http://127.0.0.1:$AUX_PORT/2010-04-01/Accounts/$SID/Messages
IMG=$TOP/tests/tools/img.mjs
trap 'stop_sites; stop_fake' EXIT
trap 'exit 1' TERM INT

# get_at N PATH: PATH at site N into ./body; prints the status.
get_at() {
	use_site "$1" &&
	curl -s -m 40 -o body -w '%{http_code}\n' "$BASE$2"
}

# fetched NAME: how many times a site asked the fake Twilio API for NAME.
fetched() {
	grep -c "/Media/$1 host=" "$FAKE_LOG" || true
}

start_fake || { echo "fake Twilio did not start"; cat "$GROUP_ROOT/fake.out"; exit 1; }

test_expect_success 'three sites with the group s Twilio account; site 2 takes a picture' '
	for n in 1 2 3; do
		site_conf $n &&
		set_conf twilio_account_sid "$SID" &&
		set_conf media_hosts "http://127.0.0.1:$AUX_PORT" || return 1
	done &&
	start_sites &&
	use_site 2 &&
	test "$(TRASH=$GROUP_ROOT tw_post "MessageSid=MM9570&AccountSid=$SID&From=%2B14155550100&To=%2B18005551212&Body=pic&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=$TW/MM9570/Media/pic-30000")" = 200 &&
	for n in 1 2 3; do
		wait_for "test \"\$(last_of $n)\" = 1" 10 || return 1
	done
'

test_expect_success 'every site serves the clean picture: no metadata, the upstream bytes nowhere' '
	node "$TOP/tests/tools/fake-twilio.mjs" --print pic-30000 >upstream.jpg &&
	node "$IMG" info upstream.jpg | cut -d" " -f1,2 >expect &&
	for n in 1 2 3; do
		test "$(get_at $n /media/books/1/0)" = 200 &&
		node "$IMG" info body >info.$n &&
		cut -d" " -f1,2 info.$n >actual && test_cmp expect actual &&
		! grep -E "COM|APP1|APP2|APP13" info.$n &&
		! cmp -s upstream.jpg body || return 1
	done
'

test_expect_success 'each site fetched it once (the receiving site at the webhook), none again' '
	test "$(fetched pic-30000)" = 3 &&
	for n in 1 2 3; do
		test "$(get_at $n /media/books/1/0)" = 200 || return 1
	done &&
	test "$(fetched pic-30000)" = 3
'

# Behind a load balancer a browser revalidates at whichever site it
# reaches: the clean picture is the same bytes, under the same ETag, at
# every site (the variants are made where the picture was prefetched).
test_expect_success 'the same file and ETag at every site: a revalidation at another site is a 304' '
	for n in 1 2 3; do
		ls "$GROUP_ROOT/s$n/var/media/books" | grep -v "[.]webp$" || return 1
	done >files &&
	sort -u files >names && test_line_count = 1 names &&
	cmp "$GROUP_ROOT/s1/var/media/books/$(cat names)" "$GROUP_ROOT/s3/var/media/books/$(cat names)" &&
	use_site 1 &&
	etag=$(curl -s -o /dev/null -D - "$BASE/media/books/1/0" | tr -d "\r" | sed -n "s/^etag: //Ip") &&
	test -n "$etag" &&
	use_site 3 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "If-None-Match: $etag" "$BASE/media/books/1/0")" = 304
'

test_expect_success 'hidden at site 3: the picture is gone from every site s wall within 5 s' '
	use_site 3 && admin message hide books 1 &&
	for n in 1 2 3; do
		wait_for "test \"\$(get_at $n /media/books/1/0)\" = 404" 5 || return 1
	done &&
	grep -q "\"error\":\"not_found\"" body
'

stop_sites
test_done
