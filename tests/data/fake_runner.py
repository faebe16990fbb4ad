"""Stands in for harness/run.py --child NAME in tests/test_harness.py: what
each case prints, and how it ends."""

import json
import sys

MARK = "@@lastboot-result "
name = sys.argv[2]
print("# %s: a note" % name)
if name.startswith("pass"):
    print(MARK + json.dumps([True, ""]))
elif name.startswith("fail"):
    print("# %s: FAIL: something" % name)
    print(MARK + json.dumps([False, ""]))
elif name.startswith("skip"):
    print(MARK + json.dumps([True, " # SKIP no such kernel"]))
else:
    sys.exit(3)     # died without a result
