"""Where reserve_mem lands from one KASLR boot to the next.

Warm reboots of one guest (same RAM file) with KASLR on, each recording a
little into the boot instance: the region must be found again at the
same address, and every boot that found it there must say that the
buffer is from the previous boot. A boot that maps it elsewhere (the
kernel landed where the region was, or the memory above it moved) has
lost the previous boot's trace: those are counted, for the default
alignment and a larger one (mainline's debugging.rst suggests 32 MiB).
Nothing is asserted on the count, which is chance; a campaign:
    LASTBOOT_KASLR_BOOTS=80 make scenarios K=kaslr_placement"""

import collections
import os

import _common  # noqa: F401  (puts harness/ on the path)
import ringbuf

TITLE = "with KASLR, a warm reboot finds the boot instance where the last boot left it"
CASES = [("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F8"}

BOOTS = int(os.environ.get("LASTBOOT_KASLR_BOOTS", "6"))
ALIGNMENTS = [("4096", "default"), ("0x2000000", "32MiB")]
STEP = "echo lastboot > $T/instances/boot_map/trace_marker\n"


def run(t):
    for align, tag in ALIGNMENTS:
        g = t.guest(smp=1)
        cmdline = "reserve_mem=8M:%s:trace trace_instance=boot_map@trace" % align
        places = collections.Counter()
        last, moved, found = None, 0, 0
        for n in range(BOOTS):
            b = boot_anywhere(g, cmdline)
            hits = ringbuf.MAPPED.findall(b.console)
            t.require(hits, "%s: boot %d did not map the boot instance" % (tag, n + 1))
            addr = hits[-1][1]
            places[addr] += 1
            from_prev = bool(b.dmesg_lines(r"Ring buffer meta \[0\] is from previous boot"))
            if last is not None and addr != last:
                moved += 1
            elif last is not None:
                found += from_prev
                t.expect(from_prev, "%s: boot %d mapped the region where boot %d left it (%s) but did "
                         "not take it as the previous boot's" % (tag, n + 1, n, addr))
            last = addr
        t.note("%s alignment: %d boots, region at %s" % (tag, BOOTS, dict(places)))
        t.figure("%s_moved" % tag, moved)
        t.figure("%s_found_previous" % tag, found)


def boot_anywhere(g, cmdline):
    """A boot that may map the region elsewhere: here that is the figure."""
    g.regions = {}
    return g.boot(STEP, cmdline, timeout=120)
