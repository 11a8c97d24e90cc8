#!/bin/sh
# t0420 — sources at build time: tar, zip and remote over HTTP from a local (flaky) server,
# git from a temporary repository, track writing refs inline and to project.refs, retries,
# checksum mismatches, missing refs, source checkout, and archives that try to escape.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

HTTPD="$TOP/tests/tools/flaky-httpd"
SRV="$TMP/srv"
mkdir -p "$SRV" "$TMP/src/hello-1.0"
echo "hello source" >"$TMP/src/hello-1.0/README"
printf '#!/bin/sh\necho built\n' >"$TMP/src/hello-1.0/build.sh"
(cd "$TMP/src" && tar -czf "$SRV/hello-1.0.tar.gz" hello-1.0)
(cd "$TMP/src" && python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],"w"); z.write("hello-1.0/README"); z.close()' "$SRV/hello-1.0.zip" 2>/dev/null || busybox true)
echo "plain file" >"$SRV/data.txt"
tarsum=$(sha256sum "$SRV/hello-1.0.tar.gz" | cut -d' ' -f1)
datasum=$(sha256sum "$SRV/data.txt" | cut -d' ' -f1)

start_httpd() {
	rm -f "$TMP/port"
	"$HTTPD" "$SRV" "$TMP/port" "$@" 2>"$TMP/httpd.log" &
	HTTPD_PID=$!
	i=0
	while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	PORT=$(cat "$TMP/port")
}
stop_httpd() { kill "$HTTPD_PID" 2>/dev/null; wait "$HTTPD_PID" 2>/dev/null; }

busybox_project src
start_httpd
cat >>"$P/project.conf" <<EOF2
aliases:
  local: http://127.0.0.1:$PORT/
EOF2
element tarball.bst <<EOF2
kind: manual
build-depends:
- base.bst
sources:
- kind: tar
  url: local:hello-1.0.tar.gz
  ref: $tarsum
config:
  install-commands:
  - mkdir -p %{install-root}/out && cp README %{install-root}/out/
EOF2
element file.bst <<EOF2
kind: import
sources:
- kind: remote
  url: local:data.txt
  ref: $datasum
EOF2

run_rill build tarball.bst file.bst
if [ "$RC" -eq 0 ]; then pass "tar and remote sources fetched over HTTP and built"; else fail "http build" "$ERR"; fi
run_rill artifact checkout --deps none --directory "$TMP/co" tarball.bst
[ "$(cat "$TMP/co/out/README" 2>/dev/null)" = "hello source" ] && pass "tar base-dir '*' strips the top directory" || fail "tar staging" "$ERR"
run_rill artifact list-contents file.bst
expect_out "remote source stages the file under its name" "data.txt"

# fetched once: the source cache serves the next build, even with the server gone
stop_httpd
rm -rf "$XDG_CACHE_HOME/rill/artifacts"
run_rill build tarball.bst
if [ "$RC" -eq 0 ] && ! printf '%s' "$ERR" | grep -q 'fetch:tarball.bst.*START'; then
	pass "a fetched source is not fetched again"
else
	fail "source cache" "$ERR"
fi

# retries: the first two requests fail, network-retries 2 gives three attempts
rm -rf "$XDG_CACHE_HOME/rill/sources"
start_httpd --fail 2
sed -i "s|127.0.0.1:[0-9]*|127.0.0.1:$PORT|" "$P/project.conf"
run_rill fetch --network-retries 2 file.bst
if [ "$RC" -eq 0 ]; then pass "fetch succeeds after failed attempts"; else fail "retries" "$ERR"; fi
expect_contains "retry is reported" "$ERR" "Try #1 failed, retrying"
stop_httpd

# a checksum mismatch fails and leaves nothing in the source cache
rm -rf "$XDG_CACHE_HOME/rill/sources"
start_httpd
sed -i "s|127.0.0.1:[0-9]*|127.0.0.1:$PORT|" "$P/project.conf"
sed -i "s/$datasum/0000000000000000000000000000000000000000000000000000000000000000/" "$P/elements/file.bst"
run_rill fetch --network-retries 0 file.bst
[ "$RC" -eq 1 ] && expect_contains "checksum mismatch is an error" "$ERR" "checksum mismatch" || fail "checksum mismatch" "rc=$RC"
if find "$XDG_CACHE_HOME/rill/sources" -type f 2>/dev/null | grep -q .; then
	fail "nothing left behind after a checksum mismatch" "$(find "$XDG_CACHE_HOME/rill/sources" -type f)"
