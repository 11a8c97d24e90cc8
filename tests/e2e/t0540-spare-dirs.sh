#!/bin/sh
# t0540 — sysroot directories reused between builds (core/cache/spare.c): a finished build's
# sysroot goes back as empty directories, the next build stages into them and sees exactly
# the sysroot a fresh build sees; roots that commands could write to are not reused, and a
# failed build keeps its sysroot without spares.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

busybox_project bb
element lib.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/usr/lib/deep/er %{install-root}/usr/share/empty
  - echo lib > %{install-root}/usr/lib/deep/er/file
EOF2
# what the sandbox shows of the sysroot: every directory with its mode, and every file
element view.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
- lib.bst
variables:
  round: one
config:
  build-commands:
  - find / -xdev | sort | while read p; do echo "$(ls -ld "$p" | cut -c1-10) $p"; done > view.txt
  install-commands:
  - mkdir -p %{install-root}/out && cp view.txt %{install-root}/out/
EOF2
spare="$XDG_CACHE_HOME/rill/build/.spare"
piles() { ls "$spare" 2>/dev/null | wc -l; }

run_rill build view.bst
expect_ok "build with a fresh cache"
run_rill artifact checkout --directory "$TMP/fresh" view.bst
[ "$(piles)" -ge 1 ] && pass "a finished build leaves its sysroot's directories as a pile" || fail "piles" "$(ls -la "$spare" 2>&1)"
if [ -z "$(find "$spare" -mindepth 3 2>/dev/null)" ] && [ -z "$(find "$spare" -mindepth 2 ! -type d 2>/dev/null)" ]; then
	pass "a pile holds nothing but empty directories"
else
	fail "pile content" "$(find "$spare" -mindepth 2 | head)"
fi

# the same element again (another key), now staged into reused directories
sed -i 's/round: one/round: two/' "$P/elements/view.bst"
before=$(piles)
run_rill build view.bst
expect_ok "build into reused directories"
run_rill artifact checkout --directory "$TMP/reused" view.bst
if [ -s "$TMP/fresh/out/view.txt" ] && cmp -s "$TMP/fresh/out/view.txt" "$TMP/reused/out/view.txt"; then
	pass "a sysroot of reused directories is the one a fresh build sees (paths, types, modes)"
else
	fail "reused sysroot" "$(diff "$TMP/fresh/out/view.txt" "$TMP/reused/out/view.txt" 2>&1 | head -20)"
fi
grep -q 'drwxr-xr-x /usr/share/empty$' "$TMP/reused/out/view.txt" && grep -q '^-r--r--r-- /usr/lib/deep/er/file$' "$TMP/reused/out/view.txt" &&
	pass "empty directories and files of a dependency are there" || fail "staged content" "$(grep usr "$TMP/reused/out/view.txt")"
[ "$(piles)" -eq "$before" ] && pass "the build took a pile and gave it back" || fail "pile count" "$before -> $(piles)"

# integration commands make the root writable: that root is not given back
element integrated.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/etc
public:
  bst:
    integration-commands:
    - mkdir -p /etc/made-by-integration && chmod 700 /etc/made-by-integration
EOF2
element uses.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
- integrated.bst
EOF2
run_rill build integrated.bst
before=$(piles)
run_rill build uses.bst
expect_ok "build with integration commands"
[ "$(piles)" -eq $((before - 1)) ] && pass "a sysroot commands could write to is not reused" || fail "writable root" "$before -> $(piles)"

element broken.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
- lib.bst
config:
  build-commands:
  - exit 1
EOF2
run_rill build broken.bst
d=$(ls -d "$XDG_CACHE_HOME"/rill/build/broken-* 2>/dev/null | head -1)
[ -n "$d" ] && [ "$(ls "$d")" = root ] && [ -f "$d/root/usr/lib/deep/er/file" ] &&
	pass "a failed build keeps its sysroot, and no spares beside it" || fail "failed build directory" "$(ls "$d" 2>&1)"
run_rill artifact fsck
expect_out "the cache verifies" "0 broken artifacts"
finish
