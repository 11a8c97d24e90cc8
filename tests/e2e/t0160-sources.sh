#!/bin/sh
# Source configuration: aliases (unknown alias, unaliased URL warning, fatal warnings), local
# and patch paths, git refs, and what a missing ref means.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
new_project srcs <<'EOF2'
name: srcs
element-path: elements
aliases:
  up: https://example.com/dl/
EOF2
mkdir -p "$P/files/sub"
echo data >"$P/files/a.txt"
echo patch >"$P/files/fix.patch"

src() { # CASE EXPECTED-ERROR-or-empty: element s.bst with the sources given on stdin
	{ printf 'kind: manual\nsources:\n'; cat; } >"$P/elements/s.bst"
	run_rill show --deps none --format '%{state}' s.bst
}

src <<'EOF2'
- kind: tar
  url: nosuch:x.tar.gz
  ref: 1111111111111111111111111111111111111111111111111111111111111111
EOF2
expect_error "an unknown alias is an error" "s.bst [line 4 column 7]: Invalid alias 'nosuch' specified in URL: nosuch:x.tar.gz"

src <<'EOF2'
- kind: remote
  url: https://example.com/x.bin
  ref: 1111111111111111111111111111111111111111111111111111111111111111
EOF2
if [ "$RC" -eq 0 ] && [ "$OUT" = "fetch needed" ] && printf '%s' "$ERR" | grep -qF "warning [unaliased-url]: s.bst [line 4 column 7]: Use of unaliased source download URL"; then
	pass "an unaliased URL is a warning"
else
	fail "an unaliased URL is a warning" "rc $RC out $OUT err $ERR"
fi
printf 'fatal-warnings: [unaliased-url]\n' >>"$P/project.conf"
run_rill show s.bst
expect_error "fatal-warnings turns it into an error" "Use of unaliased source download URL: https://example.com/x.bin [unaliased-url]"
sed -i '/fatal-warnings/d' "$P/project.conf"

src <<'EOF2'
- kind: tar
  url: up:x.tar.gz
EOF2
expect_out "a source without a ref has no reference" "no reference"

src <<'EOF2'
- kind: local
  path: files
EOF2
expect_out "a local source is always cached" "buildable"

src <<'EOF2'
- kind: local
  path: /etc
EOF2
expect_error "local paths must be relative" "s.bst [line"
src <<'EOF2'
- kind: local
  path: ../outside
EOF2
expect_error "local paths stay inside the project" "s.bst [line"
src <<'EOF2'
- kind: local
  path: files/missing
EOF2
expect_error "a missing local path" "s.bst [line"
src <<'EOF2'
- kind: local
  path: files
- kind: patch
  path: files/sub
EOF2
expect_error "a patch must be a file" "s.bst [line"
src <<'EOF2'
- kind: git
  url: up:repo.git
EOF2
expect_error "git needs a ref or track" "Git sources require a ref and/or track"
src <<'EOF2'
- kind: git
  url: up:repo.git
  track: main
EOF2
expect_out "git with only track has no reference" "no reference"
src <<'EOF2'
- kind: tar
  url: up:x.tar.gz
  ref: 1111111111111111111111111111111111111111111111111111111111111111
  bogus: 1
EOF2
expect_error "unknown source keys" "Unexpected key: bogus"
src <<'EOF2'
- kind: nosuch
  url: up:x
EOF2
expect_error "unknown source kind" "No Source type registered for kind 'nosuch'"

# the local source's key follows its content
src <<'EOF2'
- kind: local
  path: files
EOF2
k1=$(key_of s.bst)
echo changed >"$P/files/a.txt"
k2=$(key_of s.bst)
[ -n "$k1" ] && [ -n "$k2" ] && [ "$k1" != "$k2" ] && pass "a local file's content is in the key" || fail "a local file's content is in the key" "$k1 $k2"

# libcurl and libarchive (and the 40 libraries they bring) are opened only when a source
# needs them: not linked into the backend, not loaded by `rill show` of tar sources
if ldd "$TOP/rill-backend" | grep -q 'libarchive\|libcurl'; then
	fail "the backend does not link libcurl or libarchive" "$(ldd "$TOP/rill-backend")"
else
	pass "the backend does not link libcurl or libarchive"
fi
element tar-src.bst <<'EOF2'
kind: import
sources:
- kind: tar
  url: https://example.com/x.tar.gz
  ref: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
EOF2
LD_DEBUG=files "$RILL" -C "$P" show tar-src.bst >"$TMP/out" 2>"$TMP/lderr"
RC=$?
if [ "$RC" -eq 0 ] && grep -q 'file=libyaml' "$TMP/lderr" && ! grep -q 'file=libcurl\|file=libarchive' "$TMP/lderr"; then
	pass "show of a tar source loads neither library"
else
	fail "show of a tar source loads neither library" "$RC $(grep 'file=' "$TMP/lderr" | head -5)"
fi

# host tools are checked when a source is loaded, as bst's preflight() does
element lz.bst <<'EOF2'
kind: import
sources:
- kind: tar
  url: https://example.com/x.tar.lz
  ref: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
EOF2
PATH=/nonexistent "$RILL" -C "$P" show lz.bst >"$TMP/lzout" 2>"$TMP/lzerr"
RC=$? OUT=$(cat "$TMP/lzout") ERR=$(cat "$TMP/lzerr")
expect_error "a .lz tarball without lzip on the host" "tar source at lz.bst [line 3 column 2]: Did not find 'lzip' in PATH: /nonexistent"
finish