else
	pass "nothing left behind after a checksum mismatch"
fi

# track writes the real ref back inline, keeping the rest of the file
sed -i '/^  ref: /d' "$P/elements/file.bst"
run_rill build file.bst
expect_contains "a missing ref says to track" "$ERR" "rill track file.bst"
run_rill track file.bst
if [ "$RC" -eq 0 ] && grep -q "^  ref: $datasum\$" "$P/elements/file.bst" && grep -q 'url: local:data.txt' "$P/elements/file.bst"; then
	pass "track writes the ref inline"
else
	fail "track inline" "rc=$RC $ERR $(cat "$P/elements/file.bst")"
fi
run_rill build file.bst
expect_ok "builds after tracking"

# unreachable server after retries
stop_httpd
rm -rf "$XDG_CACHE_HOME/rill/sources"
run_rill fetch --network-retries 1 file.bst
[ "$RC" -eq 1 ] && expect_contains "unreachable URL fails after retries" "$ERR" "Try #1 failed" || fail "unreachable" "rc=$RC"

# git: a temporary repository, track a branch into project.refs, build from the commit
git init -q "$TMP/repo"
(cd "$TMP/repo" && echo one >f.txt && git add f.txt && git -c user.email=t@t -c user.name=t commit -qm one)
first=$(git -C "$TMP/repo" rev-parse HEAD)
(cd "$TMP/repo" && echo two >f.txt && git -c user.email=t@t -c user.name=t commit -qam two)
second=$(git -C "$TMP/repo" rev-parse HEAD)
busybox_project gitp
printf 'ref-storage: project.refs\n' >>"$P/project.conf"
element g.bst <<EOF2
kind: import
sources:
- kind: git
  url: file://$TMP/repo
  track: master
EOF2
git -C "$TMP/repo" branch -m master 2>/dev/null || true
run_rill track g.bst
if [ "$RC" -eq 0 ] && grep -q "$second" "$P/project.refs"; then pass "git track writes the branch's commit to project.refs"; else fail "git track" "rc=$RC $ERR $(cat "$P/project.refs" 2>&1)"; fi
run_rill build g.bst
run_rill artifact checkout --directory "$TMP/gco" g.bst
[ "$(cat "$TMP/gco/f.txt" 2>/dev/null)" = two ] && pass "git source builds the tracked commit" || fail "git build" "$ERR"
printf 'projects:\n  gitp:\n    g.bst:\n    - ref: %s\n' "$first" >"$P/project.refs"
run_rill source checkout g.bst "$TMP/gsrc"
if [ "$RC" -eq 1 ] && printf '%s' "$ERR" | grep -q "rill fetch"; then pass "source checkout of an unfetched source says to fetch"; else fail "unfetched checkout" "rc=$RC $ERR"; fi
run_rill fetch g.bst
run_rill source checkout g.bst "$TMP/gsrc"
[ "$(cat "$TMP/gsrc/f.txt" 2>/dev/null)" = one ] && pass "source checkout stages the pinned commit" || fail "source checkout" "$ERR"

# an archive that escapes its directory is refused and leaves nothing staged
mkdir -p "$TMP/evil"
python3 - "$SRV/evil.tar" <<'PY' 2>/dev/null || tar -cf "$SRV/evil.tar" -P /dev/null
import sys, tarfile, io
t = tarfile.open(sys.argv[1], "w")
data = b"pwned\n"
info = tarfile.TarInfo("top/../../escaped.txt"); info.size = len(data)
t.addfile(info, io.BytesIO(data)); t.close()
PY
start_httpd
busybox_project evilp
evsum=$(sha256sum "$SRV/evil.tar" | cut -d' ' -f1)
element evil.bst <<EOF2
kind: import
sources:
- kind: tar
  url: http://127.0.0.1:$PORT/evil.tar
  ref: $evsum
  base-dir: ''
EOF2
run_rill build evil.bst
[ "$RC" -eq 1 ] && pass "an escaping archive fails the build" || fail "escaping archive" "rc=$RC $ERR"
[ ! -e "$XDG_CACHE_HOME/rill/escaped.txt" ] && [ ! -e "$XDG_CACHE_HOME/rill/build/escaped.txt" ] && pass "nothing escaped" || fail "escaped file written"
stop_httpd
finish
