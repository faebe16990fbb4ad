#!/usr/bin/env python3
"""Read, check and damage the persistent ("boot-mapped") ring buffer of a
tracing boot instance, straight from a guest RAM image.

The guest boots with ``reserve_mem=8M:4096:trace trace_instance=boot_map@trace``
and prints where the region is (``find_region``).  The host slices those bytes
out of the memory-backend file and ``parse_region`` decodes them the way the
kernel that wrote them would read them back on the next boot.

Layouts (x86_64, PAGE_SIZE 4096, one sub-buffer = one page):

6.12 (kernel/trace/ring_buffer.c, struct ring_buffer_meta, 56 bytes)::

    [cpu0 meta | int buffers[N]] pad to page | N sub-buffers | [cpu1 meta ...] ...

    meta: int magic (0xBADFEED), int struct_size (56), ulong text_addr,
          ulong data_addr, ulong first_buffer, ulong head_buffer,
          ulong commit_buffer, u32 subbuf_size, u32 nr_subbufs, int buffers[]

7.3 (struct ring_buffer_meta + struct ring_buffer_cpu_meta)::

    [top meta 24 B | trace_scratch 8216 B] [cpu0 meta | buffers[N]] pad | N sub-buffers | [cpu1 ...]

    top meta: int magic, int struct_sizes (cpu meta size | top size << 16),
              ulong total_size, ulong buffers_offset (offset of cpu0 meta)
    cpu meta: ulong first_buffer, head_buffer, commit_buffer, u32 subbuf_size,
              u32 nr_subbufs, [u32 nr_invalid, u32 entry_bytes if
              CONFIG_RING_BUFFER_PERSISTENT_INJECT], int buffers[]
    (no per-CPU magic any more)

first_buffer, head_buffer and commit_buffer are *virtual* addresses of the
previous boot (6.12 vmap()s the region, 7.3 uses the direct map for
reserve_mem); only their differences mean something, and the next boot
rewrites them.  text_addr/data_addr (6.12) are kernel symbol addresses kept
for the KASLR delta, not region addresses.  buffers[0] is the slot of the
reader page, buffers[1..N-1] the slots of the ring pages in list order.
Every sub-buffer starts with a buffer_data_page header: u64 time_stamp, long
commit (64-bit local_t; bits 31/30 are RB_MISSED_EVENTS/RB_MISSED_STORED),
then the events.  The region is split by nr_cpu_ids (possible CPUs), and all
offsets assume it starts page aligned (reserve_mem=...:4096).

Read order, as the kernel's iterator shows it after the next boot: the reader
page (when it holds data), then the ring from the head page to the commit
page.  What the stock kernels then keep differs:
  6.12  one bad sub-buffer (a commit over 4096 anywhere, or an event that does
        not parse between head and commit) resets the whole CPU;
  7.3   bad or out-of-order pages are dropped one by one (commit set to
        RB_MISSED_EVENTS), and pages already read before the crash are
        brought back by rewinding from the head (the reader page is moved).
Each CpuBuffer/SubBuf carries both what is in memory (nr_events, valid) and
what the stock kernel would do (kernel_valid, kept, kernel_events).

Public API: find_region(), parse_region(), read_region(), corrupt_subbuf(),
corrupt_event_in_subbuf(), summary(), selftest(); Region, CpuBuffer, SubBuf.

Nothing here raises on garbage: a CPU or a sub-buffer that does not make sense
is marked invalid with a reason.

Run ``python3 harness/ringbuf.py --selftest`` for the built-in checks, or
``python3 harness/ringbuf.py RAMFILE --console LOG --base 6.12`` for a dump.
"""

import argparse
import dataclasses
import json
import os
import re
import struct
import sys

PAGE_SIZE = 4096
BUF_PAGE_HDR_SIZE = 16                      # u64 time_stamp + long commit
SUBBUF_CAPACITY = PAGE_SIZE - BUF_PAGE_HDR_SIZE
META_MAGIC = 0xBADFEED

RB_MISSED_EVENTS = 1 << 31
RB_MISSED_STORED = 1 << 30
# The kernel masks with ~RB_MISSED_MASK, an int promoted to long: 0x3fffffff.
COMMIT_SIZE_MASK = 0x3FFFFFFF
# local_set(&commit, RB_MISSED_EVENTS) stores (long)(int)(1 << 31).
COMMIT_DROPPED = 0xFFFFFFFF80000000

TS_SHIFT = 27
TS_MASK = (1 << TS_SHIFT) - 1
TS_MSB = 0xF8 << 56
ABS_TS_MASK = (1 << 59) - 1
U64 = (1 << 64) - 1

RINGBUF_TYPE_DATA_TYPE_LEN_MAX = 28
RINGBUF_TYPE_PADDING = 29
RINGBUF_TYPE_TIME_EXTEND = 30
RINGBUF_TYPE_TIME_STAMP = 31
RB_ALIGNMENT = 4
RB_MAX_SMALL_DATA = RB_ALIGNMENT * RINGBUF_TYPE_DATA_TYPE_LEN_MAX

BASES = ("6.12", "7.3")

# 6.12: struct ring_buffer_meta
META612 = struct.Struct("<iiQQQQQII")
assert META612.size == 56
# 7.3: struct ring_buffer_meta (top) and struct ring_buffer_cpu_meta
BMETA73 = struct.Struct("<iiQQ")
CPUMETA73 = struct.Struct("<QQQII")
CPUMETA73_INJECT = struct.Struct("<QQQIIII")
# Fields of the per-CPU meta that the host reads or rewrites:
# name -> (offset in the per-CPU meta, size), for each layout.
META_FIELDS = {
    "6.12": {"first_buffer": (24, 8), "head_buffer": (32, 8), "commit_buffer": (40, 8),
             "subbuf_size": (48, 4), "nr_subbufs": (52, 4), "magic": (0, 4), "struct_size": (4, 4)},
    "7.3": {"first_buffer": (0, 8), "head_buffer": (8, 8), "commit_buffer": (16, 8),
            "subbuf_size": (24, 4), "nr_subbufs": (28, 4)},
}
# 7.3 trace.c asks for struct_size(tscratch, entries, 128): a 24-byte
# trace_scratch header and 128 trace_mod_entry of 8 + MODULE_NAME_LEN (56).
SCRATCH73 = 24 + 128 * 64
# 7.3 refuses more than 2^30 - 1 pages (bpage->id is 30 bits).
RB_STATIC_MAX_PAGES = (1 << 30) - 1

# Upper bound when guessing the CPU count (CONFIG_NR_CPUS may be large).
MAX_CPUS_GUESS = 1024


def _align(x, a):
    return (x + a - 1) // a * a


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _fix_abs_ts(abs_ts, save_ts):
    """rb_fix_abs_ts(): re-insert the 5 MSBs dropped from a 59-bit stamp."""
    if save_ts & TS_MSB:
        abs_ts |= save_ts & TS_MSB
        if abs_ts < save_ts:
            abs_ts = (abs_ts + (1 << 59)) & U64
    return abs_ts


# --------------------------------------------------------------------------
# Console log
# --------------------------------------------------------------------------

# kernel/trace/trace.c, both 6.12 and 7.3:
#   "Tracing: mapped boot instance %s at physical memory %pa of size 0x%lx\n"
# %pa prints 0x and 16 hex digits.
MAPPED = re.compile(
    r"Tracing: mapped boot instance (?P<name>\S+) at physical memory "
    r"(?P<addr>(?:0x)?[0-9a-fA-F]+) of size (?P<size>(?:0x)?[0-9a-fA-F]+)")


def find_region(console_text, name=None):
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


class _Bad(Exception):
    """Internal: the bytes do not make sense here."""


# --------------------------------------------------------------------------
# Byte access that never reads past the region
# --------------------------------------------------------------------------

def _u32(b, off):
    if off < 0 or off + 4 > len(b):
        raise _Bad("read of 4 bytes at 0x%x past the region (0x%x bytes)" % (off, len(b)))
    return struct.unpack_from("<I", b, off)[0]


