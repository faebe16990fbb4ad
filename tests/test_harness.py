"""The runner's own parts on saved output, with no kernel: the guest's data
channel and console (harness/vm.py), the QEMU command line built from
harness/qemu_configs/, the scheduler's verdicts on what its children print
(harness/scheduler.py), and its KTAP, read back by the kernel's own
kunit.py parse when a kernel tree is in the cache."""

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import ktap  # noqa: E402
import paths  # noqa: E402
import scheduler  # noqa: E402
import vm  # noqa: E402


def fixture(name):
    with open(os.path.join(HERE, "data", name)) as f:
        return f.read()


class GuestOutputTest(unittest.TestCase):
    def test_sections_and_exit_statuses(self):
        b = vm.Boot(fixture("boot.console.log"), fixture("boot.data.log"), 1.0)
        self.assertEqual(b.section("online"), "0-1\n")
        self.assertEqual(b.rc("online"), 0)
        self.assertEqual(b.rc("enable0"), 1)     # a failed command is not lost
        self.assertEqual(b.section("packed"), "hello")
        self.assertEqual(b.step_rc, 0)
        with self.assertRaises(KeyError):
            b.section("never-sent")

    def test_console_verdicts(self):
        b = vm.Boot(fixture("boot.console.log"), "", 1.0)
        self.assertTrue(b.panicked)
        self.assertIsNone(b.step_rc)            # no end marker: the step never finished
        self.assertEqual(len(b.complaints()), 2)
        self.assertEqual(len(b.dmesg_lines(r"sub-buffers dropped")), 1)

    def test_region_moved(self):
        with tempfile.TemporaryDirectory() as d:
            g = vm.Guest(d, "bzImage", "initrd")
            console = fixture("boot.console.log")
            g.check_regions("boot1", console)
            g.check_regions("boot2", console)
            with self.assertRaises(vm.RegionMoved):
                g.check_regions("boot3", console.replace("0x1e400000", "0x1d600000"))


class QemuCommandLineTest(unittest.TestCase):
    def test_from_config(self):
        with tempfile.TemporaryDirectory() as d:
            args = vm.Guest(d, "bzImage", "initrd", smp=2, debug=True).qemu_args("s", "c", "d", "x=1")
        self.assertEqual(args[0], vm.QEMU.binary)
        self.assertEqual(args[args.index("-accel") + 1], "tcg,thread=single")
        self.assertEqual(args[args.index("-cpu") + 1], vm.QEMU.cpu_debug)
        self.assertEqual(args[args.index("-append") + 1], "x=1")
        self.assertIn("-no-reboot", args)
        self.assertNotIn("nokaslr", vm.QEMU.cmdline)   # KASLR on, as users boot


def fake_case(name):
    return types.SimpleNamespace(name=name, needs=None, needs_kernel=False, base="host",
                                 kernel=("host", "selftest", "normal"))


class SchedulerTest(unittest.TestCase):
    def run_fake(self, names):
        out = io.StringIO()
        with tempfile.TemporaryDirectory() as d:
            saved = scheduler.RUNS, scheduler.RESULTS
            scheduler.RUNS, scheduler.RESULTS = d, d
            try:
                with contextlib.redirect_stdout(out):
                    s = scheduler.Scheduler([fake_case(n) for n in names], 2, False,
                                            os.path.join(HERE, "data", "fake_runner.py"))
                    ok = s.run()
            finally:
                scheduler.RUNS, scheduler.RESULTS = saved
        return ok, out.getvalue()

    def test_verdicts(self):
        ok, text = self.run_fake(["pass1", "fail1", "skip1", "dies1"])
        self.assertFalse(ok)
        lines = text.splitlines()
        self.assertEqual(lines[:2], ["KTAP version 1", "1..4"])
        self.assertEqual(lines[-1], "1 passed, 2 failed, 1 skipped")
        self.assertTrue(any(l.startswith("ok ") and l.endswith("pass1") for l in lines))
        self.assertTrue(any(l.startswith("not ok ") and l.endswith("fail1") for l in lines))
        self.assertTrue(any(l.startswith("not ok ") and l.endswith("dies1") for l in lines))
        self.assertIn("# dies1: the case ended without a result (exit 3)", lines)
        self.assertTrue(any(l.endswith("skip1 # SKIP no such kernel") for l in lines))

    def test_all_pass(self):
        ok, text = self.run_fake(["pass1", "pass2"])
        self.assertTrue(ok)
        self.assertEqual(text.splitlines()[-1], "2 passed, 0 failed")


class KtapTest(unittest.TestCase):
    KUNIT = os.path.join(paths.CACHE, "trees", "6.12", "tools", "testing", "kunit", "kunit.py")

    def test_kernel_parser_reads_it(self):
        if not os.path.exists(self.KUNIT):
            self.skipTest("no kernel tree in the cache yet (make check fetches it)")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            r = ktap.Report(3)
            r.case("a[6.12-lastboot]", True, "", ["# a[6.12-lastboot]: a note"], 1.0)
            r.case("b[6.12-stock]", False, "", ["# b[6.12-stock]: FAIL: x"], 2.0)
            r.case("c[7.3-lastboot]", True, " # SKIP why", [], 0.0)
            r.summary(3.0)
        p = subprocess.run([sys.executable, self.KUNIT, "parse"], input=out.getvalue(),
                           capture_output=True, text=True, timeout=60)
        self.assertIn("Ran 3 tests", p.stdout)
        self.assertIn("passed: 1, failed: 1, skipped: 1", p.stdout)


if __name__ == "__main__":
    unittest.main()
