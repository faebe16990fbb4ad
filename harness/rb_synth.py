#!/usr/bin/env python3
"""Synthetic boot-mapped ring buffer regions, written the way the kernels
write them, for tests/test_ringbuf.py and its saved fixtures.

SynthCpu models one CPU's writer and reader at the level of pages (and
knows which event sits on which page); fill() writes a history into it;
synth_region() lays CPUs out as a 6.12 or 7.3 kernel would (the layout
functions of ringbuf.py) and returns the region's bytes.  fixture() is the
small region saved in tests/data/; regenerate it with

    python3 harness/rb_synth.py tests/data
"""

import gzip
import json
import os
import random
import struct
import sys

from rb_layout import (ABS_TS_MASK, BMETA73, CPUMETA73, CPUMETA73_INJECT, META612, META_MAGIC, PAGE_SIZE,
                       RB_MAX_SMALL_DATA, RINGBUF_TYPE_PADDING, RINGBUF_TYPE_TIME_EXTEND,
                       RINGBUF_TYPE_TIME_STAMP, SCRATCH73, SUBBUF_CAPACITY, TS_MASK, TS_SHIFT, align,
                       cpu_meta_offsets, layout_nr_subbufs, subbufs_offset)


def _ev_header(type_len, time_delta):
    return struct.pack("<I", (type_len & 0x1F) | ((time_delta & TS_MASK) << 5))


class SynthCpu:
    """A tiny model of one CPU's ring buffer writer and reader, kept at the
    level of pages; it knows which events sit on which page."""

    def __init__(self, nr, base, rng, fill_byte=None):
        self.nr, self.base, self.rng = nr, base, rng
        self.fill_byte = fill_byte          # payload bytes: random, or this byte (compresses)
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
                size = align(payload, 4) + 8
                rec = _ev_header(RINGBUF_TYPE_PADDING, max(1, delta)) + struct.pack("<I", size - 4) + bytes(size - 8)
            else:
                if kind == "abs" or self.force_abs:
                    stamp = ts & ABS_TS_MASK
                    rec += _ev_header(RINGBUF_TYPE_TIME_STAMP, stamp) + struct.pack("<I", stamp >> TS_SHIFT)
                    delta = 0
                elif delta >= (1 << TS_SHIFT):
                    rec += _ev_header(RINGBUF_TYPE_TIME_EXTEND, delta) + struct.pack("<I", delta >> TS_SHIFT)
                    delta = 0
                plen = align(payload, 4)
                if self.fill_byte is None:
                    body = bytes(self.rng.getrandbits(8) for _ in range(plen))
                else:
                    body = bytes([self.fill_byte]) * plen
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


def synth_region(base, size, cpus, virt=0xFFFFC90000400000, inject=False):
    """Serialise synthetic CPUs into a region image (bytearray)."""
    b = bytearray(size)
    if base == "6.12":
        msz, first = META612.size, 0
    else:
        msz = CPUMETA73_INJECT.size if inject else CPUMETA73.size
        first = BMETA73.size + SCRATCH73
        BMETA73.pack_into(b, 0, META_MAGIC, msz | (BMETA73.size << 16), size, first)
    nr = cpus[0].nr
    for cpu, off in enumerate(cpu_meta_offsets(first, msz, nr, len(cpus))):
        s = cpus[cpu]
        sub = subbufs_offset(off, msz, nr)
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


def fill(s, rng, nevents, t0, big_gap_every=37, abs_every=53, discard_every=29):
    """Write ``nevents`` data events from time ``t0`` on, with a gap that needs a
    TIME_EXTEND every ``big_gap_every``, an absolute TIME_STAMP every
    ``abs_every`` and a discarded event every ``discard_every`` (0: never).
    Returns the last time stamp."""
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


# --------------------------------------------------------------------------
# The saved fixture (tests/data/)
# --------------------------------------------------------------------------

FIXTURE_SIZE = 64 * 1024
FIXTURE_VIRT = 0xFFFFC90000400000


def fixture(base, seed=23):
    """(region bytes, what the writer knows) of a small 2-CPU region: CPU 0
    written once, CPU 1 wrapped, read twice and written on, with time
    extends, absolute stamps and discarded events.  Payloads are one
    repeated byte so that the saved file stays small."""
    rng = random.Random(seed)
    nr = layout_nr_subbufs(base, FIXTURE_SIZE, 2)
    s0 = SynthCpu(nr, base, rng, fill_byte=0x5A)
    fill(s0, rng, 40, 10_000_000_000, big_gap_every=11, abs_every=17, discard_every=7)
    s1 = SynthCpu(nr, base, rng, fill_byte=0xA5)
    fill(s1, rng, 300, 20_000_000_000, big_gap_every=13, abs_every=19, discard_every=11)
    s1.consume()
    s1.consume()
    fill(s1, rng, 30, s1.written[-1])
    expected = {"base": base, "size": FIXTURE_SIZE, "nr_cpus": 2, "nr_subbufs": nr,
                "prev_virt_base": FIXTURE_VIRT, "cpus": []}
    for s in (s0, s1):
        order = s.expected_order()
        expected["cpus"].append({"order": order, "timestamps": [s.pages[slot]["events"] for slot in order]})
    return bytes(synth_region(base, FIXTURE_SIZE, [s0, s1], virt=FIXTURE_VIRT)), expected


def fixture_paths(directory, base):
    """(region file, expectations file) of one base's fixture."""
    return (os.path.join(directory, "ringbuf-%s.bin.gz" % base),
            os.path.join(directory, "ringbuf-%s.json" % base))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: rb_synth.py DIRECTORY  (writes the tests/data fixtures)", file=sys.stderr)
        return 2
    os.makedirs(argv[0], exist_ok=True)
    for base in ("6.12", "7.3"):
        region, expected = fixture(base)
        bin_path, json_path = fixture_paths(argv[0], base)
        with open(bin_path, "wb") as f:
            f.write(gzip.compress(region, mtime=0))
        with open(json_path, "w") as f:
            json.dump(expected, f, separators=(",", ":"))
            f.write("\n")
        print("%s: %d bytes, %s" % (bin_path, os.path.getsize(bin_path), json_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
