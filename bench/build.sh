#!/bin/sh
# build.sh — full build and no-op rebuild of a generated project (N trivial `manual` elements on
# a busybox sysroot, each built in its own sandbox), rill against BuildStream 1.6.8 measured in
# the same run. Usage: bench/build.sh [N] (default 800). RILL_BUILDERS / BST_BUILDERS: builders.
# SPDX-License-Identifier: Apache-2.0
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-800}
work=$(mktemp -d "${TMPDIR:-/tmp}/rill-bench-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
proj="$work/project"
python3 "$top/bench/gen-project.py" "$n" "$proj" --sysroot -q
builders=${RILL_BUILDERS:-4}

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

echo "project: $n elements + base + target, builders $builders"
# the log files exist before any clock starts: creating a file inside the timed window costs
# up to tens of ms on a filesystem busy with deletions (ext4 without a journal), which is a
# third of a no-op rebuild
: >"$work/rill-full.log"; : >"$work/rill-noop.log"; : >"$work/bst-full.log"; : >"$work/bst-noop.log"
export XDG_CONFIG_HOME="$work/config"

# rill
export XDG_CACHE_HOME="$work/rill-cache"
t0=$(now); "$top/rill" -C "$proj" build --builders "$builders" target.bst >"$work/rill-full.log" 2>&1; t1=$(now)
rill_full=$(elapsed "$t0" "$t1")
t0=$(now); "$top/rill" -C "$proj" build --builders "$builders" target.bst >"$work/rill-noop.log" 2>&1; t1=$(now)
rill_noop=$(elapsed "$t0" "$t1")
grep 'Build Queue' "$work/rill-full.log" "$work/rill-noop.log" | sed 's/^/  rill: /'
echo "rill full build: ${rill_full}s   no-op rebuild: ${rill_noop}s"

if [ -n "$SKIP_BST" ] || ! command -v bst >/dev/null; then
	echo "bst not measured (install the Debian package buildstream, or unset SKIP_BST)"
	exit 0
fi
export XDG_CACHE_HOME="$work/bst-cache"
t0=$(now); bst --no-interactive --builders "${BST_BUILDERS:-$builders}" -C "$proj" build target.bst >"$work/bst-full.log" 2>&1 || { tail -30 "$work/bst-full.log"; exit 1; }; t1=$(now)
bst_full=$(elapsed "$t0" "$t1")
t0=$(now); bst --no-interactive --builders "${BST_BUILDERS:-$builders}" -C "$proj" build target.bst >"$work/bst-noop.log" 2>&1; t1=$(now)
bst_noop=$(elapsed "$t0" "$t1")
echo "bst 1.6.8 full build: ${bst_full}s   no-op rebuild: ${bst_noop}s"
printf 'full build: bst/rill = %.1fx    no-op rebuild: bst/rill = %.1fx\n' \
	"$(echo "$bst_full / $rill_full" | bc -l)" "$(echo "$bst_noop / $rill_noop" | bc -l)"
