"""What the stock kernels keep of a boot-mapped ring buffer after the next
boot: an emulation of their validation of a persistent buffer, per CPU.

Read order, as the kernel's iterator shows it after the next boot: the reader
page (when it holds data), then the ring from the head page to the commit
page.  What the stock kernels then keep differs:
  6.12  one bad sub-buffer (a commit over 4096 anywhere, or an event that does
        not parse between head and commit) resets the whole CPU
        (kernel_612());
  7.3   bad or out-of-order pages are dropped one by one (commit set to
        RB_MISSED_EVENTS), and pages already read before the crash are
        brought back by rewinding from the head (the reader page is moved)
        (kernel_73()).

The emulation decides the read order the decoder reports, so the decoder
(ringbuf.py) calls it for every CPU whose meta makes sense, with a CpuPages:
the CPU's page list, its head and commit pages, every page's header and a
function that walks a page's events (rb_events.walk() on the region, cached
by the decoder).  It answers with a Verdict (the read order, ring ids, what
is dropped and why) that the decoder turns into its CpuBuffer and SubBuf
fields.  Nothing here reads the region or touches the decoder's objects.
"""

import dataclasses
from typing import Callable, Optional

from rb_events import Walk
from rb_layout import COMMIT_DROPPED, PAGE_SIZE, SUBBUF_CAPACITY, s32


@dataclasses.dataclass(frozen=True)
class CpuPages:
    """What the emulation is given of one CPU whose meta makes sense."""
    buffers: list               # buffers[]: the reader page's slot, then the ring's in list order
    head: int                   # slot of the head page (head_buffer)
    commit: int                 # slot of the commit page (commit_buffer)
    headers: list               # (time_stamp, raw commit word) of every slot
    walk: Callable[[int, int, int], Walk]   # walk(slot, tail, page time stamp)


@dataclasses.dataclass
class Verdict:
    """What the stock kernel does with one CPU."""
    order: list                 # slots in read order, the reader page first
    ring_ids: dict              # slot -> ring id (0 = reader page)
    valid: bool = True          # it keeps the CPU's data
    reason: Optional[str] = None
    reset_note: Optional[str] = None    # note on every page of a CPU it resets
    dropped: dict = dataclasses.field(default_factory=dict)    # slot -> note: pages it drops one by one
    notes: dict = dataclasses.field(default_factory=dict)      # slot -> note: why it resets the CPU
    discarded: int = 0          # 7.3: pages dropped
    rewound: int = 0            # 7.3: already-read pages brought back


def _list_ids(buffers):
    """slot -> ring id (0 = reader), as buffers[] lists them."""
    return {slot: i for i, slot in enumerate(buffers)}


def kernel(base: str, cpu: CpuPages) -> Verdict:
    """The stock kernel of ``base`` ("6.12" or "7.3") on one CPU."""
    return kernel_612(cpu) if base == "6.12" else kernel_73(cpu)


# --------------------------------------------------------------------------
# 6.12
# --------------------------------------------------------------------------

def kernel_612(cpu: CpuPages) -> Verdict:
    """Mirror rb_meta_valid() (its commit check) and rb_meta_validate_events()."""
    ids = _list_ids(cpu.buffers)
    reader = cpu.buffers[0]
    ring = cpu.buffers[1:]
    bad = None
    # rb_meta_valid() checks each slot's raw commit (as unsigned int)
    for slot in range(len(cpu.buffers)):
        _, raw = cpu.headers[slot]
        if (raw & 0xFFFFFFFF) > PAGE_SIZE:
            bad = bad or "sub-buffer %d has invalid commit 0x%x" % (slot, raw)

    def page_ok(slot):
        ts, raw = cpu.headers[slot]
        tail = s32(raw)
        if tail <= 0:
            return True
        w = cpu.walk(slot, tail, ts)
        return w.ok and not w.backwards

    order = [reader]
    if cpu.commit != reader:
        if cpu.head == reader:
            # head_page would be the (unlinked) reader page: the walk
            # never meets the commit page
            bad = bad or "head_buffer is the reader page; commit page not found"
            order = [reader]
        else:
            pos = ring.index(cpu.head)
            for i in range(len(ring)):
                slot = ring[(pos + i) % len(ring)]
                order.append(slot)
                if slot == cpu.commit:
                    break
    if bad is None:
        for slot in order:
            if not page_ok(slot):
                bad = "sub-buffer %d (%s) fails event validation" % (
                    slot, "reader page" if slot == reader else "ring id %d" % ids[slot])
                break
    v = Verdict(order=order, ring_ids=ids)
    if bad:
        v.valid, v.reason, v.reset_note = False, bad, "the whole CPU is reset"
        v.notes = {slot: "fails event validation; the whole CPU is reset"
                   for slot in order if not page_ok(slot)}
    return v


# --------------------------------------------------------------------------
# 7.3
# --------------------------------------------------------------------------

def kernel_73(cpu: CpuPages) -> Verdict:
    """Mirror 7.3's rb_meta_validate_events() (see _Stock73): pages that
    fail are dropped one by one, pages read before the crash come back."""
    k = _Stock73(cpu)
    found = k.validate_events()
    v = Verdict(order=k.read_order(), ring_ids=k.ring_ids(), discarded=k.discarded, rewound=k.rewound,
                dropped={slot: "dropped: " + (why or "invalid") for slot, why in k.dropped.items()})
    if not found:
        v.valid, v.reason = False, "commit page not found"
    return v


class _Stock73:
    """7.3's rb_meta_validate_events() on one CPU: head page first, reader
    page, rewind over already-read pages, reinsert the reader page, then head
    to commit, dropping (not rejecting) pages that fail.  The kernel's writes
    go to copies of the page list and headers; the region is not touched."""

    def __init__(self, cpu):
        self.cpu, self.nr = cpu, len(cpu.buffers)
        ring = cpu.buffers[1:]
        self.nxt, self.prv = {}, {}
        for i, slot in enumerate(ring):
            self.nxt[slot] = ring[(i + 1) % len(ring)]
            self.prv[slot] = ring[(i - 1) % len(ring)]
        self.reader = self.orig_reader = cpu.buffers[0]
        self.nxt[self.reader] = self.prv[self.reader] = self.reader    # INIT_LIST_HEAD(reader->list)
        self.head = self.orig_head = cpu.head
        self.commit = cpu.commit            # also the tail page
        self.sim = {}                       # slot -> (ts, raw) after the kernel's writes
        self.dropped = {}                   # slot -> why
        self.ts = 0
        self.discarded = 0
        self.entries = 0
        self.rewound = 0

    def hdr(self, slot):
        if slot not in self.sim:
            self.sim[slot] = self.cpu.headers[slot]
        return self.sim[slot]

    def validate(self, slot, prev_ts, next_ts):
        """__rb_validate_buffer(): entries, or -1 with the page dropped."""
        ts0, raw = self.hdr(slot)
        ret, ts, why = -1, 0, None
        if raw <= SUBBUF_CAPACITY:
            w = self.cpu.walk(slot, raw, ts0)
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
            return _list_ids(self.cpu.buffers)
        ids = {self.reader: 0}
        hp = self.head
        for i in range(1, self.nr):
            ids.setdefault(hp, i)
            hp = self.nxt[hp]
        return ids
