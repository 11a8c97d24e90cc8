#!/bin/sh
# t0320 — `rill checkout ELEMENT LOCATION` as bst 1.6's checkout: the artifact and its runtime
# dependencies, their integration commands run in the sandbox (not with --no-integrate),
# --deps none, --hardlinks, --tar (also to standard output), an empty or --force location, and
# bst's errors. Where bst is installed, bst checks out the same project and the trees compare.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

busybox_project co
element lib.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
runtime-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/usr/lib && echo lib >%{install-root}/usr/lib/libx
public:
  bst:
    integration-commands:
    - mkdir -p /etc && echo "integrated by %{element-name}" >>/etc/integrated
EOF2
element app.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
runtime-depends:
- lib.bst
config:
  install-commands:
  - mkdir -p %{install-root}/usr/bin && echo app >%{install-root}/usr/bin/app
EOF2
run_rill build app.bst
[ "$RC" -eq 0 ] && pass "the project builds" || fail "the project builds" "$ERR"

run_rill checkout app.bst "$TMP/full"
[ "$RC" -eq 0 ] && [ -f "$TMP/full/usr/bin/app" ] && [ -f "$TMP/full/usr/lib/libx" ] && [ -f "$TMP/full/bin/busybox" ] &&
	pass "the artifact and its runtime dependencies are checked out" || fail "runtime dependencies checked out" "$ERR"
[ "$(cat "$TMP/full/etc/integrated" 2>/dev/null)" = "integrated by lib.bst" ] &&
	pass "integration commands ran, with their element's variables" || fail "integration commands ran" "$(cat "$TMP/full/etc/integrated" 2>&1) $ERR"

run_rill checkout --no-integrate app.bst "$TMP/raw"
[ "$RC" -eq 0 ] && [ -f "$TMP/raw/usr/lib/libx" ] && [ ! -e "$TMP/raw/etc/integrated" ] &&
	pass "--no-integrate leaves them out" || fail "--no-integrate" "$ERR"
run_rill checkout --deps none app.bst "$TMP/none"
[ "$RC" -eq 0 ] && [ -f "$TMP/none/usr/bin/app" ] && [ ! -e "$TMP/none/usr/lib/libx" ] &&
	pass "--deps none: the element alone" || fail "--deps none" "$ERR"
run_rill checkout --hardlinks --no-integrate app.bst "$TMP/links"
[ "$RC" -eq 0 ] && [ "$(stat -c %h "$TMP/links/usr/bin/app")" -gt 1 ] && pass "--hardlinks links to the cache" ||
	fail "--hardlinks links to the cache" "$ERR $(stat -c %h "$TMP/links/usr/bin/app" 2>&1)"

run_rill checkout app.bst "$TMP/full"
expect_error "a location that is not empty is refused" "Checkout directory '$TMP/full' not empty"
echo stale >"$TMP/full/usr/bin/app"
run_rill checkout --force app.bst "$TMP/full"
[ "$RC" -eq 0 ] && [ "$(cat "$TMP/full/usr/bin/app")" = app ] && pass "--force overwrites" || fail "--force overwrites" "$ERR"

run_rill checkout --tar app.bst "$TMP/app.tar"
[ "$RC" -eq 0 ] && tar -tf "$TMP/app.tar" | grep -q "usr/bin/app" && tar -xOf "$TMP/app.tar" etc/integrated 2>/dev/null | grep -q "integrated by lib.bst" &&
	pass "--tar writes the integrated tree as a tarball" || fail "--tar" "$ERR $(tar -tf "$TMP/app.tar" 2>&1 | head -5)"
run_rill checkout --tar app.bst "$TMP/app.tar"
expect_error "an existing tarball is refused" "Output file '$TMP/app.tar' already exists"
"$RILL" -C "$P" checkout --tar app.bst - 2>/dev/null | tar -t 2>/dev/null | grep -q "usr/lib/libx" &&
	pass "--tar - writes to standard output" || fail "--tar - writes to standard output"
run_rill checkout nosuch.bst "$TMP/x"
expect_error "a missing element" "nosuch.bst"
run_rill checkout app.bst
expect_error "LOCATION is required" "Missing argument 'LOCATION'."

if command -v bst >/dev/null 2>&1; then
	(cd "$P" && timeout 300 bst build app.bst >/dev/null 2>&1 && bst checkout app.bst "$TMP/bst" >/dev/null 2>&1)
	if [ -d "$TMP/bst" ]; then
		# bst leaves its sandbox's build and install directories in the checkout: not compared
		(cd "$TMP/bst" && find . | grep -v '^\./buildstream' | sort) >"$TMP/bst.list"
		(cd "$TMP/raw" && rm -rf ../cmp && cp -a "$TMP/full" ../cmp && cd ../cmp && find . | sort) >"$TMP/rill.list"
		diff "$TMP/bst.list" "$TMP/rill.list" >"$TMP/d" && cmp -s "$TMP/bst/etc/integrated" "$TMP/full/etc/integrated" &&
			pass "the same tree as bst checkout" || fail "the same tree as bst checkout" "$(head -10 "$TMP/d")"
	fi
fi
finish
