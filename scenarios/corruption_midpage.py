"""Damage in the middle of a sub-buffer: the page header and the first half
of its events stay intact, the rest of the page is overwritten.  lastboot
keeps the events in front of the damage; mainline 7.3 drops the page."""

import corruption

TITLE = "damage in the middle of a sub-buffer: the events in front of it survive"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock")]
REQUIRES = {("6.12", "lastboot"): "F1"}


def run(t):
    cmp, destroyed = corruption.run_damaged(t, "events")
    if (t.base, t.flavour) == ("7.3", "stock"):
        # Mainline drops the whole page: more than the damage destroyed.
        for cpu, c in cmp.items():
            t.expect(c["missing"] > destroyed.get(cpu, 0),
                     "CPU %d: mainline lost only %d events, the damage destroyed %d (page no longer dropped?)"
                     % (cpu, c["missing"], destroyed.get(cpu, 0)))
