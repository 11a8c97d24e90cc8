#!/bin/sh
# t0500-tty: the tty frontend driven in tmux: the status area appears and clears, the failure
# prompt's every choice, ^C and ^Z, attach from a second pane, detach, a killed frontend.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null; then
	fail "tmux is installed" "apt-get install tmux"
	exit 1
fi
SOCK="$TMP/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
# a session that stays, so that the server does not exit (and race a new session) when the
# last pane of a case is killed
tm new-session -d -s keep "sleep 100000"

# A pane running an interactive bash (job control for ^Z/fg) in the project, with a clean env.
N=0
pane() {
	N=$((N + 1))
	PANE=p$N
	tm new-session -d -s "$PANE" -x 150 -y 45 \
		"env -i PATH=$PATH HOME=$TMP TERM=xterm-256color XDG_CACHE_HOME=$XDG_CACHE_HOME \
		XDG_CONFIG_HOME=$XDG_CONFIG_HOME PAGER=cat ${EXTRA_ENV:-} bash --norc --noprofile -i"
	tm send-keys -t "$PANE" "PS1='$ '; cd '$P'" Enter
}
keys() { tm send-keys -t "$PANE" "$@"; }
screen() { tm capture-pane -p -t "$PANE" -S -400 "$@" 2>/dev/null; }
# wait_for TEXT [SECONDS]: until the pane (with its scrollback) shows TEXT.
wait_for() {
	i=0
	while [ $i -lt $((${2:-20} * 5)) ]; do
		screen | grep -qF -- "$1" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
# wait_re REGEX [SECONDS]
wait_re() {
	i=0
	while [ $i -lt $((${2:-20} * 5)) ]; do
		screen | grep -qE -- "$1" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
# wait_count TEXT N [SECONDS]: until TEXT shows on at least N lines
wait_count() {
	i=0
	while [ $i -lt $((${3:-20} * 5)) ]; do
		[ "$(screen | grep -cF -- "$1")" -ge "$2" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
expect_screen() {
	if wait_for "$2" "${3:-20}"; then pass "$1"; else fail "$1" "missing: $2
screen:
$(screen | tail -40)"; fi
}
# The state letter (ps stat) of the job process whose command line holds MARKER.
proc_state() {
	pid=$(pgrep -f -- "$1" | head -1)
	[ -n "$pid" ] && ps -o stat= -p "$pid" | cut -c1
}

busybox_project tty
for i in 1 2 3; do
	element slow$i.bst <<EOF
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - echo working $i; sleep 3; echo done $i
EOF
done
element good.bst <<'EOF'
kind: stack
depends: [slow1.bst, slow2.bst, slow3.bst]
EOF
# mixed_case NAME: mixed-NAME.bst = bad-NAME (fails at once), slow-NAME (3 s), after-NAME
# (needs slow-NAME): fresh elements, so that nothing is cached from an earlier case
mixed_case() {
	element "bad-$1.bst" <<EOF
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - echo about to fail $1; exit 3
EOF
	element "slow-$1.bst" <<EOF
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - echo slow $1; sleep 3
EOF
	element "after-$1.bst" <<EOF
kind: manual
build-depends: [base.bst, slow-$1.bst]
config:
  build-commands:
  - echo after $1
EOF
	element "mixed-$1.bst" <<EOF
kind: stack
depends: [bad-$1.bst, slow-$1.bst, after-$1.bst]
EOF
}
run_rill build base.bst
expect_ok "base builds"

# ---- the status area appears while the build runs, and is cleared at the end
pane
keys "$RILL build good.bst; echo EXIT=\$?" Enter
expect_screen "status area: header with counts" "tty build: 1/5 elements, 3 running"
expect_screen "status area: a line per running job with its last output" "build:slow2.bst  working 2"
expect_screen "build ends with success" "EXIT=0"
S=$(screen)
expect_contains "summary at the end" "$S" "Pipeline Summary"
if printf '%s' "$S" | grep -q "elements, [0-9]* running"; then
	fail "status area cleared at the end" "$S"
else
	pass "status area cleared at the end"
fi
expect_contains "event lines above the area" "$S" "SUCCESS Build complete"
tm kill-session -t "$PANE"

# ---- failure prompt: continue
pane
mixed_case c
keys "$RILL build mixed-c.bst; echo EXIT=\$?" Enter
expect_screen "failure prompt offers the choices" "build:bad-c.bst failed. Choose an action:"
expect_screen "failure prompt: shell is offered for a build" "shell     - Drop into a shell"
keys "log" Enter
expect_screen "prompt: log shows the job's log in the pager" "Running: echo about to fail c"
wait_count "Choice: [continue]" 2 20 && pass "prompt: back to the choices after the log" ||
	fail "prompt: back to the choices after the log" "$(screen | tail -20)"
keys "continue" Enter
expect_screen "prompt: continue lets the other jobs finish" "build:after-c.bst                   ] SUCCESS"
expect_screen "prompt: continue, the build still fails" "EXIT=1"
expect_contains "prompt: request recorded" "$(screen)" "Request from a frontend"
tm kill-session -t "$PANE"

# ---- failure prompt: shell into the failed build's sandbox, then quit
pane
mixed_case q
keys "$RILL build mixed-q.bst; echo EXIT=\$?" Enter
expect_screen "prompt appears (quit case)" "Choose an action:"
keys "shell" Enter
expect_screen "prompt: shell opens the sandbox" "Opening a shell in the sandbox of bad-q.bst"
wait_for "@bad-q.bst:" 20      # the sandbox shell's prompt: type only once it reads
keys 'echo inside-$((6*7)); exit' Enter
expect_screen "prompt: the shell runs in the sandbox" "inside-42"
# the second prompt: typed before it is read, the choice would be discarded with the typeahead
wait_count "Choice: [continue]" 2 20 && pass "prompt: back to the choices after the shell" ||
	fail "prompt: back to the choices after the shell" "$(screen | tail -20)"
keys "quit" Enter
expect_screen "prompt: quit finishes the running job" "EXIT=1" 20
S=$(screen)
if printf '%s' "$S" | grep -q "build:after-q.bst.*START"; then
	fail "prompt: quit starts no more jobs" "$S"
else
	pass "prompt: quit starts no more jobs"
fi
run_rill artifact log slow-q.bst
expect_contains "prompt: quit lets the running job finish (its artifact is cached)" "$OUT" "slow q"
tm kill-session -t "$PANE"

# ---- failure prompt: terminate (slow jobs are cut short)
element slow9.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - sleep 30.9
EOF
mixed_case t
element term.bst <<'EOF'
kind: stack
depends: [bad-t.bst, slow9.bst]
EOF
pane
keys "$RILL build term.bst; echo EXIT=\$?" Enter
expect_screen "prompt appears (terminate case)" "Choose an action:"
T0=$(date +%s)
keys "terminate" Enter
expect_screen "prompt: terminate ends the build" "EXIT=1" 15
[ $(($(date +%s) - T0)) -lt 10 ] && pass "prompt: terminate does not wait for the running job" ||
	fail "prompt: terminate does not wait for the running job"
expect_contains "prompt: the running job was terminated" "$(screen)" "Terminated"
[ -z "$(pgrep -f 'sleep 30.9')" ] && pass "prompt: no job process left after terminate" ||
	fail "prompt: no job process left after terminate"
tm kill-session -t "$PANE"

# ---- failure prompt: retry (fails until a deadline a few seconds away)
DEADLINE=$(($(date +%s) + 4))
element flaky.bst <<EOF
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - test \$(date +%s) -ge $DEADLINE || { echo too early; exit 1; }
EOF
pane
keys "$RILL build flaky.bst; echo EXIT=\$?" Enter
expect_screen "prompt appears (retry case)" "build:flaky.bst failed. Choose an action:"
while [ "$(date +%s)" -le "$DEADLINE" ]; do sleep 0.3; done
keys "retry" Enter
expect_screen "prompt: retry runs the job again and the build succeeds" "EXIT=0" 20
expect_contains "prompt: retried job succeeded" "$(screen)" "build:flaky.bst                     ] SUCCESS"
tm kill-session -t "$PANE"

# ---- ^C: suspends the jobs while asking; continue resumes them
element nap.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - sleep 4.321
EOF
pane
keys "$RILL build nap.bst; echo EXIT=\$?" Enter
expect_screen "^C case: job running" "build:nap.bst"
sleep 0.5
keys C-c
expect_screen "^C offers continue, quit, terminate" "User interrupted with ^C. Choose an action:"
sleep 0.5
[ "$(proc_state 'sleep 4.321')" = T ] && pass "^C: jobs are suspended while asking" ||
	fail "^C: jobs are suspended while asking" "state: $(proc_state 'sleep 4.321')"
keys "continue" Enter
sleep 0.5
[ "$(proc_state 'sleep 4.321')" = S ] && pass "^C continue: jobs resumed" ||
	fail "^C continue: jobs resumed" "state: $(proc_state 'sleep 4.321')"
expect_screen "^C continue: build completes" "EXIT=0" 20
tm kill-session -t "$PANE"

# ---- a second ^C terminates
element nap2.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - sleep 20.5
EOF
pane
keys "$RILL build nap2.bst; echo EXIT=\$?" Enter
expect_screen "second ^C case: job running" "build:nap2.bst"
keys C-c
expect_screen "second ^C case: prompt" "User interrupted with ^C"
keys C-c
expect_screen "a second ^C terminates" "EXIT=1" 15
[ -z "$(pgrep -f 'sleep 20.5')" ] && pass "second ^C: no job process left" || fail "second ^C: no job process left"
tm kill-session -t "$PANE"

# ---- ^Z suspends every job and the frontend; fg resumes; elapsed times leave the pause out
element nap3.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do sleep 0.2; done; echo nap3 done
EOF
pane
keys "$RILL build nap3.bst; echo EXIT=\$?" Enter
expect_screen "^Z case: job running" "build:nap3.bst"
T0=$(date +%s)
keys C-z
expect_screen "^Z: frontend says the jobs are suspended" "suspended every job"
sleep 0.5
[ "$(proc_state 'nap3 done')" = T ] && pass "^Z: the job processes are stopped" ||
	fail "^Z: the job processes are stopped" "state: $(proc_state 'nap3 done')"
sleep 4
keys "fg" Enter
expect_screen "fg: the build resumes and completes" "SUCCESS Build" 20
[ $(($(date +%s) - T0)) -ge 5 ] && pass "^Z: the pause really paused the build" || fail "^Z: the pause really paused the build"
S=$(screen | grep "build:nap3.bst.*SUCCESS")
case "$S" in
"[00:00:02]"* | "[00:00:03]"* | "[00:00:04]"*) pass "^Z: the job's elapsed time leaves the pause out" ;;
*) fail "^Z: the job's elapsed time leaves the pause out" "$S" ;;
esac
tm kill-session -t "$PANE"

# ---- attach from a second pane to a detached build; detach with d; a killed frontend
element long.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - echo long one; sleep 5.5
EOF
run_rill build --detach long.bst
expect_contains "build --detach returns at once" "$OUT" "Started the build in the background"
pane
keys "$RILL attach; echo EXIT=\$?" Enter
expect_screen "attach shows the running job" "build:long.bst  long one"
expect_screen "attach says how to detach" "press d to detach"
keys d
expect_screen "d detaches" "rill: detached; the build goes on"
expect_screen "detach exits 0" "EXIT=0"
keys "$RILL attach; echo EXIT=\$?" Enter
expect_screen "attach again follows the build to its end" "SUCCESS Build" 20
expect_screen "attach exits with the build's result" "EXIT=0"
tm kill-session -t "$PANE"

element long2.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - echo long two; sleep 3.5
EOF
pane
keys "$RILL build long2.bst" Enter
expect_screen "killed frontend case: job running" "build:long2.bst"
# the frontend: the pane's shell's child (found by PID, never by name)
fe=$(pgrep -P "$(tm display-message -p -t "$PANE" '#{pane_pid}')" | head -1)
[ -n "$fe" ] && kill -KILL "$fe" || fail "killed frontend case: the frontend's pid" "no child of the pane's shell"
sleep 5
run_rill build --frontend plain long2.bst
expect_contains "a killed frontend leaves the build running to completion" "$ERR" "Build Queue:   processed 0, skipped 2, failed 0"
tm kill-session -t "$PANE"

# ---- a failure is offered to every attached interactive frontend; the first answer wins
mixed_case two
pane
P1=$PANE
keys "$RILL build mixed-two.bst; echo EXIT=\$?" Enter
expect_screen "two frontends: the first is asked" "build:bad-two.bst failed. Choose an action:"
pane
P2=$PANE
keys "$RILL attach; echo EXIT=\$?" Enter
expect_screen "two frontends: the attached one is asked too" "build:bad-two.bst failed. Choose an action:"
keys "continue" Enter
PANE=$P1
expect_screen "two frontends: the other question goes away" "(decided by another frontend)"
expect_screen "two frontends: the build goes on to its end" "EXIT=1" 20
expect_contains "two frontends: the other jobs were built" "$(screen)" "build:after-two.bst                 ] SUCCESS"
PANE=$P2
expect_screen "two frontends: the attached one follows to the end" "EXIT=1" 20
tm kill-session -t "$P1"
tm kill-session -t "$P2"

# ---- lines fit the terminal, and a resize (SIGWINCH) refits them
element wide.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - echo wide-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAZ; sleep 4
EOF
pane
keys "$RILL build wide.bst; echo EXIT=\$?" Enter
expect_screen "wide: the job line shows the output" "build:wide.bst  wide-AAAA"
L=$(screen | grep "build:wide.bst  wide-" | tail -1)
[ ${#L} -le 149 ] && [ -z "$(printf '%s' "$L" | grep AZ)" ] && pass "a job line is cut to the terminal's width" ||
	fail "a job line is cut to the terminal's width" "${#L}: $L"
tm resize-window -t "$PANE" -x 70 -y 45
sleep 0.6
L=$(tm capture-pane -p -t "$PANE" | grep "build:wide.bst  wide-" | tail -1)
[ -n "$L" ] && [ ${#L} -le 69 ] && pass "after a resize the lines fit the new width" ||
	fail "after a resize the lines fit the new width" "${#L}: $L"
wait_re "EXIT=[0-9]" 20
tm kill-session -t "$PANE"

# ---- colors: on by default, off with NO_COLOR and --no-colors; TERM=dumb is plain
element quick.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - echo quick
EOF
pane
keys "$RILL build quick.bst; echo EXIT=\$?" Enter
wait_re "EXIT=[0-9]" 20
printf '%s' "$(screen -e)" | grep -q "$(printf '\033')\[32mSUCCESS" && pass "colors by default" || fail "colors by default" "$(screen -e | tail)"
keys "clear; tmux clear-history 2>/dev/null; NO_COLOR=1 $RILL build quick.bst; echo EXIT2=\$?" Enter
wait_re "EXIT2=[0-9]" 20
printf '%s' "$(screen -e | sed -n '/NO_COLOR/,$p')" | grep -q "$(printf '\033')\[3[0-9]m" && fail "NO_COLOR turns colors off" || pass "NO_COLOR turns colors off"
keys "TERM=dumb $RILL build quick.bst; echo EXIT3=\$?" Enter
wait_re "EXIT3=[0-9]" 20
S=$(screen | sed -n '/TERM=dumb/,$p')
expect_contains "TERM=dumb: plain output" "$S" "Build Queue:   processed 0, skipped 2, failed 0"
tm kill-session -t "$PANE"

# ---- a burst of quick jobs is summarized, not printed line by line
i=0
deps=""
while [ $i -lt 60 ]; do
	element "q$i.bst" <<EOF
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - "true $i"
EOF
	deps="$deps q$i.bst,"
	i=$((i + 1))
done
printf 'kind: stack\ndepends: [%s]\n' "${deps%,}" >"$P/elements/burst.bst"
# the frames as written to a terminal: 61 jobs finish, far fewer START lines are printed
script -qfc "$RILL -C '$P' build --builders 30 burst.bst" "$TMP/typescript" >/dev/null 2>&1
starts=$(grep -c "START" "$TMP/typescript")
if grep -q "jobs started, [0-9]* succeeded since the last update" "$TMP/typescript" && [ "$starts" -lt 60 ]; then
	pass "a burst of quick jobs is summarized"
else
	fail "a burst of quick jobs is summarized" "START lines: $starts"
fi
grep -q "Build Queue:   processed 61, skipped 1, failed 0" "$TMP/typescript" &&
	pass "burst: the summary counts every job" || fail "burst: the summary counts every job" "$(tail -8 "$TMP/typescript")"

# ---- redraws are rate-limited, whatever the number of changes: a chatty job for about 3 s
# changes its last output line 100 times a second
element chatty.bst <<'EOF'
kind: manual
build-depends: [base.bst]
config:
  build-commands:
  - i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); sleep 0.01; done
EOF
frames() { grep -o "$(printf '\033')\[J" "$1" | wc -l; }
ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms)
script -qfc "$RILL -C '$P' build --redraw-rate 2 chatty.bst" "$TMP/slow.ts" >/dev/null 2>&1
t1=$(ms)
f2=$(frames "$TMP/slow.ts")
# redraws in T ms at R per second: at most R * T / 1000, plus the first frame and the final erase
[ "$f2" -le $((2 * (t1 - t0) / 1000 + 2)) ] && [ "$f2" -ge 2 ] && pass "--redraw-rate 2: at most 2 redraws a second" ||
	fail "--redraw-rate 2: at most 2 redraws a second" "$f2 redraws in $((t1 - t0)) ms"
rm -rf "$XDG_CACHE_HOME/rill/artifacts/refs/tty/chatty"
t0=$(ms)
script -qfc "$RILL -C '$P' build chatty.bst" "$TMP/fast.ts" >/dev/null 2>&1
t1=$(ms)
f10=$(frames "$TMP/fast.ts")
[ "$f10" -le $((10 * (t1 - t0) / 1000 + 2)) ] && [ "$f10" -gt "$f2" ] && pass "default: at most 10 redraws a second" ||
	fail "default: at most 10 redraws a second" "$f10 redraws in $((t1 - t0)) ms (rate 2: $f2)"

exit $T_FAILS
