#!/bin/sh
# t0510-control: the control socket from the command line (rill control), requests recorded in the
# table, --detach, attach without a terminal, the plain heartbeat, a killed backend seen by attach,
# and the frontend's process boundary (no libyaml, no dlopen, no core headers in frontends/).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

# state of the process whose command line holds MARKER (ps stat letter)
proc_state() {
	pid=$(pgrep -f -- "$1" | head -1)
	[ -n "$pid" ] && ps -o stat= -p "$pid" | cut -c1
}
# wait_until SECONDS COMMAND...: until COMMAND succeeds
wait_until() {
	n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
running() { "$RILL" -C "$P" control ping >/dev/null 2>&1; }
not_running() { ! running; }

busybox_project ctl
element nap.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - sleep 3.75
EOF
element later.bst <<'EOF'
kind: manual
build-depends: [base.bst, nap.bst]
config:
  build-commands:
  - echo later
EOF
element bad.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - sleep 1; exit 4
EOF
element both.bst <<'EOF'
kind: stack
depends: [later.bst, bad.bst]
EOF

# ---- no build running
run_rill control ping
[ "$RC" -eq 1 ] && expect_contains "control without a build: says so" "$ERR" "no build is running" ||
	fail "control without a build: exit 1" "rc=$RC $ERR"
run_rill control
[ "$RC" -eq 2 ] && expect_contains "control without a request: usage error" "$ERR" "Missing argument 'REQUEST'" ||
	fail "control without a request: usage error" "rc=$RC"
run_rill attach
[ "$RC" -eq 1 ] && pass "attach without any build: exit 1" || fail "attach without any build: exit 1" "rc=$RC $ERR"

run_rill build base.bst
expect_ok "base builds"
run_rill attach
[ "$RC" -eq 1 ] && expect_contains "attach after the build ended: when and how it ended" "$ERR" "ended at" ||
	fail "attach after the build ended" "rc=$RC $ERR"

# ---- suspend and resume a detached build; a quit stops the queue
run_rill build --detach later.bst
expect_contains "--detach returns at once and says how to watch" "$OUT" "'rill attach' shows it"
wait_until 10 running && pass "the detached backend answers ping" || fail "the detached backend answers ping"
wait_until 10 sh -c "pgrep -f '^sleep 3.75' >/dev/null" || fail "nap job started"
run_rill control suspend
expect_out "control suspend: ok" "ok"
sleep 0.3
[ "$(proc_state '^sleep 3.75')" = T ] && pass "suspend stops the job's processes" ||
	fail "suspend stops the job's processes" "state $(proc_state '^sleep 3.75')"
run_rill status --json
printf '%s' "$OUT" | grep -q '"suspended":true' && pass "status --json shows the suspension" ||
	fail "status --json shows the suspension" "$OUT"
sleep 2
run_rill control resume
expect_out "control resume: ok" "ok"
[ "$(proc_state '^sleep 3.75')" = S ] && pass "resume continues the job" || fail "resume continues the job"
run_rill control retry nosuch.bst
[ "$RC" -eq 1 ] && expect_contains "retry of an unknown element: error" "$ERR" "no such element" ||
	fail "retry of an unknown element" "rc=$RC $ERR"
run_rill control retry nap.bst
[ "$RC" -eq 1 ] && expect_contains "retry of an element that did not fail: error" "$ERR" "has not failed" ||
	fail "retry of an element that did not fail" "rc=$RC $ERR"
run_rill control bogus
[ "$RC" -eq 1 ] && expect_contains "unknown request: error listing the requests" "$ERR" "unknown request 'bogus'" ||
	fail "unknown request" "rc=$RC $ERR"
run_rill control quit
expect_out "control quit: ok" "ok"
"$RILL" -C "$P" attach --frontend plain >"$TMP/attach.out" 2>&1
rc=$?
A=$(cat "$TMP/attach.out")
expect_contains "attach (plain) follows to the end" "$A" "Pipeline Summary"
expect_contains "requests are recorded in the table" "$A" "): quit: finishing the running jobs, starting no more"
if printf '%s' "$A" | grep -q "build:later.bst.*START"; then fail "quit: no new job starts" "$A"; else pass "quit: no new job starts"; fi
run_rill status --json
printf '%s' "$OUT" | grep -q '"requests":3' && pass "the session counts the requests acted on (suspend, resume, quit)" ||
	fail "the session counts the requests acted on" "$(printf '%s' "$OUT" | grep -o '"requests":[0-9]*')"
wait_until 10 not_running || fail "backend gone after the build"

# ---- without a terminal there is no question: a failure quits at once
run_rill build --frontend plain both.bst
[ "$RC" -eq 1 ] && pass "failure without a terminal: exit 1" || fail "failure without a terminal: exit 1" "rc=$RC"
expect_contains "failure without a terminal: no question, quit" "$ERR" "FAILURE Command 'sleep 1; exit 4' failed with exitcode 4"

# ---- retry from another process while the build goes on (--on-error continue)
element flaky.bst <<EOF
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - test \$(date +%s) -ge $(($(date +%s) + 3)) || exit 1
EOF
element slow.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - sleep 6.25
EOF
element pair.bst <<'EOF'
kind: stack
depends: [flaky.bst, slow.bst]
EOF
"$RILL" -C "$P" build --on-error continue --frontend plain pair.bst >"$TMP/pair.out" 2>&1 &
bpid=$!
wait_until 10 sh -c "grep -q 'build:flaky.bst.*FAILURE' '$TMP/pair.out'" || fail "flaky fails first" "$(cat "$TMP/pair.out")"
sleep 3
run_rill control retry flaky.bst
expect_out "control retry: ok" "ok retrying build:flaky.bst"
wait "$bpid"
rc=$?
[ $rc -eq 0 ] && pass "a retried failure no longer fails the build" || fail "a retried failure no longer fails the build" "rc=$rc $(tail -20 "$TMP/pair.out")"
expect_contains "the retried job succeeded" "$(cat "$TMP/pair.out")" "[build:flaky.bst                     ] SUCCESS"

# ---- plain heartbeat
element quiet.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - sleep 2.5
EOF
run_rill build --frontend plain --heartbeat 1 quiet.bst
expect_contains "plain: a heartbeat line when nothing happens" "$ERR" "STATUS  Still working:"
expect_contains "plain: the heartbeat names the running job" "$ERR" "build:quiet.bst"
run_rill build --frontend plain --heartbeat x quiet.bst
[ "$RC" -eq 2 ] && expect_contains "bad --heartbeat: usage error" "$ERR" "'--heartbeat': 'x' is not a number" ||
	fail "bad --heartbeat" "rc=$RC"
run_rill build --frontend fancy quiet.bst
[ "$RC" -eq 2 ] && expect_contains "bad --frontend: usage error" "$ERR" "'--frontend': 'fancy' is not one of" ||
	fail "bad --frontend" "rc=$RC"

# ---- a killed backend is reported dead by attach
element doomed.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - sleep 20.25
EOF
run_rill build --detach doomed.bst
# this backend only: other builds (parallel test runs, benchmarks) share the machine
doomed=$(printf '%s\n' "$OUT" | sed -n 's/.*(backend pid \([0-9]*\)).*/\1/p')
[ -n "$doomed" ] || fail "build --detach names the backend pid" "$OUT"
wait_until 10 sh -c "pgrep -f '^sleep 20.25' >/dev/null" || fail "doomed job started"
kill -KILL "$doomed"
sleep 0.3
run_rill attach
[ "$RC" -eq 1 ] && expect_contains "attach reports a dead backend" "$ERR" "died" || fail "attach reports a dead backend" "rc=$RC $ERR"
expect_contains "attach names the job that was running" "$ERR" "build:doomed.bst (pid"
# the dead backend's job, by the pid and process group the table recorded for it
for jp in $(printf '%s' "$ERR" | sed -n 's/.*build:doomed.bst (pid \([0-9]*\)).*/\1/p'); do
	kill -KILL -- "-$jp" 2>/dev/null || kill -KILL "$jp" 2>/dev/null
done

# ---- the process boundary: frontends link only the reader library
if ldd "$TOP/rill" | grep -q 'libyaml\|libarchive\|libcurl\|libcrypto'; then
	fail "rill links only the reader library" "$(ldd "$TOP/rill")"
else
	pass "rill links only the reader library"
fi
if nm -D "$TOP/rill" | grep -qw 'U dlopen'; then fail "no dlopen in the frontend"; else pass "no dlopen in the frontend"; fi
bad=$(grep -l '#include "\.\./core\|rill-plugin.h\|<yaml.h>\|<dlfcn.h>' "$TOP"/frontends/*.c "$TOP"/frontends/*.h)
[ -z "$bad" ] && pass "frontends/ includes no core, plugin or libyaml header" ||
	fail "frontends/ includes no core, plugin or libyaml header" "$bad"

exit $T_FAILS
