#!/bin/sh
# run.sh SECONDS NAME... — runs each libFuzzer harness tests/fuzz/fuzz-NAME for SECONDS from its
# seed corpus (tests/fuzz/corpus/NAME, read only: new inputs go to a scratch corpus), then prints
# one line per harness with its executions and crashes, and a total. A crash is copied to
# tests/fuzz/crashes/NAME/ (add it to tests/fuzz/regress/NAME/ once fixed). Exits 1 on a crash.
# RILL_FUZZ_JOBS runs that many workers per harness (default 1).
# SPDX-License-Identifier: Apache-2.0
secs=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/rill-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
total=0
crashed=0
for name in "$@"; do
	mkdir -p "$work/$name" "$top/tests/fuzz/crashes/$name"
	log="$work/$name.log"
	# -rss_limit_mb: a leak or a blow-up is a finding; -timeout: so is one input over 10 s
	"$top/tests/fuzz/fuzz-$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix="$top/tests/fuzz/crashes/$name/" \
		-dict="$top/tests/fuzz/dict/$name.dict" \
		"$work/$name" "$top/tests/fuzz/corpus/$name" "$top/tests/fuzz/regress/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$execs" ] || execs=0
	found=$(find "$top/tests/fuzz/crashes/$name" -type f | wc -l)
	total=$((total + execs))
	if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
		crashed=$((crashed + 1))
		echo "fuzz-$name: $execs executions in ${secs}s, CRASH (exit $rc; inputs in tests/fuzz/crashes/$name):"
		grep -E 'ERROR|fuzz: |SUMMARY' "$log" | head -5 | sed 's/^/    /'
	else
		echo "fuzz-$name: $execs executions in ${secs}s, no crash ($(ls "$work/$name" | wc -l) new corpus inputs)"
	fi
done
echo "$total executions, $crashed harnesses crashed"
[ "$crashed" -eq 0 ]
