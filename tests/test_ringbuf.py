"""harness/ringbuf.py (the decoder of a boot-mapped ring buffer, with
rb_layout.py, rb_events.py and rb_stock.py: what the stock kernels keep),
harness/rb_damage.py (the corrupter) and harness/rb_synth.py (synthetic regions), with no kernel: the
saved regions in tests/data/ (written by rb_synth.py; regenerate them with
`python3 harness/rb_synth.py tests/data`), synthetic regions of both layouts,
damage written through a file, and garbage.  Run with
`python3 -m unittest discover -s tests` (make check runs it as the
harness_tests case)."""

import gzip
import json
import os
import random
import struct
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import rb_damage  # noqa: E402
import rb_layout  # noqa: E402
import rb_synth  # noqa: E402
import ringbuf  # noqa: E402
from rb_layout import PAGE_SIZE  # noqa: E402
from rb_synth import SynthCpu, fill, synth_region  # noqa: E402
from ringbuf import parse_region  # noqa: E402

SMALL = 256 * 1024
BIG = 8 << 20
VIRT = 0xFFFFC90000400000      # synth_region()'s default virtual base


class FindRegionTest(unittest.TestCase):
    # Both kernels print the same message; noise around it.
    LOG = ("[    0.000000] Linux version 6.12.117\n"
           "[    0.812345] Tracing: mapped boot instance boot_map at physical memory 0x000000003f400000"
           " of size 0x800000\r\n"
           "[    0.9] Tracing: mapped boot instance other at physical memory 0x0000000012345000 of size 0x100000\n")

    def test_the_last_instance_wins(self):
        self.assertEqual(ringbuf.find_region(self.LOG), (0x12345000, 0x100000))
        self.assertEqual(ringbuf.find_region(self.LOG.encode()), (0x12345000, 0x100000))

    def test_by_name(self):
        self.assertEqual(ringbuf.find_region(self.LOG, "boot_map"), (0x3F400000, 0x800000))

    def test_no_message(self):
        self.assertIsNone(ringbuf.find_region("nothing here"))
        self.assertIsNone(ringbuf.find_region(None))


class SavedRegionTest(unittest.TestCase):
    """The regions saved in tests/data/ decode to what their writer recorded."""

    def test_saved_regions(self):
        for base in rb_layout.BASES:
            with self.subTest(base=base):
                region_path, expected_path = rb_synth.fixture_paths(os.path.join(HERE, "data"), base)
                with open(region_path, "rb") as f:
                    data = gzip.decompress(f.read())
                with open(expected_path) as f:
                    want = json.load(f)
                r = parse_region(data, base)
                self.assertTrue(r.valid and r.kernel_valid, r.reason or r.kernel_reason)
                self.assertEqual((r.size, r.nr_cpus, r.nr_subbufs, r.prev_virt_base),
                                 (want["size"], want["nr_cpus"], want["nr_subbufs"], want["prev_virt_base"]))
                for c, w in zip(r.cpus, want["cpus"]):
                    self.assertEqual([sb.index for sb in c.subbufs], w["order"], "CPU %d ring order" % c.cpu)
                    self.assertEqual([sb.timestamps for sb in c.subbufs], w["timestamps"],
                                     "CPU %d time stamps per page" % c.cpu)
                    self.assertEqual(c.kernel_events, sum(map(len, w["timestamps"])))
                    self.assertTrue(all(sb.valid and sb.kept for sb in c.subbufs))


