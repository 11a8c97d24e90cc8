#!/bin/sh
# t0620 — remote artifact caches with BuildStream 1.6.8's own server (bst-artifact-server's
# create_server, bound to 127.0.0.1 by tests/tools/casserver.py, stopped by PID): two caches as
# two machines (B pulls everything and builds nothing), bst pulling what rill pushed and rill
# pulling what bst pushed, blobs of 0, 1 MiB - 1, 1 MiB and 3 MB and more than 512 of them,
# rill's own keys in their own namespace, a read-only server, a server killed mid-transfer, a
# server sending wrong data, a dangling ref, the Remote Asset API, configuration as bst reads it.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
SERVERS=""
trap 'for s in $SERVERS; do kill "$s" 2>/dev/null; done; rm -rf "$TMP"' EXIT

# start_server VAR REPO [ARGS...]: VAR=port, VAR_PID=pid
start_server() {
	_v=$1
	_r=$2
	shift 2
	/usr/bin/python3 "$TOP/tests/tools/casserver.py" "$_r" "$@" >"$TMP/$_v.port" 2>"$TMP/$_v.log" &
	eval "${_v}_PID=$!"
	SERVERS="$SERVERS $!"
	_i=0
	while [ ! -s "$TMP/$_v.port" ] && [ $_i -lt 150 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	eval "$_v=$(cat "$TMP/$_v.port")"
}
stop_server() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

if ! /usr/bin/python3 -c 'import buildstream._artifactcache.casserver' 2>/dev/null; then
	fail "BuildStream's artifact server (python3-buildstream) is installed" "apt-get install python3-buildstream"
	finish
	exit
fi

start_server SRV "$TMP/repoA"
[ -n "$SRV" ] && pass "bst's artifact server runs on 127.0.0.1:$SRV" || fail "the server starts" "$(cat "$TMP/SRV.log")"

busybox_project rtest
cat >>"$P/project.conf" <<EOF
artifacts:
  url: http://127.0.0.1:$SRV
  push: true
EOF
mkdir -p "$P/files/data/sub/emptydir" "$P/files/data/deep/a/b/c" "$P/files/many"
printf 'hello\n' >"$P/files/data/hello.txt"
printf '#!/bin/sh\necho hi\n' >"$P/files/data/sub/run.sh"
chmod +x "$P/files/data/sub/run.sh"
ln -s ../hello.txt "$P/files/data/sub/rel-link"
ln -s /usr/bin/env "$P/files/data/sub/abs-link"
: >"$P/files/data/empty"
head -c 1048575 /dev/urandom >"$P/files/data/m1"
head -c 1048576 /dev/urandom >"$P/files/data/m2"
head -c 3000000 /dev/urandom >"$P/files/data/big"
printf 'deep\n' >"$P/files/data/deep/a/b/c/d.txt"
for i in $(seq 1 600); do printf 'file %s\n' "$i" >"$P/files/many/f$i"; done
element data.bst <<'EOF'
kind: import
sources:
- kind: local
  path: files/data
EOF
element many.bst <<'EOF'
kind: import
sources:
- kind: local
  path: files/many
EOF
# a real build whose output differs every time it runs: equal checkouts mean it was pulled
element gen.bst <<'EOF'
kind: manual
build-depends:
- base.bst
depends:
- data.bst
config:
  install-commands:
  - mkdir -p %{install-root}/gen
  - cat /proc/sys/kernel/random/uuid > %{install-root}/gen/stamp
  - cp /hello.txt %{install-root}/gen/copy.txt
EOF
element top.bst <<'EOF'
kind: stack
depends:
- gen.bst
- many.bst
EOF
cd "$P" || exit 1
# bst-key mode from the user configuration (rill's own setting)
mkdir -p "$TMP/config"
printf 'bst-keys: true\n' >"$TMP/config/rill.conf"
export XDG_CACHE_HOME="$TMP/cacheA"

run_rill build top.bst
if [ "$RC" -eq 0 ] && printf '%s' "$ERR" | grep -q 'Push Queue:    processed 5, skipped 0, failed 0' &&
	printf '%s' "$ERR" | grep -q 'Pull Queue:    processed 0, skipped 5, failed 0'; then
	pass "machine A: builds, finds nothing to pull, pushes all 5 artifacts"
else
	fail "machine A: builds, finds nothing to pull, pushes all 5 artifacts" "rc $RC $ERR"
fi
expect_contains "push jobs say what they moved" "$ERR" "Pushed artifact "
kd=$(key_of data.bst)
kg=$(key_of gen.bst)
[ -f "$TMP/repoA/cas/refs/heads/rtest/data/$kd" ] && [ -f "$TMP/repoA/cas/refs/heads/rtest/gen/$kg" ] &&
	pass "artifacts are named project/normal-name/key with bst's keys" ||
	fail "artifacts are named project/normal-name/key" "$(find "$TMP/repoA/cas/refs" -type f)"
[ "$(find "$TMP/repoA/cas/refs/heads/rtest/gen" -type f | wc -l)" -eq 2 ] &&
	pass "an element with dependencies is pushed under its strong and weak keys" ||
	fail "strong and weak refs" "$(ls "$TMP/repoA/cas/refs/heads/rtest/gen")"
sizes=$(find "$TMP/repoA/cas/objects" -type f -printf '%s\n' | sort -n | uniq)
for s in 0 1048575 1048576 3000000; do
	printf '%s\n' "$sizes" | grep -qx "$s" || fail "a blob of $s bytes is on the server" "$sizes"
done
pass "blobs of 0, 1 MiB - 1, 1 MiB and 3 MB went up (batched and ByteStream)"
nobj=$(find "$TMP/repoA/cas/objects" -type f | wc -l)
[ "$nobj" -gt 600 ] && pass "more than 512 blobs in one artifact ($nobj objects)" || fail "more than 512 blobs" "$nobj"
run_rill status --json
expect_contains "the status table shows the push jobs" "$OUT" '"action":"push"'

mkdir -p "$TMP/coA"
run_rill checkout top.bst "$TMP/coA/top"

# machine B: same project, empty cache
export XDG_CACHE_HOME="$TMP/cacheB"
run_rill build top.bst
if [ "$RC" -eq 0 ] && printf '%s' "$ERR" | grep -q 'Build Queue:   processed 0, skipped 5, failed 0' &&
	printf '%s' "$ERR" | grep -q 'Pull Queue:    processed 5, skipped 0, failed 0' &&
	! printf '%s' "$ERR" | grep -q 'build:.*START'; then
	pass "machine B: everything pulled, zero build jobs"
else
	fail "machine B: everything pulled, zero build jobs" "rc $RC $ERR"
fi
expect_contains "pull jobs say what they moved" "$ERR" "Pulled artifact "
expect_contains "what B pulled is not pushed again" "$ERR" "Push Queue:    processed 0, skipped 5, failed 0"
run_rill checkout top.bst "$TMP/coB"
if [ "$RC" -eq 0 ] && diff -r --no-dereference "$TMP/coA/top" "$TMP/coB" >/dev/null &&
	[ -x "$TMP/coB/sub/run.sh" ] && [ "$(readlink "$TMP/coB/sub/abs-link")" = ../usr/bin/env ] &&
	[ -d "$TMP/coB/sub/emptydir" ] && [ "$(ls "$TMP/coB/many" 2>/dev/null | wc -l)" -eq 0 ] &&
	[ "$(find "$TMP/coB" -name 'f*' | wc -l)" -eq 600 ]; then
	pass "B's checkout equals A's (exec bit, symlinks (an absolute one made relative, as bst checks out), empty dirs, 600 files, the build's stamp)"
else
	fail "B's checkout equals A's" "rc $RC $ERR $(diff -r --no-dereference "$TMP/coA/top" "$TMP/coB" 2>&1 | head -5)"
fi
run_rill artifact fsck
expect_ok "B's cache checks clean after pulling"
run_rill push --deps all top.bst
expect_contains "push of what the server has: skipped (bst's 'already has')" "$ERR" "already has"
expect_contains "push --deps all: nothing sent" "$ERR" "Push Queue:    processed 0, skipped 5, failed 0"

# bst 1.6.8 pulls and checks out what rill pushed; rill pulls what bst pushed
if command -v bst >/dev/null 2>&1; then
	BSTC="$TMP/cacheBst"
	XDG_CACHE_HOME="$BSTC" bst --no-colors pull --deps all top.bst >"$TMP/bst.out" 2>&1
	XDG_CACHE_HOME="$BSTC" bst --no-colors checkout top.bst "$TMP/coBst" >>"$TMP/bst.out" 2>&1
	if diff -r --no-dereference "$TMP/coA/top" "$TMP/coBst" >/dev/null 2>&1; then
		pass "bst 1.6.8 pulls and checks out what rill pushed"
	else
		fail "bst 1.6.8 pulls and checks out what rill pushed" "$(diff -r --no-dereference "$TMP/coA/top" "$TMP/coBst" 2>&1 | head; tail -3 "$TMP/bst.out")"
	fi
	# the same files give the same Directory digests in both tools
	XDG_CACHE_HOME="$TMP/cacheBst2" bst --no-colors build data.bst >"$TMP/bst2.out" 2>&1
	files_digest() { # CAS-DIR REF: the digest of the artifact's files/ Directory
		/usr/bin/python3 - "$1" "$2" <<'PY'
import sys, os
from buildstream._protos.build.bazel.remote.execution.v2 import remote_execution_pb2 as r
cas, ref = sys.argv[1], sys.argv[2]
d = r.Digest(); d.ParseFromString(open(os.path.join(cas, "refs/heads", ref), "rb").read())
root = r.Directory(); root.ParseFromString(open(os.path.join(cas, "objects", d.hash[:2], d.hash[2:]), "rb").read())
print([n.digest.hash for n in root.directories if n.name == "files"][0])
PY
	}
	rd=$(files_digest "$TMP/repoA/cas" "rtest/data/$kd" 2>&1)
	bd=$(files_digest "$TMP/cacheBst2/buildstream/artifacts/cas" "rtest/data/$kd" 2>&1)
	[ -n "$rd" ] && [ "$rd" = "$bd" ] && pass "files/ committed by rill and by bst have the same Directory digest" ||
		fail "same Directory digests" "rill $rd bst $bd $(tail -5 "$TMP/bst2.out")"

	element bstonly.bst <<'EOF'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/etc
  - cat /proc/sys/kernel/random/uuid > %{install-root}/etc/stamp
  - printf 'x' > %{install-root}/etc/x
  - chmod 755 %{install-root}/etc/x
EOF
	XDG_CACHE_HOME="$BSTC" bst --no-colors build bstonly.bst >"$TMP/bst3.out" 2>&1
	XDG_CACHE_HOME="$BSTC" bst --no-colors checkout bstonly.bst "$TMP/coBstOnly" >>"$TMP/bst3.out" 2>&1
	export XDG_CACHE_HOME="$TMP/cacheC"
	run_rill pull --deps all bstonly.bst
	expect_contains "rill pulls what bst built and pushed" "$ERR" "Pull Queue:    processed 2, skipped 0, failed 0"
	run_rill build bstonly.bst
	expect_contains "and builds nothing" "$ERR" "Build Queue:   processed 0, skipped 2, failed 0"
	run_rill checkout bstonly.bst "$TMP/coC"
	if [ "$RC" -eq 0 ] && [ -s "$TMP/coBstOnly/etc/stamp" ] && diff -r --no-dereference "$TMP/coBstOnly" "$TMP/coC" >/dev/null &&
		[ -x "$TMP/coC/etc/x" ]; then
		pass "rill's checkout of bst's artifact equals bst's"
	else
		fail "rill's checkout of bst's artifact equals bst's" "rc $RC $ERR $(tail -5 "$TMP/bst3.out")"
	fi
	run_rill artifact log bstonly.bst
	expect_contains "bst's build log comes with the artifact" "$OUT" "install-commands"
fi

# an element of a subproject (through a junction) is named on the server as bst names it: by
# its own project and its name there
mkdir -p "$P/subp/elements" "$P/subp/files"
printf 'name: subp\nelement-path: elements\n' >"$P/subp/project.conf"
printf 'from the subproject\n' >"$P/subp/files/lib.txt"
printf 'kind: import\nsources:\n- kind: local\n  path: files\n' >"$P/subp/elements/lib.bst"
printf 'kind: junction\nsources:\n- kind: local\n  path: subp\n' >"$P/elements/subp.bst"
printf 'kind: stack\ndepends:\n- junction: subp.bst\n  filename: lib.bst\n' >"$P/elements/usesub.bst"
export XDG_CACHE_HOME="$TMP/cacheA"
run_rill build usesub.bst
kl=$(key_of subp.bst:lib.bst)
[ "$RC" -eq 0 ] && [ -n "$kl" ] && [ -f "$TMP/repoA/cas/refs/heads/subp/lib/$kl" ] &&
	pass "a junctioned element's artifact is subproject/name/key on the server, as bst names it" ||
	fail "a junctioned element's ref" "rc $RC $ERR $(find "$TMP/repoA/cas/refs/heads" -maxdepth 2)"
export XDG_CACHE_HOME="$TMP/cacheB"
run_rill build usesub.bst
expect_contains "and another cache pulls it" "$ERR" "Pull Queue:    processed 2, skipped 0, failed 0"
if command -v bst >/dev/null 2>&1; then
	XDG_CACHE_HOME="$TMP/cacheBst" bst --no-colors pull --deps all usesub.bst >"$TMP/bst4.out" 2>&1
	XDG_CACHE_HOME="$TMP/cacheBst" bst --no-colors checkout usesub.bst "$TMP/coSub" >>"$TMP/bst4.out" 2>&1
	[ "$(cat "$TMP/coSub/lib.txt" 2>/dev/null)" = "from the subproject" ] &&
		pass "bst pulls and checks out the junctioned element rill pushed" ||
		fail "bst pulls the junctioned element" "$(tail -8 "$TMP/bst4.out")"
fi

# rill's own keys: their own namespace on the same server
rm "$TMP/config/rill.conf"
export XDG_CACHE_HOME="$TMP/cacheD"
run_rill build data.bst
kr=$(key_of data.bst)
[ "$RC" -eq 0 ] && [ -f "$TMP/repoA/cas/refs/heads/rill:rtest/data/$kr" ] && [ "$kr" != "$kd" ] &&
	pass "rill's own keys: refs under rill:project/ on the same server" ||
	fail "rill's own keys in their own namespace" "rc $RC $(find "$TMP/repoA/cas/refs/heads" -maxdepth 1)"
export XDG_CACHE_HOME="$TMP/cacheD2"
run_rill build data.bst
expect_contains "and pulled back with rill's keys" "$ERR" "Pull Queue:    processed 1, skipped 0, failed 0"
printf 'bst-keys: true\n' >"$TMP/config/rill.conf"

# a read-only server (the same repo): push refused, said once; pulls still work
start_server RO "$TMP/repoA" --read-only
sed -i "s|url: http://127.0.0.1:$SRV|url: http://127.0.0.1:$RO|" project.conf
export XDG_CACHE_HOME="$TMP/cacheE"
run_rill build top.bst
n=$(printf '%s\n' "$ERR" | grep -c 'does not allow push')
if [ "$RC" -eq 0 ] && [ "$n" -eq 1 ] && printf '%s' "$ERR" | grep -q 'Pull Queue:    processed 5'; then
	pass "a read-only server: push refused once, everything still pulled"
else
	fail "a read-only server" "rc $RC refusals $n $ERR"
fi
run_rill push --remote "http://127.0.0.1:$RO" top.bst
expect_error "push to a read-only server: one clear error" "No artifact caches available for pushing artifacts"

# a server killed in the middle of a transfer: nothing half-pulled
start_server DIE "$TMP/repoA" --die-during-read 1
export XDG_CACHE_HOME="$TMP/cacheF"
run_rill pull --network-retries 0 --remote "http://127.0.0.1:$DIE" data.bst
if [ "$RC" -ne 0 ] && ! find "$TMP/cacheF/rill/artifacts/refs" -type f 2>/dev/null | grep -q . &&
	[ -z "$(ls -A "$TMP/cacheF/rill/artifacts/tmp" 2>/dev/null)" ]; then
	pass "server killed mid-transfer: the pull fails, no ref, no tmp file left"
else
	fail "server killed mid-transfer" "rc $RC $ERR $(find "$TMP/cacheF/rill/artifacts/refs" -type f 2>/dev/null)"
fi
expect_contains "the failure names the remote" "$ERR" "Remote (http://127.0.0.1:$DIE)"
run_rill pull --remote "http://127.0.0.1:$SRV" data.bst
expect_contains "with a server again the pull completes" "$ERR" "Pull Queue:    processed 1, skipped 0, failed 0"
run_rill artifact fsck
expect_ok "and the cache checks clean"

# --pushers: at most that many push jobs at once (the job records' times in the status table)
start_server PU "$TMP/repoPU"
export XDG_CACHE_HOME="$TMP/cacheA"
run_rill --pushers 1 push --deps all --remote "http://127.0.0.1:$PU" top.bst
"$RILL" -C "$P" status --json >"$TMP/pu.json" 2>/dev/null
most=$(/usr/bin/python3 - "$TMP/pu.json" <<'PY'
import json, sys
jobs = [j for j in json.load(open(sys.argv[1]))["jobs"] if j["action"] == "push"]
print(len(jobs), max(sum(1 for k in jobs if k["start_ns"] < j["end_ns"] and j["start_ns"] < k["end_ns"]) for j in jobs))
PY
)
[ "$RC" -eq 0 ] && [ "$most" = "5 1" ] && pass "--pushers 1: 5 push jobs, never two at once" ||
	fail "--pushers 1" "rc $RC jobs/overlap: $most $ERR"

# the backend and its jobs SIGKILLed in the middle of a pull: nothing half-pulled
start_server SLOW "$TMP/repoA" --slow-read 30
export XDG_CACHE_HOME="$TMP/cacheN"
setsid "$TOP/rill-backend" -C "$P" pull --remote "http://127.0.0.1:$SLOW" data.bst >/dev/null 2>&1 &
BPID=$!
_i=0
while ! grep -q 'slow read' "$TMP/SLOW.log" && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
# the backend's session: the backend and every job it started (each in its own process group)
pkill -9 -s "$BPID"
wait "$BPID" 2>/dev/null
stop_server "$SLOW_PID"
if grep -q 'slow read' "$TMP/SLOW.log" && ! find "$TMP/cacheN/rill/artifacts/refs" -type f 2>/dev/null | grep -q .; then
	pass "backend SIGKILLed inside a pull: no ref"
else
	fail "backend SIGKILLed inside a pull" "$(cat "$TMP/SLOW.log"; find "$TMP/cacheN/rill/artifacts/refs" -type f 2>/dev/null)"
fi
run_rill artifact fsck
expect_ok "the killed pull leaves a cache that checks clean"
run_rill pull --remote "http://127.0.0.1:$SRV" data.bst
expect_contains "and the next pull completes" "$ERR" "Pull Queue:    processed 1, skipped 0, failed 0"
[ -z "$(ls -A "$TMP/cacheN/rill/artifacts/tmp" 2>/dev/null)" ] && pass "no temporary file is left" ||
	fail "no temporary file is left" "$(ls -A "$TMP/cacheN/rill/artifacts/tmp")"

# a long transfer reports the bytes moved so far, at most once a second (the frontend prints
# what the backend wrote into the status table: it reads nothing else)
start_server SLOW2 "$TMP/repoA" --slow-read 1.5
export XDG_CACHE_HOME="$TMP/cacheP"
run_rill pull --remote "http://127.0.0.1:$SLOW2" data.bst
stop_server "$SLOW2_PID"
if [ "$RC" -eq 0 ] && printf '%s' "$ERR" |
	grep -q "STATUS  Pulling artifact [0-9a-f]\{8\} <- http://127.0.0.1:$SLOW2: [0-9.]* [kM]\?B in [0-9]* blobs so far"; then
	pass "a slow pull reports the bytes moved so far"
else
	fail "a slow pull reports the bytes moved so far" "rc $RC $ERR"
fi

# a server sending wrong data (an object corrupted on its disk, size kept)
cp -a "$TMP/repoA" "$TMP/repoW"
obj=$(find "$TMP/repoW/cas/objects" -type f -size 1048576c | head -1)
chmod u+w "$obj"
printf 'X' | dd of="$obj" bs=1 seek=100 conv=notrunc 2>/dev/null
start_server BAD "$TMP/repoW"
export XDG_CACHE_HOME="$TMP/cacheG"
run_rill pull --network-retries 0 --remote "http://127.0.0.1:$BAD" data.bst
if [ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -q 'wrong data' &&
	! find "$TMP/cacheG/rill/artifacts/refs" -type f 2>/dev/null | grep -q .; then
	pass "wrong data from the server: refused, nothing committed"
else
	fail "wrong data from the server" "rc $RC $ERR"
fi
# a dangling ref (an object gone on the server): a miss, as bst says
rm -f "$obj"
export XDG_CACHE_HOME="$TMP/cacheH"
run_rill pull --remote "http://127.0.0.1:$BAD" data.bst
expect_contains "a ref whose objects are gone: 'does not have'" "$ERR" "does not have"
stop_server "$BAD_PID"
run_rill pull --remote "http://127.0.0.1:$BAD" data.bst
expect_error "no server at the URL: one clear error" "No artifact caches available for pulling artifacts"

# the Remote Asset API, when a server offers it
start_server AS "$TMP/repoAS" --asset
export XDG_CACHE_HOME="$TMP/cacheB"
run_rill push --remote "http://127.0.0.1:$AS" --deps all gen.bst
export XDG_CACHE_HOME="$TMP/cacheI"
run_rill pull --remote "http://127.0.0.1:$AS" --deps all gen.bst
if [ "$RC" -eq 0 ] && printf '%s' "$ERR" | grep -q 'Pull Queue:    processed 3' &&
	grep -q 'asset: PushDirectory' "$TMP/AS.log" && grep -q 'asset: FetchDirectory' "$TMP/AS.log"; then
	pass "a server with the Remote Asset API: refs go through Push/FetchDirectory"
else
	fail "Remote Asset API" "rc $RC $ERR $(cat "$TMP/AS.log")"
fi

# configuration as bst reads it: the user's projects: <name>: artifacts: first
start_server SRV2 "$TMP/repoA"
cat >"$TMP/config/rill.conf" <<EOF
bst-keys: true
projects:
  rtest:
    artifacts:
    - url: http://127.0.0.1:$SRV2
artifacts:
  url: http://127.0.0.1:1
EOF
export XDG_CACHE_HOME="$TMP/cacheJ"
run_rill pull data.bst
expect_contains "the user's project override is tried first" "$ERR" "Pulled artifact ${kd%"${kd#????????}"} <- http://127.0.0.1:$SRV2"
expect_contains "an unreachable remote is reported once and left out" "$ERR" "Failed to initialize remote http://127.0.0.1:1"
printf 'bst-keys: true\n' >"$TMP/config/rill.conf"
cp project.conf project.conf.good
printf 'name: rtest\nelement-path: elements\nartifacts:\n  url: ""\n' >project.conf
run_rill pull data.bst
expect_error "an empty URL: file, line and column" "project.conf [line 4 column 7]: empty artifact cache URL"
printf 'name: rtest\nelement-path: elements\nartifacts:\n  url: http://x\n  client-key: k.pem\n' >project.conf
run_rill pull data.bst
expect_error "client-key without client-cert" "'client-key' was specified without 'client-cert'"
printf 'name: rtest\nelement-path: elements\nartifacts:\n- url: ftp://x\n' >project.conf
run_rill pull data.bst
expect_error "a URL that is not http(s)" "Unsupported URL: ftp://x"
printf 'name: rtest\nelement-path: elements\nartifacts:\n  url: http://x\n  pushy: true\n' >project.conf
run_rill pull data.bst
expect_error "an unknown key" "pushy"
cp project.conf.good project.conf
run_rill pull --deps some data.bst
expect_error "--deps takes none or all" "Invalid value for '--deps'"
# TLS as bst configures it: https://, server-cert, client-key and client-cert
if command -v openssl >/dev/null 2>&1; then
	mkdir -p "$TMP/tls"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/tls/server.key" -out "$TMP/tls/server.crt" -days 2 \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/tls/client.key" -out "$TMP/tls/client.crt" -days 2 \
		-subj /CN=client >/dev/null 2>&1
	start_server TLS "$TMP/repoT" --tls "$TMP/tls/server.crt" "$TMP/tls/server.key" --client-certs "$TMP/tls/client.crt"
	cp -r "$TMP/tls" "$P/certs"
	cat >project.conf <<EOF
name: rtest
element-path: elements
artifacts:
  url: https://localhost:$TLS
  push: true
  server-cert: certs/server.crt
  client-key: certs/client.key
  client-cert: certs/client.crt
EOF
	export XDG_CACHE_HOME="$TMP/cacheB"
	run_rill push --deps all gen.bst
	expect_contains "https with a server certificate and a client key: pushed (paths from project.conf's directory)" "$ERR" \
		"Push Queue:    processed 3, skipped 0, failed 0"
	export XDG_CACHE_HOME="$TMP/cacheK"
	run_rill build gen.bst
	expect_contains "and pulled over TLS" "$ERR" "Pull Queue:    processed 3, skipped 0, failed 0"
	sed -i '/client-/d' project.conf
	export XDG_CACHE_HOME="$TMP/cacheL"
	run_rill pull gen.bst
	expect_error "a server that requires client certificates, none given: one clear error" "Failed to initialize remote https://localhost:$TLS"
	sed -i '/server-cert/d' project.conf
	run_rill pull gen.bst
	expect_error "a certificate the system does not trust: refused" "certificate"
	cp project.conf.good project.conf
fi

# a server that is not up yet when rill starts: calls are retried while UNAVAILABLE
LATE=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(sleep 0.6; exec /usr/bin/python3 "$TOP/tests/tools/casserver.py" "$TMP/repoA" --port "$LATE" >/dev/null 2>&1) &
SERVERS="$SERVERS $!"
export XDG_CACHE_HOME="$TMP/cacheM"
run_rill pull --remote "http://127.0.0.1:$LATE" data.bst
expect_contains "a server coming up during the retries is used" "$ERR" "Pull Queue:    processed 1, skipped 0, failed 0"
finish