def _u64(b, off):
    if off < 0 or off + 8 > len(b):
        raise _Bad("read of 8 bytes at 0x%x past the region (0x%x bytes)" % (off, len(b)))
    return struct.unpack_from("<Q", b, off)[0]


def _ints(b, off, n):
    if n < 0 or off < 0 or off + 4 * n > len(b):
        raise _Bad("buffers[%d] at 0x%x runs past the region" % (n, off))
    return list(struct.unpack_from("<%di" % n, b, off))


# --------------------------------------------------------------------------
# Event walking
# --------------------------------------------------------------------------

@dataclasses.dataclass
class _Walk:
    ok: bool            # reached the tail exactly with well-formed records
    reason: str
    good_bytes: int
    events: list        # [(record offset, reader time stamp)] of data events
    entries: int        # rb_read_data_buffer()'s count (data + non-trivial padding)
    end_ts: int         # rb_read_data_buffer()'s final time stamp
    backwards: bool     # an absolute time stamp went backwards (validator rejects)


def _walk(b, data_off, tail, page_ts):
    """Walk the records of one page's data area up to ``tail`` bytes.

    Lengths follow rb_event_length(); the validator's view (entries, end_ts,
    backwards) follows rb_read_data_buffer(), which adds every delta including
    those of discarded (padding) events; the reader's time stamps follow
    rb_iter_peek()/rb_update_iter_read_stamp(), which ignore padding deltas and
    give a data event right after an absolute TIME_STAMP that stamp."""
    n = len(b)
    e = 0
    vts = page_ts           # validator's running stamp
    rts = page_ts           # reader's read_stamp
    pending = 0             # absolute stamp waiting for its data event
    group = None            # first record (extend/stamp) of the pending event
    events = []
    entries = 0
    backwards = False
    unpack = struct.unpack_from
    while e < tail:
        pos = data_off + e
        if pos + 4 > n:
            return _Walk(False, "event at data+%d runs past the region" % e, e, events, entries, vts, backwards)
        word = unpack("<I", b, pos)[0]
        tl = word & 0x1F
        td = word >> 5
        if tl == 0 or tl >= RINGBUF_TYPE_PADDING:
            if pos + 8 > n:
                return _Walk(False, "event at data+%d runs past the region" % e, e, events, entries, vts, backwards)
            a0 = unpack("<I", b, pos + 4)[0]
        else:
            a0 = 0
        if tl == RINGBUF_TYPE_PADDING:
            if td == 0:
                # rb_event_length() says -1 for a null event
                return _Walk(False, "null padding event at data+%d inside the commit" % e,
                             e, events, entries, vts, backwards)
            length = _s32(a0 + 4)
        elif tl >= RINGBUF_TYPE_TIME_EXTEND:
            length = 8
        elif tl == 0:
            length = _s32(a0 + 4)
        else:
            length = tl * RB_ALIGNMENT + 4
        if length <= 0 or length > tail - e:
            return _Walk(False, "event at data+%d (type_len %d) has length %d, %d bytes left before commit"
                         % (e, tl, length, tail - e), e, events, entries, vts, backwards)
        if tl == RINGBUF_TYPE_TIME_EXTEND:
            delta = (a0 << TS_SHIFT) + td
            vts = (vts + delta) & U64
            rts = (rts + delta) & U64
            if group is None:
                group = e
        elif tl == RINGBUF_TYPE_TIME_STAMP:
            stamp = (a0 << TS_SHIFT) + td
            fixed = _fix_abs_ts(stamp, vts)
            if fixed < vts:
                backwards = True
            vts = fixed
            pending = _fix_abs_ts(stamp, page_ts)
            rts = _fix_abs_ts(stamp, rts)
            if group is None:
                group = e
        elif tl == RINGBUF_TYPE_PADDING:
            # Discarded event (or end-of-page padding when time_delta == 1)
            if td != 1:
                entries += 1
                vts = (vts + td) & U64
            pending = 0
            group = None
        else:
            entries += 1
            vts = (vts + td) & U64
            ts = pending if pending else (rts + td) & U64
            rts = (rts + td) & U64
            events.append((group if group is not None else e, ts))
            pending = 0
            group = None
        e += length
    return _Walk(True, None, e, events, entries, vts, backwards)


# --------------------------------------------------------------------------
# Layout: where each CPU's meta and sub-buffers are
# --------------------------------------------------------------------------

def _fits(start, msz, nr, ncpu, end):
    """The alloc_buffer() loop that checks nr sub-buffers per CPU fit."""
    ptr = start
    # After the first chunk ptr is page aligned, so all later chunks are equal.
    for n in range(min(ncpu, 2)):
        ptr = _align(ptr + msz + 4 * nr, PAGE_SIZE) + PAGE_SIZE * nr
    if ncpu > 2:
        chunk = _align(msz + 4 * nr, PAGE_SIZE) + PAGE_SIZE * nr
        ptr += chunk * (ncpu - 2)
    return ptr <= end


def _layout_nr_subbufs(base, size, ncpu, msz=None, scratch=SCRATCH73):
    """nr_subbufs (reader page included) the kernel computes for a region of
    ``size`` bytes and ``ncpu`` possible CPUs, or None if it would refuse."""
    if ncpu < 1 or size <= 0:
        return None
    if base == "6.12":
        msz = META612.size
        start = 0
        per = size // ncpu
    else:
        msz = msz or CPUMETA73.size
        # 7.3 sizes the CPUs from start + sizeof(cpu meta) + scratch (not the
        # top meta size it really uses); mirror that.
        start = _align(msz, 8) + _align(scratch, 8)
        if size <= start:
            return None
        per = (size - start) // ncpu
    if per < msz:
        return None
    nr = (per - msz) // (PAGE_SIZE + 4)
    if base != "6.12" and nr > RB_STATIC_MAX_PAGES:
        return None
    if nr < 3:
        return None
    while not _fits(start, msz, nr, ncpu, size):
        if nr <= 3:
            return None
        nr -= 1
    return nr


def _cpu_meta_offsets(first, msz, nr, ncpu):
    """rb_range_meta(): cpu0 at ``first``, the next right after its sub-buffers."""
    offs = []
    off = first
    for _ in range(ncpu):
        offs.append(off)
        off = _align(off + msz + 4 * nr, PAGE_SIZE) + PAGE_SIZE * nr
    return offs


def _subbufs_offset(meta_off, msz, nr):
    """rb_subbufs_from_meta()/rb_range_align_subbuf()."""
    return _align(meta_off + msz + 4 * nr, PAGE_SIZE)


def _read_cpu_meta(b, base, off, msz):
    """Raw meta fields as a dict (no checks)."""
    if base == "6.12":
        if off + META612.size > len(b):
            raise _Bad("meta at 0x%x runs past the region" % off)
        (magic, struct_size, text_addr, data_addr, first, head, commit,
         subbuf_size, nr_subbufs) = META612.unpack_from(b, off)
        return dict(magic=magic, struct_size=struct_size, text_addr=text_addr,
                    data_addr=data_addr, first_buffer=first, head_buffer=head,
                    commit_buffer=commit, subbuf_size=subbuf_size, nr_subbufs=nr_subbufs)
    st = CPUMETA73_INJECT if msz == CPUMETA73_INJECT.size else CPUMETA73
    if off + st.size > len(b):
        raise _Bad("meta at 0x%x runs past the region" % off)
    vals = st.unpack_from(b, off)
    d = dict(first_buffer=vals[0], head_buffer=vals[1], commit_buffer=vals[2],
             subbuf_size=vals[3], nr_subbufs=vals[4])
    if st is CPUMETA73_INJECT:
        d.update(nr_invalid=vals[5], entry_bytes=vals[6])
    return d


def _meta_plausible(b, base, off, msz, nr):
    try:
        m = _read_cpu_meta(b, base, off, msz)
    except _Bad:
        return False
    if base == "6.12" and (m["magic"] != META_MAGIC or m["struct_size"] != META612.size):
        return False
    return m["subbuf_size"] == PAGE_SIZE and m["nr_subbufs"] == nr


