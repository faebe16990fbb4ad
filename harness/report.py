#!/usr/bin/env python3
"""Print the stock-versus-lastboot table from the last scenario results
($LASTBOOT_CACHE/results/*.json, written by harness/run.py).

Usage: make report   (after make check or make scenarios)
"""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paths  # noqa: E402

ROWS = [
    ("crash_recovery", "nothing corrupted"),
    ("corruption", "one 4 KiB sub-buffer per CPU overwritten with random bytes"),
    ("corruption_midpage", "one sub-buffer per CPU cut at its middle event (a null word, then random bytes)"),
    ("corruption_random_midpage", "one sub-buffer per CPU overwritten with random bytes from its middle event on"),
]
COLUMNS = [("6.12-stock", "stock 6.12.117"), ("6.12-lastboot", "lastboot 6.12"), ("7.3-stock", "stock 7.3.4")]


def load():
    out = {}
    for path in glob.glob(os.path.join(paths.CACHE, "results", "*.json")):
        with open(path) as f:
            r = json.load(f)
        out[r["case"]] = r
    return out


def cell(r):
    if r is None:
        return "not run"
    f = r["figures"]
    if "events_recorded" not in f:
        return "failed" if not r["ok"] else "?"
    rec, back = f["events_recorded"], f["events_recovered"]
    s = "%d of %d (%.1f%%)" % (back, rec, 100.0 * back / rec if rec else 0)
    if f.get("loss_markers"):
        s += ", %d loss markers" % f["loss_markers"]
    if not r["ok"]:
        s += " [FAILED]"
    return s


def main():
    res = load()
    print("| case | " + " | ".join(c[1] for c in COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for scen, label in ROWS:
        cells = [cell(res.get("%s[%s]" % (scen, col))) for col, _ in COLUMNS]
        print("| %s | %s |" % (label, " | ".join(cells)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
