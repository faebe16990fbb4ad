"""Damage inside an event: between the boots the host sets the pid of one
event per CPU to -1, the bool field was_armed of one hrtimer_start event
per CPU to 115, and the type of one hrtimer_cancel event per CPU (16
bytes) to ftrace's context switch type (whose printer reads 24), leaving
every record header intact, so the buffer still frames correctly.  A reader of the `trace` file must not trust that
payload: lastboot shows a damaged-event marker in place of each; stock
kernels hand the pid to the saved-cmdline lookup, which warns, and load
the bool as such, which UBSAN reports on the debug kernel (the fuzz run
found that one: seed 174, an event mis-framed as irq_matrix_cpu)."""

import random
import struct

import _common
import rb_damage
import ringbuf

TITLE = "events with a damaged payload (pid -1, bool 115, a short event of a longer type): marked, kernel quiet"
TRACE_CTX = 2   # enum trace_type in kernel/trace/trace.h
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock"),
         ("6.12", "stock", "debug"), ("6.12", "lastboot", "debug")]
REQUIRES = {("6.12", "lastboot"): "F2"}


def run(t):
    g = t.guest(smp=2)
    crashed, recorded = _common.record_and_crash(
        t, g, prelude="emit hrtimer_start_format cat $T/events/timer/hrtimer_start/format\n"
                      "emit hrtimer_cancel_format cat $T/events/timer/hrtimer_cancel/format\n")
    type_id, fields = rb_damage.event_format(crashed.section("hrtimer_start_format"))
    t.require(type_id is not None and "was_armed" in fields,
              "no id or was_armed field in hrtimer_start's format")
    armed_off, armed_size, armed_type = fields["was_armed"]
    t.require((armed_size, armed_type) == (1, "bool"), "was_armed is %s of size %d" % (armed_type, armed_size))
    cancel_id, cancel_fields = rb_damage.event_format(crashed.section("hrtimer_cancel_format"))
    t.require(cancel_id is not None and "hrtimer" in cancel_fields, "no id or hrtimer field in hrtimer_cancel's format")
    where = ringbuf.find_region(crashed.console)
    t.require(where is not None, "the crashed boot did not print where the boot instance is mapped")
    addr, size = where
    region = ringbuf.parse_region(g.read_phys(addr, size), t.base)
    rng = random.Random(1)
    for cpu in range(g.smp):
        d = rb_damage.damage_event_pid(g.ram, addr, region, cpu, "middle", rng)
        t.note("CPU %d: pid of event %d of sub-buffer %d set to -1" % (cpu, d["event"], d["index"]))
        d = rb_damage.damage_event_field(g.ram, addr, region, cpu, type_id, armed_off, bytes([115]))
        t.note("CPU %d: was_armed of hrtimer_start event %d of sub-buffer %d set to 115"
               % (cpu, d["event"], d["index"]))
        d = rb_damage.damage_event_field(g.ram, addr, region, cpu, cancel_id, 0, struct.pack("<H", TRACE_CTX))
        t.note("CPU %d: hrtimer_cancel event %d of sub-buffer %d retyped as a context switch"
               % (cpu, d["event"], d["index"]))

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
        # The bool load happens only without KASLR: when the kernel moved,
        # a stock kernel prints a previous boot's TRACE_EVENT()s field by
        # field (print_trace_fmt()), which loads no bool.
        if t.variant == "debug":
            t.figure("ubsan_invalid_load_reports", sum("UBSAN: invalid-load" in l for l in complaints))
        return
    t.expect(not complaints, "the kernel complained: %s" % complaints[:3])
    damaged = [m for m in recovered.lost_markers if "DAMAGED EVENT" in m]
    t.expect(len(damaged) == 3 * g.smp, "expected three damaged-event markers per CPU, the trace shows %s"
             % recovered.lost_markers)
    for cpu, c in cmp.items():
        t.expect(c["missing"] == 3, "CPU %d: %d events missing, three events were damaged" % (cpu, c["missing"]))
        t.expect(c["invented"] == 0, "CPU %d shows %d events that were never recorded" % (cpu, c["invented"]))
