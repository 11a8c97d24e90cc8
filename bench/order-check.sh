#!/usr/bin/env bash
# order-check.sh — does rill list elements in bst's order? Random wide-list projects
# (gen-wide.py), one per seed, `show --deps all` by both tools, compared line by line.
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/order-check.sh [FIRST_SEED [COUNT]]      (default: 1 10)
# Environment:
#   N="150 250 400"   element counts, used in turn (one per seed)
#   WIDTH=400         the widest dependency list gen-wide.py may write
#   FORMAT='%{name}'  what both tools print (e.g. '%{name} %{key}' with RILL_ARGS=--bst-keys)
#   RILL_ARGS=        extra arguments for rill show
#   RILL=path BST=cmd OUT=dir (default: a temporary directory, removed at the end)
# Prints one line per seed and "N same, N different"; exit status 1 when any differs.
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$BENCH")
RILL=${RILL:-$TOP/rill}
BST=${BST:-bst}
N=${N:-150 250 400}
WIDTH=${WIDTH:-400}
FORMAT=${FORMAT:-%{name\}}
RILL_ARGS=${RILL_ARGS:-}
first=${1:-1}
count=${2:-10}
command -v "$BST" >/dev/null || { echo "order-check.sh: bst not found ('$BST')" >&2; exit 2; }
[ -x "$RILL" ] || { echo "order-check.sh: no rill at $RILL (run make)" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rill-order.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
OUT=${OUT:-$TMP}
mkdir -p "$TMP/cache" "$TMP/config"
read -r -a sizes <<<"$N"
same=0 diff=0 i=0
for ((seed = first; seed < first + count; seed++)); do
	n=${sizes[$((i % ${#sizes[@]}))]}
	i=$((i + 1))
	proj=$OUT/wide-$n-$seed
	python3 "$BENCH/gen-wide.py" "$n" "$proj" --seed "$seed" --max-width "$WIDTH" --if-changed -q
	XDG_CACHE_HOME=$TMP/cache XDG_CONFIG_HOME=$TMP/config "$BST" --no-colors -C "$proj" show \
		--deps all --format "$FORMAT" target.bst >"$TMP/bst.out" 2>"$TMP/bst.err" ||
		{ echo "seed $seed N=$n: bst failed: $(tail -n 3 "$TMP/bst.err")"; diff=$((diff + 1)); continue; }
	XDG_CACHE_HOME=$TMP/cache XDG_CONFIG_HOME=$TMP/config "$RILL" -C "$proj" show $RILL_ARGS \
		--deps all --format "$FORMAT" target.bst >"$TMP/rill.out" 2>"$TMP/rill.err" ||
		{ echo "seed $seed N=$n: rill failed: $(tail -n 3 "$TMP/rill.err")"; diff=$((diff + 1)); continue; }
	if cmp -s "$TMP/bst.out" "$TMP/rill.out"; then
		echo "seed $seed N=$n: same ($(wc -l <"$TMP/bst.out") lines)"
		same=$((same + 1))
	else
		echo "seed $seed N=$n: DIFFERENT: $(diff "$TMP/bst.out" "$TMP/rill.out" | grep -c '^[<>]') lines differ"
		diff=$((diff + 1))
	fi
done
echo "$same same, $diff different"
[ "$diff" -eq 0 ]
