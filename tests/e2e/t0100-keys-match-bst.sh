#!/bin/sh
# Cache keys, element order and states of a project using every element and source kind,
# options, includes, conditionals, list directives and strict dependencies must equal what
# BuildStream 1.6.8 printed for the same project (projects/keys/expected-*.txt, made by regen.sh).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
P="$TOP/tests/e2e/projects/keys"
fmt='%{name} %{full-key} %{state}'

run_rill show --bst-keys --deps all --format "$fmt" all.bst
expect_out "default options: same keys, order and states as bst" "$(cat "$P/expected-default.txt")"

run_rill -o debug True -o flavour fancy -o features a,c show --bst-keys --deps all --format "$fmt" all.bst
expect_out "options set on the command line: same keys as bst" "$(cat "$P/expected-options.txt")"

# the options change some keys but not all
changed=$(diff "$P/expected-default.txt" "$P/expected-options.txt" | grep -c '^<')
if [ "$changed" -gt 0 ] && [ "$changed" -lt "$(wc -l <"$P/expected-default.txt")" ]; then
	pass "options change the keys of the elements they affect ($changed)"
else
	fail "options change the keys of the elements they affect" "changed: $changed"
fi

# rill's own keys (the default) differ from bst's but know and don't know the same elements
run_rill show --deps all --format "$fmt" all.bst
rill_view=$(printf '%s\n' "$OUT" | awk '{ print $1, ($2 ~ /^\?+$/ ? "unknown" : "known"), $3, $4 }')
bst_view=$(awk '{ print $1, ($2 ~ /^\?+$/ ? "unknown" : "known"), $3, $4 }' "$P/expected-default.txt")
expect_out_of() { [ "$1" = "$2" ] && pass "$3" || fail "$3" "rill: $1
bst: $2"; }
expect_out_of "$rill_view" "$bst_view" "default keys: same elements, order, states and known keys as bst"
if [ "$(printf '%s\n' "$OUT" | awk '{print $2}' | sort -u | wc -l)" -eq "$(awk '{print $2}' "$P/expected-default.txt" | sort -u | wc -l)" ] &&
	! printf '%s\n' "$OUT" | grep -qF "$(head -1 "$P/expected-default.txt" | cut -d' ' -f2)"; then
	pass "default keys are rill's own (distinct per element, not bst's)"
else
	fail "default keys are rill's own (distinct per element, not bst's)" "$OUT"
fi
# a project with a junction (local source, options passed by the junction): projects/junction
JP="$TOP/tests/e2e/projects/junction"
"$RILL" -C "$JP" show --bst-keys --deps all --format "$fmt" t.bst sub.bst >"$TMP/out" 2>"$TMP/err"
RC=$?
OUT=$(cat "$TMP/out")
ERR=$(cat "$TMP/err")
expect_out "junction project: same keys, order and states as bst (subproject and junction elements)" "$(cat "$JP/expected.txt")"
finish
