"""harness/bench*.py without a guest: the report from saved raw figures,
the parsers on saved console and trace text, the bootstrap interval.  Run
with `python3 -m unittest discover tests`.

tests/data/bench-raw.json is a saved ~/.cache/lastboot/bench/raw.json:
validation and backup only, 2 rounds on 1 MiB regions of lastboot 6.12
and stock 7.3.  tests/data/bench-raw-others.json holds the figures it
lacks, cut to 3 rounds from the per-round lines of BENCHMARKS.md (the
write path's min values made up).  The console and trace lines below are
cut from saved boots (~/.cache/lastboot/bench/validate-6.12-lastboot-1/)."""

import json
import os
import sys
import tempfile
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import bench  # noqa: E402
import bench_boot  # noqa: E402
import bench_boot_report  # noqa: E402
import bench_common  # noqa: E402
import bench_kho  # noqa: E402
import bench_stats  # noqa: E402
import bench_write  # noqa: E402
import kernels  # noqa: E402
import vm  # noqa: E402

TITLES = ["## 1. Write fast path", "## 2. Boot-time validation", "## 3. Backup instance",
          "## 4. Recovery quality", "## 5. pstore over KHO", "## 6. The harness",
          "## 7. Compiling a kernel with an empty ccache", "## 8. Compiling with transparent huge pages",
          "## 9. The first touch of a page on the build machine"]


