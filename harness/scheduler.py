"""Run cases side by side while their kernels build.

Each case runs in a child process (run.py --child NAME): a guest is one
single-threaded QEMU and the machine has two cores. A Builder thread builds
the kernels meanwhile, one at a time, while at most one case runs beside
the build. The longest cases (by their last run) start first, so that the
last one to finish is a short one.
"""

import json
import os
import subprocess
import sys
import threading
import time

import kernels
import ktap
import vm
from kernels import Failed
from paths import RESULTS, RUNS, TOP

# The child's last line: its result, which the parent turns into KTAP.
RESULT_MARK = "@@lastboot-result "


class Builder(threading.Thread):
    """Builds the kernels the cases need, one after the other (each build
    takes both cores), and fetches the trees of the later bases and the
    guest's initramfs meanwhile, since those wait on the network and unxz
    rather than on the compiler."""

    def __init__(self, wanted):
        super().__init__(daemon=True)
        self.kernels = wanted
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
                    self.done.setdefault(kernels.kernel_key(*k), None)

    def _start_side_jobs(self):
        """The initramfs, and the trees of every base after the first."""
        bases = []
        for base, _, _ in self.kernels:
            if base not in bases:
                bases.append(base)
        initramfs = subprocess.Popen([os.path.join(TOP, "scripts/build-initramfs.sh")],
                                     stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        fetch = [subprocess.Popen([os.path.join(TOP, "scripts/tree.sh"), base],
                                  stdout=subprocess.DEVNULL, stderr=sys.stderr) for base in bases[1:]]
        return initramfs, fetch

    def build_all(self):
        if not self.kernels:
            return
        initramfs, fetch = self._start_side_jobs()
        for base, flavour, variant in self.kernels:
            try:
                builddir = kernels.build_kernel(base, flavour, variant)
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
                fetch.pop().wait()
            with self.lock:
                self.done[kernels.kernel_key(base, flavour, variant)] = builddir


def previous_seconds(name):
    """How long the case took last time (0 if never run)."""
    try:
        with open(os.path.join(RESULTS, name + ".json")) as f:
            return json.load(f)["seconds"]
    except (OSError, ValueError, KeyError):
        return 0


def drop_ram_files(workdir):
    for root, _, files in os.walk(workdir):
        for fn in files:
            if fn == "ram":
                os.unlink(os.path.join(root, fn))


class Scheduler:
    def __init__(self, cases, jobs, keep, runner):
        self.cases = cases
        self.jobs = max(1, jobs)
        self.keep = keep
        self.runner = runner        # the script a child runs: run.py
        self.report = ktap.Report(len(cases))
        self.running = []           # (Popen, case, start, log path)

    def finish(self, case, ok, directive, lines, seconds):
        workdir = os.path.join(RUNS, case.name)
        if not directive.startswith(ktap.SKIP):
            if not ok:
                lines = lines + ["# %s: logs kept in %s" % (case.name, workdir)]
            elif not self.keep:
                drop_ram_files(workdir)
        self.report.case(case.name, ok, directive, lines, seconds)

    def spawn(self, case, done, initrd):
        env = dict(os.environ)
        env[kernels.ENV_KERNELS] = json.dumps({k: v for k, v in done.items() if v})
        if initrd:
            env[kernels.ENV_INITRD] = initrd
        log = os.path.join(RUNS, case.name + ".out")
        os.makedirs(RUNS, exist_ok=True)
        with open(log, "w") as out:
            p = subprocess.Popen([sys.executable, self.runner, "--child", case.name],
                                 stdout=out, stderr=sys.stderr, env=env)
        self.running.append((p, case, time.monotonic(), log))

    def reap(self):
        for r in list(self.running):
            p, case, start, log = r
            if p.poll() is None:
                continue
            self.running.remove(r)
            with open(log) as f:
                lines = f.read().splitlines()
            os.unlink(log)
            ok, directive = False, ""
            if lines and lines[-1].startswith(RESULT_MARK):
                ok, directive = json.loads(lines.pop()[len(RESULT_MARK):])
            else:
                lines.append("# %s: the case ended without a result (exit %d)" % (case.name, p.returncode))
            self.finish(case, ok, directive, lines, time.monotonic() - start)

    def start_ready(self, pending, builder, wanted):
        """Start what can run now: a case whose kernel is built, within the
        slots free (one beside a build, jobs once every kernel is built)."""
        with builder.lock:
            done, initrd = dict(builder.done), builder.initrd
        slots = self.jobs if len(done) == len(wanted) else 1
        # Every tree is made once the first kernel is done: the lint may run.
        trees_ready = bool(done) or not wanted
        for case in list(pending):
            if len(self.running) >= slots:
                break
            if case.needs_kernel:
                key = kernels.kernel_key(*case.kernel)
                if key not in done:
                    continue
                if done[key] is None:
                    pending.remove(case)
                    self.finish(case, False, "", ["# %s: kernel %s did not build (see above)" % (case.name, key)], 0)
                    continue
            elif not trees_ready:
                continue            # it may use a tree still being made
            pending.remove(case)
            self.spawn(case, done, initrd)

    def run(self):
        start = time.monotonic()
        # Every feature of SPEC is claimed: a case whose feature the series
        # does not claim fails without a run.
        pending = []
        for case in self.cases:
            if case.needs and case.needs not in kernels.features(case.base):
                self.finish(case, False, "", ["# %s: shows %s, which series/%s/FEATURES does not claim"
                                              % (case.name, case.needs, case.base)], 0)
            else:
                pending.append(case)
        pending.sort(key=lambda c: -previous_seconds(c.name))
        # Kernels in the order the cases first need them.
        wanted = []
        for case in self.cases:
            if case in pending and case.needs_kernel and case.kernel not in wanted:
                wanted.append(case.kernel)
        builder = Builder(wanted)
        builder.start()
        while pending or self.running:
            self.start_ready(pending, builder, wanted)
            time.sleep(0.2)
            self.reap()
        return self.report.summary(time.monotonic() - start)