def _guess_nr_cpus(b, base, size, first, msz, scratch):
    """The CPU count whose layout puts the most plausible metas where they belong."""
    layouts = []
    for n in range(1, MAX_CPUS_GUESS + 1):
        nr = _layout_nr_subbufs(base, size, n, msz, scratch)
        if nr is None:
            break       # per-CPU room only shrinks with more CPUs
        layouts.append((n, nr))

    def score(n, nr, limit):
        offs = _cpu_meta_offsets(first, msz, nr, n)[:limit]
        return sum(1 for off in offs if _meta_plausible(b, base, off, msz, nr))

    # Cheap pass on cpu0/cpu1 first; score every CPU only for those layouts,
    # and fall back to scoring all layouts when both are damaged.
    cands = [(n, nr) for n, nr in layouts if score(n, nr, 2)] or layouts
    best = None
    for n, nr in cands:
        sc = score(n, nr, n)
        if sc and (best is None or sc > best[0]):
            best = (sc, n)
    return best[1] if best else None


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
                           subbufs_offset=_subbufs_offset(meta_off, msz, nr), nr_subbufs=nr)
        self.msz = msz
        self._walks = {}

    # -- pages ---------------------------------------------------------------

    def page_off(self, slot):
        return self.c.subbufs_offset + PAGE_SIZE * slot

    def header(self, slot):
        off = self.page_off(slot)
        return _u64(self.b, off), _u64(self.b, off + 8)

    def walk(self, slot, tail, ts0):
        key = (slot, tail, ts0)
        w = self._walks.get(key)
        if w is None:
            w = _walk(self.b, self.page_off(slot) + BUF_PAGE_HDR_SIZE, tail, ts0)
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
        except _Bad as ex:
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

    # -- meta ----------------------------------------------------------------

    def parse(self):
        c, b, nr = self.c, self.b, self.nr
        m = _read_cpu_meta(b, self.base, c.meta_offset, self.msz)
        c.meta = m
        c.prev_virt_base = (m["first_buffer"] - c.subbufs_offset) & U64
        c.buffers = _ints(b, c.meta_offset + self.msz, nr)
        if c.subbufs_offset + PAGE_SIZE * nr > len(b):
            raise _Bad("sub-buffers at 0x%x run past the region" % c.subbufs_offset)

        if self.base == "6.12" and m["magic"] != META_MAGIC:
            return self.fail("bad magic 0x%x" % (m["magic"] & 0xFFFFFFFF))
        if self.base == "6.12" and m["struct_size"] != META612.size:
            return self.fail("struct_size %d, expected %d" % (m["struct_size"], META612.size))
        if m["subbuf_size"] != PAGE_SIZE:
            return self.fail("subbuf_size %d, expected %d" % (m["subbuf_size"], PAGE_SIZE))
        if m["nr_subbufs"] != nr:
            return self.fail("nr_subbufs %d, the layout needs %d" % (m["nr_subbufs"], nr))
        if sorted(c.buffers) != list(range(nr)):
            return self.fail("buffers[] is not a permutation of 0..%d" % (nr - 1))
        first = m["first_buffer"]
        span = PAGE_SIZE * nr
        for what in ("head", "commit"):
            addr = m[what + "_buffer"]
            # rb_meta_valid(): [first, first + span)
            if not first <= addr < first + span:
                return self.fail("%s_buffer 0x%x outside the sub-buffers [0x%x, 0x%x)"
                                 % (what, addr, first, first + span))
            if (addr - first) % PAGE_SIZE:
                return self.fail("%s_buffer 0x%x is not at a sub-buffer start" % (what, addr),
                                 kernel="%s_buffer not page aligned: stock kernel finds no %s page%s"
                                 % (what, what, " and dereferences NULL" if what == "head" else ""))
        c.reader_index = c.buffers[0]
        c.head_index = (m["head_buffer"] - first) // PAGE_SIZE
        c.commit_index = (m["commit_buffer"] - first) // PAGE_SIZE
        if self.base == "6.12":
            self.kernel_612()
        else:
            self.kernel_73()
        return c

    def fail(self, reason, kernel=None):
        c = self.c
        c.valid, c.reason = False, reason
        c.kernel_valid, c.kernel_reason = False, kernel or reason
        return c

    def ring_ids(self):
        """slot -> ring id (0 = reader)."""
        return {slot: i for i, slot in enumerate(self.c.buffers)}

    # -- 6.12 ----------------------------------------------------------------

    def kernel_612(self):
        """Mirror rb_meta_valid() (its commit check) and rb_meta_validate_events()."""
        c, nr = self.c, self.nr
        ids = self.ring_ids()
        reader = c.reader_index
        ring = c.buffers[1:]
        bad = None
        # rb_meta_valid() checks each slot's raw commit (as unsigned int)
        for slot in range(nr):
            _, raw = self.header(slot)
            if (raw & 0xFFFFFFFF) > PAGE_SIZE:
                bad = bad or "sub-buffer %d has invalid commit 0x%x" % (slot, raw)

        def page_ok(slot):
            ts, raw = self.header(slot)
            tail = _s32(raw)
            if tail <= 0:
                return True
            w = self.walk(slot, tail, ts)
            return w.ok and not w.backwards

        order = [reader]
        if c.commit_index != reader:
            if c.head_index == reader:
                # head_page would be the (unlinked) reader page: the walk
                # never meets the commit page
                bad = bad or "head_buffer is the reader page; commit page not found"
                order = [reader]
            else:
                pos = ring.index(c.head_index)
                for i in range(len(ring)):
                    slot = ring[(pos + i) % len(ring)]
                    order.append(slot)
                    if slot == c.commit_index:
                        break
        if bad is None:
            for slot in order:
                if not page_ok(slot):
                    bad = "sub-buffer %d (%s) fails event validation" % (
                        slot, "reader page" if slot == reader else "ring id %d" % ids[slot])
                    break
        self.finish(order, ids)
        if bad:
            c.kernel_valid, c.kernel_reason = False, bad
            for sb in c.subbufs:
                sb.kept = False
                sb.kernel_note = "the whole CPU is reset"
            for slot in order:
                if not page_ok(slot):
                    c.slots[slot].kernel_note = "fails event validation; the whole CPU is reset"

    # -- 7.3 ----------------------------------------------------------------

    def kernel_73(self):
        """Mirror 7.3's rb_meta_validate_events(): head page first, reader
        page, rewind over already-read pages, reinsert the reader page, then
        head to commit, dropping (not rejecting) pages that fail."""
        c, nr = self.c, self.nr
        ring = c.buffers[1:]
        nxt, prv = {}, {}
        for i, slot in enumerate(ring):
            nxt[slot] = ring[(i + 1) % len(ring)]
            prv[slot] = ring[(i - 1) % len(ring)]
        reader = orig_reader = c.reader_index
        nxt[reader] = prv[reader] = reader          # INIT_LIST_HEAD(reader->list)
        head = orig_head = c.head_index
        commit = tail = c.commit_index
        sim = {}                                   # slot -> (ts, raw) after the kernel's writes
        dropped = {}
        state = {"ts": 0, "discarded": 0, "entries": 0}

        def hdr(slot):
            if slot not in sim:
                sim[slot] = self.header(slot)
            return sim[slot]

        def validate(slot, prev_ts, next_ts):       # __rb_validate_buffer()
            ts0, raw = hdr(slot)
            ret, ts, why = -1, 0, None
            if raw <= SUBBUF_CAPACITY:
                w = self.walk(slot, raw, ts0)
                if w.ok and not w.backwards:
                    ret, ts = w.entries, w.end_ts
                else:
                    why = w.reason or "absolute time stamp goes backwards"
            else:
                why = "commit 0x%x beyond capacity" % raw
            if ret >= 0 and prev_ts and prev_ts > ts:
                ret, why = -1, "ends (%d) before the previous page starts (%d)" % (ts, prev_ts)
            if ret >= 0 and next_ts and ts > next_ts:
                ret, why = -1, "ends (%d) after the next page starts (%d)" % (ts, next_ts)
            if ret < 0:
                sim[slot] = (prev_ts or next_ts, COMMIT_DROPPED)
                dropped.setdefault(slot, why)
            return ret

        def validate_state(slot, prev_ts, next_ts):  # rb_validate_buffer()
            ret = validate(slot, prev_ts, next_ts)
            if ret < 0:
                state["discarded"] += 1
            else:
                state["entries"] += ret
                state["ts"] = hdr(slot)[0]

        skip = False
        if validate(head, 0, 0) < 0:
            skip = True
            state["ts"] = 0
        else:
            state["ts"] = hdr(head)[0]
        validate_state(orig_reader, 0, state["ts"])

        hp = head
        if not skip and head != tail:
            hp = prv[hp]
            i = 0
            while i < nr + 1:
                if hp == tail:
                    break
                ts0, raw = hdr(hp)
                # "unused": no stamp and rb_page_commit() (an unsigned int) zero
                if not ts0 and not raw & 0xFFFFFFFF:
                    break
                validate_state(hp, 0, state["ts"])
                i += 1
                hp = prv[hp]
            c.rewound = i
            if hp != orig_head:
                hp = nxt[hp]
            if hp != orig_head:
                # rb_meta_inject_reader_page(): old reader goes before the
                # original head, the oldest rewound page becomes the reader.
                b4 = prv[orig_head]
                nxt[reader], prv[reader] = orig_head, prv[orig_head]
                prv[orig_head] = reader
                nxt[b4] = reader
                new_reader = hp
                after = nxt[new_reader]
                prv[after] = prv[new_reader]
                nxt[prv[new_reader]] = after
                reader = new_reader
                head = after
                hp = orig_head
            else:
                hp = orig_head
                c.rewound = 0
        found = True
        if commit != reader:
            state["ts"] = hdr(hp)[0]
            for _ in range(nr + 1):
                if hp != orig_reader:
                    validate_state(hp, state["ts"], 0)
                    if hp == commit:
                        break
                hp = nxt[hp]
            # like the kernel, compare after the loop (it may end anywhere)
            found = hp == commit
        c.kernel_discarded = state["discarded"]

        # What the reader then walks: reader page, head .. commit.
        order = [reader]
        if commit != reader:
            hp = head
            for _ in range(nr + 1):
                if hp == reader:
                    break
                order.append(hp)
                if hp == commit:
                    break
                hp = nxt[hp]
        if reader == orig_reader:
            ids = self.ring_ids()
        else:
            # rb_meta_inject_reader_page() renumbers buffers[] from the new head
            ids = {reader: 0}
            hp = head
            for i in range(1, nr):
                ids.setdefault(hp, i)
                hp = nxt[hp]
        self.finish(order, ids)
        for slot, why in dropped.items():
            sb = c.slots.get(slot) or self.subbuf(slot, ids.get(slot, -1))
            sb.kept = False
            sb.kernel_note = "dropped: " + (why or "invalid")
        if not found:
            c.kernel_valid, c.kernel_reason = False, "commit page not found"
            for sb in c.subbufs:
                sb.kept = False

    def finish(self, order, ids):
        """Fill the ring-order list; the reader page only if it holds data."""
        c = self.c
        c.subbufs = []
        for n, slot in enumerate(order):
            sb = self.subbuf(slot, ids.get(slot, -1))
            if n == 0 and sb.commit == 0 and slot != c.commit_index:
                continue
            c.subbufs.append(sb)


