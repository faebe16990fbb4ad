"""Consuming readers of a damaged boot instance always come back.

Record, crash, then overwrite with random bytes, on CPU 1 only, the
sub-buffers holding data: all of them, all but the last, or only the last
(CPU 0 stays whole). For each shape, on the same damaged bytes:
- boot_map: `trace` is read, then trace_pipe is drained with non-blocking
  reads (guest/drain.c), which return as soon as the pipe is empty;
- (lastboot 6.12) a backup of it: `trace`, then trace_pipe drained, then
  the consumed backup must remove itself; in another boot trace-cmd
  extracts it through trace_pipe_raw.
A reader that never returns hangs the guest: the boot times out and the
case fails. Each reader must show what `trace` showed, and `trace` must
show, per CPU, exactly the events of the sub-buffers that were not
damaged (harness/ringbuf.py reads them from the RAM image)."""

import random
import re

import _common
import ringbuf
import tracefile

TITLE = "trace_pipe and trace_pipe_raw of a damaged boot instance return, with every event left"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock")]
REQUIRES = {("6.12", "lastboot"): "F2"}

SHAPES = ("all", "all_but_last", "only_last")
DAMAGED_CPU = 1
BACKUP_CMDLINE = _common.RESERVE + " trace_instance=boot_map@trace,sched trace_instance=backup=boot_map"
# Boots that hang are the failure this case looks for: do not wait long.
TIMEOUT = 120

PIPE_STEP = """
I=$T/instances/{inst}
emit_file trace $I/trace
emit pipe drain_pipe $I /tmp/pipe
emit_file piped /tmp/pipe
{after}
"""
# The consumed backup goes by itself once closed for BACKUP_REAP_DELAY (5 s).
GONE = """
n=0
while [ -d $I ] && [ $n -lt 200 ]; do usleep 100000; n=$((n + 1)); done
emit gone sh -c "test ! -d $I && echo gone || echo present"
"""
RAW_STEP = """
cd /tmp
emit extract trace-cmd extract -B backup -o /tmp/raw.dat
emit raw trace-cmd report -i /tmp/raw.dat
"""


def pick(cpu, shape):
    """The sub-buffers of `cpu` holding data that the shape overwrites."""
    data = [sb for sb in cpu.subbufs if sb.nr_events > 0]
    return {"all": data, "all_but_last": data[:-1], "only_last": data[-1:]}[shape]


def damage(g, addr, size, base, shape, rng):
    """Overwrite the shape's sub-buffers; returns {cpu: events expected back}."""
    region = ringbuf.parse_region(g.read_phys(addr, size), base)
    expect = {}
    for c in region.cpus:
        hit = pick(c, shape) if c.cpu == DAMAGED_CPU else []
        for sb in hit:
            g.write_phys(addr + sb.offset, rng.randbytes(region.subbuf_size))
        expect[c.cpu] = sum(sb.nr_events for sb in c.subbufs if sb not in hit)
    return expect


def check_pipe(t, b, tag, expect):
    """The trace file shows what the damage left, the pipe shows the same."""
    trace = tracefile.Trace(b.section("trace"))
    piped = tracefile.Trace(b.section("piped"))
    t.expect(b.rc("pipe") == 0, "%s: draining trace_pipe failed (rc=%d): %s"
             % (tag, b.rc("pipe"), b.section("pipe")[-300:]))
    for cpu, n in sorted(expect.items()):
        t.note("%s: CPU %d: %d events in the undamaged sub-buffers, trace %d, trace_pipe %d"
               % (tag, cpu, n, trace.count(cpu), piped.count(cpu)))
        if t.flavour == "lastboot" or cpu != DAMAGED_CPU:
            t.expect(trace.count(cpu) == n, "%s: CPU %d: trace shows %d events, the undamaged "
                     "sub-buffers hold %d" % (tag, cpu, trace.count(cpu), n))
        t.expect(piped.count(cpu) == trace.count(cpu), "%s: CPU %d: trace_pipe gave %d events, trace %d"
                 % (tag, cpu, piped.count(cpu), trace.count(cpu)))
    return trace


def run(t):
    g = t.guest(smp=2)
    crashed, _ = _common.record_and_crash(t, g)
    where = ringbuf.find_region(crashed.console)
    t.require(where is not None, "the crashed boot did not print where the boot instance is mapped")
    addr, size = where
    clean = g.read_phys(addr, size)
    rng = random.Random(1)
    lastboot = t.flavour == "lastboot"
    for shape in SHAPES:
        g.write_phys(addr, clean)
        expect = damage(g, addr, size, t.base, shape, rng)
        damaged = g.read_phys(addr, size)
        t.figure("%s_events_left" % shape, sum(expect.values()))

        b = g.boot(PIPE_STEP.format(inst="boot_map", after=""), _common.READ_CMDLINE, timeout=TIMEOUT)
        t.expect(not b.complaints(), "%s: kernel complaints: %s" % (shape, b.complaints()[:5]))
        check_pipe(t, b, shape + " boot_map", expect)
        if not lastboot:
            continue

        g.write_phys(addr, damaged)
        b = g.boot(PIPE_STEP.format(inst="backup", after=GONE), BACKUP_CMDLINE, timeout=TIMEOUT)
        t.expect(not b.complaints(), "%s: kernel complaints: %s" % (shape, b.complaints()[:5]))
        trace = check_pipe(t, b, shape + " backup", expect)
        t.expect(b.section("gone").strip() == "gone", "%s: the consumed backup was not removed" % shape)

        g.write_phys(addr, damaged)
        b = g.boot(RAW_STEP, BACKUP_CMDLINE, timeout=TIMEOUT)
        t.expect(b.rc("extract") == 0, "%s: trace-cmd extract failed: %s" % (shape, b.section("extract")[-300:]))
        # trace-cmd prefixes lines with the instance name, but not the event
        # line that follows a "[EVENTS DROPPED]" line; only backup is in the file.
        raw = tracefile.Trace(re.sub(r"(?m)^backup:", "", b.section("raw")))
        for cpu in sorted(expect):
            t.expect(raw.count(cpu) == trace.count(cpu), "%s: CPU %d: trace_pipe_raw (trace-cmd) gave %d "
                     "events, trace %d" % (shape, cpu, raw.count(cpu), trace.count(cpu)))
