#!/usr/bin/env python3
"""mutate — hostile-input check on whole projects: copies each project given, damages one of its
YAML files (a byte flipped, a cut, a NUL, a line doubled or dropped, deep nesting, a huge value,
an include of itself, an alias bomb, a variable bomb...), and runs `rill show` on its elements
under a 1 GiB address-space limit. Every run must end within 10 s with exit status 0 or 1, and a
failing run must print an error naming a file of the project. Prints one line per mutation kind
and "N passed, N failed" style totals through the test protocol (ok / FAIL lines).
Usage: mutate.py [--runs N] [--seed S] [--timeout T] PROJECT_DIR...
SPDX-License-Identifier: Apache-2.0"""
import argparse
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
RILL = os.path.join(TOP, "rill")
LIMIT = 1 << 30


def yaml_files(d):
    out = []
    for base, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            if f.endswith((".bst", ".conf", ".yml", ".yaml", ".refs")):
                out.append(os.path.join(base, f))
    return sorted(out)


def element_path(proj):
    try:
        text = open(os.path.join(proj, "project.conf"), encoding="utf-8", errors="replace").read()
    except OSError:
        return proj
    m = re.search(r"^element-path:\s*(\S+)", text, re.M)
    return os.path.join(proj, m.group(1)) if m else proj


def targets(proj):
    ep = element_path(proj)
    ts = []
    for f in yaml_files(ep):
        if f.endswith(".bst"):
            ts.append(os.path.relpath(f, ep))
    return ts[:30]


def mut_flip(rng, data):
    if not data:
        return b"\xff"
    i = rng.randrange(len(data))
    return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]


def mut_cut(rng, data):
    return data[:rng.randrange(len(data) + 1)]


def mut_nul(rng, data):
    i = rng.randrange(len(data) + 1)
    return data[:i] + b"\0" + data[i:]


def lines_of(data):
    return data.split(b"\n")


def mut_dup_line(rng, data):
    ls = lines_of(data)
    i = rng.randrange(len(ls))
    return b"\n".join(ls[:i + 1] + [ls[i]] + ls[i + 1:])


def mut_drop_line(rng, data):
    ls = lines_of(data)
    i = rng.randrange(len(ls))
    return b"\n".join(ls[:i] + ls[i + 1:])


def mut_indent(rng, data):
    ls = lines_of(data)
    i = rng.randrange(len(ls))
    ls[i] = b" " * rng.choice([1, 3, 40]) + ls[i]
    return b"\n".join(ls)


def mut_deep(rng, data):
    n = rng.choice([600, 5000, 100000])
    return data + b"\nzz-deep: " + b"[" * n + b"]" * n + b"\n"


def mut_huge(rng, data):
    return data + b"\nzz-huge: '" + b"x" * rng.choice([10 << 20, 50 << 20]) + b"'\n"


def mut_alias_bomb(rng, data):
    s = b"\nzz-a0: &a0 [l, l, l, l, l, l, l, l, l, l]\n"
    for i in range(1, 10):
        s += b"zz-a%d: &a%d [" % (i, i) + b", ".join([b"*a%d" % (i - 1)] * 10) + b"]\n"
    return data + s


def mut_var_bomb(rng, data):
    s = b"\nvariables:\n"
    for i in range(50):
        s += b"  zv%d: \"%%{zv%d}%%{zv%d}\"\n" % (i, i + 1, i + 1)
    s += b"  zv50: xy\n"
    return data + s


def mut_self_include(rng, data, name):
    return b"(@): " + name.encode() + b"\n" + data


def mut_key_dup(rng, data):
    ls = [l for l in lines_of(data) if re.match(rb"^[a-z-]+:", l)]
    return data + b"\n" + (rng.choice(ls) if ls else b"kind: x") + b"\n"


def mut_type(rng, data):
    # a value of the wrong type where a key was
    ls = lines_of(data)
    keyed = [i for i, l in enumerate(ls) if re.match(rb"^\s*[a-z-]+:\s*\S", l)]
    if not keyed:
        return data + b"\n- list\n"
    i = rng.choice(keyed)
    k = ls[i].split(b":")[0]
    ls[i] = k + b": " + rng.choice([b"[a, b]", b"{x: y}", b"~", b"''", b"-1", b"&x *x", b"!!binary AA=="])
    return b"\n".join(ls)


