#!/bin/sh
# Dependency order on wide lists: BuildStream sorts each element's dependencies with Python's
# list.sort() and a comparator that is not a total order, so from 64 dependencies on only the
# same algorithm gives the same order. Random projects of bench/gen-wide.py (lists up to 400
# wide, every dependency type and spelling) against what bst 1.6.8 printed for them
# (projects/wide/expected, made by projects/wide/record.sh), with bst's keys.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
W="$TOP/tests/e2e/projects/wide"
grep -v '^#' "$W/cases.txt" >"$TMP/cases"
while read -r n seed w; do
	case="$n-$seed-$w"
	P="$TMP/$case"
	python3 "$TOP/bench/gen-wide.py" "$n" "$P" --seed "$seed" --max-width "$w" -q
	sum=$(cd "$P" && find . -name '*.bst' -o -name project.conf | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)
	if [ "$sum" != "$(cat "$W/expected/$case.sum")" ]; then
		fail "$case: gen-wide.py makes the recorded project" "the generator's output changed: run $W/record.sh with bst installed"
		continue
	fi
	# entries in the widest list of any element (a list item starts a line with "- ")
	widest=$(find "$P/elements" -name '*.bst' -exec grep -c '^- ' {} + | cut -d: -f2 | sort -n | tail -1)
	if [ "$widest" -gt 64 ]; then
		pass "$case: lists wider than 64 ($widest)"
	else
		fail "$case: lists wider than 64" "widest: $widest"
	fi
	run_rill show --bst-keys --deps all --format '%{name} %{full-key}' target.bst
	expect_out "$case: bst's order and keys" "$(cat "$W/expected/$case.txt")"
	# the order does not depend on which keys are computed
	run_rill show --deps all --format '%{name}' target.bst
	expect_out "$case: the same order with rill's own keys" "$(cut -d' ' -f1 "$W/expected/$case.txt")"
	RILL_THREADS=1 "$RILL" -C "$P" show --deps all --format '%{name}' target.bst >"$TMP/one" 2>&1
	if cmp -s "$TMP/one" "$TMP/out"; then pass "$case: one thread sorts as two"; else fail "$case: one thread sorts as two"; fi
done <"$TMP/cases"
[ "$T_FAILS" -eq 0 ]
