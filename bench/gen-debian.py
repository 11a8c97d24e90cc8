#!/usr/bin/env python3
# gen-debian.py — writes a BuildStream 1.x project shaped like Debian's whole archive (one
# `manual` element per binary package, dependencies taken from apt's Packages index) for benchmarks.
# SPDX-License-Identifier: Apache-2.0
"""Usage: gen-debian.py PACKAGES_SOURCE OUTDIR [--limit N [--closure]] [--lean] [--if-changed] [-q]

PACKAGES_SOURCE is `auto` (or `-`): every /var/lib/apt/lists/*_binary-amd64_Packages*
file on this machine, read in sorted file-name order; or the path of one Packages
file, plain or compressed (.gz, .xz, .bz2 and .lzma are read with the Python
standard library, anything else such as .lz4 or .zst through
`/usr/lib/apt/apt-helper cat-file`). On Debian bookworm with -updates and
-security that is about 63,700 packages.

The project loads in bst 1.6.8 without network access: every element is
`kind: manual` (no sources). Layout (element names relative to element-path
`elements`):
  pkgs/<package>.bst   one per binary package (names keep their + . -), with
                       a description, variables pkgname, version, section and
                       install-commands that use them; with --lean only the
                       kind and the dependencies
  all.bst              stack depending on every package element, in sorted
                       name order, so --deps all reaches everything

Rules, in the order they are applied:
  Packages   A package listed more than once (several lists or versions) is
             kept once: the highest version by dpkg's comparison; on equal
             versions the first seen.
  Types      Each package's dependency clauses are taken in this order:
             Pre-Depends -> build dependency (`build-depends:`),
             Depends     -> build and runtime (`depends:`),
             Recommends  -> runtime only (`depends:` entry with `type: runtime`).
  Clauses    Version constraints `(>= 1.0)`, architecture qualifiers (`:any`,
             `:native`, `:amd64`), `[arch]` lists and `<profile>` marks are
             stripped.
  Choices    In `a | b | c` the first alternative that is a real package wins;
             if none is real, the first one that is a virtual package with a
             provider.
  Virtuals   A name that is not a package but appears in some package's
             Provides (versions stripped there too) resolves to its
             alphabetically first provider. A real package of that name always
             wins over providers.
  Drops      A clause with no resolvable alternative is dropped (counted as
             unresolved), as is a dependency of a package on itself.
  Duplicates A target named twice in one package keeps the place of its first
             occurrence; its types are merged (build + runtime = both), so no
             element lists the same dependency twice.
  Cycles     Two phases. 1: the build and build+runtime edges (Pre-Depends,
             Depends): iterative depth-first search, roots in sorted
             package-name order, each package's edges followed in list order;
             an edge to a package on the current DFS stack is dropped.
             2: the runtime-only edges (Recommends), sources in sorted name
             order, each one's in list order: an edge is kept unless it closes
             a cycle with the edges kept so far (checked with a topological
             order kept up to date, Pearce-Kelly). So only a cycle made of
             Pre-Depends/Depends edges alone loses one of those; any other is
             broken at a Recommends edge. What is left is acyclic.
  --limit N  Applied last, to the whole archive's acyclic graph: only the
             first N packages by name are written, and their dependencies on
             packages outside them are dropped. With --closure, every package
             they depend on (transitively) is written too, so no dependency is
             dropped (50 -> ~1,000 elements, 500 -> ~3,400). Either way the
             project is the full one restricted to some packages: the same
             edges, in the same order.
  Order      Each element's `build-depends:` and `depends:` keep that order,
             that is the order of the Packages fields, not sorted.

The output is a pure function of the Packages content, --limit and --closure.
OUTDIR/.bench-gen records a SHA-256 of that content, those options and the
generator version; with --if-changed an OUTDIR whose record matches is left
as it is. The script refuses to delete a non-empty OUTDIR it did not create.
A one-line summary (packages, edges, edges dropped for cycles, unresolved
clauses, widest dependency list) goes to stderr unless -q.
"""