def load(name):
    with open(os.path.join(HERE, "data", name)) as f:
        return json.load(f)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.raw = load("bench-raw.json")
        cls.full = dict(cls.raw, **load("bench-raw-others.json"))

    def test_every_section_in_order(self):
        text = bench.report(self.full)
        self.assertTrue(text.startswith(bench.HEADER))
        found = [line for line in text.splitlines() if line.startswith("## ")]
        self.assertEqual(found, TITLES)
        self.assertEqual(text.count("_Measured 2026-12-02, 2 rounds._"), 8)

    def test_a_figure_not_measured_says_so(self):
        lines = bench.report(self.raw).splitlines()
        for title, figure in ((TITLES[0], "write"), (TITLES[4], "kho"), (TITLES[8], "firsttouch")):
            i = lines.index(title)
            self.assertEqual(lines[i + 2], "Not measured yet (`ONLY=%s make bench`)." % figure)
        self.assertIn("- `make check` cold: not recorded on this machine", lines)

    def test_validation_and_backup_rows(self):
        lines = bench.report(self.raw).splitlines()
        for row in (
            "| 1 MiB | 6.12-lastboot | 7.0 | 1.2 | 8.2 | 11.3 | 0.2 / 0.2 | 0.3 | **6.00** | 6.68 | 3.97 "
            "| 18213 + 18128 | 18213 + 18128 |",
            "| 1 MiB | 7.3-stock | 5.5 | 0.8 | 6.3 | 8.6 | 0.2 / 0.1 | 0.3 | **3.72** | 5.62 | 2.82 "
            "| 18115 + 18106 | 18115 + 18106 |",
            "| 1 MiB | 8.2 [2.3, 14.1] | 6.3 [4.5, 8.1] | 1.12 [0.51, 1.73] | 143.3% / 56.9% | **not met** |",
            "| 1 MiB | 6.12-lastboot | 4.7 | 4.4 | 3.2 / 0.3 | 0.6 | **1.47** | 1.38 | 16.76 | 7.58 |",
            "| 1 MiB | 7.3-stock | 8.4 | 8.4 | 2.9 / 0.4 | 0.6 | **2.92** | 2.92 | 23.69 | 14.91 |",
            "- 1 MiB 6.12-lastboot: 5.74 [0.52, 10.96] (not met)",
            "- `make check` warm: 843 s wall, 58 passed, 0 failed (2026-12-02, transparent huge pages always)",
        ):
            self.assertIn(row, lines)

    def test_other_figures_rows(self):
        lines = bench.report(self.full).splitlines()
        for row in (
            "| persistent boot instance | 837 | 841 | **1.005** | 621 | 611 | 0.984 |",
            "- boot_map: lastboot / stock per round, median [95% bootstrap interval]: 1.0084 [0.8533, 1.0447]",
            "| corruption[6.12-lastboot] | 43297 / 43513 (99.5%) | 2 | yes |",
            "| corruption_midpage[7.3-stock] | 49427 / 49656 (99.5%) | - | no |",
            "| **kexec: load + exec to the next kernel's step** | 2956 | 3021 | **-65** | **0.978** |",
            "| ccache, depend mode, empty cache | 27.0 | 1.084 | 60 / 60 |",
            "| always | 22.2 | **0.747** |",
            "| first touch of both parts | 21.55 | 5.16 |",
            "| ratio first / second | **52.6** | |",
        ):
            self.assertIn(row, lines)
        # A case without events figures has no row.
        self.assertNotIn("corruption_other", "\n".join(lines))

    def test_icount_adds_its_method(self):
        res = json.loads(json.dumps(self.full))
        res["write"]["icount"] = 3
        self.assertIn("advance 8 ns per instruction executed, so `avg` and `min` count", bench.report(res))
        self.assertNotIn("-icount shift=", bench.report(self.full))

    def test_boot_figures_under_icount(self):
        # Rounds of the same kernel alike, as -icount makes them: spans in
        # millions of instructions (ms / 2^shift), to the microsecond.
        res = json.loads(json.dumps(self.raw))
        res["boot_icount"] = 1
        for rows in res["validate"].values():
            rows[1] = dict(rows[0])
        text = bench.report(res)
        self.assertIn("`-icount shift=1,sleep=off`: their clocks", text)
        self.assertIn("advance 2 ns\nper instruction executed", text)
        self.assertIn("the time stamps resolve 500\ninstructions", text)
        self.assertNotIn("`prealloc=on`", text)
        lines = text.splitlines()
        for row in ("| 1 MiB | 7.043 [7.043, 7.043] | 4.061 [4.061, 4.061] | 1.73 [1.73, 1.73] | 0.0% / 0.0% "
                    "| **not met** |",
                    "| 1 MiB | 6.12-lastboot | 2.233 | 4.810 | 7.043 | 8.870 | 0.107 / 0.096 | 0.134 | **44.92** "
                    "| 49.86 | 35.83 | 18213 + 18128 | 18213 + 18128 |",
                    # ratios as on wall time: both spans scale alike
                    "| 1 MiB | 6.12-lastboot | 2.356 | 2.219 | 1.608 / 0.141 | 0.311 | **1.47** | 1.38 | 16.76 | 7.58 |",
                    "- 1 MiB 6.12-lastboot: 2.233/4.810/0.107/0.096/0.134, 2.233/4.810/0.107/0.096/0.134"):
            self.assertIn(row, lines)
        self.assertIn("| region | lastboot 6.12 (M instructions) | stock 7.3 (M instructions) |", text)

    def test_units_and_spread(self):
        self.assertEqual(bench_boot_report.units({}), ("ms", 1.0, "%.1f"))
        self.assertEqual(bench_boot_report.units({"boot_icount": 0}), ("M instructions", 1.0, "%.3f"))
        rows = bench_boot_report.scaled([{"cpu0_ms": 4.0, "kmemcpy_half_ms": [2.0, 1.0], "entries": [8]}], 4.0)
        self.assertEqual(rows, [{"cpu0_ms": 1.0, "kmemcpy_half_ms": (0.5, 0.25), "entries": [8]}])
        self.assertAlmostEqual(bench_boot_report.spread([99.0, 100.0, 101.0]), 2.0)

    def test_events_lost_on_a_clean_crash(self):
        res = json.loads(json.dumps(self.raw))
        res["validate"]["7.3-stock 1"][-1]["entries"] = [18115, 100]
        self.assertIn("damaged): 1 MiB on 7.3-stock, CPU 1: 100 of 18106. The validation time", bench.report(res))

    def test_write_report_keeps_the_sections_not_measured(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "BENCHMARKS.md")
            with open(out, "w") as f:
                f.write(bench.report(self.full).replace("| always | 22.2 |", "| always | 99.9 |"))
            with mock.patch.object(bench, "OUT", out), mock.patch.object(bench, "note"):
                text = bench.write_report(self.raw)
            with open(out) as f:
                self.assertEqual(f.read(), text)
        self.assertIn("| always | 99.9 | **0.747** |", text)  # kept from the older OUT
        self.assertIn("| 1 MiB | 7.3-stock | 8.4 | 8.4 |", text)  # this run's
        self.assertEqual([line for line in text.splitlines() if line.startswith("## ")], TITLES)


