# lib.sh — helpers for end-to-end tests: a temporary project per test, running rill, and
# assertions that print "ok NAME" / "FAIL NAME: why" lines for tests/run.sh.
# SPDX-License-Identifier: Apache-2.0

TOP=${RILL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
RILL="$TOP/rill"
T_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rill-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export XDG_CONFIG_HOME="$TMP/config" XDG_CACHE_HOME="$TMP/cache"
T_FAILS=0

# new_project NAME: an empty project in $TMP/NAME with project.conf from stdin (or a default).
new_project() {
	P="$TMP/$1"
	mkdir -p "$P/elements"
	if [ -t 0 ]; then
		printf 'name: %s\nelement-path: elements\n' "$1" >"$P/project.conf"
	else
		cat >"$P/project.conf"
	fi
}

# element NAME: write $P/elements/NAME from stdin.
element() {
	mkdir -p "$(dirname "$P/elements/$1")"
	cat >"$P/elements/$1"
}

# run_rill ARGS...: runs rill in $P; sets OUT, ERR, RC.
run_rill() {
	"$RILL" -C "$P" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
	# under SANITIZE=..., any sanitizer report fails the test that ran into it
	if grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$TMP/err"; then
		fail "sanitizer report while running: rill $*" "$(grep -m3 -E 'runtime error:|Sanitizer' "$TMP/err")"
	fi
}

pass() { echo "ok $T_NAME: $1"; }
fail() {
	echo "FAIL $T_NAME: $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    /'
	T_FAILS=$((T_FAILS + 1))
}

# expect_ok CASE: last run succeeded with empty stderr.
expect_ok() {
	if [ "$RC" -eq 0 ]; then pass "$1"; else fail "$1" "exit $RC; stderr: $ERR"; fi
}

# expect_out CASE EXPECTED: last run succeeded and stdout equals EXPECTED exactly.
expect_out() {
	if [ "$RC" -ne 0 ]; then
		fail "$1" "exit $RC; stderr: $ERR"
	elif [ "$OUT" != "$2" ]; then
		fail "$1" "expected:
$2
got:
$OUT"
	else
		pass "$1"
	fi
}

# expect_error CASE TEXT: last run failed (status 1), stderr is one "rill: ..." message
# containing TEXT, stdout is empty.
expect_error() {
	if [ "$RC" -eq 0 ]; then
		fail "$1" "expected failure, got success; stdout: $OUT"
	elif [ "$RC" -ne 1 ] && [ "$RC" -ne 2 ]; then
		fail "$1" "expected exit 1 or 2, got $RC (crash?); stderr: $ERR"
	elif ! printf '%s' "$ERR" | grep -qF -- "$2"; then
		fail "$1" "stderr does not contain: $2
stderr: $ERR"
	elif [ -n "$OUT" ]; then
		fail "$1" "stdout not empty: $OUT"
	else
		pass "$1"
	fi
}

# key_of ELEMENT [ARGS...]: the full key of ELEMENT as rill shows it.
key_of() {
	_el=$1
	shift
	"$RILL" -C "$P" show "$@" --deps none --format '%{full-key}' "$_el" 2>/dev/null
}

finish() {
	[ "$T_FAILS" -eq 0 ]
}

# busybox_project NAME: a project whose base.bst imports a busybox-static sysroot (bin/sh and
# the usual applets), for sandboxed builds. Elements are added with `element`.
busybox_project() {
	new_project "$1" </dev/null
	printf 'name: %s\nelement-path: elements\n' "$1" >"$P/project.conf"
	mkdir -p "$P/files/base/bin"
	cp "$(command -v busybox)" "$P/files/base/bin/busybox"
	for a in sh echo cat ls mkdir cp mv rm touch test true false sleep printf sed grep wc \
		head tail env id ln chmod find sort tr uname date expr seq; do
		ln -s busybox "$P/files/base/bin/$a"
	done
	element base.bst <<'EOB'
kind: import
sources:
- kind: local
  path: files/base
EOB
}

# expect_contains CASE HAYSTACK NEEDLE
expect_contains() {
	if printf '%s' "$2" | grep -qF -- "$3"; then pass "$1"; else fail "$1" "missing: $3
in:
$2"; fi
}
