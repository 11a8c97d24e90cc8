#!/bin/sh
# Plugins are shared objects loaded by the backend: project-local plugins load like core ones,
# and a wrong or missing descriptor is a clear error naming the file.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
CC=${CC:-cc}

# the worked example from docs/plugins.md, built by make check
P="$TMP/example"
cp -r "$TOP/examples/plugins" "$P"
run_rill show --deps none --format '%{name} %{kind} %{state}' sums.bst
expect_out "a project-local element plugin loads" "sums.bst checksum waiting"
run_rill show --deps none --format '%{config}' sums.bst
if printf '%s\n' "$OUT" | grep -q 'algorithm: sha512'; then pass "its default YAML and config compose"; else fail "its default YAML and config compose" "$OUT $ERR"; fi
k1=$(key_of sums.bst)
sed -i 's/sha512/sha256/' "$P/sums.bst"
k2=$(key_of sums.bst)
if [ -n "$k1" ] && [ -n "$k2" ] && [ "$k1" != "$k2" ]; then pass "the plugin's unique key feeds the cache key"; else fail "the plugin's unique key feeds the cache key" "$k1 / $k2"; fi
sed -i 's/sha256/md5/' "$P/sums.bst"
run_rill show sums.bst
expect_error "the plugin validates its config" "sums.bst"

# a plugin built against another ABI version
new_project abi <<'EOF2'
name: abi
element-path: elements
plugins:
- origin: local
  path: myplugins
  elements:
    oldabi: 0
    nodesc: 0
EOF2
mkdir -p "$P/myplugins"
cat >"$TMP/oldabi.c" <<'EOF2'
#include "rill-plugin.h"
static int configure(const struct rill_host *h, struct rill_ctx *c, const struct rill_node *n,
		     struct rill_configured *out)
{
	(void)h; (void)c; (void)n; (void)out;
	return 0;
}
RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION + 1, .type = RILL_PLUGIN_ELEMENT, .kind = "oldabi",
	.configure = configure};
EOF2
printf 'int not_a_plugin = 1;\n' >"$TMP/nodesc.c"
$CC -shared -fPIC -I"$TOP/core/plugin" -o "$P/myplugins/oldabi.so" "$TMP/oldabi.c" &&
	$CC -shared -fPIC -o "$P/myplugins/nodesc.so" "$TMP/nodesc.c" || fail "compile test plugins"
element old.bst <<'EOF2'
kind: oldabi
EOF2
element nodesc.bst <<'EOF2'
kind: nodesc
EOF2
element missing.bst <<'EOF2'
kind: notbuilt
EOF2
run_rill show old.bst
expect_error "ABI mismatch names the file" "myplugins/oldabi.so: plugin ABI version"
run_rill show nodesc.bst
expect_error "missing descriptor names the file" "myplugins/nodesc.so: not a rill plugin"
cat >>"$P/project.conf" <<'EOF2'
- origin: local
  path: myplugins
  elements:
    notbuilt: 0
EOF2
run_rill show missing.bst
expect_error "declared but missing plugin" "Failed to load Element plugin 'notbuilt': No module named 'notbuilt'"

# every core kind loads and has its defaults
new_project kinds <<'EOF2'
name: kinds
element-path: elements
EOF2
for k in manual autotools cmake make meson script stack; do
	printf 'kind: %s\n' "$k" >"$P/elements/$k.bst"
	run_rill show --deps none --format '%{kind}' "$k.bst"
	expect_out "element kind $k loads" "$k"
done
finish