class _Layout:
    """Tests on synthetic regions, for the base a subclass names."""
    base = None

    @classmethod
    def setUpClass(cls):
        rng = random.Random(1234)
        cls.nr = rb_layout.layout_nr_subbufs(cls.base, SMALL, 2)
        cls.s0 = SynthCpu(cls.nr, cls.base, rng)
        fill(cls.s0, rng, 400, 10_000_000_000)             # no wrap, reader unused
        cls.s1 = SynthCpu(cls.nr, cls.base, rng)
        fill(cls.s1, rng, 2500, 20_000_000_000)            # wraps (overwrite)
        for _ in range(3):
            cls.s1.consume()
        fill(cls.s1, rng, 150, cls.s1.written[-1])
        cls.good = bytes(synth_region(cls.base, SMALL, [cls.s0, cls.s1]))
        cls._big = None

    def big(self):
        """An 8M region of 4 CPUs (the default reserve_mem size), and its CPUs."""
        if self._big is None:
            rng = random.Random(4)
            nr = rb_layout.layout_nr_subbufs(self.base, BIG, 4)
            cpus = []
            for i in range(4):
                s = SynthCpu(nr, self.base, rng)
                fill(s, rng, 300 * (i + 1), (i + 1) * 1_000_000_000)
                cpus.append(s)
            type(self)._big = (bytes(synth_region(self.base, BIG, cpus)), cpus)
        return self._big

    def synth(self, rng, **kw):
        return SynthCpu(self.nr, self.base, rng, **kw)

    def consumed_four_pages(self):
        """CPU 0 after a reader consumed four pages, without clearing them:
        (its decoded buffer, its synthetic source)."""
        rng = random.Random(8)
        s = self.synth(rng)
        fill(s, rng, 700, 7_000_000_000, abs_every=0, discard_every=0)
        for _ in range(4):
            s.consume(clear=False)
        return self.parse([s, self.synth(rng)]).cpus[0], s

    def parse(self, cpus, **kw):
        return parse_region(bytes(synth_region(self.base, SMALL, cpus, **kw)), self.base)

    def assertCpu(self, c, s, order=None, rewound_all=False):
        """CPU ``c`` as parsed holds what synthetic CPU ``s`` wrote, in ``order``."""
        order = order if order is not None else s.expected_order()
        self.assertTrue(c.valid, "CPU invalid: %s" % c.reason)
        self.assertTrue(c.kernel_valid, "the kernel would reject: %s" % c.kernel_reason)
        self.assertEqual([sb.index for sb in c.subbufs], order, "ring order")
        for sb in c.subbufs:
            self.assertEqual(sb.timestamps, s.pages[sb.index]["events"], "page %d" % sb.index)
            self.assertTrue(sb.valid and sb.kept, "page %d: %s %s" % (sb.index, sb.reason, sb.kernel_note))
        want = [t for slot in order for t in s.pages[slot]["events"]]
        self.assertEqual(c.timestamps, want)
        self.assertEqual(c.kernel_events, len(want))
        if rewound_all:
            self.assertEqual(c.timestamps, s.written, "the rewind did not bring back every event")

    # -- well-formed regions -------------------------------------------------

    def test_two_cpus(self):
        self.assertGreaterEqual(self.nr, 3)
        r = parse_region(self.good, self.base)
        self.assertTrue(r.valid, r.reason)
        self.assertEqual((r.nr_cpus, r.nr_subbufs, r.prev_virt_base), (2, self.nr, VIRT))
        self.assertCpu(r.cpus[0], self.s0)
        self.assertCpu(r.cpus[1], self.s1)
        r2 = parse_region(bytearray(self.good), self.base, nr_cpus=2)
        self.assertTrue(r2.valid and r2.nr_events == r.nr_events)
        self.assertIn("stock kernel shows %d" % r.kernel_events, ringbuf.summary(r))

    def test_writer_on_the_reader_page_then_off_it(self):
        rng = random.Random(2)
        s = self.synth(rng)
        fill(s, rng, 100, 5_000_000_000)
        while s.consume():
            pass
        fill(s, rng, 3, s.written[-1], big_gap_every=2)
        self.assertEqual(s.tail, 0, "the synthetic writer left the reader page")
        c = self.parse([s, self.synth(rng)]).cpus[0]
        self.assertCpu(c, s)
        self.assertEqual(c.commit_index, c.reader_index)
        self.assertEqual(len(c.subbufs), 1, "only the reader page is read")
        fill(s, rng, 200, s.written[-1])
        self.assertCpu(self.parse([s, self.synth(rng)]).cpus[0], s)

    def test_eight_megabytes_four_cpus_guessed(self):
        b, cpus = self.big()
        r = parse_region(memoryview(b), self.base)
        self.assertTrue(r.valid, r.reason)
        self.assertEqual(r.nr_cpus, 4)
        for c, s in zip(r.cpus, cpus):
            self.assertCpu(c, s)

    def test_plain_cpu(self):
        r, s, _ = self.plain()
        self.assertCpu(r.cpus[0], s)

    def plain(self):
        """A CPU with neither absolute stamps (they would mend a page's end
        stamp) nor discarded events, and its region."""
        rng = random.Random(3)
        s = self.synth(rng)
        fill(s, rng, 1500, 3 * 10 ** 9, abs_every=0, discard_every=0)
        b = bytes(synth_region(self.base, SMALL, [s, self.s0]))
        return parse_region(b, self.base), s, b

    # -- damage through a file (rb_damage) --------------------------------------

    def damage_two_cpus(self):
        """One random page on CPU 0, one page's second half on CPU 1, in a RAM
        file; (events per CPU before, what was done to CPU 0 and 1, region after)."""
        b, _ = self.big()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ram")
            phys = 0x200000
            with open(path, "wb") as f:
                f.write(bytes(phys) + b + bytes(PAGE_SIZE))
            r = parse_region(ringbuf.read_region(path, phys, BIG), self.base)
            before = [c.kernel_events for c in r.cpus]
            d0 = rb_damage.corrupt_subbuf(path, phys, r, 0, "middle", random.Random(5))
            d1 = rb_damage.corrupt_event_in_subbuf(path, phys, r, 1, "random", random.Random(6))
            after = parse_region(ringbuf.read_region(path, phys, BIG), self.base)
        pos = d0["ring_pos"]
        self.assertTrue(0 < pos < len(r.cpus[0].subbufs) - 1, "the damaged page is in the middle")
        self.assertEqual(d0["events_destroyed"], r.cpus[0].subbufs[pos].nr_events)
        self.assertGreater(d0["events_destroyed"], 0)
        return before, d0, d1, after

    def test_damaged_pages_are_flagged(self):
        before, d0, d1, ra = self.damage_two_cpus()
        sb0 = ra.cpus[0].subbuf(d0["index"])
        self.assertTrue(sb0 is not None and not sb0.valid and not sb0.kept)
        sb1 = ra.cpus[1].subbuf(d1["index"])
        self.assertFalse(sb1.valid)
        self.assertEqual(sb1.nr_events, d1["events_before_damage"])
        self.assertEqual(ra.cpus[2].kernel_events, before[2], "an undamaged CPU is unchanged")

    def test_an_empty_cpu_has_no_middle_page(self):
        nr = rb_layout.layout_nr_subbufs(self.base, SMALL, 2)
        empty = SynthCpu(nr, self.base, random.Random(0))
        r = self.parse([empty, empty])
        with tempfile.NamedTemporaryFile() as f:
            with self.assertRaises(ValueError):
                rb_damage.corrupt_subbuf(f.name, 0, r, 0, "middle", random.Random(0))

    def test_head_write_moves_the_recorded_head(self):
        r = parse_region(self.good, self.base)
        c = r.cpus[1]
        slot = c.buffers[1 + (c.buffers.index(c.head_index) % (self.nr - 1))]     # the next ring page
        off, data = rb_damage.head_write(self.base, c, slot)
        b = bytearray(self.good)
        b[off:off + len(data)] = data
        self.assertEqual(parse_region(bytes(b), self.base).cpus[1].head_index, slot)

    def test_a_damaged_pid_keeps_the_framing(self):
        r = parse_region(self.good, self.base)
        with tempfile.NamedTemporaryFile() as f:
            f.write(self.good)
            f.flush()
            d = rb_damage.damage_event_pid(f.name, 0, r, 1, "middle", random.Random(0))
            after = parse_region(ringbuf.read_region(f.name, 0, SMALL), self.base)
        self.assertEqual(d["mode"], "pid")
        self.assertEqual(after.cpus[1].timestamps, r.cpus[1].timestamps)
        self.assertEqual(after.cpus[1].kernel_events, r.cpus[1].kernel_events)

    # -- what the stock kernels do with a damaged meta or page -------------------

    def test_a_misaligned_head_finds_no_head_page(self):
        c1 = parse_region(self.good, self.base).cpus[1]
        bad = bytearray(self.good)
        hoff = c1.meta_offset + rb_layout.META_FIELDS[self.base]["head_buffer"][0]
        struct.pack_into("<Q", bad, hoff, c1.meta["head_buffer"] + 8)
        rr = parse_region(bytes(bad), self.base).cpus[1]
        self.assertFalse(rr.valid or rr.kernel_valid)
        self.assertIn("NULL", rr.kernel_reason or "")

    def destroy_head_page(self):
        """(CPU 1 before, CPU 1 with random bytes over its head page, that page)."""
        c1 = parse_region(self.good, self.base).cpus[1]
        hd = [sb for sb in c1.subbufs if sb.index == c1.head_index][0]
        bad = bytearray(self.good)
        bad[hd.offset:hd.offset + PAGE_SIZE] = random.Random(7).randbytes(PAGE_SIZE)
        rr = parse_region(bytes(bad), self.base).cpus[1]
        self.assertTrue(rr.valid and len(rr.subbufs) == len(c1.subbufs), "the order survives page damage")
        return c1, rr, hd

    def stamp_middle_page(self, stamp):
        """(CPU as written, as parsed with its middle page's stamp set to ``stamp``, page index)."""
        c, _, b = self.plain()
        c4 = c.cpus[0]
        mi = len(c4.subbufs) // 2
        bad = bytearray(b)
        struct.pack_into("<Q", bad, c4.subbufs[mi].offset, stamp)
        return c4, parse_region(bytes(bad), self.base).cpus[0], mi

    # -- garbage ---------------------------------------------------------------

    def test_garbage_never_raises(self):
        grng = random.Random(99)
        good = self.good
        samples = [b"", b"\0", bytes(100), grng.randbytes(4096), grng.randbytes(300000), bytes(8 << 20)]
        samples += [good[:n] for n in (1, 23, 24, 57, 4096, 5000, 70000, len(good) - 1)]
        for _ in range(40):
            bad = bytearray(good)
            for _ in range(grng.randint(1, 50)):
                bad[grng.randrange(len(bad))] = grng.randrange(256)
            samples.append(bytes(bad))
        for _ in range(10):
            bad = bytearray(good)
            off = grng.randrange(0, len(bad) - 64)
            bad[off:off + 64] = grng.randbytes(64)           # somewhere in the pages
            k = grng.randint(1, 80)
            bad[0:k] = grng.randbytes(k)                      # the (first) meta
            samples.append(bytes(bad))
        for n, sample in enumerate(samples):
            for ncpu in (None, 1, 2, 3):
                rr = parse_region(sample, self.base, nr_cpus=ncpu)
                json.dumps(rr.to_dict(timestamps=True))
                ringbuf.summary(rr)
                self.assertFalse((rr.reason or "").startswith("internal error"),
                                 "sample %d, nr_cpus %s: %s" % (n, ncpu, rr.reason))

    def test_not_bytes(self):
        for weird in (None, "text", 12, [1, 2]):
            self.assertFalse(parse_region(weird, self.base).valid, repr(weird))