import argparse
import bz2
import glob
import gzip
import hashlib
import lzma
import os
import re
import subprocess
import sys
import time

from gentree import Tree

GEN_VERSION = 1
AUTO_GLOB = "/var/lib/apt/lists/*_binary-amd64_Packages*"
APT_HELPER = "/usr/lib/apt/apt-helper"

# Dependency types, as bits: BUILD | RUN == ALL.
BUILD, RUN, ALL = 1, 2, 3
FIELD_TYPES = (("pre-depends", BUILD), ("depends", ALL), ("recommends", RUN))


def die(msg):
    sys.exit("gen-debian.py: " + msg)


def read_source(path):
    """Returns the decompressed bytes of one Packages file."""
    base = os.path.basename(path)
    openers = {".gz": gzip.open, ".xz": lzma.open, ".lzma": lzma.open, ".bz2": bz2.open}
    ext = os.path.splitext(base)[1]
    try:
        if ext in openers:
            with openers[ext](path, "rb") as f:
                return f.read()
        if ext in (".lz4", ".zst", ".zstd", ".lz"):
            # apt knows how.
            try:
                return subprocess.run([APT_HELPER, "cat-file", path], check=True,
                                      stdout=subprocess.PIPE).stdout
            except (OSError, subprocess.CalledProcessError) as e:
                die("cannot decompress %s with %s cat-file: %s" % (path, APT_HELPER, e))
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))


def sources_of(spec):
    if spec in ("auto", "-"):
        paths = sorted(p for p in glob.glob(AUTO_GLOB) if os.path.isfile(p) and ".diff" not in p)
        if not paths:
            die("no %s files (run apt-get update, or give a Packages file)" % AUTO_GLOB)
        return paths
    if not os.path.isfile(spec):
        die("%s is not a file" % spec)
    return [spec]


# The fields used, each with its continuation lines. Packages files start every stanza with
# Package:, so a Package: line starts a new stanza.
_FIELD = re.compile(rb"^(Package|Version|Section|Provides|Pre-Depends|Depends|Recommends):"
                    rb"[ \t]*(.*(?:\n[ \t].*)*)", re.M)


def parse_stanzas(data):
    """Yields one dict per stanza of the bytes DATA: lower-case field name -> value."""
    cur = None
    for m in _FIELD.finditer(data):
        k, v = m.groups()
        k = k.decode().lower()
        if k == "package":
            if cur is not None:
                yield cur
            cur = {}
        elif cur is None:
            continue
        if b"\n" in v:
            v = b" ".join(v.split())
        cur[k] = v.strip().decode("utf-8", "replace")
    if cur is not None:
        yield cur


# dpkg's version comparison (lib/dpkg/version.c).
def _order(c):
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a, b):
    i = j = 0
    la, lb = len(a), len(b)
    digits = "0123456789"
    while i < la or j < lb:
        first_diff = 0
        while (i < la and a[i] not in digits) or (j < lb and b[j] not in digits):
            ac = _order(a[i]) if i < la and a[i] not in digits else 0
            bc = _order(b[j]) if j < lb and b[j] not in digits else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < la and a[i] == "0":
            i += 1
        while j < lb and b[j] == "0":
            j += 1
        while i < la and a[i] in digits and j < lb and b[j] in digits:
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < la and a[i] in digits:
            return 1
        if j < lb and b[j] in digits:
            return -1
        if first_diff:
            return first_diff
    return 0


def _split_version(v):
    epoch, colon, rest = v.partition(":")
    if not colon:
        epoch, rest = "0", v
    try:
        epoch = int(epoch)
    except ValueError:
        epoch = 0
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, ""
    return epoch, upstream, revision


def version_cmp(a, b):
    ea, ua, ra = _split_version(a)
    eb, ub, rb = _split_version(b)
    if ea != eb:
        return ea - eb
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


_STRIP = re.compile(r"\([^)]*\)|\[[^\]]*\]|<[^>]*>")


