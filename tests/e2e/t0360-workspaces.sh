#!/bin/sh
# t0360 — workspaces as bst 1.6.8 has them: open stages an element's sources into a directory,
# builds use it instead of the sources (mounted at the build root, so a rebuild is incremental:
# configure-commands run once), the key follows bst's workspaced-key rules (question marks until
# built; then the key of what the workspace holds, the one bst computes), the state file is bst's
# .bst/workspaces.yml (bst lists what rill opened), reset and close.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
busybox_project ws
mkdir -p "$P/files/src"
printf 'hello\n' >"$P/files/src/a.txt"
element hello.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  configure-commands:
  - echo configured >> configure.log
  build-commands:
  - echo built >> build.log
  - cat a.txt > out.txt
  install-commands:
  - mkdir -p %{install-root}/share
  - cp out.txt configure.log build.log %{install-root}/share/
sources:
- kind: local
  path: files/src
EOF2
element top.bst <<'EOF2'
kind: stack
depends:
- hello.bst
EOF2
cd "$P" || exit 1
# a new user's project: made by init
rm project.conf
run_rill init --project-name ws --element-path elements
[ "$RC" -eq 0 ] && grep -q '^name: ws$' project.conf && pass "rill init makes the project" || fail "rill init makes the project" "rc $RC $ERR"

run_rill build top.bst
expect_ok "the element builds from its local source"
run_rill workspace open hello.bst ws
if [ "$RC" -eq 0 ] && [ "$(cat ws/a.txt 2>/dev/null)" = hello ] && grep -q '^  hello.bst:$' .bst/workspaces.yml &&
	grep -q '^    path: ws$' .bst/workspaces.yml && grep -q '^    prepared: False$' .bst/workspaces.yml; then
	pass "workspace open stages the sources and records it as bst does"
else
	fail "workspace open stages the sources and records it as bst does" "rc $RC $ERR $(cat .bst/workspaces.yml 2>&1)"
fi
run_rill workspace list
expect_out "workspace list prints bst's YAML" "workspaces:
- element: hello.bst
  directory: $P/ws"
