#!/usr/bin/python3
"""yamldump_ref — records how BuildStream 1.6.8 dumps YAML (buildstream._yaml.dump_string, the
function behind show's %{vars}/%{env}/%{config}/%{public} and project.refs) for random trees, as
test cases for tests/unit/test_yamldump. Needs Debian's python3-buildstream (run with
/usr/bin/python3). Usage: yamldump_ref.py [N] [SEED] >tests/unit/yamldump-cases.txt
Case format: "CASE\\n", the tree, "EXPECT <bytes>\\n<dump>\\n"; a tree is "M <n>\\n" then n times
"K <bytes>\\n<key>\\n" and a tree, "L <n>\\n" then n trees, or "S <style> <bytes>\\n<text>\\n" with
style p(lain), s(ingle), d(ouble), l(iteral), f(olded).
SPDX-License-Identifier: Apache-2.0"""
import random
import sys

from buildstream import _yaml
from ruamel.yaml.scalarstring import (DoubleQuotedScalarString, FoldedScalarString, LiteralScalarString,
                                      SingleQuotedScalarString)

WORDS = ["a", "make", "%{prefix}", "-j2", "x:y", "key: value", "#c", "a #b", "'q'", '"dq"', "it's", "--",
         "---", "...", "- item", "? q", "[l]", "{m}", "&anchor", "*alias", "!tag", "|", ">", "@", "`",
         "%", "true", "1", "0x1f", "1.5", "~", "null", "", " ", "  ", "\t", "é", "日本", "\u2028", "\x85",
         "\x07", "\\", "/usr/bin", "$HOME", "echo \"$1\"", ",", "a,b", "http://x:1/y", "-", ":", "?",
         "x" * 40, "y" * 90, "lorem ipsum dolor sit amet", "\ufeff", "\xa0", "\U0001F600"]
STYLES = [("p", str), ("s", SingleQuotedScalarString), ("d", DoubleQuotedScalarString),
          ("l", LiteralScalarString), ("f", FoldedScalarString)]


def rand_text(rng):
    n = rng.choice([0, 1, 1, 2, 3, 5, 12, 30])
    parts = []
    for _ in range(n):
        parts.append(rng.choice(WORDS))
        parts.append(rng.choice([" ", " ", "", "\n", "  ", "\n\n", " \n", "\n "]))
    text = "".join(parts)
    if rng.random() < 0.2:
        text = text.strip()
    return text


def rand_tree(rng, depth):
    r = rng.random()
    if depth > 3 or r < 0.45:
        style, cls = rng.choice(STYLES) if rng.random() < 0.4 else STYLES[0]
        text = rand_text(rng)
        # a block scalar in a file holds only printable characters
        if style in "lf" and (not text or any(c in text for c in "\x07\x85\u2028\u2029\ufeff\t")):
            style, cls = STYLES[0]
        return (style, text), cls(text)
    if r < 0.75:
        n = rng.choice([0, 1, 2, 3, 4])
        keys = []
        d = _yaml.SanitizedDict()
        for _ in range(n):
            k = rng.choice([rand_text(rng).replace("\n", " "), rng.choice(WORDS[:20]), "k%d" % rng.randrange(99)])
            if k in d:
                continue
            desc, val = rand_tree(rng, depth + 1)
            keys.append((k, desc))
            d[k] = val
        return ("M", keys), d
    n = rng.choice([0, 1, 2, 3])
    items = [rand_tree(rng, depth + 1) for _ in range(n)]
    return ("L", [i[0] for i in items]), [i[1] for i in items]


def enc(s):
    return s.encode("utf-8")


def write_tree(out, desc):
    kind = desc[0]
    if kind == "M":
        out.write(b"M %d\n" % len(desc[1]))
        for k, v in desc[1]:
            out.write(b"K %d\n" % len(enc(k)) + enc(k) + b"\n")
            write_tree(out, v)
    elif kind == "L":
        out.write(b"L %d\n" % len(desc[1]))
        for v in desc[1]:
            write_tree(out, v)
    else:
        out.write(b"S %s %d\n" % (kind.encode(), len(enc(desc[1]))) + enc(desc[1]) + b"\n")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    out = sys.stdout.buffer
    done = 0
    while done < n:
        desc, tree = rand_tree(rng, 0)
        if desc[0] == "M" and not desc[1] and rng.random() < 0.8:
            continue
        if desc[0] not in "ML":
            continue    # bst dumps mappings and lists only
        try:
            text = _yaml.dump_string(tree)
        except Exception:       # noqa: BLE001 - a tree ruamel cannot write is not a case
            continue
        out.write(b"CASE\n")
        write_tree(out, desc)
        out.write(b"EXPECT %d\n" % len(enc(text)) + enc(text) + b"\n")
        done += 1


main()
