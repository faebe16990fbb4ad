#!/usr/bin/env python3
"""lastboot scenario runner: builds the kernels the scenarios need, runs each
scenario case, prints KTAP, and ends with one line "N passed, N failed".

A scenario is a file scenarios/<name>.py with:
  TITLE    one line
  CASES    list of (base, flavour) or (base, flavour, variant) it runs on
  REQUIRES optional {(base, flavour): "F1"}: the case shows a feature that
           series/<base>/FEATURES must list; a case whose feature is not listed fails
  run(t)   the steps and assertions; t is a Test (see below)

Each case runs in a child process (run.py --child NAME) so that two can run
side by side: a guest is one single-threaded QEMU, and the machine has two
cores. A thread builds the kernels meanwhile, one at a time, while at most
one case runs beside the build. Each case's block is printed whole when it
ends, numbered in the order the cases end.

Usage: run.py [-k SUBSTRING] [-j JOBS] [--list] [--keep]
"""

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
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


# A case run by the scheduler (see main) gets its kernels and initramfs from
# the parent, which built them already, through these variables.
_kernels = json.loads(os.environ.get("LASTBOOT_KERNELS", "{}"))
_initrd = os.environ.get("LASTBOOT_INITRD")


def kernel_key(base, flavour, variant):
    return "%s-%s-%s" % (base, flavour, variant)


def kernel_for(base, flavour, variant):
    key = kernel_key(base, flavour, variant)
    if key not in _kernels:
        _kernels[key] = build_kernel(base, flavour, variant)
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


# A KASAN kernel is large: with KASLR, about one warm reboot in five placed
# its reserve_mem region elsewhere in make check of 2026-12-01.
REGION_MOVED_ATTEMPTS = 3


def run_case(name, mod, base, flavour, variant):
    """Run one case in this process; prints its notes, returns (ok, directive)."""
    workdir = os.path.join(CACHE, "run", name)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    start = time.monotonic()
    directive, t = "", None
    print("# %s: %s" % (name, mod.TITLE), flush=True)
    try:
        for attempt in range(1, REGION_MOVED_ATTEMPTS + 1):
            t = Test(name, base, flavour, variant, workdir, getattr(mod, "NEEDS_KERNEL", True))
            if attempt > 1:
                t.figure("region_moved_retries", attempt - 1)
            try:
                mod.run(t)
                break
            except vm.RegionMoved as e:
                # Not the kernel under test: where reserve_mem lands (see
                # vm.RegionMoved). Again from a cold start, a few times.
                print("# %s: %s" % (name, str(e).splitlines()[0]))
                if attempt == REGION_MOVED_ATTEMPTS:
                    raise
                print("# %s: running the case once more" % name, flush=True)
                shutil.rmtree(workdir + ".moved", ignore_errors=True)
                os.rename(workdir, workdir + ".moved")     # its logs, for a look
                for root, _, files in os.walk(workdir + ".moved"):
                    if "ram" in files:
                        os.unlink(os.path.join(root, "ram"))
                os.makedirs(workdir)
        ok = not t.failures
    except Todo as e:
        # Nothing is left to do: a scenario that says so fails.
        ok = False
        print("# %s: not done: %s" % (name, e))
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
    if t is not None:
        with open(os.path.join(RESULTS, name + ".json"), "w") as f:
            json.dump({"case": name, "ok": ok, "seconds": round(time.monotonic() - start, 1),
                       "figures": t.figures, "failures": t.failures}, f, indent=1)
    return ok, directive


RESULT_MARK = "@@lastboot-result "


def child_main(name):
    """run.py --child NAME: one case, for the scheduler; its last line is the
    result, which the parent turns into the KTAP line."""
    for c in load_scenarios():
        if c[0] == name:
            ok, directive = run_case(*c[:5])
            print(RESULT_MARK + json.dumps([ok, directive]), flush=True)
            return 0
    print("# no case %s" % name)
    return 2


