"""Steps shared by the trace scenarios: record into a boot instance, crash,
warm-reboot, read back."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import ringbuf  # noqa: E402
import tracefile  # noqa: E402

RESERVE = "reserve_mem=8M:4096:trace"
RECORD_CMDLINE = RESERVE + " trace_instance=boot_map@trace,sched,timer,irq"
# The reading boot maps the same region but enables no event, so what it
# shows is only what the crashed boot left.
READ_CMDLINE = RESERVE + " trace_instance=boot_map@trace"

# KHO sizes its scratch areas from what memblock reserved, twice over by
# default, which with KASAN's shadow does not fit in the guests' 1 GiB:
# the pstore cases on the KASAN build set them.
KHO_SCRATCH_KASAN = "kho_scratch=16M,256M,16M"

# The snapshot of what was recorded is taken with the instance paused, so
# that it is exact; then recording goes on, the workload still running, until
# the crash hits CPUs in the middle of writing events, as a real one does.
# Numbered markers on every CPU show whether what came back after the
# snapshot is an unbroken continuation of it.
RECORD_STEP = """
I=$T/instances/boot_map
workload $(({seconds} + 30)) &
seq_markers $I/trace_marker
sleep {seconds}
echo 0 > $I/tracing_on
emit_file recorded $I/trace
echo 1 > $I/tracing_on
sleep 1
echo "lastboot-crash-clock $(grep 'now ts' $I/per_cpu/cpu0/stats)" > /dev/kmsg
crash
"""

READ_STEP = """
I=$T/instances/boot_map
emit_file recovered $I/trace
emit dmesg dmesg
"""


def record_and_crash(t, g, seconds=2, cmdline=RECORD_CMDLINE, prelude=""):
    """Boot 1: record events, snapshot them, panic.  Returns (boot, Trace).
    `prelude`: guest commands run first (to write a marker, say)."""
    b = g.boot(prelude + RECORD_STEP.format(seconds=seconds), cmdline, expect="panic", timeout=180)
    rec = tracefile.Trace(b.section("recorded"))
    t.require(rec.count() > 0, "nothing was recorded in the boot instance before the crash")
    for cpu in range(g.smp):
        t.require(rec.count(cpu) > 0, "CPU %d recorded no event before the crash" % cpu)
    return b, rec


def read_back(t, g, cmdline=READ_CMDLINE):
    """Boot 2 on the same RAM: read the boot instance.  Returns (boot, Trace)."""
    b = g.boot(READ_STEP, cmdline, timeout=180)
    return b, tracefile.Trace(b.section("recovered"))


# The crashed boot's trace clock read right before the crash; stock kernels
# go on recording through panic() for a while after it.  An event stamped
# later than CRASH_SLACK seconds after that reading was never recorded by
# that boot.  (The console's time stamps are of another clock, which drifts
# from the trace clock under QEMU by tenths of a second.)
CRASH_SLACK = 0.5


def crash_time(boot):
    """The latest trace time stamp the crashed boot can have written."""
    # Through the kernel log: panic() flushes it to the console, where the
    # data port may lose what the step wrote last.
    m = re.search(r"lastboot-crash-clock now ts:\s*(\d+\.\d+)", boot.console)
    return float(m.group(1)) + CRASH_SLACK if m else None


def report(t, recorded, recovered, prefix="", crash_ts=None):
    """Figures per CPU and in total; returns the per-CPU comparison."""
    cmp = tracefile.compare(recorded, recovered, crash_ts)
    for cpu, c in cmp.items():
        t.note("%sCPU %d: %d recorded, %d back, %d missing (%d of them older than all that came back), "
               "%d never recorded" % (prefix, cpu, c["recorded"], c["recovered"], c["missing"],
                                      c["overwritten"], c["invented"]))
    t.figure(prefix + "events_recorded", recorded.count())
    t.figure(prefix + "events_recovered", sum(c["recovered"] for c in cmp.values()))
    t.figure(prefix + "loss_markers", len(recovered.lost_markers))
    if crash_ts is not None:
        t.figure(prefix + "events_after_crash", sum(c["late"] for c in cmp.values()))
    return cmp


def check_markers(t, recorded, recovered, prefix=""):
    """Per CPU, the lb-seq markers that came back form one unbroken run that
    holds the snapshot's last marker (what followed the snapshot continues
    it), each shown on the CPU that wrote it."""
    runs = tracefile.marker_runs(recovered)
    snap = tracefile.marker_runs(recorded)
    t.expect(not recovered.misplaced_markers, "%smarkers shown on another CPU than their writer's: %s"
             % (prefix, recovered.misplaced_markers[:3]))
    for cpu, (first, last, gaps) in sorted(snap.items()):
        t.require(cpu in runs, "%sCPU %d: none of its markers came back" % (prefix, cpu))
        got_first, got_last, got_gaps = runs[cpu]
        t.note("%sCPU %d: markers %d..%d back (snapshot ended at %d), breaks: %s"
               % (prefix, cpu, got_first, got_last, last, got_gaps[:5]))
        t.expect(not got_gaps, "%sCPU %d: the markers that came back are not one unbroken run: %s"
                 % (prefix, cpu, got_gaps[:5]))
        t.expect(got_first <= last <= got_last, "%sCPU %d: the markers back (%d..%d) do not hold the "
                 "snapshot's last one (%d)" % (prefix, cpu, got_first, got_last, last))


def ring_slots(cpu):
    """Slots of a decoded CPU's ring pages in list order (ids 1..n-1)."""
    return cpu.buffers[1:]


def real_head(cpu, ahead=1):
    """The slot `ahead` pages after the commit page in list order: with 1,
    the oldest page of a wrapped ring, its real head."""
    ring = ring_slots(cpu)
    return ring[(ring.index(cpu.commit_index) + ahead) % len(ring)]


def check_recorded_heads(t, g, crashed, strict):
    """Decode the RAM image the crash left and compare each CPU's recorded
    head with its real one (the page after the commit page of a wrapped
    ring); with `strict`, a stale head fails the case.  Nothing in panic()
    corrects the head, so this is what a crash that runs no kernel code
    hands over.  Returns the number of stale heads."""
    where = ringbuf.find_region(crashed.console)
    t.require(where is not None, "the crashed boot did not print where the boot instance is mapped")
    region = ringbuf.parse_region(g.read_phys(*where), t.base)
    t.require(region.valid, "the crashed boot's region does not decode: %s" % region.reason)
    stale = 0
    for c in region.cpus:
        head = real_head(c)
        t.note("CPU %d: recorded head slot %d, real head %d" % (c.cpu, c.head_index, head))
        if c.head_index != head:
            stale += 1
            t.expect(not strict, "CPU %d: the recorded head (slot %d) is not the real head (slot %d)"
                     % (c.cpu, c.head_index, head))
    return stale
