"""make bench, figures 4 and 6: what make check says.  The events the
corruption scenarios recover (make bench runs them), and the wall time of
the last full make check, cold and warm, from the records
scripts/check.sh keeps."""

import json
import os
import subprocess
import sys

import paths
from bench_common import note, section


def bench_recovery(res: dict) -> None:
    """Run make check's corruption scenarios and keep their figures."""
    p = subprocess.run([sys.executable, os.path.join(paths.TOP, "harness/run.py"), "-k", "corruption"])
    if p.returncode != 0:
        note("some corruption scenario failed: its row says so")
    out = {}
    for fn in sorted(os.listdir(paths.RESULTS)):
        if fn.startswith("corruption") and fn.endswith(".json"):
            with open(os.path.join(paths.RESULTS, fn)) as f:
                r = json.load(f)
            out[r["case"]] = {"ok": r["ok"], "figures": r["figures"]}
    res["recovery"] = out


def bench_check(res: dict) -> None:
    """The records of the last full make check, cold and warm (only reads them)."""
    out = {}
    for state in ("cold", "warm"):
        path = os.path.join(paths.CACHE, "make-check.%s.json" % state)
        if os.path.exists(path):
            with open(path) as f:
                out[state] = json.load(f)
    res["check"] = out


def report_recovery(w, res: dict) -> None:
    """Section 4 of BENCHMARKS.md."""
    if not section(w, res, "recovery", "4. Recovery quality"):
        return
    w("The corruption scenarios of `make check` (scenarios/corruption*.py), run")
    w("by `make bench`: events recovered of events recorded.")
    w("")
    w("| case | recovered / recorded | loss markers | passed |")
    w("|---|---|---|---|")
    for case, r in sorted(res["recovery"].items()):
        f = r["figures"]
        if "events_recorded" in f:
            w("| %s | %d / %d (%.1f%%) | %s | %s |" % (case, f["events_recovered"], f["events_recorded"],
                                                      100.0 * f["events_recovered"] / max(1, f["events_recorded"]),
                                                      f.get("loss_markers", "-"), "yes" if r["ok"] else "no"))
    w("")


CHECK_METHOD = """\
scripts/check.sh records each full run in `~/.cache/lastboot/make-check.{cold,warm}.json`
(cold: no kernel built before the run). CI runs it through `.ci/run`, which
sets transparent huge pages to `always` for the run (figure 8).
"""


def report_check(w, res: dict) -> None:
    """Section 6 of BENCHMARKS.md, always written: it reads records, it measures nothing."""
    w("## 6. The harness")
    w("")
    ck = res.get("check", {})
    for state in ("cold", "warm"):
        if state in ck:
            c = ck[state]
            thp = ", transparent huge pages %s" % c["thp"] if c.get("thp") else ""
            w("- `make check` %s: %d s wall, %s (%s%s)" % (state, c["seconds"], c["result"], c["date"], thp))
        else:
            w("- `make check` %s: not recorded on this machine" % state)
    w("")
    w(CHECK_METHOD)
