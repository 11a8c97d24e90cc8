#!/bin/sh
# python-plugins.sh — what hosting BuildStream's Python plugins costs rill, against bst 1.6.8
# in the same run. Two generated projects of N elements that differ only in their plugins:
# "native" (manual elements, git sources) and "python" (a local BuildElement subclass and
# bst-external's git_tag source through origin pip). Prints the load times of `show --deps all`
# (rill and bst), the python/native ratio and the interpreter start; then the per-job cost:
# J builds of a BuildElement subclass against the same J of manual, one builder, busybox sysroot.
# Usage: bench/python-plugins.sh [N [J]]   (defaults 600 and 30)
# SPDX-License-Identifier: Apache-2.0
set -e
N=${1:-600}
J=${2:-30}
TOP=$(cd "$(dirname "$0")/.." && pwd)
RILL="$TOP/rill"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export XDG_CACHE_HOME="$W/cache" XDG_CONFIG_HOME="$W/config"

gen() {     # gen DIR ELEMENT-KIND SOURCE-KIND PLUGINS-YAML
	mkdir -p "$1/elements" "$1/plugins"
	{
		printf 'name: bench\nformat-version: 14\nelement-path: elements\naliases:\n  repos: file:///nonexistent/\n'
		printf '%s\n' "$4"
	} >"$1/project.conf"
	cp "$TOP/tests/e2e/projects/python/plugins/elements/mybuild.py" \
		"$TOP/tests/e2e/projects/python/plugins/elements/mybuild.yaml" "$1/plugins/"
	i=0
	while [ $i -lt "$N" ]; do
		{
			printf 'kind: %s\n' "$2"
			if [ $i -gt 0 ]; then
				printf 'build-depends:\n- e%d.bst\n' $((i - 1))
				[ $i -gt 7 ] && printf -- '- e%d.bst\n' $((i - 7))
			fi
			printf 'config:\n  build-commands:\n  - make -j1 e%d\n' $i
			printf 'sources:\n- kind: %s\n  url: repos:r%d.git\n  track: master\n' "$3" $i
			printf '  ref: v1.%d-0-g%040d\n' $i $i
		} >"$1/elements/e$i.bst"
		i=$((i + 1))
	done
	printf 'kind: stack\ndepends:\n' >"$1/elements/all.bst"
	i=0
	while [ $i -lt "$N" ]; do printf -- '- e%d.bst\n' $i >>"$1/elements/all.bst"; i=$((i + 1)); done
}
gen "$W/native" manual git ''
gen "$W/python" mybuild git_tag 'plugins:
- origin: local
  path: plugins
  elements:
    mybuild: 1
- origin: pip
  package-name: BuildStream-external
  sources:
    git_tag: 1'

best() {    # best RUNS CMD...: the fastest wall time of RUNS runs, in seconds
	runs=$1
	shift
	b=
	r=0
	while [ $r -lt "$runs" ]; do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
		r=$((r + 1))
	done
	printf '%.3f' "$b"
}

fmt='%{name}||%{full-key}'
rn=$(best 5 "$RILL" -C "$W/native" show --bst-keys --deps all --format "$fmt" all.bst)
rp=$(best 5 "$RILL" -C "$W/python" show --bst-keys --deps all --format "$fmt" all.bst)
"$RILL" -C "$W/python" show --bst-keys --deps all --format "$fmt" all.bst >"$W/rill.txt"
echo "elements: $N (+ all.bst)"
echo "rill show, native plugins:  ${rn} s"
echo "rill show, Python plugins:  ${rp} s   (python/native $(echo "scale=2; $rp / $rn" | bc)x)"
# the interpreter alone: one Python element
mkdir -p "$W/one/elements"
cp -r "$W/python/plugins" "$W/one/"
sed -n '1,/^plugins:/p' "$W/python/project.conf" >"$W/one/project.conf"
sed -n '/^- origin: local/,$p' "$W/python/project.conf" | sed -n '1,4p' >>"$W/one/project.conf"
printf 'kind: mybuild\n' >"$W/one/elements/e.bst"
printf 'kind: manual\n' >"$W/one/elements/m.bst"
r1=$(best 5 "$RILL" -C "$W/one" show e.bst)
r0=$(best 5 "$RILL" -C "$W/one" show m.bst)
echo "interpreter start (show of 1 Python element - 1 native): $(echo "$r1 - $r0" | bc) s"
if command -v bst >/dev/null; then
	bn=$(best 1 bst -C "$W/native" show --deps all --format "$fmt" all.bst)
	bp=$(best 1 bst -C "$W/python" show --deps all --format "$fmt" all.bst)
	bst -C "$W/python" show --deps all --format "$fmt" all.bst >"$W/bst.txt" 2>/dev/null
	echo "bst show, native plugins:   ${bn} s   (rill $(echo "scale=1; $bn / $rn" | bc)x faster)"
	echo "bst show, Python plugins:   ${bp} s   (rill $(echo "scale=1; $bp / $rp" | bc)x faster)"
	if cmp -s "$W/bst.txt" "$W/rill.txt"; then echo "keys: identical to bst's"; else echo "keys: DIFFER from bst's"; fi
fi

# per-job cost: J builds of each kind, one at a time
for v in native python; do
	B="$W/jobs-$v"
	mkdir -p "$B/elements" "$B/plugins" "$B/files/base/bin"
	cp "$(command -v busybox)" "$B/files/base/bin/"
	for a in sh echo mkdir cat; do ln -sf busybox "$B/files/base/bin/$a"; done
	printf 'kind: import\nsources:\n- kind: local\n  path: files/base\n' >"$B/elements/base.bst"
	k=manual
	if [ $v = python ]; then
		k=mybuild
		cp "$W/python/plugins/mybuild.py" "$W/python/plugins/mybuild.yaml" "$B/plugins/"
		printf 'name: jobs\nelement-path: elements\nplugins:\n- origin: local\n  path: plugins\n  elements:\n    mybuild: 0\n' >"$B/project.conf"
	else
		printf 'name: jobs\nelement-path: elements\n' >"$B/project.conf"
	fi
	printf 'kind: stack\ndepends:\n' >"$B/elements/all.bst"
	i=1
	while [ $i -le "$J" ]; do
		printf 'kind: %s\nbuild-depends:\n- base.bst\nvariables:\n  n: "%d"\nconfig:\n  configure-commands: []\n  build-commands:\n  - echo build %%{n}\n  install-commands:\n  - mkdir -p %%{install-root}/usr/share\n  - echo %%{n} > %%{install-root}/usr/share/f%%{n}\n  strip-commands: []\n' \
			$k $i >"$B/elements/e$i.bst"
		printf -- '- e%d.bst\n' $i >>"$B/elements/all.bst"
		i=$((i + 1))
	done
	XDG_CACHE_HOME="$B/cache" "$RILL" -C "$B" build base.bst >/dev/null 2>&1
	s=$(date +%s.%N)
	XDG_CACHE_HOME="$B/cache" "$RILL" -C "$B" build --builders 1 all.bst >/dev/null 2>&1
	e=$(date +%s.%N)
	eval "t_$v=$(echo "$e - $s" | bc)"
done
echo "build of $J elements, one builder: native ${t_native} s, Python BuildElement ${t_python} s"
echo "per-job Python cost: $(echo "scale=1; ($t_python - $t_native) * 1000 / $J" | bc) ms"
