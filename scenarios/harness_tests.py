"""The harness's own unit tests (tests/, run on saved trace output with no
kernel): the parsers every scenario's verdict rests on."""

import os
import subprocess
import sys

TITLE = "harness unit tests (tests/test_*.py, no kernel)"
CASES = [("host", "selftest")]
NEEDS_KERNEL = False

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def run(t):
    p = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", "tests", "-v"],
                       cwd=TOP, capture_output=True, text=True, timeout=120)
    ran = [l for l in p.stderr.splitlines() if l.startswith("Ran ")]
    t.note(ran[0] if ran else "no test ran")
    t.expect(p.returncode == 0 and ran and ran[0] != "Ran 0 tests",
             "harness unit tests failed:\n%s" % p.stderr[-3000:])
