#!/bin/sh
# t0450 — `rill build --track`: the selected elements are tracked first, refs are written back
# (inline or project.refs), and the build uses the new refs and their keys; --track-all,
# --track-except (bst's except_elements selection), -J, --track-save, fetch --track, and the
# usage errors.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

commit() { (cd "$TMP/repo" && echo "$1" >f.txt && git add f.txt && git -c user.email=t@t -c user.name=t commit -qm "$1") && git -C "$TMP/repo" rev-parse HEAD; }
git init -q "$TMP/repo"
first=$(commit one)
git -C "$TMP/repo" branch -m main
git init -q "$TMP/repo2"
(cd "$TMP/repo2" && echo lib >lib.txt && git add lib.txt && git -c user.email=t@t -c user.name=t commit -qm lib && git branch -m main)
lib_first=$(git -C "$TMP/repo2" rev-parse HEAD)

busybox_project trk
cat >>"$P/project.conf" <<EOF2
aliases:
  repos: file://$TMP/
EOF2
element g.bst <<EOF2
kind: import
sources:
- kind: git
  url: repos:repo
  track: main
  ref: $first
EOF2
element lib.bst <<EOF2
kind: import
sources:
- kind: git
  url: repos:repo2
  track: main
  ref: $lib_first
EOF2
element top.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
- g.bst
- lib.bst
config:
  install-commands:
  - mkdir -p %{install-root}/out && cat /f.txt /lib.txt >%{install-root}/out/all.txt
EOF2

run_rill build top.bst
run_rill artifact checkout --deps none --directory "$TMP/c1" top.bst
[ "$(cat "$TMP/c1/out/all.txt" 2>/dev/null | tr '\n' ' ')" = "one lib " ] && pass "built at the pinned commits" || fail "first build" "$ERR"

# the branch moves on; a plain build keeps the pinned commit
second=$(commit two)
run_rill build top.bst
grep -q "ref: $first" "$P/elements/g.bst" && pass "a build without --track keeps the ref" || fail "ref kept"
old_key=$(key_of g.bst)

# build --track g.bst: g is tracked (lib is not), the build uses the new commit
(cd "$TMP/repo2" && echo lib2 >lib.txt && git -c user.email=t@t -c user.name=t commit -qam lib2)
run_rill build --track g.bst top.bst
[ "$RC" -eq 0 ] && pass "build --track succeeds" || fail "build --track" "$ERR"
grep -q "^  ref: $second\$" "$P/elements/g.bst" && pass "the element file holds the new ref" ||
	fail "ref written" "$(cat "$P/elements/g.bst")"
grep -q "ref: $lib_first" "$P/elements/lib.bst" && pass "an element not selected is not tracked" || fail "lib tracked"
expect_contains "the track queue is in the summary" "$ERR" "Track Queue:   processed 1, skipped 0, failed 0"
new_key=$(key_of g.bst)
[ -n "$new_key" ] && [ "$new_key" != "$old_key" ] && pass "the tracked element has a new key" || fail "key" "$old_key $new_key"
run_rill artifact checkout --deps none --directory "$TMP/c2" top.bst
[ "$(cat "$TMP/c2/out/all.txt" 2>/dev/null | tr '\n' ' ')" = "two lib " ] && pass "the build used the new commit (artifact under the new key)" ||
	fail "built new commit" "$(cat "$TMP/c2/out/all.txt" 2>&1) $ERR"

# --track-all tracks every element of the pipeline; --track-except keeps one out
third=$(commit three)
run_rill build --track-all --track-except lib.bst top.bst
if [ "$RC" -eq 0 ] && grep -q "ref: $third" "$P/elements/g.bst" && grep -q "ref: $lib_first" "$P/elements/lib.bst"; then
	pass "--track-all --track-except tracks all but the excepted element"
else
	fail "--track-except" "rc=$RC $ERR"
fi
run_rill build --track-all -J --track-save top.bst
if [ "$RC" -eq 0 ] && ! grep -q "ref: $lib_first" "$P/elements/lib.bst"; then
	pass "--track-all tracks the dependencies too"
else
	fail "--track-all" "rc=$RC $ERR"
