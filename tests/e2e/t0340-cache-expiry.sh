#!/bin/sh
# t0340 — the cache quota (bst's `cache: quota:` in the user configuration) and artifact
# delete: over the quota after a build, the least recently used artifacts go, never one the
# build needs; what stays verifies; `artifact delete` removes an artifact and the files only it
# used; a backend SIGKILLed in the middle of an expiry loses nothing that is still referenced.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

busybox_project exp
for n in a b c d; do
	element "$n.bst" <<EOF2
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/$n && head -c 1500000 /dev/urandom >%{install-root}/$n/blob
EOF2
done
ART="$XDG_CACHE_HOME/rill/artifacts"
usage() { du -sk "$ART/objects" | cut -f1; }
has() { run_rill show --deps none --format '%{state}' "$1"; [ "$OUT" = cached ]; }

run_rill build base.bst
base_kb=$(usage)
mkdir -p "$XDG_CONFIG_HOME"
# room for base and about two of the 1.5 MB artifacts
quota_kb=$((base_kb + 3500))
printf 'cache:\n  quota: %sK\n' "$quota_kb" >"$XDG_CONFIG_HOME/buildstream.conf"
for n in a b c; do
	run_rill build "$n.bst"
	[ "$RC" -eq 0 ] || fail "build $n.bst under the quota" "$ERR"
	built=$ERR
	sleep 1.1       # distinct use times
done
has c.bst && pass "the newest artifact is kept" || fail "the newest artifact is kept" "$OUT"
has a.bst && fail "the least recently used artifact is removed" "a.bst is still cached" ||
	pass "the least recently used artifact is removed"
has base.bst && pass "an artifact the build needs is kept (base.bst)" || fail "base.bst is kept" "$OUT"
[ "$(usage)" -le "$quota_kb" ] && pass "the cache is within its quota ($(usage) KiB of $quota_kb)" ||
	fail "the cache is within its quota" "$(usage) KiB of $quota_kb"
expect_contains "the build says what it removed" "$built" "removed 1 least recently used artifacts"
out=$("$RILL" -C "$P" artifact fsck 2>&1)
[ "$out" = "0 broken artifacts" ] && pass "what stays verifies" || fail "what stays verifies" "$out"

# a quota below what one build needs: nothing of the build goes
printf 'cache:\n  quota: 1K\n' >"$XDG_CONFIG_HOME/buildstream.conf"
run_rill build d.bst
built=$ERR
[ "$RC" -eq 0 ] && has d.bst && has base.bst && pass "a quota too small keeps what the build needs" ||
	fail "a quota too small keeps what the build needs" "$built"
expect_contains "and says so" "$built" "what is left is needed by this build"
rm -f "$XDG_CONFIG_HOME/buildstream.conf"

# artifact delete
run_rill build c.bst
before=$(usage)
run_rill artifact delete c.bst
[ "$RC" -eq 0 ] && ! has c.bst && pass "artifact delete removes the artifact" || fail "artifact delete" "$ERR"
[ "$(usage)" -lt $((before - 1000)) ] && pass "and the files only it used ($before -> $(usage) KiB)" ||
	fail "and the files only it used" "$before -> $(usage) KiB"
has d.bst && has base.bst && pass "the others stay" || fail "the others stay"
run_rill artifact delete c.bst
expect_error "deleting what is not cached is an error" "c.bst: no artifact with key"

# SIGKILL during an expiry: the sweep is slowed down, the backend killed in the middle
for n in a b c; do run_rill build "$n.bst"; done
run_rill artifact delete d.bst
printf 'cache:\n  quota: %sK\n' "$((base_kb + 1000))" >"$XDG_CONFIG_HOME/buildstream.conf"
RILL_TEST_SWEEP_DELAY_MS=400 "$RILL" -C "$P" build --frontend plain d.bst >"$TMP/kill.log" 2>&1 &
fe=$!
# expiry removes refs first, then sweeps (slowly here): wait for a.bst's ref to go
i=0
while [ -n "$(ls "$ART/refs/exp/a" 2>/dev/null)" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
be=$(pgrep -P "$fe")
[ -n "$be" ] && kill -KILL "$be" $(pgrep -P "$be") 2>/dev/null
wait "$fe" 2>/dev/null
[ -z "$(ls "$ART/refs/exp/a" 2>/dev/null)" ] && ! grep -q "SUCCESS Build" "$TMP/kill.log" &&
	[ "$(usage)" -gt "$((base_kb + 1000))" ] &&
	pass "the backend was killed in the middle of an expiry (refs removed, sweep unfinished: $(usage) KiB)" ||
	fail "the backend was killed in the middle of an expiry" "$(usage) KiB; $(tail -3 "$TMP/kill.log")"
out=$("$RILL" -C "$P" artifact fsck 2>&1)
[ "$out" = "0 broken artifacts" ] && pass "a backend killed during expiry leaves every artifact whole" ||
	fail "a backend killed during expiry leaves every artifact whole" "$out"
rm -f "$XDG_CONFIG_HOME/buildstream.conf"
run_rill build a.bst b.bst c.bst d.bst
[ "$RC" -eq 0 ] && pass "and the next build works" || fail "and the next build works" "$ERR"
finish
