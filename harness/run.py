#!/usr/bin/env python3
"""lastboot scenario runner: builds the kernels the scenarios need, runs each
scenario case, prints KTAP, and ends with one line "N passed, N failed".

What a scenario is: harness/scenario.py.  How cases are run side by side
while kernels build: harness/scheduler.py.  The output: harness/ktap.py.

Usage: run.py [-k SUBSTRING] [-j JOBS] [--list] [--keep]
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario  # noqa: E402
import scheduler  # noqa: E402
from paths import RESULTS  # noqa: E402


def child_main(name):
    """run.py --child NAME: one case, for the scheduler; its last line is the
    result, which the parent turns into the KTAP line."""
    for case in scenario.load_scenarios():
        if case.name == name:
            ok, directive = scenario.run_case(case)
            print(scheduler.RESULT_MARK + json.dumps([ok, directive]), flush=True)
            return 0
    print("# no case %s" % name)
    return 2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", action="append", default=[], help="run only cases whose name contains this")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("LASTBOOT_JOBS", "2")),
                    help="cases run side by side once no kernel is building (default 2)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--keep", action="store_true", help="keep RAM files and logs of passed cases")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    if args.child:
        return child_main(args.child)

    cases = [c for c in scenario.load_scenarios() if not args.k or any(k in c.name for k in args.k)]
    if args.list:
        for c in cases:
            print(c.name + ("  (needs %s)" % c.needs if c.needs else ""))
        return 0
    if not cases:
        print("no scenario matches %s" % args.k, file=sys.stderr)
        return 2
    ok = scheduler.Scheduler(cases, args.jobs, args.keep, os.path.abspath(__file__)).run()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
