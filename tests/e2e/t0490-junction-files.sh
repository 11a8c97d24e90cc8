#!/bin/sh
# t0490 — what a project takes from a junction besides elements: includes of the subproject's
# files ("sub.bst:file.yml") in elements and in project.conf (BuildStream's second pass), and
# refs kept in junction.refs, or in the loaded project's project.refs over a subproject's.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

# a tar archive to point sources at
mkdir -p "$TMP/srv/payload"
echo hello >"$TMP/srv/payload/hello"
(cd "$TMP/srv" && tar -cf payload.tar payload)
sha=$(sha256sum "$TMP/srv/payload.tar" | cut -d' ' -f1)
other=0000000000000000000000000000000000000000000000000000000000000001

# the subproject: include files (one including another, relative to the subproject) and elements
new_project subp <<'EOF2'
name: subp
element-path: elements
EOF2
mkdir -p "$P/include"
printf 'variables:\n  greeting: from-subp\n(@): include/more.yml\n' >"$P/include/vars.yml"
printf 'variables:\n  more: more-of-subp\n' >"$P/include/more.yml"
printf 'variables:\n  conf-var: from-the-junction\nenvironment:\n  FROM_SUB: "yes"\n' >"$P/include/conf.yml"
element pinned.bst <<EOF2
kind: import
sources:
- kind: tar
  url: file://$TMP/srv/payload.tar
  ref: $sha
EOF2
SUB=$P

# the loaded project
new_project top <<'EOF2'
name: top
element-path: elements
(@):
- sub.bst:include/conf.yml
EOF2
mv "$SUB" "$P/subp"
mkdir -p "$P/include"
printf 'variables:\n  more: more-of-top\n' >"$P/include/more.yml"
element sub.bst <<'EOF2'
kind: junction
sources:
- kind: local
  path: subp
EOF2
element app.bst <<'EOF2'
kind: manual
(@): sub.bst:include/vars.yml
config:
  install-commands:
  - echo %{greeting} %{more} %{conf-var}
EOF2

run_rill show --deps none --format '%{vars}' app.bst
expect_contains "an element includes a subproject's file" "$OUT" "greeting: from-subp"
expect_contains "that file's own include is the subproject's, not the top project's" "$OUT" "more: more-of-subp"
expect_contains "project.conf includes a subproject's file (second pass)" "$OUT" "conf-var: from-the-junction"
run_rill show --deps none --format '%{env}' app.bst
expect_contains "project.conf's junction include sets the environment" "$OUT" "FROM_SUB: yes"

if command -v bst >/dev/null 2>&1; then
	run_rill show --bst-keys --deps all --format '%{name} %{full-key}' app.bst sub.bst:pinned.bst
	bst_keys=$(cd "$P" && bst --no-colors show --deps all --format '%{name} %{full-key}' app.bst sub.bst:pinned.bst 2>/dev/null)
	[ -n "$bst_keys" ] && [ "$OUT" = "$bst_keys" ] &&
		pass "--bst-keys: keys equal bst's with junction includes" ||
		fail "--bst-keys: keys equal bst's with junction includes" "rill: $OUT $ERR
bst: $bst_keys"
else
	pass "bst not installed: key comparison skipped"
fi

k1=$(key_of app.bst)
sed -i 's/from-subp/changed/' "$P/subp/include/vars.yml"
k2=$(key_of app.bst)
sed -i 's/changed/from-subp/' "$P/subp/include/vars.yml"
[ -n "$k1" ] && [ "$k1" != "$k2" ] && [ "$k1" = "$(key_of app.bst)" ] &&
	pass "a change in an included subproject file changes the key" ||
	fail "junction include key sensitivity" "$k1 / $k2"

# errors, positioned at the include
printf 'kind: stack\n(@): sub.bst:include/nosuch.yml\n' >"$P/elements/bad.bst"
run_rill show bad.bst
expect_error "a missing file in the subproject" "bad.bst [line 2 column 5]"
expect_contains "the error names the file" "$ERR" "include/nosuch.yml"
printf 'kind: stack\n(@): nojunction.bst:include/vars.yml\n' >"$P/elements/bad.bst"
run_rill show bad.bst
expect_error "an include through a junction that does not exist" "Could not find element 'nojunction.bst'"
printf 'kind: stack\n(@): sub.bst:../../etc/passwd\n' >"$P/elements/bad.bst"
run_rill show bad.bst
expect_error "an include path leaving the subproject" "must be a relative path inside the project"
rm -f "$P/elements/bad.bst"
printf 'name: top\nelement-path: elements\n(@): sub.bst:include/nosuch.yml\n' >"$P/project.conf"
run_rill show app.bst
expect_error "a missing junction include in project.conf" "project.conf [line 3 column 5]"

# refs: ref-storage project.refs keeps junction elements' refs in junction.refs, and the
# loaded project's project.refs overrides a subproject's refs
(cd "$P" && tar -cf "$TMP/srv/subp.tar" subp)
subsha=$(sha256sum "$TMP/srv/subp.tar" | cut -d' ' -f1)
new_project rtop <<'EOF2'
name: rtop
element-path: elements
ref-storage: project.refs
EOF2
cat >"$P/elements/tsub.bst" <<EOF2
kind: junction
sources:
- kind: tar
  url: file://$TMP/srv/subp.tar
