#!/bin/sh
# readers.sh — what many status readers cost a build: the same N-element build (bench/gen-project.py,
# busybox sysroot) with no reader, with F `rill status --follow --json` followers and with R
# library readers polling every millisecond (bench/reader-bench follow). Prints the build's wall
# time in each case (and the ratio to the build with no reader), the CPU each follower used (and
# its share of the build's duration), and whether every follower saw the final state with
# contiguous generations.
# Usage: bench/readers.sh [N [F [R]]]   (defaults 200, 50, 100; RILL_BUILDERS, default 2)
# SPDX-License-Identifier: Apache-2.0
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}
f=${2:-50}
r=${3:-100}
for b in rill rill-backend bench/reader-bench bench/cpu-of; do
	[ -x "$top/$b" ] || { echo "readers.sh: $top/$b is missing: run 'make bench'" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/rill-bench-readers.XXXXXX")
trap 'rm -rf "$work"' EXIT
proj="$work/project"
python3 "$top/bench/gen-project.py" "$n" "$proj" --sysroot -q
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
rill="$top/rill"
builders=${RILL_BUILDERS:-2}

now() { date +%s.%N; }

# each build in a cache of its own, with the sysroot (base.bst) built first, untimed
fresh() {
	export XDG_CACHE_HOME="$work/cache-$1"
	"$rill" -C "$proj" build base.bst >/dev/null 2>&1
}
build() {    # build LABEL: a clean build of target.bst; prints seconds
	fresh "$1"
	s=$(now)
	"$rill" -C "$proj" build --builders "$builders" target.bst >"$work/build-$1.log" 2>&1
	e=$(now)
	echo "$e - $s" | bc
}
base=$(build none)
echo "project: $n elements + base + target, builders $builders"
printf 'build, no reader:            %6.2f s\n' "$base"

# F followers: each started once the build runs, its CPU time measured by /usr/bin/time
follow_build() {
	fresh followers
	s=$(now)
	"$rill" -C "$proj" build --builders "$builders" target.bst >"$work/build-f.log" 2>&1 &
	b=$!
	until "$rill" -C "$proj" status --json 2>/dev/null | grep -q '"status":"running"' || ! kill -0 $b 2>/dev/null; do
		sleep 0.01
	done
	i=0
	while [ $i -lt "$f" ]; do
		"$top/bench/cpu-of" "$work/cpu.$i" "$rill" -C "$proj" status --follow --json >"$work/out.$i" 2>/dev/null &
		i=$((i + 1))
	done
	wait $b
	e=$(now)
	wait
	echo "$e - $s" | bc
}
tf=$(follow_build)
cpu=$(cat "$work"/cpu.* | awk '{ c = ($1 + $2) / 1e6; t += c; if (c > m) m = c } END { printf "%.4f %.4f", t / NR, m }')
avg=${cpu% *}
max=${cpu#* }
printf 'build, %3d followers:        %6.2f s  (%.3fx)\n' "$f" "$tf" "$(echo "$tf / $base" | bc -l)"
printf 'follower CPU: mean %.4f s, max %.4f s  (%.2f%% of the build, max %.2f%%)\n' "$avg" "$max" \
	"$(echo "100 * $avg / $tf" | bc -l)" "$(echo "100 * $max / $tf" | bc -l)"
ok=0
i=0
while [ $i -lt "$f" ]; do
	if python3 - "$work/out.$i" <<'EOPY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0]['type'] == 'snapshot' and lines[-1]['type'] == 'end', 'snapshot .. end'
assert lines[-1]['status'] == 'success', lines[-1]['status']
gens = [l['generation'] for l in lines if 'generation' in l]
assert all(b >= a for a, b in zip(gens, gens[1:])), 'generations go back'
seqs = [l['message']['seq'] for l in lines if l['type'] == 'message']
assert all(b == a + 1 for a, b in zip(seqs, seqs[1:])), 'messages lost'
EOPY
	then ok=$((ok + 1)); fi
	i=$((i + 1))
done
echo "followers with the final state and no message lost: $ok of $f"

# R library readers polling every millisecond
lib_build() {
	fresh library
	s=$(now)
	"$rill" -C "$proj" build --builders "$builders" target.bst >"$work/build-r.log" 2>&1 &
	b=$!
	until "$rill" -C "$proj" status --json 2>/dev/null | grep -q '"status":"running"' || ! kill -0 $b 2>/dev/null; do
		sleep 0.01
	done
	i=0
	while [ $i -lt "$r" ]; do
		"$top/bench/reader-bench" follow "$proj" 1000 >/dev/null 2>&1 &
		i=$((i + 1))
	done
	wait $b
	e=$(now)
	wait
	echo "$e - $s" | bc
}
tr_=$(lib_build)
printf 'build, %3d library readers:  %6.2f s  (%.3fx)\n' "$r" "$tr_" "$(echo "$tr_ / $base" | bc -l)"