class Builder(threading.Thread):
    """Builds the kernels the cases need, one after the other (each build
    takes both cores), and fetches the trees of the later bases and the
    guest's initramfs meanwhile, since those wait on the network and unxz
    rather than on the compiler."""

    def __init__(self, kernels):
        super().__init__(daemon=True)
        self.kernels = kernels
        self.done = {}              # kernel key -> build dir, or None if it failed
        self.initrd = None
        self.lock = threading.Lock()

    def run(self):
        try:
            self.build_all()
        finally:
            # Whatever went wrong, the cases still waiting must hear of it.
            with self.lock:
                for k in self.kernels:
                    self.done.setdefault(kernel_key(*k), None)

    def build_all(self):
        bases = []
        for base, _, _ in self.kernels:
            if base not in bases:
                bases.append(base)
        fetch = {}
        initramfs = None
        if self.kernels:
            initramfs = subprocess.Popen([os.path.join(TOP, "scripts/build-initramfs.sh")],
                                         stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
            for base in bases[1:]:
                fetch[base] = subprocess.Popen([os.path.join(TOP, "scripts/tree.sh"), base],
                                               stdout=subprocess.DEVNULL, stderr=sys.stderr)
        for base, flavour, variant in self.kernels:
            try:
                builddir = build_kernel(base, flavour, variant)
                if initramfs is not None:
                    out = initramfs.communicate()[0]
                    if initramfs.returncode == 0:
                        self.initrd = out.strip().splitlines()[-1]
                    initramfs = None
                if self.initrd is None:
                    raise Failed("the guest initramfs did not build")
                # Cases of one kernel run side by side: make its initramfs now.
                vm.guest_initrd(builddir, self.initrd)
            except (Failed, subprocess.CalledProcessError, OSError, IndexError) as e:
                print("[lastboot] %s" % e, file=sys.stderr, flush=True)
                builddir = None
            # The later bases' trees are long made by the end of the first
            # build; from then on nothing changes a tree.
            while fetch:
                fetch.popitem()[1].wait()
            with self.lock:
                self.done[kernel_key(base, flavour, variant)] = builddir


def previous_seconds(name):
    """How long the case took last time (0 if never run): the longest cases
    start first, so that the last one to finish is a short one."""
    try:
        with open(os.path.join(RESULTS, name + ".json")) as f:
            return json.load(f)["seconds"]
    except (OSError, ValueError, KeyError):
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", action="append", default=[], help="run only cases whose name contains this")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("LASTBOOT_JOBS", "2")),
                    help="cases run side by side once no kernel is building (default 2)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--keep", action="store_true", help="keep RAM files and logs of passed cases")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    if args.child:
        return child_main(args.child)

    cases = [c for c in load_scenarios() if not args.k or any(k in c[0] for k in args.k)]
    if args.list:
        for c in cases:
            print(c[0] + ("  (needs %s)" % c[5] if c[5] else ""))
        return 0
    if not cases:
        print("no scenario matches %s" % args.k, file=sys.stderr)
        return 2

    run_start = time.monotonic()
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    number = [0]
    print("KTAP version 1")
    print("1..%d" % len(cases), flush=True)

    def report(name, ok, directive, lines, secs):
        """One case's block, printed whole when it ends (cases run in parallel)."""
        number[0] += 1
        for line in lines:
            print(line)
        if directive.startswith(" # SKIP"):
            counts["skipped"] += 1
        else:
            counts["passed" if ok else "failed"] += 1
            workdir = os.path.join(CACHE, "run", name)
            if not ok:
                print("# %s: logs kept in %s" % (name, workdir))
            elif not args.keep:
                for root, _, files in os.walk(workdir):
                    for fn in files:
                        if fn == "ram":
                            os.unlink(os.path.join(root, fn))
        print("%s %d %s%s" % ("ok" if ok else "not ok", number[0], name, directive))
        print("# %s: %.0f s" % (name, secs), flush=True)

    # Every feature of SPEC is claimed: a case whose feature the series does
    # not claim fails without a run.
    pending = []
    for c in cases:
        name, mod, base, flavour, variant, need = c
        if need and need not in features(base):
            report(name, False, "", ["# %s: shows %s, which series/%s/FEATURES does not claim"
                                     % (name, need, base)], 0)
        else:
            pending.append(c)
    pending.sort(key=lambda c: -previous_seconds(c[0]))
    # Kernels in the order the cases first need them.
    kernels = []
    for c in cases:
        if c in pending and getattr(c[1], "NEEDS_KERNEL", True) and c[2:5] not in kernels:
            kernels.append(c[2:5])
    builder = Builder(kernels)
    builder.start()

    running = []                    # (Popen, case, start, log path)
    while pending or running:
        with builder.lock:
            done, initrd = dict(builder.done), builder.initrd
        finished = len(done) == len(kernels)
        # Every tree is made once the first kernel is done: the lint may run.
        trees_ready = bool(done) or not kernels
        # A build keeps both cores busy: one case at a time beside it.
        slots = max(1, args.jobs) if finished else 1
        for c in list(pending):
            if len(running) >= slots:
                break
            name, mod, base, flavour, variant, need = c
            if getattr(mod, "NEEDS_KERNEL", True):
                key = kernel_key(base, flavour, variant)
                if key not in done:
                    continue
                if done[key] is None:
                    pending.remove(c)
                    report(name, False, "", ["# %s: kernel %s did not build (see above)" % (name, key)], 0)
                    continue
            elif not trees_ready:
                continue            # it may use a tree still being made
            pending.remove(c)
            env = dict(os.environ, LASTBOOT_KERNELS=json.dumps({k: v for k, v in done.items() if v}))
            if initrd:
                env["LASTBOOT_INITRD"] = initrd
            log = os.path.join(CACHE, "run", name + ".out")
            os.makedirs(os.path.dirname(log), exist_ok=True)
            with open(log, "w") as out:
                p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", name],
                                     stdout=out, stderr=sys.stderr, env=env)
            running.append((p, c, time.monotonic(), log))
        time.sleep(0.2)
        for r in list(running):
            p, c, start, log = r
            if p.poll() is None:
                continue
            running.remove(r)
            with open(log) as f:
                lines = f.read().splitlines()
            os.unlink(log)
            ok, directive = False, ""
            if lines and lines[-1].startswith(RESULT_MARK):
                ok, directive = json.loads(lines.pop()[len(RESULT_MARK):])
            else:
                lines.append("# %s: the case ended without a result (exit %d)" % (c[0], p.returncode))
            report(c[0], ok, directive, lines, time.monotonic() - start)

    print("# wall time: %.0f s" % (time.monotonic() - run_start))
    line = "%d passed, %d failed" % (counts["passed"], counts["failed"])
    if counts["skipped"]:
        line += ", %d skipped" % counts["skipped"]
    print(line)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
