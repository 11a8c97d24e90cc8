#!/bin/sh
# t0560 — many readers of one build: followers read only what changed since the generation
# they last saw (the change records of the table), wait on the backend's commit tick instead of
# polling, and still end with exactly the state a full read gives; with ten followers attached
# from the start, every one has all messages (contiguous seqs) and the final state; an idle
# follower costs no CPU while nothing changes.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
busybox_project readers
i=0
printf 'kind: stack\ndepends:\n' >"$P/elements/all.bst"
while [ $i -lt 40 ]; do
	cat >"$P/elements/e$i.bst" <<EOB
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/share
  - echo $i > %{install-root}/share/e$i
EOB
	printf -- '- e%d.bst\n' $i >>"$P/elements/all.bst"
	i=$((i + 1))
done
"$RILL" -C "$P" build base.bst >/dev/null 2>&1
"$RILL" -C "$P" build all.bst >"$TMP/build.log" 2>&1 &
b=$!
i=0
until "$RILL" -C "$P" status --json 2>/dev/null | grep -q '"status":"running"' || ! kill -0 $b 2>/dev/null; do
	sleep 0.01
done
i=0
while [ $i -lt 10 ]; do
	"$RILL" -C "$P" status --follow --json >"$TMP/f.$i" 2>"$TMP/fe.$i" &
	i=$((i + 1))
done
wait $b
brc=$?
wait
"$RILL" -C "$P" status --json >"$TMP/final.json"
[ $brc -eq 0 ] && pass "the build succeeds with ten followers" || fail "the build succeeds with ten followers" "$(tail "$TMP/build.log")"
good=0
i=0
while [ $i -lt 10 ]; do
	if python3 - "$TMP/f.$i" "$TMP/final.json" <<'EOPY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
final = json.load(open(sys.argv[2]))
assert lines[0]['type'] == 'snapshot' and lines[-1]['type'] == 'end', 'snapshot .. end'
assert lines[-1]['status'] == 'success', lines[-1]
# fold the stream: the snapshot, then each changed record
els = {e['id']: e for e in lines[0]['elements']}
jobs = {j['id']: j for j in lines[0]['jobs']}
for l in lines[1:]:
    if l['type'] == 'element':
        els[l['element']['id']] = l['element']
    elif l['type'] == 'job':
        jobs[l['job']['id']] = l['job']
want = {e['id']: e for e in final['elements']}
assert els == want, 'elements differ from a full read: %r' % [k for k in want if els.get(k) != want[k]][:5]
wantj = {j['id']: j for j in final['jobs']}
assert {k: v for k, v in jobs.items() if k in wantj} == wantj, 'jobs differ from a full read'
seqs = [l['message']['seq'] for l in lines if l['type'] == 'message']
assert seqs and all(b == a + 1 for a, b in zip(seqs, seqs[1:])), 'messages lost'
EOPY
	then good=$((good + 1)); else cat "$TMP/fe.$i"; fi
	i=$((i + 1))
done
[ $good -eq 10 ] && pass "all ten followers fold to the state a full read gives, with every message" ||
	fail "all ten followers fold to the state a full read gives, with every message" "$good of 10"

# a reconnect: a follower killed in the middle of a build, then --since the generation of the
# last line it printed: together the two streams have every message once and the final state
for i in 0 1 2 3 4 5; do sed -i "s/echo \([0-9]*\) > /echo \1 again > /" "$P/elements/e$i.bst"; done
cat >"$P/elements/pause.bst" <<'EOB'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - sleep 1.5
  - mkdir -p %{install-root}/share
EOB
printf -- '- pause.bst\n' >>"$P/elements/all.bst"
"$RILL" -C "$P" build --builders 1 all.bst >"$TMP/build2.log" 2>&1 &
b=$!
until "$RILL" -C "$P" status --json 2>/dev/null | grep -q '"status":"running"' || ! kill -0 $b 2>/dev/null; do
	sleep 0.01
