#!/bin/sh
# reader.sh — the status table from the readers' side, over a real build: how long a change takes
# to reach a reader (each message's time_ns against the moment a follower sees it; goal 50 ms),
# through the library polling every millisecond and through `rill status --follow --json`
# (10 ms poll), and what a poll costs when nothing changed (goal 1 µs).
# Usage: bench/reader.sh [N] (default 100 generated elements; RILL_BUILDERS, default 2).
# Exit status 0 when both goals are met. Needs `make rill rill-backend bench/reader-bench`.
# SPDX-License-Identifier: Apache-2.0
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100}
for b in rill rill-backend bench/reader-bench; do
	[ -x "$top/$b" ] || { echo "reader.sh: $top/$b is missing: run 'make all bench/reader-bench'" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/rill-bench-reader.XXXXXX")
trap 'rm -rf "$work"' EXIT
proj="$work/project"
python3 "$top/bench/gen-project.py" "$n" "$proj" --sysroot -q
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
rill="$top/rill"
bench="$top/bench/reader-bench"

echo "project: $n elements + base + target, builders ${RILL_BUILDERS:-2}"
"$rill" -C "$proj" build --builders "${RILL_BUILDERS:-2}" target.bst >"$work/build.log" 2>&1 &
build=$!
# attach once the build runs: what came before is history, never replayed to a late reader
i=0
until "$rill" -C "$proj" status --json 2>/dev/null | grep -q '"status":"running"'; do
	i=$((i + 1))
	[ $i -lt 600 ] || { echo "reader.sh: the build did not start" >&2; cat "$work/build.log" >&2; exit 1; }
	sleep 0.05
done
"$bench" follow "$proj" 1000 >"$work/lib.txt" &
lib=$!
"$rill" -C "$proj" status --follow --json | "$bench" stamp >"$work/cmd.txt" &
cmd=$!
wait $build || { echo "reader.sh: the build failed:" >&2; tail -20 "$work/build.log" >&2; exit 1; }
rc=0
wait $lib || rc=1
wait $cmd || rc=1
grep 'Build Queue' "$work/build.log" | sed 's/^/  /'
cat "$work/lib.txt" "$work/cmd.txt"
# the table is idle now: polls find nothing new
"$bench" poll "$proj" || rc=1
exit $rc
