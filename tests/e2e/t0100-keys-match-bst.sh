#!/bin/sh
# Cache keys, element order and states of a project using every element and source kind,
# options, includes, conditionals, list directives and strict dependencies must equal what
# BuildStream 1.6.8 printed for the same project (projects/keys/expected-*.txt, made by regen.sh).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
P="$TOP/tests/e2e/projects/keys"
fmt='%{name} %{full-key} %{state}'

run_rill show --deps all --format "$fmt" all.bst
expect_out "default options: same keys, order and states as bst" "$(cat "$P/expected-default.txt")"

run_rill -o debug True -o flavour fancy -o features a,c show --deps all --format "$fmt" all.bst
expect_out "options set on the command line: same keys as bst" "$(cat "$P/expected-options.txt")"

# the options change some keys but not all
changed=$(diff "$P/expected-default.txt" "$P/expected-options.txt" | grep -c '^<')
if [ "$changed" -gt 0 ] && [ "$changed" -lt "$(wc -l <"$P/expected-default.txt")" ]; then
	pass "options change the keys of the elements they affect ($changed)"
else
	fail "options change the keys of the elements they affect" "changed: $changed"
fi
finish
