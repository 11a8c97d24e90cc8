#!/bin/sh
# Records bst 1.6.8's view of this project for t0170: `bst show --deps all` of all.bst with
# names, full keys and states. Run from anywhere when bst and python3-bst-external are installed.
# SPDX-License-Identifier: Apache-2.0
set -e
here=$(cd "$(dirname "$0")" && pwd)
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
cd "$here"
XDG_CACHE_HOME="$cache" XDG_CONFIG_HOME="$cache" bst --no-colors show --deps all \
	--format '%{name}||%{full-key}||%{state}' all.bst >expected-keys.txt
echo "recorded $(wc -l <expected-keys.txt) elements in $here/expected-keys.txt"
