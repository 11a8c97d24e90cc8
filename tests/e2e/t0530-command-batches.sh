#!/bin/sh
# t0530 — an element's commands run in one sandbox (a batch): each still sees exactly what it
# would see alone (environment, stdin, no extra file descriptor, read-only root), failures name
# the command of whichever step failed and stop the rest, the log keeps every step's status
# before its commands; integration commands are batched too and still cannot touch the cache.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

busybox_project bb
element seen.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
environment:
  c: element-value
  s: another
config:
  configure-commands:
  - echo configuring
  build-commands:
  - env | sort > env.txt
  - ls -l /proc/self/fd > fds.txt
  - cat > stdin.txt
  - if touch /bin/x 2>/dev/null; then echo writable > root.txt; else echo read-only > root.txt; fi
  install-commands:
  - mkdir -p %{install-root}/out && cp env.txt fds.txt stdin.txt root.txt %{install-root}/out/
EOF2
run_rill build seen.bst
expect_ok "a batch of commands builds"
run_rill artifact checkout --directory "$TMP/seen" seen.bst
env_keys=$(cut -d= -f1 "$TMP/seen/out/env.txt" | tr '\n' ' ')
expect_contains "a batched command sees the element environment, values intact" \
	"$(cat "$TMP/seen/out/env.txt")" "c=element-value"
if [ "$env_keys" = "HOME LC_ALL LOGNAME MAKEFLAGS PATH PWD SHELL SHLVL SOURCE_DATE_EPOCH TERM TZ USER USERNAME V c s " ]; then
	pass "a batched command sees nothing but the element environment (and what sh sets)"
else
	fail "environment of a batched command" "$env_keys"
fi
expect_contains "SHLVL is what a lone sh would have" "$(cat "$TMP/seen/out/env.txt")" "SHLVL=1"
if grep -q 'socket:' "$TMP/seen/out/fds.txt"; then
	fail "the batch's control socket is not open in the commands" "$(cat "$TMP/seen/out/fds.txt")"
else
	pass "the batch's control socket is not open in the commands"
fi
# 0-2 and the directory ls reads (3): whatever rill inherited stays outside the sandbox
if [ "$(grep -c '^l' "$TMP/seen/out/fds.txt")" -eq 4 ]; then
	pass "only stdin, stdout and stderr are open in a command"
else
	fail "file descriptors in a command" "$(cat "$TMP/seen/out/fds.txt")"
fi
[ -f "$TMP/seen/out/stdin.txt" ] && [ ! -s "$TMP/seen/out/stdin.txt" ] &&
	pass "stdin of a batched command is empty" || fail "stdin of a batched command"
[ "$(cat "$TMP/seen/out/root.txt")" = read-only ] && pass "the root stays read-only for build commands" ||
	fail "read-only root" "$(cat "$TMP/seen/out/root.txt")"

run_rill artifact log seen.bst
log=$(printf '%s\n' "$OUT" | sed -n 's/^\[[0-9:]*\] //p' | grep -E '^(STATUS|LOG) ' | grep -vE 'Staging|Caching' |
	sed 's/  */ /g' | cut -c1-40)
want="STATUS seen.bst: Running configure-comma
LOG seen.bst: Running: echo configuring
STATUS seen.bst: Running build-commands
LOG seen.bst: Running: env | sort > env.
LOG seen.bst: Running: ls -l /proc/self/
LOG seen.bst: Running: cat > stdin.txt
LOG seen.bst: Running: if touch /bin/x 2
STATUS seen.bst: Running install-command
LOG seen.bst: Running: mkdir -p /buildst
STATUS seen.bst: Running strip-commands
LOG seen.bst: Running: cd \"/buildstream-"
if [ "$log" = "$want" ]; then pass "the log has each step's status before its commands"; else fail "log order" "$log"; fi
expect_contains "a command's output follows its Running line" "$OUT" "Running: echo configuring
configuring"

