"""Damage inside an event: between the boots the host sets the pid of one
event per CPU to -1 and leaves every record header intact, so the buffer
still frames correctly.  A reader of the `trace` file must not trust that
payload: lastboot shows a damaged-event marker in its place; stock kernels
hand the pid to the saved-cmdline lookup, which warns."""

import random

import _common
import ringbuf

TITLE = "an event with a damaged payload (pid -1): marked, and the kernel stays quiet"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock")]
REQUIRES = {("6.12", "lastboot"): "F2"}


def run(t):
    g = t.guest(smp=2)
    crashed, recorded = _common.record_and_crash(t, g)
    where = ringbuf.find_region(crashed.console)
    t.require(where is not None, "the crashed boot did not print where the boot instance is mapped")
    addr, size = where
    region = ringbuf.parse_region(g.read_phys(addr, size), t.base)
    rng = random.Random(1)
    for cpu in range(g.smp):
        d = ringbuf.damage_event_pid(g.ram, addr, region, cpu, "middle", rng)
        t.note("CPU %d: pid of event %d of sub-buffer %d set to -1" % (cpu, d["event"], d["index"]))

    boot, recovered = _common.read_back(t, g)
    cmp = _common.report(t, recorded, recovered)
    complaints = boot.complaints()
    t.note("kernel complaints: %s" % (complaints[:3] or "none"))
    t.figure("kernel_complaints", len(complaints))

    if t.flavour == "stock":
        # The bug this scenario shows: a pid read from the old memory reaches
        # a WARN_ON_ONCE() in the saved-cmdline lookup.
        t.expect(any("__trace_find_cmdline" in l for l in complaints),
                 "stock kernel did not warn in __trace_find_cmdline on pid -1 (fixed upstream?)")
        return
    t.expect(not complaints, "the kernel complained: %s" % complaints[:3])
    damaged = [m for m in recovered.lost_markers if "DAMAGED EVENT" in m]
    t.expect(len(damaged) == g.smp, "expected one damaged-event marker per CPU, the trace shows %s"
             % recovered.lost_markers)
    for cpu, c in cmp.items():
        t.expect(c["missing"] == 1, "CPU %d: %d events missing, one event was damaged" % (cpu, c["missing"]))
        t.expect(c["invented"] == 0, "CPU %d shows %d events that were never recorded" % (cpu, c["invented"]))
