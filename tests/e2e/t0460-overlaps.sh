#!/bin/sh
# t0460 — overlaps between staged dependencies, as BuildStream 1.6.8 reports them: the warning
# "[overlaps]: Non-whitelisted overlaps detected" with one line per file naming the elements,
# the overlap-whitelist of the overlapping element (globs, variables) keeping a path quiet, and
# fail-on-overlap / fatal-warnings: [overlaps] making it fatal.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

new_project ov </dev/null
printf 'name: ov\nelement-path: elements\n' >"$P/project.conf"
for e in a b c; do
	mkdir -p "$P/files/$e/etc"
	echo "$e" >"$P/files/$e/etc/x"
	printf 'kind: import\nsources:\n- kind: local\n  path: files/%s\n' "$e" >"$P/elements/$e.bst"
done
echo a >"$P/files/a/etc/y"
echo c >"$P/files/c/etc/y"
element comp.bst <<'EOF2'
kind: compose
build-depends:
- a.bst
- b.bst
- c.bst
EOF2
conf=$(cat "$P/project.conf")

# no whitelist: both files, every overlapping element named, bst's order
run_rill build comp.bst
[ "$RC" -eq 0 ] && pass "overlaps are a warning by default" || fail "warning build" "$ERR"
expect_contains "the warning names the element being built" "$ERR" "[build:comp.bst                      ] WARNING [overlaps]: Non-whitelisted overlaps detected"
expect_contains "the detail header" "$ERR" "    Staged files overwrite existing files in staging area:"
expect_contains "two overlapping elements" "$ERR" "    /etc/x: b.bst and c.bst are not permitted to overlap other elements, order c.bst above b.bst above a.bst "
expect_contains "one overlapping element" "$ERR" "    /etc/y: c.bst is not permitted to overlap other elements, order c.bst above a.bst "
run_rill artifact checkout --directory "$TMP/co" comp.bst
[ "$(cat "$TMP/co/etc/x")" = c ] && pass "the last staged file wins" || fail "last wins" "$(cat "$TMP/co/etc/x")"

# c whitelists /etc/y (with a variable): that path is quiet, /etc/x still warned about
cat >>"$P/elements/c.bst" <<'EOF2'
public:
  bst:
    overlap-whitelist:
    - ' %{sysconfdir}/y '
EOF2
run_rill build comp.bst
expect_contains "a path not whitelisted is still reported" "$ERR" "/etc/x: b.bst and c.bst are not permitted"
if [ "$RC" -ne 0 ] || printf '%s' "$ERR" | grep -q "/etc/y"; then fail "a whitelisted path is quiet" "$ERR"; else pass "a whitelisted path is quiet"; fi

# only the overlapping element's whitelist counts: c allowing /etc/x leaves b reported
sed -i 's|%{sysconfdir}/y|/etc/*|' "$P/elements/c.bst"
run_rill build comp.bst
expect_contains "the other overlapping element is still reported" "$ERR" "/etc/x: b.bst is not permitted to overlap other elements, order c.bst above b.bst above a.bst "
# b and c both whitelist (b with a relative ** glob): no warning at all
cat >>"$P/elements/b.bst" <<'EOF2'
public:
  bst:
    overlap-whitelist:
    - 'etc/**'
EOF2
run_rill build comp.bst
if [ "$RC" -eq 0 ] && ! printf '%s' "$ERR" | grep -q "overlaps"; then pass "no warning when every overlap is whitelisted"; else fail "all whitelisted" "$ERR"; fi

# fatal: fail-on-overlap (deprecated, with bst's warning) and fatal-warnings
sed -i '/^public:/,$d' "$P/elements/b.bst"
printf '%s\nfail-on-overlap: true\n' "$conf" >"$P/project.conf"
run_rill build comp.bst
[ "$RC" -eq 1 ] && pass "fail-on-overlap makes the build fail" || fail "fail-on-overlap" "rc=$RC $ERR"
expect_contains "the failure is the overlap" "$ERR" "FAILURE [overlaps]: Non-whitelisted overlaps detected"
expect_contains "the failure lists the file" "$ERR" "/etc/x: b.bst is not permitted to overlap other elements, order c.bst above b.bst above a.bst "
expect_contains "fail-on-overlap is deprecated" "$ERR" "WARNING Use of fail-on-overlap within project.conf is deprecated. Consider using fatal-warnings instead."
run_rill artifact list-contents comp.bst
[ "$RC" -eq 1 ] && expect_contains "nothing was cached" "$ERR" "comp.bst is not built" || fail "cached despite failure"
printf '%s\nfatal-warnings:\n- overlaps\n' "$conf" >"$P/project.conf"
run_rill build comp.bst
[ "$RC" -eq 1 ] && expect_contains "fatal-warnings: [overlaps] is fatal" "$ERR" "FAILURE [overlaps]: Non-whitelisted overlaps detected" ||
	fail "fatal-warnings" "rc=$RC $ERR"
# ... and a whitelisted overlap is not
sed -i 's|/etc/\*|/etc/**|' "$P/elements/c.bst"
sed -i '/^kind/a public:\n  bst:\n    overlap-whitelist: [/etc/x]' "$P/elements/b.bst"
run_rill build comp.bst
expect_ok "a fully whitelisted overlap is not fatal"

# a malformed whitelist is an error naming it
printf 'kind: import\nsources:\n- kind: local\n  path: files/c\npublic:\n  bst:\n    overlap-whitelist: [[x]]\n' >"$P/elements/c.bst"
run_rill build comp.bst
expect_contains "a whitelist item must be a string" "$ERR" "c.bst [line 7 column 24]: Value of 'overlap-whitelist[0]' is not of the expected type 'str'"
finish
