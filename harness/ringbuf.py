#!/usr/bin/env python3
"""Read and check the persistent ("boot-mapped") ring buffer of a tracing
boot instance, straight from a guest RAM image.

The guest boots with ``reserve_mem=8M:4096:trace trace_instance=boot_map@trace``
and prints where the region is (``find_region``).  The host slices those bytes
out of the memory-backend file and ``parse_region`` decodes them the way the
kernel that wrote them would read them back on the next boot.

This file is the decoder: it lays the region out (rb_layout.py), reads each
CPU's meta, walks its pages (rb_events.py) and records what the stock kernel
would keep of them, which also decides the read order (rb_stock.py).  Each
CpuBuffer/SubBuf carries both what is in memory (nr_events, valid) and what
the stock kernel would do (kernel_valid, kept, kernel_events).

Public API: find_region(), parse_region(), read_region(), summary(), main();
MAPPED; Region, CpuBuffer, SubBuf.  Damaging a region is rb_damage.py's job,
writing synthetic ones rb_synth.py's; tests/test_ringbuf.py tests them all
(``python3 -m unittest discover -s tests``).

Nothing here raises on garbage: a CPU or a sub-buffer that does not make sense
is marked invalid with a reason.

Run ``python3 harness/ringbuf.py RAMFILE --console LOG --base 6.12`` for a dump.
"""

import argparse
import dataclasses
import json
import re
import sys
from typing import Optional

import rb_events
import rb_stock
from rb_layout import (BASES, BUF_PAGE_HDR_SIZE, COMMIT_SIZE_MASK, PAGE_SIZE, RB_MISSED_EVENTS,
                       RB_MISSED_STORED, SUBBUF_CAPACITY, U64, Bad, as_bytes, cpu_meta_offsets, cpu_meta_problem,
                       guess_nr_cpus, ints, layout_nr_subbufs, read_cpu_meta, region_layout,
                       subbufs_offset, u64)


# --------------------------------------------------------------------------
# Console log
# --------------------------------------------------------------------------

# kernel/trace/trace.c, both 6.12 and 7.3:
#   "Tracing: mapped boot instance %s at physical memory %pa of size 0x%lx\n"
# %pa prints 0x and 16 hex digits.
MAPPED = re.compile(
    r"Tracing: mapped boot instance (?P<name>\S+) at physical memory "
    r"(?P<addr>(?:0x)?[0-9a-fA-F]+) of size (?P<size>(?:0x)?[0-9a-fA-F]+)")


def find_region(console_text, name: Optional[str] = None) -> Optional[tuple]:
    """(phys_addr, size) of the boot-mapped instance in a console log, or None.

    The last matching message wins, so a log holding several boots gives the
    latest one.  ``name`` restricts the match to one instance."""
    if isinstance(console_text, (bytes, bytearray)):
        console_text = console_text.decode("utf-8", "replace")
    if not isinstance(console_text, str):
        return None
    found = None
    for m in MAPPED.finditer(console_text):
        if name is not None and m.group("name") != name:
            continue
        try:
            found = (int(m.group("addr"), 16), int(m.group("size"), 16))
        except ValueError:
            continue
    return found


# --------------------------------------------------------------------------
# Result objects
# --------------------------------------------------------------------------

@dataclasses.dataclass
class SubBuf:
    """One sub-buffer (page) of one CPU."""
    index: int                  # slot in the CPU's sub-buffer array (what buffers[] holds)
    ring_id: int                # position in the kernel's page list: 0 = reader page
    offset: int                 # from the start of the region
    role: str = "ring"          # "reader" or "ring"
    time_stamp: int = 0         # page header time stamp
    commit_raw: int = 0         # the 64-bit commit word as stored
    commit: int = 0             # committed bytes, flag bits masked
    missed_events: bool = False     # RB_MISSED_EVENTS flag in commit
    missed_stored: bool = False     # RB_MISSED_STORED flag in commit
    nr_events: int = 0          # data events (well-formed prefix) the reader would show
    timestamps: list = dataclasses.field(default_factory=list)
    event_offsets: list = dataclasses.field(default_factory=list)   # data-area offset of each event's first record
    kernel_entries: int = 0     # what the kernel's validator counts (it also counts discarded events)
    good_bytes: int = 0         # bytes of leading well-formed records
    valid: bool = True          # commit in range and every record up to it well formed
    reason: str = None
    kept: bool = True           # the stock kernel keeps and shows this page
    kernel_note: str = None     # why the stock kernel would drop it

    def to_dict(self, timestamps=True):
        d = dataclasses.asdict(self)
        if not timestamps:
            d.pop("timestamps")
            d.pop("event_offsets")
        return d


