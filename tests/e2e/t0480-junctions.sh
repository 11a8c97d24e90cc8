#!/bin/sh
# t0480 — junctions: kind junction elements, "sub.bst:x.bst" and {filename, junction}
# dependencies, subproject options, keys equal to BuildStream's, a build through a junction on
# the busybox sysroot, the fetch-needed error for a tar junction, and the load errors.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

# the subproject: the busybox base and an element whose content depends on an option
busybox_project subp
cat >>"$P/project.conf" <<'EOF2'
options:
  flavour:
    type: enum
    description: which greeting
    values: [plain, fancy]
    default: plain
    variable: flavour
EOF2
element greet.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/share
  - echo "%{flavour} from %{element-name} of %{project-name}" > %{install-root}/share/greeting
EOF2
element both.bst <<'EOF2'
kind: stack
depends:
- base.bst
- greet.bst
EOF2
SUB=$P

new_project top </dev/null
printf 'name: top\nelement-path: elements\n' >"$P/project.conf"
mv "$SUB" "$P/subp"
element sub.bst <<'EOF2'
kind: junction
sources:
- kind: local
  path: subp
config:
  options:
    flavour: "%{want}"
variables:
  want: fancy
EOF2
element app.bst <<'EOF2'
kind: manual
build-depends:
- sub.bst:base.bst
- filename: greet.bst
  junction: sub.bst
config:
  install-commands:
  - mkdir -p %{install-root}/app
  - cat /share/greeting > %{install-root}/app/copy
EOF2
element all.bst <<'EOF2'
kind: stack
depends:
- app.bst
- sub.bst:both.bst
EOF2

fmt='%{name} %{full-key} %{state}'
run_rill show --deps all --format '%{name}' all.bst
expect_out "show: elements across the junction are named sub.bst:x.bst, in staging order" "sub.bst:base.bst
sub.bst:greet.bst
app.bst
sub.bst:both.bst
all.bst"

run_rill show --deps none --format '%{name}' sub.bst:greet.bst
expect_out "a subproject element can be a target" "sub.bst:greet.bst"

# keys: byte-identical to BuildStream's (the option set by the junction changes greet.bst)
run_rill show --bst-keys --deps all --format "$fmt" all.bst sub.bst
rill_keys=$OUT
if command -v bst >/dev/null 2>&1; then
	bst_keys=$(cd "$P" && bst --no-colors show --deps all --format "$fmt" all.bst sub.bst 2>/dev/null)
	[ -n "$bst_keys" ] && [ "$rill_keys" = "$bst_keys" ] && pass "--bst-keys: keys, order and states equal bst's (junction included)" ||
		fail "--bst-keys: keys equal bst's" "rill:
$rill_keys
bst:
$bst_keys"
else
	pass "bst not installed: key comparison left to t0100's stored expectations"
fi

k1=$(key_of sub.bst:greet.bst)
sed -i 's/want: fancy/want: plain/' "$P/elements/sub.bst"
k2=$(key_of sub.bst:greet.bst)
kb=$(key_of sub.bst:base.bst)
sed -i 's/want: plain/want: fancy/' "$P/elements/sub.bst"
[ -n "$k1" ] && [ "$k1" != "$k2" ] && [ "$kb" = "$(key_of sub.bst:base.bst)" ] &&
	pass "the junction's config.options reach the subproject (only the affected keys change)" ||
	fail "junction options change keys" "$k1 / $k2 / $kb"

# build through the junction
run_rill build all.bst
if [ "$RC" -eq 0 ]; then pass "build through a junction"; else fail "build through a junction" "$ERR"; fi
run_rill artifact checkout --directory "$TMP/co" all.bst
[ "$(cat "$TMP/co/app/copy" 2>/dev/null)" = "fancy from greet.bst of subp" ] &&
	[ -x "$TMP/co/bin/busybox" ] &&
	pass "the subproject's element built with its own project name, element name and option" ||
	fail "checkout through a junction" "rc=$RC $ERR $(cat "$TMP/co/app/copy" 2>&1)"