class Region612Test(_Layout, unittest.TestCase):
    base = "6.12"

    def test_read_pages_are_not_rewound(self):
        c, s = self.consumed_four_pages()
        self.assertCpu(c, s)
        self.assertEqual(c.rewound, 0)

    def test_a_bad_page_resets_the_cpu(self):
        _, _, _, ra = self.damage_two_cpus()
        self.assertFalse(ra.cpus[0].kernel_valid)
        self.assertEqual(ra.cpus[0].kernel_events, 0)
        self.assertFalse(ra.cpus[1].kernel_valid, "a bad page tail resets the CPU")

    def test_a_bad_head_page_resets_the_cpu(self):
        _, rr, _ = self.destroy_head_page()
        self.assertFalse(rr.kernel_valid)
        self.assertEqual(rr.kernel_events, 0)

    def test_page_stamps_are_not_checked(self):
        c, rr, _ = self.stamp_middle_page(1)
        self.assertTrue(rr.kernel_valid)
        self.assertEqual(rr.kernel_events, c.kernel_events)


class Region73Test(_Layout, unittest.TestCase):
    base = "7.3"

    def test_read_pages_are_rewound(self):
        c, s = self.consumed_four_pages()
        # reader = the first page consumed, then the others, the last reader
        # before the head, then head .. commit
        self.assertCpu(c, s, order=s.readers[1:] + s.expected_order()[1:], rewound_all=True)
        self.assertEqual(c.rewound, 3)

    def test_only_the_bad_page_is_lost(self):
        before, d0, d1, ra = self.damage_two_cpus()
        c0, c1 = ra.cpus[0], ra.cpus[1]
        self.assertTrue(c0.kernel_valid)
        self.assertEqual(c0.kernel_events, before[0] - d0["events_destroyed"])
        self.assertEqual(c0.kernel_discarded, 1)
        self.assertEqual(c1.kernel_events, before[1] - d1["events_destroyed"] - d1["events_before_damage"],
                         "the half-damaged page is dropped whole")

    def test_a_bad_head_page_is_dropped_alone(self):
        c1, rr, hd = self.destroy_head_page()
        self.assertTrue(rr.kernel_valid)
        self.assertEqual(rr.kernel_events, c1.kernel_events - hd.nr_events)
        self.assertEqual(rr.rewound, 0)

    def test_a_page_stamped_in_the_past_is_dropped(self):
        c, rr, mi = self.stamp_middle_page(1)
        self.assertTrue(rr.kernel_valid)
        self.assertEqual(rr.kernel_discarded, 1)
        self.assertEqual(rr.kernel_events, c.kernel_events - c.subbufs[mi].nr_events)

    def test_a_page_stamped_in_the_future_drops_every_later_page(self):
        c, rr, mi = self.stamp_middle_page(1 << 58)
        later = sum(sb.nr_events for sb in c.subbufs[mi + 1:])
        self.assertEqual(rr.kernel_events, c.kernel_events - later)
        self.assertEqual(rr.kernel_discarded, len(c.subbufs) - mi - 1)

    def test_inject_meta_layout(self):
        # CONFIG_RING_BUFFER_PERSISTENT_INJECT makes the CPU meta 40 bytes
        rng = random.Random(9)
        nr40 = rb_layout.layout_nr_subbufs(self.base, SMALL, 2, rb_layout.CPUMETA73_INJECT.size)
        t0, t1 = SynthCpu(nr40, self.base, rng), SynthCpu(nr40, self.base, rng)
        fill(t0, rng, 300, 10 ** 9)
        fill(t1, rng, 50, 10 ** 9)
        r = self.parse([t0, t1], inject=True)
        self.assertTrue(r.valid, r.reason)
        self.assertIn("nr_invalid", r.cpus[0].meta)
        self.assertCpu(r.cpus[0], t0)
        self.assertCpu(r.cpus[1], t1)

    def test_a_bad_top_meta_loses_everything_but_still_parses(self):
        bad = bytearray(self.good)
        bad[0:4] = b"\0\0\0\0"
        rr = parse_region(bytes(bad), self.base)
        self.assertTrue(rr.valid, rr.reason)
        self.assertFalse(rr.kernel_valid)
        self.assertEqual(rr.kernel_events, 0)
        self.assertEqual(rr.nr_events, parse_region(self.good, self.base).nr_events)


class ParseRegionTest(unittest.TestCase):
    def test_an_unknown_base_is_rejected(self):
        self.assertFalse(parse_region(bytes(4096), "5.4").valid)


class EventFormatTest(unittest.TestCase):
    FORMAT = """name: hrtimer_start
ID: 97
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:void * hrtimer;\toffset:8;\tsize:8;\tsigned:0;
\tfield:bool was_armed;\toffset:40;\tsize:1;\tsigned:0;
\tfield:char comm[16];\toffset:41;\tsize:16;\tsigned:0;
"""

    def test_fields(self):
        type_id, fields = rb_damage.event_format(self.FORMAT)
        self.assertEqual(type_id, 97)
        self.assertEqual(fields["was_armed"], (40, 1, "bool"))
        self.assertEqual(fields["common_pid"], (4, 4, "int"))
        self.assertEqual(fields["comm"], (41, 16, "char"))
        self.assertEqual(rb_damage.event_format("garbage"), (None, {}))


if __name__ == "__main__":
    unittest.main()
