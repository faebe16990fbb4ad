#!/usr/bin/env python3
"""lastboot scenario runner: builds the kernels the scenarios need, runs each
scenario case, prints KTAP, and ends with one line "N passed, N failed".

A scenario is a file scenarios/<name>.py with:
  TITLE    one line
  CASES    list of (base, flavour) or (base, flavour, variant) it runs on
  REQUIRES optional {(base, flavour): "F1"}: the case shows a feature that
           series/<base>/FEATURES must list; until then it is reported TODO
  run(t)   the steps and assertions; t is a Test (see below)

Usage: run.py [-k SUBSTRING] [--list] [--keep]
"""

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm  # noqa: E402

TOP = vm.TOP
CACHE = vm.CACHE
RESULTS = os.path.join(CACHE, "results")


class Failed(Exception):
    pass


class Todo(Exception):
    pass


class Skip(Exception):
    pass


def features(base):
    """Features the series of a base claims (series/<base>/FEATURES)."""
    path = os.path.join(TOP, "series", base, "FEATURES")
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {w for line in f for w in line.split("#")[0].split()}


def build_kernel(base, flavour, variant):
    """Build (or find up to date) a kernel; returns its build directory."""
    p = subprocess.run([os.path.join(TOP, "scripts/build-kernel.sh"), base, flavour, variant],
                       stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    if p.returncode != 0:
        raise Failed("kernel %s-%s-%s did not build" % (base, flavour, variant))
    return p.stdout.strip().splitlines()[-1]


_kernels = {}
_initrd = None


def kernel_for(base, flavour, variant):
    key = (base, flavour, variant)
    if key not in _kernels:
        _kernels[key] = build_kernel(*key)
    return _kernels[key]


def base_initrd():
    global _initrd
    if _initrd is None:
        p = subprocess.run([os.path.join(TOP, "scripts/build-initramfs.sh")],
                           stdout=subprocess.PIPE, stderr=sys.stderr, text=True, check=True)
        _initrd = p.stdout.strip().splitlines()[-1]
    return _initrd


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
        self.builddir = kernel_for(base, flavour, variant) if needs_kernel else None
        self._guests = 0

    def guest(self, **kw):
        """A fresh guest (own RAM file) running this case's kernel."""
        self._guests += 1
        kw.setdefault("debug", self.variant == "debug")
        return vm.Guest(os.path.join(self.workdir, "guest%d" % self._guests),
                        vm.kernel_image(self.builddir),
                        vm.guest_initrd(self.builddir, base_initrd()), **kw)

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


def load_scenarios():
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
            base, flavour = case[0], case[1]
            variant = case[2] if len(case) > 2 else "normal"
            name = "%s[%s-%s%s]" % (fn[:-3], base, flavour, "" if variant == "normal" else "-" + variant)
            need = getattr(mod, "REQUIRES", {}).get((base, flavour))
            out.append((name, mod, base, flavour, variant, need))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", action="append", default=[], help="run only cases whose name contains this")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--keep", action="store_true", help="keep RAM files and logs of passed cases")
    args = ap.parse_args()

    cases = [c for c in load_scenarios() if not args.k or any(k in c[0] for k in args.k)]
    if args.list:
        for c in cases:
            print(c[0] + ("  (needs %s)" % c[5] if c[5] else ""))
        return 0
    if not cases:
        print("no scenario matches %s" % args.k, file=sys.stderr)
        return 2

    os.makedirs(RESULTS, exist_ok=True)
    run_start = time.monotonic()
    counts = {"passed": 0, "failed": 0, "skipped": 0, "todo": 0}
    print("KTAP version 1")
    print("1..%d" % len(cases), flush=True)
    for i, (name, mod, base, flavour, variant, need) in enumerate(cases, 1):
        workdir = os.path.join(CACHE, "run", name)
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        start = time.monotonic()
        directive, t = "", None
        try:
            if need and need not in features(base):
                raise Todo("%s is not in series/%s yet" % (need, base))
            print("# %s: %s" % (name, mod.TITLE), flush=True)
            t = Test(name, base, flavour, variant, workdir, getattr(mod, "NEEDS_KERNEL", True))
            mod.run(t)
            ok = not t.failures
        except Todo as e:
            ok, directive = False, " # TODO " + str(e)
        except Skip as e:
            ok, directive = True, " # SKIP " + str(e)
        except (Failed, vm.BootError, AssertionError, KeyError) as e:
            ok = False
            for line in str(e).splitlines():
                print("# %s: %s" % (name, line))
        except Exception:
            ok = False
            for line in traceback.format_exc().splitlines():
                print("# %s: %s" % (name, line))
        secs = time.monotonic() - start
        if t is not None:
            with open(os.path.join(RESULTS, name + ".json"), "w") as f:
                json.dump({"case": name, "ok": ok, "seconds": round(secs, 1),
                           "figures": t.figures, "failures": t.failures}, f, indent=1)
        if directive.startswith(" # TODO"):
            counts["todo"] += 1
        elif directive.startswith(" # SKIP"):
            counts["skipped"] += 1
        else:
            counts["passed" if ok else "failed"] += 1
            if not ok:
                print("# %s: logs kept in %s" % (name, workdir))
            elif not args.keep:
                for root, _, files in os.walk(workdir):
                    for fn in files:
                        if fn == "ram":
                            os.unlink(os.path.join(root, fn))
        print("%s %d %s%s" % ("ok" if ok else "not ok", i, name, directive),
              flush=True)
        print("# %s: %.0f s" % (name, secs), flush=True)
    print("# todo: %d (features not built yet)" % counts["todo"])
    print("# wall time: %.0f s" % (time.monotonic() - run_start))
    line = "%d passed, %d failed" % (counts["passed"], counts["failed"])
    if counts["skipped"]:
        line += ", %d skipped" % counts["skipped"]
    print(line)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