@dataclasses.dataclass
class CpuBuffer:
    """The per-CPU part of the region."""
    cpu: int
    meta_offset: int
    subbufs_offset: int
    nr_subbufs: int             # from the layout (what the kernel expects)
    meta: dict = dataclasses.field(default_factory=dict)    # raw meta fields
    buffers: list = dataclasses.field(default_factory=list)
    reader_index: int = None    # slots (sub-buffer indexes)
    head_index: int = None
    commit_index: int = None
    prev_virt_base: int = None  # virtual address of the region in the previous boot
    valid: bool = True          # the meta makes sense (permutation, head/commit map to pages)
    reason: str = None
    subbufs: list = dataclasses.field(default_factory=list)     # ring (read) order
    slots: dict = dataclasses.field(default_factory=dict)       # index -> SubBuf, every page looked at
    kernel_valid: bool = True   # the stock kernel would keep this CPU's data
    kernel_reason: str = None
    kernel_discarded: int = 0   # 7.3: pages the kernel would drop (but keep the CPU)
    rewound: int = 0            # 7.3: already-read pages the kernel would bring back

    @property
    def nr_events(self):
        """Events held by the pages in ring order (what survives if nothing is dropped)."""
        return sum(sb.nr_events for sb in self.subbufs)

    @property
    def kernel_events(self):
        """Events the stock kernel would show after the next boot."""
        if not self.kernel_valid:
            return 0
        return sum(sb.nr_events for sb in self.subbufs if sb.kept)

    @property
    def timestamps(self):
        out = []
        for sb in self.subbufs:
            out.extend(sb.timestamps)
        return out

    def subbuf(self, index):
        for sb in self.subbufs:
            if sb.index == index:
                return sb
        return None

    def to_dict(self, timestamps=False):
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
             if f.name not in ("subbufs", "slots")}
        d["nr_events"] = self.nr_events
        d["kernel_events"] = self.kernel_events
        d["subbufs"] = [sb.to_dict(timestamps) for sb in self.subbufs]
        return d


@dataclasses.dataclass
class Region:
    base: str
    size: int
    nr_cpus: int = 0
    nr_subbufs: int = 0
    subbuf_size: int = PAGE_SIZE
    top_meta: dict = None       # 7.3 only
    first_meta_offset: int = 0
    prev_virt_base: int = None
    valid: bool = True
    reason: str = None
    kernel_valid: bool = True   # 7.3: the top meta passes the kernel's checks
    kernel_reason: str = None
    cpus: list = dataclasses.field(default_factory=list)

    def cpu(self, n):
        for c in self.cpus:
            if c.cpu == n:
                return c
        return None

    @property
    def nr_events(self):
        return sum(c.nr_events for c in self.cpus)

    @property
    def kernel_events(self):
        return sum(c.kernel_events for c in self.cpus)

    def to_dict(self, timestamps=False):
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "cpus"}
        d["nr_events"] = self.nr_events
        d["kernel_events"] = self.kernel_events
        d["cpus"] = [c.to_dict(timestamps) for c in self.cpus]
        return d


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

