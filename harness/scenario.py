"""What a scenario is and sees.

A scenario is a file scenarios/<name>.py with:
  TITLE        one line
  CASES        list of (base, flavour) or (base, flavour, variant) it runs on
  REQUIRES     optional {(base, flavour): "F1"}: the case shows a feature that
               series/<base>/FEATURES must list; a case whose feature is not
               listed fails
  NEEDS_KERNEL optional, False for cases that boot nothing (lint, unit tests)
  run(t)       the steps and assertions; t is a Test

run_case() runs one case in this process and writes results/<case>.json.
"""

import importlib.util
import json
import os
import shutil
import sys
import time
import traceback

import kernels
import vm
from kernels import Failed
from paths import RESULTS, RUNS, TOP


class Todo(Exception):
    pass


class Skip(Exception):
    pass


class Test:
    """What a scenario sees: its case, guests to boot, checks and figures."""

    def __init__(self, name, base, flavour, variant, workdir, needs_kernel=True):
        self.name = name
        self.base = base
        self.flavour = flavour
        self.variant = variant
        self.workdir = workdir
        self.failures = []
        self.figures = {}
        self.builddir = kernels.kernel_for(base, flavour, variant) if needs_kernel else None
        self._guests = 0

    def guest(self, **kw):
        """A fresh guest (own RAM file) running this case's kernel."""
        self._guests += 1
        kw.setdefault("debug", self.variant == "debug")
        return vm.Guest(os.path.join(self.workdir, "guest%d" % self._guests),
                        vm.kernel_image(self.builddir),
                        vm.guest_initrd(self.builddir, kernels.base_initrd()), **kw)

    def note(self, msg):
        for line in str(msg).splitlines():
            print("# %s: %s" % (self.name, line), flush=True)

    def figure(self, key, value):
        """A measured value kept in results/<case>.json for docs and benches."""
        self.figures[key] = value
        self.note("%s = %s" % (key, value))

    def expect(self, cond, msg):
        """A check that can fail; the case goes on to report all failures."""
        if not cond:
            self.failures.append(msg)
            self.note("FAIL: " + msg)
        return cond

    def require(self, cond, msg):
        """A check the rest of the case depends on."""
        if not cond:
            raise Failed(msg)

    def todo(self, why):
        raise Todo(why)

    def skip(self, why):
        raise Skip(why)


class Case:
    """One line of a scenario's CASES."""

    def __init__(self, mod, stem, base, flavour, variant):
        self.mod = mod
        self.base, self.flavour, self.variant = base, flavour, variant
        self.name = "%s[%s-%s%s]" % (stem, base, flavour, "" if variant == "normal" else "-" + variant)
        self.needs = getattr(mod, "REQUIRES", {}).get((base, flavour))
        self.needs_kernel = getattr(mod, "NEEDS_KERNEL", True)

    @property
    def kernel(self):
        return (self.base, self.flavour, self.variant)


def load_scenarios():
    """Every case of every scenarios/*.py, in file order."""
    out = []
    sdir = os.path.join(TOP, "scenarios")
    if sdir not in sys.path:
        sys.path.insert(0, sdir)
    for fn in sorted(os.listdir(sdir)):
        if not fn.endswith(".py") or fn.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location("scenario_" + fn[:-3], os.path.join(sdir, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for case in mod.CASES:
            variant = case[2] if len(case) > 2 else "normal"
            out.append(Case(mod, fn[:-3], case[0], case[1], variant))
    return out


# A KASAN kernel is large: with KASLR, about one warm reboot in five placed
# its reserve_mem region elsewhere in make check of 2026-12-01.
REGION_MOVED_ATTEMPTS = 3


def _set_aside(workdir):
    """Keep the logs of an attempt whose region moved, not its RAM files."""
    shutil.rmtree(workdir + ".moved", ignore_errors=True)
    os.rename(workdir, workdir + ".moved")
    for root, _, files in os.walk(workdir + ".moved"):
        if "ram" in files:
            os.unlink(os.path.join(root, "ram"))
    os.makedirs(workdir)


def _attempts(case, workdir, tests):
    """Run the case, again from a cold start when a warm reboot placed the
    region elsewhere (not the kernel under test: see vm.RegionMoved).
    Each attempt's Test is appended to `tests`."""
    for attempt in range(1, REGION_MOVED_ATTEMPTS + 1):
        t = Test(case.name, case.base, case.flavour, case.variant, workdir, case.needs_kernel)
        tests.append(t)
        if attempt > 1:
            t.figure("region_moved_retries", attempt - 1)
        try:
            case.mod.run(t)
            return
        except vm.RegionMoved as e:
            print("# %s: %s" % (case.name, str(e).splitlines()[0]))
            if attempt == REGION_MOVED_ATTEMPTS:
                raise
            print("# %s: running the case once more" % case.name, flush=True)
            _set_aside(workdir)


def run_case(case):
    """Run one case in this process; prints its notes, returns (ok, directive)."""
    workdir = os.path.join(RUNS, case.name)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    start = time.monotonic()
    directive, tests = "", []
    print("# %s: %s" % (case.name, case.mod.TITLE), flush=True)
    try:
        _attempts(case, workdir, tests)
        ok = not tests[-1].failures
    except Todo as e:
        # Nothing is left to do: a scenario that says so fails.
        ok = False
        print("# %s: not done: %s" % (case.name, e))
    except Skip as e:
        ok, directive = True, " # SKIP " + str(e)
    except (Failed, vm.BootError, AssertionError, KeyError) as e:
        ok = False
        for line in str(e).splitlines():
            print("# %s: %s" % (case.name, line))
    except Exception:
        ok = False
        for line in traceback.format_exc().splitlines():
            print("# %s: %s" % (case.name, line))
    if tests:
        t = tests[-1]
        os.makedirs(RESULTS, exist_ok=True)
        with open(os.path.join(RESULTS, case.name + ".json"), "w") as f:
            json.dump({"case": case.name, "ok": ok, "seconds": round(time.monotonic() - start, 1),
                       "figures": t.figures, "failures": t.failures}, f, indent=1)
    return ok, directive
