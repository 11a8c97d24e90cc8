#!/bin/sh
# t0430 — atomic artifact commits: builds killed with SIGKILL (backend and jobs) at random
# moments; after each kill every artifact in the cache must verify against its
# recorded digests (30 rounds, at least 20 kills must land), and a final build must complete.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

busybox_project kill
i=0
deps="- base.bst"
while [ $i -lt 8 ]; do
	element "e$i.bst" <<EOF2
kind: manual
build-depends:
$deps
config:
  install-commands:
  - mkdir -p %{install-root}/e$i
  - for n in \$(seq 1 150); do echo "e$i file \$n" > %{install-root}/e$i/f\$n; done
  - head -c 300000 /bin/busybox > %{install-root}/e$i/big
EOF2
	deps="$deps
- e$i.bst"
	i=$((i + 1))
done
element all.bst <<'EOF2'
kind: stack
depends:
- e7.bst
EOF2

# descendants PID: every process below PID, each stopped (SIGSTOP) as it is found
descendants() {
	for c in $(pgrep -P "$1"); do
		kill -STOP "$c" 2>/dev/null
		echo "$c"
		descendants "$c"
	done
}

# kill delays span what an uninterrupted round (e5-e7 rebuilt) takes, so that kills keep
# landing during the build however fast builds get
"$RILL" -C "$P" build --builders 2 all.bst >/dev/null 2>&1
rm -rf "$XDG_CACHE_HOME/rill/artifacts/refs/kill/e5" "$XDG_CACHE_HOME/rill/artifacts/refs/kill/e6" \
	"$XDG_CACHE_HOME/rill/artifacts/refs/kill/e7"
t0=$(date +%s%N)
"$RILL" -C "$P" build --builders 2 all.bst >/dev/null 2>&1
span=$(( ($(date +%s%N) - t0) / 1000000 ))
rm -rf "$XDG_CACHE_HOME/rill/artifacts/refs/kill/e5" "$XDG_CACHE_HOME/rill/artifacts/refs/kill/e6" \
	"$XDG_CACHE_HOME/rill/artifacts/refs/kill/e7"
kills=0
bad=0
round=0
while [ $round -lt 30 ]; do
	"$RILL" -C "$P" build --builders 2 all.bst >/dev/null 2>&1 &
	fe=$!
	delay=$(awk -v s="$round$$" -v span="$span" 'BEGIN { srand(s); printf "%.3f", 0.01 + rand() * span / 1000 }')
	sleep "$delay"
	# the backend (the frontend's child, in a session of its own) and its jobs (each in a
	# process group of its own), found by PID: stopped first so that no new job starts, then
	# every process of the tree killed
	be=$(pgrep -P "$fe")
	if [ -n "$be" ]; then
		kill -STOP "$be" 2>/dev/null
		tree=$(descendants "$be")
		kill -KILL "$be" $tree 2>/dev/null
		kills=$((kills + 1))
	fi
	kill -KILL "$fe" 2>/dev/null
	wait 2>/dev/null
	out=$("$RILL" -C "$P" artifact fsck 2>&1)
	if [ "$out" != "0 broken artifacts" ]; then
		bad=$((bad + 1))
		echo "    round $round after ${delay}s: $out"
	fi
	# always leave work to do: the last elements' refs go each round, everything every 6th
	rm -rf "$XDG_CACHE_HOME/rill/artifacts/refs/kill/e5" "$XDG_CACHE_HOME/rill/artifacts/refs/kill/e6" \
		"$XDG_CACHE_HOME/rill/artifacts/refs/kill/e7"
	[ $((round % 6)) -eq 5 ] && rm -rf "$XDG_CACHE_HOME/rill/artifacts"
	round=$((round + 1))
done
[ $kills -ge 20 ] && pass "killed builds $kills times" || fail "kills" "only $kills kills landed"
[ $bad -eq 0 ] && pass "every artifact verified after every kill" || fail "artifacts verified after kills" "$bad rounds found broken artifacts"
run_rill build --builders 2 all.bst
expect_ok "a build after the kills completes"
run_rill artifact fsck
expect_out "and leaves a consistent cache" "0 broken artifacts"
run_rill artifact checkout --directory "$TMP/co" all.bst
[ "$(cat "$TMP/co/e7/f150" 2>/dev/null)" = "e7 file 150" ] && pass "artifact content after the kills" || fail "content" "$ERR"

# fsck notices a corrupted object and --repair makes the next build rebuild it
obj=$(find "$XDG_CACHE_HOME/rill/artifacts/objects" -type f -size +100k | head -1)
chmod u+w "$obj" && printf 'X' | dd of="$obj" bs=1 seek=10 conv=notrunc 2>/dev/null
run_rill artifact fsck
[ "$RC" -eq 1 ] && printf '%s' "$OUT" | grep -q corrupt && pass "fsck reports a corrupted object" || fail "fsck corrupt" "rc=$RC $OUT"
run_rill artifact fsck --repair
run_rill artifact fsck
expect_out "repair leaves no broken artifact" "0 broken artifacts"
run_rill build --builders 2 all.bst
expect_ok "the repaired artifacts are rebuilt"
finish
