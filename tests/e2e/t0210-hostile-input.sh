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
expect_error "a duplicate among a million keys is found" "wide.bst [line 1000003 column 2]: Duplicate key 'v17'"
rm -f "$P/elements/wide.bst"

# deep nesting
awk 'BEGIN { printf "kind: stack\npublic: "; for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; print "" }' >"$P/elements/deep.bst"
run_rill show deep.bst
expect_error "100,000 nested lists" "nesting is too deep"
awk 'BEGIN { print "kind: stack"; ind = ""; for (i = 0; i < 2000; i++) { printf "%sk%d:\n", ind, i; ind = ind " " } printf "%sleaf: 1\n", ind }' >"$P/elements/deepmap.bst"
run_rill show deepmap.bst
expect_error "2,000 nested mappings" "deepmap.bst [line"

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
expect_error "NUL bytes" "nul.bst [line"

mkdir -p "$P/elements/dir.bst"
run_rill show dir.bst
expect_error "a directory named like an element" "dir.bst is a directory"

printf 'kind: stack\ndepends: [dir.bst]\n' >"$P/elements/usesdir.bst"
run_rill show usesdir.bst
expect_error "a dependency that is a directory" "usesdir.bst [line 2 column 10]: dir.bst is a directory"
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
expect_error "a variable bomb stops at the expansion limit" "bomb.bst [line 39 column 7]: Variable 'v36' expands to more than 16 MiB"
[ "$took" -le 5 ] && pass "the variable bomb is refused within seconds (${took}s)" || fail "the variable bomb is refused within seconds" "${took}s"
# the limit is RILL_MAX_EXPANSION; a command is held to it too
a=$(printf '%0400d' 0)
printf 'kind: manual\nvariables:\n  a: "%s"\n  b: "%%{a}%%{a}"\nconfig:\n  build-commands:\n  - "%%{b}%%{b}%%{b}"\n' "$a" >"$P/elements/limit.bst"
RILL_MAX_EXPANSION=1000 run_rill show --format '%{name}' limit.bst
expect_error "a command longer than RILL_MAX_EXPANSION is an error" "limit.bst [line 7 column 4]: The value expands to more than 1000 bytes"
RILL_MAX_EXPANSION=700 run_rill show --format '%{name}' limit.bst
expect_error "a variable longer than RILL_MAX_EXPANSION is an error" "limit.bst [line 4 column 5]: Variable 'b' expands to more than 700 bytes"
RILL_MAX_EXPANSION=3000 run_rill show --format '%{name}' limit.bst
expect_out "values within RILL_MAX_EXPANSION are fine" "limit.bst"
rm -f "$P/elements/bomb.bst" "$P/elements/limit.bst"

# a file bigger than RILL_MAX_FILE_SIZE (256 MiB by default) is refused before it is read
head -c 3000 /dev/zero | tr '\0' '#' >"$P/elements/huge.bst"
printf '\nkind: manual\n' >>"$P/elements/huge.bst"
printf 'kind: stack\ndepends: [huge.bst]\n' >"$P/elements/usehuge.bst"
RILL_MAX_FILE_SIZE=2000 run_rill show usehuge.bst
expect_error "an element file over RILL_MAX_FILE_SIZE is refused" "huge.bst: the file is bigger than 2000 bytes, the limit for an element file"
RILL_MAX_FILE_SIZE=20 run_rill show usehuge.bst
expect_error "project.conf over RILL_MAX_FILE_SIZE is refused" "project.conf: the file is bigger than 20 bytes, the limit for a YAML file"
run_rill show --format '%{name}' --deps none usehuge.bst
expect_out "under the default limit it loads" "usehuge.bst"
rm -f "$P/elements/huge.bst" "$P/elements/usehuge.bst"

# a chain of definitions, each one byte longer than the next: no value is over the limit, but
# together they would build 20 GB; the scope's total is held to 4 times RILL_MAX_EXPANSION
python3 -c "
print('kind: manual')
print('variables:')
for i in range(200000): print('  v%d: \"%%{v%d}x\"' % (i, i + 1))
print('  v200000: end')
" >"$P/elements/chain.bst"
start=$(date +%s)
run_rill show --format '%{name}' chain.bst
took=$(($(date +%s) - start))
expect_error "a quadratic chain of variables stops at the scope's limit" "the variables of this element expand to more than 67108864 bytes together"
printf '%s' "$ERR" | grep -q 'chain.bst \[line [0-9]* column 11\]' && pass "the chain's error names the file and position" || fail "the chain's error names the file and position" "$ERR"
[ "$took" -le 5 ] && pass "the chain is refused within seconds (${took}s)" || fail "the chain is refused within seconds" "${took}s"
rm -f "$P/elements/chain.bst"

