"""Power cut: the machine stops with no kernel code run, RAM kept.

The function tracer fills a 2 MiB boot instance on both CPUs, from tasks
and from the interrupts that land on them, and wraps it again and again;
the host SIGKILLs QEMU at a random moment (as a watchdog reset or a power
glitch would stop the machine: no panic, no notifier, no flush). Then,
from the RAM image left behind:
- the head page each CPU recorded must be its real head, the page after
  the commit page of the wrapped ring (or the page after that one, when
  the cut fell between the writer's move of the head and its move onto
  the old head page);
- the next boot must show, per CPU, every event of the ring read from its
  real head (harness/ringbuf.py counts them on the image with the real
  head put in place), and drop nothing;
- the numbered markers written on each CPU (guest/lib.sh seq_markers) must
  come back as one unbroken run that ends at the last one in the RAM
  image, or the one before it (the write the cut interrupted).
Several cuts per case. Stock kernels are shown beside it; only lastboot is
held to it.

The race that leaves a recorded head behind (an interrupt moving the head
during the move of the writer it interrupted) needs tens of seconds of
writing to show; make check cuts within seconds of the wrap. A campaign:
    LASTBOOT_POWER_CUTS=8 LASTBOOT_POWER_CUT_SECONDS=60 make scenarios K=power_cut"""

import os
import random
import re
import time

import _common
import rb_damage
import ringbuf
import tracefile

TITLE = "a power cut while the buffer wraps: the recorded head is right and every event comes back"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock"), ("7.3", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F8", ("7.3", "lastboot"): "F8"}

CUTS = int(os.environ.get("LASTBOOT_POWER_CUTS", "3"))
# The cut falls at a random moment this many seconds at most after the wrap.
WRITE_SECONDS = float(os.environ.get("LASTBOOT_POWER_CUT_SECONDS", "4"))
RESERVE = "reserve_mem=2M:4096:trace trace_instance=boot_map@trace"
FILL_STEP = """
I=$T/instances/boot_map
echo function > $I/current_tracer
for c in $(seq 0 $(($(nproc) - 1))); do
	taskset -c "$c" dd if=/dev/zero of=/dev/null bs=1 count=1000000000 2>/dev/null &
done
seq_markers $I/trace_marker 0
until _all_wrapped $I; do sleep 1; done
echo "lastboot-guest: wrapped, writing on" > /dev/kmsg
while :; do sleep 1; done
"""
READ_STEP = """
emit_file trace $T/instances/boot_map/trace
"""


def cut_after(rng):
    """A `during` hook: once the ring has wrapped, wait a random while, cut.
    A guest that never says it wrapped is left to the boot's timeout."""
    def during(g):
        deadline = time.monotonic() + 240
        while "lastboot-guest: wrapped, writing on" not in g.console_so_far():
            if g.proc.poll() is not None or time.monotonic() > deadline:
                return
            time.sleep(0.1)
        time.sleep(rng.uniform(0.5, WRITE_SECONDS))
        g.kill()
    return during


def with_head(image, base, cpu, slot):
    """The image with `slot` recorded as the CPU's head page."""
    off, data = rb_damage.head_write(base, cpu, slot)
    return image[:off] + data + image[off + len(data):]


def run(t):
    rng = random.Random()
    lastboot = t.flavour == "lastboot"
    stale = 0
    lost = 0
    g = t.guest(smp=2)
    for n in range(CUTS):
        b = g.boot(FILL_STEP, RESERVE, expect="killed", timeout=300 + WRITE_SECONDS, during=cut_after(rng))
        where = ringbuf.find_region(b.console)
        t.require(where is not None, "cut %d: the boot did not print where the boot instance is mapped" % n)
        addr, size = where
        image = g.read_phys(addr, size)
        region = ringbuf.parse_region(image, t.base)
        t.require(region.valid and len(region.cpus) == g.smp, "cut %d: the region does not decode: %s"
                  % (n, region.reason))
        expected = {}
        for c in region.cpus:
            t.require(c.valid, "cut %d: CPU %d's meta does not decode: %s" % (n, c.cpu, c.reason))
            head = _common.real_head(c)
            # The writer moves the head, records it, then moves onto the old
            # head page: a cut in between leaves the head one page further.
            right = c.head_index in (head, _common.real_head(c, 2))
            if not right:
                stale += 1
            t.note("cut %d: CPU %d: recorded head slot %d, real head %d, commit %d%s"
                   % (n, c.cpu, c.head_index, head, c.commit_index, "" if right else "  <- stale"))
            if lastboot:
                t.expect(right, "cut %d: CPU %d: the recorded head (slot %d) is not the real head (slot %d)"
                         % (n, c.cpu, c.head_index, head))
            fixed = with_head(image, t.base, c, head)
            expected[c.cpu] = ringbuf.parse_region(fixed, t.base).cpu(c.cpu).nr_events

        r = g.boot(READ_STEP, RESERVE, timeout=180)
        t.expect(not r.complaints(), "cut %d: kernel complaints: %s" % (n, r.complaints()[:5]))
        got = tracefile.Trace(r.section("trace"))
        for cpu, want in sorted(expected.items()):
            have = got.count(cpu)
            lost += max(0, want - have)
            t.note("cut %d: CPU %d: %d of %d events back" % (n, cpu, have, want))
            if lastboot:
                t.expect(have == want, "cut %d: CPU %d shows %d of the %d events its ring holds"
                         % (n, cpu, have, want))
        runs = tracefile.marker_runs(got)
        for cpu in range(g.smp):
            written = [int(x) for x in re.findall(rb"lb-seq %d (\d+)\n" % cpu, image)]
            t.require(written, "cut %d: no marker of CPU %d in the RAM image" % (n, cpu))
            first, last, gaps = runs.get(cpu, (None, None, []))
            t.note("cut %d: CPU %d: markers %s..%s back, last in the image %d, breaks %s"
                   % (n, cpu, first, last, max(written), gaps[:3]))
            if lastboot:
                t.expect(last is not None and not gaps and max(written) - 1 <= last <= max(written),
                         "cut %d: CPU %d: markers back %s..%s with breaks %s; the image's last is %d"
                         % (n, cpu, first, last, gaps[:3], max(written)))
        for line in r.dmesg_lines(r"sub-buffers dropped|recorded head page was behind|not read|"
                                  r"rewound|pages discarded|invalid"):
            t.note("cut %d:   %s" % (n, line.strip()))
        g.cleanup()
    t.figure("stale_heads", stale)
    t.figure("events_lost", lost)
