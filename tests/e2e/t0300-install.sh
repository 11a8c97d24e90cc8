#!/bin/sh
# make install PREFIX=... installs binaries, plugins with their YAML and the plugin header so
# the installed rill works from anywhere.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
prefix="$TMP/prefix"
if make -s -C "$TOP" install PREFIX="$prefix" >"$TMP/install.log" 2>&1; then
	pass "make install succeeds"
else
	fail "make install succeeds" "$(cat "$TMP/install.log")"
fi
for f in bin/rill bin/rill-backend lib/rill/plugins/elements/manual.so lib/rill/plugins/elements/manual.yaml \
	lib/rill/plugins/sources/git.so include/rill/rill-plugin.h; do
	[ -e "$prefix/$f" ] && pass "installed $f" || fail "installed $f"
done
cp -r "$TOP/examples/hello" "$TMP/hello"
(cd "$TMP/hello" && "$prefix/bin/rill" show --deps none --format '%{name} %{kind}' greeting.bst) >"$TMP/o" 2>&1
[ "$(cat "$TMP/o")" = "greeting.bst manual" ] && pass "the installed rill finds its plugins" || fail "the installed rill finds its plugins" "$(cat "$TMP/o")"
finish
