#!/usr/bin/env python3
# gen-wide.py — writes a random BuildStream 1.x project whose elements have WIDE dependency
# lists (up to hundreds of entries, every dependency type and spelling) for benchmarks.
# SPDX-License-Identifier: Apache-2.0
"""Usage: gen-wide.py N OUTDIR [--seed S] [--max-width W] [--if-changed] [-q]

The project loads in bst 1.6.8 without network access: every element is
`kind: manual` (no sources). Layout (element names relative to element-path
`elements`):
  [DIR/]e<i>[-SUFFIX].bst  N elements, i = 0..N-1. 80% are at the top, 8% in
                           a/, 8% in sub/, 4% in sub/x/, so names differ in
                           prefix; a quarter have a random suffix of 1-20
                           characters from [a-z0-9_+-], so with the plain
                           e<i> of 1-6 digits the names have mixed lengths and
                           string order is unlike index order.
  target.bst               stack depending on every element that no other
                           element depends on, so --deps all reaches all N+1

Element i depends on k distinct elements chosen uniformly among e0..e(i-1)
(so the graph is acyclic), in random order, where k is drawn from
  60%: 0-8,  20%: 9-64,  13%: 65-200,  7%: 201-W      (W = --max-width, 400)
each range cut to at most W, then k cut to i. The mean is about 48 for W = 400;
from a few hundred elements on, many have more than 64 dependencies and some
more than 200.

Each dependency is, with equal chances, build-only, build and runtime, or
runtime-only, and is written as:
  build-only     85% `build-depends:` - NAME
                 10% `depends:` - {filename: NAME, type: build}   (flow style)
                  5% `build-depends:` - filename: NAME            (block dict)
  build+runtime  90% `depends:` - NAME
                 10% `depends:` - {filename: NAME, type: all}
  runtime-only   80% `depends:` - filename: NAME / type: runtime  (block dict)
                 20% `runtime-depends:` - NAME
Each list keeps the random order of the dependencies in it.

The output is a pure function of (N, seed, W). OUTDIR/.bench-gen records
them and the generator version; with --if-changed an OUTDIR whose record
matches is left as it is. The script refuses to delete a non-empty OUTDIR it
did not create. A summary line goes to stderr unless -q.
"""

import argparse
import os
import random
import sys
import time

from gentree import Tree

GEN_VERSION = 1
BUILD, ALL, RUN = "build", "all", "runtime"
DIRS = ("", "a", "sub", os.path.join("sub", "x"))
SUFFIX_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_+-"


def die(msg):
    sys.exit("gen-wide.py: " + msg)


def plan(n, seed, max_width):
    """Returns (names, deps): names[i] relative to `elements`, deps[i] = [(j, type, form)]."""
    rng = random.Random(seed)
    names = []
    for i in range(n):
        r = rng.random()
        d = DIRS[0] if r < 0.80 else DIRS[1] if r < 0.88 else DIRS[2] if r < 0.96 else DIRS[3]
        name = "e%d" % i
        if rng.random() < 0.25:
            name += "-" + "".join(rng.choice(SUFFIX_CHARS) for _ in range(rng.randint(1, 20)))
        names.append(os.path.join(d, name + ".bst") if d else name + ".bst")
    bands = ((0.60, 0, 8), (0.80, 9, 64), (0.93, 65, 200), (1.00, 201, max_width))
    deps = []
    for i in range(n):
        r = rng.random()
        for p, lo, hi in bands:
            if r < p:
                break
        lo, hi = min(lo, max_width), min(hi, max_width)
        k = min(rng.randint(lo, hi), i)
        lst = []
        for j in rng.sample(range(i), k):
            t = rng.random()
            f = rng.random()
            if t < 1 / 3:
                typ = BUILD
                form = "plain" if f < 0.85 else "flow" if f < 0.95 else "block"
            elif t < 2 / 3:
                typ = ALL
                form = "plain" if f < 0.90 else "flow"
            else:
                typ = RUN
                form = "block" if f < 0.80 else "plain"
            lst.append((j, typ, form))
        deps.append(lst)
    return names, deps


