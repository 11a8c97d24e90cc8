#!/bin/sh
# A change that affects the build changes the key; one that does not (comments, key order,
# environment-nocache values, formatting) leaves it alone.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
new_project keysens <<'EOF2'
name: keysens
element-path: elements
EOF2
element base.bst <<'EOF2'
kind: manual
config:
  build-commands: [true]
EOF2
write_app() {
	element app.bst
}
write_app <<'EOF2'
kind: manual
depends: [base.bst]
variables:
  flags: -O2
environment:
  VOLATILE: one
environment-nocache: [VOLATILE]
config:
  build-commands:
  - make %{flags}
  install-commands:
  - make install
EOF2
k0=$(key_of app.bst)
[ ${#k0} -eq 64 ] && pass "a key is 64 hex digits" || fail "a key is 64 hex digits" "got '$k0'"

same() { # CASE: key unchanged after the edit just made
	k=$(key_of app.bst)
	[ "$k" = "$k0" ] && pass "$1" || fail "$1" "key changed: $k0 -> $k"
}
differs() { # CASE: key changed after the edit just made
	k=$(key_of app.bst)
	[ -n "$k" ] && [ "$k" != "$k0" ] && pass "$1" || fail "$1" "key did not change ($k)"
}

write_app <<'EOF2'
# a comment, and keys in another order
config:
  install-commands: ["make install"]
  build-commands:
  - "make %{flags}"
environment-nocache: [VOLATILE]
environment:
  VOLATILE: two
variables: {flags: -O2}
depends: [base.bst]
kind: manual
EOF2
same "comments, key order, quoting, flow style and a nocache variable do not change the key"

write_app <<'EOF2'
kind: manual
depends: [base.bst]
variables:
  flags: -O3
environment:
  VOLATILE: one
environment-nocache: [VOLATILE]
config:
  build-commands:
  - make %{flags}
  install-commands:
  - make install
EOF2
differs "a variable used by a command changes the key"

sed -i 's/-O3/-O2/' "$P/elements/app.bst"
same "restoring the variable restores the key"

sed -i 's/environment-nocache: \[VOLATILE\]/environment-nocache: []/' "$P/elements/app.bst"
differs "an environment variable that is cached changes the key"
sed -i 's/environment-nocache: \[\]/environment-nocache: [VOLATILE]/' "$P/elements/app.bst"
same "making it nocache again restores the key"

sed -i 's/build-commands: \[true\]/build-commands: [false]/' "$P/elements/base.bst"
differs "a change in a dependency changes the dependent's key"
sed -i 's/build-commands: \[false\]/build-commands: [true]/' "$P/elements/base.bst"
same "and restoring it restores the key"

printf 'sandbox:\n  build-uid: 1000\n' >>"$P/elements/app.bst"
differs "a sandbox uid changes the key"
sed -i '/sandbox:/,$d' "$P/elements/app.bst"
same "removing it restores the key"

printf 'public:\n  bst:\n    integration-commands: [ldconfig]\n' >>"$P/elements/app.bst"
differs "public data changes the key"
sed -i '/public:/,$d' "$P/elements/app.bst"

printf 'variables:\n  unused: 1\n' >>"$P/project.conf"
same "a variable nothing uses does not change the key"
printf 'environment:\n  NEW: 1\n' >>"$P/project.conf"
differs "a project environment variable changes the key"
# a runtime dependency of a build dependency is part of the build: changing it changes the
# dependent's key but not the key of the element that only needs it at runtime
element rt.bst <<'EOF2'
kind: manual
config:
  build-commands: [echo rt-1]
EOF2
element lib.bst <<'EOF2'
kind: manual
runtime-depends: [rt.bst]
EOF2
element top.bst <<'EOF2'
kind: manual
build-depends: [lib.bst]
EOF2
lib0=$(key_of lib.bst)
top0=$(key_of top.bst)
sed -i 's/rt-1/rt-2/' "$P/elements/rt.bst"
lib1=$(key_of lib.bst)
top1=$(key_of top.bst)
[ "$lib0" = "$lib1" ] && pass "a runtime dependency does not change its dependent's own key" ||
	fail "a runtime dependency does not change its dependent's own key" "$lib0 / $lib1"
[ -n "$top1" ] && [ "$top0" != "$top1" ] && pass "but it changes the key of what builds on it" ||
	fail "but it changes the key of what builds on it" "$top0 / $top1"
# the same holds with BuildStream's key scheme
sed -i 's/rt-2/rt-1/' "$P/elements/rt.bst"
b0=$(key_of top.bst --bst-keys); l0=$(key_of lib.bst --bst-keys)
sed -i 's/rt-1/rt-2/' "$P/elements/rt.bst"
b1=$(key_of top.bst --bst-keys); l1=$(key_of lib.bst --bst-keys)
[ "$l0" = "$l1" ] && [ -n "$b1" ] && [ "$b0" != "$b1" ] && pass "bst keys behave the same way" ||
	fail "bst keys behave the same way" "$l0 $l1 $b0 $b1"
finish
