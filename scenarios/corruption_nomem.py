"""A damaged ring validated without memory for its state: record on two
CPUs, crash, and damage three sub-buffers of CPU 1 in the RAM image (one
of random bytes, one cut in its middle, one sound but stamped far in the
future). Boot again with CPU 1 down, make the allocation of the state of
a damaged ring's validation (rb_boot_alloc_subbufs()) fail through
fail_function, and bring CPU 1 up: its part is validated then, without
that state. Exactly the damaged events may be missing, with a loss marker;
the page out of time order costs only its own events. A kernel that
resets the CPU when the allocation fails loses all of them."""

import random

import _common
import rb_damage
import ringbuf
import tracefile

TITLE = "a damaged ring whose validation state cannot be allocated keeps its sound pages"
CASES = [("6.12", "lastboot", "debug")]
REQUIRES = {("6.12", "lastboot"): "F2"}

STEP = """
I=$T/instances/boot_map
F=/sys/kernel/debug/fail_function
emit online_at_start cat /sys/devices/system/cpu/online
echo rb_boot_alloc_subbufs > $F/inject
echo 100 > $F/probability
echo -1 > $F/times
echo 1 > $F/verbose
echo 1 > /sys/devices/system/cpu/cpu1/online
echo > $F/inject
emit_file recovered $I/trace
emit dmesg dmesg
"""

# Where in CPU 1's ring order (a fraction of its pages with events) each
# damage goes: far enough apart that no two are neighbours.
DAMAGE = (("random bytes", 0.25), ("cut in its middle", 0.5), ("stamped in the future", 0.75))


def damage(t, g, crashed):
    """Damage three sub-buffers of CPU 1; returns the events they destroyed."""
    where = ringbuf.find_region(crashed.console)
    t.require(where is not None, "the crashed boot did not print where the boot instance is mapped")
    addr, size = where
    region = ringbuf.parse_region(g.read_phys(addr, size), t.base)
    cpu = region.cpu(1)
    t.require(cpu is not None and cpu.valid, "CPU 1's ring did not decode after the crash")
    full = [sb for sb in cpu.subbufs if sb.nr_events > 0]
    t.require(len(full) >= 8, "CPU 1 filled only %d sub-buffers" % len(full))
    rng = random.Random(1)
    destroyed = 0
    for what, at in DAMAGE:
        index = full[int(len(full) * at)].index
        if what == "random bytes":
            d = rb_damage.corrupt_subbuf(g.ram, addr, region, 1, index, rng)
        elif what == "cut in its middle":
            d = rb_damage.corrupt_event_in_subbuf(g.ram, addr, region, 1, index, rng)
        else:
            d = rb_damage.stamp_subbuf_later(g.ram, addr, region, 1, index, rng)
        t.note("CPU 1: sub-buffer %d (ring position %d) %s: %d events destroyed"
               % (index, d["ring_pos"], what, d["events_destroyed"]))
        destroyed += d["events_destroyed"]
    return destroyed


def run(t):
    g = t.guest(smp=2)
    crashed, recorded = _common.record_and_crash(t, g)
    destroyed = damage(t, g, crashed)
    b = g.boot(STEP, _common.READ_CMDLINE + " maxcpus=1", timeout=240)
    t.require(b.section("online_at_start").strip() == "0", "CPU 1 was up from the start: %r"
              % b.section("online_at_start"))
    dmesg = b.section("dmesg")
    t.expect("FAULT_INJECTION: forcing a failure" in dmesg,
             "fail_function did not fail rb_boot_alloc_subbufs(): the case tested nothing")
    t.expect("Ring buffer meta [1] no memory to order" in dmesg,
             "CPU 1's validation did not report that it went on without its state")
    recovered = tracefile.Trace(b.section("recovered"))
    cmp = _common.report(t, recorded, recovered)
    t.figure("events_destroyed", destroyed)
    c1 = cmp.get(1, {"recovered": 0, "missing": recorded.count(1), "invented": 0})
    t.expect(c1["missing"] == destroyed, "CPU 1: %d events missing, the damage destroyed %d"
             % (c1["missing"], destroyed))
    t.expect(c1["invented"] == 0, "CPU 1 shows %d events never recorded" % c1["invented"])
    t.expect(cmp.get(0, {}).get("missing") == 0, "CPU 0, undamaged, lost events: %s" % cmp.get(0))
    t.expect(len(recovered.lost_markers) >= 2, "%d loss markers for two separate losses on CPU 1"
             % len(recovered.lost_markers))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