# Cut from boot2.console.log (a validation round) and boot6.console.log (a
# backup round) of lastboot 6.12 with a 1 MiB region.
VALIDATE_CONSOLE = """\
[    0.000000] tsc: Fast TSC calibration using PIT
[    0.000000] tsc: Detected 2596.140 MHz processor
[    0.000000] tsc: Detected 2596.122 MHz TSC
[    0.159507] Tracing: mapped boot instance boot_map at physical memory 0x000000003e100000 of size 0x100000
[    0.165466] Ring buffer meta [0] is from previous boot!
[    0.165518] Ring buffer meta [0] 0 of 127 sub-buffers dropped, 0 cut short, 18249 events kept
[    0.472396] smp: Bringing up secondary CPUs ...
[    0.484019] Ring buffer meta [1] is from previous boot!
[    0.484221] Ring buffer meta [1] 0 of 127 sub-buffers dropped, 0 cut short, 18239 events kept
[    0.486095] smpboot: x86: Booting SMP configuration:
[    2.035917] tsc: Refined TSC clocksource calibration: 2596.110 MHz
"""
BACKUP_CONSOLE = """\
[    0.678163] Tracing: mapped boot instance boot_map at physical memory 0x000000003fae0000 of size 0x100000
[    0.679424] Ring buffer meta [0] is from previous boot!
[    0.679444] Ring buffer meta [0] 0 of 127 sub-buffers dropped, 0 cut short, 18213 events kept
[    0.685586] Ring buffer meta [0] is from previous boot!
[    0.685623] Ring buffer meta [0] 18213 events kept, as validated in the buffer it was copied from
[    0.685832] Tracing: backup instance backup holds the previous boot of boot_map (1024 KiB)
"""
# boot2.cpuhp.txt: the top-level trace with the cpuhp and printk events,
# what CPUHP_STEP keeps of it.  Three calls of trace_rb_cpu_prepare for
# CPU 1 (one per ring buffer); the first printed the validation's lines.
CPUHP_TRACE = """\
            init-1       [000] .....     0.483498: cpuhp_exit:  cpu: 0001  state:  37 step:  37 ret: 0
            init-1       [000] .....     0.488847: cpuhp_exit:  cpu: 0001  state:  45 step:  45 ret: 0
            init-1       [000] .....     0.488943: cpuhp_multi_enter: cpu: 0001 target:  85 step:  56 (trace_rb_cpu_prepare)
            init-1       [000] dN...     0.490596: console: Ring buffer meta [1] is from previous boot!
            init-1       [000] dN...     0.490773: console: Ring buffer meta [1] 0 of 127 sub-buffers dropped, 0 cut short, 18239 events kept
            init-1       [000] .N...     0.491009: cpuhp_exit:  cpu: 0001  state:  56 step:  56 ret: 0
            init-1       [000] .N...     0.491027: cpuhp_multi_enter: cpu: 0001 target:  85 step:  56 (trace_rb_cpu_prepare)
            init-1       [000] .....     0.492040: cpuhp_exit:  cpu: 0001  state:  56 step:  56 ret: 0
            init-1       [000] .....     0.492046: cpuhp_multi_enter: cpu: 0001 target:  85 step:  56 (trace_rb_cpu_prepare)
            init-1       [000] .....     0.492067: cpuhp_exit:  cpu: 0001  state:  56 step:  56 ret: 0
            init-1       [000] .....     0.492106: cpuhp_exit:  cpu: 0001  state:  61 step:  61 ret: 0
"""
KMEMCPY_OUT = """\
[    3.529276] lastboot_kmemcpy: 524288 bytes: vmalloc 78958 ns, memcpy 216294 ns
[    3.530629] lastboot_kmemcpy: 524288 bytes: vmalloc 39289 ns, memcpy 186138 ns
[    3.532027] lastboot_kmemcpy: 524288 bytes: vmalloc 35373 ns, memcpy 173419 ns
[    3.533015] lastboot_kmemcpy: 524288 bytes: vmalloc 33790 ns, memcpy 172388 ns
[    3.534270] lastboot_kmemcpy: 524288 bytes: vmalloc 29424 ns, memcpy 473228 ns
"""


