#!/bin/sh
# record.sh — what BuildStream 1.6.8 shows for each project of cases.txt, made by
# bench/gen-wide.py: expected/N-SEED-W.txt ('%{name} %{full-key}', --deps all) and .sum (a
# SHA-256 of the generated files, so t0155 can tell a changed generator from a wrong order).
# Needs bst; takes about a minute.
# SPDX-License-Identifier: Apache-2.0
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rill-wide.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$here/expected" "$tmp/cache" "$tmp/config"
grep -v '^#' "$here/cases.txt" | while read -r n seed w; do
	p="$tmp/$n-$seed-$w"
	python3 "$top/bench/gen-wide.py" "$n" "$p" --seed "$seed" --max-width "$w" -q
	(cd "$p" && find . -name '*.bst' -o -name project.conf | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1) \
		>"$here/expected/$n-$seed-$w.sum"
	XDG_CACHE_HOME=$tmp/cache XDG_CONFIG_HOME=$tmp/config bst --no-colors -C "$p" show --deps all \
		--format '%{name} %{full-key}' target.bst >"$here/expected/$n-$seed-$w.txt" 2>"$tmp/bst.log" ||
		{ cat "$tmp/bst.log" >&2; exit 1; }
	echo "recorded $n-$seed-$w: $(wc -l <"$here/expected/$n-$seed-$w.txt") elements"
done
