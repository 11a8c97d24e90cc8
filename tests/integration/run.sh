#!/bin/sh
# run.sh — `make check-integration`: builds real software with rill. A Debian 12 sysroot made
# by debootstrap (base.bst), GNU hello (autotools) and cJSON (cmake) from the upstream tarballs
# Debian ships as *.orig.tar.*, and a program using the installed cJSON; then runs what was
# built. Prints "ok NAME" / "FAIL NAME" per check and ends with "N passed, N failed".
#
# Cache (kept between runs, so only the first run downloads and runs debootstrap):
# $RILL_INTEGRATION_CACHE, default $XDG_CACHE_HOME/rill-integration (~/.cache/rill-integration).
# Mirror: the machine's apt configuration, or $RILL_INTEGRATION_MIRROR. rill itself gets a new
# empty cache each run, so every run builds everything.
# SPDX-License-Identifier: Apache-2.0

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${RILL_INTEGRATION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rill-integration}
SUITE=bookworm
# The sysroot: minbase plus what the builds use. Changing this list makes a new sysroot.
SYSROOT_PKGS="gcc libc6-dev make cmake autoconf automake libtool pkgconf binutils"
SYSROOT_ID=$(printf 'v1 %s minbase %s' "$SUITE" "$SYSROOT_PKGS" | sha256sum | cut -c1-12)
SYSROOT="$CACHE/sysroot-$SUITE-$SYSROOT_ID.tar.gz"

. "$HERE/../e2e/lib.sh"
T_NAME=integration
T_PASSES=0
pass() { echo "ok $T_NAME: $1"; T_PASSES=$((T_PASSES + 1)); }
WORK=""
HTTPD_PID=""
cleanup() {
	[ -n "$HTTPD_PID" ] && kill "$HTTPD_PID" 2>/dev/null
	[ -n "$WORK" ] && remove_tree "$WORK"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "# $*"; }
die() {
	echo "rill: $*" >&2
	exit 1
}
now() { date +%s; }

# remove_tree DIR: unmounts what debootstrap may have left mounted below DIR, then removes it
# without crossing into another file system.
remove_tree() {
	awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts 2>/dev/null | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
	rm -rf --one-file-system "$1"
}

# need_packages PKG...: installs the missing ones when root, otherwise prints the apt-get line.
need_packages() {
	missing=""
	for p; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing missing Debian packages:$missing"
		(apt-get install -y -q $missing || (apt-get update -q && apt-get install -y -q $missing)) \
			>"$TMP/apt.log" 2>&1 || { tail -20 "$TMP/apt.log" >&2; die "apt-get install failed"; }
	else
		echo "rill: missing Debian packages. Install them with:" >&2
		echo "    sudo apt-get install$missing" >&2
		exit 1
	fi
}

# apt_mirror: the URI of the first enabled "deb" entry for a release suite (not -security,
# -updates...) in the machine's apt sources, one-line or deb822 format.
apt_mirror() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" {
			i = 2
			if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
			if (i + 1 <= NF && $(i + 1) !~ /-/) print $i
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		{
			types = ""; uris = ""; suites = ""; enabled = "yes"
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^#/) continue
				k = tolower($i); sub(/:.*/, "", k); v = $i; sub(/^[^:]*:[ \t]*/, "", v)
				if (k == "types") types = v
				else if (k == "uris") uris = v
				else if (k == "suites") suites = v
				else if (k == "enabled") enabled = tolower(v)
			}
			if (enabled == "no" || (" " types " ") !~ / deb /) next
			n = split(suites, s, /[ \t]+/)
			for (j = 1; j <= n; j++)
				if (s[j] != "" && s[j] !~ /-/) { split(uris, u, /[ \t]+/); print u[1]; next }
		}' "$f"
	done
}

