"""Where reserve_mem lands from one KASLR boot to the next.

Warm reboots of one guest (same RAM file) with KASLR on, each recording a
little into the boot instance: the region must be found again at the
same address, and every boot that found it there must say that the
buffer is from the previous boot. A boot that maps it elsewhere (the
kernel landed where the region was, or the memory above it moved) has
lost the previous boot's trace: those are counted, for the default
alignment and a larger one (mainline's debugging.rst suggests 32 MiB).
So is a boot that maps it in place but finds its meta data overwritten,
when the region lies within the span the x86 decompressor wrote this
boot (from the kernel's physical start, /proc/iomem's "Kernel code", for
the bzImage's init_size bytes): the decompressor does not know the
region. Anywhere else, an in-place region not taken as the previous
boot's fails the case. Nothing is asserted on the counts, which are
chance; a campaign:
    LASTBOOT_KASLR_BOOTS=80 make scenarios K=kaslr_placement"""

import collections
import os
import re
import struct

import _common  # noqa: F401  (puts harness/ on the path)
import ringbuf
import vm

TITLE = "with KASLR, a warm reboot finds the boot instance where the last boot left it"
CASES = [("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F8"}

BOOTS = int(os.environ.get("LASTBOOT_KASLR_BOOTS", "6"))
ALIGNMENTS = [("4096", "default"), ("0x2000000", "32MiB")]
STEP = """
echo lastboot > $T/instances/boot_map/trace_marker
emit iomem grep 'Kernel code' /proc/iomem
"""
REGION_SIZE = 8 << 20


def run(t):
    init_size = bzimage_init_size(vm.kernel_image(t.builddir))
    for align, tag in ALIGNMENTS:
        g = t.guest(smp=1)
        cmdline = "reserve_mem=8M:%s:trace trace_instance=boot_map@trace" % align
        places = collections.Counter()
        last, moved, found, overwritten = None, 0, 0, 0
        for n in range(BOOTS):
            b = boot_anywhere(g, cmdline)
            hits = ringbuf.MAPPED.findall(b.console)
            t.require(hits, "%s: boot %d did not map the boot instance" % (tag, n + 1))
            addr = hits[-1][1]
            places[addr] += 1
            from_prev = bool(b.dmesg_lines(r"Ring buffer meta \[0\] is from previous boot"))
            if last is not None and addr != last:
                moved += 1
            elif last is not None and from_prev:
                found += 1
            elif last is not None:
                span = decompressor_span(t, b, init_size)
                hit = span[0] < int(addr, 16) + REGION_SIZE and int(addr, 16) < span[1]
                t.note("%s: boot %d found the region in place (%s) overwritten; the decompressor wrote "
                       "%#x-%#x" % (tag, n + 1, addr, span[0], span[1]))
                overwritten += hit
                t.expect(hit, "%s: boot %d mapped the region where boot %d left it (%s) but did not take "
                         "it as the previous boot's, and the decompressor did not write there"
                         % (tag, n + 1, n, addr))
            last = addr
        t.note("%s alignment: %d boots, region at %s" % (tag, BOOTS, dict(places)))
        t.figure("%s_moved" % tag, moved)
        t.figure("%s_overwritten_in_place" % tag, overwritten)
        t.figure("%s_found_previous" % tag, found)


def bzimage_init_size(path):
    """The bytes the decompressor needs from the kernel's load address:
    init_size in the bzImage's setup header (boot protocol 2.10)."""
    with open(path, "rb") as f:
        f.seek(0x260)
        return struct.unpack("<I", f.read(4))[0]


def decompressor_span(t, b, init_size):
    """Physical [start, end) the decompressor wrote in boot `b`."""
    m = re.search(r"([0-9a-f]+)-[0-9a-f]+ : Kernel code", b.section("iomem"))
    t.require(m is not None, "the guest did not show where its kernel is: %r" % b.section("iomem")[:200])
    start = int(m.group(1), 16)
    return start, start + init_size


def boot_anywhere(g, cmdline):
    """A boot that may map the region elsewhere: here that is the figure."""
    g.regions = {}
    return g.boot(STEP, cmdline, timeout=120)