def parse_relation(value):
    """'a (>= 1) | b:any, c' -> [['a', 'b'], ['c']]"""
    out = []
    for clause in _STRIP.sub(" ", value).split(","):
        alts = []
        for alt in clause.split("|"):
            alt = alt.strip()
            if alt:
                alts.append(alt.split(":", 1)[0].strip())
        if alts:
            out.append(alts)
    return out


def load_packages(paths):
    """Returns (packages: {name: stanza}, digest, listed) — one stanza per name."""
    h = hashlib.sha256()
    pkgs = {}
    listed = 0
    for path in paths:
        data = read_source(path)
        h.update(b"%d\n" % len(data))
        h.update(data)
        for st in parse_stanzas(data):
            name = st.get("package")
            if not name:
                continue
            listed += 1
            st.setdefault("version", "0")
            old = pkgs.get(name)
            if old is None or version_cmp(st["version"], old["version"]) > 0:
                pkgs[name] = st
    return pkgs, h.hexdigest(), listed


def digest_of(paths):
    h = hashlib.sha256()
    for path in paths:
        data = read_source(path)
        h.update(b"%d\n" % len(data))
        h.update(data)
    return h.hexdigest()


STAT_KEYS = ("clauses", "unresolved", "virtual", "self", "merged")


def plan(pkgs, limit, closure):
    """Returns (names, deps, stats): names sorted, deps[i] = [(j, type)] (j an index into
    names), acyclic, each list in Packages order. The whole archive is resolved and made
    acyclic first; --limit then keeps part of it, so every project written is the full
    project restricted to some of its packages."""
    all_names = sorted(pkgs)
    providers = {}
    for name in all_names:  # sorted, so each list is in alphabetical order
        for alts in parse_relation(pkgs[name].get("provides", "")):
            for v in alts:
                providers.setdefault(v, []).append(name)
    index = {n: i for i, n in enumerate(all_names)}

    deps = []
    counts = []  # per package, in STAT_KEYS order
    for i, name in enumerate(all_names):
        st = pkgs[name]
        c = [0] * len(STAT_KEYS)
        lst = []
        pos = {}
        for field, typ in FIELD_TYPES:
            value = st.get(field)
            if not value:
                continue
            for alts in parse_relation(value):
                c[0] += 1
                target = None
                for a in alts:
                    if a in index:
                        target = a
                        break
                else:
                    for a in alts:
                        p = providers.get(a)
                        if p:
                            c[2] += 1
                            target = p[0]
                            break
                if target is None:
                    c[1] += 1
                    continue
                if target == name:
                    c[3] += 1
                    continue
                j = index[target]
                k = pos.get(j)
                if k is not None:
                    c[4] += 1
                    lst[k][1] |= typ
                    continue
                pos[j] = len(lst)
                lst.append([j, typ])
        deps.append(lst)
        counts.append(c)

    drop = break_cycles(deps)
    n = len(all_names)
    if limit is None:
        sel = range(n)
    elif not closure:
        sel = range(min(limit, n))
    else:
        seen = set(range(min(limit, n)))
        todo = list(seen)
        while todo:
            v = todo.pop()
            for k, (t, _) in enumerate(deps[v]):
                if t not in seen and (v, k) not in drop:
                    seen.add(t)
                    todo.append(t)
        sel = sorted(seen)
    new = {old: i for i, old in enumerate(sel)}
    stats = dict(zip(STAT_KEYS, (sum(x) for x in zip(*(counts[v] for v in sel)))))
    stats.update(cycles=0, outside=0)
    out = []
    for v in sel:
        lst = []
        for k, (t, typ) in enumerate(deps[v]):
            j = new.get(t)
            if j is None:
                stats["outside"] += 1
            elif (v, k) in drop:
                stats["cycles"] += 1
            else:
                lst.append((j, typ))
        out.append(lst)
    for key in STAT_KEYS:
        stats.setdefault(key, 0)
    return [all_names[v] for v in sel], out, stats


