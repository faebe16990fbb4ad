"""The recorded head when a nested writer moves the head in the middle of a
writer's own move: the race that leaves the head recorded in the meta data
behind the real one, forced on every move instead of waited for.

Two kprobes sit in rb_move_tail() right after the cmpxchg that marks the
head page as being moved (RB_PAGE_HEAD to RB_PAGE_UPDATE); the host finds
that instruction in the kernel's vmlinux. Each probe writes an event of
about 3 KiB into the boot instance from the probe's context, so that
the two of them fill the page the interrupted writer is moving onto and
move the head again before that writer records its own move. Markers of
500 bytes wrap an 8 MiB instance on both CPUs and go on for 3 s;
tracing stops and the kernel is crashed with sysrq. The host decodes the RAM image
right after the crash: each CPU's recorded head must be the real one (on
a kernel that updates it with a cmpxchg from the head it expects, it is
left behind for good), and the next boot must read back every event the
buffer held.

Only the debug builds of the lastboot kernels have kprobe events on
notrace code (series/<base>/config.debug)."""

import re
import subprocess

import _common

TITLE = "a nested writer that moves the head during a writer's move leaves the recorded head right"
CASES = [("6.12", "lastboot", "debug"), ("7.3", "lastboot", "debug")]
REQUIRES = {("6.12", "lastboot"): "F8", ("7.3", "lastboot"): "F8"}

# nokaslr: the decompressor of this large (KASAN, kprobes) kernel does not
# know the region and, placed at random, wrote over it in two tries of
# three here (CPU 0's meta page overwritten, or the region moved); that
# damage is not what this case is about, and a fixed kernel address
# keeps it out.
RESERVE = "nokaslr reserve_mem=8M:4096:trace trace_instance=boot_map@trace"
# Six u64[64] arrays read from the probed frame's stack: 3072 bytes of
# payload, the most a probe event holds, so that two events do not fit in
# one 4 KiB sub-buffer.
PAYLOAD = " ".join("a%d=+0(%%sp):u64[64]" % i for i in range(6))

STEP = """
I=$T/instances/boot_map
for p in 'nest1 rb_move_tail+{off1}' 'nest2 rb_move_tail+{off2}'; do
	echo "p:kprobes/$p {payload}" >> $T/kprobe_events || {{ cat $T/error_log; exit 1; }}
done
echo 1 > $I/events/kprobes/enable
# Markers of 500 bytes from a shell builtin on every CPU: every other
# write moves the head. (A marker too large for what the two probe events
# leave of a page would move the tail again on every try, each move
# firing the probes anew, until the ring buffer gives up with a warning.)
m=$(head -c 500 /dev/zero | tr '\\0' x)
for c in $(seq 0 $(($(nproc) - 1))); do
	taskset -c $c sh -c "while [ ! -e /tmp/workload.stop ]; do echo $m > $I/trace_marker; done" &
done
n=0
until _all_wrapped $I; do
	sleep 1
	n=$((n + 1))
	[ $n -lt 120 ] || break
done
# Every page the writers fill from here moves the head.
sleep 3
echo 0 > $I/tracing_on
workload_stop
emit profile cat $T/kprobe_profile
emit before sh -c "grep -H -e entries -e '^overrun' $I/per_cpu/cpu*/stats"
crash
"""

READ_STEP = """
I=$T/instances/boot_map
for d in $I/per_cpu/cpu*; do emit read_${d##*/} sh -c "grep -vc '^#' $d/trace"; done
"""


def head_update_probes(t, vmlinux):
    """Offsets in rb_move_tail() of the two instructions after the cmpxchg
    that swaps RB_PAGE_HEAD (1) for RB_PAGE_UPDATE (2) in the head page's
    link: the window between a writer's claim of the head and the head
    update it then records."""
    syms = subprocess.run(["nm", "-S", vmlinux], capture_output=True, text=True, check=True).stdout
    m = re.search(r"^([0-9a-f]+) ([0-9a-f]+) t rb_move_tail$", syms, re.M)
    t.require(m is not None, "rb_move_tail is not in %s" % vmlinux)
    start, size = int(m.group(1), 16), int(m.group(2), 16)
    asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "--start-address=%#x" % start,
                          "--stop-address=%#x" % (start + size), vmlinux],
                         capture_output=True, text=True, check=True).stdout
    insns = re.findall(r"^\s*([0-9a-f]+):\s+(.*)$", asm, re.M)
    for i, (_, text) in enumerate(insns):
        # old = page | RB_PAGE_HEAD, new = page | RB_PAGE_UPDATE, then the cmpxchg
        if text.startswith("lock cmpxchg") and any(re.match(r"or\s+\$0x2,", x) for _, x in insns[i - 4:i]) \
                and any(re.match(r"or\s+\$0x1,", x) for _, x in insns[i - 4:i]):
            return int(insns[i + 1][0], 16) - start, int(insns[i + 2][0], 16) - start
    t.require(False, "no RB_PAGE_HEAD to RB_PAGE_UPDATE cmpxchg found in rb_move_tail()")
    return None


def per_cpu(text, field):
    return {int(m.group(1)): int(m.group(2))
            for m in re.finditer(r"cpu(\d+)/stats:%s: (\d+)" % field, text)}


def run(t):
    off1, off2 = head_update_probes(t, t.builddir + "/vmlinux")
    t.note("probes at rb_move_tail+%#x and +%#x" % (off1, off2))
    g = t.guest(smp=2)
    cmdline = RESERVE + (" " + _common.KHO_SCRATCH_KASAN if t.base == "7.3" else "")
    b1 = g.boot(STEP.format(off1="%#x" % off1, off2="%#x" % off2, payload=PAYLOAD), cmdline,
                expect="panic", timeout=600)
    hits = dict((name, int(h)) for name, h in re.findall(r"(nest[12])\s+(\d+)\s+\d+", b1.section("profile")))
    t.note("kprobe hits: %s" % hits)
    t.require(hits.get("nest1", 0) > 0 and hits.get("nest2", 0) > 0,
              "the probes in the head move never fired: %r" % b1.section("profile")[:300])
    before, overrun = per_cpu(b1.section("before"), "entries"), per_cpu(b1.section("before"), "overrun")
    t.require(len(overrun) == g.smp and all(overrun.values()), "not every CPU wrapped: %s" % overrun)
    t.figure("head_move_probe_hits", hits["nest1"])
    t.figure("stale_heads", _common.check_recorded_heads(t, g, b1, strict=True))
    t.expect(not b1.complaints_before_crash(), "the kernel complained: %s" % b1.complaints_before_crash()[:3])

    b2 = g.boot(READ_STEP, cmdline, timeout=300)
    for cpu in sorted(before):
        read = int(b2.section("read_cpu%d" % cpu).strip() or 0)
        t.note("CPU %d: %d events in the buffer at the crash, %d read back" % (cpu, before[cpu], read))
        t.expect(read == before[cpu], "CPU %d: %d events at the crash, %d read back after the reboot"
                 % (cpu, before[cpu], read))
    t.expect(not b2.complaints(), "the kernel complained: %s" % b2.complaints()[:3])
