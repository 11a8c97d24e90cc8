#!/bin/sh
# regen.sh — regenerates the expected-*.txt files of this project with BuildStream 1.6.8 (bst).
# The expectations are bst's own output; rill must print the same keys and states.
# SPDX-License-Identifier: Apache-2.0
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache" XDG_CONFIG_HOME="$tmp/config"
fmt='%{name} %{full-key} %{state}'
bst --no-colors show --deps all --format "$fmt" all.bst 2>/dev/null >expected-default.txt
bst --no-colors -o debug True -o flavour fancy -o features a,c show --deps all --format "$fmt" all.bst \
	2>/dev/null >expected-options.txt
