"""A short fuzz campaign (make fuzz runs the long one): a KASAN+UBSAN kernel
boots on a persistent region damaged at random and reads the whole boot
instance; no oops, no sanitizer report, no hang.  Two recordings: events
(partly filled) and wrapped (function tracer, markers, kernel log)."""

import os

import fuzz

TITLE = "random damage to the persistent region never hurts the next kernel"
CASES = [("6.12", "lastboot", "debug")]
REQUIRES = {("6.12", "lastboot"): "F1"}
N = int(os.environ.get("LASTBOOT_FUZZ_N", "14"))
# Boots on a wrapped function-tracer region, besides the N on events.
N_WRAPPED = int(os.environ.get("LASTBOOT_FUZZ_N_WRAPPED", "6"))
SEED = int(os.environ.get("LASTBOOT_FUZZ_SEED", "1"))


def run(t):
    failures = fuzz.fuzz(t.base, t.flavour, t.variant, N, SEED, note=t.note, builddir=t.builddir)
    failures += fuzz.fuzz(t.base, t.flavour, t.variant, N_WRAPPED, SEED, note=t.note, builddir=t.builddir,
                          mode="wrapped")
    t.figure("fuzz_boots", N + N_WRAPPED)
    t.figure("fuzz_failures", len(failures))
    t.expect(not failures, "seeds %s hurt the kernel (see above)" % failures)
