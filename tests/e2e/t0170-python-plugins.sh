#!/bin/sh
# t0170 — Python plugins: BuildStream plugins written in Python, local (.py files of the
# project, each base class) and python3-bst-external's through origin pip, hosted by the bridge
# (plugins/python). Keys and states equal bst 1.6.8's (projects/python/expected-keys.txt,
# recorded by its record.sh); a Python element and a Python source fetch, stage and build in the
# sandbox; plugin errors are bst's; a project without Python plugins never loads libpython.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
SRC="$TOP/tests/e2e/projects/python"

if ! /usr/bin/python3 -c 'import bst_external' 2>/dev/null; then
	fail "python3-bst-external is installed (make check installs it as root)"
	finish
	exit
fi

# keys and states, as bst shows them
"$RILL" -C "$SRC" show --bst-keys --deps all --format '%{name}||%{full-key}||%{state}' all.bst \
	>"$TMP/keys" 2>"$TMP/keys.err"
rc=$?
cut -d'|' -f1,3 "$SRC/expected-keys.txt" >"$TMP/want-keys"
cut -d'|' -f1,3 "$TMP/keys" >"$TMP/got-keys"
if [ $rc -eq 0 ] && cmp -s "$TMP/want-keys" "$TMP/got-keys"; then
	pass "keys of $(wc -l <"$TMP/want-keys") elements with Python plugins equal bst's"
else
	fail "keys of elements with Python plugins equal bst's" "rc $rc $(cat "$TMP/keys.err")
$(diff "$TMP/want-keys" "$TMP/got-keys")"
fi
if [ $rc -eq 0 ] && cmp -s "$SRC/expected-keys.txt" "$TMP/keys"; then
	pass "states equal bst's"
else
	fail "states equal bst's" "$(diff "$SRC/expected-keys.txt" "$TMP/keys")"
fi

# libpython is loaded only for a project that declares Python plugins
LD_DEBUG=files "$RILL" -C "$SRC" show --deps none --format '%{name}' hello.bst >/dev/null 2>"$TMP/ld.py"
busybox_project plain
LD_DEBUG=files "$RILL" -C "$P" show --deps none --format '%{name}' base.bst >/dev/null 2>"$TMP/ld.plain"
if grep -q 'libpython3' "$TMP/ld.py" && ! grep -q 'libpython3' "$TMP/ld.plain"; then
	pass "libpython is loaded for Python plugins only"
else
	fail "libpython is loaded for Python plugins only" \
		"python project: $(grep -c libpython3 "$TMP/ld.py"); plain project: $(grep -c libpython3 "$TMP/ld.plain")"
fi

# a build: the project with a busybox sysroot and its file alias pointing here
P="$TMP/py"
cp -r "$SRC" "$P"
mkdir -p "$P/files/base/bin"
cp "$(command -v busybox)" "$P/files/base/bin/busybox"
for a in sh echo cat ls mkdir cp mv rm true test; do ln -s busybox "$P/files/base/bin/$a"; done
sed -i "s|files: file:///nonexistent/files/|files: file://$P/files/|" "$P/project.conf"
run_rill build greeting.bst
expect_ok "a Python source (fileurl) and Python elements (BuildElement subclass, Element) build"
run_rill checkout hello.bst "$TMP/co-hello"
if [ "$(cat "$TMP/co-hello/usr/share/hello.txt" 2>/dev/null)" = "hello, world" ] &&
	[ "$(cat "$TMP/co-hello/usr/share/greeting" 2>/dev/null)" = "from-project-conf" ]; then
	pass "the BuildElement subclass ran its YAML's commands on the staged Python source"
else
	fail "the BuildElement subclass ran its YAML's commands on the staged Python source" "$ERR $(ls -R "$TMP/co-hello" 2>&1 | head)"