def element_text(i, name, dep_list, names):
    build, runtime, depends = [], [], []
    for j, typ, form in dep_list:
        d = names[j]
        if typ == BUILD:
            if form == "plain":
                build.append("- %s\n" % d)
            elif form == "block":
                build.append("- filename: %s\n" % d)
            else:
                depends.append("- {filename: %s, type: build}\n" % d)
        elif typ == ALL:
            depends.append("- %s\n" % d if form == "plain" else "- {filename: %s, type: all}\n" % d)
        else:
            if form == "plain":
                runtime.append("- %s\n" % d)
            else:
                depends.append("- filename: %s\n  type: runtime\n" % d)
    out = ["kind: manual\n", "description: Wide-dependency benchmark element %d\n" % i]
    for key, items in (("build-depends", build), ("runtime-depends", runtime), ("depends", depends)):
        if items:
            out.append(key + ":\n")
            out.extend(items)
    out.append(
        "variables:\n"
        "  pkgname: %s\n"
        "  docdir: '%%{datadir}/wide/%%{pkgname}'\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %%{install-root}%%{docdir}\n"
        "  - echo %%{pkgname} > %%{install-root}%%{docdir}/name\n"
        % os.path.basename(name)[:-4])
    return "".join(out)


PROJECT_CONF = """\
# Wide-dependency benchmark project written by bench/gen-wide.py.
name: wide
format-version: 18
element-path: elements
"""


def stamp_line(n, seed, max_width):
    return "gen-wide-version=%d n=%d seed=%d max-width=%d\n" % (GEN_VERSION, n, seed, max_width)


def generate(n, outdir, seed, max_width):
    names, deps = plan(n, seed, max_width)
    tree = Tree(outdir, die)
    tree.mkdir("")
    tree.mkdir("elements")
    for d in DIRS:
        if d:
            tree.mkdir(os.path.join("elements", d))
    tree.write("", "project.conf", PROJECT_CONF)
    depended = bytearray(n)
    for i, name in enumerate(names):
        for j, _, _ in deps[i]:
            depended[j] = 1
        tree.write(os.path.join("elements", os.path.dirname(name)) if os.path.dirname(name)
                   else "elements", os.path.basename(name), element_text(i, name, deps[i], names))
    sinks = [names[i] for i in range(n) if not depended[i]]
    tree.write("elements", "target.bst",
               "kind: stack\ndescription: Depends on every otherwise unused element\n"
               + ("depends:\n" + "".join("- %s\n" % s for s in sinks) if sinks else ""))
    tree.finish(stamp_line(n, seed, max_width))
    return deps, sinks


def main():
    ap = argparse.ArgumentParser(description="Generate a random BuildStream 1.x project "
                                             "with wide dependency lists.")
    ap.add_argument("n", type=int, help="number of elements (besides target.bst)")
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-width", type=int, default=400,
                    help="most dependencies one element can have (default 400)")
    ap.add_argument("--if-changed", action="store_true",
                    help="do nothing if OUTDIR already holds this exact project")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    if args.n < 0:
        ap.error("N must be >= 0")
    if args.max_width < 0:
        ap.error("--max-width must be >= 0")
    if args.if_changed:
        try:
            with open(os.path.join(args.outdir, ".bench-gen")) as f:
                if f.read() == stamp_line(args.n, args.seed, args.max_width):
                    if not args.quiet:
                        print("gen-wide: %s is up to date" % args.outdir, file=sys.stderr)
                    return
        except OSError:
            pass
    t0 = time.monotonic()
    deps, sinks = generate(args.n, args.outdir, args.seed, args.max_width)
    if not args.quiet:
        widths = [len(d) for d in deps]
        types = {BUILD: 0, ALL: 0, RUN: 0}
        for d in deps:
            for _, typ, _ in d:
                types[typ] += 1
        print("gen-wide: %d elements (+ target.bst), %d edges (%d build, %d all, %d runtime), "
              "widest list %d, %d lists > 64, %d > 200, target has %d deps, seed %d -> %s in %.2f s"
              % (args.n, sum(widths), types[BUILD], types[ALL], types[RUN], max(widths, default=0),
                 sum(w > 64 for w in widths), sum(w > 200 for w in widths), len(sinks), args.seed,
                 args.outdir, time.monotonic() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
