# lib-load.sh - paced webhook load with latencies, for the fault and front
# tests (t1120, t1121). Source it after test-lib.sh.

# load_webhooks URL TIMEOUT PREFIX: 2 clients x 100 webhooks signed for
# URL (secret123), one every 50 ms each, every attempt given up after
# TIMEOUT s (status 0); tw-load -l's answers in PREFIX.answers.
load_webhooks() {
	"$BUILD/tools/tw-load" -l -t "$2" -p 50 "$1" secret123 2 100 "$3" >"$3.answers"
}

# latency FILE: "p50=MS p99=MS max=MS" of tw-load -l's answers in FILE.
latency() {
	awk "{ print \$3 }" "$1" | sort -n >"$1.ms" &&
	_n=$(wc -l <"$1.ms") &&
	echo "p50=$(sed -n "$(( (_n + 1) / 2 ))p" "$1.ms") p99=$(sed -n "$(( (_n * 99 + 99) / 100 ))p" "$1.ms") max=$(tail -n 1 "$1.ms")"
}
