#!/bin/sh
# run.sh — runs every test program given; each prints "ok NAME" / "FAIL NAME..." lines.
# Prints one line per test and ends with "N passed, N failed". Exits non-zero on any failure.
# SPDX-License-Identifier: Apache-2.0
passed=0
failed=0
top=$(cd "$(dirname "$0")/.." && pwd)
export RILL_TOP="$top"
for t in "$@"; do
	name=$(basename "$t")
	out=$(mktemp)
	case "$t" in
	*.sh) sh "$t" >"$out" 2>&1 ;;
	*.py) /usr/bin/python3 "$t" >"$out" 2>&1 ;;
	*) "./$t" >"$out" 2>&1 ;;
	esac
	rc=$?
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	grep -E '^(ok|FAIL) ' "$out"
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
		# show the detail lines of a failing program
		grep -vE '^ok ' "$out" | sed 's/^/    /' | head -40
		[ "$f" -eq 0 ] && { echo "FAIL $name: exited with status $rc"; f=1; }
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: ran no test"; f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$out"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