fi
expect_contains "--track-save is deprecated" "$ERR" "--track-save is deprecated, saving is now unconditional"
run_rill artifact checkout --deps none --directory "$TMP/c3" top.bst
[ "$(cat "$TMP/c3/out/all.txt" 2>/dev/null | tr '\n' ' ')" = "three lib2 " ] && pass "built with every new ref" || fail "all new" "$ERR"

# excepting the target cuts everything only it leads to
fourth=$(commit four)
run_rill build --track-all --track-except top.bst top.bst
grep -q "ref: $third" "$P/elements/g.bst" && pass "excepting the target excepts what only it depends on" || fail "except target" "$ERR"

# an element without a ref yet: tracked, then built
sed -i '/^  ref: /d' "$P/elements/g.bst"
run_rill build g.bst
[ "$RC" -eq 1 ] && pass "without a ref, a plain build fails" || fail "no ref build" "rc=$RC"
run_rill build --track g.bst g.bst
if [ "$RC" -eq 0 ] && grep -q "ref: $fourth" "$P/elements/g.bst"; then pass "build --track gives a ref-less element its ref and builds it"; else fail "no ref track" "rc=$RC $ERR"; fi

# tracking fails: nothing is built
sed -i 's/track: main/track: nope/' "$P/elements/g.bst"
run_rill build --on-error continue --track-all top.bst
if [ "$RC" -eq 1 ] && printf '%s' "$ERR" | grep -q "track nope not found" && ! printf '%s' "$ERR" | grep -q "build:top.bst"; then
	pass "a failed track stops the build"
else
	fail "failed track" "rc=$RC $ERR"
fi
grep -q "ref: $fourth" "$P/elements/g.bst" && pass "the failed element keeps its ref" || fail "ref after failure"
sed -i 's/track: nope/track: main/' "$P/elements/g.bst"

# usage errors
run_rill build --track-except g.bst top.bst
[ "$RC" -eq 2 ] && expect_contains "--track-except needs --track" "$ERR" "The --track-except and --track-cross-junctions options can only be used with --track or --track-all" ||
	fail "--track-except alone" "rc=$RC $ERR"
run_rill build -J top.bst
[ "$RC" -eq 2 ] && pass "-J needs --track" || fail "-J alone" "rc=$RC"
run_rill build --track top.bst g.bst
[ "$RC" -eq 1 ] && expect_contains "a track element outside the pipeline is an error" "$ERR" "Specified tracking targets that are not within the scope of primary targets" ||
	fail "outside" "rc=$RC $ERR"
run_rill build --track
[ "$RC" -eq 2 ] && expect_contains "--track needs an element" "$ERR" "Option '--track' requires an argument." || fail "--track arg" "rc=$RC $ERR"
run_rill track --track-all g.bst
[ "$RC" -eq 2 ] && expect_contains "track has no --track-all" "$ERR" "No such option: --track-all" || fail "track --track-all" "rc=$RC"
run_rill build --help
expect_contains "build --help documents --track" "$OUT" "--track-except ELEMENT"

# project.refs and fetch --track
busybox_project trk2
printf 'ref-storage: project.refs\naliases:\n  repos: file://%s/\n' "$TMP" >>"$P/project.conf"
element g.bst <<'EOF2'
kind: import
sources:
- kind: git
  url: repos:repo
  track: main
EOF2
run_rill fetch --track g.bst
if [ "$RC" -eq 0 ] && grep -q "$fourth" "$P/project.refs"; then pass "fetch --track writes project.refs"; else fail "fetch --track" "rc=$RC $ERR"; fi
run_rill source checkout g.bst "$TMP/src"
[ "$(cat "$TMP/src/f.txt" 2>/dev/null)" = four ] && pass "fetch --track fetched the new ref" || fail "fetched" "$ERR"
fifth=$(commit five)
run_rill build --track g.bst g.bst
run_rill artifact checkout --directory "$TMP/c4" g.bst
if grep -q "$fifth" "$P/project.refs" && [ "$(cat "$TMP/c4/f.txt" 2>/dev/null)" = five ]; then
	pass "build --track with project.refs builds the new ref"
else
	fail "project.refs build --track" "$(cat "$P/project.refs") $ERR"
fi
finish
