#!/bin/sh
# t0310 — `rill init` writes project.conf as `bst init` does (the same bytes), creates the
# element directory, refuses to overwrite without --force, checks the name, format version and
# element path with bst's messages, asks on a terminal when no name is given, and the new project
# loads and builds an element.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

expected='# Unique project name
name: hello

# Required BuildStream format version
format-version: 18

# Subdirectory where elements are stored
element-path: elements'
"$RILL" -C "$TMP/new" init --project-name hello >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(cat "$TMP/new/project.conf")" = "$expected" ] && pass "init writes bst's project.conf" ||
	fail "init writes bst's project.conf" "rc $rc: $(cat "$TMP/err") $(cat "$TMP/new/project.conf")"
[ -d "$TMP/new/elements" ] && pass "init creates the element directory" || fail "init creates the element directory"
expect_contains "init says where" "$(cat "$TMP/err")" "Created project.conf at: $TMP/new/project.conf"
if command -v bst >/dev/null 2>&1; then
	bst -C "$TMP/bst" init --project-name hello >/dev/null 2>&1
	cmp -s "$TMP/bst/project.conf" "$TMP/new/project.conf" && pass "byte for byte what bst init writes" ||
		fail "byte for byte what bst init writes" "$(diff "$TMP/bst/project.conf" "$TMP/new/project.conf")"
fi

P="$TMP/new"
run_rill init --project-name other
expect_error "an existing project.conf is not overwritten" "A project.conf already exists at: $TMP/new/project.conf"
grep -q "name: hello" "$TMP/new/project.conf" && pass "and it is unchanged" || fail "and it is unchanged"
run_rill init --project-name other --format-version 12 --element-path src/bst -f
[ "$RC" -eq 0 ] && grep -q "^name: other$" "$P/project.conf" && grep -q "^format-version: 12$" "$P/project.conf" &&
	grep -q "^element-path: src/bst$" "$P/project.conf" && [ -d "$P/src/bst" ] &&
	pass "--force overwrites, with the format version and element path given" || fail "--force overwrites" "$ERR"

P="$TMP/bad"
run_rill init --project-name 9lives
expect_error "a name starting with a digit" "Invalid symbol name for project name: '9lives'"
run_rill init --project-name ok --format-version 19
expect_error "a format version beyond 18" "The version must be supported by this version of rill (0 - 18)"
run_rill init --project-name ok --element-path ../up
expect_error "an element path with .." "The element path cannot be an absolute path or contain any '..' components"
run_rill init </dev/null
expect_error "no name and no terminal" "Cannot initialize a new project without specifying the project name"
[ ! -e "$TMP/bad/project.conf" ] && pass "nothing is written on errors" || fail "nothing is written on errors"

# on a terminal, the values are asked for (defaults kept with an empty answer)
python3 - "$RILL" "$TMP/asked" >"$TMP/pty.out" 2>&1 <<'EOP'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-C", sys.argv[2], "init"])
out = b""
for answer in (b"asked\n", b"\n", b"defs\n"):
    deadline = time.time() + 10
    while not out.endswith(b": ") and time.time() < deadline:
        out += os.read(fd, 1024)
    os.write(fd, answer)
    out = b""
while True:
    try:
        if not os.read(fd, 1024):
            break
    except OSError:
        break
sys.exit(os.waitpid(pid, 0)[1] >> 8)
EOP
rc=$?
[ "$rc" -eq 0 ] && grep -q "^name: asked$" "$TMP/asked/project.conf" && grep -q "^format-version: 18$" "$TMP/asked/project.conf" &&
	grep -q "^element-path: defs$" "$TMP/asked/project.conf" && pass "on a terminal init asks for the values" ||
	fail "on a terminal init asks for the values" "rc $rc $(cat "$TMP/pty.out") $(cat "$TMP/asked/project.conf" 2>&1)"

# the new project works
P="$TMP/new"
mkdir -p "$P/files"
echo "from init" >"$P/files/hello.txt"
printf 'kind: import\nsources:\n- kind: local\n  path: files\n' >"$P/src/bst/hello.bst"
run_rill build hello.bst
[ "$RC" -eq 0 ] && pass "an element of the new project builds" || fail "an element of the new project builds" "$ERR"
finish
