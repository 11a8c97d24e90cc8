#!/bin/sh
# Bad input gets one clear error naming file, line and column, a non-zero exit, no stdout,
# and never a crash.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
new_project errs <<'EOF2'
name: errs
element-path: elements
options:
  opt:
    type: enum
    description: an option
    values: [a, b]
    default: a
EOF2
element ok.bst <<'EOF2'
kind: stack
EOF2

bad() { # CASE EXPECTED-TEXT: element bad.bst (from stdin) fails to show with EXPECTED-TEXT
	element bad.bst
	run_rill show bad.bst
	expect_error "$1" "$2"
}

bad "unknown element key" "bad.bst [line 2 column 9]: Unexpected key: dependz" <<'EOF2'
kind: stack
dependz: [ok.bst]
EOF2
bad "missing kind" "bad.bst [line 1 column 0]: Dictionary did not contain expected key 'kind'" <<'EOF2'
description: no kind
EOF2
bad "unknown kind" "bad.bst [line 1 column 6]: No Element type registered for kind 'nosuch'" <<'EOF2'
kind: nosuch
EOF2
bad "tab indentation" "bad.bst [line 3 column 0]: Malformed YAML" <<'EOF2'
kind: stack
depends:
	- ok.bst
EOF2
bad "duplicate key" "bad.bst [line 2 column 0]: Duplicate key 'kind'" <<'EOF2'
kind: stack
kind: manual
EOF2
bad "wrong type" "bad.bst [line 2 column 9]: Value of 'depends' is not of the expected type 'list'" <<'EOF2'
kind: stack
depends: {a: b}
EOF2
bad "missing dependency" "bad.bst [line 3 column 2]: Could not find element 'missing.bst' in elements directory 'elements'" <<'EOF2'
kind: stack
depends:
- missing.bst
EOF2
bad "bad dependency type" "Dependency type 'sometimes' is not 'build', 'runtime' or 'all'" <<'EOF2'
kind: stack
depends:
- filename: ok.bst
  type: sometimes
EOF2
bad "strict false" "Setting 'strict' to False is unsupported" <<'EOF2'
kind: stack
depends:
- filename: ok.bst
  strict: false
EOF2
bad "strict runtime dependency" "Runtime dependency ok.bst specified as \`strict\`." <<'EOF2'
kind: stack
runtime-depends:
- filename: ok.bst
  strict: true
EOF2
bad "undefined variable" "bad.bst [line 4 column 5]: Reference to undefined variable 'nope'" <<'EOF2'
kind: manual
variables:
  a: x
  b: "%{nope}"
EOF2
bad "circular variables" "Circular dependency detected on variable" <<'EOF2'
kind: manual
variables:
  a: "%{b}"
  b: "%{a}"
EOF2
bad "protected variable" "bad.bst [line 3 column 16]: invalid redefinition of protected variable 'element-name'" <<'EOF2'
kind: manual
variables:
  element-name: x
EOF2
bad "trailing list directive" "Attempt to override non-existing list" <<'EOF2'
kind: manual
config:
  no-such-list:
    (>): [x]
EOF2
bad "unknown config key" "Unexpected key: build-comands" <<'EOF2'
kind: manual
config:
  build-comands: [make]
EOF2
bad "assertion" "bad.bst [line 4 column 9]: opt must be b" <<'EOF2'
kind: manual
(?):
- opt == "a":
    (!): opt must be b
EOF2
bad "bad conditional expression" "Failed to evaluate expression" <<'EOF2'
kind: manual
(?):
- opt ==:
    variables: {x: y}
EOF2
bad "empty file" "Dictionary did not contain expected key 'kind'" </dev/null
printf '\000\001\377garbage\n' >"$P/elements/bad.bst"
run_rill show bad.bst
expect_error "binary garbage" "bad.bst [line"

# dependency cycles name the elements in the cycle
element c1.bst <<'EOF2'
kind: stack
depends: [c2.bst]
EOF2
element c2.bst <<'EOF2'
kind: stack
depends: [c3.bst]
EOF2
element c3.bst <<'EOF2'
kind: stack
depends: [c1.bst]
EOF2
run_rill show c1.bst
expect_error "dependency cycle" "Circular dependency detected for element: c1.bst
Dependency chain: c1.bst -> c2.bst -> c3.bst -> c1.bst"

# project.conf errors
cp "$P/project.conf" "$TMP/project.conf.good"
printf 'name: errs\nelement-path: elements\nbogus: 1\n' >"$P/project.conf"
run_rill show ok.bst
expect_error "unknown project key" "project.conf [line 3 column 7]: Unexpected key: bogus"
printf 'name: 9lives\n' >"$P/project.conf"
run_rill show ok.bst
expect_error "project name must be a symbol" "project.conf [line 1 column 6]: Invalid project name '9lives'"
printf 'name: errs\nformat-version: 99\nelement-path: elements\n' >"$P/project.conf"
run_rill show ok.bst
expect_error "format version too new" "Project requested format version 99"
printf 'name: errs\nelement-path: nowhere\n' >"$P/project.conf"
run_rill show ok.bst
expect_error "element-path must exist" "project.conf [line 2 column 14]: Specified path 'nowhere' does not exist"
printf 'name: errs\nelement-path: elements\nref-storage: sideways\n' >"$P/project.conf"
run_rill show ok.bst
expect_error "bad ref-storage" "Invalid value 'sideways' specified for ref-storage"
printf 'name: errs\nelement-path: elements\n(@): missing.yml\n' >"$P/project.conf"
run_rill show ok.bst
expect_error "missing include" "Could not find file at missing.yml"
printf 'name: errs\nelement-path: elements\noptions:\n  x-y:\n    type: bool\n    description: d\n    default: true\n' >"$P/project.conf"
run_rill show ok.bst
expect_error "option names have no dashes" "Invalid option name 'x-y'"
printf 'name: errs\nelement-path: elements\nmin-version: 2.0\n' >"$P/project.conf"
run_rill show ok.bst
expect_error "BuildStream 2 project" "Tried to load a BuildStream 2 project"
cp "$TMP/project.conf.good" "$P/project.conf"

# options on the command line
run_rill -o opt c show ok.bst
expect_error "invalid option value" "Invalid value for enum option 'opt': c"
run_rill -o nosuch x show ok.bst
expect_error "unknown option" "Unknown option 'nosuch' specified on the command line"

# no project at all
mkdir -p "$TMP/empty"
P="$TMP/empty"
run_rill show x.bst
expect_error "no project.conf" "project.conf not found"
finish