def break_cycles(deps):
    """Returns the edges that close cycles, as a set of (source, position in its list).

    Phase 1, build and build+runtime edges (Pre-Depends, Depends): iterative DFS, roots in
    index (= sorted name) order, each node's edges in list order; an edge to a node on the
    current DFS stack is dropped. The finishing order of that DFS is a topological order.
    Phase 2, runtime-only edges (Recommends), one by one (sources in index order, each
    source's in list order): an edge is kept unless it closes a cycle with the edges kept so
    far; the topological order is kept up to date (Pearce-Kelly), so the check only looks
    at the nodes between the two ends in that order."""
    n = len(deps)
    state = bytearray(n)  # 0 new, 1 on the DFS stack, 2 done
    order = [0] * n       # order[dep] < order[v] for every kept edge v -> dep
    done = 0
    drop = set()          # (source, position in its list)
    for root in range(n):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, 0)]
        while stack:
            v, k = stack[-1]
            dv = deps[v]
            while k < len(dv) and dv[k][1] == RUN:
                k += 1
            if k == len(dv):
                stack.pop()
                state[v] = 2
                order[v] = done
                done += 1
                continue
            stack[-1] = (v, k + 1)
            t = dv[k][0]
            s = state[t]
            if s == 1:
                drop.add((v, k))
            elif s == 0:
                state[t] = 1
                stack.append((t, 0))

    out = [[] for _ in range(n)]   # kept dependencies
    rdeps = [[] for _ in range(n)]  # kept reverse dependencies
    for v in range(n):
        for k, (t, typ) in enumerate(deps[v]):
            if typ != RUN and (v, k) not in drop:
                out[v].append(t)
                rdeps[t].append(v)
    for a in range(n):
        for k, (b, typ) in enumerate(deps[a]):
            if typ != RUN:
                continue
            lo, hi = order[a], order[b]
            if hi > lo:
                # b must move before a: nodes b reaches (order > lo) and nodes reaching a
                # (order < hi). If b reaches a, the edge closes a cycle.
                seen_b = {b}
                todo = [b]
                cycle = False
                while todo and not cycle:
                    for t in out[todo.pop()]:
                        if t == a:
                            cycle = True
                            break
                        if order[t] > lo and t not in seen_b:
                            seen_b.add(t)
                            todo.append(t)
                if cycle:
                    drop.add((a, k))
                    continue
                seen_a = {a}
                todo = [a]
                while todo:
                    for t in rdeps[todo.pop()]:
                        if order[t] < hi and t not in seen_a:
                            seen_a.add(t)
                            todo.append(t)
                nodes = sorted(seen_b, key=order.__getitem__) + sorted(seen_a, key=order.__getitem__)
                for v, o in zip(nodes, sorted(order[v] for v in nodes)):
                    order[v] = o
            out[a].append(b)
            rdeps[b].append(a)
    return drop


def yaml_str(s):
    return "'" + s.replace("'", "''") + "'"


def element_text(name, st, dep_list, names, lean=False):
    out = ["kind: manual\n"] if lean else ["kind: manual\n", "description: Debian package %s\n" % name]
    build = [names[j] for j, t in dep_list if t == BUILD]
    if build:
        out.append("build-depends:\n")
        out.extend("- pkgs/%s.bst\n" % d for d in build)
    rest = [(names[j], t) for j, t in dep_list if t != BUILD]
    if rest:
        out.append("depends:\n")
        for d, t in rest:
            if t == ALL:
                out.append("- pkgs/%s.bst\n" % d)
            else:
                out.append("- filename: pkgs/%s.bst\n  type: runtime\n" % d)
    if lean:
        return "".join(out)
    out.append(
        "variables:\n"
        "  pkgname: %s\n"
        "  version: %s\n"
        "  section: %s\n"
        "  docdir: '%%{datadir}/doc/%%{pkgname}'\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %%{install-root}%%{docdir}\n"
        "  - echo \"%%{pkgname} %%{version} (%%{section})\" > %%{install-root}%%{docdir}/version\n"
        % (yaml_str(name), yaml_str(st.get("version", "0")), yaml_str(st.get("section", "misc"))))
    return "".join(out)


