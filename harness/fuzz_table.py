#!/usr/bin/env python3
"""The table of a fuzz campaign from what `make fuzz` printed: one row per
log, whole or cut short (a campaign runs for hours, in parts).

Usage: python3 harness/fuzz_table.py LOG...   (each LOG: the output of one
`make fuzz SEED=.. N=.. MODE=..` run; docs/fuzz-campaign.md says which).

A seed that failed is classed by what fuzz.py said of it: the kernel
complained (oops, WARN, KASAN/UBSAN report, lockup: any line harness/vm.py
calls a complaint), the boot or its reader did not finish (a hang), the
trace showed fewer events than the undamaged sub-buffers hold, or a line
that is not an event."""

import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vm import COMPLAINT  # noqa: E402

SEED = re.compile(r"^\[fuzz\] \d+/\d+ seed (\d+), (\S+): (ok|FAIL: (.*)) \((.*)\) (\d+) s$")
SAVED = re.compile(r"^\[fuzz\] region saved in (\S+):")
REPLAY = re.compile(r"^\[fuzz\] replaying the region saved in (\S+) ")
NAME = re.compile(r"with fuzz\[([^\]]+)\]|saved in \S*/fuzz-([\w.-]+?)-\d{8}-\d{6}\.region")


def classify(problem):
    if problem.startswith("kernel complained") or "panicked" in problem or COMPLAINT.search(problem):
        return "complaint"
    if "timed out" in problem or "did not finish" in problem or "never finished" in problem:
        return "hang"
    if "undamaged sub-buffers hold" in problem:
        return "short"
    if "not an event" in problem:
        return "unrecognised"
    return "other"


def summarize(path):
    seeds, fails, secs, region, name = [], {}, [], None, "?"
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = SAVED.match(line) or REPLAY.match(line)
            if m:
                region = m.group(1)
            m = NAME.search(line)
            if m and name == "?":
                name = m.group(1) or m.group(2)
            m = SEED.match(line)
            if m:
                seeds.append(int(m.group(1)))
                secs.append(int(m.group(6)))
                if m.group(4) is not None:
                    fails[int(m.group(1))] = classify(m.group(4))
    build = "?"
    if region:
        try:
            with open(region + ".json") as f:
                build = json.load(f)["build_id"][:12]
        except (OSError, ValueError, KeyError):
            pass
    return {"name": name, "seeds": seeds, "fails": fails, "secs": secs, "build": build}


def row(s):
    if not s["seeds"]:
        return "| %s | - | 0 | | | | | | |" % s["name"]
    kinds = list(s["fails"].values())
    return "| %s | %d-%d | %d | %d | %d | %d | %d | %s | %s |" % (
        s["name"], min(s["seeds"]), max(s["seeds"]), len(s["seeds"]), len(s["seeds"]) - len(s["fails"]),
        kinds.count("complaint"), kinds.count("hang"), kinds.count("short") + kinds.count("unrecognised")
        + kinds.count("other"), "%.0f" % statistics.median(s["secs"]), s["build"])


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    print("| campaign | seeds | boots | clean | kernel complaints | hangs | other failures | median s/boot | kernel build id |")
    print("|---|---|---|---|---|---|---|---|---|")
    failed = []
    for path in argv:
        s = summarize(path)
        print(row(s))
        failed += ["%d (%s)" % kv for kv in sorted(s["fails"].items())]
    if failed:
        print("\nFailed seeds: " + ", ".join(failed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
