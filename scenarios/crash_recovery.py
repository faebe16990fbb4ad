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
        # Stock 6.12 (SPEC): the commit check does not mask the flag bits, so
        # a CPU whose commit page carries them is thrown away whole.
        dropped = [cpu for cpu, c in cmp.items() if c["recovered"] == 0]
        whole = [cpu for cpu, c in cmp.items() if c["missing"] == 0]
        t.figure("cpus_thrown_away", len(dropped))
        t.expect(sorted(dropped + whole) == sorted(cmp), "a CPU came back partly: %s" % cmp)
        t.expect(len(dropped) >= 1, "stock 6.12 kept every CPU: the SPEC's lost-CPU bug did not show")
        t.expect(bool(boot.dmesg_lines(r"buffer invalid commit")),
                 "stock 6.12 dropped a CPU without its 'buffer invalid commit' message")
    else:
        for cpu, c in cmp.items():
            t.expect(c["missing"] == 0, "CPU %d: %d of %d recorded events are missing"
                     % (cpu, c["missing"], c["recorded"]))
