#!/bin/sh
# t0410 — failing builds: the failure message and log tail, the kept sandbox directory,
# --on-error continue/quit/terminate, dependents not built, a missing sh, bad CLI values.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

busybox_project bb
mkdir -p "$P/files/base/etc" && echo original >"$P/files/base/etc/motd"
element fail.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - echo "about to fail"
  - exit 3
EOF2
element after-fail.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
- fail.bst
EOF2
element slow.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - sleep 3.0417
  - touch done
EOF2
element good.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/good
EOF2
element nosh.bst <<'EOF2'
kind: manual
config:
  build-commands:
  - true
EOF2

run_rill build --on-error continue after-fail.bst good.bst
[ "$RC" -eq 1 ] && pass "a failed build exits 1" || fail "failed build exit status" "rc=$RC"
expect_contains "failure names the command and exit code" "$ERR" "FAILURE Command 'exit 3' failed with exitcode 3"
expect_contains "failure shows the log tail" "$ERR" "about to fail"
expect_contains "failure names the kept sandbox directory" "$ERR" "Sandbox directory: $XDG_CACHE_HOME/rill/build/fail-"
expect_contains "failure summary" "$ERR" "Failure Summary"
expect_contains "on-error continue: the independent element is still built" "$ERR" "[build:good.bst                      ] SUCCESS"
if printf '%s' "$ERR" | grep -q 'build:after-fail.bst.*START'; then fail "dependent of a failure is not started"; else pass "dependent of a failure is not started"; fi
expect_contains "final line says FAILURE" "$ERR" "FAILURE Build"
d=$(ls -d "$XDG_CACHE_HOME"/rill/build/fail-* | head -1)
[ -d "$d/root/bin" ] && pass "the failed build's sysroot is kept for debugging" || fail "kept sysroot" "$d"
run_rill shell --build fail.bst -- sh -c 'pwd; ls /bin/busybox'
expect_out "shell --build enters the failed build's sandbox" "/buildstream/bb/fail.bst
/bin/busybox"
# the failed build's sysroot holds hardlinks into the artifact cache: like bst's, the shell's
# root is read-only (the build and install directories and /tmp are writable)
run_rill shell --build fail.bst -- sh -c 'echo changed >/etc/motd 2>/dev/null && echo wrote; echo t >/tmp/t && cat /tmp/t; touch built && echo built'
expect_out "shell --build: read-only root, writable build directory and /tmp" "t
built"
run_rill shell base.bst -- sh -c 'echo changed >/etc/motd 2>/dev/null && echo wrote; cat /etc/motd'
expect_out "shell: read-only root" "original"
run_rill artifact fsck
expect_ok "no shell wrote into the artifact cache"

run_rill build --on-error quit --builders 1 fail.bst slow.bst
if printf '%s' "$ERR" | grep -q 'build:slow.bst.*START' && printf '%s' "$ERR" | grep -q 'build:fail.bst.*START'; then
	# with one builder only one can run: after the failure quit starts nothing more
	fail "on-error quit starts no more jobs" "$ERR"
else
	pass "on-error quit starts no more jobs"
fi

rm -rf "$XDG_CACHE_HOME/rill/artifacts/refs"
start=$(date +%s)
run_rill build --on-error terminate --builders 2 fail.bst slow.bst
end=$(date +%s)
expect_contains "on-error terminate stops the running job" "$ERR" "Terminated"
[ $((end - start)) -lt 3 ] && pass "on-error terminate does not wait for the slow job" || fail "terminate waited" "$((end - start)) s"
if ls "$XDG_CACHE_HOME"/rill/artifacts/refs/bb/slow 2>/dev/null | grep -q .; then fail "terminated job left no artifact"; else pass "terminated job left no artifact"; fi
# the sandbox's pid namespace goes down with its bwrap, a moment after the job process
n=0
while pgrep -f "^sleep 3.0417" >/dev/null && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
pgrep -f "^sleep 3.0417" >/dev/null && fail "no job process survives termination" || pass "no job process survives termination"

run_rill build nosh.bst
expect_contains "a sysroot without sh is a clear error" "$ERR" "Staged artifacts do not provide command 'sh'"

run_rill build --on-error sometimes good.bst
[ "$RC" -eq 2 ] && expect_contains "bad --on-error value" "$ERR" "is not one of 'continue', 'quit', 'terminate'" || fail "bad --on-error value" "rc=$RC $ERR"
run_rill build --builders x good.bst
[ "$RC" -eq 2 ] && pass "bad --builders value is a usage error" || fail "bad --builders" "rc=$RC $ERR"
run_rill build nosuch.bst
expect_contains "unknown target: load error from the backend" "$ERR" "nosuch.bst"
[ "$RC" -eq 1 ] && pass "load error exits 1" || fail "load error exit" "rc=$RC"
finish
