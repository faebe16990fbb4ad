"""harness/tracefile.py on saved trace output: no line dropped silently,
markers checked for breaks, events after the crash counted.  Run with
`python3 -m unittest discover tests` (make check runs it as the
harness_tests case)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import tracefile  # noqa: E402

HEADER = """# tracer: nop
#
#                                _-----=> irqs-off/BH-disabled
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
"""
EVENTS = """\
          <idle>-0       [000] d.h2.     1.000100: hrtimer_expire_entry: hrtimer=0xffff8880 function=tick_nohz_handler now=1000
              dd-51      [001] .....     1.000200: vfs_write <-ksys_write
              sh-60      [001] ...1.     1.000300: tracing_mark_write: lb-seq 1 7
              sh-60      [001] ...1.     1.000400: tracing_mark_write: lb-seq 1 8
          <idle>-0       [000] d..3.     1.000500:  -1100852832:  0:R ==> [000]  -25413:  0:R <XXX>
CPU:1 [LOST 12 EVENTS]
"""


class TraceTest(unittest.TestCase):
    def test_every_kind_of_line_is_counted(self):
        t = tracefile.Trace(HEADER + EVENTS)
        self.assertEqual(t.count(0), 2)
        self.assertEqual(t.count(1), 3)
        self.assertEqual(t.lost_markers, ["CPU:1 [LOST 12 EVENTS]"])
        self.assertEqual(dict(t.markers), {1: [7, 8]})

    def test_an_unknown_type_line_fails(self):
        with self.assertRaises(tracefile.UnrecognisedLine):
            tracefile.Trace(HEADER + EVENTS + "              sh-60      [001] .....     1.0006: Unknown type 77\n")

    def test_garbage_fails(self):
        with self.assertRaises(tracefile.UnrecognisedLine):
            tracefile.Trace(EVENTS + "\x01\x02 not a trace line\n")

    def test_trace_cmd_report_header_is_known(self):
        self.assertEqual(tracefile.Trace("cpus=2\n" + EVENTS).count(), 5)


class MarkerTest(unittest.TestCase):
    def markers(self, cpu, numbers, shown_on=None):
        return "".join("              sh-60      [%03d] ...1.     1.%06d: tracing_mark_write: lb-seq %d %d\n"
                       % (cpu if shown_on is None else shown_on, n, cpu, n) for n in numbers)

    def test_unbroken_run(self):
        t = tracefile.Trace(self.markers(0, range(5, 9)))
        self.assertEqual(tracefile.marker_runs(t), {0: (5, 8, [])})

    def test_a_lost_marker_is_a_break(self):
        t = tracefile.Trace(self.markers(0, [5, 6, 8, 9]))
        self.assertEqual(tracefile.marker_runs(t)[0][2], [(6, 8)])

    def test_a_repeated_marker_is_a_break(self):
        t = tracefile.Trace(self.markers(0, [5, 6, 6, 7]))
        self.assertEqual(tracefile.marker_runs(t)[0][2], [(6, 6)])

    def test_a_marker_on_another_cpu(self):
        t = tracefile.Trace(self.markers(0, [1], shown_on=1))
        self.assertEqual(len(t.misplaced_markers), 1)


class CompareTest(unittest.TestCase):
    def test_late_and_invented_events(self):
        recorded = tracefile.Trace(EVENTS)
        recovered = tracefile.Trace(EVENTS + "          <idle>-0       [000] d.h2.     9.000000: "
                                    "hrtimer_expire_entry: hrtimer=0x1\n")
        c = tracefile.compare(recorded, recovered, crash_ts=5.0)[0]
        self.assertEqual((c["recovered"], c["missing"], c["late"], c["after_snapshot"]), (2, 0, 1, 1))

    def test_missing_older_events_count_as_overwritten(self):
        recorded = tracefile.Trace(EVENTS)
        recovered = tracefile.Trace("\n".join(l for l in EVENTS.splitlines() if "1.000100" not in l))
        c = tracefile.compare(recorded, recovered)[0]
        self.assertEqual((c["missing"], c["overwritten"]), (1, 1))


if __name__ == "__main__":
    unittest.main()
