#!/bin/sh
# t0440 — source mirrors: fetch tries the default mirror, the other mirrors in order, then the
# alias itself (BuildStream's get_alias_uris order), falling back on failure; track tries the
# alias first, then the mirrors in reverse; --default-mirror and the user configuration pick
# the first mirror; the artifact does not depend on which URI served the source; when every
# URI fails, one error lists what was tried. For remote/tar (host download) and git.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

HTTPD="$TOP/tests/tools/flaky-httpd"
# three server roots: a good one, an empty one (404 for everything), a second good one
mkdir -p "$TMP/good" "$TMP/empty" "$TMP/good2" "$TMP/src/pkg-1.0"
echo "mirrored data" >"$TMP/good/data.txt"
cp "$TMP/good/data.txt" "$TMP/good2/data.txt"
echo "pkg readme" >"$TMP/src/pkg-1.0/README"
(cd "$TMP/src" && tar -czf "$TMP/good/pkg-1.0.tar.gz" pkg-1.0)
datasum=$(sha256sum "$TMP/good/data.txt" | cut -d' ' -f1)
tarsum=$(sha256sum "$TMP/good/pkg-1.0.tar.gz" | cut -d' ' -f1)

# start_httpd NAME DIR: a server on DIR; its port in $NAME_PORT, its request log $TMP/NAME.log
start_httpd() {
	rm -f "$TMP/$1.port"
	"$HTTPD" "$2" "$TMP/$1.port" 2>"$TMP/$1.log" &
	eval "$1_PID=$!"
	i=0
	while [ ! -s "$TMP/$1.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	eval "$1_PORT=$(cat "$TMP/$1.port")"
}
stop_httpd() { eval "kill \$$1_PID 2>/dev/null; wait \$$1_PID 2>/dev/null"; }
# requests NAME: how many GET requests server NAME logged
requests() { grep -c 'GET' "$TMP/$1.log" 2>/dev/null || true; }
reset_logs() { for s in good empty good2; do : >"$TMP/$s.log"; done; }

start_httpd good "$TMP/good"
start_httpd empty "$TMP/empty"
start_httpd good2 "$TMP/good2"
# a port nothing listens on: a server started and stopped
start_httpd dead "$TMP/empty"
stop_httpd dead

busybox_project mir
cat >>"$P/project.conf" <<EOF2
aliases:
  upstream: http://127.0.0.1:$dead_PORT/
mirrors:
- name: broken
  aliases:
    upstream:
    - http://127.0.0.1:$empty_PORT/
- name: good
  aliases:
    upstream:
    - http://127.0.0.1:$good_PORT/
EOF2
element file.bst <<EOF2
kind: import
sources:
- kind: remote
  url: upstream:data.txt
  ref: $datasum
EOF2
element tarball.bst <<EOF2
kind: import
sources:
- kind: tar
  url: upstream:pkg-1.0.tar.gz
  ref: $tarsum
EOF2

key_before=$(key_of file.bst)

# fetch: the first mirror answers 404, the second serves the file; upstream is never needed
run_rill build --network-retries 0 file.bst tarball.bst
if [ "$RC" -eq 0 ]; then pass "fetch falls back from a 404 mirror to a good one"; else fail "mirror fallback" "$ERR"; fi
[ "$(requests empty)" -ge 2 ] && [ "$(requests good)" -eq 2 ] && pass "the broken mirror was tried first, the good one served both" ||
	fail "mirror order" "empty: $(cat "$TMP/empty.log") good: $(cat "$TMP/good.log")"
expect_contains "the failed mirror is reported" "$ERR" "Could not fetch from http://127.0.0.1:$empty_PORT/data.txt (HTTP 404), trying the next mirror"
run_rill artifact checkout --directory "$TMP/co1" file.bst
[ "$(cat "$TMP/co1/data.txt" 2>/dev/null)" = "mirrored data" ] && pass "the mirrored file is in the artifact" || fail "mirror artifact" "$ERR"
run_rill artifact checkout --directory "$TMP/tco" tarball.bst
[ "$(cat "$TMP/tco/README" 2>/dev/null)" = "pkg readme" ] && pass "a tar source fetched from a mirror stages" || fail "tar mirror" "$ERR"
[ "$(key_of file.bst)" = "$key_before" ] && pass "the cache key does not depend on mirrors" || fail "key changed"

# the same project without mirrors, fetched from upstream itself: the same key and artifact
busybox_project plain
cp "$TMP/mir/elements/file.bst" "$P/elements/"
printf 'aliases:\n  upstream: http://127.0.0.1:%s/\n' "$good2_PORT" >>"$P/project.conf"
sed -i 's/^name: plain/name: mir/' "$P/project.conf"
plain_key=$(key_of file.bst)
[ "$plain_key" = "$key_before" ] && pass "the key equals the unmirrored project's" || fail "unmirrored key" "$plain_key vs $key_before"
P="$TMP/mir"

# --default-mirror puts a mirror first: the good one now serves without trying the broken one
rm -rf "$XDG_CACHE_HOME/rill/sources" "$XDG_CACHE_HOME/rill/artifacts"
reset_logs
run_rill --default-mirror good fetch file.bst
if [ "$RC" -eq 0 ] && [ "$(requests empty)" -eq 0 ] && [ "$(requests good)" -eq 1 ]; then
	pass "--default-mirror is tried first"
else
	fail "--default-mirror" "rc=$RC empty=$(requests empty) good=$(requests good) $ERR"
fi
# ... and so does the user configuration's projects.<name>.default-mirror
rm -rf "$XDG_CACHE_HOME/rill/sources"
reset_logs
mkdir -p "$XDG_CONFIG_HOME"
printf 'projects:\n  mir:\n    default-mirror: good\n' >"$XDG_CONFIG_HOME/rill.conf"
run_rill fetch file.bst
[ "$RC" -eq 0 ] && [ "$(requests empty)" -eq 0 ] && pass "the user configuration's default-mirror is tried first" ||
	fail "user default-mirror" "rc=$RC empty=$(requests empty) $ERR"
run_rill --default-mirror nope show file.bst
expect_error "an unknown --default-mirror is an error" "--default-mirror: no mirror named 'nope' in project 'mir' (its mirrors: 'broken', 'good')"
rm -f "$XDG_CONFIG_HOME/rill.conf"

# every URI fails: one error listing each URL tried, in order, and nothing cached
stop_httpd good
rm -rf "$XDG_CACHE_HOME/rill/sources"
run_rill fetch --network-retries 0 file.bst
if [ "$RC" -eq 1 ] && printf '%s' "$ERR" | grep -q "could not fetch from any of the 3 URIs of alias 'upstream' (tried in this order)"; then
	pass "all mirrors failing gives one error"
else
	fail "all mirrors failing" "rc=$RC $ERR"
fi
tried=$(printf '%s\n' "$ERR" | grep -o "^ *http://127.0.0.1:[0-9]*/data.txt" | sed 's/^ *//' | head -3 | tr '\n' ' ')
[ "$tried" = "http://127.0.0.1:$empty_PORT/data.txt http://127.0.0.1:$good_PORT/data.txt http://127.0.0.1:$dead_PORT/data.txt " ] &&
	pass "the error lists the mirrors, then upstream" || fail "tried list" "$tried
$ERR"
expect_contains "the error says why each URI failed" "$ERR" "  http://127.0.0.1:$empty_PORT/data.txt: HTTP 404"
[ -z "$(find "$XDG_CACHE_HOME/rill/sources" -mindepth 2 -path '*/remote/*' 2>/dev/null)" ] && pass "nothing cached after the failure" ||
	fail "left behind" "$(find "$XDG_CACHE_HOME/rill/sources")"

# track tries upstream first, then the mirrors in reverse order
start_httpd good "$TMP/good"
sed -i "s|upstream: http://127.0.0.1:$dead_PORT/|upstream: http://127.0.0.1:$good2_PORT/|; s|- http://127.0.0.1:[0-9]*/\$|&|" "$P/project.conf"
sed -i "/name: good/,\$ s|http://127.0.0.1:[0-9]*/|http://127.0.0.1:$good_PORT/|" "$P/project.conf"
sed -i '/^  ref: /d' "$P/elements/file.bst"
reset_logs
run_rill track file.bst
if [ "$RC" -eq 0 ] && grep -q "ref: $datasum" "$P/elements/file.bst" && [ "$(requests good2)" -eq 1 ] &&
   [ "$(requests good)" -eq 0 ] && [ "$(requests empty)" -eq 0 ]; then
	pass "track asks upstream first"
else
	fail "track upstream first" "rc=$RC good2=$(requests good2) good=$(requests good) empty=$(requests empty) $ERR"
fi
stop_httpd good2
sed -i '/^  ref: /d' "$P/elements/file.bst"
reset_logs
run_rill track --network-retries 0 file.bst
if [ "$RC" -eq 0 ] && grep -q "ref: $datasum" "$P/elements/file.bst" && [ "$(requests good)" -eq 1 ] && [ "$(requests empty)" -eq 0 ]; then
	pass "track falls back to the mirrors, the last listed first"
else
	fail "track fallback" "rc=$RC good=$(requests good) empty=$(requests empty) $ERR"
fi

# git: a mirror that does not have the repository, then one that does
git init -q "$TMP/repo"
(cd "$TMP/repo" && echo one >f.txt && git add f.txt && git -c user.email=t@t -c user.name=t commit -qm one)
git -C "$TMP/repo" branch -m main
commit=$(git -C "$TMP/repo" rev-parse HEAD)
mkdir -p "$TMP/gitmirror"
git clone -q --bare "$TMP/repo" "$TMP/gitmirror/repo"
busybox_project gitmir
cat >>"$P/project.conf" <<EOF2
aliases:
  gh: file://$TMP/nowhere/
mirrors:
- name: empty
  aliases:
    gh:
    - file://$TMP/empty/
    - file://$TMP/gitmirror/
EOF2
element g.bst <<EOF2
kind: import
sources:
- kind: git
  url: gh:repo
  track: main
  ref: $commit
EOF2
run_rill build g.bst
run_rill artifact checkout --directory "$TMP/gco" g.bst
[ "$(cat "$TMP/gco/f.txt" 2>/dev/null)" = one ] && pass "git fetch falls back to the second URI of a mirror" || fail "git mirror" "$ERR"
# track: upstream (missing) first, then the mirror's URIs in reverse: the good one answers
(cd "$TMP/gitmirror" && git -C repo fetch -q "$TMP/repo" main:main)
(cd "$TMP/repo" && echo two >f.txt && git -c user.email=t@t -c user.name=t commit -qam two)
git -C "$TMP/gitmirror/repo" fetch -q "$TMP/repo" main:main
second=$(git -C "$TMP/repo" rev-parse HEAD)
run_rill track g.bst
if [ "$RC" -eq 0 ] && grep -q "ref: $second" "$P/elements/g.bst"; then pass "git track falls back to a mirror"; else fail "git track mirror" "rc=$RC $ERR"; fi

# malformed mirrors are load errors naming the place
new_project badmir <<'EOF2'
name: badmir
aliases:
  up: http://example.com/
mirrors:
- name: m
  aliases:
    up: http://mirror.example.com/
EOF2
run_rill show --deps none --format '%{name}' nothing.bst
expect_error "a mirror alias must map to a list" "project.conf [line 7 column 8]: Value of 'up' is not of the expected type 'list'"
new_project dupmir <<'EOF2'
name: dupmir
mirrors:
- name: m
  aliases: {}
- name: m
  aliases: {}
EOF2
run_rill show nothing.bst
expect_error "mirror names are unique" "project.conf [line 5 column 8]: Duplicate mirror name 'm'"

stop_httpd good
stop_httpd empty
finish