EOF2
element app.bst <<'EOF2'
kind: stack
depends:
- tsub.bst:pinned.bst
EOF2
run_rill show app.bst
expect_error "a junction without a ref" "Subproject has no ref for junction: tsub.bst"
run_rill track tsub.bst
if [ "$RC" -eq 0 ] && grep -q "$subsha" "$P/junction.refs" 2>/dev/null && [ ! -e "$P/project.refs" ]; then
	pass "track writes a junction's ref to junction.refs, not project.refs"
else
	fail "track writes junction.refs" "rc=$RC $ERR $(cat "$P/junction.refs" "$P/project.refs" 2>&1)"
fi
grep -A3 'rtop:' "$P/junction.refs" | grep -q 'tsub.bst:' &&
	pass "junction.refs: the ref is filed under the project's name and the element's" ||
	fail "junction.refs layout" "$(cat "$P/junction.refs")"
run_rill fetch app.bst
run_rill show --deps all --format '%{name}' app.bst
expect_out "the junction loads with its ref from junction.refs" "tsub.bst:pinned.bst
app.bst"

kpin=$(key_of tsub.bst:pinned.bst)
printf 'projects:\n  subp:\n    pinned.bst:\n    - ref: %s\n' "$other" >"$P/project.refs"
kover=$(key_of tsub.bst:pinned.bst)
run_rill show --deps none --format '%{state}' tsub.bst:pinned.bst
[ -n "$kpin" ] && [ -n "$kover" ] && [ "$kpin" != "$kover" ] &&
	pass "project.refs overrides a subproject element's ref (the key changes)" ||
	fail "project.refs override of a subproject ref" "$kpin / $kover"
expect_out "the overridden ref is the one to fetch" "fetch needed"
if command -v bst >/dev/null 2>&1; then
	run_rill show --bst-keys --deps all --format '%{name} %{full-key}' app.bst
	bst_keys=$(cd "$P" && bst --no-colors fetch tsub.bst >/dev/null 2>&1; bst --no-colors show --deps all --format '%{name} %{full-key}' app.bst 2>"$TMP/bst.err")
	[ -n "$bst_keys" ] && [ "$OUT" = "$bst_keys" ] &&
		pass "--bst-keys: keys equal bst's with junction.refs and an overridden subproject ref" ||
		fail "--bst-keys with junction.refs" "rill: $OUT $ERR
bst: $bst_keys $(cat "$TMP/bst.err")"
else
	pass "bst not installed: key comparison skipped"
fi
printf 'projects:\n  rtop:\n    pinned.bst:\n    - ref: %s\n' "$other" >"$P/project.refs"
[ -n "$kpin" ] && [ "$(key_of tsub.bst:pinned.bst)" = "$kpin" ] &&
	pass "an entry under the loaded project's own name does not touch the subproject's element" ||
	fail "override filed under another project's name"
rm -f "$P/project.refs"

# tracking a subproject's element: into the loaded project's project.refs; with inline refs it
# is not persisted (the subproject is a staged copy), and says so
sed -i "s|^  ref: .*|  ref: $other|" "$P/../top/subp/elements/pinned.bst"
(cd "$P/../top" && tar -cf "$TMP/srv/subp.tar" subp)
subsha=$(sha256sum "$TMP/srv/subp.tar" | cut -d' ' -f1)
run_rill track tsub.bst
run_rill fetch app.bst
run_rill track tsub.bst:pinned.bst
run_rill show --deps none --format '%{state}' tsub.bst:pinned.bst
expect_out "without -J a subproject's element is not tracked" "fetch needed"
run_rill track -J tsub.bst:pinned.bst
if [ "$RC" -eq 0 ] && grep -A4 'subp:' "$P/project.refs" 2>/dev/null | grep -q "$sha"; then
	pass "tracking a subproject's element writes the loaded project's project.refs"
else
	fail "track a subproject element into project.refs" "rc=$RC $ERR $(cat "$P/project.refs" 2>&1)"
fi
[ -n "$kpin" ] && [ "$(key_of tsub.bst:pinned.bst)" = "$kpin" ] &&
	pass "the tracked ref is used (the same key as with the subproject's original ref)" ||
	fail "tracked subproject ref used"

# with inline refs, tracking across the junction is refused
P="$TMP/top"
printf 'name: top\nelement-path: elements\n(@): sub.bst:include/conf.yml\n' >"$P/project.conf"
before=$(cat "$P/subp/elements/pinned.bst")
run_rill track -J sub.bst:pinned.bst
expect_error "inline refs: tracking a subproject's element is refused" "Requested to track sources across junction boundaries"
[ "$before" = "$(cat "$P/subp/elements/pinned.bst")" ] && pass "inline refs: the subproject's file is untouched" ||
	fail "inline refs: the subproject's file is untouched"
run_rill build -J --track-all sub.bst:pinned.bst
expect_error "build --track-all -J with inline refs: refused too" "in a project which does not use project.refs ref-storage"
finish
