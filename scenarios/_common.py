"""Steps shared by the trace scenarios: record into a boot instance, crash,
warm-reboot, read back."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import tracefile  # noqa: E402

RESERVE = "reserve_mem=8M:4096:trace"
RECORD_CMDLINE = RESERVE + " trace_instance=boot_map@trace,sched,timer,irq"
# The reading boot maps the same region but enables no event, so what it
# shows is only what the crashed boot left.
READ_CMDLINE = RESERVE + " trace_instance=boot_map@trace"

# The snapshot of what was recorded is taken with the instance paused, so
# that it is exact; then recording goes on, the workload still running, until
# the crash hits CPUs in the middle of writing events, as a real one does.
RECORD_STEP = """
I=$T/instances/boot_map
workload $(({seconds} + 30)) &
sleep {seconds}
echo 0 > $I/tracing_on
emit_file recorded $I/trace
echo 1 > $I/tracing_on
sleep 1
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


def report(t, recorded, recovered, prefix=""):
    """Figures per CPU and in total; returns the per-CPU comparison."""
    cmp = tracefile.compare(recorded, recovered)
    for cpu, c in cmp.items():
        t.note("%sCPU %d: %d recorded, %d back, %d missing (%d of them older than all that came back), "
               "%d never recorded" % (prefix, cpu, c["recorded"], c["recovered"], c["missing"],
                                      c["overwritten"], c["invented"]))
    t.figure(prefix + "events_recorded", recorded.count())
    t.figure(prefix + "events_recovered", sum(c["recovered"] for c in cmp.values()))
    t.figure(prefix + "loss_markers", len(recovered.lost_markers))
    return cmp
