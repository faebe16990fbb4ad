"""The host-side region parser that the corruption scenarios rely on checks
itself on synthetic regions of both layouts, and on garbage."""

import ringbuf

TITLE = "harness/ringbuf.py self-test (synthetic 6.12 and 7.3 regions, garbage)"
CASES = [("host", "selftest")]
NEEDS_KERNEL = False


def run(t):
    t.expect(ringbuf.selftest(), "ringbuf self-test failed (run: python3 harness/ringbuf.py --selftest)")
