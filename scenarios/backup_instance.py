"""Backup instance (F5): record into a reserve_mem boot instance, crash,
warm-reboot with

    trace_instance=boot_map@trace,sched trace_instance=backup=boot_map

so that boot_map records the new boot from its start while `backup` holds
the crashed boot.  Then:
- `backup` shows every recorded event, through `trace`, `trace-cmd show -B`
  and `trace-cmd extract -B` + `trace-cmd report`;
- the boot CPU's part of each copy is not validated again: it takes over
  the count of events its source's validation found, and every CPU's
  `stats` count as many entries as `trace` shows;
- `echo 0 > events/enable` on the backup (what trace-cmd does) leaves
  every event in it, with KASLR moving the kernel between the boots;
- boot_map holds events of the new boot and none of the crashed one;
- once trace-cmd has consumed it, the instance directory goes and its
  memory comes back (VmallocUsed before and after);
- the kernel's ftracetest runner passes the backup test cases of the
  series (tools/testing/selftests/ftrace/test.d/instances/backup-*.tc) on
  two more backups of the same source.

On stock 6.12 the same command line makes no backup: the crashed boot's
events are either in boot_map, mixed with the new boot's, or nowhere."""

import base64
import io
import os
import re
import tarfile

import _common
import tracefile
from paths import CACHE

TITLE = "a backup instance keeps the crashed boot while the persistent instance records the new one"
# The debug case runs the removal paths under KASAN.
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("6.12", "lastboot", "debug")]
REQUIRES = {("6.12", "lastboot"): "F5"}

FTRACE = os.path.join(CACHE, "trees", "6.12", "tools", "testing", "selftests", "ftrace")
TESTS = ["backup-instance-readonly.tc", "backup-instance-erase.tc", "backup-instance-consume.tc"]

CMDLINE = (_common.RESERVE + " trace_instance=boot_map@trace,sched trace_instance=backup=boot_map"
           " trace_instance=backup2=boot_map trace_instance=backup3=boot_map"
           # bad input: the boot must go on, the log must say why
           " trace_instance=plain trace_instance=nosrc=nosuch trace_instance=notpersistent=plain")
BAD = {"nosrc": r"Tracing: backup instance nosrc: no instance nosuch to copy",
       "notpersistent": r"Tracing: backup instance notpersistent: plain is not a persistent instance"}

STEP = """
B=$T/instances/backup
emit instances ls $T/instances
if [ ! -d $B ]; then
	echo "lastboot-backup: no backup instance"
	emit newboot cat $T/instances/boot_map/trace
	exit 0
fi
emit_file backup $B/trace
emit tcshow trace-cmd show -B backup
# The new boot's own events, read without consuming them
emit newboot cat $T/instances/boot_map/trace
# What the backup counts per CPU, before anything consumes it
for d in $B/per_cpu/cpu*; do emit stats_${{d##*/}} cat $d/stats; done
# Turning events off, as trace-cmd does, must leave what the backup holds
emit lastboot_info cat $B/last_boot_info
emit enable0 sh -c "echo 0 > $B/events/enable"
emit after_enable0 cat $B/trace
emit vmalloc_before grep VmallocUsed /proc/meminfo
vm_kb() {{ grep VmallocUsed /proc/meminfo | tr -s ' ' | cut -d' ' -f2; }}
want=$(( $(vm_kb) - $(cut -d' ' -f1 $B/buffer_total_size_kb) * 9 / 10 ))
cd /tmp
emit extract sh -c "trace-cmd extract -B backup -o /tmp/backup.dat; echo extract-rc=\\$?"
emit report trace-cmd report -i /tmp/backup.dat
n=0
while [ -d $B ] && [ $n -lt 300 ]; do usleep 100000; n=$((n + 1)); done
emit gone sh -c "test ! -d $B && echo gone || echo present"
# The directory goes just before the copy is freed
n=0
while [ $(vm_kb) -gt $want ] && [ $n -lt 300 ]; do usleep 100000; n=$((n + 1)); done
emit vmalloc_after grep VmallocUsed /proc/meminfo
mkdir -p /ftrace && cd /ftrace
base64 -d <<'LASTBOOT_EOF' | tar -xz
{tarball}
LASTBOOT_EOF
emit ftracetest sh ./ftracetest -v {tests}
"""


