#!/bin/sh
# record-show.sh — records what BuildStream 1.6.8's `bst show` prints for this project with the
# formats of t0125 (expected-show/*.txt). %{vars} comes in an order bst changes from run to run
# and with an internal __bst_provenance_info entry: its files hold the sorted top-level entries.
# SPDX-License-Identifier: Apache-2.0
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache" XDG_CONFIG_HOME="$tmp/config"
mkdir -p expected-show
n=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	case "$line" in \#*) continue ;; esac
	n=$((n + 1))
	deps=${line%% *}
	fmt=$(printf '%s' "${line#* }" | sed 's/\\n/\n/g')
	bst --no-colors show --deps "$deps" --format "$fmt" all.bst 2>/dev/null >"expected-show/$n.txt"
	case "$fmt" in
	*%\{vars\}*) python3 ../../../compat/vars-entries.py <"expected-show/$n.txt" >"expected-show/$n.tmp" &&
		mv "expected-show/$n.tmp" "expected-show/$n.txt" ;;
	esac
done <show-formats.txt