# make_sysroot: debootstraps the sysroot and stores it as $SYSROOT (written beside it and
# renamed into place, so an interrupted run leaves no half-made tarball).
make_sysroot() {
	[ "$(id -u)" = 0 ] || die "making the Debian sysroot needs root (debootstrap): run
    sudo make check-integration
once, or set RILL_INTEGRATION_CACHE to a directory holding $(basename "$SYSROOT")"
	need_packages debootstrap debian-archive-keyring
	mkdir -p "$CACHE" || exit 1
	WORK=$(mktemp -d "$CACHE/sysroot.tmp.XXXXXX") || exit 1
	say "debootstrap --variant=minbase $SUITE from $MIRROR (about a minute)"
	if ! debootstrap --variant=minbase --include="$(echo $SYSROOT_PKGS | tr ' ' ,)" \
		"$SUITE" "$WORK/root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
		tail -20 "$WORK/debootstrap.log" >&2
		die "debootstrap failed (log above)"
	fi
	# Device nodes are bwrap's business (and rill refuses them in archives); downloaded
	# packages, package lists and documentation are dead weight in every build's staging.
	(cd "$WORK/root" && rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* \
		usr/share/doc usr/share/man usr/share/info usr/share/locale &&
		find . -xdev \( -type b -o -type c -o -type p -o -type s \) -delete) || exit 1
	tar --numeric-owner -C "$WORK/root" -czf "$WORK/sysroot.tar.gz" . || die "cannot write the sysroot tarball"
	mv "$WORK/sysroot.tar.gz" "$SYSROOT" || exit 1
	remove_tree "$WORK"
	WORK=""
}