def _as_bytes(mem):
    if isinstance(mem, (bytes, bytearray, memoryview)):
        mv = memoryview(mem)
    else:
        mv = memoryview(mem)            # mmap and other buffer objects
    if mv.ndim != 1 or mv.itemsize != 1:
        mv = mv.cast("B")
    return mv


def parse_region(mem, base, nr_cpus=None):
    """Decode a boot-mapped ring buffer region.

    ``mem`` holds exactly the region's bytes (FILE[phys_addr:phys_addr+size]);
    ``base`` is "6.12" or "7.3".  The region must start page aligned, as
    reserve_mem=...:4096 gives.  ``nr_cpus`` is nr_cpu_ids of the guest; when
    None it is worked out from the layout.  Never raises: problems are
    reported through ``valid``/``reason`` on the Region, CPUs and pages."""
    base = str(base)
    try:
        b = _as_bytes(mem)
    except Exception as ex:          # not bytes-like at all
        return Region(base=base, size=0, valid=False, reason="not a bytes-like object: %s" % ex,
                      kernel_valid=False, kernel_reason="no region")
    region = Region(base=base, size=len(b))
    try:
        _parse_into(region, b, base, nr_cpus)
    except _Bad as ex:
        region.valid, region.reason = False, str(ex)
    except Exception as ex:         # a bug here must not take the harness down
        region.valid, region.reason = False, "internal error: %r" % (ex,)
    if not region.valid:
        region.kernel_valid = False
        region.kernel_reason = region.kernel_reason or region.reason
    return region


def _parse_into(region, b, base, nr_cpus):
    if base not in BASES:
        raise _Bad("unknown base %r (want one of %s)" % (base, ", ".join(BASES)))
    size = len(b)
    if base == "6.12":
        msz, first, scratch = META612.size, 0, 0
    else:
        msz, scratch = CPUMETA73.size, SCRATCH73
        first = BMETA73.size + scratch          # what a stock 7.3 kernel writes
        if size < BMETA73.size:
            raise _Bad("region of %d bytes is smaller than the top meta" % size)
        magic, sizes, total, boff = BMETA73.unpack_from(b, 0)
        region.top_meta = dict(magic=magic, struct_sizes=sizes, total_size=total, buffers_offset=boff)
        cpu_msz, top_sz = sizes & 0xFFFF, sizes >> 16
        why = None
        if magic != META_MAGIC:
            why = "top meta: bad magic 0x%x" % (magic & 0xFFFFFFFF)
        elif top_sz != BMETA73.size or cpu_msz not in (CPUMETA73.size, CPUMETA73_INJECT.size):
            why = "top meta: struct_sizes 0x%x" % (sizes & 0xFFFFFFFF)
        elif total != size:
            why = "top meta: total_size %d, region is %d" % (total, size)
        elif boff > total or boff % 8 or boff < BMETA73.size:
            why = "top meta: buffers_offset 0x%x makes no sense" % boff
        if why is None:
            # Trust the meta for the layout (another scratch size is possible)
            msz = cpu_msz
            scratch = boff - BMETA73.size
            first = boff
            if boff != BMETA73.size + SCRATCH73:
                region.kernel_valid = False
                region.kernel_reason = "top meta: buffers_offset 0x%x, stock 7.3 expects 0x%x" % (
                    boff, BMETA73.size + SCRATCH73)
        else:
            # rb_meta_init() re-initialises everything: every CPU is lost
            region.kernel_valid, region.kernel_reason = False, why
    region.first_meta_offset = first

    if nr_cpus is None:
        nr_cpus = _guess_nr_cpus(b, base, size, first, msz, scratch)
        if nr_cpus is None:
            raise _Bad("no CPU meta where any CPU count would put one; pass nr_cpus")
    nr = _layout_nr_subbufs(base, size, nr_cpus, msz, scratch)
    if nr is None:
        raise _Bad("a %d-byte region cannot hold %d CPUs" % (size, nr_cpus))
    region.nr_cpus, region.nr_subbufs = nr_cpus, nr

    bases = {}
    for cpu, off in enumerate(_cpu_meta_offsets(first, msz, nr, nr_cpus)):
        p = _CpuParser(b, base, cpu, off, msz, nr)
        try:
            c = p.parse()
        except _Bad as ex:
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


