#!/usr/bin/env python3
"""compare-show — runs `bst show` (BuildStream 1.6.8) and `rill show` with the same format on
projects and compares their output element by element. For each project: every .bst of its
element path is a target; both tools run with --deps none; a project bst refuses must be refused
by rill too. Prints one line per differing element (with a diff when --diff) and totals.
bst prints %{vars} in an order that changes from run to run (its dict follows string hashes) and
with an internal "__bst_provenance_info" entry: the section between "%{vars}" and the next marker
is compared as the sorted list of its top-level entries (each entry byte for byte), without that
one; everything else byte for byte.
Usage: compare-show.py [--format F] [--diff] [--record DIR] PROJECT_DIR...
SPDX-License-Identifier: Apache-2.0"""
import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEP = "=====RILL-COMPARE====="
DEFAULT_FORMAT = SEP + "%{name}\n--vars--\n%{vars}\n--env--\n%{env}\n--config--\n%{config}\n--public--\n%{public}"


def normal(body):
    """The vars section as sorted entries (see above); the rest as it is."""
    if "--vars--\n" not in body or "\n--env--\n" not in body:
        return body
    head, rest = body.split("--vars--\n", 1)
    vars_text, tail = rest.split("\n--env--\n", 1)
    entries, cur = [], None
    for line in vars_text.rstrip("\n").split("\n"):
        if line and not line.startswith(" "):
            cur = [line]
            entries.append(cur)
        elif cur is not None:
            cur.append(line)
    keep = sorted("\n".join(e) for e in entries if not e[0].startswith("__bst_provenance_info:"))
    return head + "--vars--\n" + "\n".join(keep) + "\n--env--\n" + tail


def element_path(proj):
    try:
        text = open(os.path.join(proj, "project.conf"), encoding="utf-8", errors="replace").read()
    except OSError:
        return proj
    m = re.search(r"^element-path:\s*(\S+)", text, re.M)
    return os.path.join(proj, m.group(1)) if m else proj


def targets(proj):
    ep = element_path(proj)
    out = []
    for base, dirs, files in os.walk(ep):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if f.endswith(".bst"):
                out.append(os.path.relpath(os.path.join(base, f), ep))
    return out


def run(cmd, env):
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None, "", "timeout"


def split(out):
    res = {}
    for chunk in out.split(SEP)[1:]:
        name, _, body = chunk.partition("\n")
        res[name] = body
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--format", default=DEFAULT_FORMAT)
    ap.add_argument("--diff", action="store_true")
    ap.add_argument("projects", nargs="+")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rill-compare.")
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "cache"), XDG_CONFIG_HOME=os.path.join(tmp, "config"),
               HOME=tmp)
    same = differ = both_refuse = only_bst_refuses = only_rill_refuses = 0
    for proj in a.projects:
        ts = targets(proj)
        if not ts:
            continue
        args = ["show", "--deps", "none", "--format", a.format] + ts
        brc, bout, berr = run(["bst", "--no-colors", "-C", proj] + args, env)
        rrc, rout, rerr = run([os.path.join(TOP, "rill"), "-C", proj] + args, env)
        name = os.path.relpath(proj, os.path.commonpath(a.projects) if len(a.projects) > 1 else os.path.dirname(proj))
        if (brc != 0 or rrc != 0) and len(ts) > 1:
            # one element that fails stops the whole show: compare element by element
            for t in ts:
                args = ["show", "--deps", "none", "--format", a.format, t]
                brc, bout, berr = run(["bst", "--no-colors", "-C", proj] + args, env)
                rrc, rout, rerr = run([os.path.join(TOP, "rill"), "-C", proj] + args, env)
                if brc != 0 and "IndexError: Replacement index" in berr and a.format == DEFAULT_FORMAT:
                    # bst's show breaks on "{}" in one symbol's text followed by another symbol:
                    # one symbol per run
                    bout = rout = ""
                    for sym in ("vars", "env", "config", "public"):
                        f = SEP + "%{name}\n--" + sym + "--\n%{" + sym + "}\n"
                        brc, bo, berr = run(["bst", "--no-colors", "-C", proj, "show", "--deps", "none", "--format", f, t], env)
                        rrc, ro, rerr = run([os.path.join(TOP, "rill"), "-C", proj, "show", "--deps", "none", "--format", f, t], env)
                        if brc != 0 or rrc != 0:
                            break
                        bout += bo.replace(SEP + t + "\n", "", 1)
                        rout += ro.replace(SEP + t + "\n", "", 1)
                    bout, rout = SEP + t + "\n" + bout, SEP + t + "\n" + rout
                    if "--vars--\n" in bout:
                        bout = bout.replace("\n--env--\n", "\n\n--env--\n", 1)
                        rout = rout.replace("\n--env--\n", "\n\n--env--\n", 1)
                label = "%s %s" % (name, t)
                if brc != 0 and rrc != 0:
                    both_refuse += 1
                elif brc != 0:
                    only_bst_refuses += 1
                    print("ONLY-BST-REFUSES %s: %s" % (label, berr.strip().splitlines()[-1][:200] if berr.strip() else ""))
                elif rrc != 0:
                    only_rill_refuses += 1
                    print("ONLY-RILL-REFUSES %s: %s" % (label, rerr.strip().splitlines()[-1][:200] if rerr.strip() else ""))
                else:
                    bo, ro = normal(split(bout).get(t, "")), normal(split(rout).get(t, ""))
                    if bo == ro:
                        same += 1
                    else:
                        differ += 1
                        print("DIFF %s" % label)
                        if a.diff:
                            for l in difflib.unified_diff(bo.splitlines(), ro.splitlines(), "bst", "rill",
                                                          lineterm="", n=1):
                                print("    " + l)
            continue
        if brc != 0 or rrc != 0:
            if brc != 0 and rrc != 0:
                both_refuse += 1
            elif brc != 0:
                only_bst_refuses += 1
                print("ONLY-BST-REFUSES %s: %s" % (name, berr.strip().splitlines()[-1][:200] if berr.strip() else ""))
            else:
                only_rill_refuses += 1
                print("ONLY-RILL-REFUSES %s: %s" % (name, rerr.strip().splitlines()[-1][:200] if rerr.strip() else ""))
            continue
        b = {k: normal(v) for k, v in split(bout).items()}
        r = {k: normal(v) for k, v in split(rout).items()}
        for el in sorted(set(b) | set(r)):
            if b.get(el) == r.get(el):
                same += 1
            else:
                differ += 1
                print("DIFF %s %s" % (name, el))
                if a.diff:
                    for l in difflib.unified_diff((b.get(el) or "").splitlines(), (r.get(el) or "").splitlines(),
                                                  "bst", "rill", lineterm="", n=1):
                        print("    " + l)
    total = same + differ
    print("%d of %d elements identical; refused by both: %d, only by bst: %d, only by rill: %d "
          "(projects, or elements of projects that fail as a whole)" % (
        same, total, both_refuse, only_bst_refuses, only_rill_refuses))
    return 0 if differ == 0 and only_bst_refuses == 0 and only_rill_refuses == 0 else 1


sys.exit(main())