class ParserTest(unittest.TestCase):
    def test_stamp(self):
        self.assertEqual(bench_boot.stamp(VALIDATE_CONSOLE, r"Ring buffer meta \[\d\] is from"), 0.165466)
        self.assertEqual(bench_boot.stamp(VALIDATE_CONSOLE, r"Ring buffer meta \[\d\] is from", 0.2), 0.484019)
        with self.assertRaises(kernels.Failed):
            bench_boot.stamp(VALIDATE_CONSOLE, r"Ring buffer meta \[2\]")

    def test_validation_and_bringup(self):
        self.assertAlmostEqual(bench_boot.validation_ms(VALIDATE_CONSOLE), 5.959, places=6)
        self.assertAlmostEqual(bench_boot.bringup_ms(VALIDATE_CONSOLE), 13.699, places=6)

    def test_cpu1_prepare_is_the_call_that_printed_the_validation(self):
        self.assertAlmostEqual(bench_boot.cpu1_prepare_ms(CPUHP_TRACE), 2.066, places=6)

    def test_cpu1_prepare_needs_exactly_one_such_call(self):
        without = "".join(line + "\n" for line in CPUHP_TRACE.splitlines() if "console:" not in line)
        with self.assertRaises(kernels.Failed):
            bench_boot.cpu1_prepare_ms(without)

    def test_backup_spans(self):
        self.assertAlmostEqual(bench_boot.backup_ms(BACKUP_CONSOLE), 6.388, places=6)
        self.assertAlmostEqual(bench_boot.copy_validated_ms(BACKUP_CONSOLE), 6.162, places=6)

    def test_kmemcpy_cold_and_warm(self):
        cold, warm = bench_boot.kmemcpy_ms(KMEMCPY_OUT)
        self.assertAlmostEqual(cold, 0.216294)
        self.assertAlmostEqual(warm, (173419 + 186138) / 2e6)
        with self.assertRaises(kernels.Failed):
            bench_boot.kmemcpy_ms(KMEMCPY_OUT.split("\n", 1)[1])

    def test_fill_step_drains_the_data_port_before_the_crash(self):
        step = bench_boot.FILL_STEP
        self.assertLess(step.index("emit fillstats"), step.index("stty -F /dev/ttyS1"))
        self.assertLess(step.index("stty -F /dev/ttyS1"), step.index("crash"))

    def test_icount_setting(self):
        self.assertIsNone(bench_common.icount_shift("off"))
        self.assertEqual(bench_common.icount_shift("0"), 0)
        with tempfile.TemporaryDirectory() as d:
            g = vm.Guest(d, "bzImage", "initrd", icount=0)
            self.assertEqual(g.qemu_args("s", "c", "d", "")[-2:], ["-icount", "shift=0,sleep=off"])
            g = vm.Guest(d, "bzImage", "initrd")
            self.assertNotIn("-icount", g.qemu_args("s", "c", "d", ""))

    def test_memcpy_and_tsc(self):
        text = "memcpy 524288 1629748\nmemcpy 524288 367650\nmemcpy 524288 497625\n"
        self.assertAlmostEqual(bench_boot.memcpy_ms(text), 0.497625)
        self.assertEqual(bench_common.tsc_khz(VALIDATE_CONSOLE), 2596110)

    def test_tracepoint_benchmark(self):
        self.assertEqual(bench_write.parse_bm("min=611 avg=841\n905000\n"),
                         {"min": 611, "avg": 841, "events": 905000})
        with self.assertRaises(kernels.Failed):
            bench_write.parse_bm("0\n")

    def test_kho_spans(self):
        marks = [(1, "load-start", 1000), (1, "load-end", 3000), (1, "exec", 4000), (2, "up", 9000),
                 (2, "module", 9500), (2, "load-start", 10000), (2, "load-end", 12000), (2, "exec", 13000),
                 (3, "up", 19000), (3, "module", 19100)]
        console = "".join("lastboot-tsc stage%d %s %d\n" % m for m in marks)
        self.assertEqual(bench_kho.kho_spans(console, 1000),
                         [{"load_ms": 2, "exec_to_up_ms": 5, "module_ms": 0.5},
                          {"load_ms": 2, "exec_to_up_ms": 6, "module_ms": 0.1}])
        with self.assertRaises(kernels.Failed):
            bench_kho.kho_spans(console.replace("stage3 up", "stage3 late"), 1000)


class StatsTest(unittest.TestCase):
    def test_ci95_of_a_known_list(self):
        self.assertEqual(bench_stats.ci95(list(range(1, 10))), (2, 8))
        self.assertEqual(bench_stats.ci95(list(range(1, 101))), (41.0, 61.0))
        # Lists whose sorted bootstrap medians change next to the 2.5% and
        # 97.5% indices: an interval off by one draw shows.
        self.assertEqual(bench_stats.ci95([x * x for x in range(1, 31)]), (110.5, 420.5))
        self.assertEqual(bench_stats.ci95([4.5, 9.6, 9.5, 7.1, 1.5, 6.6, 9.5, 5.0, 8.2, 6.3]), (4.75, 9.5))
        self.assertEqual(bench_stats.with_ci(list(range(1, 10))), "5.0 [2.0, 8.0]")

    def test_ci95_drops_nan_and_needs_two_rounds(self):
        nan = float("nan")
        self.assertEqual(bench_stats.ci95([3, nan, 1, 2]), (1, 3))
        lo, hi = bench_stats.ci95([5.0, nan])
        self.assertTrue(lo != lo and hi != hi)

    def test_interleaved_rounds(self):
        keys = ["A", "B", "C"]
        self.assertEqual([bench_stats.interleaved(keys, r) for r in range(4)],
                         [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"], ["A", "B", "C"]])


if __name__ == "__main__":
    unittest.main()