def read_region(file_path, phys_addr, size):
    """The region's bytes from a RAM image (guest physical P at file offset P)."""
    with open(file_path, "rb") as f:
        f.seek(phys_addr)
        return f.read(size)


# --------------------------------------------------------------------------
# Damage
# --------------------------------------------------------------------------

def head_write(base, cpu, slot):
    """(offset in the region, bytes) that make `slot` the head page recorded
    in `cpu`'s meta data: what a lost update of it, or the real head put
    back, looks like in memory."""
    off, _ = META_FIELDS[base]["head_buffer"]
    return cpu.meta_offset + off, struct.pack("<Q", cpu.meta["first_buffer"] + PAGE_SIZE * slot)


def _pick(region, cpu, which, rng):
    """The sub-buffer to damage: a data page that is neither the first nor the
    last in ring order (nor the first or last page holding data)."""
    c = region.cpu(cpu) if isinstance(region, Region) else None
    if c is None:
        raise ValueError("CPU %r is not in the region" % (cpu,))
    if not c.valid:
        raise ValueError("CPU %d has no usable ring (%s)" % (cpu, c.reason))
    order = c.subbufs
    if isinstance(which, int) and not isinstance(which, bool):
        for sb in order:
            if sb.index == which:
                return c, sb
        raise ValueError("sub-buffer %d is not in CPU %d's ring order" % (which, cpu))
    data = [i for i, sb in enumerate(order) if sb.nr_events > 0]
    cands = [order[i] for i in data
             if 0 < i < len(order) - 1 and i != data[0] and i != data[-1]]
    if not cands:
        raise ValueError("CPU %d has no middle sub-buffer holding events: %d pages in ring order, "
                         "%d with events (need one that is neither first nor last)"
                         % (cpu, len(order), len(data)))
    if which == "middle":
        return c, cands[len(cands) // 2]
    if which == "random":
        return c, rng.choice(cands)
    raise ValueError("which must be 'middle', 'random' or a sub-buffer index, not %r" % (which,))


def _write(file_path, where, data):
    with open(file_path, "r+b") as f:
        f.seek(where)
        f.write(data)


def corrupt_subbuf(file_path, phys_addr, region, cpu, which, rng, mode="random"):
    """Overwrite one whole sub-buffer of ``cpu`` in the RAM file.

    ``which``: "middle" (the middle candidate), "random" (one picked by
    ``rng``), or a sub-buffer index.  ``mode``: "random" bytes from ``rng``,
    "zero", or "events" (see corrupt_event_in_subbuf).  Returns a dict
    describing the damage."""
    if mode == "events":
        return corrupt_event_in_subbuf(file_path, phys_addr, region, cpu, which, rng)
    c, sb = _pick(region, cpu, which, rng)
    n = region.subbuf_size
    if mode == "random":
        data = rng.randbytes(n)
    elif mode == "zero":
        data = bytes(n)
    else:
        raise ValueError("unknown mode %r" % (mode,))
    _write(file_path, phys_addr + sb.offset, data)
    return {"cpu": c.cpu, "index": sb.index, "ring_id": sb.ring_id,
            "ring_pos": c.subbufs.index(sb), "offset": sb.offset,
            "phys": phys_addr + sb.offset, "size": n, "mode": mode,
            "events_destroyed": sb.nr_events, "timestamps": list(sb.timestamps),
            "events_before_damage": 0}


def corrupt_event_in_subbuf(file_path, phys_addr, region, cpu, which, rng, poison=True):
    """Keep a sub-buffer's header and its first events; overwrite everything
    from the middle event (its time extend/stamp included) to the page end
    with random bytes.

    With ``poison`` the first damaged word is a null padding event, which
    every walker (the kernel's too) rejects, so exactly the events before it
    stay readable however the random bytes fall."""
    c, sb = _pick(region, cpu, which, rng)
    if sb.nr_events < 2 or not sb.event_offsets:
        raise ValueError("sub-buffer %d of CPU %d holds %d event(s): nothing before the middle one"
                         % (sb.index, cpu, sb.nr_events))
    k = sb.nr_events // 2
    start = BUF_PAGE_HDR_SIZE + sb.event_offsets[k]
    data = bytearray(rng.randbytes(region.subbuf_size - start))
    if poison:
        data[0:4] = struct.pack("<I", RINGBUF_TYPE_PADDING)      # type PADDING, time_delta 0
    _write(file_path, phys_addr + sb.offset + start, bytes(data))
    return {"cpu": c.cpu, "index": sb.index, "ring_id": sb.ring_id,
            "ring_pos": c.subbufs.index(sb), "offset": sb.offset,
            "phys": phys_addr + sb.offset, "damage_offset": sb.offset + start,
            "size": len(data), "mode": "events",
            "events_before_damage": k,
            "events_destroyed": sb.nr_events - k, "timestamps": list(sb.timestamps[k:])}


def damage_event_pid(file_path, phys_addr, region, cpu, which, rng):
    """Leave every record header intact and set the common_pid of the middle
    data event of a sub-buffer to -1: damage no framing check can see, only
    a reader that looks inside the event."""
    c, sb = _pick(region, cpu, which, rng)
    if not sb.event_offsets:
        raise ValueError("sub-buffer %d of CPU %d holds no event" % (sb.index, cpu))
    k = len(sb.event_offsets) // 2
    b = read_region(file_path, phys_addr + sb.offset, region.subbuf_size)
    pos = BUF_PAGE_HDR_SIZE + sb.event_offsets[k]
    while b[pos] & 0x1F in (RINGBUF_TYPE_TIME_EXTEND, RINGBUF_TYPE_TIME_STAMP):
        pos += 8
    tl = b[pos] & 0x1F
    if not 0 <= tl <= RINGBUF_TYPE_DATA_TYPE_LEN_MAX:
        raise ValueError("record at 0x%x of sub-buffer %d is no data event" % (pos, sb.index))
    payload = pos + (8 if tl == 0 else 4)
    # struct trace_entry: u16 type, u8 flags, u8 preempt_count, int pid
    _write(file_path, phys_addr + sb.offset + payload + 4, struct.pack("<i", -1))
    return {"cpu": c.cpu, "index": sb.index, "offset": sb.offset, "event": k,
            "timestamp": sb.timestamps[k], "mode": "pid"}


def event_format(text):
    """(id, {field name: (offset, size, type)}) from an events/*/*/format file."""
    m = re.search(r"^ID: (\d+)", text, re.M)
    fields = {}
    for t, name, off, size in re.findall(r"field:(.+?) (\w+)(?:\[\w*\])?;\s*offset:(\d+);\s*size:(\d+);", text):
        fields[name] = (int(off), int(size), t)
    return (int(m.group(1)) if m else None), fields


def damage_event_field(file_path, phys_addr, region, cpu, type_id, offset, data):
    """Overwrite bytes at `offset` in the payload of one event of type
    `type_id` on `cpu` (the middle one of those in sub-buffers that are
    neither first nor last), record headers intact."""
    c, _ = _pick(region, cpu, "middle", None)
    order = c.subbufs
    found = []
    for sb in order[1:-1]:
        b = read_region(file_path, phys_addr + sb.offset, region.subbuf_size)
        for k, ev in enumerate(sb.event_offsets):
            pos = BUF_PAGE_HDR_SIZE + ev
            while pos < len(b) and b[pos] & 0x1F in (RINGBUF_TYPE_TIME_EXTEND, RINGBUF_TYPE_TIME_STAMP):
                pos += 8
            if pos + 12 > len(b) or not 0 <= b[pos] & 0x1F <= RINGBUF_TYPE_DATA_TYPE_LEN_MAX:
                continue
            payload = pos + (8 if b[pos] & 0x1F == 0 else 4)
            if struct.unpack_from("<H", b, payload)[0] == type_id:
                found.append((sb, k, payload))
    if not found:
        raise ValueError("CPU %d holds no event of type %d in a middle sub-buffer" % (cpu, type_id))
    sb, k, payload = found[len(found) // 2]
    _write(file_path, phys_addr + sb.offset + payload + offset, data)
    return {"cpu": c.cpu, "index": sb.index, "event": k, "timestamp": sb.timestamps[k]}


# --------------------------------------------------------------------------
# Synthetic writer (self-test): follows the kernel's formats
# --------------------------------------------------------------------------

def _ev_header(type_len, time_delta):
    return struct.pack("<I", (type_len & 0x1F) | ((time_delta & TS_MASK) << 5))


class _SynthCpu:
    """A tiny model of one CPU's ring buffer writer and reader, kept at the
    level of pages; it knows which events sit on which page."""

    def __init__(self, nr, base, rng):
        self.nr, self.base, self.rng = nr, base, rng
        self.buffers = list(range(nr))
        self.pages = [{"ts": 0, "data": bytearray(), "commit": 0, "events": []} for _ in range(nr)]
        self.head = self.tail = 1           # ring ids; tail 0 = writer on the reader page
        self.read_stamp = 0
        self.force_abs = False
        self.written = []                   # every data event time stamp, in order
        self.readers = [self.buffers[0]]    # reader slots over time

    def _next(self, rid):
        return self.head if rid == 0 else rid % (self.nr - 1) + 1

    def _tail_page(self):
        return self.pages[self.buffers[self.tail]]

    def _finish(self, p):
        rem = SUBBUF_CAPACITY - len(p["data"])
        if rem >= 8:
            # rb_reset_tail(): a padding event with time_delta 1 fills the page
            p["data"] += _ev_header(RINGBUF_TYPE_PADDING, 1) + struct.pack("<I", rem - 4) + bytes(rem - 8)
            p["commit"] = SUBBUF_CAPACITY
        elif rem > 0:
            p["data"] += _ev_header(RINGBUF_TYPE_PADDING, 0)[:rem] + bytes(max(0, rem - 4))
            # a null event beyond the commit
        self.tail = self._next(self.tail)
        if self.tail == self.head:
            self.head = self._next(self.head)   # overwrite: the oldest page is lost
        np = self._tail_page()
        np.update(ts=0, data=bytearray(), commit=0, events=[])

    def write(self, ts, payload=None, kind="data"):
        """Append one event with time stamp ``ts`` (ns)."""
        if payload is None:
            payload = self.rng.randint(1, 200)
        for _ in range(2):
            p = self._tail_page()
            first = not p["data"]
            delta = 0 if first else ts - self.read_stamp
            rec = b""
            if kind == "discard":
                size = _align(payload, 4) + 8
                rec = _ev_header(RINGBUF_TYPE_PADDING, max(1, delta)) + struct.pack("<I", size - 4) + bytes(size - 8)
            else:
                if kind == "abs" or self.force_abs:
                    stamp = ts & ABS_TS_MASK
                    rec += _ev_header(RINGBUF_TYPE_TIME_STAMP, stamp) + struct.pack("<I", stamp >> TS_SHIFT)
                    delta = 0
                elif delta >= (1 << TS_SHIFT):
                    rec += _ev_header(RINGBUF_TYPE_TIME_EXTEND, delta) + struct.pack("<I", delta >> TS_SHIFT)
                    delta = 0
                plen = _align(payload, 4)
                body = bytes(self.rng.getrandbits(8) for _ in range(plen))
                if plen > RB_MAX_SMALL_DATA:
                    rec += _ev_header(0, delta) + struct.pack("<I", plen + 4) + body
                else:
                    rec += _ev_header(plen // 4, delta) + body
            if len(p["data"]) + len(rec) <= SUBBUF_CAPACITY:
                if first:
                    p["ts"] = ts
                p["data"] += rec
                p["commit"] = len(p["data"])
                if kind == "discard":
                    self.force_abs = True       # the kernel forces an absolute stamp next
                else:
                    self.read_stamp = ts
                    self.force_abs = False
                    p["events"].append(ts)
                    self.written.append(ts)
                return
            self._finish(p)
        raise AssertionError("event of %d bytes does not fit an empty page" % len(rec))

    def consume(self, clear=True):
        """rb_get_reader_page(): swap the head page out as the new reader page."""
        if self.tail == 0:
            return False
        old = self.buffers[0]
        if clear:
            # 6.12 clears the commit only, 7.3 rb_init_data_page() the stamp too
            self.pages[old].update(commit=0, events=[])
            if self.base != "6.12":
                self.pages[old]["ts"] = 0
        hid = self.head
        on_tail = hid == self.tail
        self.buffers[0], self.buffers[hid] = self.buffers[hid], old
        self.head = self._next(hid)
        if on_tail:
            self.tail = 0                   # the writer now sits on the reader page
        self.readers.append(self.buffers[0])
        return True

    def expected_order(self):
        """Slots in the order the kernel reads them (no rewind)."""
        order = []
        r = self.buffers[0]
        if self.pages[r]["commit"] or self.tail == 0:
            order.append(r)
        if self.tail == 0:
            return order
        rid = self.head
        while True:
            order.append(self.buffers[rid])
            if rid == self.tail:
                break
            rid = self._next(rid)
        return order


def _synth_region(base, size, cpus, virt=0xFFFFC90000400000, inject=False):
    """Serialise synthetic CPUs into a region image (bytearray)."""
    b = bytearray(size)
    if base == "6.12":
        msz, first = META612.size, 0
    else:
        msz = CPUMETA73_INJECT.size if inject else CPUMETA73.size
        first = BMETA73.size + SCRATCH73
        BMETA73.pack_into(b, 0, META_MAGIC, msz | (BMETA73.size << 16), size, first)
    nr = cpus[0].nr
    for cpu, off in enumerate(_cpu_meta_offsets(first, msz, nr, len(cpus))):
        s = cpus[cpu]
        sub = _subbufs_offset(off, msz, nr)
        va = lambda slot: virt + sub + PAGE_SIZE * slot     # noqa: E731
        head = va(s.buffers[s.head])
        commit = va(s.buffers[s.tail])
        if base == "6.12":
            META612.pack_into(b, off, META_MAGIC, META612.size, 0xFFFFFFFF81000000,
                              0xFFFFFFFF82000000, va(0), head, commit, PAGE_SIZE, nr)
        elif inject:
            CPUMETA73_INJECT.pack_into(b, off, va(0), head, commit, PAGE_SIZE, nr, 0, 0)
        else:
            CPUMETA73.pack_into(b, off, va(0), head, commit, PAGE_SIZE, nr)
        struct.pack_into("<%di" % nr, b, off + msz, *s.buffers)
        for slot, p in enumerate(s.pages):
            po = sub + PAGE_SIZE * slot
            struct.pack_into("<QQ", b, po, p["ts"], p["commit"])
            b[po + 16:po + 16 + len(p["data"])] = p["data"]
    return b


# --------------------------------------------------------------------------
# Self-test
# --------------------------------------------------------------------------

class _Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: %s" % what)


def _fill(s, rng, nevents, t0, big_gap_every=37, abs_every=53, discard_every=29):
    t = t0
    for i in range(nevents):
        t += rng.randint(1, 20000)
        if big_gap_every and i % big_gap_every == big_gap_every - 1:
            t += (1 << TS_SHIFT) * rng.randint(1, 40)      # needs a TIME_EXTEND
        if discard_every and i % discard_every == discard_every - 1:
            s.write(t, kind="discard")
            t += rng.randint(1, 1000)
        s.write(t, kind="abs" if abs_every and i % abs_every == abs_every - 1 else "data")
    return t


def _check_cpu(ck, tag, c, s, order=None, rewound_all=False):
    order = order if order is not None else s.expected_order()
    got = [sb.index for sb in c.subbufs]
    ck.check(c.valid, "%s: CPU invalid: %s" % (tag, c.reason))
    ck.check(c.kernel_valid, "%s: kernel would reject: %s" % (tag, c.kernel_reason))
    ck.check(got == order, "%s: ring order %s, expected %s" % (tag, got[:12], order[:12]))
    for sb in c.subbufs:
        p = s.pages[sb.index]
        ck.check(sb.nr_events == len(p["events"]), "%s: page %d has %d events, expected %d"
                 % (tag, sb.index, sb.nr_events, len(p["events"])))
        ck.check(sb.timestamps == p["events"], "%s: page %d time stamps differ" % (tag, sb.index))
        ck.check(sb.valid and sb.kept, "%s: page %d invalid: %s %s" % (tag, sb.index, sb.reason, sb.kernel_note))
    want = [t for slot in order for t in s.pages[slot]["events"]]
    ck.check(c.timestamps == want, "%s: CPU time stamps differ" % tag)
    ck.check(c.kernel_events == len(want), "%s: kernel_events %d, expected %d" % (tag, c.kernel_events, len(want)))
    if rewound_all:
        ck.check(c.timestamps == s.written, "%s: rewind did not bring back every event" % tag)


def selftest(verbose=False):
    import random
    import tempfile
    ck = _Checker()
    rng = random.Random(1234)

    # find_region on both kernels' messages (same format), with noise around
    log = ("[    0.000000] Linux version 6.12.117\n"
           "[    0.812345] Tracing: mapped boot instance boot_map at physical memory 0x000000003f400000 of size 0x800000\r\n"
           "[    0.9] Tracing: mapped boot instance other at physical memory 0x0000000012345000 of size 0x100000\n")
    ck.check(find_region(log) == (0x12345000, 0x100000), "find_region: last instance")
    ck.check(find_region(log, "boot_map") == (0x3F400000, 0x800000), "find_region: by name")
    ck.check(find_region("nothing here") is None, "find_region: no message")
    ck.check(find_region(None) is None, "find_region: None")

    for base in BASES:
        # 1. Natural runs: two CPUs in a small region, different histories.
        size = 256 * 1024
        ncpu = 2
        nr = _layout_nr_subbufs(base, size, ncpu)
        ck.check(nr is not None and nr >= 3, "%s: layout for 256K/2 CPUs" % base)
        s0 = _SynthCpu(nr, base, rng)
        _fill(s0, rng, 400, 10_000_000_000)             # no wrap, reader unused
        s1 = _SynthCpu(nr, base, rng)
        _fill(s1, rng, 2500, 20_000_000_000)             # wraps (overwrite)
        for _ in range(3):
            s1.consume()
        _fill(s1, rng, 150, s1.written[-1])
        b = _synth_region(base, size, [s0, s1])
        r = parse_region(bytes(b), base)
        ck.check(r.valid and r.nr_cpus == ncpu, "%s: region %s, nr_cpus %d" % (base, r.reason, r.nr_cpus))
        ck.check(r.nr_subbufs == nr, "%s: nr_subbufs %d != %d" % (base, r.nr_subbufs, nr))
        ck.check(r.prev_virt_base == 0xFFFFC90000400000, "%s: prev_virt_base %r" % (base, r.prev_virt_base))
        if r.valid and len(r.cpus) == 2:
            _check_cpu(ck, base + " cpu0", r.cpus[0], s0)
            _check_cpu(ck, base + " cpu1", r.cpus[1], s1)
        r2 = parse_region(bytearray(b), base, nr_cpus=2)
        ck.check(r2.valid and r2.nr_events == r.nr_events, "%s: explicit nr_cpus" % base)
        if verbose:
            print(summary(r))

        # 2. The writer sits on the reader page (commit page == reader page).
        s2 = _SynthCpu(nr, base, rng)
        _fill(s2, rng, 100, 5_000_000_000)
        while s2.consume():
            pass
        _fill(s2, rng, 3, s2.written[-1], big_gap_every=2)
        ck.check(s2.tail == 0, base + ": synthetic writer left the reader page")
        r = parse_region(_synth_region(base, size, [s2, _SynthCpu(nr, base, rng)]), base)
        if r.valid:
            _check_cpu(ck, base + " reader=commit", r.cpus[0], s2)
            ck.check(r.cpus[0].commit_index == r.cpus[0].reader_index, base + ": commit is reader")
            ck.check(len(r.cpus[0].subbufs) == 1, base + ": only the reader page is read")
        # ... and once it moved on to the ring again
        _fill(s2, rng, 200, s2.written[-1])
        r = parse_region(_synth_region(base, size, [s2, _SynthCpu(nr, base, rng)]), base)
        if r.valid:
            _check_cpu(ck, base + " writer left reader", r.cpus[0], s2)

        # 3. Pages read but not cleared: 7.3 rewinds over them, 6.12 does not.
        s3 = _SynthCpu(nr, base, rng)
        _fill(s3, rng, 700, 7_000_000_000, abs_every=0, discard_every=0)
        for _ in range(4):
            s3.consume(clear=False)
        r = parse_region(_synth_region(base, size, [s3, _SynthCpu(nr, base, rng)]), base)
        if r.valid:
            if base == "6.12":
                _check_cpu(ck, base + " no-clear", r.cpus[0], s3)
            else:
                # reader = first consumed page, then the others, the last
                # reader before the head, then head .. commit
                order = s3.readers[1:] + s3.expected_order()[1:]
                _check_cpu(ck, base + " rewind", r.cpus[0], s3, order=order, rewound_all=True)
                ck.check(r.cpus[0].rewound == 3, "%s: rewound %d pages, expected 3" % (base, r.cpus[0].rewound))

        # 4. A bigger region, 4 CPUs, default 8M size; nr_cpus guessed.
        size = 8 << 20
        nr = _layout_nr_subbufs(base, size, 4)
        cpus = []
        for i in range(4):
            s = _SynthCpu(nr, base, rng)
            _fill(s, rng, 300 * (i + 1), (i + 1) * 1_000_000_000)
            cpus.append(s)
        b = _synth_region(base, size, cpus)
        r = parse_region(memoryview(b), base)
        ck.check(r.valid and r.nr_cpus == 4, "%s: 8M/4 CPUs guessed %d (%s)" % (base, r.nr_cpus, r.reason))
        for i, s in enumerate(cpus):
            if r.valid and i < len(r.cpus):
                _check_cpu(ck, "%s 8M cpu%d" % (base, i), r.cpus[i], s)

        # 5. Damage through a file: one random page, then one page's tail.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ram")
            phys = 0x200000
            with open(path, "wb") as f:
                f.write(bytes(phys) + bytes(b) + bytes(PAGE_SIZE))
            r = parse_region(read_region(path, phys, size), base)
            before = [c.kernel_events for c in r.cpus]
            d0 = corrupt_subbuf(path, phys, r, 0, "middle", random.Random(5))
            pos = d0["ring_pos"]
            ck.check(0 < pos < len(r.cpus[0].subbufs) - 1, "%s: damaged page is in the middle" % base)
            ck.check(d0["events_destroyed"] == r.cpus[0].subbufs[pos].nr_events > 0,
                     "%s: events_destroyed %r" % (base, d0["events_destroyed"]))
            d1 = corrupt_event_in_subbuf(path, phys, r, 1, "random", random.Random(6))
            ra = parse_region(read_region(path, phys, size), base)
            c0, c1 = ra.cpus[0], ra.cpus[1]
            sb0 = c0.subbuf(d0["index"])
            ck.check(sb0 is not None and not sb0.valid and not sb0.kept, "%s: damaged page flagged" % base)
            sb1 = c1.subbuf(d1["index"])
            ck.check(sb1 is not None and sb1.nr_events == d1["events_before_damage"] and not sb1.valid,
                     "%s: events before the damage %r vs %r" % (base, sb1 and sb1.nr_events, d1["events_before_damage"]))
            ck.check(ra.cpus[2].kernel_events == before[2], "%s: undamaged CPU unchanged" % base)
            if base == "6.12":
                ck.check(not c0.kernel_valid and c0.kernel_events == 0, "6.12: a bad page resets the CPU")
                ck.check(not c1.kernel_valid, "6.12: a bad page tail resets the CPU")
            else:
                ck.check(c0.kernel_valid and c0.kernel_events == before[0] - d0["events_destroyed"],
                         "7.3: only the bad page is lost (%d vs %d - %d)"
                         % (c0.kernel_events, before[0], d0["events_destroyed"]))
                ck.check(c0.kernel_discarded == 1, "7.3: one page discarded")
                ck.check(c1.kernel_events == before[1] - d1["events_destroyed"] - d1["events_before_damage"],
                         "7.3: the half-damaged page is dropped whole")
            try:
                corrupt_subbuf(path, phys, parse_region(_synth_region(
                    base, 256 * 1024, [_SynthCpu(_layout_nr_subbufs(base, 256 * 1024, 2), base, rng)] * 2), base),
                    0, "middle", rng)
                ck.check(False, "%s: empty CPU should have no middle page" % base)
            except ValueError:
                ck.check(True, "")

        # 6. Kernel corner cases on the wrapped CPU (s1) of the small region.
        small = 256 * 1024
        good = _synth_region(base, small, [s0, s1])
        r = parse_region(bytes(good), base)
        c1 = r.cpus[1]
        total = c1.kernel_events
        # head_buffer inside a page: the stock kernel finds no head page
        bad = bytearray(good)
        hoff = c1.meta_offset + (8 if base == "6.12" else 0) + 8 * (3 if base == "6.12" else 1)
        struct.pack_into("<Q", bad, hoff, c1.meta["head_buffer"] + 8)
        rr = parse_region(bytes(bad), base).cpus[1]
        ck.check(not rr.valid and not rr.kernel_valid and "NULL" in (rr.kernel_reason or ""),
                 "%s: misaligned head: %s / %s" % (base, rr.reason, rr.kernel_reason))
        # A middle page stamped in the past: 7.3 drops it, 6.12 keeps it.
        # (Needs a CPU without absolute stamps, which would mend the end stamp.)
        s4 = _SynthCpu(_layout_nr_subbufs(base, small, 2), base, rng)
        _fill(s4, rng, 1500, 3 * 10 ** 9, abs_every=0, discard_every=0)
        good4 = _synth_region(base, small, [s4, s0])
        c4 = parse_region(bytes(good4), base).cpus[0]
        _check_cpu(ck, base + " plain", c4, s4)
        total4 = c4.kernel_events
        mi = len(c4.subbufs) // 2
        mid = c4.subbufs[mi]
        bad = bytearray(good4)
        struct.pack_into("<Q", bad, mid.offset, 1)
        rr = parse_region(bytes(bad), base).cpus[0]
        if base == "6.12":
            ck.check(rr.kernel_valid and rr.kernel_events == total4, "6.12: stamps are not checked")
        else:
            ck.check(rr.kernel_valid and rr.kernel_discarded == 1 and rr.kernel_events == total4 - mid.nr_events,
                     "7.3: out-of-order page dropped (%d, %d)" % (rr.kernel_discarded, rr.kernel_events))
        # ... stamped in the future: 7.3 keeps it but drops every later page
        struct.pack_into("<Q", bad, mid.offset, 1 << 58)
        rr = parse_region(bytes(bad), base).cpus[0]
        later = sum(sb.nr_events for sb in c4.subbufs[mi + 1:])
        if base == "7.3":
            ck.check(rr.kernel_events == total4 - later and rr.kernel_discarded == len(c4.subbufs) - mi - 1,
                     "7.3: future page: %d events, %d dropped" % (rr.kernel_events, rr.kernel_discarded))
        # the head page destroyed
        hd = [sb for sb in c1.subbufs if sb.index == c1.head_index][0]
        bad = bytearray(good)
        bad[hd.offset:hd.offset + PAGE_SIZE] = random.Random(7).randbytes(PAGE_SIZE)
        rr = parse_region(bytes(bad), base).cpus[1]
        if base == "6.12":
            ck.check(not rr.kernel_valid and rr.kernel_events == 0, "6.12: bad head page resets the CPU")
        else:
            ck.check(rr.kernel_valid and rr.kernel_events == total - hd.nr_events and rr.rewound == 0,
                     "7.3: bad head page dropped alone (%d vs %d)" % (rr.kernel_events, total - hd.nr_events))
        ck.check(rr.valid and len(rr.subbufs) == len(c1.subbufs), "%s: order survives page damage" % base)
        if base == "7.3":
            # CONFIG_RING_BUFFER_PERSISTENT_INJECT makes the CPU meta 40 bytes
            nr40 = _layout_nr_subbufs(base, small, 2, CPUMETA73_INJECT.size)
            t0, t1 = _SynthCpu(nr40, base, rng), _SynthCpu(nr40, base, rng)
            _fill(t0, rng, 300, 10 ** 9)
            _fill(t1, rng, 50, 10 ** 9)
            rr = parse_region(bytes(_synth_region(base, small, [t0, t1], inject=True)), base)
            ck.check(rr.valid and "nr_invalid" in rr.cpus[0].meta, "7.3: inject meta layout")
            if rr.valid:
                _check_cpu(ck, "7.3 inject cpu0", rr.cpus[0], t0)
                _check_cpu(ck, "7.3 inject cpu1", rr.cpus[1], t1)
            # a damaged top meta: the stock kernel starts over, we still parse
            bad = bytearray(good)
            bad[0:4] = b"\0\0\0\0"
            rr = parse_region(bytes(bad), base)
            ck.check(rr.valid and not rr.kernel_valid and rr.kernel_events == 0 and rr.nr_events == r.nr_events,
                     "7.3: bad top meta: %s" % rr.reason)

        # 7. Garbage never raises: random bytes, truncations, bit flips.
        good = bytes(_synth_region(base, 256 * 1024, [s0, s1]))
        grng = random.Random(99)
        samples = [b"", b"\0", bytes(100), grng.randbytes(4096), grng.randbytes(300000),
                   bytes(8 << 20)]
        samples += [good[:n] for n in (1, 23, 24, 57, 4096, 5000, 70000, len(good) - 1)]
        for _ in range(40):
            bad = bytearray(good)
            for _ in range(grng.randint(1, 50)):
                i = grng.randrange(len(bad))
                bad[i] = grng.randrange(256)
            samples.append(bytes(bad))
        for _ in range(10):
            bad = bytearray(good)
            off = grng.randrange(0, len(bad) - 64)
            bad[off:off + 64] = grng.randbytes(64)           # somewhere in the pages
            k = grng.randint(1, 80)
            bad[0:k] = grng.randbytes(k)                      # the (first) meta
            samples.append(bytes(bad))
        for sample in samples:
            for ncpu in (None, 1, 2, 3):
                try:
                    rr = parse_region(sample, base, nr_cpus=ncpu)
                    json.dumps(rr.to_dict(timestamps=True))
                    summary(rr)
                    ck.check(not rr.reason or not rr.reason.startswith("internal error"),
                             "%s: internal error on garbage: %s" % (base, rr.reason))
                except Exception as ex:         # noqa: BLE001
                    ck.check(False, "%s: parse_region raised %r" % (base, ex))
        for weird in (None, "text", 12, [1, 2]):
            try:
                rr = parse_region(weird, base)
                ck.check(not rr.valid, "%s: %r accepted" % (base, weird))
            except Exception as ex:             # noqa: BLE001
                ck.check(False, "%s: parse_region(%r) raised %r" % (base, weird, ex))
    try:
        ck.check(not parse_region(bytes(4096), "5.4").valid, "unknown base rejected")
    except Exception as ex:                     # noqa: BLE001
        ck.check(False, "unknown base raised %r" % ex)

    print("ringbuf selftest: %d passed, %d failed" % (ck.passed, ck.failed))
    return ck.failed == 0


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def summary(region, per_page=True):
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


def main(argv=None):
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
    ap.add_argument("--selftest", action="store_true", help="run the built-in checks")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    if a.selftest:
        return 0 if selftest(a.verbose) else 1
    if not a.file or not a.base:
        ap.error("FILE and --base are needed (or --selftest)")
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
