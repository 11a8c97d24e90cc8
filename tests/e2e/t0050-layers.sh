#!/bin/sh
# core/'s subsystems include only their own headers and those of the layers below them
# (docs/architecture.md): base, status, format, plugin, graph and cache side by side, build,
# sched, cli. Modules (x.c with x.h and x-internal.h) form no include circles.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
level() {
	case "$1" in
	base) echo 0 ;; status) echo 1 ;; format) echo 2 ;; plugin) echo 3 ;;
	graph | cache) echo 4 ;; build) echo 5 ;; sched) echo 6 ;; cli) echo 7 ;; *) echo 99 ;;
	esac
}
cd "$TOP/core" || exit 1
bad="" folders=0
for f in */*.c */*.h; do
	from=${f%%/*}
	for inc in $(sed -n 's/^#include "\([a-z]*\)\/[a-z0-9-]*\.h".*/\1/p' "$f" | sort -u); do
		[ "$inc" = "$from" ] && continue
		lf=$(level "$from") li=$(level "$inc")
		[ "$li" -ge "$lf" ] && bad="$bad $f includes $inc/;"
	done
done
for d in */; do [ -f "$d/README.md" ] && folders=$((folders + 1)); done
[ -z "$bad" ] && pass "no include goes up a layer" || fail "no include goes up a layer" "$bad"
# module-level circles: strongly connected components of the include graph
circles=$(python3 - <<'EOF2'
import glob, os, re, sys
edges = {}
def mod(path):
	m = path[:-2]
	return m[:-len('-internal')] if m.endswith('-internal') else m
for f in glob.glob('*/*.[ch]'):
	a = mod(f)
	for inc in re.findall(r'#include "([a-z]+/[a-z0-9-]+)\.h"', open(f).read()):
		b = mod(inc + '.h')
		if b != a:
			edges.setdefault(a, set()).add(b)
sys.setrecursionlimit(10000)
index, low, stack, on, out = {}, {}, [], set(), []
def visit(v):
	index[v] = low[v] = len(index)
	stack.append(v); on.add(v)
	for w in edges.get(v, ()):
		if w not in index:
			visit(w); low[v] = min(low[v], low[w])
		elif w in on:
			low[v] = min(low[v], index[w])
	if low[v] == index[v]:
		comp = []
		while True:
			w = stack.pop(); on.discard(w); comp.append(w)
			if w == v:
				break
		if len(comp) > 1:
			out.append(' '.join(sorted(comp)))
for v in sorted(edges):
	if v not in index:
		visit(v)
print('\n'.join(sorted(out)))
EOF2
)
if [ -z "$circles" ]; then
	pass "no include circle between modules"
else
	fail "no include circle between modules" "circles: $circles"
fi
[ "$(ls -d */ | wc -l)" -ge 4 ] && [ "$folders" -eq "$(ls -d */ | wc -l)" ] &&
	pass "every subsystem folder says what it owns (README.md)" || fail "every subsystem folder says what it owns (README.md)" "$folders"
big=$(wc -l */*.c */*.h | awk '$2 != "total" && $1 > 1500 { print $2 }' | tr '\n' ' ')
[ -z "$big" ] && pass "no file over 1,500 lines" || fail "no file over 1,500 lines" "$big"
ls ./*.c ./*.h >/dev/null 2>&1 && fail "no C file left at the top of core/" "$(ls ./*.c ./*.h)" || pass "no C file left at the top of core/"
finish
