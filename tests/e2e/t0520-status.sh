#!/bin/sh
# t0520 — the external readers of the status table: `rill status [--json]` and `--follow [--json]`
# from anywhere in the project, before any build, during one (late attach: the whole state first,
# never a replay), after success and failure, and after the backend was killed (SIGKILL); exit
# statuses; JSON validity with hostile log output; the editor examples in examples/editor.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

STATUSLINE="$TOP/examples/editor/rill-statusline"
STATUSBAR="$TOP/examples/editor/rill-status-bar.py"
export RILL

# py CASE SCRIPT FILE...: run a python check on files; it prints "ok" or what is wrong.
py() {
	_case=$1
	_script=$2
	shift 2
	_r=$(python3 -c "$_script" "$@" 2>&1)
	if [ "$_r" = ok ]; then pass "$_case"; else fail "$_case" "$_r"; fi
}

# wait_job ELEMENT: until a job for ELEMENT runs (10 s at most).
wait_job() {
	_i=0
	until "$RILL" -C "$P" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(j["element"] == sys.argv[1] and j["result"] == "running" for j in d["jobs"]) else 1)' "$1"; do
		_i=$((_i + 1))
		[ $_i -lt 200 ] || { fail "a job for $1 started" "$(cat "$TMP/build.err" 2>/dev/null)"; return 1; }
		sleep 0.05
	done
}

busybox_project bb
element slow.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - echo "working"
  - sleep 4
EOF2
element hostile.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - sleep 2.5
  - printf 'tab\there "quoted" back\\slash ctl\001 latin1:\351 utf8:\303\251\n'
  - exit 3
EOF2
element doomed.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - sleep 6
EOF2
mkdir -p "$P/elements/sub/dir" "$TMP/noproject"

# ---- command line ------------------------------------------------------------------------
run_rill status --help
expect_contains "status --help lists the exit statuses" "$OUT" "3  no build has run in this project"
expect_contains "status --help names --follow" "$OUT" "-f, --follow"
run_rill --help
expect_contains "rill --help lists status" "$OUT" "status             Show the state of the project's build"
run_rill status --bogus
[ "$RC" -eq 2 ] && expect_contains "unknown option is a usage error" "$ERR" "No such option: --bogus" ||
	fail "unknown option exit status" "rc=$RC $ERR"
run_rill status extra
[ "$RC" -eq 2 ] && expect_contains "extra argument is a usage error" "$ERR" "unexpected extra argument (extra)" ||
	fail "extra argument exit status" "rc=$RC $ERR"
"$RILL" -C "$TMP/noproject" status >"$TMP/out" 2>"$TMP/err"
RC=$?
[ "$RC" -eq 2 ] && expect_contains "outside a project: exit 2 and why" "$(cat "$TMP/err")" "no project.conf found" ||
	fail "outside a project" "rc=$RC"

# ---- before any build ----------------------------------------------------------------------
run_rill status
[ "$RC" -eq 3 ] && expect_contains "no build yet: exit 3" "$OUT" "no build has run in this project" ||
	fail "no build yet: exit 3" "rc=$RC $OUT $ERR"
run_rill status --json
[ "$RC" -eq 3 ] && pass "no build yet, --json: exit 3" || fail "no build yet, --json: exit 3" "rc=$RC"
printf '%s\n' "$OUT" >"$TMP/none.json"
py "no build yet, --json: status none, session null" '
import json, sys
d = json.load(open(sys.argv[1]))
print("ok" if d["type"] == "snapshot" and d["schema"] == 1 and d["status"] == "none" and d["session"] is None
      and d["elements"] == [] else d)' "$TMP/none.json"
run_rill status --follow --json
printf '%s\n' "$OUT" >"$TMP/none.jsonl"
[ "$RC" -eq 3 ] && py "no build yet, --follow --json: snapshot then end" '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
print("ok" if [r["type"] for r in recs] == ["snapshot", "end"] and recs[1]["status"] == "none"
      and recs[1]["exit"] == 3 else recs)' "$TMP/none.jsonl" || fail "no build yet, --follow: exit 3" "rc=$RC"
"$STATUSLINE" -C "$P" >"$TMP/out"
RC=$?
[ "$RC" -eq 3 ] && [ "$(cat "$TMP/out")" = "rill: no build" ] && pass "statusline before any build" ||
	fail "statusline before any build" "rc=$RC $(cat "$TMP/out")"

