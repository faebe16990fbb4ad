"""Corruption: as crash recovery, but between the boots the host overwrites
one sub-buffer page per CPU (one in the middle of the data) with random
bytes.  Every event outside the damaged pages should come back, with a loss
marker where they were."""

import os
import random

import _common
import ringbuf

TITLE = "one random-byte page per CPU: the rest of the boot instance survives"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock")]
REQUIRES = {("6.12", "lastboot"): "F2"}
SEED = int(os.environ.get("LASTBOOT_SEED", "1"))


def run(t):
    g = t.guest(smp=2)
    crashed, recorded = _common.record_and_crash(t, g)
    where = ringbuf.find_region(crashed.console)
    t.require(where is not None, "the crashed boot did not print where the boot instance is mapped")
    addr, size = where
    region = ringbuf.parse_region(g.read_phys(addr, size), t.base)
    rng = random.Random(SEED)
    destroyed = {}
    for cpu in range(g.smp):
        d = ringbuf.corrupt_subbuf(g.ram, addr, region, cpu, "middle", rng)
        destroyed[cpu] = d["events_destroyed"]
        t.note("CPU %d: sub-buffer %d (offset 0x%x) overwritten, it held %d events"
               % (cpu, d["index"], d["offset"], d["events_destroyed"]))
    t.figure("events_in_damaged_pages", sum(destroyed.values()))

    boot, recovered = _common.read_back(t, g)
    cmp = _common.report(t, recorded, recovered)
    outside = recorded.count() - sum(destroyed.values())
    t.figure("events_outside_damage", outside)

    if (t.base, t.flavour) == ("6.12", "stock"):
        # Stock 6.12 (SPEC): one bad page throws the whole CPU away.
        t.expect(recovered.count() == 0, "stock 6.12 recovered %d events; SPEC says none" % recovered.count())
        return
    for cpu, c in cmp.items():
        t.expect(c["invented"] == 0, "CPU %d shows %d events that were never recorded" % (cpu, c["invented"]))
        t.expect(c["missing"] <= destroyed.get(cpu, 0),
                 "CPU %d: %d events missing but the damaged page held only %d"
                 % (cpu, c["missing"], destroyed.get(cpu, 0)))
    if t.flavour == "lastboot":
        t.expect(len(recovered.lost_markers) >= g.smp,
                 "expected a loss marker per damaged CPU, the trace shows %d" % len(recovered.lost_markers))
