"""Corruption: as crash recovery, but between the boots the host overwrites
one sub-buffer page per CPU (one in the middle of the data) with random
bytes.  Every event outside the damaged pages should come back, with a loss
marker where they were."""

import os
import random

import _common
import rb_damage
import ringbuf
import tracefile

TITLE = "one random-byte page per CPU: the rest of the boot instance survives"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock")]
REQUIRES = {("6.12", "lastboot"): "F2"}
SEED = int(os.environ.get("LASTBOOT_SEED", "1"))


# Consuming readers, each in a boot of its own on the same damaged region:
# trace_pipe, and trace-cmd reading trace_pipe_raw.
PIPE_STEP = """
drain_pipe $T/instances/boot_map /tmp/pipe
emit_file pipe /tmp/pipe
"""
RAW_STEP = """
cd /tmp && trace-cmd extract -B boot_map -o /tmp/raw.dat > /dev/null 2>&1
emit raw trace-cmd report -i /tmp/raw.dat
"""


def damage(t, g, crashed, mode):
    """Damage one middle sub-buffer per CPU; returns {cpu: events lost},
    the events the damage destroyed."""
    where = ringbuf.find_region(crashed.console)
    t.require(where is not None, "the crashed boot did not print where the boot instance is mapped")
    addr, size = where
    region = ringbuf.parse_region(g.read_phys(addr, size), t.base)
    rng = random.Random(SEED)
    destroyed = {}
    for cpu in range(g.smp):
        if mode == "page":
            d = rb_damage.corrupt_subbuf(g.ram, addr, region, cpu, "middle", rng)
            kept = 0
        else:
            # "events": a null padding word first, which ends every walk
            # there (truncation); "events_random": random bytes from the
            # middle event on, which frame as events of their own.
            d = rb_damage.corrupt_event_in_subbuf(g.ram, addr, region, cpu, "middle", rng,
                                                  poison=(mode == "events"))
            kept = d["events_before_damage"]
        destroyed[cpu] = d["events_destroyed"]
        t.note("CPU %d: sub-buffer %d (offset 0x%x) damaged from byte %d: %d events before the damage, %d in it"
               % (cpu, d["index"], d["offset"], d.get("damage_offset", d["offset"]) - d["offset"],
                  kept, d["events_destroyed"]))
    t.figure("events_destroyed", sum(destroyed.values()))
    t.damaged_region = (addr, g.read_phys(addr, size))
    return destroyed


def check_consuming_readers(t, g, recovered):
    """trace_pipe and trace-cmd (trace_pipe_raw) show the same events as
    `trace` and a loss marker per damaged CPU."""
    addr, damaged = t.damaged_region
    for section, step in (("pipe", PIPE_STEP), ("raw", RAW_STEP)):
        g.write_phys(addr, damaged)
        b = g.boot(step, _common.READ_CMDLINE, timeout=180)
        seen = tracefile.Trace(b.section(section))
        t.note("%s: %d events, loss markers: %s" % (section, seen.count(), seen.lost_markers[:4]))
        t.expect(seen.count() == recovered.count(), "%s shows %d events, trace showed %d"
                 % (section, seen.count(), recovered.count()))
        t.expect(len(seen.lost_markers) >= g.smp, "%s shows %d loss markers, expected one per damaged CPU"
                 % (section, len(seen.lost_markers)))


def run_damaged(t, mode):
    g = t.guest(smp=2)
    crashed, recorded = _common.record_and_crash(t, g)
    destroyed = damage(t, g, crashed, mode)
    boot, recovered = _common.read_back(t, g)
    cmp = _common.report(t, recorded, recovered)
    t.figure("events_outside_damage", recorded.count() - sum(destroyed.values()))

    if (t.base, t.flavour) == ("6.12", "stock"):
        # Stock 6.12 (SPEC): one bad page throws the whole CPU away.
        for cpu, c in cmp.items():
            t.expect(c["recovered"] == 0, "stock 6.12 recovered %d events of damaged CPU %d; SPEC says none"
                     % (c["recovered"], cpu))
        return cmp, destroyed
    # Random bytes framed as events of a known type cannot be told from
    # recorded ones (corruption_random_midpage counts them instead).
    if mode != "events_random":
        for cpu, c in cmp.items():
            t.expect(c["invented"] == 0, "CPU %d shows %d events that were never recorded"
                     % (cpu, c["invented"]))
    if t.flavour == "lastboot":
        # Exactly the destroyed events are missing, and the loss is marked.
        for cpu, c in cmp.items():
            t.expect(c["missing"] == destroyed.get(cpu, 0),
                     "CPU %d: %d events missing, the damage destroyed %d"
                     % (cpu, c["missing"], destroyed.get(cpu, 0)))
        t.expect(len(recovered.lost_markers) >= g.smp,
                 "expected a loss marker per damaged CPU, the trace shows %d" % len(recovered.lost_markers))
        t.expect(bool(boot.dmesg_lines(r"Ring buffer meta \[\d+\] \d+ of \d+ sub-buffers dropped")),
                 "no per-CPU boot-log line about dropped sub-buffers")
        check_consuming_readers(t, g, recovered)
    return cmp, destroyed


def run(t):
    cmp, destroyed = run_damaged(t, "page")
    if (t.base, t.flavour) == ("7.3", "stock"):
        # Mainline drops exactly the damaged page.
        for cpu, c in cmp.items():
            t.expect(c["missing"] == destroyed.get(cpu, 0), "CPU %d: %d missing, the damaged page held %d"
                     % (cpu, c["missing"], destroyed.get(cpu, 0)))
