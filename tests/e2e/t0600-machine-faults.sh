#!/bin/sh
# t0600 — faults of the machine: the artifact cache and the build directories on small
# filesystems of their own (tmpfs mounts, so as root only), filled up during a fetch, a build
# and an artifact commit, and made read-only. Each gives one clear error and exit status 1, the
# artifacts already committed still verify and check out, nothing half-written stays behind,
# and once there is room again the next build works. The cache on other filesystems than the
# project (and the build directory on another than the CAS) is the normal case here.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! mkdir -p "$TMP/probe" || ! mount -t tmpfs -o size=1m tmpfs "$TMP/probe" 2>/dev/null; then
	pass "skipped: tmpfs mounts need root (run make check as root to test full and read-only disks)"
	exit 0
fi
umount "$TMP/probe"
# the CAS, the source cache and the build directories: three filesystems of their own
ART="$XDG_CACHE_HOME/rill/artifacts"
SRC="$XDG_CACHE_HOME/rill/sources"
BLD="$XDG_CACHE_HOME/rill/build"
mkdir -p "$ART" "$SRC" "$BLD"
mount -t tmpfs -o size=64m tmpfs "$ART"
mount -t tmpfs -o size=64m tmpfs "$SRC"
mount -t tmpfs -o size=64m tmpfs "$BLD"
trap 'umount -l "$ART" "$SRC" "$BLD" 2>/dev/null; kill "$HTTPD_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

HTTPD="$TOP/tests/tools/flaky-httpd"
SRV="$TMP/srv"
mkdir -p "$SRV"
head -c 12000000 /dev/urandom >"$SRV/blob.bin"
blobsum=$(sha256sum "$SRV/blob.bin" | cut -d' ' -f1)
"$HTTPD" "$SRV" "$TMP/port" 2>"$TMP/httpd.log" &
HTTPD_PID=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
PORT=$(cat "$TMP/port")

busybox_project faults
cat >>"$P/project.conf" <<EOF2
aliases:
  srv: http://127.0.0.1:$PORT/
EOF2
element small.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/small && echo small >%{install-root}/small/file
EOF2
element big.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/big
  - for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "$i" >%{install-root}/big/f$i; cat /bin/busybox >>%{install-root}/big/f$i; done
EOF2
element fetched.bst <<EOF2
kind: import
sources:
- kind: remote
  url: srv:blob.bin
  ref: $blobsum
EOF2

# nothing but committed objects and refs: the temporary directories of the CAS and of the
# source cache are empty
leftovers() {
	find "$ART/tmp" "$SRC/tmp" -mindepth 1 2>/dev/null | head -5
}
cache_intact() {
	out=$("$RILL" -C "$P" artifact fsck 2>&1)
	[ "$out" = "0 broken artifacts" ] && pass "$1: the cache verifies" || fail "$1: the cache verifies" "$out"
	rm -rf "$TMP/co"
	"$RILL" -C "$P" artifact checkout --deps none --directory "$TMP/co" small.bst >/dev/null 2>&1
	[ "$(cat "$TMP/co/small/file" 2>/dev/null)" = small ] && pass "$1: a committed artifact checks out" ||
		fail "$1: a committed artifact checks out" "$(ls -R "$TMP/co" 2>&1 | head -5)"
	left=$(leftovers)
	[ -z "$left" ] && pass "$1: nothing half-written is left in the cache" || fail "$1: nothing half-written is left in the cache" "$left"
}
no_ref() {
	run_rill show --deps none --format '%{state}' "$2"
	[ "$OUT" != cached ] && pass "$1: $2 has no artifact" || fail "$1: $2 has no artifact" "$OUT"
}

run_rill build small.bst
[ "$RC" -eq 0 ] && pass "a build with the CAS and the build directory on filesystems of their own" || fail "build on other filesystems" "$ERR"

# a full disk during a fetch: 12 MB into a source cache of 4 MB
mount -o remount,size=4m "$SRC"
run_rill build fetched.bst
expect_error "a full disk during a fetch is an error" "No space left on device"
cache_intact "after the fetch"
no_ref "after the fetch" fetched.bst
run_rill show --deps none --format '%{state}' fetched.bst
expect_out "after the fetch: the source is still to be fetched" "fetch needed"

# a full disk during the build: the build directory has 4 MB for 12 (a failed build's
# directory is kept for inspection, as bst does: cleared here to make room)
mount -o remount,size=64m "$SRC"
rm -rf "$BLD"/*
mount -o remount,size=4m "$BLD"
run_rill build big.bst
expect_error "a full disk during a build is an error" "No space left on device"
cache_intact "after the build"
no_ref "after the build" big.bst

# a full disk during the artifact commit: the build fits, its artifact does not
rm -rf "$BLD"/*
mount -o remount,size=64m "$BLD"
used=$(df -k "$ART" | awk 'NR == 2 { print $3 }')
mount -o remount,size=$((used + 4096))k "$ART"
run_rill build big.bst
expect_error "a full disk during the artifact commit is an error" "No space left on device"
cache_intact "after the commit"
no_ref "after the commit" big.bst

# room again: everything builds
mount -o remount,size=64m "$ART"
run_rill build big.bst fetched.bst
[ "$RC" -eq 0 ] && pass "with room again, the next build works" || fail "with room again, the next build works" "$ERR"
cache_intact "after the rebuild"

# a read-only cache: what is cached still shows and checks out; a build that must commit fails
mount -o remount,ro "$ART"
run_rill show --deps none --format '%{state}' big.bst
expect_out "a read-only cache still shows what is cached" "cached"
rm -rf "$TMP/co"
run_rill artifact checkout --deps none --directory "$TMP/co" big.bst
[ "$RC" -eq 0 ] && [ -s "$TMP/co/big/f12" ] && pass "a read-only cache still checks out" || fail "a read-only cache still checks out" "$ERR"
element small.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/small && echo changed >%{install-root}/small/file
EOF2
run_rill build small.bst
expect_error "a build into a read-only cache is an error" "Read-only file system"
mount -o remount,rw "$ART"
run_rill build small.bst
[ "$RC" -eq 0 ] && pass "writable again, the build works" || fail "writable again, the build works" "$ERR"
out=$("$RILL" -C "$P" artifact fsck 2>&1)
[ "$out" = "0 broken artifacts" ] && pass "the cache verifies at the end" || fail "the cache verifies at the end" "$out"
finish
