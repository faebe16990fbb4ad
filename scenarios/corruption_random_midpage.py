"""Random bytes from the middle of a sub-buffer on: the page header and its
first events stay intact, the rest of the page (the middle event's header
included) is overwritten with random bytes, which frame as events of their
own: lengths, types and time deltas drawn at random, up to the page's
recorded commit.  (corruption_midpage starts its damage with a null padding
word, which ends every walk: it tests truncation.)

lastboot must keep the events in front of the damage and every event of
the other sub-buffers, print no line that is not an event or a loss marker
(harness/tracefile.py fails on any: "Unknown type 64384" with pid
807119240 and a time of 15715790 s was what the random bytes printed
before the fix), mark the loss, and let every reader finish.  What the
random bytes frame as an event of a known type, with a payload that passes
its checks, cannot be told from a recorded one: those are counted
(figure events_invented), not held to zero."""

import corruption

TITLE = "random bytes from the middle of a sub-buffer on: no garbage line, the rest survives"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock")]
REQUIRES = {("6.12", "lastboot"): "F2"}


def run(t):
    cmp, destroyed = corruption.run_damaged(t, "events_random")
    t.figure("events_invented", sum(c["invented"] for c in cmp.values()))
