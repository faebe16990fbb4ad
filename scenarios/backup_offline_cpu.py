"""A backup whose CPU is not up yet keeps that CPU's part of the crashed
boot: record on two CPUs, crash, boot again with maxcpus=1 and
trace_instance=backup=boot_map. Consume the backup through trace_pipe
(CPU 0's part) and wait past the delay after which an empty, closed
backup removes itself: it must still be there, as CPU 1's part of the
copy is not read yet. Then bring CPU 1 up: the backup must show every
event CPU 1 recorded. A backup removed once its online CPUs were empty
loses them."""

import _common
import tracefile

TITLE = "a backup is kept while a CPU not up yet holds its part"
CASES = [("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F5"}

CMDLINE = _common.RESERVE + " trace_instance=boot_map@trace trace_instance=backup=boot_map maxcpus=1"
STEP = """
B=$T/instances/backup
emit online_at_start cat /sys/devices/system/cpu/online
emit pipe drain_pipe $B /tmp/pipe
emit_file piped /tmp/pipe
# Past the removal delay (5 s) of an empty, closed backup
sleep 8
emit kept sh -c "test -d $B && echo kept || echo gone"
echo 1 > /sys/devices/system/cpu/cpu1/online
emit_file after_online $B/trace
"""


def run(t):
    g = t.guest(smp=2)
    _, recorded = _common.record_and_crash(t, g)
    b = g.boot(STEP, CMDLINE, timeout=240)
    t.require(b.section("online_at_start").strip() == "0", "CPU 1 was up from the start: %r"
              % b.section("online_at_start"))
    piped = tracefile.Trace(b.section("piped"))
    t.note("trace_pipe gave %d events of CPU 0 (%d recorded), %d of CPU 1"
           % (piped.count(0), recorded.count(0), piped.count(1)))
    t.expect(piped.count(0) > 0, "trace_pipe gave nothing of CPU 0")
    t.expect(b.section("kept").strip() == "kept",
             "the backup was removed while CPU 1's part of it was still unread")
    after = tracefile.Trace(b.section("after_online"))
    cmp = tracefile.compare(recorded, after)
    c1 = cmp.get(1, {"recorded": recorded.count(1), "recovered": 0, "missing": recorded.count(1)})
    t.figure("cpu1_events_back", c1["recovered"])
    t.expect(c1["recorded"] > 0 and c1["missing"] == 0, "CPU 1: %d of %d recorded events back after it came up"
             % (c1["recovered"], c1["recorded"]))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
