#!/bin/sh
# Hostile input: a 100 MB element, deep nesting, alias bombs, NUL bytes, a directory in place of
# a file. Each gets a result or one clear error; never a crash or a hang.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
new_project hostile <<'EOF2'
name: hostile
element-path: elements
EOF2

# 100 MB: a public list of ~3.5 million strings loads, and its content is in the key
awk 'BEGIN { print "kind: stack\npublic:\n  data:\n    items:"; for (i = 0; i < 3500000; i++) printf "    - item-%07d-padding-padding\n", i }' >"$P/elements/big.bst"
size=$(wc -c <"$P/elements/big.bst")
[ "$size" -ge 100000000 ] && pass "the generated element is 100 MB ($size bytes)" || fail "generated element size" "$size"
run_rill show --deps none --format '%{full-key}' big.bst
if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -Eq '^[0-9a-f]{64}$'; then pass "a 100 MB element loads and gets a key"; else fail "a 100 MB element loads and gets a key" "rc $RC: $ERR"; fi
rm -f "$P/elements/big.bst"

# a mapping with a million keys: duplicate detection stays linear
awk 'BEGIN { print "kind: manual\nvariables:"; for (i = 0; i < 1000000; i++) printf "  v%d: x\n", i; print "  v17: again" }' >"$P/elements/wide.bst"
run_rill show wide.bst
expect_error "a duplicate among a million keys is found" "elements/wide.bst [line 1000003 column 2]: Duplicate key 'v17'"
rm -f "$P/elements/wide.bst"

# deep nesting
awk 'BEGIN { printf "kind: stack\npublic: "; for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; print "" }' >"$P/elements/deep.bst"
run_rill show deep.bst
expect_error "100,000 nested lists" "nesting is too deep"
awk 'BEGIN { print "kind: stack"; ind = ""; for (i = 0; i < 2000; i++) { printf "%sk%d:\n", ind, i; ind = ind " " } printf "%sleaf: 1\n", ind }' >"$P/elements/deepmap.bst"
run_rill show deepmap.bst
expect_error "2,000 nested mappings" "elements/deepmap.bst"

# billion laughs
{
	echo "kind: stack"
	echo "public:"
	echo "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"
	i=1
	while [ $i -le 12 ]; do
		j=$((i - 1))
		echo "  a$i: &a$i [*a$j, *a$j, *a$j, *a$j, *a$j, *a$j, *a$j, *a$j, *a$j, *a$j]"
		i=$((i + 1))
	done
} >"$P/elements/laughs.bst"
run_rill show laughs.bst
expect_error "an alias bomb is refused" "aliases expand beyond the limit"

printf 'kind: stack\ndescription: "a\000b"\n' >"$P/elements/nul.bst"
run_rill show nul.bst
expect_error "NUL bytes" "elements/nul.bst"

mkdir -p "$P/elements/dir.bst"
run_rill show dir.bst
expect_error "a directory named like an element" "dir.bst is a directory"

printf 'kind: stack\ndepends: [dir.bst]\n' >"$P/elements/usesdir.bst"
run_rill show usesdir.bst
expect_error "a dependency that is a directory" "elements/usesdir.bst [line 2 column 10]: dir.bst is a directory"
# a variable bomb: 60 variables, each two copies of the next (2^61 bytes if expanded): one
# error naming the first variable over the limit, at once (bst 1.6.8 hangs on it)
python3 -c "
print('kind: manual')
print('variables:')
for i in range(60): print('  v%d: \"%%{v%d}%%{v%d}\"' % (i, i + 1, i + 1))
print('  v60: xy')
print('config:')
print('  build-commands:')
print('  - echo %{v0}')
" >"$P/elements/bomb.bst"
start=$(date +%s)
run_rill show bomb.bst
took=$(($(date +%s) - start))
expect_error "a variable bomb stops at the expansion limit" "elements/bomb.bst [line 39 column 7]: Variable 'v36' expands to more than 16 MiB"
[ "$took" -le 5 ] && pass "the variable bomb is refused within seconds (${took}s)" || fail "the variable bomb is refused within seconds" "${took}s"
# the limit is RILL_MAX_EXPANSION; a command is held to it too
a=$(printf '%0400d' 0)
printf 'kind: manual\nvariables:\n  a: "%s"\n  b: "%%{a}%%{a}"\nconfig:\n  build-commands:\n  - "%%{b}%%{b}%%{b}"\n' "$a" >"$P/elements/limit.bst"
RILL_MAX_EXPANSION=1000 run_rill show --format '%{name}' limit.bst
expect_error "a command longer than RILL_MAX_EXPANSION is an error" "elements/limit.bst [line 7 column 4]: The value expands to more than 1000 bytes"
RILL_MAX_EXPANSION=700 run_rill show --format '%{name}' limit.bst
expect_error "a variable longer than RILL_MAX_EXPANSION is an error" "elements/limit.bst [line 4 column 5]: Variable 'b' expands to more than 700 bytes"
RILL_MAX_EXPANSION=3000 run_rill show --format '%{name}' limit.bst
expect_out "values within RILL_MAX_EXPANSION are fine" "limit.bst"
rm -f "$P/elements/bomb.bst" "$P/elements/limit.bst"

# a file bigger than RILL_MAX_FILE_SIZE (256 MiB by default) is refused before it is read
head -c 3000 /dev/zero | tr '\0' '#' >"$P/elements/huge.bst"
printf '\nkind: manual\n' >>"$P/elements/huge.bst"
printf 'kind: stack\ndepends: [huge.bst]\n' >"$P/elements/usehuge.bst"
RILL_MAX_FILE_SIZE=2000 run_rill show usehuge.bst
expect_error "an element file over RILL_MAX_FILE_SIZE is refused" "elements/huge.bst: the file is bigger than 2000 bytes, the limit for an element file"
RILL_MAX_FILE_SIZE=20 run_rill show usehuge.bst
expect_error "project.conf over RILL_MAX_FILE_SIZE is refused" "project.conf: the file is bigger than 20 bytes, the limit for a YAML file"
run_rill show --format '%{name}' --deps none usehuge.bst
expect_out "under the default limit it loads" "usehuge.bst"
rm -f "$P/elements/huge.bst" "$P/elements/usehuge.bst"

finish
