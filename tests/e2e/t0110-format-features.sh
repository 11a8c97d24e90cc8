#!/bin/sh
# The BuildStream format as rill composes it: defaults < plugin YAML < project `elements:` <
# element; includes; conditionals; list directives; variables; environment; split rules.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
new_project fmt <<'EOF2'
name: fmt
element-path: elements
options:
  arch2:
    type: enum
    description: target
    values: [x86, arm]
    default: x86
  extras:
    type: flags
    description: extras
    values: [docs, tests]
    default: [docs]
    variable: extras
  fast:
    type: bool
    description: fast
    default: false
    variable: fast
variables:
  prefix: /opt
  from-project: p
(@): [inc/a.yml, inc/b.yml]
elements:
  manual:
    variables:
      from-project: overridden-by-kind
    config:
      install-commands:
        (<): [echo first]
EOF2
mkdir -p "$P/inc"
printf 'variables:\n  from-a: a\n  both: a\n' >"$P/inc/a.yml"
printf 'variables:\n  both: b\n' >"$P/inc/b.yml"
printf 'build-commands:\n  (>): [echo included]\n' >"$P/inc/cmds.yml"
element app.bst <<'EOF2'
kind: manual
variables:
  mine: "%{prefix}/%{from-project}/%{both}/%{from-a}"
environment:
  WHERE: "%{bindir}"
config:
  (@): inc/cmds.yml
  build-commands:
    (<): [echo start]
  (?):
  - arch2 == "arm":
      build-commands:
        (>): [echo arm]
  - "'tests' in extras":
      install-commands:
        (>): [make check]
  - not fast:
      strip-commands:
        (=): [echo custom-strip]
EOF2
run_rill show --deps none --format '%{vars}' app.bst
for want in "mine: /opt/overridden-by-kind/b/a" "bindir: /opt/bin" "element-name: app.bst" \
	"project-name: fmt" "build-root: /buildstream/fmt/app.bst" "extras: docs" "fast: 0"; do
	if printf '%s\n' "$OUT" | grep -qxF "$want"; then pass "variable $want"; else fail "variable $want" "$OUT"; fi
done

run_rill show --deps none --format '%{config}' app.bst
expect_out "config composed from plugin, project, includes and conditionals" "build-commands:
- echo start
- echo included
configure-commands: []
install-commands:
- echo first
strip-commands:
- echo custom-strip"

run_rill -o arch2 arm -o extras docs,tests -o fast true show --deps none --format '%{config}' app.bst
if printf '%s\n' "$OUT" | grep -q '^- make check$' && printf '%s\n' "$OUT" | grep -q '^- echo arm$' &&
	! printf '%s\n' "$OUT" | grep -q 'custom-strip'; then
	pass "bool, enum and flags options drive conditionals"
else
	fail "bool, enum and flags options drive conditionals" "$OUT"
fi

run_rill show --deps none --format '%{env}' app.bst
if printf '%s\n' "$OUT" | grep -qxF "WHERE: /opt/bin" && printf '%s\n' "$OUT" | grep -qxF "MAKEFLAGS: -j1" ||
	printf '%s\n' "$OUT" | grep -q "^MAKEFLAGS: -j"; then
	pass "environment is substituted and includes the plugin's defaults"
else
	fail "environment is substituted and includes the plugin's defaults" "$OUT"
fi

run_rill show --deps none --format '%{public}' app.bst
if printf '%s\n' "$OUT" | grep -qxF -- "    - /opt/bin/*" && printf '%s\n' "$OUT" | grep -qxF -- "    - /opt/include/**"; then
	pass "split rules are expanded with the element's variables"
else
	fail "split rules are expanded with the element's variables" "$OUT"
fi

# a directive key written with a YAML escape is still a directive
element esc.bst <<'EOF2'
kind: manual
"\x28?)":
- fast:
    variables:
      picked: fast
- not fast:
    variables:
      picked: slow
EOF2
run_rill show --deps none --format '%{vars}' esc.bst
if printf '%s\n' "$OUT" | grep -qx 'picked: slow'; then pass "escaped (?) key"; else fail "escaped (?) key" "$OUT $ERR"; fi

# format specs and symbols
run_rill show --deps none --format '[%{name: >10}][%{kind:^10}][%{name:*<9}] 100%' app.bst
expect_out "format specs: alignment, fill and width" "[   app.bst][  manual  ][app.bst**] 100%"
run_rill show --deps none --format '%{nosym}' app.bst
expect_error "unknown format symbols are an error" "Unknown symbol '%{nosym}'"
run_rill show --deps none --format '%{name:>x}' app.bst
expect_error "bad format specs are an error" "Invalid format spec"
run_rill show --deps none --format '%{deps}|%{build-deps}|%{runtime-deps}' app.bst
expect_out "dependency symbols of an element without dependencies" "[]|[]|[]"
finish
