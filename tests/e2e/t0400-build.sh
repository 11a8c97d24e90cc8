#!/bin/sh
# t0400 — sandboxed builds on a busybox sysroot: import, manual, script, compose, filter, stack;
# the artifact commands; cached rebuilds; the plain-log output shape.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

busybox_project bb
element hello.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
variables:
  greeting: hello
config:
  build-commands:
  - echo "%{greeting} from $(id -u)" > greeting.txt
  install-commands:
  - mkdir -p %{install-root}/usr/share/hello
  - cp greeting.txt %{install-root}/usr/share/hello/
  - echo '#!/bin/sh' > %{install-root}/usr/share/hello/run.sh
  - chmod 755 %{install-root}/usr/share/hello/run.sh
  - mkdir -p %{install-root}/usr/include && echo '/* h */' > %{install-root}/usr/include/hello.h
  - ln -s greeting.txt %{install-root}/usr/share/hello/link
EOF2
element app.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
- hello.bst
config:
  build-commands:
  - cat /usr/share/hello/greeting.txt > copy.txt
  - if touch /usr/share/hello/greeting.txt 2>/dev/null; then exit 9; fi
  install-commands:
  - mkdir -p %{install-root}/app && cp copy.txt %{install-root}/app/
EOF2
element stack.bst <<'EOF2'
kind: stack
depends:
- hello.bst
- app.bst
EOF2
element runtime.bst <<'EOF2'
kind: compose
build-depends:
- stack.bst
config:
  exclude:
  - devel
EOF2
element devel.bst <<'EOF2'
kind: filter
build-depends:
- hello.bst
config:
  include:
  - devel
EOF2
element script.bst <<'EOF2'
kind: script
build-depends:
- base.bst
- hello.bst
config:
  layout:
  - element: base.bst
    destination: /
  - element: hello.bst
    destination: /sysroot
  commands:
  - mkdir -p %{install-root}/out
  - ls /sysroot/usr/share/hello > %{install-root}/out/listing
EOF2

run_rill build stack.bst runtime.bst devel.bst script.bst
if [ "$RC" -eq 0 ]; then pass "build of import, manual, stack, compose, filter and script"; else fail "build" "$ERR"; fi
expect_contains "plain log: START line with the log path" "$ERR" "[build:hello.bst                     ] START   bb/hello/"
expect_contains "plain log: SUCCESS line with elapsed time" "$ERR" "] SUCCESS Build complete"
expect_contains "plain log: summary" "$ERR" "Pipeline Summary"
expect_contains "plain log: build queue counts" "$ERR" "Build Queue:   processed 7, skipped 0, failed 0"
if printf '%s' "$ERR" | grep -q "$(printf '\033')"; then fail "plain log has no escape codes"; else pass "plain log has no escape codes"; fi

run_rill artifact checkout --deps none --directory "$TMP/co" hello.bst
if [ "$RC" -eq 0 ] && [ "$(cat "$TMP/co/usr/share/hello/greeting.txt")" = "hello from 0" ] &&
   [ -x "$TMP/co/usr/share/hello/run.sh" ] && [ "$(readlink "$TMP/co/usr/share/hello/link")" = greeting.txt ]; then
	pass "artifact checkout: content, exec bit, symlink (built as uid 0 in the sandbox)"
else
	fail "artifact checkout" "rc=$RC $ERR $(ls -lR "$TMP/co" 2>&1 | head -20)"
fi
[ "$(cat "$TMP/co/app/copy.txt" 2>/dev/null)" = "" ] && pass "checkout --deps none leaves out other elements" || fail "checkout --deps none"

run_rill artifact checkout --directory "$TMP/co2" stack.bst
if [ "$RC" -eq 0 ] && [ "$(cat "$TMP/co2/app/copy.txt")" = "hello from 0" ] &&
   [ -f "$TMP/co2/usr/share/hello/greeting.txt" ] && [ ! -e "$TMP/co2/bin/busybox" ]; then
	pass "checkout of a stack brings its runtime dependencies, not their build dependencies"
else
	fail "checkout stack" "rc=$RC $ERR"
fi

run_rill artifact checkout --directory "$TMP/co3" runtime.bst
if [ "$RC" -eq 0 ] && [ -f "$TMP/co3/usr/share/hello/greeting.txt" ] && [ ! -e "$TMP/co3/usr/include/hello.h" ] &&
   [ -f "$TMP/co3/app/copy.txt" ]; then
	pass "compose excludes the devel domain and keeps the rest"
else
	fail "compose" "rc=$RC $ERR $(cd "$TMP/co3" 2>/dev/null && find . | head)"
fi
run_rill artifact list-contents devel.bst
expect_out "filter keeps only the devel domain" "usr/
usr/include/
usr/include/hello.h"
run_rill artifact checkout --directory "$TMP/co4" --deps none script.bst
if [ "$(cat "$TMP/co4/out/listing" 2>/dev/null | tr '\n' ' ')" = "greeting.txt link run.sh " ]; then
	pass "script layout stages an element at a destination"
else
	fail "script layout" "$(cat "$TMP/co4/out/listing" 2>&1)"
fi

run_rill artifact log hello.bst
expect_contains "artifact log holds the build log" "$OUT" "Running build-commands"

run_rill artifact checkout --hardlinks --deps none --directory "$TMP/hl" hello.bst
obj_links=$(stat -c %h "$TMP/hl/usr/share/hello/greeting.txt")
if [ "$RC" -eq 0 ] && [ "$obj_links" -ge 2 ] && [ ! -w "$TMP/hl/usr/share/hello/greeting.txt" ] || [ "$(id -u)" = 0 ]; then
	[ "$obj_links" -ge 2 ] && pass "checkout --hardlinks links to the cache's objects" || fail "hardlinks" "links=$obj_links"
else
	fail "hardlinks" "rc=$RC links=$obj_links"
fi

run_rill artifact checkout --tar "$TMP/hello.tar" --deps none hello.bst
if [ "$RC" -eq 0 ] && tar -tf "$TMP/hello.tar" | grep -q 'usr/share/hello/greeting.txt'; then
	pass "artifact checkout --tar"
else
	fail "checkout --tar" "rc=$RC $ERR"
fi

# everything cached: nothing is built again
run_rill build stack.bst runtime.bst devel.bst script.bst
expect_contains "no-op rebuild skips every build" "$ERR" "Build Queue:   processed 0, skipped 7, failed 0"

# a change to one element rebuilds it and what depends on it, nothing else
sed -i 's/greeting: hello/greeting: howdy/' "$P/elements/hello.bst"
run_rill build stack.bst
expect_contains "changed element and its dependents rebuild" "$ERR" "Build Queue:   processed 3, skipped 1, failed 0"
run_rill artifact checkout --directory "$TMP/co5" --deps none app.bst
[ "$(cat "$TMP/co5/app/copy.txt")" = "howdy from 0" ] && pass "dependent saw the new dependency" || fail "dependent rebuilt" "$(cat "$TMP/co5/app/copy.txt")"

run_rill artifact fsck
expect_out "fsck after builds: all artifacts intact" "0 broken artifacts"

run_rill artifact log nosuch.bst
expect_error "artifact log of an unknown element" "nosuch.bst"
finish
