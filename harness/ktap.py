"""KTAP output of a run: the kernel's own tools/testing/kunit/kunit.py
parse reads it.  One block per case, printed whole when the case ends (cases
run side by side), numbered in the order they end, then one summary line
"N passed, N failed[, N skipped]"."""

SKIP = " # SKIP"


class Report:
    def __init__(self, nr_cases):
        self.number = 0
        self.counts = {"passed": 0, "failed": 0, "skipped": 0}
        print("KTAP version 1")
        print("1..%d" % nr_cases, flush=True)

    def case(self, name, ok, directive, lines, seconds):
        """A case's diagnostics, its test line, its time.  directive is ""
        or " # SKIP <why>"."""
        self.number += 1
        for line in lines:
            print(line)
        if directive.startswith(SKIP):
            self.counts["skipped"] += 1
        else:
            self.counts["passed" if ok else "failed"] += 1
        print("%s %d %s%s" % ("ok" if ok else "not ok", self.number, name, directive))
        print("# %s: %.0f s" % (name, seconds), flush=True)

    def summary(self, wall_seconds):
        print("# wall time: %.0f s" % wall_seconds)
        line = "%d passed, %d failed" % (self.counts["passed"], self.counts["failed"])
        if self.counts["skipped"]:
            line += ", %d skipped" % self.counts["skipped"]
        print(line)
        return self.counts["failed"] == 0
