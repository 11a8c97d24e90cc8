#!/usr/bin/env python3
# rill-status-bar — an example consumer of `rill status --follow --json` (JSON lines, schema 1,
# docs/status-table.md) as an editor plugin would use it: it keeps the build's state (the
# "snapshot" record, then every change applied to it) and prints a one-line summary whenever
# that line changes. Exits with rill's exit status when the build ends.
#   rill-status-bar.py [-C DIR] [--dump]     (RILL: the rill command, default "rill")
# --dump: at the end, also print {element name: state} of the state kept, as one JSON object.
# SPDX-License-Identifier: Apache-2.0
import json
import os
import subprocess
import sys


def summary(state):
    ses = state["session"]
    if ses is None:
        return "rill: no build"
    cmd = ses["command"] or "build"
    status = state["status"]
    failed = sorted(e["name"] for e in state["elements"].values() if e["state"] == "failed")
    if status == "dead":
        running = [j["element"] for j in state["running_jobs"]]
        return "rill: %s: backend DIED (was running: %s)" % (cmd, ", ".join(running) or "nothing")
    if status == "running":
        running = sorted(j["element"] for j in state["jobs"].values() if j["result"] == "running")
        done = sum(1 for e in state["elements"].values() if e["state"] in ("cached", "failed", "skipped"))
        text = "rill: %s %d/%d" % (cmd, done, len(state["elements"]))
        if running:
            text += ", running: " + ", ".join(running)
        if failed:
            text += ", FAILED: " + ", ".join(failed)
        return text
    if status == "failed" and failed:
        return "rill: %s failed: %s" % (cmd, ", ".join(failed))
    return "rill: %s %s" % (cmd, status)


def apply(state, rec):
    """Fold one record of the stream into the state."""
    kind = rec["type"]
    if kind == "snapshot":
        if rec["schema"] != 1:
            sys.exit("rill-status-bar: unknown JSON schema %s" % rec["schema"])
        state.update(status=rec["status"], session=rec["session"], running_jobs=[],
                     elements={e["id"]: e for e in rec["elements"]},
                     jobs={j["id"]: j for j in rec["jobs"]})
    elif kind in ("element", "job"):
        state[kind + "s"][rec[kind]["id"]] = rec[kind]
    elif kind == "session":
        state["session"] = rec["session"]
    elif kind == "end":
        state.update(status=rec["status"], session=rec["session"], running_jobs=rec["running_jobs"])
    # "queue", "message" and "gap" records do not change this status line


def main(argv):
    rill = [os.environ.get("RILL", "rill")]
    dump = "--dump" in argv
    args = [a for a in argv if a != "--dump"]
    if args[:1] == ["-C"] and len(args) == 2:
        rill += ["-C", args[1]]
    elif args:
        sys.exit("usage: rill-status-bar.py [-C DIR] [--dump]")
    proc = subprocess.Popen(rill + ["status", "--follow", "--json"], stdout=subprocess.PIPE)
    state, last = {}, None
    for raw in proc.stdout:
        apply(state, json.loads(raw))
        line = summary(state)
        if line != last:
            print(line, flush=True)
            last = line
    rc = proc.wait()
    if dump and state:
        print(json.dumps({e["name"]: e["state"] for e in state["elements"].values()}, sort_keys=True))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