# an include diamond: 40 files, each including the next twice (2^40 inclusions)
mkdir -p "$P/inc"
i=0
while [ $i -lt 40 ]; do
	printf '(@): [inc/f%d.yml, inc/f%d.yml]\nx%d: 1\n' $((i + 1)) $((i + 1)) $i >"$P/inc/f$i.yml"
	i=$((i + 1))
done
printf 'leaf: 1\n' >"$P/inc/f40.yml"
printf 'kind: stack\n(@): inc/f0.yml\n' >"$P/elements/diamond.bst"
run_rill show diamond.bst
expect_error "an include bomb is refused" "Too many includes: more than 10000 processed for one file"
printf '%s' "$ERR" | grep -q 'inc/f[0-9]*.yml \[line 1 column [0-9]*\]' && pass "the include bomb's error names a file" || fail "the include bomb's error names a file" "$ERR"
# a loop of includes
printf '(@): inc/loop2.yml\n' >"$P/inc/loop1.yml"
printf '(@): inc/loop1.yml\n' >"$P/inc/loop2.yml"
printf 'kind: stack\n(@): inc/loop1.yml\n' >"$P/elements/loop.bst"
run_rill show loop.bst
expect_error "an include loop is refused" "inc/loop2.yml [line 1 column 5]: trying to recursively include inc/loop1.yml"
rm -rf "$P/inc" "$P/elements/diamond.bst" "$P/elements/loop.bst"

# the number of elements and of dependencies
mkdir -p "$P/elements/many"
i=0
while [ $i -lt 30 ]; do printf 'kind: stack\n' >"$P/elements/many/e$i.bst"; i=$((i + 1)); done
{ echo "kind: stack"; echo "depends:"; i=0; while [ $i -lt 30 ]; do echo "- many/e$i.bst"; i=$((i + 1)); done; } >"$P/elements/wide30.bst"
RILL_MAX_ELEMENTS=20 run_rill show wide30.bst
expect_error "more elements than RILL_MAX_ELEMENTS is an error" "The project has more than 20 elements, the limit (RILL_MAX_ELEMENTS)"
printf '%s' "$ERR" | grep -q 'many/e[0-9]*.bst \[line 1 column 0\]' && pass "the element limit names the file over it" || fail "the element limit names the file over it" "$ERR"
RILL_MAX_DEPENDENCIES=29 run_rill show wide30.bst
expect_error "more dependencies than RILL_MAX_DEPENDENCIES is an error" "wide30.bst [line 3 column 0]: The element has more than 29 dependencies, the limit (RILL_MAX_DEPENDENCIES)"
RILL_MAX_TOTAL_DEPENDENCIES=29 run_rill show wide30.bst
expect_error "more dependencies in all than RILL_MAX_TOTAL_DEPENDENCIES is an error" "wide30.bst [line 3 column 0]: The project lists more than 29 dependencies in all, the limit (RILL_MAX_TOTAL_DEPENDENCIES)"
RILL_MAX_ELEMENTS=31 RILL_MAX_DEPENDENCIES=30 RILL_MAX_TOTAL_DEPENDENCIES=30 run_rill show --deps all --format '%{name}' wide30.bst
[ "$RC" -eq 0 ] && [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 31 ] && pass "at the limits the project loads" || fail "at the limits the project loads" "rc $RC: $ERR"
rm -rf "$P/elements/many" "$P/elements/wide30.bst"

# out of memory (under a 300 MB address-space limit, with the expansion limit lifted) is exit
# status 1 and names the file; not under a sanitizer, whose shadow memory needs more
if ! nm "$TOP/rill-backend" 2>/dev/null | grep -q __asan_init; then
	python3 -c "
print('kind: manual')
print('variables:')
for i in range(40): print('  v%d: \"%%{v%d}%%{v%d}\"' % (i, i + 1, i + 1))
print('  v40: xy')
" >"$P/elements/oom.bst"
	(ulimit -v 307200; RILL_MAX_EXPANSION=100000000000 run_rill show oom.bst; echo "$RC" >"$TMP/rc"; printf '%s' "$ERR" >"$TMP/err2")
	RC=$(cat "$TMP/rc")
	ERR=$(cat "$TMP/err2")
	OUT=
	expect_error "running out of memory is exit status 1 with the file's name" "rill: oom.bst: out of memory"
	rm -f "$P/elements/oom.bst"
fi

finish
