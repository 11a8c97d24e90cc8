#!/bin/sh
# t0470 — git submodules, as BuildStream 1.x's git source handles them: the submodules
# .gitmodules declares at the ref are fetched and checked out at the commits the tree records;
# checkout-submodules: false and `submodules: {path: {checkout: false}}` leave them out;
# `submodules: {path: {url: ...}}` fetches from elsewhere (alias allowed); a submodule that was
# never added draws the git:inconsistent-submodule warning (fatal when listed).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

G="git -c user.email=t@t -c user.name=t -c protocol.file.allow=always"
git init -q "$TMP/sub"
(cd "$TMP/sub" && echo "sub one" >a.txt && git add a.txt && $G commit -qm one)
git init -q "$TMP/main"
(cd "$TMP/main" && echo main >m.txt && git add m.txt && $G submodule add -q "file://$TMP/sub" lib >/dev/null 2>&1 && $G commit -qm main)
main_commit=$(git -C "$TMP/main" rev-parse HEAD)
# the submodule moves on after main recorded it: main's commit is what must be checked out
(cd "$TMP/sub" && echo "sub two" >a.txt && $G commit -qam two)

busybox_project subm
printf 'aliases:\n  repos: file://%s/\n' "$TMP" >>"$P/project.conf"
element g.bst <<EOF2
kind: import
sources:
- kind: git
  url: repos:main
  ref: $main_commit
EOF2
run_rill build g.bst
run_rill artifact checkout --directory "$TMP/co1" g.bst
[ "$(cat "$TMP/co1/lib/a.txt" 2>/dev/null)" = "sub one" ] && [ "$(cat "$TMP/co1/m.txt" 2>/dev/null)" = main ] &&
	pass "the submodule is checked out at the recorded commit" || fail "submodule checkout" "$(ls -la "$TMP/co1/lib" 2>&1) $ERR"
key_default=$(key_of g.bst)

# checkout-submodules: false, and a per-path checkout: false
sed -i '/^  ref:/a\  checkout-submodules: false' "$P/elements/g.bst"
run_rill build g.bst
run_rill artifact checkout --directory "$TMP/co2" g.bst
[ -d "$TMP/co2/lib" ] && [ ! -e "$TMP/co2/lib/a.txt" ] && pass "checkout-submodules: false leaves the submodule out" || fail "checkout-submodules" "$ERR"
[ "$(key_of g.bst)" != "$key_default" ] && pass "checkout-submodules: false changes the key" || fail "key"
sed -i '/checkout-submodules/d' "$P/elements/g.bst"
cat >>"$P/elements/g.bst" <<'EOF2'
  submodules:
    lib:
      checkout: false
EOF2
run_rill build g.bst
run_rill artifact checkout --directory "$TMP/co3" g.bst
[ -d "$TMP/co3/lib" ] && [ ! -e "$TMP/co3/lib/a.txt" ] && pass "a submodule with checkout: false is left out" || fail "per-path checkout" "$ERR"

# a url override (with an alias): the submodule's own URL no longer exists
mv "$TMP/sub" "$TMP/sub-moved"
sed -i 's/      checkout: false/      url: repos:sub-moved/' "$P/elements/g.bst"
run_rill build g.bst
run_rill artifact checkout --directory "$TMP/co4" g.bst
[ "$(cat "$TMP/co4/lib/a.txt" 2>/dev/null)" = "sub one" ] && pass "a submodule url override is fetched from" || fail "url override" "$ERR"
sed -i 's/repos:sub-moved/nope:sub/' "$P/elements/g.bst"
run_rill show g.bst
expect_error "an override with an unknown alias is a load error" "Invalid alias 'nope' specified in URL: nope:sub"

# a .gitmodules entry never added with `git submodule add`
(cd "$TMP/main" && printf '[submodule "ghost"]\n\tpath = ghost\n\turl = file://%s/nowhere\n' "$TMP" >>.gitmodules && $G commit -qam ghost)
ghost_commit=$(git -C "$TMP/main" rev-parse HEAD)
sed -i "s/$main_commit/$ghost_commit/; s/nope:sub/repos:sub-moved/" "$P/elements/g.bst"
run_rill build g.bst
[ "$RC" -eq 0 ] && expect_contains "an inconsistent submodule is a warning" "$ERR" "Ignoring inconsistent submodule 'ghost'" ||
	fail "inconsistent warning" "rc=$RC $ERR"
# a .gitmodules without any submodule
git init -q "$TMP/nomods"
(cd "$TMP/nomods" && echo '# nothing' >.gitmodules && echo x >x.txt && git add . && $G commit -qm none)
element n.bst <<EOF2
kind: import
sources:
- kind: git
  url: repos:nomods
  ref: $(git -C "$TMP/nomods" rev-parse HEAD)
EOF2
run_rill build n.bst
expect_ok "a .gitmodules that declares nothing is fine"

printf 'fatal-warnings:\n- git:inconsistent-submodule\n' >>"$P/project.conf"
rm -rf "$XDG_CACHE_HOME/rill/sources" "$XDG_CACHE_HOME/rill/artifacts"
run_rill build g.bst
[ "$RC" -eq 1 ] && expect_contains "... fatal when listed in fatal-warnings" "$ERR" "[git:inconsistent-submodule]" ||
	fail "inconsistent fatal" "rc=$RC $ERR"
finish
