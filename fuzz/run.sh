#!/bin/sh
# fuzz/run.sh BUILD SECONDS [TARGET...] - run each libFuzzer target for
# SECONDS on its committed seeds (fuzz/corpus/NAME) plus what earlier runs
# found (BUILD/corpus/NAME, never committed). A crash stops the run with the
# target's report and the input under BUILD/crashes/. Prints one line per
# target and "N passed, N failed".
#   make fuzz                       # a short run of every target
#   make fuzz FUZZ_SECONDS=3600     # an hour each, for the night
cd "$(dirname "$0")/.." || exit 1
BUILD=$1
SECONDS_EACH=$2
shift 2
passed=0
failed=0
targets=${*:-$(cd "$BUILD" && ls fuzz-* 2>/dev/null | grep -v "\\.d$")}
mkdir -p "$BUILD/crashes"
for t in $targets; do
	name=${t#fuzz-}
	mkdir -p "$BUILD/corpus/$name" "fuzz/corpus/$name"
	if "$BUILD/$t" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 \
		-rss_limit_mb=1024 -artifact_prefix="$BUILD/crashes/$name-" \
		"$BUILD/corpus/$name" "fuzz/corpus/$name" >"$BUILD/$name.log" 2>&1; then
		passed=$((passed + 1))
		echo "PASS fuzz/$name ($(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$BUILD/$name.log") runs)"
	else
		failed=$((failed + 1))
		echo "FAIL fuzz/$name"
		tail -n 40 "$BUILD/$name.log" | sed 's/^/	/'
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
