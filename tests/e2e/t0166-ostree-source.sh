#!/bin/sh
# t0166 — the ostree source: a commit of a local OSTree repository (made here with the host's
# ostree) fetched through an alias, checked out with its symlinks; track follows the branch to
# the newest commit; a ref that is not in the repository is one clear error. Its keys equal
# bst's (t0100, ostree.bst of projects/keys).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/tree/usr/share/doc"
echo "from ostree" >"$TMP/tree/usr/share/doc/readme"
ln -s readme "$TMP/tree/usr/share/doc/link"
ostree init --repo="$TMP/srv" --mode=archive
c1=$(ostree commit --repo="$TMP/srv" --branch=main "$TMP/tree")
new_project ost <<EOF2
name: ost
element-path: elements
aliases:
  os: file://$TMP/
EOF2
element tree.bst <<EOF2
kind: import
sources:
- kind: ostree
  url: os:srv
  track: main
  ref: $c1
EOF2
element missing.bst <<'EOF2'
kind: import
sources:
- kind: ostree
  url: os:srv
  ref: 0000000000000000000000000000000000000000000000000000000000000000
EOF2
element neither.bst <<'EOF2'
kind: import
sources:
- kind: ostree
  url: os:srv
EOF2

run_rill build tree.bst
[ "$RC" -eq 0 ] && pass "an ostree commit fetches and builds" || fail "an ostree commit fetches and builds" "$ERR"
run_rill artifact list-contents tree.bst
expect_out "the checkout is staged with its symlinks" "usr/
usr/share/
usr/share/doc/
usr/share/doc/link -> readme
usr/share/doc/readme"

echo "second" >"$TMP/tree/usr/share/doc/new"
c2=$(ostree commit --repo="$TMP/srv" --branch=main "$TMP/tree")
run_rill track tree.bst
grep -q "ref: $c2" "$P/elements/tree.bst" && pass "track follows the branch to its newest commit" ||
	fail "track follows the branch" "$(cat "$P/elements/tree.bst") $ERR"
run_rill build tree.bst
run_rill artifact list-contents tree.bst
expect_contains "the tracked commit builds" "$OUT" "usr/share/doc/new"

run_rill build missing.bst
[ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -q "Failed to fetch ref '0000000000000000000000000000000000000000000000000000000000000000'" &&
	pass "a ref not in the repository is an error" || fail "a ref not in the repository is an error" "$ERR"
run_rill show neither.bst
expect_error "neither ref nor track is an error" "neither.bst [line 3 column 2]: OSTree sources require a ref and/or track"
finish
