#!/bin/sh
# Damaged projects: tests/mutate/mutate.py copies each bundled project, breaks one of its YAML
# files in 14 ways (flipped bytes, cuts, NULs, bombs, deep nesting, self-includes, wrong types,
# ...) and checks that `rill show` answers within 10 s and 1 GiB with exit status 0 or 1 and an
# error naming a file. RILL_MUTATE_SEED picks other mutations; `make check-mutate BST_TESTS=DIR`
# runs the same on BuildStream's own test projects (its tests/ directory).
# SPDX-License-Identifier: Apache-2.0
TOP=${RILL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
projects=$(find "$TOP/examples" "$TOP/tests/e2e/projects" -name project.conf | xargs -n1 dirname | sort)
exec python3 "$TOP/tests/mutate/mutate.py" --runs 3 --seed "${RILL_MUTATE_SEED:-1}" $projects
