"""The host-side region parser that the corruption scenarios rely on checks
itself on synthetic regions of both layouts, and on garbage."""

import contextlib
import io

import ringbuf

TITLE = "harness/ringbuf.py self-test (synthetic 6.12 and 7.3 regions, garbage)"
CASES = [("host", "selftest")]
NEEDS_KERNEL = False


def run(t):
    # The self-test prints its own "N passed, N failed" line; keep it out of
    # the run's output, which must end with exactly one such line.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ok = ringbuf.selftest()
    t.note(out.getvalue().strip().replace("passed,", "checks passed,"))
    t.expect(ok, "ringbuf self-test failed (run: python3 harness/ringbuf.py --selftest)")
