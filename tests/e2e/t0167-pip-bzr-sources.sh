#!/bin/sh
# t0167 — the pip and bzr sources. pip: sdists made here, served by a PEP 503 index of files
# (file:// through an alias), downloaded by the host's pip into .bst_pip_downloads; track pins
# the newest version as bst's "name==version" ref; its errors. bzr: a local branch made with
# bzr, fetched, checked out at the ref; track gives the tip revno; its errors. Keys equal bst's.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

# pip reads nothing of the host's configuration (PIP_FIND_LINKS, pip.conf) and asks no server
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL
export BRZ_EMAIL="rill <rill@example.com>" BZR_EMAIL="rill <rill@example.com>" BRZ_LOG=/dev/null BZR_LOG=/dev/null
umask 022

# a python whose pip can download, as the plugin looks for one (python3.11 and newer first)
PY=
for v in 3.13 3.12 3.11 3.10 3.9 3.8 3.7 3.6 3.5 3.4 3.3 3.2 3.1 3.0 2.7; do
	if "python$v" -m pip download --help >/dev/null 2>&1; then
		PY=python$v
		break
	fi
done
HAVE_BZR=
command -v bzr >/dev/null 2>&1 && HAVE_BZR=1

# make_sdist NAME VERSION: $TMP/index/simple/NAME/NAME-VERSION.tar.gz, listed in the index. Its
# in-tree build backend needs nothing installed, so pip prepares its metadata offline.
make_sdist() {
	d="$TMP/sdist/$1-$2"
	mkdir -p "$d" "$TMP/index/simple/$1"
	printf '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n' >"$d/pyproject.toml"
	cat >"$d/backend.py" <<EOF2
import os
def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    d = os.path.join(metadata_directory, "$1-$2.dist-info")
    os.mkdir(d)
    with open(os.path.join(d, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: $1\nVersion: $2\n")
    return "$1-$2.dist-info"
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("download only")
EOF2
	printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" >"$d/PKG-INFO"
	tar -C "$TMP/sdist" -czf "$TMP/index/simple/$1/$1-$2.tar.gz" "$1-$2"
	printf '<a href="%s-%s.tar.gz">%s-%s.tar.gz</a>\n' "$1" "$2" "$1" "$2" >>"$TMP/index/simple/$1/index.html"
}
make_sdist hello 1.0
make_sdist bye 2.0

if [ -n "$HAVE_BZR" ]; then
	bzr init-repo -q "$TMP/bzr"
	bzr init -q "$TMP/bzr/trunk"
	(cd "$TMP/bzr/trunk" && echo one >a.txt && mkdir d && echo two >d/b.txt && ln -s a.txt link &&
		bzr add -q && bzr commit -q -m first)
fi

busybox_project srcs
cat >>"$P/project.conf" <<EOF2
aliases:
  pypi: file://$TMP/index/
  bz: file://$TMP/
EOF2
mkdir -p "$P/files/reqs"
echo hello >"$P/files/reqs/requirements.txt"
# bst 1.6.8 refuses a pip source as an element's first source (it may need the earlier ones
# to track): each pip source here follows a local one. rill does not check this.
pip_element() {
	element "$1" <<EOF2
kind: import
sources:
- kind: local
  path: files/reqs
- kind: pip
$(cat)
EOF2
}
printf '  url: pypi:simple/\n  packages:\n  - hello\n  ref: hello==1.0\n' | pip_element pip.bst
printf '  url: pypi:simple/\n  requirements-files:\n  - requirements.txt\n  ref: hello==1.0\n' | pip_element pipreqs.bst
printf '  url: pypi:simple/\n  packages:\n  - hello\n  - bye\n  ref: "bye==2.0\\nhello==1.0"\n' | pip_element piptwo.bst
printf '  packages:\n  - hello\n' | pip_element pipnoref.bst
printf '  url: pypi:simple/\n  packages:\n  - hello\n' | pip_element piptrack.bst
printf '  url: pypi:simple/\n  requirements-files:\n  - requirements.txt\n' | pip_element pipreqstrack.bst
printf '  url: pypi:simple/\n  packages: []\n' | pip_element pipnone.bst
element pipbuild.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
sources:
- kind: local
  path: files/reqs
- kind: pip
  url: pypi:simple/
  packages:
  - hello
  - bye
  ref: "bye==2.0\nhello==1.0"
config:
  install-commands:
  - mkdir -p %{install-root}
  - ls .bst_pip_downloads >%{install-root}/listing
  - cp -a .bst_pip_downloads %{install-root}/
EOF2
bzr_element() {
	element "$1" <<EOF2
kind: import
sources:
- kind: bzr
$(cat)
EOF2
}
printf '  url: bz:bzr\n  track: trunk\n  ref: 1\n' | bzr_element bzr.bst
printf '  url: bz:bzr\n  track: trunk\n' | bzr_element bzrnoref.bst
printf '  url: bz:bzr\n  ref: 1\n' | bzr_element bzrnotrack.bst
printf '  url: bz:bzr\n  track: trunk\n  ref: 99\n' | bzr_element bzrmissing.bst
element bzrbuild.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
sources:
- kind: bzr
  url: bz:bzr
  track: trunk
  ref: 1
config:
  install-commands:
  - mkdir -p %{install-root}
  - cat a.txt d/b.txt >%{install-root}/contents
  - ls -a >%{install-root}/listing
EOF2

# ---- keys: what bst 1.6.8 printed for these elements (recorded with `bst show`); when bst is
# installed it is asked again. bst's pip source knows python2.7..python3.10 only: on Debian 12
# (python3.11) it refuses the source, so bst runs with a python3.10 in PATH that is this pip's.
fmt='%{name} %{full-key} %{state}'
pip_keys="pip.bst 45e37c5e1a8415efddd91f1df866db7ac8b7972b69981d1e186c6c3e0cd5267d fetch needed
pipreqs.bst 45e37c5e1a8415efddd91f1df866db7ac8b7972b69981d1e186c6c3e0cd5267d fetch needed
piptwo.bst 4ad9d1c3d33026a48069a74fe26581c2b1dd49e4f17e0dd0da3db1b3698b2aaf fetch needed
pipnoref.bst ???????????????????????????????????????????????????????????????? no reference"
bzr_keys="bzr.bst d9ba487e7fb399abe540fdd3e42019626bb6df6e1d6fa5e2a0f87a7d44bc7ed0 fetch needed
bzrnoref.bst ???????????????????????????????????????????????????????????????? no reference"
# run_rill_with_path DIR ARGS...: run_rill with PATH=DIR for rill alone
run_rill_with_path() {
	_path=$1
	shift
	PATH="$_path" "$RILL" -C "$P" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}
bst_show() {
	mkdir -p "$TMP/bstbin"
	[ -n "$PY" ] && printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v "$PY")" >"$TMP/bstbin/python3.10" &&
		chmod +x "$TMP/bstbin/python3.10"
	(cd "$P" && PATH="$TMP/bstbin:$PATH" bst --no-colors show --deps none --format "$fmt" "$@" 2>/dev/null)
}

if [ -n "$PY" ]; then
	run_rill show --bst-keys --deps none --format "$fmt" pip.bst pipreqs.bst piptwo.bst pipnoref.bst
	expect_out "pip keys equal bst's (recorded)" "$pip_keys"
	if command -v bst >/dev/null 2>&1; then
		expect_out "pip keys equal bst's (bst run now)" "$(bst_show pip.bst pipreqs.bst piptwo.bst pipnoref.bst)"
	fi
	k1=$(key_of pip.bst --bst-keys)
	sed -i 's/^  ref: hello==1.0$/  ref: hello==1.1/' "$P/elements/pip.bst"
	k2=$(key_of pip.bst --bst-keys)
	sed -i 's/^  ref: hello==1.1$/  ref: hello==1.0/' "$P/elements/pip.bst"
	[ -n "$k1" ] && [ "$k1" != "$k2" ] && pass "the ref is in the pip key" || fail "the ref is in the pip key" "$k1 $k2"

	run_rill build pip.bst piptwo.bst
	[ "$RC" -eq 0 ] && pass "pip sources fetch and build" || fail "pip sources fetch and build" "$ERR"
	run_rill artifact list-contents piptwo.bst
	expect_out "the ref's sdists are staged in .bst_pip_downloads" ".bst_pip_downloads/
.bst_pip_downloads/bye-2.0.tar.gz
.bst_pip_downloads/hello-1.0.tar.gz
requirements.txt"

	run_rill build pipbuild.bst
	[ "$RC" -eq 0 ] && pass "a pip source builds in a sandbox" || fail "a pip source builds in a sandbox" "$ERR"
	rm -rf "$TMP/co"
	run_rill artifact checkout --deps none --directory "$TMP/co" pipbuild.bst
	[ "$(cat "$TMP/co/listing" 2>/dev/null)" = "bye-2.0.tar.gz
hello-1.0.tar.gz" ] && cmp -s "$TMP/co/.bst_pip_downloads/hello-1.0.tar.gz" "$TMP/index/simple/hello/hello-1.0.tar.gz" &&
		pass "the build sees the downloaded sdists, unchanged" ||
		fail "the build sees the downloaded sdists" "$(ls -la "$TMP/co" "$TMP/co/.bst_pip_downloads" 2>&1)"

	make_sdist hello 1.1
	run_rill track piptrack.bst
	grep -qx '  ref: hello==1.1' "$P/elements/piptrack.bst" && pass "pip track pins the newest version" ||
		fail "pip track pins the newest version" "$(cat "$P/elements/piptrack.bst") $ERR"
	run_rill build piptrack.bst
	run_rill artifact list-contents piptrack.bst
	expect_contains "the tracked version builds" "$OUT" ".bst_pip_downloads/hello-1.1.tar.gz"

	run_rill track pipreqstrack.bst
	expect_contains "tracking requirements-files is a clear error" "$ERR" \
		"pip source at pipreqstrack.bst [line 5 column 2]: cannot track 'requirements-files': it needs the element's previous sources staged"
	run_rill show pipnone.bst
	expect_error "neither packages nor requirements-files is an error" \
		"pip source at pipnone.bst [line 5 column 2]: Either 'packages' or 'requirements-files' must be specified"
	# no python whose pip works: a python3.11 that fails, no other
	mkdir -p "$TMP/nopip"
	printf '#!/bin/sh\nexit 1\n' >"$TMP/nopip/python3.11"
	chmod +x "$TMP/nopip/python3.11"
	run_rill_with_path "$TMP/nopip" show pip.bst
	expect_error "no usable pip is an error" \
		"pip source at pip.bst [line 5 column 2]: Unable to find a suitable pip command"
else
	pass "no python with pip download: pip cases skipped"
fi

if [ -n "$HAVE_BZR" ]; then
	run_rill show --bst-keys --deps none --format "$fmt" bzr.bst bzrnoref.bst
	expect_out "bzr keys equal bst's (recorded)" "$bzr_keys"
	if command -v bst >/dev/null 2>&1; then
		expect_out "bzr keys equal bst's (bst run now)" "$(bst_show bzr.bst bzrnoref.bst)"
	fi

	run_rill build bzr.bst
	[ "$RC" -eq 0 ] && pass "a bzr source fetches and builds" || fail "a bzr source fetches and builds" "$ERR"
	run_rill artifact list-contents bzr.bst
	expect_out "the revision is checked out lightweight, as bst stages it" ".bzr/
.bzr/README
.bzr/branch/
.bzr/branch/format
.bzr/branch/location
.bzr/branch-format
.bzr/branch-lock/
.bzr/checkout/
.bzr/checkout/conflicts
.bzr/checkout/dirstate
.bzr/checkout/format
.bzr/checkout/lock/
.bzr/checkout/views
a.txt
d/
d/b.txt
link -> a.txt"

	run_rill build bzrbuild.bst
	rm -rf "$TMP/co"
	run_rill artifact checkout --deps none --directory "$TMP/co" bzrbuild.bst
	[ "$(cat "$TMP/co/contents" 2>/dev/null)" = "one
two" ] && pass "a bzr source builds in a sandbox" || fail "a bzr source builds in a sandbox" "$ERR $(ls -la "$TMP/co" 2>&1)"

	(cd "$TMP/bzr/trunk" && echo three >c.txt && bzr add -q c.txt && bzr commit -q -m second)
	run_rill track bzrnoref.bst
	grep -qx '  ref: 2' "$P/elements/bzrnoref.bst" && pass "bzr track gives the tip revno" ||
		fail "bzr track gives the tip revno" "$(cat "$P/elements/bzrnoref.bst") $ERR"
	run_rill build bzrnoref.bst
	run_rill artifact list-contents bzrnoref.bst
	expect_contains "the tracked revision builds" "$OUT" "c.txt"
	run_rill artifact list-contents bzr.bst
	if printf '%s' "$OUT" | grep -q c.txt; then fail "the pinned revision stays" "$OUT"; else pass "the pinned revision stays"; fi

	run_rill build bzrmissing.bst
	expect_contains "a ref not in the branch is an error" "$ERR" "Failed to ensure ref '99' was mirrored"
	run_rill show bzrnotrack.bst
	expect_error "track is required, as bst requires it" \
		"bzrnotrack.bst [line 3 column 2]: Dictionary did not contain expected key 'track'"
	mkdir -p "$TMP/nobzr"
	run_rill_with_path "$TMP/nobzr" show bzr.bst
	expect_error "bzr missing from PATH is an error" \
		"bzr source at bzr.bst [line 3 column 2]: Did not find 'bzr' in PATH: $TMP/nobzr"
else
	pass "bzr not installed: bzr cases skipped"
fi
finish
