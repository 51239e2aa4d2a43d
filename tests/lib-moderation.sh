# lib-moderation.sh - the moderation tests' helpers (t14xx); source after test-lib.sh.

EMPTY='<?xml version="1.0" encoding="UTF-8"?><Response/>'

# pic SID FROM4 BODY: a signed picture webhook from +1415555FROM4; prints the status.
pic() {
	tw_post "MessageSid=$1&From=%2B1415555$2&Body=$3&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=http%3A%2F%2F127.0.0.1%3A$AUX_PORT%2Fm%2F$1"
}

# api METHOD PATH [TOKEN]: prints the status, the body goes to ./body.
# A POST carries an empty body: lighttpd answers a POST without Content-Length 411.
api() {
	if [ "$1" = POST ]; then
		curl -s -o body -w '%{http_code}\n' ${3:+-H "Authorization: Bearer $3"} --data-binary "" "$BASE$2"
	else
		curl -s -o body -w '%{http_code}\n' ${3:+-H "Authorization: Bearer $3"} -X "$1" "$BASE$2"
	fi
}
