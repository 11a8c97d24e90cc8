#!/bin/sh
# rill show's command line: --deps, --order, targets, --help, --version, usage errors.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
new_project cli <<'EOF2'
name: cli
element-path: elements
EOF2
element base.bst <<'EOF2'
kind: stack
EOF2
element tool.bst <<'EOF2'
kind: stack
depends: [base.bst]
EOF2
element lib.bst <<'EOF2'
kind: stack
build-depends: [tool.bst]
runtime-depends: [base.bst]
EOF2
element app.bst <<'EOF2'
kind: stack
depends: [lib.bst]
build-depends: [tool.bst]
EOF2

run_rill show --deps all --format '%{name}' app.bst
expect_out "--deps all lists everything in staging order" "base.bst
tool.bst
lib.bst
app.bst"
run_rill show --format '%{name}' app.bst
expect_out "--deps all is the default" "base.bst
tool.bst
lib.bst
app.bst"
run_rill show --deps none --format '%{name}' app.bst lib.bst
expect_out "--deps none lists the targets" "app.bst
lib.bst"
run_rill show --deps run --format '%{name}' lib.bst
expect_out "--deps run follows runtime dependencies only" "base.bst
lib.bst"
run_rill show --deps build --format '%{name}' lib.bst
expect_out "--deps build lists the build scope without the element" "base.bst
tool.bst"
run_rill show --deps plan --format '%{name}' app.bst
expect_out "--deps plan orders build dependencies deepest first" "base.bst
tool.bst
lib.bst
app.bst"
run_rill show --deps all --order alpha --format '%{name}' app.bst
expect_out "--order alpha sorts by name" "app.bst
base.bst
lib.bst
tool.bst"
run_rill show --deps none --format '%{deps} / %{build-deps} / %{runtime-deps}' lib.bst
expect_out "dependency symbols" "- base.bst
- tool.bst / - tool.bst / - base.bst"

# usage errors exit 2 and say what is wrong
run_rill show --deps sideways app.bst
[ "$RC" = 2 ] && printf '%s' "$ERR" | grep -q "Invalid value for '--deps'" && pass "bad --deps value" || fail "bad --deps value" "$RC $ERR"
run_rill show
[ "$RC" = 2 ] && printf '%s' "$ERR" | grep -q "Missing argument 'TARGETS...'" && pass "no targets" || fail "no targets" "$RC $ERR"
run_rill show --bogus app.bst
[ "$RC" = 2 ] && printf '%s' "$ERR" | grep -q "No such option: --bogus" && pass "unknown option" || fail "unknown option" "$RC $ERR"
run_rill frobnicate
[ "$RC" = 2 ] && printf '%s' "$ERR" | grep -q "No such command 'frobnicate'" && pass "unknown command" || fail "unknown command" "$RC $ERR"
run_rill show nosuch.bst
expect_error "unknown target" "Could not find element 'nosuch.bst' in elements directory 'elements'"
run_rill show app
expect_error "target without .bst" "Element name 'app' does not end in '.bst'"

# help and version tell the truth
"$RILL" --help >"$TMP/h" 2>&1 && grep -q "^  show " "$TMP/h" && pass "rill --help lists show" || fail "rill --help lists show" "$(cat "$TMP/h")"
"$RILL" show --help >"$TMP/h" 2>&1
for opt in --deps --order --format --option --bst-keys "%{full-key}" "%{runtime-deps}"; do
	grep -qF -- "$opt" "$TMP/h" || { fail "rill show --help documents $opt" "$(cat "$TMP/h")"; continue; }
	pass "rill show --help documents $opt"
done
"$RILL" --version | grep -Eq '^rill [0-9]+\.[0-9]+\.[0-9]+$' && pass "rill --version" || fail "rill --version"

# -C finds the project from a subdirectory, like bst
mkdir -p "$P/elements/deep/er"
"$RILL" -C "$P/elements/deep/er" show --deps none --format '%{name}' app.bst >"$TMP/o" 2>&1
[ "$(cat "$TMP/o")" = "app.bst" ] && pass "project.conf is found from a subdirectory" || fail "project.conf is found from a subdirectory" "$(cat "$TMP/o")"
finish