# ---- a running build, readers attaching late ------------------------------------------------
"$RILL" -C "$P" build slow.bst >/dev/null 2>"$TMP/build.err" &
build=$!
wait_job slow.bst
"$RILL" -C "$P" status --follow --json >"$TMP/follow.jsonl" 2>"$TMP/follow.err" &
follow_json=$!
"$RILL" -C "$P/elements/sub" status --follow >"$TMP/follow.txt" 2>&1 &
follow_text=$!
python3 "$STATUSBAR" -C "$P/elements" --dump >"$TMP/bar.txt" 2>&1 &
bar=$!
"$STATUSLINE" -C "$P" --watch >"$TMP/watch.txt" 2>&1 &
watch=$!

(cd "$P/elements/sub/dir" && "$RILL" status >"$TMP/out" 2>"$TMP/err")
RC=$?
OUT=$(cat "$TMP/out")
[ "$RC" -eq 0 ] && pass "running build: exit 0" || fail "running build: exit 0" "rc=$RC $(cat "$TMP/err")"
expect_contains "from a subdirectory: the running build" "$OUT" "bb: build of slow.bst: running (started"
expect_contains "the running job, its pid and log" "$OUT" "running jobs (1):
  build:slow.bst  pid "
expect_contains "the element counts" "$OUT" "elements: 2 total: 1 building, 1 cached"
"$RILL" -C "$P/elements/sub" status --json >"$TMP/running.json"
py "-C a subdirectory, --json: running, the job and the building element" '
import json, sys
d = json.load(open(sys.argv[1]))
jobs = [j for j in d["jobs"] if j["result"] == "running"]
els = {e["name"]: e["state"] for e in d["elements"]}
ok = (d["status"] == "running" and d["session"]["state"] == "running" and not d["session"]["final"]
      and d["session"]["targets"] == ["slow.bst"] and [j["element"] for j in jobs] == ["slow.bst"]
      and jobs[0]["log_path"].endswith(".log") and els == {"base.bst": "cached", "slow.bst": "building"})
print("ok" if ok else d)' "$TMP/running.json"
line=$("$STATUSLINE" -C "$P/elements")
[ "$line" = "rill: build 1/2, 1 running: slow.bst" ] && pass "statusline while building" ||
	fail "statusline while building" "$line"

wait $build
wait $follow_json
rc_json=$?
wait $follow_text
rc_text=$?
wait $bar
rc_bar=$?
# --watch polls every 100 ms: give it a moment to see the end
_i=0
while ! tail -1 "$TMP/watch.txt" | grep -q "build ok" && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
kill $watch
[ $rc_json -eq 0 ] && [ $rc_text -eq 0 ] && [ $rc_bar -eq 0 ] && pass "followers exit 0 when the build succeeds" ||
	fail "followers' exit status" "json $rc_json, text $rc_text, bar $rc_bar: $(cat "$TMP/follow.err")"
py "late attach: one full snapshot first, then only newer changes, then the end" '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
types = [r["type"] for r in recs]
snap, end = recs[0], recs[-1]
msgs = [r["message"] for r in recs if r["type"] == "message"]
seqs = [m["seq"] for m in msgs]
last = snap["session"]["last_seq"] if types[0] == "snapshot" else None
problems = []
if types[0] != "snapshot" or types.count("snapshot") != 1: problems.append("snapshot first, once")
if snap["status"] != "running" or {e["name"]: e["state"] for e in snap["elements"]} != {"base.bst": "cached", "slow.bst": "building"}:
    problems.append("the snapshot holds the current state")
if not msgs or seqs != list(range(last + 1, last + 1 + len(seqs))): problems.append("messages continue after the snapshot, none replayed: %s after %s" % (seqs, last))
if not any(r["type"] == "element" and r["element"]["name"] == "slow.bst" and r["element"]["state"] == "cached" for r in recs):
    problems.append("the element change")
