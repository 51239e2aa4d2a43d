#!/bin/sh
test_description='pictures: what /media serves is cleaned (upright, no metadata), WebP variants, bombs and junk refused, prefetched after the webhook'
. ./test-lib.sh

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
SID=ACfake0123456789abcdef
TOKEN=fake-auth-token-42
TW=http://127.0.0.1:$AUX_PORT/2010-04-01/Accounts/$SID/Messages
IMG=$TOP/tests/tools/img.mjs
FAKE_LOG=$TRASH/fake.log
FX=$TRASH/fx
CONF=$VAR/bookpics.conf
trap 'stop_fake; stop_bookpics' EXIT

# The fixtures, made here with libvips and img.mjs: nothing is downloaded.
mkdir -p "$FX" &&
vips gaussnoise "$FX/n.v" 64 48 --seed 3 &&
vips jpegsave "$FX/n.v" "$FX/plain.jpg" --Q 80 --strip &&
node "$IMG" exif "$FX/plain.jpg" "$FX/exif.jpg" &&
vips pngsave "$FX/n.v" "$FX/plain.png" &&
node "$IMG" pngtext "$FX/plain.png" "$FX/text.png" &&
vips gifsave "$FX/n.v" "$FX/still.gif" &&
vips sines "$FX/s.v" 2000 1000 --hfreq 3 --vfreq 2 &&
vips linear "$FX/s.v" "$FX/s8.v" 100 128 --uchar &&
vips jpegsave "$FX/s8.v" "$FX/wide.jpg" --Q 85 &&
vips resize "$FX/s8.v" "$FX/small.jpg" 0.1 &&
vips black "$FX/bomb.png[compression=9,bitdepth=1]" 20000 20000 &&
vips jpegsave "$FX/s8.v" "$FX/whole.jpg" &&
head -c $(( $(wc -c <"$FX/whole.jpg") * 6 / 10 )) "$FX/whole.jpg" >"$FX/truncated.jpg" &&
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jane Roe\r\nEND:VCARD\r\n' >"$FX/card.vcf" &&
printf 'not a picture at all, just words' >"$FX/junk.heic" &&
vips sines "$FX/p.v" 3000 4000 --hfreq 3 --vfreq 4 &&
vips linear "$FX/p.v" "$FX/p8.v" 100 128 --uchar &&
vips bandjoin "$FX/p8.v $FX/p8.v $FX/p8.v" "$FX/p3.v" &&
vips jpegsave "$FX/p3.v" "$FX/phone.jpg" --Q 85 &&
rm -f "$FX"/*.v || { echo "could not make the fixtures"; exit 1; }

: >"$FAKE_LOG"
node "$TOP/tests/tools/fake-twilio.mjs" --port "$AUX_PORT" --log "$FAKE_LOG" \
	--sid "$SID" --token "$TOKEN" --dir "$FX" >"$TRASH/fake.out" 2>&1 &
echo $! >"$TRASH/fake.pid"
wait_for "grep -q '^listening' '$FAKE_LOG'" 10 || { echo "fake Twilio did not start"; exit 1; }
start_bookpics || exit 1

# post MSGSID FILE:TYPE... - a webhook with the fake's fx-FILE media declared as TYPE.
post() {
	_msg=$1
	shift
	_form="MessageSid=$_msg&From=%2B14155550100&Body=pic&NumMedia=$#"
	_i=0
	for _m in "$@"; do
		_t=$(printf %s "${_m#*:}" | sed 's|/|%2F|g')
		_form="$_form&MediaContentType$_i=$_t&MediaUrl$_i=$TW/$_msg/Media/fx-${_m%%:*}"
		_i=$((_i + 1))
	done
	tw_post "$_form"
}

get() {
	_p=$1
	shift
	rm -f headers body
	curl -s -m 40 -D headers -o body -w '%{http_code}\n' "$@" "$BASE$_p"
}

header() {
	tr -d '\r' <headers | sed -n "s/^$1: //Ip"
}

info() {
	node "$IMG" info "$1"
}

seen() {
	grep -c -- "/cdn/fx-$1 " "$FAKE_LOG" || true
}

media_files() {
	(cd "$VAR/media" && find . -type f ! -name "*.bad" | sort)
}

test_expect_success 'setup: account, the fake allowed, prefetch off for the cleaning tests' '
	admin twilio-account "$SID" && admin twilio-token "$TOKEN" &&
	sed -i -e "s|^media_hosts *=.*|media_hosts = http://127.0.0.1:$AUX_PORT|" \
		-e "s|^media_prefetch *=.*|media_prefetch = off|" "$CONF" &&
	info "$FX/exif.jpg" >actual &&
	echo "jpeg 64x48 SOI APP1 APP1 APP13 COM DQT SOF0 DHT DHT SOS" >expect &&
	test_cmp expect actual &&
	vipsheader -f orientation "$FX/exif.jpg" >actual && echo 6 >expect && test_cmp expect actual &&
	vipsheader -f exif-ifd3-GPSLatitude "$FX/exif.jpg" | grep -q "^48/1 51/1 24/1" &&
	info "$FX/text.png" | grep -q "IHDR tEXt iTXt zTXt eXIf"
'

test_expect_success 'a JPEG with EXIF GPS, make, model, orientation 6, XMP, IPTC, a comment: upright, none of it left' '
	test "$(post MM1 exif.jpg:image/jpeg)" = 200 &&
	test "$(get /media/books/1/0)" = 200 &&
	test "$(header Content-Type)" = image/jpeg &&
	info body >actual &&
	cut -d" " -f1,2 actual >dims && echo "jpeg 48x64" >expect && test_cmp expect dims &&
	! grep -E "APP1|APP2|APP13|COM" actual &&
	! grep -a -e PhoneMaker -e SpyCam -e Jane -e "Main St" -e xmpmeta body &&
	test "$(vipsheader -f orientation body 2>/dev/null || echo none)" != 6
'

test_expect_success 'the bytes Twilio served are not kept: only the clean file' '
	media_files >actual &&
	etag=$(header ETag | tr -d "\"") &&
	echo "./books/1-0-$etag" >expect &&
	test_cmp expect actual &&
	test -z "$(ls "$VAR/media/tmp")"
'

test_expect_success 'a PNG with tEXt, iTXt, zTXt and eXIf chunks: none left (the eXIf orientation 6 applied)' '
	test "$(post MM2 text.png:image/png)" = 200 &&
	test "$(get /media/books/2/0)" = 200 &&
	test "$(header Content-Type)" = image/png &&
	info body >actual &&
	! grep -E "tEXt|iTXt|zTXt|eXIf" actual &&
	cut -d" " -f1,2 actual >dims && echo "png 48x64" >expect && test_cmp expect dims &&
	! grep -a -e Jane -e GPS -e "Main St" body
'

test_expect_success 'variants 320, 640, 1280: WebP, at most w wide, proportional, kept' '
	rm -f actual &&
	test "$(post MM3 wide.jpg:image/jpeg small.jpg:image/jpeg)" = 200 &&
	for w in 320 640 1280; do
		test "$(get /media/books/3/0/$w)" = 200 &&
		test "$(header Content-Type)" = image/webp &&
		info body | cut -d" " -f1,2 >>actual || return 1
	done &&
	cat >expect <<-\EOF &&
	webp 320x160
	webp 640x320
	webp 1280x640
	EOF
	test_cmp expect actual &&
	media_files | grep "books/3-0-" | sed "s/-[0-9a-f]\{16\}//" >files &&
	cat >expect <<-\EOF &&
	./books/3-0
	./books/3-0-1280.webp
	./books/3-0-320.webp
	./books/3-0-640.webp
	EOF
	test_cmp expect files &&
	test "$(seen wide.jpg)" = 1
'

test_expect_success 'never enlarged: a 200x100 picture stays 200x100 in every variant' '
	rm -f actual &&
	for w in 320 640 1280; do
		test "$(get /media/books/3/1/$w)" = 200 &&
		info body | cut -d" " -f1,2 >>actual || return 1
	done &&
	printf "webp 200x100\nwebp 200x100\nwebp 200x100\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a variant: ETag of its own, 304, sent by lighttpd (X-Sendfile); other widths 404' '
	get /media/books/3/0/640 >/dev/null &&
	etag=$(header ETag) &&
	get /media/books/3/0 >/dev/null && test "$(header ETag)" != "$etag" &&
	echo "$etag" | grep -q "^\"[0-9a-f]\{16\}-640\"\$" &&
	test "$(get /media/books/3/0/640 -H "If-None-Match: $etag")" = 304 &&
	test -n "$(get /media/books/3/0/640 >/dev/null; header Last-Modified)" &&
	for p in 0 100 321 2048 0640 640/x 640/; do
		test "$(get /media/books/3/0/$p)" = 404 &&
		grep -q "^{\"error\":\"not_found\"" body || { echo "failed: $p"; return 1; }
	done
'

test_expect_success 'a 20000x20000 PNG and a truncated JPEG: 502, nothing kept' '
	test "$(post MM4 bomb.png:image/png truncated.jpg:image/jpeg)" = 200 &&
	test "$(get /media/books/4/0)" = 502 &&
	grep -q "^{\"error\":\"bad_gateway\",\"message\":\"the media is not a picture" body &&
	test "$(get /media/books/4/1/320)" = 502 &&
	grep -q "not a picture" body &&
	! media_files | grep -q "books/4-" &&
	ls "$VAR/media/tmp" >tmp &&
	printf "books.4.0.bad\nbooks.4.1.bad\n" >expect && test_cmp expect tmp &&
	grep -q "^media: books/4/0: decode .*: 20000x20000 is more than 50000000 pixels" "$VAR/log/lighttpd.log" &&
	grep -q "^media: books/4/1: " "$VAR/log/lighttpd.log"
'

test_expect_success 'a bad picture is remembered: asked again, no new fetch (no credentials sent again)' '
	n=$(seen bomb.png) &&
	test "$(get /media/books/4/0)" = 502 &&
	test "$(get /media/books/4/0/640)" = 502 &&
	test "$(seen bomb.png)" = "$n" &&
	touch -d "6 minutes ago" "$VAR/media/tmp/books.4.0.bad" &&
	test "$(get /media/books/4/0)" = 502 &&
	test "$(seen bomb.png)" = $((n + 1))
'

test_expect_success 'a GIF: its first frame as PNG; an image type that is not an image: 502' '
	test "$(post MM5 still.gif:image/gif junk.heic:image/heic)" = 200 &&
	test "$(get /media/books/5/0)" = 200 &&
	test "$(header Content-Type)" = image/png &&
	info body | cut -d" " -f1,2 >actual && echo "png 64x48" >expect && test_cmp expect actual &&
	test "$(get /media/books/5/0/320)" = 200 &&
	info body | cut -d" " -f1,2 >actual && echo "webp 64x48" >expect && test_cmp expect actual &&
	test "$(get /media/books/5/1)" = 502 &&
	! media_files | grep -q "books/5-1-"
'

test_expect_success 'non-image media (vCard, video): 404, never fetched' '
	test "$(post MM6 card.vcf:text/vcard plain.jpg:video/mp4)" = 200 &&
	test "$(get /media/books/6/0)" = 404 &&
	grep -q "^{\"error\":\"not_found\",\"message\":\"media item 0 of message 6 is not a picture: not shown\"}" body &&
	test "$(get /media/books/6/1/320)" = 404 &&
	test "$(seen card.vcf)" = 0 && test "$(seen plain.jpg)" = 0
'

test_expect_success 'prefetch on: after the webhook the picture and its variants are made, the first request is a cache hit' '
	sed -i "s|^media_prefetch *=.*|media_prefetch = off|; s|^media_prefetch *=.*|media_prefetch = on|" "$CONF" &&
	test "$(post MM7 exif.jpg:image/jpeg card.vcf:text/vcard)" = 200 &&
	wait_for "grep -q \"^prefetch: books/7/0: ready in\" \"$VAR/log/lighttpd.log\"" 20 &&
	media_files | grep "books/7-" | sed "s/-[0-9a-f]\{16\}//" >files &&
	printf "./books/7-0\n./books/7-0-1280.webp\n./books/7-0-320.webp\n./books/7-0-640.webp\n" >expect &&
	test_cmp expect files &&
	before=$(wc -l <"$FAKE_LOG") &&
	grep -q "/MM7/Media/fx-exif.jpg host=.* auth=Basic " "$FAKE_LOG" &&
	test "$(get /media/books/7/0/320)" = 200 &&
	info body | cut -d" " -f1,2 >actual && echo "webp 48x64" >expect && test_cmp expect actual &&
	test "$(get /media/books/7/0)" = 200 &&
	test "$(wc -l <"$FAKE_LOG")" = "$before" &&
	test "$(seen card.vcf)" = 0
'

# The first viewer after a webhook: the wall hears of the picture at once
# and asks for its thumbnail; the time until the thumbnail arrives.
test_expect_success 'first-view latency after a webhook (a 3000x4000 JPEG, kept 1536x2048), Twilio answered first' '
	t0=$(date +%s%N) &&
	test "$(post MM8 phone.jpg:image/jpeg)" = 200 &&
	t1=$(date +%s%N) &&
	test "$(get /media/books/8/0/640)" = 200 &&
	t2=$(date +%s%N) &&
	info body | cut -d" " -f1,2 >actual && echo "webp 640x853" >expect && test_cmp expect actual &&
	test "$(seen phone.jpg)" = 1 &&
	wait_for "grep -q \"^prefetch: books/8/0: ready in\" \"$VAR/log/lighttpd.log\"" 20 &&
	ready=$(sed -n "s/^prefetch: books\/8\/0: ready in \([0-9]*\) ms/\1/p" "$VAR/log/lighttpd.log") &&
	t3=$(date +%s%N) &&
	test "$(get /media/books/8/0/320)" = 200 &&
	t4=$(date +%s%N) &&
	echo "webhook answered in $(( (t1 - t0) / 1000000 )) ms; thumbnail (640) served $(( (t2 - t0) / 1000000 )) ms after the webhook; prefetch ready in $ready ms; a cached thumbnail in $(( (t4 - t3) / 1000000 )) ms" >"$TRASH/first-view.txt" &&
	test $(( (t1 - t0) / 1000000 )) -lt $(( (t2 - t0) / 1000000 ))
'

echo "# $(cat "$TRASH/first-view.txt" 2>/dev/null)"
stop_fake
test_done