# a failure in a later step: named, with its status, and nothing after it runs
element late.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - echo fine
  install-commands:
  - mkdir -p %{install-root}/x
  - exit 7
  - touch after-failure
EOF2
run_rill build late.bst
[ "$RC" -eq 1 ] && pass "a failing install command fails the build" || fail "failing install command" "rc=$RC"
expect_contains "the failure names the failing command of the later step" "$ERR" \
	"FAILURE Command 'exit 7' failed with exitcode 7"
d=$(ls -d "$XDG_CACHE_HOME"/rill/build/late-* | head -1)
[ -n "$d" ] && [ ! -e "$d/root/buildstream/bb/late.bst/after-failure" ] &&
	pass "commands after the failing one do not run" || fail "commands after a failure" "$(ls "$d/root/buildstream/bb/late.bst" 2>&1)"

element killed.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - kill -9 $$
EOF2
run_rill build killed.bst
expect_contains "a command killed by a signal reports 128+N" "$ERR" "Command 'kill -9 \$\$' failed with exitcode 137"

# commands go on the driver's command line: 2.5 MB of them (more than the kernel takes in one
# exec) run as several sandboxes
pad=$(head -c 100000 /dev/zero | tr '\0' x)
{
	printf 'kind: manual\nbuild-depends:\n- base.bst\nconfig:\n  build-commands:\n'
	for i in $(seq 1 25); do printf '  - "echo %s >> order.txt # %s"\n' "$i" "$pad"; done
	printf '  install-commands:\n  - mkdir -p %%{install-root}/out && cp order.txt %%{install-root}/out/\n'
} >"$P/elements/big.bst"
run_rill build big.bst
expect_ok "a batch too large for one command line"
run_rill artifact checkout --directory "$TMP/big" big.bst
[ "$(tr '\n' ' ' <"$TMP/big/out/order.txt" 2>/dev/null)" = "$(seq 1 25 | tr '\n' ' ')" ] &&
	pass "a split batch runs every command, in order" || fail "split batch" "$(cat "$TMP/big/out/order.txt" 2>&1)"
sed -i 's/"echo 14 >> order.txt/"exit 6; echo 14 >> order.txt/' "$P/elements/big.bst"
run_rill build big.bst
expect_contains "a failure in a later part of a split batch names its command" "$ERR" "Command 'exit 6; echo 14 >> order.txt"
expect_contains "and its status" "$ERR" "failed with exitcode 6"

# integration commands: all in one sandbox, root writable, the cache untouched
element lib.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/etc && echo original > %{install-root}/etc/conf
public:
  bst:
    integration-commands:
    - echo integrated >> /etc/conf
    - echo second >> /etc/conf
EOF2
element user.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
- lib.bst
config:
  build-commands:
  - mkdir -p %{install-root}/out && cp /etc/conf %{install-root}/out/conf
EOF2
run_rill build user.bst
expect_ok "a build with integration commands"
run_rill artifact checkout --directory "$TMP/user" user.bst
[ "$(tr '\n' ' ' <"$TMP/user/out/conf")" = "original integrated second " ] &&
	pass "integration commands ran in order on a writable root" || fail "integration" "$(cat "$TMP/user/out/conf")"
run_rill artifact checkout --directory "$TMP/lib" lib.bst
[ "$(cat "$TMP/lib/etc/conf")" = original ] && pass "integration did not change the cached artifact" ||
	fail "cached artifact after integration" "$(cat "$TMP/lib/etc/conf")"
run_rill artifact log user.bst
expect_contains "integration status precedes its commands" "$OUT" "Running integration commands of lib.bst"
run_rill artifact fsck
expect_out "the cache verifies after integration" "0 broken artifacts"

element broken-integration.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
public:
  bst:
    integration-commands:
    - "true"
    - exit 4
EOF2
element uses-broken.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
- broken-integration.bst
EOF2
run_rill build uses-broken.bst
expect_contains "a failing integration command is named" "$ERR" "Command 'exit 4' failed with exitcode 4"
finish