if not any(r["type"] == "session" and r["session"]["state"] == "success" for r in recs): problems.append("the session change")
if not any(m["type"] == "SUCCESS" and m["element"] == "slow.bst" for m in msgs): problems.append("the SUCCESS message")
if types[-1] != "end" or end["status"] != "success" or end["exit"] != 0 or end["running_jobs"] != []: problems.append("the end record")
print("ok" if not problems else "; ".join(problems) + "\n" + "\n".join(types))' "$TMP/follow.jsonl"
expect_contains "human follower: the messages as they come" "$(cat "$TMP/follow.txt")" "SUCCESS build:slow.bst  Build complete"
expect_contains "human follower: the end" "$(tail -2 "$TMP/follow.txt")" "bb: no build running; the last build of slow.bst finished at"
expect_contains "status-bar example: the line while building" "$(cat "$TMP/bar.txt")" "rill: build 1/2, running: slow.bst"
expect_contains "status-bar example: the line at the end" "$(cat "$TMP/bar.txt")" "rill: build success"
"$RILL" -C "$P" status --json >"$TMP/after.json"
py "status-bar example: snapshot plus changes rebuild the final state" '
import json, sys
kept = json.loads(open(sys.argv[1]).read().splitlines()[-1])
now = {e["name"]: e["state"] for e in json.load(open(sys.argv[2]))["elements"]}
print("ok" if kept == now == {"base.bst": "cached", "slow.bst": "cached"} else (kept, now))' "$TMP/bar.txt" "$TMP/after.json"
first=$(head -1 "$TMP/watch.txt")
last=$(tail -1 "$TMP/watch.txt")
[ "$first" = "rill: build 1/2, 1 running: slow.bst" ] && [ "${last%%,*}" = "rill: build ok (2 elements" ] &&
	pass "statusline --watch: building, then ok" || fail "statusline --watch: building, then ok" "$(cat "$TMP/watch.txt")"

# ---- after the build ----------------------------------------------------------------------
run_rill status
expect_contains "after success: exit 0, no build running, the last one's result" "$OUT" \
	"bb: no build running; the last build of slow.bst finished at "
expect_contains "after success: with success" "$OUT" " with success after "
[ "$RC" -eq 0 ] || fail "after success: exit 0" "rc=$RC"
run_rill status --follow --json
printf '%s\n' "$OUT" >"$TMP/done.jsonl"
[ "$RC" -eq 0 ] && py "--follow on a finished build: snapshot and end at once" '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
print("ok" if [r["type"] for r in recs] == ["snapshot", "end"] and recs[0]["status"] == "success" else recs)' "$TMP/done.jsonl" ||
	fail "--follow on a finished build: exit 0" "rc=$RC"

# ---- a failing build with hostile output ---------------------------------------------------
"$RILL" -C "$P" build hostile.bst >/dev/null 2>"$TMP/build.err" &
build=$!
wait_job hostile.bst
"$RILL" -C "$P" status --follow --json >"$TMP/fail.jsonl" 2>&1 &
follow_json=$!
"$RILL" -C "$P" status --follow >"$TMP/fail.txt" 2>&1 &
follow_text=$!
wait $build
wait $follow_json
RC=$?
[ "$RC" -eq 1 ] && pass "--follow exits 1 when the build fails" || fail "--follow exits 1 when the build fails" "rc=$RC"
wait $follow_text
expect_contains "human follower: the failure's log tail, control characters shown as ?" "$(cat "$TMP/fail.txt")" \
	"    tab	here \"quoted\" back\\slash ctl? latin1:"
[ "$(tr -dc '\001\033' <"$TMP/fail.txt" | wc -c)" -eq 0 ] && pass "human follower: no control character reaches the terminal" ||
	fail "human follower prints control characters"
py "JSON stays valid UTF-8 with control characters, quotes and invalid bytes in a log" '
import json, sys
data = open(sys.argv[1], "rb").read()
recs = [json.loads(l) for l in data.decode("utf-8").splitlines()]
fails = [r["message"] for r in recs if r["type"] == "message" and r["message"]["type"] == "FAILURE"]
want = "tab\there \"quoted\" back\\slash ctl\x01 latin1:\ufffd utf8:\u00e9"
print("ok" if fails and want in fails[0]["detail"] and recs[-1]["status"] == "failed"
      else (fails, recs[-1]))' "$TMP/fail.jsonl"