MARKER = "lastboot-crashed-boot"


def selftests_tarball():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel in ["ftracetest", "test.d/functions"] + ["test.d/instances/" + t for t in TESTS]:
            tar.add(os.path.join(FTRACE, rel), arcname=rel)
    return base64.encodebytes(buf.getvalue()).decode()


def vmalloc_kb(text):
    m = re.search(r"VmallocUsed:\s+(\d+)", text)
    return int(m.group(1)) if m else None


def old_events_in(recorded, trace):
    """How many events of the crashed boot a trace shows, whole lines
    compared.  A figure, not a check: early in boot two boots can log the
    same line at the same microsecond; the marker is the check."""
    old = {l.strip() for l in recorded.text.splitlines() if tracefile.EVENT.match(l)}
    return sum(1 for l in trace.text.splitlines() if l.strip() in old)


def run(t):
    g = t.guest(smp=2)
    # A line only the crashed boot wrote: where it shows, the crashed boot is.
    _, recorded = _common.record_and_crash(t, g, prelude="echo %s > $T/instances/boot_map/trace_marker\n" % MARKER)
    t.require(MARKER in recorded.text, "the marker did not reach boot_map before the crash")

    lastboot = t.flavour == "lastboot"
    if lastboot:
        t.require(all(os.path.exists(os.path.join(FTRACE, "test.d/instances", x)) for x in TESTS),
                  "the series' ftrace selftests are missing from %s" % FTRACE)
        step = STEP.format(tarball=selftests_tarball(),
                           tests=" ".join("test.d/instances/" + x for x in TESTS))
    else:
        step = STEP.format(tarball="", tests="")
    b = g.boot(step, CMDLINE, timeout=420)
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    newboot = tracefile.Trace(b.section("newboot"))
    mixed = old_events_in(recorded, newboot)
    t.figure("boot_map_events", newboot.count())
    t.figure("boot_map_events_of_crashed_boot", mixed)

    if "lastboot-backup: no backup instance" in b.console:
        t.figure("backup_events", 0)
        t.note("instances: %s" % " ".join(b.section("instances").split()))
        t.expect(not lastboot, "no backup instance was made")
        # Stock: the crashed boot's events that did not vanish share
        # boot_map with the new boot's.
        t.note("stock: %d of %d recorded events left, mixed with %d events of the new boot%s"
               % (mixed, recorded.count(), newboot.count() - mixed,
                  " (the crashed boot's marker among them)" if MARKER in newboot.text else ""))
        return

    t.require(lastboot, "stock 6.12 made a backup instance")
    made = b.section("instances").split()
    for name, line in BAD.items():
        t.expect(name not in made, "instance %s was made from a bad source" % name)
        t.expect(bool(b.dmesg_lines(line)), "no boot-log line: %s" % line)
    backup = tracefile.Trace(b.section("backup"))
    cmp = _common.report(t, recorded, backup)
    t.figure("backup_events", backup.count())
    for cpu, c in cmp.items():
        t.expect(c["recorded"] > 0, "CPU %d recorded nothing" % cpu)
        t.expect(c["missing"] == 0, "CPU %d: %d of %d recorded events are not in the backup"
                 % (cpu, c["missing"], c["recorded"]))
        t.expect(c["invented"] == 0, "CPU %d: the backup shows %d events never recorded" % (cpu, c["invented"]))

    check_takeover(t, b, backup, cmp)

    # With KASLR the backup's text delta is not 0: a write to events/enable
    # took the path that clears a buffer of the previous boot.
    m = re.search(r"text delta:\s*(-?\d+)", b.section("lastboot_info"))
    t.figure("backup_text_delta", int(m.group(1)) if m else None)
    t.expect(b.rc("enable0") == 0, "echo 0 > backup/events/enable failed: %s" % b.section("enable0"))
    after = tracefile.Trace(b.section("after_enable0"))
    t.expect(after.count() == backup.count(), "echo 0 > backup/events/enable: the backup shows %d events, "
             "%d before" % (after.count(), backup.count()))

    shown = tracefile.Trace(b.section("tcshow"))
    t.expect(shown.count() == backup.count(), "trace-cmd show -B backup: %d events, trace: %d"
             % (shown.count(), backup.count()))

    t.expect(newboot.count() > 0, "boot_map recorded nothing of the new boot")
    t.expect(MARKER not in newboot.text, "boot_map still shows the crashed boot (its marker)")
    t.expect(MARKER in backup.text, "the backup does not show the crashed boot's marker")

    check_trace_cmd(t, b, backup, cmp)
    check_freed(t, b)
    check_ftracetest(t, b)