run_rill workspace open hello.bst ws2
expect_error "a second workspace for the element is refused" "Workspace 'hello.bst' is already defined at: $P/ws"
run_rill workspace open top.bst ws3
expect_error "an element without sources has no workspace" "The given element has no sources"
mkdir -p full && touch full/x
run_rill workspace open hello.bst full
[ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -q "Checkout directory is not empty: full" &&
	pass "a directory that is not empty is refused" || fail "a directory that is not empty is refused" "rc $RC $ERR"

run_rill show --deps none --format '%{name}|%{full-key}|%{workspaced}|%{workspace-dirs}' hello.bst top.bst
q=????????????????????????????????????????????????????????????????
expect_out "until built, the workspaced element's key and its dependents' are unknown" "hello.bst|$q|(workspaced)|Workspace: $P/ws
top.bst|$q||"

run_rill build top.bst
expect_contains "the build log shows the workspaced element" "$ERR" "hello.bst is built from its workspace: $P/ws"
k1=$(key_of hello.bst)
if [ "$RC" -eq 0 ] && [ "$(cat ws/configure.log)" = configured ] && [ -f ws/out.txt ] &&
	[ "${#k1}" -eq 64 ] && [ "$k1" != "$q" ]; then
	pass "the build runs in the workspace and gives the key of what it left there"
else
	fail "the build runs in the workspace and gives the key of what it left there" "rc $RC key $k1 $ERR"
fi
run_rill show --deps all --format '%{name} %{state}' top.bst
expect_out "after it, both are cached under those keys" "base.bst cached
hello.bst cached
top.bst cached"
grep -q "^    last_successful: " .bst/workspaces.yml && grep -q '^    prepared: True$' .bst/workspaces.yml &&
	pass "the workspace is prepared and remembers its build" || fail "the workspace is prepared and remembers its build" "$(cat .bst/workspaces.yml)"

# an edit: the rebuild is incremental (no second configure), the artifact has the edit
printf 'edited\n' >ws/a.txt
run_rill show --deps none --format '%{full-key}' hello.bst
expect_out "an edit makes the key unknown again" "$q"
run_rill build top.bst
run_rill checkout hello.bst "$TMP/co"
if [ "$(cat "$TMP/co/share/out.txt" 2>/dev/null)" = edited ] && [ "$(cat "$TMP/co/share/configure.log")" = configured ] &&
	[ "$(cat "$TMP/co/share/build.log")" = "built
built" ]; then
	pass "the rebuild is incremental: configure-commands did not run again, the edit is in the artifact"
else
	fail "the rebuild is incremental: configure-commands did not run again, the edit is in the artifact" "$ERR $(cat "$TMP/co/share/"* 2>&1)"
fi
k2=$(key_of hello.bst)
[ "$k2" != "$k1" ] && [ "${#k2}" -eq 64 ] && [ "$k2" != "$q" ] && pass "the edit gave a new key" || fail "the edit gave a new key" "$k1 $k2"
run_rill build top.bst
expect_contains "nothing changed: nothing is built" "$ERR" "Build Queue:   processed 0, skipped 3, failed 0"

if command -v bst >/dev/null 2>&1; then
	bst_list=$(XDG_CACHE_HOME="$TMP/bstcache" bst --no-colors workspace list 2>/dev/null)
	[ "$bst_list" = "workspaces:
- element: hello.bst
  directory: $P/ws" ] && pass "bst lists the workspace rill opened" || fail "bst lists the workspace rill opened" "$bst_list"
	# bst builds it in the same workspace: its key is the one rill computes for these files
	XDG_CACHE_HOME="$TMP/bstcache" bst --no-colors build hello.bst >/dev/null 2>&1
	bk=$(XDG_CACHE_HOME="$TMP/bstcache" bst --no-colors show --deps none --format '%{full-key}' hello.bst 2>/dev/null)
	rk=$(RILL_DEBUG_KEYS=1 "$RILL" show --bst-keys --deps none --format '%{name}' hello.bst 2>&1 >/dev/null |
		grep '"workspace":\[' | tail -1 | tr -d '\n' | sha256sum | cut -d' ' -f1)
	[ -n "$bk" ] && [ "$bk" = "$rk" ] && pass "the workspaced key is bst's (after bst's build: $bk)" ||
		fail "the workspaced key is bst's" "bst $bk rill $rk"
fi

# reset and close
printf 'junk\n' >ws/junk.txt
run_rill workspace reset hello.bst
if [ "$RC" -eq 0 ] && [ ! -e ws/junk.txt ] && [ "$(cat ws/a.txt)" = hello ] && grep -q '^    prepared: False$' .bst/workspaces.yml; then
	pass "workspace reset stages the sources again, unprepared"
else
	fail "workspace reset stages the sources again, unprepared" "rc $RC $ERR $(ls ws)"
fi
run_rill workspace close --remove-dir hello.bst
run_rill workspace list
if [ "$OUT" = "workspaces: []" ] && [ ! -e ws ]; then pass "workspace close --remove-dir"; else fail "workspace close --remove-dir" "$OUT $(ls)"; fi
run_rill show --deps none --format '%{workspaced}%{full-key}' hello.bst
[ "$RC" -eq 0 ] && [ "${#OUT}" -eq 64 ] && [ "$OUT" != "$q" ] && pass "closed, the element uses its sources again" ||
	fail "closed, the element uses its sources again" "$OUT"
run_rill workspace close hello.bst
expect_error "closing what is not open" "Workspace does not exist"
# state files bst leaves: an empty one (BuildStream's own test projects have them) is no
# workspace; the format before versions (ELEMENT: PATH) is read as bst reads it
: >.bst/workspaces.yml
run_rill show --deps none --format '%{name} %{workspaced}' hello.bst
expect_out "an empty workspaces.yml is no workspace" "hello.bst "
mkdir -p old
printf 'hello.bst: old\n' >.bst/workspaces.yml
run_rill workspace list
expect_out "the format before versions is read" "workspaces:
- element: hello.bst
  directory: $P/old"
finish
