#!/bin/sh
# Option types and where values come from (defaults, user config, -o), option variables, and
# refs stored in project.refs.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
new_project opts <<'EOF2'
name: opts
element-path: elements
ref-storage: project.refs
aliases:
  up: https://example.com/
options:
  debug:
    type: bool
    description: debug
    default: False
    variable: debug
  mask:
    type: element-mask
    description: elements to mask
    default: []
    variable: mask
  machine:
    type: arch
    description: machine
    values: [x86_64, aarch64, i686, riscv64]
  tone:
    type: enum
    description: tone
    values: [low, high]
    default: low
    variable: tone
EOF2
element a.bst <<'EOF2'
kind: manual
variables:
  picked: "%{tone}-%{debug}-%{mask}"
(?):
- machine == "aarch64":
    variables:
      picked: arm
EOF2
element src.bst <<'EOF2'
kind: manual
sources:
- kind: tar
  url: up:one.tar.gz
  ref: ignored-inline-ref
- kind: tar
  url: up:two.tar.gz
EOF2
vars() { run_rill "$@" show --deps none --format '%{vars}' a.bst; printf '%s\n' "$OUT" | grep '^picked:' ; }

[ "$(vars)" = "picked: low-0-" ] && pass "defaults" || fail "defaults" "$(vars) $ERR"
[ "$(vars -o debug true -o tone high -o mask 'a.bst, src.bst')" = "picked: high-1-a.bst,src.bst" ] &&
	pass "-o values for bool, enum and element-mask" || fail "-o values for bool, enum and element-mask" "$(vars -o debug true -o tone high -o mask 'a.bst, src.bst')"
[ "$(vars -o machine aarch64)" = "picked: arm" ] && pass "arch option in a conditional" || fail "arch option in a conditional" "$ERR"
run_rill -o machine sparc show a.bst
expect_error "arch option validates" "Invalid value for arch option 'machine': sparc"
run_rill -o mask nosuch.bst show a.bst
expect_error "element-mask values are element files" "Invalid value for flags option 'mask'"
run_rill -o debug maybe show a.bst
expect_error "bool values" "Invalid value for boolean option debug: maybe"

mkdir -p "$XDG_CONFIG_HOME"
printf 'projects:\n  opts:\n    options:\n      tone: high\n' >"$XDG_CONFIG_HOME/rill.conf"
[ "$(vars)" = "picked: high-0-" ] && pass "user configuration sets option values" || fail "user configuration sets option values" "$(vars) $ERR"
[ "$(vars -o tone low)" = "picked: low-0-" ] && pass "-o overrides the user configuration" || fail "-o overrides the user configuration" "$ERR"
printf 'projects:\n  opts:\n    options:\n      nosuch: 1\n' >"$XDG_CONFIG_HOME/rill.conf"
run_rill show a.bst
expect_error "unknown option in the user configuration" "Unknown option 'nosuch' specified"
rm "$XDG_CONFIG_HOME/rill.conf"

# project.refs: refs come from the refs file, inline refs are ignored
run_rill show --deps none --format '%{state}' src.bst
expect_out "no ref in project.refs: no reference" "no reference"
cat >"$P/project.refs" <<'EOF2'
projects:
  opts:
    src.bst:
    - ref: 1111111111111111111111111111111111111111111111111111111111111111
    - ref: 2222222222222222222222222222222222222222222222222222222222222222
EOF2
run_rill show --deps none --format '%{state}' src.bst
expect_out "refs from project.refs" "fetch needed"
k1=$(key_of src.bst)
sed -i 's/2222/3333/' "$P/project.refs"
k2=$(key_of src.bst)
[ -n "$k1" ] && [ -n "$k2" ] && [ "$k1" != "$k2" ] && pass "a ref in project.refs feeds the key" || fail "a ref in project.refs feeds the key" "$k1 $k2"
sed -i 's/ignored-inline-ref/another-inline-ref/' "$P/elements/src.bst"
[ "$(key_of src.bst)" = "$k2" ] && pass "inline refs are ignored with project.refs storage" || fail "inline refs are ignored with project.refs storage"
finish
