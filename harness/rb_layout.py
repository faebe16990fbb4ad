"""Where things are in a boot-mapped ring buffer region: the constants and
struct formats of the kernel's ring buffer, and the layout the 6.12 and 7.3
kernels give a region (where each CPU's meta data and sub-buffers are, how
many sub-buffers a CPU gets).  Nothing here knows about events or about what
a stock kernel keeps; see rb_events.py and rb_stock.py.

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

Readers of bytes raise Bad when the bytes do not make sense; the decoder
(ringbuf.py) turns that into an invalid region or CPU with a reason.
"""

import dataclasses
import struct
from typing import Optional

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


def align(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def s32(v: int) -> int:
    """The low 32 bits of ``v`` as a C int."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


class Bad(Exception):
    """The bytes do not make sense here (the message says why)."""


# --------------------------------------------------------------------------
# Byte access that never reads past the region
# --------------------------------------------------------------------------

def as_bytes(mem) -> memoryview:
    """``mem`` (bytes, bytearray, memoryview, mmap or another buffer) as bytes."""
    mv = memoryview(mem)
    if mv.ndim != 1 or mv.itemsize != 1:
        mv = mv.cast("B")
    return mv


def u64(b, off: int) -> int:
    if off < 0 or off + 8 > len(b):
        raise Bad("read of 8 bytes at 0x%x past the region (0x%x bytes)" % (off, len(b)))
    return struct.unpack_from("<Q", b, off)[0]


def ints(b, off: int, n: int) -> list:
    """``n`` C ints at ``off`` (a CPU's buffers[] array)."""
    if n < 0 or off < 0 or off + 4 * n > len(b):
        raise Bad("buffers[%d] at 0x%x runs past the region" % (n, off))
    return list(struct.unpack_from("<%di" % n, b, off))


# --------------------------------------------------------------------------
# The region: top meta (7.3), CPU count, where each CPU's meta and pages are
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Layout:
    """Where the per-CPU metas start and how big they are."""
    first: int                      # offset of CPU 0's meta
    msz: int                        # size of one per-CPU meta (before buffers[])
    scratch: int                    # 7.3: bytes the top meta is followed by
    top_meta: Optional[dict] = None         # 7.3: its raw fields
    kernel_reason: Optional[str] = None     # why a stock kernel would discard the whole region


def region_layout(b, base: str) -> Layout:
    """The layout of a region of ``base`` ("6.12" or "7.3"); for 7.3 from its
    top meta when that is believable, else what a stock 7.3 kernel writes
    (and the stock kernel would then re-initialise every CPU)."""
    if base == "6.12":
        return Layout(first=0, msz=META612.size, scratch=0)
    size = len(b)
    lay = Layout(first=BMETA73.size + SCRATCH73, msz=CPUMETA73.size, scratch=SCRATCH73)
    if size < BMETA73.size:
        raise Bad("region of %d bytes is smaller than the top meta" % size)
    magic, sizes, total, boff = BMETA73.unpack_from(b, 0)
    lay.top_meta = dict(magic=magic, struct_sizes=sizes, total_size=total, buffers_offset=boff)
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
    if why is not None:
        # rb_meta_init() re-initialises everything: every CPU is lost
        lay.kernel_reason = why
        return lay
    # Trust the meta for the layout (another scratch size is possible)
    lay.msz, lay.scratch, lay.first = cpu_msz, boff - BMETA73.size, boff
    if boff != BMETA73.size + SCRATCH73:
        lay.kernel_reason = "top meta: buffers_offset 0x%x, stock 7.3 expects 0x%x" % (
            boff, BMETA73.size + SCRATCH73)
    return lay


def _fits(start, msz, nr, ncpu, end):
    """The alloc_buffer() loop that checks nr sub-buffers per CPU fit."""
    ptr = start
    # After the first chunk ptr is page aligned, so all later chunks are equal.
    for n in range(min(ncpu, 2)):
        ptr = align(ptr + msz + 4 * nr, PAGE_SIZE) + PAGE_SIZE * nr
    if ncpu > 2:
        chunk = align(msz + 4 * nr, PAGE_SIZE) + PAGE_SIZE * nr
        ptr += chunk * (ncpu - 2)
    return ptr <= end


def layout_nr_subbufs(base: str, size: int, ncpu: int, msz: Optional[int] = None,
                      scratch: int = SCRATCH73) -> Optional[int]:
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
        start = align(msz, 8) + align(scratch, 8)
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


def cpu_meta_offsets(first: int, msz: int, nr: int, ncpu: int) -> list:
    """rb_range_meta(): cpu0 at ``first``, the next right after its sub-buffers."""
    offs = []
    off = first
    for _ in range(ncpu):
        offs.append(off)
        off = align(off + msz + 4 * nr, PAGE_SIZE) + PAGE_SIZE * nr
    return offs


def subbufs_offset(meta_off: int, msz: int, nr: int) -> int:
    """rb_subbufs_from_meta()/rb_range_align_subbuf()."""
    return align(meta_off + msz + 4 * nr, PAGE_SIZE)


def read_cpu_meta(b, base: str, off: int, msz: int) -> dict:
    """Raw meta fields as a dict (no checks)."""
    if base == "6.12":
        if off + META612.size > len(b):
            raise Bad("meta at 0x%x runs past the region" % off)
        (magic, struct_size, text_addr, data_addr, first, head, commit,
         subbuf_size, nr_subbufs) = META612.unpack_from(b, off)
        return dict(magic=magic, struct_size=struct_size, text_addr=text_addr,
                    data_addr=data_addr, first_buffer=first, head_buffer=head,
                    commit_buffer=commit, subbuf_size=subbuf_size, nr_subbufs=nr_subbufs)
    st = CPUMETA73_INJECT if msz == CPUMETA73_INJECT.size else CPUMETA73
    if off + st.size > len(b):
        raise Bad("meta at 0x%x runs past the region" % off)
    vals = st.unpack_from(b, off)
    d = dict(first_buffer=vals[0], head_buffer=vals[1], commit_buffer=vals[2],
             subbuf_size=vals[3], nr_subbufs=vals[4])
    if st is CPUMETA73_INJECT:
        d.update(nr_invalid=vals[5], entry_bytes=vals[6])
    return d


def cpu_meta_problem(base: str, m: dict, buffers: list, nr: int) -> Optional[tuple]:
    """None if a CPU's meta ``m`` and ``buffers[]`` make sense for a layout of
    ``nr`` sub-buffers, else (why not, what a stock kernel then does or None)."""
    if base == "6.12" and m["magic"] != META_MAGIC:
        return "bad magic 0x%x" % (m["magic"] & 0xFFFFFFFF), None
    if base == "6.12" and m["struct_size"] != META612.size:
        return "struct_size %d, expected %d" % (m["struct_size"], META612.size), None
    if m["subbuf_size"] != PAGE_SIZE:
        return "subbuf_size %d, expected %d" % (m["subbuf_size"], PAGE_SIZE), None
    if m["nr_subbufs"] != nr:
        return "nr_subbufs %d, the layout needs %d" % (m["nr_subbufs"], nr), None
    if sorted(buffers) != list(range(nr)):
        return "buffers[] is not a permutation of 0..%d" % (nr - 1), None
    first = m["first_buffer"]
    span = PAGE_SIZE * nr
    for what in ("head", "commit"):
        addr = m[what + "_buffer"]
        # rb_meta_valid(): [first, first + span)
        if not first <= addr < first + span:
            return ("%s_buffer 0x%x outside the sub-buffers [0x%x, 0x%x)"
                    % (what, addr, first, first + span), None)
        if (addr - first) % PAGE_SIZE:
            return ("%s_buffer 0x%x is not at a sub-buffer start" % (what, addr),
                    "%s_buffer not page aligned: stock kernel finds no %s page%s"
                    % (what, what, " and dereferences NULL" if what == "head" else ""))
    return None


def _meta_plausible(b, base, off, msz, nr):
    try:
        m = read_cpu_meta(b, base, off, msz)
    except Bad:
        return False
    if base == "6.12" and (m["magic"] != META_MAGIC or m["struct_size"] != META612.size):
        return False
    return m["subbuf_size"] == PAGE_SIZE and m["nr_subbufs"] == nr


def guess_nr_cpus(b, base: str, size: int, first: int, msz: int, scratch: int) -> Optional[int]:
    """The CPU count whose layout puts the most plausible metas where they belong."""
    layouts = []
    for n in range(1, MAX_CPUS_GUESS + 1):
        nr = layout_nr_subbufs(base, size, n, msz, scratch)
        if nr is None:
            break       # per-CPU room only shrinks with more CPUs
        layouts.append((n, nr))

    def score(n, nr, limit):
        offs = cpu_meta_offsets(first, msz, nr, n)[:limit]
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
