"""CPU hotplug under tracing.  The kernel boots on one CPU out of four
(maxcpus=1); while sched/timer/irq events record into the top-level buffer
and into a reserve_mem boot instance, the guest brings the other three
online for the first time, which allocates their per-CPU buffers on a
running system, then takes CPUs offline and online again and again.  No
warning or oops may appear, the added CPUs' per-CPU files must exist and
hold events, and a crash afterwards must leave a boot instance the next
boot (all four CPUs up) reads in full.

Why not QEMU's monitor (device_add of a CPU): QEMU 7.2 lists the CPUs it
has not plugged yet in the MADT as Enabled=0 without the Online Capable
flag, and 6.12 registers such entries only under a hypervisor it
recognises; under TCG it registers none, so a hot-added CPU is refused
("ACPI: Unable to map lapic to logical cpu number").  What the ring buffer
sees is the same either way: a CPU coming online for the first time on a
running system."""

import re

import _common
import tracefile

TITLE = "hot-added CPUs record into both buffers; online/offline loops; the boot instance survives a crash"
CASES = [("6.12", "stock"), ("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F3"}

POSSIBLE = 4
ROUNDS = 20         # each round takes CPUs 1..3 offline and online: 6 transitions

STEP = """
I=$T/instances/boot_map
for s in sched timer irq; do echo 1 > $T/events/$s/enable; done
echo 1 > $T/tracing_on
echo "lastboot-hotplug: online at start $(cat /sys/devices/system/cpu/online)"
for c in $(seq 1 {last}); do echo 1 > /sys/devices/system/cpu/cpu$c/online; done
echo "lastboot-hotplug: online $(cat /sys/devices/system/cpu/online)"
workload 600 &
sleep 1
n=0
for r in $(seq 1 {rounds}); do
	for c in $(seq 1 {last}); do
		echo 0 > /sys/devices/system/cpu/cpu$c/online
		echo 1 > /sys/devices/system/cpu/cpu$c/online
		n=$((n + 2))
	done
done
echo "lastboot-hotplug: $n transitions, online $(cat /sys/devices/system/cpu/online)"
# Quiet before the snapshot: the four CPUs share 8 MiB, and a second of the
# workload after the snapshot would overwrite its oldest events.
workload_stop
for c in $(seq 0 {last}); do
	echo "top cpu$c $(grep -vc '^#' $T/per_cpu/cpu$c/trace)"
	echo "boot cpu$c $(grep -vc '^#' $I/per_cpu/cpu$c/trace)"
done > /tmp/percpu
emit_file percpu /tmp/percpu
echo 0 > $I/tracing_on
emit_file recorded $I/trace
# Tracing stays off until the crash: the snapshot is all the region holds,
# and no event of it may be excused as overwritten. (The overrun counts
# say what had wrapped before it.)
emit overrun sh -c "grep -H '^overrun' $I/per_cpu/cpu*/stats"
crash
"""


def run(t):
    g = t.guest(smp=POSSIBLE)
    step = STEP.format(last=POSSIBLE - 1, rounds=ROUNDS)
    b = g.boot(step, _common.RECORD_CMDLINE + " maxcpus=1", expect="panic", timeout=420)
    t.require("lastboot-hotplug: online at start 0\n" in b.console.replace("\r", ""),
              "the kernel did not boot on CPU 0 alone")
    bad = b.complaints_before_crash()
    m = re.search(r"lastboot-hotplug: (\d+) transitions, online (\S+)", b.console)
    t.require(m is not None, "the guest did not finish its online/offline loops")
    t.figure("hotplug_transitions", int(m.group(1)))
    t.expect(int(m.group(1)) >= 100, "only %s CPU transitions" % m.group(1))
    t.expect(m.group(2) == "0-%d" % (POSSIBLE - 1), "CPUs online after the loops: %s" % m.group(2))
    t.expect(not bad, "the kernel complained during hotplug: %s" % bad[:3])

    counts = dict(((w, c), int(n)) for w, c, n in re.findall(r"(top|boot) cpu(\d+) (\d+)", b.section("percpu")))
    t.note("events per CPU file: %s" % counts)
    for cpu in range(1, POSSIBLE):
        for where in ("top", "boot"):
            t.expect(counts.get((where, str(cpu)), 0) > 0,
                     "%s buffer: per_cpu/cpu%d/trace missing or empty" % (where, cpu))

    overrun = {int(c): int(n) for c, n in re.findall(r"cpu(\d+)/stats:overrun: (\d+)", b.section("overrun"))}
    t.note("overrun per CPU at the snapshot: %s" % overrun)
    t.require(len(overrun) == POSSIBLE, "no overrun figures: %r" % b.section("overrun")[:200])
    # What was overwritten before the snapshot is not in it; nothing is
    # written after it: every event of the snapshot must come back.
    recorded = tracefile.Trace(b.section("recorded"))
    _, recovered = _common.read_back(t, g)
    cmp = _common.report(t, recorded, recovered)
    for cpu in range(POSSIBLE):
        c = cmp.get(cpu, {"recorded": 0, "missing": 0})
        t.expect(c["recorded"] > 0, "CPU %d recorded nothing into the boot instance" % cpu)
        t.expect(c["missing"] == 0, "CPU %d: %d of %d recorded events did not come back"
                 % (cpu, c["missing"], c["recorded"]))