run_rill build sub.bst
[ "$RC" -ne 0 ] && expect_contains "a junction cannot be built" "$ERR$OUT" "Cannot build junction elements" ||
	fail "a junction cannot be built" "rc=$RC"

# errors, with the file and position of the dependency
err_case() { # NAME DEPENDENCY MESSAGE
	printf 'kind: stack\ndepends:\n- %s\n' "$2" >"$P/elements/bad.bst"
	run_rill show bad.bst
	expect_error "$1" "$3"
}
err_case "unknown junction" "nosuch.bst:x.bst" \
	"bad.bst [line 3 column 2]: Could not find element 'nosuch.bst' in elements directory 'elements'"
err_case "a junction that is not of kind junction" "app.bst:x.bst" "app.bst: Expected junction but element kind is manual"
err_case "an element missing from the subproject" "sub.bst:nosuch.bst" \
	"bad.bst [line 3 column 2]: Could not find element 'nosuch.bst' in project referred to by junction element 'sub.bst'"
err_case "depending on a junction" "sub.bst" "bad.bst [line 3 column 2]: Cannot depend on junction"
err_case "a lookup through two junctions" "a.bst:sub.bst:x.bst" \
	"Dependency a.bst:sub.bst:x.bst contains multiple \`:\` in its name. Recursive lookups for cross-junction elements is not allowed."
printf 'kind: stack\ndepends:\n- filename: sub.bst:x.bst\n  junction: sub.bst\n' >"$P/elements/bad.bst"
run_rill show bad.bst
expect_error "junction key and ':' together" "contains \`:\` in its name. \`:\` is not allowed in names when junction attribute is specified."
printf 'kind: junction\nsources:\n- kind: local\n  path: subp\nconfig:\n  path: nothere\n' >"$P/elements/nopath.bst"
printf 'kind: stack\ndepends:\n- nopath.bst:base.bst\n' >"$P/elements/bad.bst"
run_rill show bad.bst
expect_error "a junction path without a project" "nopath.bst: Could not find the project.conf file of the subproject"
printf 'kind: junction\ndepends:\n- app.bst\nsources:\n- kind: local\n  path: subp\n' >"$P/elements/withdeps.bst"
printf 'kind: stack\ndepends:\n- withdeps.bst:base.bst\n' >"$P/elements/bad.bst"
run_rill show bad.bst
expect_error "a junction with dependencies" "Dependencies are forbidden for 'junction' elements"
rm -f "$P/elements/bad.bst" "$P/elements/nopath.bst" "$P/elements/withdeps.bst"

# a tar junction: show needs it fetched, fetch and build fetch it
mkdir -p "$TMP/srv"
(cd "$P" && tar -cf "$TMP/srv/subp.tar" subp)
sha=$(sha256sum "$TMP/srv/subp.tar" | cut -d' ' -f1)
cat >"$P/elements/tsub.bst" <<EOF2
kind: junction
sources:
- kind: tar
  url: file://$TMP/srv/subp.tar
  ref: $sha
EOF2
element tapp.bst <<'EOF2'
kind: stack
depends:
- tsub.bst:greet.bst
EOF2
run_rill show tapp.bst
expect_error "show: a junction whose sources are not fetched" "Subproject fetch needed for junction: tsub.bst"
expect_contains "the error says how to fetch it" "$ERR" "rill fetch tsub.bst"
run_rill show --deps none --format '%{name}' tsub.bst:greet.bst
expect_error "a target in an unfetched subproject: the same error" "Subproject fetch needed for junction: tsub.bst"
run_rill fetch tapp.bst
expect_ok "fetch fetches the junction's sources to load the subproject"
run_rill show --deps all --format '%{name}' tapp.bst
expect_out "show after the fetch" "tsub.bst:base.bst
tsub.bst:greet.bst
tapp.bst"
[ "$(key_of tsub.bst:base.bst)" = "$(key_of sub.bst:base.bst)" ] &&
	pass "the same subproject through a tar and a local junction: same keys" ||
	fail "same keys through tar and local junctions"
sed -i '/ref:/d' "$P/elements/tsub.bst"
run_rill show tapp.bst
expect_error "a junction without a ref" "Subproject has no ref for junction: tsub.bst"
finish
