#!/bin/sh
# regen.sh — regenerates expected.txt of this junction project with BuildStream 1.6.8 (bst).
# SPDX-License-Identifier: Apache-2.0
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache" XDG_CONFIG_HOME="$tmp/config"
bst --no-colors show --deps all --format '%{name} %{full-key} %{state}' t.bst sub.bst 2>/dev/null >expected.txt
