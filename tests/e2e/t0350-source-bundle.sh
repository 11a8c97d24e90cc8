#!/bin/sh
# t0350 — `rill source-bundle ELEMENT`: the element's and its dependencies' sources (less
# --except and what only they need) staged under <name>/source/, a build script per element
# that runs commands and build.sh for them all, as <name>.tar.gz (or none/bz2/xz); the bundle
# builds without rill: build.sh runs in a bubblewrap sandbox made of a busybox sysroot and
# installs every element there. An existing tarball is kept unless --force.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

busybox_project bun
mkdir -p "$P/files/libsrc" "$P/files/appsrc" "$P/files/extra"
echo "the library" >"$P/files/libsrc/lib.txt"
echo "the app" >"$P/files/appsrc/app.txt"
echo "extra" >"$P/files/extra/x.txt"
element lib.bst <<'EOF2'
kind: manual
build-depends: [base.bst]
sources:
- kind: local
  path: files/libsrc
variables:
  greeting: "hello, it's me"
environment:
  GREETING: "%{greeting}"
config:
  build-commands:
  - cat lib.txt >built.txt && echo "$GREETING" >>built.txt
  install-commands:
  - mkdir -p %{install-root}/usr/share/lib && cp built.txt %{install-root}/usr/share/lib/
EOF2
element extra.bst <<'EOF2'
kind: import
sources:
- kind: local
  path: files/extra
EOF2
element app.bst <<'EOF2'
kind: manual
build-depends: [base.bst, lib.bst, extra.bst]
sources:
- kind: local
  path: files/appsrc
config:
  install-commands:
  - mkdir -p %{install-root}/usr/share/app && cat app.txt /usr/share/lib/built.txt >%{install-root}/usr/share/app/out.txt
EOF2

run_rill source-bundle --directory "$TMP/bundles" app.bst
[ "$RC" -eq 0 ] && [ -f "$TMP/bundles/app.tar.gz" ] && pass "source-bundle writes app.tar.gz" || fail "source-bundle writes app.tar.gz" "$ERR"
tar -tzf "$TMP/bundles/app.tar.gz" | sort >"$TMP/list"
for f in app/build.sh app/source/build-app app/source/build-lib app/source/app/app.txt app/source/lib/lib.txt \
	app/source/extra/x.txt; do
	grep -qx "$f" "$TMP/list" && pass "the bundle holds $f" || fail "the bundle holds $f" "$(head -20 "$TMP/list")"
done
grep -q "app/source/build-extra" "$TMP/list" && fail "no build script for an import element" || pass "no build script for an import element"

# it builds without rill: build.sh in a sandbox of busybox
mkdir -p "$TMP/root/bin" "$TMP/root/bundle"
cp "$(command -v busybox)" "$TMP/root/bin/busybox"
for a in $("$TMP/root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$TMP/root/bin/$a"; done
tar -xzf "$TMP/bundles/app.tar.gz" -C "$TMP/root/bundle"
bwrap --bind "$TMP/root" / --dev /dev --proc /proc --tmpfs /tmp --unshare-all --uid 0 --gid 0 \
	/bin/sh -c 'cd /bundle/app && ./build.sh' >"$TMP/run.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && pass "build.sh builds the bundle without rill" || fail "build.sh builds the bundle" "rc $rc: $(tail -5 "$TMP/run.log")"
[ "$(cat "$TMP/root/usr/share/app/out.txt" 2>/dev/null)" = "the app
the library
hello, it's me" ] && pass "in dependency order, with the elements' environment" ||
	fail "in dependency order, with the elements' environment" "$(cat "$TMP/root/usr/share/app/out.txt" 2>&1)"

run_rill source-bundle --directory "$TMP/bundles" app.bst
expect_error "an existing tarball is kept" "Cannot write to $TMP/bundles/app.tar.gz: File exists"
run_rill source-bundle --force --compression xz --except lib.bst --directory "$TMP/bundles" app.bst
[ "$RC" -eq 0 ] && tar -tJf "$TMP/bundles/app.tar.xz" | grep -q "app/source/app/app.txt" &&
	! tar -tJf "$TMP/bundles/app.tar.xz" | grep -q "source/lib/" && pass "--compression xz and --except" ||
	fail "--compression xz and --except" "$ERR"
run_rill source-bundle --compression zip app.bst
[ "$RC" -eq 2 ] && pass "an unknown compression is a usage error" || fail "an unknown compression is a usage error" "rc $RC"
finish
