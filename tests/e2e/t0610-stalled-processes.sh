#!/bin/sh
# t0610 — processes that stop: a backend stopped with SIGSTOP is reported as not responding by
# `rill status` (exit 1), by `rill status --follow` (text and JSON) and by the attached plain
# frontend within a few seconds, and as responding again after SIGCONT, the build then
# finishing; a status reader SIGKILLed inside a read transaction neither stalls the build nor
# keeps its reader slot, and the table does not grow because of it. Every process signalled
# here is one this test started, found by its PID.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

HOLD="$TOP/tests/tools/hold-reader"
busybox_project stall
element slow.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - sleep 9
  - mkdir -p %{install-root}/out && echo done >%{install-root}/out/f
EOF2

# backend_pid: the backend of the running session, from the status table
backend_pid() {
	"$RILL" -C "$P" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["session"]["backend_pid"] if d.get("session") and d["status"] == "running" else "")'
}
wait_for() {   # wait_for FILE TEXT SECONDS
	_i=0
	while ! grep -qF -- "$2" "$1" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -le $(($3 * 10)) ] || return 1
		sleep 0.1
	done
}

"$RILL" -C "$P" build slow.bst >"$TMP/build.out" 2>&1 &
FE=$!
i=0
BE=
while [ -z "$BE" ] && [ $i -lt 100 ]; do BE=$(backend_pid); [ -n "$BE" ] || sleep 0.1; i=$((i + 1)); done
[ -n "$BE" ] && pass "the backend's pid is in the table ($BE)" || fail "the backend's pid is in the table" "$(cat "$TMP/build.out")"
wait_for "$TMP/build.out" "Running install-commands" 10
"$RILL" -C "$P" status --follow >"$TMP/follow.out" 2>&1 &
FOLLOW=$!
"$RILL" -C "$P" status --follow --json >"$TMP/follow.json" 2>&1 &
FOLLOWJ=$!
sleep 0.5
stopped_at=$(date +%s)
kill -STOP "$BE"
if wait_for "$TMP/build.out" "has not responded" 8; then
	took=$(($(date +%s) - stopped_at))
	pass "the attached frontend reports the stopped backend (after ${took}s)"
else
	fail "the attached frontend reports the stopped backend" "$(tail -5 "$TMP/build.out")"
fi
run_rill status
if [ "$RC" -eq 1 ] && printf '%s' "$OUT" | grep -q "NOT RESPONDING: the backend (pid $BE)"; then
	pass "rill status says the backend does not respond, exit status 1"
else
	fail "rill status says the backend does not respond" "rc $RC: $OUT $ERR"
fi
run_rill status --json
printf '%s' "$OUT" | python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["status"] != "hung")' &&
	pass "rill status --json says hung" || fail "rill status --json says hung" "$OUT"
wait_for "$TMP/follow.out" "has not responded" 3 && pass "rill status --follow reports it" ||
	fail "rill status --follow reports it" "$(cat "$TMP/follow.out")"
wait_for "$TMP/follow.json" '"responding":false' 3 && pass "rill status --follow --json reports it" ||
	fail "rill status --follow --json reports it" "$(tail -3 "$TMP/follow.json")"
kill -CONT "$BE"
wait_for "$TMP/build.out" "responds again" 8 && pass "the frontend sees the backend respond again" ||
	fail "the frontend sees the backend respond again" "$(tail -5 "$TMP/build.out")"
wait "$FE"
rc=$?
[ "$rc" -eq 0 ] && pass "the build finishes after SIGCONT" || fail "the build finishes after SIGCONT" "rc $rc: $(tail -5 "$TMP/build.out")"
wait "$FOLLOW" "$FOLLOWJ"
grep -q "responds again" "$TMP/follow.out" && pass "rill status --follow saw it respond again" ||
	fail "rill status --follow saw it respond again" "$(cat "$TMP/follow.out")"
python3 - "$TMP/follow.json" <<'EOP' && pass "the JSON stream has both backend events and ends with success" || fail "the JSON stream's backend events" "$(tail -3 "$TMP/follow.json")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ev = [l["backend"]["responding"] for l in lines if l.get("type") == "backend"]
sys.exit(0 if ev == [False, True] and lines[-1]["type"] == "end" and lines[-1]["status"] == "success" else 1)
EOP

# a reader killed inside a read transaction
SDIR=$(ls -d "$XDG_CACHE_HOME"/rill/status/* | head -1)
element chatty.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - for i in $(seq 1 60); do echo "line $i of output to make the table change"; sleep 0.05; done
  - mkdir -p %{install-root}/out && echo done >%{install-root}/out/f
EOF2
"$RILL" -C "$P" build chatty.bst >/dev/null 2>&1
rm -rf "$XDG_CACHE_HOME/rill/artifacts/refs/stall/chatty"
size_before=$(stat -c %s "$SDIR/data.mdb")
"$RILL" -C "$P" build chatty.bst >"$TMP/build2.out" 2>&1 &
FE=$!
sleep 0.5
"$HOLD" "$SDIR" >"$TMP/hold.out" &
HOLDER=$!
wait_for "$TMP/hold.out" held 5
kill -KILL "$HOLDER"
wait "$HOLDER" 2>/dev/null
start=$(date +%s)
wait "$FE"
rc=$?
[ "$rc" -eq 0 ] && pass "a reader killed inside a read transaction does not stop the build ($(($(date +%s) - start))s after)" ||
	fail "a reader killed inside a read transaction does not stop the build" "rc $rc: $(tail -5 "$TMP/build2.out")"
stale=$("$HOLD" --slots "$SDIR")
[ "$stale" = 0 ] && pass "the killed reader's slot is cleared" || fail "the killed reader's slot is cleared" "$stale stale slots"
size_after=$(stat -c %s "$SDIR/data.mdb")
[ "$size_after" -le $((size_before + 1572864)) ] && pass "the table grew at most the 1 MiB after which the backend clears dead readers ($size_before -> $size_after bytes)" ||
	fail "the table did not grow because of it" "$size_before -> $size_after bytes"
finish