# fetch_upstream: downloads each upstream tarball the elements name (url: upstream:DIR/FILE,
# found in the mirror's pool/main/<initial>/DIR/FILE) into $CACHE/sources/DIR/FILE, checked
# against the element's ref before it is kept.
fetch_upstream() {
	for bst in "$HERE"/project/elements/*.bst; do
		rel=$(sed -n 's/^ *url: upstream:\(.*\)$/\1/p' "$bst")
		[ -n "$rel" ] || continue
		sum=$(sed -n 's/^ *ref: \([0-9a-f]\{64\}\)$/\1/p' "$bst")
		dest="$CACHE/sources/$rel"
		[ -f "$dest" ] && continue
		pkg=${rel%%/*}
		case $pkg in
		lib?*) initial=$(printf '%s' "$pkg" | cut -c1-4) ;;
		*) initial=$(printf '%s' "$pkg" | cut -c1) ;;
		esac
		need_packages curl ca-certificates
		mkdir -p "$(dirname "$dest")" || exit 1
		say "downloading $MIRROR/pool/main/$initial/$rel"
		curl -fsSL --retry 2 -o "$dest.tmp.$$" "$MIRROR/pool/main/$initial/$rel" ||
			{ rm -f "$dest.tmp.$$"; die "cannot download $rel from $MIRROR"; }
		got=$(sha256sum "$dest.tmp.$$" | cut -d' ' -f1)
		[ "$got" = "$sum" ] ||
			{ rm -f "$dest.tmp.$$"; die "$rel: sha256 $got, but $(basename "$bst") expects $sum"; }
		mv "$dest.tmp.$$" "$dest" || exit 1
	done
}

# start_httpd: serves $CACHE/sources on 127.0.0.1; sets PORT.
start_httpd() {
	"$TOP/tests/tools/flaky-httpd" "$CACHE/sources" "$TMP/port" 2>"$TMP/httpd.log" &
	HTTPD_PID=$!
	i=0
	while [ ! -s "$TMP/port" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PORT=$(cat "$TMP/port" 2>/dev/null)
	[ -n "$PORT" ] || die "the test HTTP server did not start: $(cat "$TMP/httpd.log")"
}

# make_project: the project in $P: the static files, base.bst for the sysroot tarball and the
# aliases (the sysroot by file://, the upstream tarballs over HTTP).
make_project() {
	P="$TMP/project"
	cp -R "$HERE/project" "$P" || exit 1
	cat >>"$P/project.conf" <<EOF
aliases:
  sysroot: file://$CACHE/
  upstream: http://127.0.0.1:$PORT/
EOF
	cat >"$P/elements/base.bst" <<EOF
# Debian $SUITE minbase with $SYSROOT_PKGS (written by run.sh).
kind: import
sources:
- kind: tar
  url: sysroot:$(basename "$SYSROOT")
  ref: $(sha256sum "$SYSROOT" | cut -d' ' -f1)
  base-dir: ''
EOF
}

[ -x "$RILL" ] && [ -x "$TOP/tests/tools/flaky-httpd" ] ||
	die "build rill first: make all tests/tools/flaky-httpd (make check-integration does)"
MIRROR=${RILL_INTEGRATION_MIRROR:-$(apt_mirror | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}

start=$(now)
if [ -f "$SYSROOT" ]; then
	say "sysroot: $SYSROOT (cached)"
else
	make_sysroot
	say "sysroot: $SYSROOT ($(($(now) - start))s)"
fi
fetch_upstream
start_httpd
make_project

TARGETS="hello.bst cjson.bst cjson-check.bst"
t=$(now)
say "rill build $TARGETS"
run_rill build --builders 2 --max-jobs 1 $TARGETS
if [ "$RC" -eq 0 ]; then
	pass "rill build: sysroot import, autotools hello, cmake cJSON, cmake program using cJSON ($(($(now) - t))s)"
else
	fail "rill build" "$(printf '%s\n' "$ERR" | tail -40)"
fi

# the project is BuildStream's format: when bst is installed, it computes the same cache keys
if command -v bst >/dev/null; then
	fmt='%{name} %{full-key}'
	bst_keys=$(cd "$P" && bst --no-colors show --deps all --format "$fmt" $TARGETS 2>"$TMP/bst.err")
	[ -n "$bst_keys" ] || bst_keys="bst show failed: $(tail -5 "$TMP/bst.err")"
	run_rill show --bst-keys --deps all --format "$fmt" $TARGETS
	expect_out "rill show --bst-keys gives the cache keys bst 1.6 computes" "$bst_keys"
fi

# GNU hello, run in the sandbox with its runtime dependencies (the sysroot)
run_rill shell hello.bst -- hello
expect_out "hello prints the greeting" "Hello, world!"
run_rill shell hello.bst -- sh -c 'hello --version | head -n1; hello --traditional; hello -g "built by rill"'
expect_out "hello is upstream 2.10 and takes its options" "hello (GNU Hello) 2.10
hello, world
built by rill"
run_rill artifact log hello.bst
expect_contains "hello's own test suite ran and passed (make check)" "$OUT" "# FAIL:  0"
run_rill artifact checkout --deps none --directory "$TMP/hello" hello.bst
if [ "$RC" -ne 0 ]; then
	fail "hello artifact checkout" "$ERR"
elif [ "$(ls "$TMP/hello")" != usr ] || [ ! -x "$TMP/hello/usr/bin/hello" ] ||
	[ "$(head -c4 "$TMP/hello/usr/bin/hello" | od -An -c | tr -d ' ')" != '177ELF' ] ||
	[ ! -f "$TMP/hello/usr/share/man/man1/hello.1" ] || [ ! -f "$TMP/hello/usr/share/info/hello.info" ] ||
	[ ! -f "$TMP/hello/usr/share/locale/fr/LC_MESSAGES/hello.mo" ]; then
	fail "hello artifact holds only what make install put in /usr" "$(cd "$TMP/hello" && find . | head -20)"
else
	pass "hello artifact holds only what make install put in /usr"
fi

# cJSON: the installed library, its tests, and a program found it through its CMake package
run_rill artifact log cjson.bst
expect_contains "cJSON's own tests ran and passed (ctest)" "$OUT" "100% tests passed"
run_rill artifact checkout --deps none --directory "$TMP/cjson" cjson.bst
if [ "$RC" -ne 0 ]; then
	fail "cJSON artifact checkout" "$ERR"
elif [ ! -f "$TMP/cjson/usr/lib/libcjson.so.1.7.15" ] ||
	[ "$(readlink "$TMP/cjson/usr/lib/libcjson.so.1")" != libcjson.so.1.7.15 ] ||
	[ ! -f "$TMP/cjson/usr/include/cjson/cJSON.h" ] ||
	[ ! -f "$TMP/cjson/usr/lib/cmake/cJSON/cJSONConfig.cmake" ] ||
	[ ! -f "$TMP/cjson/usr/lib/pkgconfig/libcjson.pc" ]; then
	fail "cJSON artifact holds the library, its header, CMake package and pkg-config file" \
		"$(cd "$TMP/cjson" && find . | head -20)"
else
	pass "cJSON artifact holds the library, its header, CMake package and pkg-config file"
fi
run_rill shell cjson-check.bst -- nm -D --defined-only /usr/lib/libcjson.so.1
expect_contains "libcjson.so exports cJSON_Parse" "$OUT" " T cJSON_Parse"
run_rill shell cjson-check.bst -- cjson-check
expect_out "a program built against the installed cJSON runs" \
	'1.7.15 {"name":"rill","builds":[1,2,3],"ok":true}'

# everything is cached now: a second build builds nothing
run_rill build --builders 2 --max-jobs 1 $TARGETS
if [ "$RC" -eq 0 ] && printf '%s' "$ERR" | grep -q 'Build Queue: *processed 0, skipped 4, failed 0'; then
	pass "a second rill build finds every artifact cached"
else
	fail "a second rill build finds every artifact cached" "$(printf '%s\n' "$ERR" | tail -10)"
fi

say "total $(($(now) - start))s"
echo "$T_PASSES passed, $T_FAILS failed"
finish
