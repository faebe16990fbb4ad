"""Wrapped buffer: the function tracer fills a 16 MiB boot instance on both
CPUs until every CPU's part has wrapped (interrupts writing into it on top
of the task they interrupt), tracing is stopped, the kernel crashed with
sysrq.  The next boot must show every event the buffer held, per CPU,
read from its per-CPU trace files.

Found by make bench: the head page kept in the meta data can fall behind
the real head when an interrupt pushes the head while the writer it
interrupted is pushing it too, and it never catches up; the next boot
reads only from that stale page to the commit (a decoded stock 6.12
region: meta head 383 pages behind the commit, the real oldest page right
after the commit).  It is a race (about every other 64 MiB fill here), so
the stock cases report what they kept and only lastboot is held to all.
The host also decodes the RAM image right after the crash: nothing in
panic() corrects the head, so the recorded head must be the real one
(the page after the commit page of a wrapped ring) on lastboot, where
the writer keeps it right; a stale one is counted on every kernel."""

import os
import re

import _common

TITLE = "a buffer that wrapped many times comes back whole after a crash"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock")]
REQUIRES = {("6.12", "lastboot"): "F1"}

RESERVE = "reserve_mem=16M:4096:trace trace_instance=boot_map@trace"
WRITE_ON = int(os.environ.get("LASTBOOT_WRAP_WRITE_ON", "5"))

# Once every CPU has wrapped, it writes on for a while: every page it
# fills then moves the head, which is where the head can fall behind.
FILL_STEP = """
I=$T/instances/boot_map
fill_until_wrapped $I 120
echo 1 > $I/tracing_on
sleep {write_on}
echo 0 > $I/tracing_on
emit before sh -c "grep -H -e entries -e '^overrun' $I/per_cpu/cpu*/stats"
crash
"""

# The events are counted by reading them (per-CPU trace files), not from
# the entries figure the validation under test sets.
READ_STEP = """
I=$T/instances/boot_map
emit after sh -c "grep -H entries $I/per_cpu/cpu*/stats"
for d in $I/per_cpu/cpu*; do emit read_${d##*/} sh -c "grep -vc '^#' $d/trace"; done
"""


def per_cpu(text, field):
    return {int(m.group(1)): int(m.group(2))
            for m in re.finditer(r"cpu(\d+)/stats:%s: (\d+)" % field, text)}


def run(t):
    g = t.guest(smp=2, mem_mb=1280)
    b1 = g.boot(FILL_STEP.format(write_on=WRITE_ON), RESERVE, expect="panic", timeout=300)
    before, overrun = per_cpu(b1.section("before"), "entries"), per_cpu(b1.section("before"), "overrun")
    t.require(len(before) == g.smp, "no per-CPU figures before the crash: %r" % b1.section("before")[:200])
    t.figure("stale_heads", _common.check_recorded_heads(t, g, b1, strict=(t.flavour == "lastboot")))
    b2 = g.boot(READ_STEP, RESERVE, timeout=300)
    after = per_cpu(b2.section("after"), "entries")
    lost = 0
    for cpu in sorted(before):
        read = int(b2.section("read_cpu%d" % cpu).strip() or 0)
        t.note("CPU %d: %d events in the buffer at the crash (%d overwritten before), %d read back "
               "(the next boot's stats say %d)" % (cpu, before[cpu], overrun.get(cpu, 0), read, after.get(cpu, 0)))
        lost += max(0, before[cpu] - read)
        if t.flavour == "lastboot":
            t.expect(read == before[cpu], "CPU %d: %d events at the crash, %d read back after the reboot"
                     % (cpu, before[cpu], read))
            t.expect(after.get(cpu) == read, "CPU %d: stats count %d entries, %d events read"
                     % (cpu, after.get(cpu, 0), read))
    t.figure("events_at_crash", sum(before.values()))
    t.figure("events_lost", lost)
    t.expect(not b2.complaints(), "the kernel complained: %s" % b2.complaints()[:3])