class _CpuParser:
    """Parse one CPU: meta, ring order, and what the stock kernel would do."""

    def __init__(self, b, base, cpu, meta_off, msz, nr):
        self.b = b
        self.base = base
        self.nr = nr
        self.c = CpuBuffer(cpu=cpu, meta_offset=meta_off,
                           subbufs_offset=subbufs_offset(meta_off, msz, nr), nr_subbufs=nr)
        self.msz = msz
        self._walks = {}

    def page_off(self, slot):
        return self.c.subbufs_offset + PAGE_SIZE * slot

    def header(self, slot):
        off = self.page_off(slot)
        return u64(self.b, off), u64(self.b, off + 8)

    def walk(self, slot, tail, ts0):
        key = (slot, tail, ts0)
        w = self._walks.get(key)
        if w is None:
            w = rb_events.walk(self.b, self.page_off(slot) + BUF_PAGE_HDR_SIZE, tail, ts0)
            self._walks[key] = w
        return w

    def subbuf(self, slot, ring_id):
        """SubBuf for a slot as it is in memory (the reader's view)."""
        sb = self.c.slots.get(slot)
        if sb is not None:
            sb.ring_id = ring_id
            sb.role = "reader" if ring_id == 0 else "ring"
            return sb
        sb = SubBuf(index=slot, ring_id=ring_id, offset=self.page_off(slot),
                    role="reader" if ring_id == 0 else "ring")
        try:
            ts, raw = self.header(slot)
        except Bad as ex:
            sb.valid, sb.reason, sb.kept = False, str(ex), False
            self.c.slots[slot] = sb
            return sb
        sb.time_stamp, sb.commit_raw = ts, raw
        sb.commit = raw & COMMIT_SIZE_MASK
        sb.missed_events = bool(raw & RB_MISSED_EVENTS)
        sb.missed_stored = bool(raw & RB_MISSED_STORED)
        if raw >> 32 and not sb.missed_events:
            sb.valid, sb.reason = False, "commit 0x%x has garbage in its upper half" % raw
        elif sb.commit > SUBBUF_CAPACITY:
            sb.valid, sb.reason = False, "commit %d beyond the page capacity %d" % (sb.commit, SUBBUF_CAPACITY)
        if not sb.valid:
            # Without a believable commit nothing on the page can be trusted;
            # random bytes would otherwise decode as a few "events".
            self.c.slots[slot] = sb
            return sb
        w = self.walk(slot, sb.commit, ts)
        sb.nr_events = len(w.events)
        sb.timestamps = [t for _, t in w.events]
        sb.event_offsets = [o for o, _ in w.events]
        sb.kernel_entries = w.entries
        sb.good_bytes = w.good_bytes
        if not w.ok:
            sb.valid, sb.reason = False, w.reason
        elif w.backwards:
            sb.valid, sb.reason = False, "an absolute time stamp goes backwards"
        self.c.slots[slot] = sb
        return sb

    def parse(self):
        c, b, nr = self.c, self.b, self.nr
        m = read_cpu_meta(b, self.base, c.meta_offset, self.msz)
        c.meta = m
        c.prev_virt_base = (m["first_buffer"] - c.subbufs_offset) & U64
        c.buffers = ints(b, c.meta_offset + self.msz, nr)
        if c.subbufs_offset + PAGE_SIZE * nr > len(b):
            raise Bad("sub-buffers at 0x%x run past the region" % c.subbufs_offset)

        problem = cpu_meta_problem(self.base, m, c.buffers, nr)
        if problem is not None:
            return self.fail(*problem)
        first = m["first_buffer"]
        c.reader_index = c.buffers[0]
        c.head_index = (m["head_buffer"] - first) // PAGE_SIZE
        c.commit_index = (m["commit_buffer"] - first) // PAGE_SIZE
        pages = rb_stock.CpuPages(buffers=c.buffers, head=c.head_index, commit=c.commit_index,
                                  headers=[self.header(slot) for slot in range(nr)], walk=self.walk)
        self.apply_stock(rb_stock.kernel(self.base, pages))
        return c

    def fail(self, reason, kernel=None):
        c = self.c
        c.valid, c.reason = False, reason
        c.kernel_valid, c.kernel_reason = False, kernel or reason
        return c

    def apply_stock(self, v):
        """Record what the stock kernel does (rb_stock's verdict) on the pages."""
        c = self.c
        c.rewound, c.kernel_discarded = v.rewound, v.discarded
        self.finish(v.order, v.ring_ids)
        for slot, note in v.dropped.items():
            sb = c.slots.get(slot) or self.subbuf(slot, v.ring_ids.get(slot, -1))
            sb.kept, sb.kernel_note = False, note
        if not v.valid:
            c.kernel_valid, c.kernel_reason = False, v.reason
            for sb in c.subbufs:
                sb.kept = False
                if v.reset_note:
                    sb.kernel_note = v.reset_note
        for slot, note in v.notes.items():
            c.slots[slot].kernel_note = note

    def finish(self, order, ids):
        """Fill the ring-order list; the reader page only if it holds data."""
        c = self.c
        c.subbufs = []
        for n, slot in enumerate(order):
            sb = self.subbuf(slot, ids.get(slot, -1))
            if n == 0 and sb.commit == 0 and slot != c.commit_index:
                continue
            c.subbufs.append(sb)


