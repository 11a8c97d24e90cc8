#!/bin/sh
# t0165 — the deb source: a .deb (made here with dpkg-deb) fetched through an alias, its
# data.tar staged whole or from base-dir, the ref checked; a file that is no package is one
# clear error. Its keys equal bst's (t0100, elements deb*.bst of projects/keys).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/pkg/DEBIAN" "$TMP/pkg/usr/share/hello" "$TMP/srv"
printf 'Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: rill <rill@example.com>\nDescription: a test package\n' \
	>"$TMP/pkg/DEBIAN/control"
echo "hello from a deb" >"$TMP/pkg/usr/share/hello/greeting"
dpkg-deb --build "$TMP/pkg" "$TMP/srv/hello.deb" >/dev/null
sum=$(sha256sum "$TMP/srv/hello.deb" | cut -d' ' -f1)
echo "not a package" >"$TMP/srv/bogus.deb"
bogus=$(sha256sum "$TMP/srv/bogus.deb" | cut -d' ' -f1)

new_project debs <<EOF2
name: debs
element-path: elements
aliases:
  srv: file://$TMP/srv/
EOF2
element whole.bst <<EOF2
kind: import
sources:
- kind: deb
  url: srv:hello.deb
  ref: $sum
EOF2
element share.bst <<EOF2
kind: import
sources:
- kind: deb
  url: srv:hello.deb
  ref: $sum
  base-dir: usr/share
EOF2
element bad.bst <<EOF2
kind: import
sources:
- kind: deb
  url: srv:bogus.deb
  ref: $bogus
EOF2
element wrongref.bst <<EOF2
kind: import
sources:
- kind: deb
  url: srv:hello.deb
  ref: 0000000000000000000000000000000000000000000000000000000000000000
EOF2

run_rill build whole.bst share.bst
[ "$RC" -eq 0 ] && pass "deb sources fetch and build" || fail "deb sources fetch and build" "$ERR"
run_rill artifact list-contents whole.bst
expect_out "the whole data.tar is staged" "usr/
usr/share/
usr/share/hello/
usr/share/hello/greeting"
rm -rf "$TMP/co"
run_rill artifact checkout --deps none --directory "$TMP/co" share.bst
[ "$(cat "$TMP/co/hello/greeting" 2>/dev/null)" = "hello from a deb" ] && [ ! -e "$TMP/co/usr" ] &&
	pass "base-dir stages a subdirectory of the package" || fail "base-dir stages a subdirectory" "$(find "$TMP/co" | head)"
run_rill build bad.bst
expect_contains "a file that is no package is an error" "$ERR" "srv/bogus.deb is not a Debian package (not an ar archive)"
run_rill build wrongref.bst
[ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -q "0000000000000000" && pass "a wrong ref is an error" || fail "a wrong ref is an error" "$ERR"
finish
