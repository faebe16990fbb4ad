"""Function names in a backup, with KASLR moving the kernel at every boot.

A boot-mapped buffer stores function addresses as the crashed kernel saw
them; the next boot resolves them with the distance between the two
kernels' text, taken from the meta data.  A backup empties its source,
and a source emptied without taking the new boot's addresses resolves
the boot after that against a kernel two boots old: every name wrong.
Three boots, each tracing another function on both CPUs:

1. the function tracer on `boot_map` filtered to do_sys_openat2; crash.
2. maxcpus=1 and a backup of boot_map: the backup must show boot 1's
   events, names included, on CPU 0 at once; the tracer is set on
   boot_map, filtered to ksys_write, then CPU 1 comes up (its part of
   the source was forgotten, not reset, when the copy was made, and the
   tracer's reset did not reach it): the backup must show CPU 1's events
   of boot 1 too; both CPUs call ksys_write; crash.
3. a backup again: every event of boot 2, names included, and no
   do_sys_openat2.

Events are compared line by line (names and parents are part of the
line); the text delta of each backup must not be 0, or KASLR did not
move the kernel and the case shows nothing."""

import re

import _common
import tracefile

TITLE = "a backup resolves function names against the kernel that recorded them (KASLR)"
CASES = [("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F5"}

CMDLINE = _common.RESERVE + " trace_instance=boot_map@trace"
BACKUP = CMDLINE + " trace_instance=backup=boot_map"

# The function tracer on boot_map, filtered to one function.
TRACER = """
I=$T/instances/boot_map
echo {func} > $I/set_ftrace_filter
echo function > $I/current_tracer
"""

# Calls of the traced functions on each CPU, then a paused snapshot.
CALLS = """
for c in 0 1; do
	taskset -c $c sh -c 'for i in $(seq 40); do echo x > /tmp/f$i; done'
done
echo 0 > $I/tracing_on
emit_file recorded $I/trace
crash
"""

# CPU 1 comes up after the backup was made and after boot_map's tracer was
# set: its parts of both are built then, from what the copy left.
READ_BACKUP = """
B=$T/instances/backup
emit_file backup_cpu0 $B/trace
emit info cat $B/last_boot_info
{tracer}
echo 1 > /sys/devices/system/cpu/cpu1/online
emit_file backup $B/trace
"""


def text_delta(boot):
    m = re.search(r"text delta:\s*(-?\d+)", boot.section("info"))
    return int(m.group(1)) if m else None


def check_backup(t, boot, recorded, func, other, label):
    """Every event of `recorded` is in the backup as it was written."""
    delta = text_delta(boot)
    t.note("%s: backup text delta %s" % (label, delta))
    t.require(delta not in (None, 0), "%s: the backup's text delta is %s: KASLR did not move the kernel"
              % (label, delta))
    backup = tracefile.Trace(boot.section("backup"))
    cmp = _common.report(t, recorded, backup, prefix=label + ": ")
    for cpu in range(2):
        c = cmp.get(cpu, {"recorded": 0, "missing": 0, "invented": 0})
        t.expect(c["recorded"] > 0, "%s: CPU %d called %s and recorded nothing" % (label, cpu, func))
        t.expect(c["missing"] == 0 and c["invented"] == 0,
                 "%s: CPU %d: %d of %d events not in the backup as recorded, %d never recorded"
                 % (label, cpu, c["missing"], c["recorded"], c["invented"]))
    names = sorted({line.split(":", 1)[1].split()[0] for line in backup.text.splitlines()
                    if tracefile.EVENT.match(line) and "<-" in line})
    t.note("%s: functions in the backup: %s" % (label, " ".join(names[:6])))
    t.expect(other not in backup.text, "%s: the backup shows %s, traced two boots ago" % (label, other))
    # Boot 2 ends in the panic it was asked for.
    complaints = [c for c in boot.complaints() if "sysrq triggered crash" not in c and "Call Trace" not in c]
    t.expect(not complaints, "%s: kernel complaints: %s" % (label, complaints[:5]))


def run(t):
    g = t.guest(smp=2)
    b1 = g.boot(TRACER.format(func="do_sys_openat2") + CALLS, CMDLINE, expect="panic", timeout=180)
    rec1 = tracefile.Trace(b1.section("recorded"))
    t.require(all(rec1.count(c) > 0 for c in range(2)), "boot 1 did not trace do_sys_openat2 on both CPUs")

    b2 = g.boot(READ_BACKUP.format(tracer=TRACER.format(func="ksys_write")) + CALLS, BACKUP + " maxcpus=1",
                expect="panic", timeout=240)
    cpu0 = tracefile.Trace(b2.section("backup_cpu0"))
    t.expect(cpu0.count(1) == 0 and cpu0.count(0) == rec1.count(0),
             "boot 2, CPU 1 not up: the backup shows %d of CPU 0's %d events and %d of CPU 1's"
             % (cpu0.count(0), rec1.count(0), cpu0.count(1)))
    check_backup(t, b2, rec1, "do_sys_openat2", "ksys_write", "boot 2")
    rec2 = tracefile.Trace(b2.section("recorded"))
    t.require(all(rec2.count(c) > 0 for c in range(2)), "boot 2 did not trace ksys_write on both CPUs")

    b3 = g.boot(READ_BACKUP.format(tracer=""), BACKUP, timeout=180)
    check_backup(t, b3, rec2, "ksys_write", "do_sys_openat2", "boot 3")
