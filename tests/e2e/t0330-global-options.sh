#!/bin/sh
# t0330 — bst's global options before the command: --config FILE (the user configuration; by
# default rill.conf, else bst's buildstream.conf), --log-file (the main log written while the
# build is shown), --fetchers/--builders/--network-retries/--on-error handed to the pipeline
# commands, --no-interactive, --no-colors, --error-lines, and the accepted --pushers,
# --verbose, --debug, --strict; --no-strict and bad values are usage errors.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

busybox_project glob
cat >>"$P/project.conf" <<'EOF2'
options:
  flavour:
    type: enum
    description: flavour
    values: [plain, fancy]
    default: plain
EOF2
element app.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
variables:
  (?):
  - flavour == "fancy":
      greeting: fancy
config:
  install-commands:
  - mkdir -p %{install-root}/out && echo built >%{install-root}/out/f
EOF2
element bad.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - for i in $(seq 1 40); do echo "output line $i"; done; exit 3
EOF2

# --config FILE, and bst's buildstream.conf by default
printf 'projects:\n  glob:\n    options:\n      flavour: fancy\n' >"$TMP/user.conf"
run_rill --config "$TMP/user.conf" show --deps none --format '%{vars}' app.bst
expect_contains "--config FILE sets the project's options" "$OUT" "greeting: fancy"
mkdir -p "$XDG_CONFIG_HOME"
cp "$TMP/user.conf" "$XDG_CONFIG_HOME/buildstream.conf"
run_rill show --deps none --format '%{vars}' app.bst
expect_contains "bst's buildstream.conf is read by default" "$OUT" "greeting: fancy"
rm -f "$XDG_CONFIG_HOME/buildstream.conf"
run_rill --config "$TMP/nope.conf" show app.bst
expect_error "a --config file that does not exist" "Error loading user configuration: $TMP/nope.conf"

# the scheduler's options before the command
run_rill --builders 1 --fetchers 2 --network-retries 0 --on-error quit --no-colors --pushers 3 --verbose \
	--debug --strict --error-lines 5 --message-lines 5 build app.bst
[ "$RC" -eq 0 ] && pass "bst's global options are accepted before build" || fail "global options before build" "$ERR"
run_rill --builders 1 --no-interactive show --deps none --format '%{name}' app.bst
expect_out "and before show, where they do nothing" "app.bst"
run_rill --builders x build app.bst
[ "$RC" -eq 2 ] && pass "a bad value is a usage error" || fail "a bad value is a usage error" "rc $RC: $ERR"
run_rill --no-strict build app.bst
expect_error "--no-strict is refused" "rill builds in strict mode only"

# --error-lines: how much of a failed job's log the failure shows (20 lines by default)
run_rill --on-error quit build bad.bst
printf '%s' "$ERR" | grep -q "output line 35" && pass "by default the failure shows the log's last lines" ||
	fail "by default the failure shows the log's last lines" "$ERR"
run_rill --error-lines 3 --message-lines 3 --on-error quit build bad.bst
[ "$RC" -ne 0 ] && ! printf '%s' "$ERR" | grep -q "output line [0-9]" && printf '%s' "$ERR" | grep -q "Sandbox directory" &&
	pass "--error-lines 3 shows only the last 3" || fail "--error-lines 3 shows only the last 3" "$ERR"

# --log-file: the main log, from the start of the session, while the build is shown
rm -rf "$XDG_CACHE_HOME/rill/artifacts/refs/glob/app"
run_rill --log-file "$TMP/main.log" build app.bst
[ "$RC" -eq 0 ] && grep -q "SUCCESS Build" "$TMP/main.log" && grep -q "START   glob/app" "$TMP/main.log" &&
	pass "--log-file writes the session's main log" || fail "--log-file writes the session's main log" "$(cat "$TMP/main.log" 2>&1 | tail -5)"
finish