def mut_directive(rng, data):
    return data + rng.choice([b"\n(?):\n- nosuchopt == 'x':\n    a: b\n", b"\n(!): boom\n",
                              b"\nsources:\n- kind: tar\n  url: nope:x\n  ref: zzz\n",
                              b"\ndepends:\n- (=): [x]\n", b"\n(@): [missing.yml]\n",
                              b"\ndepends:\n- filename: x.bst\n  junction: nope.bst\n",
                              b"\nkind: nosuchkind\n"])


MUTATIONS = [
    ("flip", mut_flip), ("cut", mut_cut), ("nul", mut_nul), ("dup-line", mut_dup_line),
    ("drop-line", mut_drop_line), ("indent", mut_indent), ("deep", mut_deep), ("huge", mut_huge),
    ("alias-bomb", mut_alias_bomb), ("variable-bomb", mut_var_bomb), ("self-include", None),
    ("dup-key", mut_key_dup), ("wrong-type", mut_type), ("directive", mut_directive),
]


def sanitized():
    """A build with AddressSanitizer reserves terabytes of shadow memory: no address-space limit."""
    try:
        out = subprocess.run(["nm", os.path.join(TOP, "rill-backend")], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout
        return b"__asan_init" in out
    except OSError:
        return False


SANITIZED = sanitized()


def limit():
    if not SANITIZED:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def run(proj, tmp, ts, timeout):
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "cache"), HOME=tmp)
    start = time.monotonic()
    try:
        p = subprocess.run([RILL, "-C", proj, "show", "--deps", "all", "--format", "%{name} %{key}"] + ts,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env=env, timeout=timeout, preexec_fn=limit)
        return p.returncode, p.stderr.decode("utf-8", "replace"), time.monotonic() - start
    except subprocess.TimeoutExpired:
        return None, "", time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, help="mutations of each kind per project")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("projects", nargs="+")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    stats = {name: [0, 0] for name, _ in MUTATIONS}
    failures = []
    tmp = tempfile.mkdtemp(prefix="rill-mutate.")
    try:
        for src in a.projects:
            src = os.path.realpath(src)
            ts = targets(src)
            if not ts:
                continue
            for name, fn in MUTATIONS:
                for r in range(a.runs):
                    work = os.path.join(tmp, "p")
                    shutil.rmtree(work, ignore_errors=True)
                    shutil.copytree(src, work, symlinks=True)
                    files = yaml_files(work)
                    victim = rng.choice(files)
                    data = open(victim, "rb").read()
                    rel = os.path.relpath(victim, work)
                    if fn is None:
                        new = mut_self_include(rng, data, os.path.relpath(victim, work))
                    else:
                        new = fn(rng, data)
                    open(victim, "wb").write(new)
                    rc, err, took = run(work, tmp, ts, a.timeout)
                    problem = None
                    if rc is None:
                        problem = "no answer within %gs" % a.timeout
                    elif rc not in (0, 1):
                        problem = "exit status %d" % rc
                    elif rc == 1 and not re.search(r"[\w.-]+\.(bst|conf|yml|yaml|refs)\b|project\.conf", err):
                        problem = "the error names no file"
                    elif "Sanitizer" in err or "runtime error:" in err:
                        problem = "sanitizer report"
                    ok = problem is None
                    stats[name][0 if ok else 1] += 1
                    if a.verbose:
                        print("   %s %s %s rc=%s %.1fs %s" % (name, os.path.basename(src), rel, rc, took,
                                                          err.strip().splitlines()[-1][:150] if err.strip() else ""))
                    if not ok:
                        keep = os.path.join(tmp, "..", "rill-mutate-fail-%d" % len(failures))
                        failures.append("%s on %s (%s in %s): %s; stderr: %s" % (
                            problem, src, name, rel, "kept in " + os.path.realpath(keep),
                            err.strip()[-300:]))
                        shutil.rmtree(keep, ignore_errors=True)
                        shutil.copytree(work, keep, symlinks=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, _ in MUTATIONS:
        good, bad = stats[name]
        if bad:
            print("FAIL mutate: %s: %d of %d runs misbehaved" % (name, bad, good + bad))
        else:
            print("ok mutate: %s: %d runs, each an answer or one error naming a file, within %gs%s" % (
                name, good, a.timeout, "" if SANITIZED else " and 1 GiB"))
    for f in failures[:20]:
        print("    " + f)
    return 1 if failures else 0


sys.exit(main())
