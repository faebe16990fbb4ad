#!/usr/bin/env python3
"""Read and check the persistent ("boot-mapped") ring buffer of a tracing
boot instance, straight from a guest RAM image.

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

The stock kernels' validation is emulated here, by the per-CPU parser
(kernel_612(), _Stock73), because it decides the read order the decoder
reports: 7.3 rewinds over read pages and moves the reader page.

Public API: find_region(), parse_region(), read_region(), summary(), main();
Region, CpuBuffer, SubBuf.  Damaging a region is rb_damage.py's job,
writing synthetic ones rb_synth.py's; tests/test_ringbuf.py tests all three
(``python3 -m unittest discover -s tests``).

Nothing here raises on garbage: a CPU or a sub-buffer that does not make sense
is marked invalid with a reason.

Run ``python3 harness/ringbuf.py RAMFILE --console LOG --base 6.12`` for a dump.
"""

import argparse
import dataclasses
import json
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
        """Mirror 7.3's rb_meta_validate_events() (see _Stock73): pages that
        fail are dropped one by one, pages read before the crash come back."""
        c = self.c
        k = _Stock73(self)
        found = k.validate_events()
        c.rewound, c.kernel_discarded = k.rewound, k.discarded
        ids = k.ring_ids()
        self.finish(k.read_order(), ids)
        for slot, why in k.dropped.items():
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


class _Stock73:
    """7.3's rb_meta_validate_events() on one CPU: head page first, reader
    page, rewind over already-read pages, reinsert the reader page, then head
    to commit, dropping (not rejecting) pages that fail.  The kernel's writes
    go to copies of the page list and headers; the region is not touched."""

    def __init__(self, p):
        self.p, self.nr = p, p.nr
        c = p.c
        ring = c.buffers[1:]
        self.nxt, self.prv = {}, {}
        for i, slot in enumerate(ring):
            self.nxt[slot] = ring[(i + 1) % len(ring)]
            self.prv[slot] = ring[(i - 1) % len(ring)]
        self.reader = self.orig_reader = c.reader_index
        self.nxt[self.reader] = self.prv[self.reader] = self.reader    # INIT_LIST_HEAD(reader->list)
        self.head = self.orig_head = c.head_index
        self.commit = c.commit_index        # also the tail page
        self.sim = {}                       # slot -> (ts, raw) after the kernel's writes
        self.dropped = {}                   # slot -> why
        self.ts = 0
        self.discarded = 0
        self.entries = 0
        self.rewound = 0

    def hdr(self, slot):
        if slot not in self.sim:
            self.sim[slot] = self.p.header(slot)
        return self.sim[slot]

    def validate(self, slot, prev_ts, next_ts):
        """__rb_validate_buffer(): entries, or -1 with the page dropped."""
        ts0, raw = self.hdr(slot)
        ret, ts, why = -1, 0, None
        if raw <= SUBBUF_CAPACITY:
            w = self.p.walk(slot, raw, ts0)
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
            self.sim[slot] = (prev_ts or next_ts, COMMIT_DROPPED)
            self.dropped.setdefault(slot, why)
        return ret

    def validate_state(self, slot, prev_ts, next_ts):
        """rb_validate_buffer(): count what is kept and what is discarded."""
        ret = self.validate(slot, prev_ts, next_ts)
        if ret < 0:
            self.discarded += 1
        else:
            self.entries += ret
            self.ts = self.hdr(slot)[0]

    def validate_events(self):
        """The whole walk; False if the commit page is never met."""
        skip = False
        if self.validate(self.head, 0, 0) < 0:
            skip = True
            self.ts = 0
        else:
            self.ts = self.hdr(self.head)[0]
        self.validate_state(self.orig_reader, 0, self.ts)
        if not skip and self.head != self.commit:
            self.rewound = self.rewind()
        # Both ways the walk to the commit page starts at the original head.
        hp = self.orig_head
        if self.commit == self.reader:
            return True
        self.ts = self.hdr(hp)[0]
        for _ in range(self.nr + 1):
            if hp != self.orig_reader:
                self.validate_state(hp, self.ts, 0)
                if hp == self.commit:
                    break
            hp = self.nxt[hp]
        # like the kernel, compare after the loop (it may end anywhere)
        return hp == self.commit

    def rewind(self):
        """Walk back from the head over pages already read before the crash
        (up to the commit page or an unused page); pages brought back."""
        hp = self.prv[self.head]
        i = 0
        while i < self.nr + 1:
            if hp == self.commit:
                break
            ts0, raw = self.hdr(hp)
            # "unused": no stamp and rb_page_commit() (an unsigned int) zero
            if not ts0 and not raw & 0xFFFFFFFF:
                break
            self.validate_state(hp, 0, self.ts)
            i += 1
            hp = self.prv[hp]
        if hp != self.orig_head:
            hp = self.nxt[hp]
        if hp == self.orig_head:
            return 0
        self.inject_reader_page(hp)
        return i

    def inject_reader_page(self, new_reader):
        """rb_meta_inject_reader_page(): the old reader goes before the
        original head, the oldest rewound page becomes the reader."""
        nxt, prv, reader, orig_head = self.nxt, self.prv, self.reader, self.orig_head
        b4 = prv[orig_head]
        nxt[reader], prv[reader] = orig_head, prv[orig_head]
        prv[orig_head] = reader
        nxt[b4] = reader
        after = nxt[new_reader]
        prv[after] = prv[new_reader]
        nxt[prv[new_reader]] = after
        self.reader = new_reader
        self.head = after

    def read_order(self):
        """What the reader then walks: reader page, head .. commit."""
        order = [self.reader]
        if self.commit != self.reader:
            hp = self.head
            for _ in range(self.nr + 1):
                if hp == self.reader:
                    break
                order.append(hp)
                if hp == self.commit:
                    break
                hp = self.nxt[hp]
        return order

    def ring_ids(self):
        """slot -> ring id; rb_meta_inject_reader_page() renumbers buffers[]
        from the new head."""
        if self.reader == self.orig_reader:
            return self.p.ring_ids()
        ids = {self.reader: 0}
        hp = self.head
        for i in range(1, self.nr):
            ids.setdefault(hp, i)
            hp = self.nxt[hp]
        return ids



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