def parse_region(mem, base: str, nr_cpus: Optional[int] = None) -> "Region":
    """Decode a boot-mapped ring buffer region.

    ``mem`` holds exactly the region's bytes (FILE[phys_addr:phys_addr+size]);
    ``base`` is "6.12" or "7.3".  The region must start page aligned, as
    reserve_mem=...:4096 gives.  ``nr_cpus`` is nr_cpu_ids of the guest; when
    None it is worked out from the layout.  Never raises: problems are
    reported through ``valid``/``reason`` on the Region, CPUs and pages."""
    base = str(base)
    try:
        b = as_bytes(mem)
    except Exception as ex:          # not bytes-like at all
        return Region(base=base, size=0, valid=False, reason="not a bytes-like object: %s" % ex,
                      kernel_valid=False, kernel_reason="no region")
    region = Region(base=base, size=len(b))
    try:
        _parse_into(region, b, base, nr_cpus)
    except Bad as ex:
        region.valid, region.reason = False, str(ex)
    except Exception as ex:         # a bug here must not take the harness down
        region.valid, region.reason = False, "internal error: %r" % (ex,)
    if not region.valid:
        region.kernel_valid = False
        region.kernel_reason = region.kernel_reason or region.reason
    return region


def _parse_into(region, b, base, nr_cpus):
    if base not in BASES:
        raise Bad("unknown base %r (want one of %s)" % (base, ", ".join(BASES)))
    size = len(b)
    lay = region_layout(b, base)
    msz, first, scratch = lay.msz, lay.first, lay.scratch
    region.top_meta = lay.top_meta
    if lay.kernel_reason is not None:
        region.kernel_valid, region.kernel_reason = False, lay.kernel_reason
    region.first_meta_offset = first

    if nr_cpus is None:
        nr_cpus = guess_nr_cpus(b, base, size, first, msz, scratch)
        if nr_cpus is None:
            raise Bad("no CPU meta where any CPU count would put one; pass nr_cpus")
    nr = layout_nr_subbufs(base, size, nr_cpus, msz, scratch)
    if nr is None:
        raise Bad("a %d-byte region cannot hold %d CPUs" % (size, nr_cpus))
    region.nr_cpus, region.nr_subbufs = nr_cpus, nr

    bases = {}
    for cpu, off in enumerate(cpu_meta_offsets(first, msz, nr, nr_cpus)):
        p = _CpuParser(b, base, cpu, off, msz, nr)
        try:
            c = p.parse()
        except Bad as ex:
            c = p.fail(str(ex))
        except Exception as ex:
            c = p.fail("internal error: %r" % (ex,))
        if not region.kernel_valid:
            c.kernel_valid = False
            c.kernel_reason = c.kernel_reason or region.kernel_reason
            for sb in c.subbufs:
                sb.kept = False
        if c.valid and c.prev_virt_base is not None:
            bases[c.prev_virt_base] = bases.get(c.prev_virt_base, 0) + 1
        region.cpus.append(c)
    if bases:
        region.prev_virt_base = max(bases, key=bases.get)