PROJECT_CONF = """\
# Debian-shaped benchmark project written by bench/gen-debian.py.
name: debian
format-version: 18
element-path: elements
"""


def stamp_line(digest, limit, closure, lean=False):
    return "gen-debian-version=%d packages-sha256=%s limit=%s closure=%d%s\n" % (
        GEN_VERSION, digest, "none" if limit is None else limit, closure, " lean=1" if lean else "")


def generate(names, deps, pkgs, outdir, stamp, lean=False):
    tree = Tree(outdir, die)
    tree.mkdir("")
    tree.mkdir("elements")
    tree.mkdir(os.path.join("elements", "pkgs"))
    tree.write("", "project.conf", PROJECT_CONF)
    pkgdir = os.path.join("elements", "pkgs")
    for i, name in enumerate(names):
        tree.write(pkgdir, name + ".bst", element_text(name, pkgs[name], deps[i], names, lean))
    tree.write("elements", "all.bst",
               "kind: stack\ndescription: Depends on every package\n"
               + ("depends:\n" + "".join("- pkgs/%s.bst\n" % n for n in names) if names else ""))
    tree.finish(stamp)


def main():
    ap = argparse.ArgumentParser(
        description="Generate a BuildStream 1.x project shaped like Debian's archive "
                    "from apt's Packages index.")
    ap.add_argument("source", metavar="PACKAGES_SOURCE",
                    help="a Packages file, or 'auto' / '-' for %s" % AUTO_GLOB)
    ap.add_argument("outdir", metavar="OUTDIR")
    ap.add_argument("--limit", type=int, default=None,
                    help="keep only the first N packages by name (dependencies outside them are dropped)")
    ap.add_argument("--closure", action="store_true",
                    help="with --limit: also keep every package the first N depend on, transitively")
    ap.add_argument("--if-changed", action="store_true",
                    help="do nothing if OUTDIR already holds this exact project")
    ap.add_argument("--lean", action="store_true",
                    help="elements hold only their kind and dependencies (no description, "
                    "variables or commands)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    if args.limit is not None and args.limit < 0:
        ap.error("--limit must be >= 0")
    if args.closure and args.limit is None:
        ap.error("--closure needs --limit")
    paths = sources_of(args.source)
    t0 = time.monotonic()
    if args.if_changed:
        try:
            with open(os.path.join(args.outdir, ".bench-gen")) as f:
                old = f.read()
        except OSError:
            old = None
        if old is not None and old == stamp_line(digest_of(paths), args.limit, args.closure, args.lean):
            if not args.quiet:
                print("gen-debian: %s is up to date" % args.outdir, file=sys.stderr)
            return
    pkgs, digest, listed = load_packages(paths)
    names, deps, st = plan(pkgs, args.limit, args.closure)
    generate(names, deps, pkgs, args.outdir, stamp_line(digest, args.limit, args.closure, args.lean),
             args.lean)
    if not args.quiet:
        edges = sum(len(d) for d in deps)
        by_type = {BUILD: 0, ALL: 0, RUN: 0}
        for d in deps:
            for _, t in d:
                by_type[t] += 1
        wide = max(range(len(names)), key=lambda i: len(deps[i]), default=None)
        widest = "%d (%s)" % (len(deps[wide]), names[wide]) if wide is not None else "0"
        extra = ", %d outside --limit" % st["outside"] if args.limit is not None and not args.closure else ""
        print("gen-debian: %d packages (of %d stanzas in %s), %d edges (%d build, %d all, "
              "%d runtime), %d dropped for cycles, %d unresolved, %d self, %d merged duplicates%s, "
              "%d via virtuals, widest list %s -> %s in %.2f s"
              % (len(names), listed, "%d list%s" % (len(paths), "s" if len(paths) != 1 else ""), edges, by_type[BUILD], by_type[ALL], by_type[RUN],
                 st["cycles"], st["unresolved"], st["self"], st["merged"], extra, st["virtual"],
                 widest, args.outdir, time.monotonic() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