fi
run_rill checkout greeting.bst "$TMP/co-greet"
if [ "$(cat "$TMP/co-greet/greeting.txt" 2>/dev/null)" = "hello from greeting.bst
hello from greeting.bst" ] && [ "$(cat "$TMP/co-greet/copied.txt" 2>/dev/null)" = "hello, world" ] &&
	[ "$(cat "$TMP/co-greet/deps.txt" 2>/dev/null)" = "base.bst
hello.bst" ]; then
	pass "the Element's assemble wrote files, ran a sandboxed command and saw its dependencies"
else
	fail "the Element's assemble wrote files, ran a sandboxed command and saw its dependencies" \
		"$ERR $(cat "$TMP/co-greet/greeting.txt" "$TMP/co-greet/deps.txt" "$TMP/co-greet/copied.txt" 2>&1)"
fi
run_rill show --deps none --format '%{state}' greeting.bst
expect_out "the built element is cached" "cached"

# a failing command of a Python BuildElement: bst's message, and the build fails
cat >"$P/elements/fails.bst" <<'EOB'
kind: mybuild
build-depends:
- base.bst
config:
  build-commands:
  - echo before
  - exit 3
EOB
run_rill build fails.bst
if [ "$RC" -ne 0 ] && printf '%s' "$OUT$ERR" | grep -q "Command 'exit 3' failed with exitcode 3"; then
	pass "a failing command of a Python BuildElement fails the build with bst's message"
else
	fail "a failing command of a Python BuildElement fails the build with bst's message" "rc $RC $ERR"
fi

# bst-external's git_tag: track a local repository's tag, fetch, and a collect_manifest that
# reads its dependencies' sources
mkdir -p "$P/git/repo"
(cd "$P/git/repo" && git init -q && echo hi >README && git add README &&
	git -c user.email=t@example.com -c user.name=t commit -qm init && git tag -a v1.2.3 -m v1.2.3) >/dev/null 2>&1
sed -i "s|gitrepos: file:///nonexistent/git/|gitrepos: file://$P/git/|" "$P/project.conf"
run_rill track tagged.bst
commit=$(git -C "$P/git/repo" rev-parse HEAD)
if [ "$RC" -eq 0 ] && grep -q "ref: v1.2.3-0-g$commit" "$P/elements/tagged.bst"; then
	pass "git_tag (pip) tracks the tag as bst does (v1.2.3-0-g<commit>)"
else
	fail "git_tag (pip) tracks the tag as bst does (v1.2.3-0-g<commit>)" "rc $RC $ERR $(grep ref: "$P/elements/tagged.bst")"
fi
run_rill build manifest.bst
run_rill checkout manifest.bst "$TMP/co-man"
if [ "$RC" -eq 0 ] && /usr/bin/python3 - "$TMP/co-man/usr/share/manifest.json" "$commit" <<'EOPY'
import json, sys
m = {x['name']: x for x in json.load(open(sys.argv[1]))['modules']}
t = m['tagged.bst']
assert t['x-cpe'] == {'product': 'tagged', 'version': '1.2.3'}, t
assert t['sources'] == [{'type': 'git', 'x-bst-kind': 'git_tag', 'url': sys.argv[1][:0] + t['sources'][0]['url'],
                         'commit': 'v1.2.3-0-g' + sys.argv[2]}], t
assert t['sources'][0]['url'].endswith('/git/repo'), t
assert m['hello.bst']['sources'] == [], m
EOPY
then
	pass "collect_manifest (pip) builds and lists the git_tag source with its version"
else
	fail "collect_manifest (pip) builds and lists the git_tag source with its version" "$ERR $(cat "$TMP/co-man/usr/share/manifest.json" 2>&1)"
fi

# more of bst-external and local base classes, built: each artifact holds what the plugin makes
built() {   # built ELEMENT FILE [TEXT]: ELEMENT builds and its artifact has FILE (containing TEXT)
	run_rill build "$1"
	rm -rf "$TMP/co"
	[ "$RC" -eq 0 ] && "$RILL" -C "$P" checkout "$1" "$TMP/co" >/dev/null 2>&1 && [ -f "$TMP/co/$2" ] &&
		{ [ -z "${3:-}" ] || grep -qF -- "$3" "$TMP/co/$2"; }
}
built tarball.bst hello.tar.gz.tar.gz && tar tzf "$TMP/co/hello.tar.gz.tar.gz" | grep -q usr/share/hello.txt &&
	pass "tar_element builds a tarball of its dependency" || fail "tar_element builds a tarball of its dependency" "$ERR"
built flatpak.bst metadata "name = org.example.Hello" && [ -f "$TMP/co/files/share/hello.txt" ] &&
	pass "flatpak_image builds metadata and files/" || fail "flatpak_image builds metadata and files/" "$ERR"
built snap.bst meta/snap.yaml "name: hello" && pass "snap_image builds meta/snap.yaml" || fail "snap_image builds meta/snap.yaml" "$ERR"
built oci.bst index.json "manifests" && [ -f "$TMP/co/oci-layout" ] &&
	pass "oci builds an image layout (its relative collect path is the sandbox's)" || fail "oci builds an image layout" "$ERR"
built integration.bst usr/share/integration.sh && pass "collect_integration builds its script" || fail "collect_integration builds its script" "$ERR"
built forbidden.bst usr/share/hello.txt && pass "check_forbidden passes a graph without the forbidden element" ||
	fail "check_forbidden passes a graph without the forbidden element" "$ERR"
built patched.bst usr/share/patched.txt "patched line" && pass "patch_queue (pip) applies its patches" || fail "patch_queue (pip) applies its patches" "$ERR"
built quilted.bst usr/share/quilted.txt "patched line" && pass "quilt (pip) applies the series" || fail "quilt (pip) applies the series" "$ERR"
built deployed.bst deployed.txt "from-project-conf" && pass "a local ScriptElement stages its layout and runs its commands" ||
	fail "a local ScriptElement stages its layout and runs its commands" "$ERR"
built multi.bst usr/share/multi.txt "NAME=busybox" && pass "a local Source with SourceFetchers fetches each file" ||
	fail "a local Source with SourceFetchers fetches each file" "$ERR"

# a fetch that fails: the source's own error, and nothing cached
printf 'changed\n' >"$P/files/hello/hello.txt"
rm -rf "$XDG_CACHE_HOME/rill/sources"
run_rill build --deps none patched.bst >/dev/null 2>&1
run_rill fetch hello.bst
if [ "$RC" -ne 0 ] && printf '%s' "$OUT$ERR" | grep -q "expected $(sha256sum "$SRC/files/hello/hello.txt" | cut -d' ' -f1)"; then
	pass "a Python source's fetch error fails the fetch with its message"
else
	fail "a Python source's fetch error fails the fetch with its message" "rc $RC $OUT $ERR"
fi

# tracking refs that are not plain strings: a list of maps (as cargo's), written as YAML flow
# text in place of the old block list; a string with a newline, quoted
P="$TMP/refs"
mkdir -p "$P/elements" "$P/plugins"
cat >"$P/project.conf" <<'EOC'
name: refs
element-path: elements
plugins:
- origin: local
  path: plugins
  sources:
    listref: 0
EOC
cat >"$P/plugins/listref.py" <<'EOP'
import os
from buildstream import Source, Consistency
class ListRef(Source):
    def configure(self, node):
        self.node_validate(node, ['ref', 'shape'] + Source.COMMON_CONFIG_KEYS)
        self.ref = self.node_get_member(node, object, 'ref', None) if 'ref' in node else None
        self.shape = self.node_get_member(node, str, 'shape')
    def preflight(self):
        pass
    def get_unique_key(self):
        return [self.ref]
    def get_consistency(self):
        return Consistency.RESOLVED if self.ref else Consistency.INCONSISTENT
    def load_ref(self, node):
        self.ref = node.get('ref')
    def get_ref(self):
        return self.ref
    def set_ref(self, ref, node):
        node['ref'] = self.ref = ref
    def track(self):
        if self.shape == 'list':
            return [{'name': 'libc', 'version': '0.2.80'}, {'name': 'cfg-if', 'version': '1.0.0'}]
        return 'a==1.0\nb==2.0'
    def fetch(self):
        pass
    def stage(self, directory):
        pass
def setup():
    return ListRef
EOP
cat >"$P/elements/l.bst" <<'EOB'
kind: import
sources:
- kind: listref
  shape: list
  ref:
  - name: old
    version: '0'

  # a comment after the ref
EOB
printf 'kind: import\nsources:\n- kind: listref\n  shape: lines\n' >"$P/elements/s.bst"
run_rill track l.bst s.bst
if [ "$RC" -eq 0 ] && grep -q '^  ref: \[{"name": "libc", "version": "0.2.80"}, {"name": "cfg-if", "version": "1.0.0"}\]$' "$P/elements/l.bst" &&
	grep -q '^  # a comment after the ref' "$P/elements/l.bst" && ! grep -q "name: old" "$P/elements/l.bst" &&
	grep -q '^  ref: "a==1.0\\nb==2.0"$' "$P/elements/s.bst"; then
	pass "tracked refs that are lists or multi-line strings are written as YAML that reads back"
else
	fail "tracked refs that are lists or multi-line strings are written as YAML that reads back" "rc $RC $ERR
$(cat "$P/elements/l.bst" "$P/elements/s.bst")"
fi
run_rill show --deps none --format '%{state}' l.bst s.bst
expect_out "the elements with the tracked refs load" "fetch needed
fetch needed"

# a junctioned project's own Python plugin of the same kind as the loading project's: each
# project's elements get their own project's plugin
P="$TMP/jtop"
mkdir -p "$P/elements" "$P/plugins" "$P/sub/elements" "$P/sub/plugins"
for d in "$P" "$P/sub"; do
	w=top
	[ "$d" = "$P/sub" ] && w=sub
	cat >"$d/plugins/marker.py" <<EOP
from buildstream import Element
class Marker(Element):
    BST_FORBID_SOURCES = True
    def configure(self, node):
        pass
    def preflight(self):
        pass
    def get_unique_key(self):
        return {'from': '$w'}
def setup():
    return Marker
EOP
	printf 'name: %s\nelement-path: elements\nplugins:\n- origin: local\n  path: plugins\n  elements:\n    marker: 0\n' \
		"$w" >"$d/project.conf"
	printf 'kind: marker\n' >"$d/elements/m.bst"
done
printf 'kind: junction\nsources:\n- kind: local\n  path: sub\n' >"$P/elements/sub.bst"
printf 'kind: stack\ndepends:\n- m.bst\n- sub.bst:m.bst\n' >"$P/elements/all.bst"
run_rill show --bst-keys --deps all --format '%{name} %{full-key}' all.bst
k_top=$(printf '%s\n' "$OUT" | awk '$1 == "m.bst" {print $2}')
k_sub=$(printf '%s\n' "$OUT" | awk '$1 == "sub.bst:m.bst" {print $2}')
if [ "$RC" -eq 0 ] && [ -n "$k_top" ] && [ -n "$k_sub" ] && [ "$k_top" != "$k_sub" ]; then
	pass "a junctioned project's Python plugin is its own (different keys)"
else
	fail "a junctioned project's Python plugin is its own (different keys)" "rc $RC $OUT $ERR"
fi
if command -v bst >/dev/null 2>&1; then
	bst_out=$(cd "$P" && XDG_CACHE_HOME="$TMP/bstcache" bst --no-colors show --deps all --format '%{name} %{full-key}' all.bst 2>/dev/null)
	if [ "$bst_out" = "$OUT" ]; then pass "and bst shows the same keys"; else fail "and bst shows the same keys" "bst: $bst_out
rill: $OUT"; fi
fi

# plugin errors, as bst reports them
err_project() {
	P="$TMP/err-$1"
	mkdir -p "$P/elements" "$P/plugins"
	cat >"$P/project.conf" <<EOC
name: err
element-path: elements
plugins:
- origin: local
  path: plugins
  elements:
    $1: ${2:-0}
EOC
	printf 'kind: %s\n' "$1" >"$P/elements/e.bst"
	cat >"$P/plugins/$1.py"
}
err_project boom <<'EOP'
from buildstream import Element, ElementError
class Boom(Element):
    def configure(self, node):
        raise ElementError("bad config from plugin")
def setup():
    return Boom
EOP
run_rill show e.bst
expect_error "an ElementError in configure() is the load error" "bad config from plugin"
err_project nosetup <<'EOP'
from buildstream import Element
EOP
run_rill show e.bst
expect_error "a module without setup()" "Element plugin 'nosetup' did not provide a setup() function"
err_project notsub <<'EOP'
class Foo:
    pass
def setup():
    return Foo
EOP
run_rill show e.bst
expect_error "setup() returning a class that is not an Element" "Element plugin 'notsub' returned type 'Foo', which is not a subclass of Element"
err_project badsyntax <<'EOP'
def setup(:
EOP
run_rill show e.bst
expect_error "a syntax error in the module" "invalid syntax"
err_project old 5 <<'EOP'
from buildstream import Element
class Old(Element):
    BST_FORMAT_VERSION = 1
    def configure(self, node):
        pass
    def preflight(self):
        pass
    def get_unique_key(self):
        return {}
def setup():
    return Old
EOP
run_rill show e.bst
expect_error "a plugin older than the project asks for" "old element at e.bst [line 1 column 0]: Format version 1 is too old for requested version 5"
err_project crash <<'EOP'
from buildstream import Element
class Crash(Element):
    def configure(self, node):
        pass
    def preflight(self):
        pass
    def get_unique_key(self):
        return {"n": 1}
    def configure_sandbox(self, sandbox):
        pass
    def stage(self, sandbox):
        pass
    def assemble(self, sandbox):
        raise RuntimeError("crash in assemble")
def setup():
    return Crash
EOP
run_rill build e.bst
if [ "$RC" -ne 0 ] && printf '%s' "$OUT$ERR" | grep -q "crash in assemble"; then
	pass "an exception in assemble() fails the build with its message"
else
	fail "an exception in assemble() fails the build with its message" "rc $RC $OUT $ERR"
fi
run_rill show --deps none --format '%{state}' e.bst
if [ "$OUT" != cached ]; then pass "nothing is cached for the failed build"; else fail "nothing is cached for the failed build"; fi
finish
