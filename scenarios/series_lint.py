"""Series lint: every patch applies with git am onto the pinned base and is
checkpatch.pl --strict clean (a missing Signed-off-by excepted)."""

import os
import subprocess

TITLE = "the series applies on the pinned base and is checkpatch --strict clean"
CASES = [("6.12", "lint"), ("7.3", "lint")]
NEEDS_KERNEL = False


def run(t):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lint-series.sh")
    p = subprocess.run([script, t.base], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t.note(p.stdout.rstrip())
    if p.returncode == 2:
        t.skip("series/%s is empty" % t.base)
    t.expect(p.returncode == 0, "series/%s has lint problems (see above)" % t.base)
