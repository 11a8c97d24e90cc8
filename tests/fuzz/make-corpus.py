#!/usr/bin/env python3
"""make-corpus — writes the seed corpora of tests/fuzz/ from the tests themselves:
  yaml       every YAML file and here-document of tests/ and examples/ (elements, project.conf,
             includes), some joined as include sets (f0 %%% f1 ...);
  expr       the expressions of tests/unit/test_expr.c and the (?) conditions of the YAML seeds;
  variables  the variables: blocks of the YAML seeds, with the commands that use them to expand;
  status     records of a status table written by a real build (tests/fuzz/status-seeds DIR).
Usage: make-corpus.py [TOP]   (rewrites tests/fuzz/corpus/{yaml,expr,variables}).
SPDX-License-Identifier: Apache-2.0"""
import hashlib
import os
import re
import sys

top = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
out = os.path.join(top, "tests", "fuzz", "corpus")


def save(kind, data, seen):
    if isinstance(data, str):
        data = data.encode()
    if not data.strip() or len(data) > 8192:
        return
    h = hashlib.sha1(data).hexdigest()[:16]
    if h in seen:
        return
    seen.add(h)
    with open(os.path.join(out, kind, h), "wb") as f:
        f.write(data)


def yaml_texts():
    for base in ("tests", "examples"):
        for d, _, files in sorted(os.walk(os.path.join(top, base))):
            if "/tests/fuzz" in d or "/expected" in d:
                continue
            for fn in sorted(files):
                p = os.path.join(d, fn)
                if fn.endswith((".bst", ".conf", ".yaml", ".yml")):
                    yield open(p, encoding="utf-8", errors="replace").read()
                elif fn.endswith(".sh"):
                    text = open(p, encoding="utf-8", errors="replace").read()
                    for m in re.finditer(r"<<-?\s*'?(\w+)'?[^\n]*\n(.*?)\n\1\n", text, re.S):
                        body = m.group(2)
                        if re.search(r"^(kind|name|variables|depends|sources|options|\(@\)):", body, re.M):
                            yield body + "\n"


def c_strings(path):
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r'\bev(?:_err)?\("((?:[^"\\]|\\.)*)"\)', text):
        yield bytes(m.group(1), "utf-8").decode("unicode_escape")


def main():
    for kind in ("yaml", "expr", "variables"):
        d = os.path.join(out, kind)
        os.makedirs(d, exist_ok=True)
        for fn in os.listdir(d):
            os.unlink(os.path.join(d, fn))
    seen = set()
    texts = list(yaml_texts())
    for t in texts:
        save("yaml", t, seen)
    # include sets: an element including the next few texts
    for i in range(0, len(texts) - 3, 7):
        head = "(@): [f1, f2]\n" + texts[i]
        save("yaml", "\n%%%\n".join([head, texts[i + 1], "(@): f3\n" + texts[i + 2], texts[i + 3]]), seen)
    save("yaml", "(@): f1\n\n%%%\n(@): f2\n\n%%%\n(@): f1\n", seen)      # a loop
    save("yaml", "a: (@)\nb:\n  (@): [f1, f1]\n%%%\n(@): [f2, f2]\nx: 1\n%%%\n(@): [f3, f3]\n%%%\ny: [1, 2]\n", seen)
    for t in c_strings(os.path.join(top, "tests", "unit", "test_expr.c")):
        save("expr", t, seen)
    for t in texts:
        for m in re.finditer(r"^\s*-\s+(.+?):\s*$", t, re.M):
            cond = m.group(1)
            if re.search(r"==|!=|\bin\b|\bnot\b|\band\b|\bor\b", cond):
                save("expr", cond, seen)
    for t in texts:
        m = re.search(r"^variables:\n((?:[ \t]+.*\n|\n)+)", t, re.M)
        if not m:
            continue
        block = re.sub(r"^  ", "", m.group(1), flags=re.M)
        uses = sorted(set(re.findall(r"%\{[a-zA-Z][a-zA-Z0-9_-]*\}", t)))[:8]
        expand = "".join("  - '%s/x'\n" % u for u in uses)
        save("variables", block + ("expand:\n" + expand if expand else ""), seen)
        save("variables", "child:\n" + re.sub(r"^", "  ", block, flags=re.M) + "prefix: /usr\n", seen)
    for kind in ("yaml", "expr", "variables"):
        print("%s: %d seeds" % (kind, len(os.listdir(os.path.join(out, kind)))))


main()
