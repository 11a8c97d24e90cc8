#!/usr/bin/env python3
# gen-project.py — writes a synthetic BuildStream 1.x project (N `manual` elements in a
# layered DAG, plus base.bst and a `stack` target.bst that pulls in everything) for benchmarks.
# SPDX-License-Identifier: Apache-2.0
"""Usage: gen-project.py N OUTDIR [--seed S] [--layers L] [--if-changed] [-q]

The project loads in bst 1.6.8 without network access: every element is
`kind: manual` (no sources), so `bst show` needs nothing fetched.

Layout (element names are relative to element-path `elements`):
  base.bst                     manual, no dependencies
  layer-0/elem-0.bst ...       every layer-0 element depends on base.bst
  layer-L/elem-I.bst           1-5 deps on elements of earlier layers; the first
                               always on layer L-1, so the DAG has L+2 levels
  target.bst                   stack depending on every element nobody else
                               depends on, so --deps all reaches all N+2 elements

Output is a pure function of (N, seed, layers). OUTDIR/.bench-gen records them;
with --if-changed an OUTDIR whose record matches is left as it is.
"""

import argparse
import os
import random
import shutil
import sys
import time

GEN_VERSION = 1


def default_layers(n):
    # ~sqrt(N)/2 layers: 1000 -> 16 layers of ~63, 60000 -> 122 layers of ~492.
    return max(1, min(n, int(round((n ** 0.5) / 2))))


def plan(n, layers, rng):
    """Returns (layer_of, deps) where deps[i] is a list of (target_index, kind)."""
    # Split N elements into `layers` nearly equal consecutive ranges.
    bounds = [n * k // layers for k in range(layers + 1)]
    layer_of = [0] * n
    for layer in range(layers):
        for i in range(bounds[layer], bounds[layer + 1]):
            layer_of[i] = layer
    deps = [None] * n
    for layer in range(layers):
        lo, hi = bounds[layer], bounds[layer + 1]
        for i in range(lo, hi):
            if layer == 0:
                deps[i] = []
                continue
            want = rng.randint(1, 5)
            chosen = []
            seen = set()
            # First dependency: the previous layer, so depth grows with L.
            prev_lo, prev_hi = bounds[layer - 1], bounds[layer]
            t = rng.randrange(prev_lo, prev_hi)
            chosen.append(t)
            seen.add(t)
            for _ in range(want - 1):
                if rng.random() < 0.75:
                    # Mostly nearby: one of the 4 previous layers.
                    src = layer - 1 - rng.randrange(min(4, layer))
                    t = rng.randrange(bounds[src], bounds[src + 1])
                else:
                    # Sometimes anywhere earlier (long edges).
                    t = rng.randrange(0, lo)
                if t not in seen:
                    seen.add(t)
                    chosen.append(t)
            deps[i] = [(t, "build" if rng.random() < 0.3 else "all") for t in chosen]
    return layer_of, deps


def name_of(i, layer_of):
    return "layer-%d/elem-%d.bst" % (layer_of[i], i)


def yaml_list(key, items):
    if not items:
        return ""
    return key + ":\n" + "".join("- %s\n" % x for x in items)


def element_text(i, layer, dep_names, build_dep_names):
    return (
        "kind: manual\n"
        "description: Synthetic benchmark element %d (layer %d)\n"
        "%s%s"
        "variables:\n"
        "  pkgname: elem-%d\n"
        "  layer: '%d'\n"
        "  docdir: '%%{datadir}/bench/%%{pkgname}'\n"
        "config:\n"
        "  build-commands:\n"
        "  - echo \"building %%{pkgname} in layer %%{layer}\"\n"
        "  - echo %%{pkgname} > %%{pkgname}.txt\n"
        "  install-commands:\n"
        "  - mkdir -p %%{install-root}%%{docdir}\n"
        "  - cp %%{pkgname}.txt %%{install-root}%%{docdir}/%%{pkgname}.txt\n"
        % (i, layer, yaml_list("depends", dep_names),
           yaml_list("build-depends", build_dep_names), i, layer)
    )


PROJECT_CONF = """\
# Synthetic benchmark project written by bench/gen-project.py.
name: bench
format-version: 18
element-path: elements
"""

BASE_BST = """\
kind: manual
description: Base of the synthetic benchmark project
variables:
  pkgname: base
config:
  install-commands:
  - mkdir -p %{install-root}%{datadir}/bench
  - echo %{pkgname} > %{install-root}%{datadir}/bench/%{pkgname}.txt
"""


SYSROOT_BASE_BST = """\
kind: import
description: Base of the synthetic benchmark project (a busybox-static sysroot)
sources:
- kind: local
  path: files/base
"""


def add_sysroot(outdir):
    """base.bst becomes a busybox sysroot: /bin/busybox and its applets as symlinks."""
    busybox = shutil.which("busybox")
    if not busybox:
        sys.exit("gen-project: --sysroot needs busybox (apt-get install busybox-static)")
    bindir = os.path.join(outdir, "files", "base", "bin")
    os.makedirs(bindir, exist_ok=True)
    shutil.copy2(busybox, os.path.join(bindir, "busybox"))
    for applet in ("sh", "echo", "cat", "mkdir", "cp", "ls", "rm", "find", "true", "test"):
        link = os.path.join(bindir, applet)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    with open(os.path.join(outdir, "elements", "base.bst"), "w") as f:
        f.write(SYSROOT_BASE_BST)
    # every element builds on the sysroot, whatever its other dependencies are
    for dirpath, _, files in os.walk(os.path.join(outdir, "elements")):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path) as f:
                text = f.read()
            if not text.startswith("kind: manual") or "- base.bst\n" in text:
                continue
            if "build-depends:\n" in text:
                text = text.replace("build-depends:\n", "build-depends:\n- base.bst\n", 1)
            else:
                text = text.replace("variables:\n", "build-depends:\n- base.bst\nvariables:\n", 1)
            with open(path, "w") as f:
                f.write(text)


