#!/usr/bin/env python3
"""vars-entries — reads `show` output made with a format holding %{vars} (one element per line
group) and writes it with the top-level entries of each YAML mapping sorted and bst's internal
"__bst_provenance_info" entry dropped, so that bst's run-to-run order does not matter. A mapping
entry is a line starting at column 0 with "KEY:" and the indented lines after it.
SPDX-License-Identifier: Apache-2.0"""
import re
import sys

lines = sys.stdin.read().split("\n")
out, group = [], []


def flush():
    entries, cur = [], None
    for line in group:
        if line and not line.startswith(" "):
            cur = [line]
            entries.append(cur)
        else:
            cur.append(line)
    keep = sorted("\n".join(e) for e in entries if not e[0].startswith("__bst_provenance_info:"))
    out.extend(keep)
    group.clear()


for line in lines:
    # an empty line ends a mapping (vars values, plain or double-quoted, hold none)
    if re.match(r"^(\?|'|\")?[A-Za-z_][\w.-]*'?\"?:( |$)", line) or (group and line.startswith(" ")):
        group.append(line)
    else:
        if group:
            flush()
        out.append(line)
if group:
    flush()
sys.stdout.write("\n".join(out))