done
"$RILL" -C "$P" status --follow --json >"$TMP/first" 2>/dev/null &
f=$!
sleep 0.7
kill $f 2>/dev/null
wait $f 2>/dev/null
gen=$(tail -n 1 "$TMP/first" | python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["generation"])')
sleep 0.5
"$RILL" -C "$P" status --follow --json --since "$gen" >"$TMP/second" 2>"$TMP/second.err"
src=$?
wait $b
"$RILL" -C "$P" status --json >"$TMP/final2.json"
if [ $src -eq 0 ] && python3 - "$TMP/first" "$TMP/second" "$TMP/final2.json" <<'EOPY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
b = [json.loads(l) for l in open(sys.argv[2])]
final = json.load(open(sys.argv[3]))
assert a[0]['type'] == 'snapshot' and b[0]['type'] != 'snapshot', 'no second snapshot'
assert b[-1]['type'] == 'end' and b[-1]['status'] == 'success', b[-1]
gens = [l['generation'] for l in a[1:] + b[:-1]]
assert all(y >= x for x, y in zip(gens, gens[1:])), 'generations go back'
seqs = [l['message']['seq'] for l in a + b if l['type'] == 'message']
assert seqs and all(y == x + 1 for x, y in zip(seqs, seqs[1:])), 'messages lost or repeated across the reconnect'
els = {e['id']: e for e in a[0]['elements']}
for l in a[1:] + b:
    if l['type'] == 'element':
        els[l['element']['id']] = l['element']
assert els == {e['id']: e for e in final['elements']}, 'the folded elements differ from a full read'
EOPY
then
	pass "a follower resumed with --since loses nothing and repeats nothing"
else
	fail "a follower resumed with --since loses nothing and repeats nothing" "rc $src $(cat "$TMP/second.err") gen $gen"
fi
"$RILL" -C "$P" status --follow --json --since 999999999 >/dev/null 2>"$TMP/since.err"
[ $? -eq 2 ] || grep -q "is not in the status table" "$TMP/since.err" && pass "an unknown generation is an error" ||
	fail "an unknown generation is an error" "$(cat "$TMP/since.err")"
# filters: one element's records only, and only message change records
"$RILL" -C "$P" status --follow --json --element e3.bst --messages >"$TMP/filtered"
python3 - "$TMP/filtered" <<'EOPY' && pass "--element and --messages keep only those records" || fail "--element and --messages keep only those records" "$(head -3 "$TMP/filtered")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [e['name'] for e in lines[0]['elements']] == ['e3.bst'], lines[0]['elements']
assert all(j['element'] == 'e3.bst' for j in lines[0]['jobs'])
assert not [l for l in lines[1:-1] if l['type'] == 'job']
EOPY

# an idle follower (a finished build's table does not change; a running one that waits):
# the backend of a build held at a slow command commits rarely; the follower sleeps on the tick
cat >"$P/elements/slow.bst" <<'EOB'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - sleep 3
  - mkdir -p %{install-root}/share
EOB
"$RILL" -C "$P" build slow.bst >/dev/null 2>&1 &
b=$!
until "$RILL" -C "$P" status --json 2>/dev/null | grep -q '"status":"running"' || ! kill -0 $b 2>/dev/null; do
	sleep 0.01
done
/usr/bin/time -f '%e %U %S' -o "$TMP/idle.time" "$RILL" -C "$P" status --follow --json >/dev/null 2>&1
wait $b
cpu=$(awk '{ printf "%d", ($2 + $3) * 1000 }' "$TMP/idle.time")
wall=$(awk '{ printf "%d", $1 * 1000 }' "$TMP/idle.time")
[ "$wall" -ge 2000 ] && [ "$cpu" -le 60 ] &&
	pass "a follower of a quiet build sleeps (${cpu} ms of CPU in ${wall} ms)" ||
	fail "a follower of a quiet build sleeps" "${cpu} ms of CPU in ${wall} ms"
finish