def stamp_line(n, seed, layers):
    return "gen-version=%d n=%d seed=%d layers=%d\n" % (GEN_VERSION, n, seed, layers)


def generate(n, outdir, seed, layers):
    rng = random.Random(seed)
    layer_of, deps = plan(n, layers, rng)

    if os.path.exists(outdir):
        # Only ever wipe something that looks like our own output.
        if os.listdir(outdir) and not os.path.exists(os.path.join(outdir, ".bench-gen")):
            sys.exit("gen-project.py: %s exists and was not made by this script; "
                     "refusing to overwrite it" % outdir)
        shutil.rmtree(outdir)
    elems = os.path.join(outdir, "elements")
    os.makedirs(elems)
    for layer in range(layers if n else 0):
        os.mkdir(os.path.join(elems, "layer-%d" % layer))

    with open(os.path.join(outdir, "project.conf"), "w") as f:
        f.write(PROJECT_CONF)
    with open(os.path.join(elems, "base.bst"), "w") as f:
        f.write(BASE_BST)

    depended = bytearray(n)
    for i in range(n):
        layer = layer_of[i]
        if layer == 0:
            runtime, build = ["base.bst"], []
        else:
            runtime = [name_of(t, layer_of) for t, k in deps[i] if k == "all"]
            build = [name_of(t, layer_of) for t, k in deps[i] if k == "build"]
            for t, _ in deps[i]:
                depended[t] = 1
        with open(os.path.join(elems, name_of(i, layer_of)), "w") as f:
            f.write(element_text(i, layer, runtime, build))

    sinks = [name_of(i, layer_of) for i in range(n) if not depended[i]]
    if not sinks:
        sinks = ["base.bst"]
    with open(os.path.join(elems, "target.bst"), "w") as f:
        f.write("kind: stack\n"
                "description: Depends on every otherwise unused element\n"
                + yaml_list("depends", sinks))

    # Written last: its presence means the tree is complete.
    with open(os.path.join(outdir, ".bench-gen"), "w") as f:
        f.write(stamp_line(n, seed, layers))
    return len(sinks)


def main():
    ap = argparse.ArgumentParser(description="Generate a synthetic BuildStream 1.x project.")
    ap.add_argument("n", type=int, help="number of layered elements (besides base and target)")
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layers", type=int, default=None,
                    help="number of layers (default: about sqrt(N)/2)")
    ap.add_argument("--if-changed", action="store_true",
                    help="do nothing if OUTDIR already holds this exact project")
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("--sysroot", action="store_true",
                    help="make base.bst an import of a busybox-static sysroot, so the project builds")
    args = ap.parse_args()
    if args.n < 0:
        ap.error("N must be >= 0")
    layers = args.layers if args.layers is not None else default_layers(args.n)
    if args.n and not 1 <= layers <= args.n:
        ap.error("--layers must be between 1 and N")
    if args.if_changed:
        try:
            with open(os.path.join(args.outdir, ".bench-gen")) as f:
                if f.read() == stamp_line(args.n, args.seed, layers):
                    if not args.quiet:
                        print("gen-project: %s is up to date" % args.outdir, file=sys.stderr)
                    return
        except OSError:
            pass
    t0 = time.monotonic()
    sinks = generate(args.n, args.outdir, args.seed, layers)
    if args.sysroot:
        add_sysroot(args.outdir)
    if not args.quiet:
        print("gen-project: %d elements (+ base.bst, target.bst), %d layers, "
              "target has %d deps, seed %d -> %s in %.2f s"
              % (args.n, layers, sinks, args.seed, args.outdir, time.monotonic() - t0),
              file=sys.stderr)


if __name__ == "__main__":
    main()
