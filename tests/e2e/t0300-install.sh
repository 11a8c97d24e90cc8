#!/bin/sh
# make install PREFIX=... installs binaries, plugins with their YAML and the plugin header so
# the installed rill works from anywhere; a man page per command made from the same text as its
# --help; bash completion (commands, options, element names); and the status reader library
# (static, shared, headers, rillstatus.pc) that an out-of-tree program builds against.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
prefix="$TMP/prefix"
if make -s -C "$TOP" install PREFIX="$prefix" >"$TMP/install.log" 2>&1; then
	pass "make install succeeds"
else
	fail "make install succeeds" "$(cat "$TMP/install.log")"
fi
for f in bin/rill bin/rill-backend lib/rill/plugins/elements/manual.so lib/rill/plugins/elements/manual.yaml \
	lib/rill/plugins/sources/git.so include/rill/rill-plugin.h include/rill/rill-status.h \
	include/rill/rill-status-schema.h lib/librillstatus.a lib/librillstatus.so lib/pkgconfig/rillstatus.pc \
	share/man/man1/rill.1 share/man/man1/rill-build.1 share/man/man1/rill-artifact-checkout.1 \
	share/bash-completion/completions/rill; do
	[ -e "$prefix/$f" ] && pass "installed $f" || fail "installed $f"
done
cp -r "$TOP/examples/hello" "$TMP/hello"
(cd "$TMP/hello" && "$prefix/bin/rill" show --deps none --format '%{name} %{kind}' greeting.bst) >"$TMP/o" 2>&1
[ "$(cat "$TMP/o")" = "greeting.bst manual" ] && pass "the installed rill finds its plugins" || fail "the installed rill finds its plugins" "$(cat "$TMP/o")"

# the man pages: man finds them, and they hold the --help text
page=$(MANWIDTH=120 man -M "$prefix/share/man" rill-build 2>/dev/null | col -b 2>/dev/null)
expect_contains "man rill-build shows the page" "$page" "rill-build - Build elements in a pipeline"
line=$("$prefix/bin/rill" build --help | grep -- '--track-all')
expect_contains "the page holds the --help text" "$page" "$(printf '%s' "$line" | sed 's/^ *//')"
page=$(MANWIDTH=120 man -M "$prefix/share/man" rill 2>/dev/null | col -b 2>/dev/null)
expect_contains "man rill lists the commands" "$page" "artifact checkout  Check out an artifact's files"

# completion: commands, options, element names (also with -C)
comp() {
	bash -c '. "$1/share/bash-completion/completions/rill"; shift; cd "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _rill; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		comp "$prefix" "$@"
}
expect_out_eq() { [ "$2" = "$3" ] && pass "$1" || fail "$1" "expected [$3], got [$2]"; }
expect_out_eq "completion: commands" "$(comp "$TMP/hello" "$prefix/bin/rill" sh)" "shell show "
expect_out_eq "completion: a command's options" "$(comp "$TMP/hello" "$prefix/bin/rill" build --track-a)" "--track-all "
all=$(cd "$TMP/hello/$(sed -n 's/^element-path: *//p' "$TMP/hello/project.conf")" && find . -name '*.bst' | sed 's|^\./||' | sort | tr '\n' ' ')
expect_out_eq "completion: element names" "$(comp "$TMP/hello" "$prefix/bin/rill" show "")" "$all"
expect_out_eq "completion: element names of -C DIR" "$(comp / "$prefix/bin/rill" -C "$TMP/hello" build gr)" "greeting.bst "

# the reader library, outside the tree, through pkg-config (shared, then static); a
# sanitized build's library needs the program built with the same sanitizers
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
san=
nm "$TOP/rill-backend" 2>/dev/null | grep -q __asan_init && san="-fsanitize=address,undefined"
flags=$(pkg-config --cflags --libs rillstatus 2>&1)
expect_contains "pkg-config knows rillstatus" "$flags" "-lrillstatus"
cp "$TOP/examples/editor/rill-statusline.c" "$TMP/statusline.c"
if cc $san -o "$TMP/statusline" "$TMP/statusline.c" $(pkg-config --cflags --libs rillstatus) 2>"$TMP/cc.log"; then
	pass "an out-of-tree program builds with pkg-config --cflags --libs rillstatus"
else
	fail "an out-of-tree program builds with pkg-config" "$(cat "$TMP/cc.log")"
fi
"$prefix/bin/rill" -C "$TMP/hello" build --frontend plain greeting.bst >/dev/null 2>&1 || true
out=$(cd "$TMP/hello" && LD_LIBRARY_PATH="$prefix/lib" "$TMP/statusline" 2>&1)
expect_contains "it reads the status table through the installed shared library" "$out" "rill:"
ldd "$TMP/statusline" | grep -q "$prefix/lib/librillstatus.so.1" 2>/dev/null || LD_LIBRARY_PATH="$prefix/lib" ldd "$TMP/statusline" | grep -q "$prefix/lib/librillstatus.so.1" &&
	pass "it is linked against librillstatus.so.1" || fail "it is linked against librillstatus.so.1" "$(LD_LIBRARY_PATH="$prefix/lib" ldd "$TMP/statusline")"
if cc $san -o "$TMP/statusline-static" "$TMP/statusline.c" $(pkg-config --cflags rillstatus) "$prefix/lib/librillstatus.a" \
	$(pkg-config --libs-only-l --static rillstatus | sed 's/-lrillstatus//') 2>"$TMP/cc.log"; then
	pass "and with the static library"
else
	fail "and with the static library" "$(cat "$TMP/cc.log")"
fi
finish
