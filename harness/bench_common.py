"""What make bench's figures share: the number of rounds, the work
directory, progress notes, the guests, and the opening of a figure's
section of BENCHMARKS.md."""

import os
import re

import kernels
import paths
import vm

ROUNDS = int(os.environ.get("ROUNDS", "5"))
WORK = os.path.join(paths.CACHE, "bench")
MEASURED = "_Measured %s, %d rounds._\n"

# BENCH_ICOUNT=SHIFT runs the guests of figures 2 and 3 under QEMU's
# -icount: their clocks advance 2^SHIFT ns per instruction executed, so
# what they time is a count of instructions, whatever else the host runs.
# "off": wall time (host-timed TCG), as before.
BENCH_ICOUNT = os.environ.get("BENCH_ICOUNT", "0")


def icount_shift(value: str = BENCH_ICOUNT):
    """The -icount shift of figures 2 and 3, None for wall time."""
    return None if value == "off" else int(value)


def note(msg: str) -> None:
    print("[bench] " + msg, flush=True)


def guest(name: str, base: str, flavour: str, variant: str, **kw) -> vm.Guest:
    """A guest of the kernel base-flavour-variant, working in WORK/name."""
    builddir = kernels.kernel_for(base, flavour, variant)
    return vm.Guest(os.path.join(WORK, name), vm.kernel_image(builddir),
                    vm.guest_initrd(builddir, kernels.base_initrd()), **kw)


def tsc_khz(console: str) -> int:
    """The guest's TSC frequency (kHz), from its boot log."""
    mhz = re.findall(r"tsc: (?:Refined TSC clocksource calibration|Detected):? ([\d.]+) MHz", console)
    if not mhz:
        raise kernels.Failed("the guest did not report its TSC frequency")
    return int(float(mhz[-1]) * 1000)


def section(w, res: dict, figure: str, title: str) -> bool:
    """Open the section of a figure; False (and a note) if it was not measured."""
    w("## " + title)
    w("")
    if not res.get(figure):
        w("Not measured yet (`ONLY=%s make bench`)." % figure)
        w("")
        return False
    w(MEASURED % (res["date"], res["rounds"]))
    return True
