"""A persistent instance whose events the command line enables, with no
backup of it, records the new boot alone: record a marker, crash, boot
again on the same RAM with trace_instance=boot_map@trace,sched. The
instance must hold sched events of the new boot and nothing of the
crashed one (its marker), and the boot log must say that the previous
boot's events were cleared. Stock 6.12 writes the new boot after the old
one: a reader sees both as one trace."""

import _common
import tracefile

TITLE = "events enabled at boot in a persistent instance record the new boot alone"
CASES = [("6.12", "stock"), ("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F5"}

MARKER = "lastboot-crashed-boot"
CMDLINE = _common.RESERVE + " trace_instance=boot_map@trace,sched"
STEP = """
workload 2
emit_file newboot $T/instances/boot_map/trace
"""


def run(t):
    g = t.guest(smp=2)
    _, recorded = _common.record_and_crash(t, g, prelude="echo %s > $T/instances/boot_map/trace_marker\n" % MARKER)
    t.require(MARKER in recorded.text, "the marker did not reach boot_map before the crash")
    b = g.boot(STEP, CMDLINE, timeout=180)
    newboot = tracefile.Trace(b.section("newboot"))
    mixed = MARKER in newboot.text
    t.figure("newboot_events", newboot.count())
    t.figure("crashed_boot_marker_shown", mixed)
    if t.flavour == "stock":
        t.note("stock: the crashed boot's marker is %s the new boot's events" % ("among" if mixed else "not among"))
        return
    t.expect(newboot.count() > 0, "boot_map recorded nothing of the new boot")
    t.expect(not mixed, "boot_map still shows the crashed boot (its marker) beside the new one")
    t.expect(bool(b.dmesg_lines(r"Tracing: boot_map records this boot: the previous boot's events are cleared")),
             "the boot log does not say that the previous boot's events were cleared")
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
