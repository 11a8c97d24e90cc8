#!/bin/sh
# A generated 5,000-element layered graph (big enough for the loader to sort dependencies on
# two threads): the result is the same as with one thread, and every element is listed once.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
new_project big <<'EOF2'
name: big
element-path: elements
EOF2
awk -v dir="$P/elements" 'BEGIN {
	srand(7); n = 5000; layers = 35; per = n / layers
	for (i = 0; i < n; i++) {
		layer = int(i / per); f = dir "/e" i ".bst"
		print "kind: manual" > f
		print "config:\n  build-commands: [\"echo " i "\"]" > f
		if (layer > 0) {
			print "depends:" > f
			k = 1 + int(rand() * 5)
			for (j = 0; j < k; j++) {
				back = 1 + int(rand() * (rand() < 0.75 ? (layer < 4 ? layer : 4) : layer))
				t = int((layer - back) * per + rand() * per)
				if (!(t in seen)) { seen[t] = 1; print "- " (rand() < 0.3 ? "filename: e" t ".bst\n  type: build" : "e" t ".bst") > f }
			}
			delete seen
		}
		close(f)
		top = top "- e" i ".bst\n"
	}
	f = dir "/all.bst"; printf "kind: stack\ndepends:\n%s", top > f; close(f)
}'
run_rill show --deps all --format '%{name} %{full-key}' all.bst
two="$OUT"
[ "$RC" -eq 0 ] && pass "5,000 elements load" || fail "5,000 elements load" "$ERR"
export RILL_THREADS=1
run_rill show --deps all --format '%{name} %{full-key}' all.bst
one="$OUT"
unset RILL_THREADS
[ -n "$one" ] && [ "$one" = "$two" ] && pass "two threads sort exactly like one" || fail "two threads sort exactly like one"
n=$(printf '%s\n' "$two" | awk '{print $1}' | sort -u | wc -l)
[ "$n" -eq 5001 ] && pass "every element listed once" || fail "every element listed once" "$n"

# files the loader's helper thread parses ahead: one with a directive (its dependencies depend
# on an option), then errors deep in the graph, reported exactly as with one thread
cat >> "$P/project.conf" <<'EOF2'
options:
  extra:
    type: bool
    description: one more dependency
    default: False
EOF2
cat > "$P/elements/e4000.bst" <<'EOF2'
kind: manual
depends:
- e3990.bst
(?):
- extra:
    depends:
      (>):
      - e1.bst
EOF2
run_rill show -o extra True --deps all --format '%{name} %{full-key}' all.bst
two="$OUT"
RILL_THREADS=1 run_rill show -o extra True --deps all --format '%{name} %{full-key}' all.bst
[ -n "$OUT" ] && [ "$OUT" = "$two" ] && pass "a file with directives loads alike on two threads" || fail "a file with directives loads alike on two threads" "$ERR"
# same_error NAME TEXT: `rill show all.bst` fails with an error containing TEXT, the same on
# two threads as on one
same_error() {
	run_rill show all.bst
	two="$RC $ERR"
	RILL_THREADS=1 run_rill show all.bst
	case "$two" in
	1*"$2"*) [ "$two" = "$RC $ERR" ] && pass "$1" || fail "$1" "$two | $RC $ERR" ;;
	*) fail "$1" "$two" ;;
	esac
}
printf 'kind: manual\ndepends:\n- e3990.bst\n- [unclosed\n' > "$P/elements/e4000.bst"
same_error "a YAML error deep in the graph: the same error on two threads" 'e4000.bst [line '
printf 'kind: manual\ndepends:\n- e3990.bst\n- missing.bst\n' > "$P/elements/e4000.bst"
same_error "a missing file deep in the graph: the same error on two threads" 'missing.bst'
printf 'kind: manual\ndepends:\n- e3990.bst\n' > "$P/elements/e4000.bst"

# elements are resolved on two threads, in alternate runs of the list: errors of resolution
# (the first in list order, wherever it is) and warnings (in list order) as on one thread
cp "$P/elements/e2500.bst" "$TMP/e2500.bst"
cp "$P/elements/e4100.bst" "$TMP/e4100.bst"
printf 'variables:\n  x: "%%{nope}"\n' >> "$P/elements/e4100.bst"
same_error "an undefined variable deep in the graph: the same error on two threads" "Reference to undefined variable 'nope'"
printf 'variables:\n  y: "%%{nada}"\n' >> "$P/elements/e2500.bst"
same_error "two elements with errors: the first in order, as on one thread" "Reference to undefined variable"
printf 'kind: no-such-kind\n' > "$P/elements/e2500.bst"
same_error "an unknown kind deep in the graph: the same error on two threads" "no-such-kind"
cp "$TMP/e2500.bst" "$P/elements/e2500.bst"
cp "$TMP/e4100.bst" "$P/elements/e4100.bst"
for i in 7 300 1203 2222 2223 3001 4999; do
	printf 'sources:\n- kind: remote\n  url: https://example.com/f%s.bin\n  ref: 1111111111111111111111111111111111111111111111111111111111111111\n' "$i" >> "$P/elements/e$i.bst"
done
run_rill show --deps all --format '%{name} %{full-key}' all.bst
two="$RC $OUT $ERR"
RILL_THREADS=1 run_rill show --deps all --format '%{name} %{full-key}' all.bst
if [ "$two" = "$RC $OUT $ERR" ] && [ "$(printf '%s\n' "$ERR" | grep -c 'unaliased-url')" -eq 7 ]; then
	pass "warnings of elements resolved on two threads: all, in order"
else
	fail "warnings of elements resolved on two threads: all, in order" "$ERR"
fi
finish
