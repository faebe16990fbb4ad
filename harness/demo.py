#!/usr/bin/env python3
"""make demo: build the lastboot 6.12 kernel, boot it with a persistent boot
instance, run a workload, crash it, warm-reboot, and show with trace-cmd the
last events of the boot that crashed, plus a one-line summary."""

import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios"))
import rb_damage  # noqa: E402
import ringbuf  # noqa: E402
import kernels  # noqa: E402
import tracefile  # noqa: E402
import paths  # noqa: E402
import vm  # noqa: E402
import _common  # noqa: E402

BASE = os.environ.get("BASE", "6.12")
FLAVOUR = os.environ.get("FLAVOUR", "lastboot")
LAST = int(os.environ.get("LAST", "25"))
# DAMAGE=1: overwrite one sub-buffer per CPU with random bytes between the
# boots, to show what the next boot keeps and where it marks the loss.
DAMAGE = os.environ.get("DAMAGE", "") not in ("", "0")

SHOW_STEP = """
emit last trace-cmd show -B boot_map
emit dmesg dmesg
"""

# With the backup instance (F5), boot 2 records its own sched events into
# boot_map from the start while "backup" keeps the boot that crashed.
BACKUP_CMDLINE = _common.RESERVE + " trace_instance=boot_map@trace,sched trace_instance=backup=boot_map"
SHOW_BACKUP_STEP = """
emit last trace-cmd show -B backup
emit newboot sh -c "grep -vc '^#' $T/instances/boot_map/trace"
emit dmesg dmesg
"""


def say(msg):
    print("[lastboot] " + msg, flush=True)


def main():
    say("building the %s kernel for %s (first time: ~7 min) ..." % (FLAVOUR, BASE))
    builddir = kernels.kernel_for(BASE, FLAVOUR, "normal")
    initrd = vm.guest_initrd(builddir, kernels.base_initrd())
    g = vm.Guest(os.path.join(paths.CACHE, "run", "demo"), vm.kernel_image(builddir), initrd, smp=2)

    say("boot 1: %s" % _common.RECORD_CMDLINE)
    say("        recording sched/timer/irq events for 3 s, then: echo c > /proc/sysrq-trigger")
    b1 = g.boot(_common.RECORD_STEP.format(seconds=3), _common.RECORD_CMDLINE, expect="panic", timeout=180)
    recorded = tracefile.Trace(b1.section("recorded"))
    for line in b1.console.splitlines():
        if "Kernel panic" in line:
            say("boot 1 crashed: " + line.strip())
            break

    if DAMAGE:
        where = ringbuf.find_region(b1.console)
        region = ringbuf.parse_region(g.read_phys(*where), BASE)
        rng = random.Random(1)
        for cpu in range(g.smp):
            d = rb_damage.corrupt_subbuf(g.ram, where[0], region, cpu, "middle", rng)
            say("damaged CPU %d's sub-buffer %d (%d events) with random bytes" % (cpu, d["index"], d["events_destroyed"]))

    backup = "F5" in kernels.features(BASE) and FLAVOUR == "lastboot"
    cmdline, step, name = ((BACKUP_CMDLINE, SHOW_BACKUP_STEP, "backup") if backup
                           else (_common.READ_CMDLINE, SHOW_STEP, "boot_map"))
    say("boot 2 (warm reboot, RAM kept): %s" % cmdline)
    b2 = g.boot(step, cmdline, timeout=180)
    shown = b2.section("last")
    if backup:
        for l in b2.console.splitlines():
            if "Tracing: backup instance" in l:
                print("    dmesg: " + l.strip())
        say("boot_map already holds %s sched events of this boot; the backup instance holds the crashed one"
            % b2.section("newboot").strip())
    recovered = tracefile.Trace(shown)
    lines = [l for l in shown.splitlines() if l.strip() and not l.startswith("#")]
    for l in lines:
        if tracefile.LOST.search(l):
            say("loss marker in the recovered trace: " + l.strip())
    say("the last %d events of the boot that crashed (trace-cmd show -B %s):" % (min(LAST, len(lines)), name))
    for l in lines[-LAST:]:
        print("    " + l)
    for l in b2.console.splitlines():
        if re.search(r"[Rr]ing buffer.*(meta|invalid|dropped|drop)", l):
            print("    dmesg: " + l.strip())

    cmp = tracefile.compare(recorded, recovered)
    back = sum(c["recovered"] for c in cmp.values())
    # One line per CPU and buffer; with a backup, a CPU online when it is
    # copied is checked twice (the source, then the copy): keep the last.
    per_cpu = dict((cpu, (int(d), int(c))) for cpu, d, c in re.findall(
        r"Ring buffer meta \[(\d+)\] (\d+) of \d+ sub-buffers dropped, (\d+) cut short", b2.console))
    dropped = sum(d for d, _ in per_cpu.values())
    cut = sum(c for _, c in per_cpu.values())
    lost_cpus = [cpu for cpu, c in cmp.items() if c["recovered"] == 0 and c["recorded"]]
    extra = " (CPU %s thrown away whole)" % ",".join(map(str, lost_cpus)) if lost_cpus else ""
    print("summary: %d events recorded, %d events recovered%s, %d sub-buffers dropped, %d cut short"
          % (recorded.count(), back, extra, dropped, cut))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (vm.BootError, kernels.Failed) as e:
        print("[lastboot] error: %s" % e, file=sys.stderr)
        sys.exit(1)