def read_region(file_path: str, phys_addr: int, size: int) -> bytes:
    """The region's bytes from a RAM image (guest physical P at file offset P)."""
    with open(file_path, "rb") as f:
        f.seek(phys_addr)
        return f.read(size)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def summary(region: "Region", per_page: bool = True) -> str:
    """Human-readable dump of a parsed region."""
    out = []
    r = region
    out.append("region: base %s, %d bytes, %s, %d CPU(s), %d sub-buffers/CPU%s" % (
        r.base, r.size, "valid" if r.valid else "INVALID (%s)" % r.reason, r.nr_cpus, r.nr_subbufs,
        ", previous virtual base 0x%x" % r.prev_virt_base if r.prev_virt_base is not None else ""))
    if r.top_meta:
        out.append("top meta: " + ", ".join("%s=0x%x" % (k, v & U64) for k, v in r.top_meta.items()))
    if not r.kernel_valid:
        out.append("stock kernel: discards the whole region (%s)" % r.kernel_reason)
    for c in r.cpus:
        out.append("CPU %d: meta @0x%x, sub-buffers @0x%x: %s" % (
            c.cpu, c.meta_offset, c.subbufs_offset, "valid" if c.valid else "INVALID (%s)" % c.reason))
        if not c.valid:
            continue
        out.append("  reader %s, head %s, commit %s; first_buffer 0x%x" % (
            c.reader_index, c.head_index, c.commit_index, c.meta.get("first_buffer", 0)))
        kept = "keeps %d events" % c.kernel_events if c.kernel_valid else "RESETS it (%s)" % c.kernel_reason
        extra = ""
        if c.kernel_discarded:
            extra += ", drops %d page(s)" % c.kernel_discarded
        if c.rewound:
            extra += ", rewinds %d page(s)" % c.rewound
        out.append("  stock kernel: %s%s" % (kept, extra))
        if per_page:
            cells = []
            for sb in c.subbufs:
                mark = "r" if sb.role == "reader" else ""
                flag = "" if sb.valid else "!"
                flag += "" if sb.kept else "x"
                cells.append("%s%d:%d%s" % (mark, sb.index, sb.nr_events, flag))
            for i in range(0, len(cells), 12):
                out.append("    " + " ".join(cells[i:i + 12]))
            # Only pages that are broken themselves or dropped one by one
            # (when 6.12 resets the CPU, every page would be "not kept").
            for sb in c.subbufs:
                if not sb.valid or (not sb.kept and c.kernel_valid):
                    out.append("    page %d: %s%s" % (sb.index, sb.reason or "well formed",
                                                       "; " + sb.kernel_note if sb.kernel_note else ""))
        ts = c.timestamps
        out.append("  totals: %d pages in ring order, %d events%s" % (
            len(c.subbufs), c.nr_events,
            ", %.6f .. %.6f s" % (ts[0] / 1e9, ts[-1] / 1e9) if ts else ""))
    out.append("total: %d events in ring order, stock kernel shows %d" % (r.nr_events, r.kernel_events))
    return "\n".join(out)


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description="Decode a boot-mapped trace ring buffer in a guest RAM image.")
    ap.add_argument("file", nargs="?", help="RAM image (memory-backend-file)")
    ap.add_argument("--console", help="console log holding the 'mapped boot instance' message")
    ap.add_argument("--addr", type=lambda s: int(s, 0), help="region physical address (instead of --console)")
    ap.add_argument("--size", type=lambda s: int(s, 0), help="region size (instead of --console)")
    ap.add_argument("--name", help="boot instance name to look for in the console log")
    ap.add_argument("--base", choices=BASES, help="kernel the region was written by")
    ap.add_argument("--nr-cpus", type=int, help="nr_cpu_ids of the guest (default: from the layout)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--timestamps", action="store_true", help="include time stamps in --json output")
    a = ap.parse_args(argv)
    if not a.file or not a.base:
        ap.error("FILE and --base are needed")
    addr, size = a.addr, a.size
    if a.console:
        with open(a.console, "rb") as f:
            where = find_region(f.read(), a.name)
        if where is None:
            print("no 'mapped boot instance' message in %s" % a.console, file=sys.stderr)
            return 2
        addr = addr if addr is not None else where[0]
        size = size if size is not None else where[1]
    if addr is None or size is None:
        ap.error("give --console, or --addr and --size")
    region = parse_region(read_region(a.file, addr, size), a.base, a.nr_cpus)
    try:
        _print(region, a, addr, size)
    except BrokenPipeError:         # piped into head
        sys.stderr.close()
    return 0


def _print(region, a, addr, size):
    if a.json:
        d = region.to_dict(timestamps=a.timestamps)
        d["phys_addr"] = addr
        print(json.dumps(d, indent=1))
    else:
        print("physical 0x%x, size 0x%x" % (addr, size))
        print(summary(region))


if __name__ == "__main__":
    sys.exit(main())
