#!/bin/sh
# run-all.sh BIN BUILD [PATTERN] - run the unit tests and every tNNNN script;
# print one line per script and "N passed, N failed, N skipped" at the end
# (a script skipped as a whole, for a missing prerequisite, is "SKIP").
cd "$(dirname "$0")" || exit 1
BIN=${1:-../bin}
BUILD=${2:-../build/obj}
PATTERN=${3:-}
case $BIN in /*) ;; *) BIN=$(cd "../$BIN" 2>/dev/null && pwd || echo "$BIN") ;; esac
case $BUILD in /*) ;; *) BUILD=$(cd "../$BUILD" && pwd) ;; esac
export BIN BUILD
passed=0
failed=0
skipped=0
failures=

for t in "$BUILD"/unit/*; do
	[ -x "$t" ] || continue
	name=unit/$(basename "$t")
	case $name in *$PATTERN*) ;; *) continue ;; esac
	if out=$("$t" 2>&1); then
		passed=$((passed + 1)); echo "PASS $name"
	else
		failed=$((failed + 1)); failures="$failures $name"
		echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/	/'
	fi
done
for t in t[0-9]*.sh; do
	case $t in *$PATTERN*) ;; *) continue ;; esac
	start=$(date +%s)
	if out=$(sh "$t" 2>&1); then
		why=$(printf '%s\n' "$out" | sed -n 's/^1\.\.0 # SKIP //p')
		if [ -n "$why" ]; then
			skipped=$((skipped + 1)); echo "SKIP $t ($why)"
			continue
		fi
		n=$(printf '%s\n' "$out" | grep -c '^ok [0-9]* # skip ')
		extra=
		[ "$n" = 0 ] || extra=", $n tests skipped"
		passed=$((passed + 1)); echo "PASS $t ($(( $(date +%s) - start )) s$extra)"
	else
		failed=$((failed + 1)); failures="$failures $t"
		echo "FAIL $t"; printf '%s\n' "$out" | sed 's/^/	/'
	fi
done
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
