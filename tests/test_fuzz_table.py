"""harness/fuzz_table.py on a saved campaign log: every seed counted, each
failure in its class."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import fuzz_table  # noqa: E402


class FuzzTableTest(unittest.TestCase):
    def test_saved_log(self):
        s = fuzz_table.summarize(os.path.join(HERE, "data", "fuzz-campaign.log"))
        self.assertEqual(s["name"], "6.12-lastboot-debug-events")
        self.assertEqual(s["seeds"], [1, 2, 3, 4, 5, 6])
        self.assertEqual(s["fails"], {2: "complaint", 3: "hang", 4: "short", 5: "complaint"})
        self.assertEqual(fuzz_table.row(s),
                         "| 6.12-lastboot-debug-events | 1-6 | 6 | 2 | 2 | 1 | 1 | 27 | ? |")


if __name__ == "__main__":
    unittest.main()
