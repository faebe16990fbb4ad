"""A stale recorded head: what a lost update of the meta data leaves.

The function tracer fills a 2 MiB boot instance until every CPU has
wrapped, the kernel is crashed, and between the boots the host moves the
head page recorded in each CPU's meta data back by 1 page (onto the commit
page), by a third of the ring, and by all but one page (what a writer that
lost the race leaves behind: the recorded head stops while the real one
goes round). The next boot must show every event the ring holds (counted
by harness/ringbuf.py from the RAM image, real head), with no loss marker.
Stock kernels are shown beside it: stock 6.12 reads only from the recorded
head to the commit page; mainline 7.3 walks back from it, except from a
head recorded on the commit page."""

import _common  # noqa: F401  (puts harness/ on the path)
import rb_damage
import ringbuf
import tracefile

TITLE = "a boot-mapped buffer whose recorded head is stale comes back whole"
CASES = [("6.12", "stock"), ("6.12", "lastboot"), ("7.3", "stock"), ("7.3", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F8", ("7.3", "lastboot"): "F8"}

RESERVE = "reserve_mem=2M:4096:trace trace_instance=boot_map@trace"
FILL_STEP = """
I=$T/instances/boot_map
fill_until_wrapped $I 120
crash
"""
READ_STEP = """
emit_file trace $T/instances/boot_map/trace
"""


def shifts(ring_pages):
    return [("1", 1), ("third", max(2, ring_pages // 3)), ("all_but_one", ring_pages - 1)]


def ring_pages(cpu):
    """The CPU's ring pages in reading order, head to commit (no reader page)."""
    return [sb for sb in cpu.subbufs if sb.role == "ring"]


def move_head(g, addr, base, cpu, back):
    """Set the CPU's recorded head `back` pages before the real one, in ring
    order (the page `back` steps behind it, going round past the commit)."""
    ring = ring_pages(cpu)
    stale = ring[-back]
    off, data = rb_damage.head_write(base, cpu, stale.index)
    g.write_phys(addr + off, data)
    return stale.index


def run(t):
    g = t.guest(smp=2)
    crashed = g.boot(FILL_STEP, RESERVE, expect="panic", timeout=300)
    where = ringbuf.find_region(crashed.console)
    t.require(where is not None, "the crashed boot did not print where the boot instance is mapped")
    addr, size = where
    pristine = g.read_phys(addr, size)
    region = ringbuf.parse_region(pristine, t.base)
    t.require(region.valid and all(c.valid for c in region.cpus), "the recorded region does not decode")
    for c in region.cpus:
        # A wrapped ring: every ring page is between the head and the commit.
        t.require(len(ring_pages(c)) == c.nr_subbufs - 1,
                  "CPU %d did not wrap: %d of %d ring pages are between head and commit"
                  % (c.cpu, len(ring_pages(c)), c.nr_subbufs - 1))
    nr_ring = region.cpus[0].nr_subbufs - 1
    kept_all = True
    for name, back in shifts(nr_ring):
        g.write_phys(addr, pristine)
        for c in region.cpus:
            move_head(g, addr, t.base, c, back)
        b = g.boot(READ_STEP, RESERVE, timeout=180)
        t.expect(not b.complaints(), "%s: kernel complaints: %s" % (name, b.complaints()[:5]))
        got = tracefile.Trace(b.section("trace"))
        for c in region.cpus:
            n = got.count(c.cpu)
            t.note("head back %d pages: CPU %d: %d of %d events back" % (back, c.cpu, n, c.nr_events))
            t.figure("back_%s_cpu%d_events" % (name, c.cpu), n)
            kept_all &= n == c.nr_events
            if t.flavour == "lastboot":
                t.expect(n == c.nr_events, "head back %d pages: CPU %d shows %d of the %d events its ring holds"
                         % (back, c.cpu, n, c.nr_events))
        for line in b.dmesg_lines(r"recorded head page was behind|before the head not read|rewound"):
            t.note("  " + line.strip())
        if t.flavour == "lastboot":
            t.expect(not got.lost_markers, "head back %d pages: loss markers %s where nothing was lost"
                     % (back, got.lost_markers[:3]))
    t.figure("every_event_back", kept_all)
