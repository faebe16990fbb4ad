#!/usr/bin/env python3
"""make bench: what robustness costs, measured side by side in one run.

Every figure is a ratio of two things measured in the same run on the same
machine (it is shared and noisy): medians over ROUNDS repetitions, never a
single absolute time.  The kernels are the bench variant (the normal
configuration plus CONFIG_TRACEPOINT_BENCHMARK, no debug option) for the
write path, the normal kernels for the rest.  Writes BENCHMARKS.md (method
and raw figures) and prints a summary; a run of some figures (ONLY=)
replaces their sections of BENCHMARKS.md and keeps the others.

  write      per-event cost of writing into a persistent boot instance and
             into a normal instance, lastboot 6.12 / stock 6.12, with the
             kernel's tracepoint benchmark (benchmark:benchmark_event)
  validate   boot-time validation of a full 8/64/256 MiB region against a
             kernel memcpy of as many bytes never touched, in the same
             guest (lastboot 6.12, stock 6.12, stock 7.3)
  backup     creating the backup instance of a full region against a
             kernel memcpy of the same size into fresh pages (lastboot
             6.12, and mainline's backup instance in stock 7.3)
  recovery   events recovered by the corruption scenarios (make check's)
  kho        time of a KHO kexec with the pstore_kho backend against the
             same kexec without it (lastboot 7.3)
  (always)   wall time of the last full make check, cold and warm, from
             the records scripts/check.sh keeps
  ccache     CPU time of compiling a sample of a kernel's files with an
             empty ccache in its default mode and in depend mode, against
             plain gcc (what a cold make check pays per compiled file)
  thp        CPU time of the same compiles with transparent huge pages on
             madvise and on always (what .ci/run sets)
  firsttouch what the first touch of a page populated the way QEMU
             populates guest RAM costs a process on this host, against a
             second touch (why figures 2 and 3 have a cold reference)

Environment: ROUNDS (default 5), SIZES (MiB, default "8 64 256"),
ONLY (some of the figure names above), KERNELS (default
"6.12-lastboot 6.12-stock 7.3-stock"), OUT (default BENCHMARKS.md),
REPORT_ONLY=1 (rewrite OUT from the raw figures of the last run),
BENCH_ICOUNT (the -icount shift of figures 2 and 3, default 0; off: wall
time), WRITE_ICOUNT (the same for figure 1, default off).

This file is the command line, the order of the figures and the writing of
OUT.  Each figure lives in the module of its job, with the steps its guests
run, the parsers of what they print, its rounds and its section of the
report (method, tables): bench_write.py (1), bench_boot.py (2, 3; its
report in bench_boot_report.py),
bench_check.py (4, 6), bench_kho.py (5), bench_host.py (7, 8, 9);
bench_stats.py holds the medians and intervals, bench_common.py what the
figures share (rounds, guests, a section's opening).
"""

import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernels  # noqa: E402
import paths  # noqa: E402
import vm  # noqa: E402
from bench_boot import bench_validate  # noqa: E402
from bench_boot_report import report_backup, report_validate  # noqa: E402
from bench_check import bench_check, bench_recovery, report_check, report_recovery  # noqa: E402
from bench_common import ROUNDS, WORK, note  # noqa: E402
from bench_host import bench_ccache, bench_firsttouch, bench_thp  # noqa: E402
from bench_host import report_ccache, report_firsttouch, report_thp  # noqa: E402
from bench_kho import bench_kho, report_kho  # noqa: E402
from bench_write import bench_write, report_write  # noqa: E402

ONLY = os.environ.get("ONLY", "").split()
OUT = os.environ.get("OUT", os.path.join(paths.TOP, "BENCHMARKS.md"))
RAW = os.path.join(WORK, "raw.json")

HEADER = """# lastboot benchmarks

Written by `make bench` (harness/bench.py); rerun it to reproduce, or
`ONLY=<figure> make bench` to remeasure one figure (the other sections are
kept; each says when it was measured). Guests run under QEMU TCG (`-accel
tcg,thread=single`, 2 vCPUs) on the 2-core build machine: absolute times are
emulated-CPU times and mean little; each figure is a ratio of two things
measured in the same run, and medians over the rounds; the per-round figures
follow each table. The guests of figures 2 and 3 run under QEMU's `-icount`
(unless `BENCH_ICOUNT=off`): their spans count instructions, which the
host's load does not change. The validation and backup rounds interleave the
kernels (round 1: A B C, round 2: B C A, ...), so that each round compares
them over the same minutes of the host; their headline figures carry a 95%
bootstrap interval of the median, and a goal counts as met only when the
whole interval meets it.
"""

# The sections of BENCHMARKS.md in their order, each written by the module
# that measures its figure: its title, its method and its tables, or a
# line saying that the figure was not measured.
REPORTS = (report_write, report_validate, report_backup, report_recovery, report_kho, report_check,
           report_ccache, report_thp, report_firsttouch)


def report(res: dict) -> str:
    """The text of BENCHMARKS.md for the figures in res; a section whose
    figure was not measured says so."""
    lines = [HEADER]
    for write_section in REPORTS:
        write_section(lines.append, res)
    return "\n".join(lines) + "\n"


def sections(text: str) -> dict:
    """{title line: text} of the "## " sections of a report."""
    out, title = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            title = line.strip()
            out[title] = ""
        if title:
            out[title] += line
    return out


def write_report(res: dict) -> str:
    """Write OUT; a section this run did not measure keeps its text from
    the OUT of an earlier run."""
    text = report(res)
    if os.path.exists(OUT):
        with open(OUT) as f:
            old = sections(f.read())
        new = sections(text)
        for title, body in new.items():
            if "_Measured " not in body and "_Measured " in old.get(title, ""):
                new[title] = old[title]
        text = HEADER + "\n" + "".join(new.values())
    with open(OUT, "w") as f:
        f.write(text)
    note("wrote %s (raw figures in %s)" % (OUT, RAW))
    return text


def main() -> int:
    if os.environ.get("REPORT_ONLY"):
        # Rewrite BENCHMARKS.md from the raw figures of the last run.
        with open(RAW) as f:
            res = json.load(f)
        bench_check(res)
        write_report(res)
        return 0
    want = set(ONLY) or {"write", "validate", "backup", "recovery", "kho", "ccache", "thp", "firsttouch"}
    os.makedirs(WORK, exist_ok=True)
    res = {"date": datetime.date.today().isoformat(), "rounds": ROUNDS}
    if "write" in want:
        bench_write(res)
    if "validate" in want or "backup" in want:
        bench_validate(res, "backup" in want)
    if "recovery" in want:
        bench_recovery(res)
    if "kho" in want:
        bench_kho(res)
    if "ccache" in want:
        bench_ccache(res)
    if "thp" in want:
        bench_thp(res)
    if "firsttouch" in want:
        bench_firsttouch(res)
    bench_check(res)  # only reads the records of make check
    with open(RAW, "w") as f:
        json.dump(res, f, indent=1)
    print(write_report(res))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (vm.BootError, kernels.Failed) as e:
        print("[bench] error: %s" % e, file=sys.stderr)
        sys.exit(1)
