"""Crash recovery: sched/timer/irq events recorded into a reserve_mem boot
instance, a sysrq crash, a warm reboot, and what the `trace` file shows
compared with what was recorded, per CPU."""

import _common

TITLE = "events recorded before a crash are readable after a warm reboot"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock")]
REQUIRES = {("6.12", "lastboot"): "F1"}


def run(t):
    g = t.guest(smp=2)
    _, recorded = _common.record_and_crash(t, g)
    boot, recovered = _common.read_back(t, g)
    cmp = _common.report(t, recorded, recovered)

    for cpu, c in cmp.items():
        t.expect(c["invented"] == 0, "CPU %d shows %d events that were never recorded" % (cpu, c["invented"]))

    if (t.base, t.flavour) == ("6.12", "stock"):
        # Stock 6.12 validates a whole CPU at once: a CPU comes back whole or
        # is thrown away whole ("buffer invalid commit" when a sub-buffer's
        # commit carries the reader's missed-events flag bits).
        dropped = [cpu for cpu, c in cmp.items() if c["recovered"] == 0 and c["recorded"]]
        t.figure("cpus_thrown_away", len(dropped))
        for cpu, c in cmp.items():
            t.expect(c["missing"] in (0, c["recorded"]), "CPU %d came back partly: %s" % (cpu, c))
        if dropped:
            t.expect(bool(boot.dmesg_lines(r"Ring buffer boot meta \[\d+\]")),
                     "stock 6.12 dropped a CPU without saying why in the boot log")
    else:
        for cpu, c in cmp.items():
            t.expect(c["missing"] == 0, "CPU %d: %d of %d recorded events are missing"
                     % (cpu, c["missing"], c["recorded"]))