def check_takeover(t, b, backup, cmp):
    """The boot CPU's part of each copy takes over its source's validation
    (the source's line comes first, then one per copy); the other CPU's
    part is validated in each copy when that CPU comes up."""
    kept = [int(n) for n in re.findall(r"Ring buffer meta \[0\] (?:.* )?(\d+) events kept", b.console)]
    taken = [int(n) for n in re.findall(
        r"Ring buffer meta \[0\] (\d+) events kept, as validated in the buffer it was copied from", b.console)]
    t.figure("copies_taken_over", len(taken))
    t.expect(len(taken) == 3, "%d of 3 copies took over the source's validation of CPU 0" % len(taken))
    t.expect(len(kept) == 4 and len(set(kept)) == 1,
             "CPU 0 events kept by the source, then by each copy: %s" % kept)
    for cpu in cmp:
        stats = b.section("stats_cpu%d" % cpu)
        m = re.search(r"^entries: (\d+)", stats, re.M)
        t.expect(bool(m) and int(m.group(1)) == backup.count(cpu),
                 "CPU %d: the backup's stats count %s entries, its trace shows %d events"
                 % (cpu, m.group(1) if m else "no", backup.count(cpu)))


def check_trace_cmd(t, b, backup, cmp):
    """trace-cmd extract -B backup and report read what `trace` shows."""
    t.expect("extract-rc=0" in b.section("extract"), "trace-cmd extract -B backup failed: %s"
             % b.section("extract")[-500:])
    report = tracefile.Trace("\n".join(l for l in b.section("report").splitlines() if l.startswith("backup:")))
    t.figure("trace_cmd_report_events", report.count())
    for cpu in cmp:
        t.expect(report.count(cpu) == backup.count(cpu), "CPU %d: trace-cmd report shows %d events, trace %d"
                 % (cpu, report.count(cpu), backup.count(cpu)))


def check_freed(t, b):
    """Once consumed, the instance goes and its copy's memory comes back."""
    t.expect(b.section("gone").strip() == "gone", "the backup instance is still there after trace-cmd consumed it")
    before, after = vmalloc_kb(b.section("vmalloc_before")), vmalloc_kb(b.section("vmalloc_after"))
    t.require(before is not None and after is not None, "no VmallocUsed figures")
    t.figure("vmalloc_freed_kb", before - after)
    region_kb = 8 * 1024
    t.expect(before - after >= region_kb * 9 // 10, "VmallocUsed went from %d to %d kB: the %d kB copy was not freed"
             % (before, after, region_kb))
    # trace-cmd may remove the instance itself when done (rmdir); if it
    # does not, the instance removes itself once consumed and closed.
    by_itself = bool(b.dmesg_lines(r"Tracing: backup instance backup is empty, removing it"))
    t.note("the backup went %s" % ("by itself" if by_itself else "by trace-cmd's rmdir"))


def check_ftracetest(t, b):
    """The series' own ftrace selftests of the backup instance pass."""
    out = b.section("ftracetest")
    results = re.findall(r"^\[\d+\] (Backup instance: [^\t\n]*?)\s*\[(\w+)\]", out, re.M)
    t.note("ftracetest: %s" % results)
    t.expect(len(results) == len(TESTS), "ftracetest ran %d of %d backup test cases:\n%s"
             % (len(results), len(TESTS), out[-1500:]))
    for desc, res in results:
        t.expect(res == "PASS", "ftracetest: %s: %s\n%s" % (desc, res, out[-1500:]))