run_rill status
[ "$RC" -eq 1 ] && pass "after a failure: exit 1" || fail "after a failure: exit 1" "rc=$RC"
expect_contains "after a failure: with failed" "$OUT" "the last build of hostile.bst finished at"
expect_contains "after a failure: the failed element and its log" "$OUT" "failed elements (1):
  hostile.bst  log $XDG_CACHE_HOME/rill/logs/bb/hostile/"
log=$(printf '%s' "$OUT" | sed -n 's/^  hostile.bst  log //p')
[ -f "$log" ] && grep -q 'quoted' "$log" && pass "the failed element's log path is its log" || fail "failed log path" "$log"
line=$("$STATUSLINE" -C "$P")
RC=$?
[ "$RC" -eq 1 ] && [ "$line" = "rill: build FAILED: hostile.bst" ] && pass "statusline after a failure" ||
	fail "statusline after a failure" "rc=$RC $line"

# ---- a load error ends the session: every reader shows it ------------------------------------
"$RILL" -C "$P" build nosuch.bst >/dev/null 2>&1
(cd "$TMP" && "$RILL" status -C "$P/elements" >"$TMP/out" 2>&1)
RC=$?
[ "$RC" -eq 1 ] && expect_contains "-C after status; a load error is the session's error" "$(cat "$TMP/out")" \
	"  error: Could not find element 'nosuch.bst'" || fail "status after a load error: exit 1" "rc=$RC"

# ---- the backend killed during a build -----------------------------------------------------
"$RILL" -C "$P" build doomed.bst >/dev/null 2>"$TMP/build.err" &
build=$!
wait_job doomed.bst
"$RILL" -C "$P" status --json >"$TMP/doomed.json"
backend=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["session"]["backend_pid"])' "$TMP/doomed.json")
job=$(python3 -c 'import json, sys; print([j["pid"] for j in json.load(open(sys.argv[1]))["jobs"] if j["result"] == "running"][0])' "$TMP/doomed.json")
"$RILL" -C "$P" status --follow --json >"$TMP/dead.jsonl" 2>&1 &
follow_json=$!
"$RILL" -C "$P" status --follow >"$TMP/dead.txt" 2>&1 &
follow_text=$!
sleep 0.3
[ "$(cat /proc/"$backend"/comm 2>/dev/null)" = rill-backend ] && kill -9 "$backend"
wait $follow_json
rc_json=$?
wait $follow_text
rc_text=$?
wait $build
[ $rc_json -eq 1 ] && [ $rc_text -eq 1 ] && pass "followers exit 1 when the backend dies" ||
	fail "followers exit 1 when the backend dies" "json $rc_json, text $rc_text"
py "--follow --json: the end reports the dead backend and what was running" '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
end = recs[-1]
print("ok" if end["type"] == "end" and end["status"] == "dead" and end["exit"] == 1
      and not end["session"]["final"] and [j["element"] for j in end["running_jobs"]] == ["doomed.bst"]
      else end)' "$TMP/dead.jsonl"
expect_contains "--follow: the dead backend, in words" "$(cat "$TMP/dead.txt")" "bb: build of doomed.bst: the backend (pid $backend) died while running"
run_rill status
[ "$RC" -eq 1 ] && pass "status after the backend died: exit 1" || fail "status after the backend died: exit 1" "rc=$RC"
expect_contains "status says the backend died" "$OUT" "the backend (pid $backend) died while running (last heartbeat"
expect_contains "status lists the jobs that were running" "$OUT" "jobs running when the backend died (1):
  build:doomed.bst  pid $job,"
run_rill status --json
printf '%s\n' "$OUT" >"$TMP/dead.json"
[ "$RC" -eq 1 ] && py "status --json: dead, with the job still marked running" '
import json, sys
d = json.load(open(sys.argv[1]))
print("ok" if d["status"] == "dead" and d["session"]["state"] == "running"
      and [j["element"] for j in d["jobs"] if j["result"] == "running"] == ["doomed.bst"] else d)' "$TMP/dead.json" ||
	fail "status --json after the backend died: exit 1" "rc=$RC"
line=$("$STATUSLINE" -C "$P")
RC=$?
[ "$RC" -eq 1 ] && [ "$line" = "rill: build: backend DIED (1 job was running: doomed.bst)" ] &&
	pass "statusline after the backend died" || fail "statusline after the backend died" "rc=$RC $line"
# the orphaned job (its own process group) goes with its sandbox
kill -9 -"$job" 2>/dev/null
finish
