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
REPORT_ONLY=1 (rewrite OUT from the raw figures of the last run).
"""

import datetime
import json
import os
import random
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernels  # noqa: E402
import paths  # noqa: E402
import ringbuf  # noqa: E402
import vm  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "5"))
SIZES = [int(s) for s in os.environ.get("SIZES", "8 64 256").split()]
ONLY = os.environ.get("ONLY", "").split()
OUT = os.environ.get("OUT", os.path.join(paths.TOP, "BENCHMARKS.md"))
WORK = os.path.join(paths.CACHE, "bench")
RAW = os.path.join(WORK, "raw.json")


def note(msg):
    print("[bench] " + msg, flush=True)


def guest(name, base, flavour, variant, **kw):
    builddir = kernels.kernel_for(base, flavour, variant)
    return vm.Guest(os.path.join(WORK, name), vm.kernel_image(builddir),
                    vm.guest_initrd(builddir, kernels.base_initrd()), **kw)


nan = float("nan")


def med(xs):
    return statistics.median(xs) if xs else nan


# --- write path ------------------------------------------------------------

WRITE_STEP = """
mkdir $T/instances/plain
for inst in boot_map plain; do
	I=$T/instances/$inst
	echo 1 > $I/events/benchmark/benchmark_event/enable
	sleep {seconds}
	echo 0 > $I/events/benchmark/benchmark_event/enable
	emit bm_$inst sh -c "grep -o 'min=[0-9]* avg=[0-9]*' $I/trace | tail -1; grep -c benchmark_event $I/trace"
done
"""


def parse_bm(text):
    m = re.search(r"min=(\d+) avg=(\d+)\s+(\d+)", text)
    if not m:
        raise kernels.Failed("the tracepoint benchmark wrote no statistics: %r" % text[:200])
    return {"min": int(m.group(1)), "avg": int(m.group(2)), "events": int(m.group(3))}


# The write path's figure is a difference of well under 1%, below what
# wall time under TCG on a shared host resolves.  With WRITE_ICOUNT=SHIFT
# the guests run under QEMU's -icount: their clocks advance 2^SHIFT ns per
# instruction, so the benchmark's "ns" count instructions, whatever the
# host's load (memory and cache costs are not modelled).  Not the default:
# about one boot in four hung early in boot under -icount (QEMU 7.2).
WRITE_ICOUNT = os.environ.get("WRITE_ICOUNT", "off")


def bench_write(res):
    """Alternate stock and lastboot boots so that both see the same noise."""
    raw = {fl: {"boot_map": [], "plain": []} for fl in ("stock", "lastboot")}
    icount = None if WRITE_ICOUNT == "off" else int(WRITE_ICOUNT)
    raw["icount"] = icount
    for r in range(ROUNDS):
        for fl in ("stock", "lastboot"):
            g = guest("write-%s-%d" % (fl, r), "6.12", fl, "bench", icount=icount)
            b = g.boot(WRITE_STEP.format(seconds=3), "reserve_mem=8M:4096:trace trace_instance=boot_map@trace",
                       timeout=180)
            for inst in ("boot_map", "plain"):
                bm = parse_bm(b.section("bm_" + inst))
                raw[fl][inst].append(bm)
                note("write round %d %s %s: avg %d ns, min %d ns over %d events"
                     % (r + 1, fl, inst, bm["avg"], bm["min"], bm["events"]))
            g.cleanup()
    res["write"] = raw


# --- validation and backup ---------------------------------------------------

# Fill the boot instance until every CPU's part has wrapped: a full
# region.  Then crash.
FILL_STEP = """
I=$T/instances/boot_map
fill_until_wrapped $I 600
emit fillstats sh -c "grep -H . $I/per_cpu/cpu*/stats"
crash
"""

# The kernel reference (guest/kmemcpy) copies from a second reserve_mem
# region, "ref", of the same size, which nobody touches before: its first
# copy reads pages for the first time, as the boot reads the persistent
# region.  For the validation the buffer is written first (a read of the
# bytes once), for the backup the copy writes fresh pages, as the backup's
# does, and the first half of the source is read first, as the boot reads
# CPU 0's part before it copies.  It runs before lastboot-memcpy, which
# would touch fresh pages.
KMEMCPY_ROUNDS = 5
KMEMCPY = """
modprobe lastboot_kmemcpy region=ref bytes={bytes} touch_dst={touch_dst} touch_src={touch_src} rounds={rounds} \\
	&& rmmod lastboot_kmemcpy
dmesg | grep "lastboot_kmemcpy: {bytes} bytes"
"""
VALIDATE_READ_STEP = """
emit kmemcpy_half sh -c '{kmemcpy}'
emit memcpy_half lastboot-memcpy {half} 5
emit stats sh -c "grep -H entries $T/instances/boot_map/per_cpu/cpu*/stats"
"""
BACKUP_READ_STEP = """
emit kmemcpy_full sh -c '{kmemcpy}'
emit memcpy_full lastboot-memcpy {full} 5
"""


def read_steps(size):
    """The steps of the validation and of the backup rounds for a region of size MiB."""
    half, full = size << 19, size << 20
    read_once = KMEMCPY.format(bytes=half, touch_dst=1, touch_src=0, rounds=KMEMCPY_ROUNDS).strip()
    copy = KMEMCPY.format(bytes=full, touch_dst=0, touch_src=half, rounds=KMEMCPY_ROUNDS).strip()
    return (VALIDATE_READ_STEP.format(half=half, kmemcpy=read_once),
            BACKUP_READ_STEP.format(full=full, kmemcpy=copy))


LINE = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$", re.M)


def stamp(console, pattern, after=0.0):
    """Time stamp (s) of the first console line matching pattern at or after `after`."""
    for m in LINE.finditer(console):
        t = float(m.group(1))
        if t >= after and re.search(pattern, m.group(2)):
            return t
    raise kernels.Failed("no console line matches %r" % pattern)


def validation_ms(console):
    """CPU 0's part is validated at trace_init, right after the region is
    mapped: the span from that line to the validation's.  It includes
    setting up the buffer's page descriptors, which a memcpy does not do."""
    t0 = stamp(console, r"Tracing: mapped boot instance boot_map")
    return 1000 * (stamp(console, r"Ring buffer meta \[0\] is from previous boot", t0) - t0)


def bringup_ms(console):
    """The span from the start of bringing up the secondary CPUs to the
    kick of CPU 1: all of CPU 1's hotplug prepare callbacks (a figure for
    reference; CPU 1's validation is taken from cpu1_prepare_ms())."""
    t1 = stamp(console, r"smp: Bringing up secondary CPUs")
    return 1000 * (stamp(console, r"x86: Booting SMP configuration", t1) - t1)


# CPU 1's part of a boot-mapped buffer is made and validated by the ring
# buffer's CPU hotplug prepare callback, called once per ring buffer (a
# multi-instance state) on the boot CPU before CPU 1 starts.  The cpuhp
# trace events time each call; the printk events in the same top-level
# trace tell the boot instance's call: the one during which the validation
# printed its "Ring buffer meta [1]" line (every kernel prints one).
CPUHP_EVENTS = " trace_event=cpuhp:cpuhp_multi_enter,cpuhp:cpuhp_exit,printk:console"
CPUHP_STEP = """emit cpuhp grep -e "cpu: 0001" -e "Ring buffer meta \\[1\\]" $T/trace
"""
CPUHP_LINE = re.compile(r"\s(\d+\.\d+): (?:cpuhp_(multi_enter|exit): +cpu: 0001 .*?step: +(\d+)(?: \((\w+)\))?"
                        r"|console: .*Ring buffer meta \[1\])")


def cpu1_prepare_ms(text):
    """The duration (ms) of the call of trace_rb_cpu_prepare() for CPU 1
    that validated the boot instance, from the top-level trace."""
    spans, start, step, ours = [], None, None, False
    for m in CPUHP_LINE.finditer(text):
        ts, kind, st, fn = float(m.group(1)), m.group(2), m.group(3), m.group(4)
        if kind is None:
            ours = ours or start is not None
        elif kind == "multi_enter":
            start, step, ours = (ts, st, False) if fn == "trace_rb_cpu_prepare" else (None, None, False)
        elif start is not None and st == step:
            if ours:
                spans.append(1000 * (ts - start))
            start = None
    if len(spans) != 1:
        raise kernels.Failed("%d calls of trace_rb_cpu_prepare for CPU 1 printed the validation's line, "
                             "not 1: %r" % (len(spans), text[-400:]))
    return spans[0]


# 6.12's "ring-buffer: let a copy of a boot-mapped range take over its
# validation": the copy's CPU 0 part takes over the validation of the
# source's instead of walking its events again.
TAKEN_OVER = r"Ring buffer meta \[0\] \d+ events kept, as validated in the buffer it was copied from"


def backup_ms(console):
    """From the end of the source's CPU 0 validation to the backup's line:
    vmalloc, memcpy of the whole region, mapping the copy, whose CPU 0 part
    takes over the source's validation (CPU 1's part of the copy is
    validated at bring-up)."""
    t0 = stamp(console, r"Ring buffer meta \[0\] .*events kept")
    return 1000 * (stamp(console, r"Tracing: backup instance backup holds", t0) - t0)


def copy_validated_ms(console):
    """From the end of the source's CPU 0 validation to the end of the
    copy's (the next "Ring buffer meta [0] is from previous boot"): the
    allocation, the memcpy and the copy's validation (taken over from the
    source on lastboot 6.12).  Both lastboot 6.12 and stock 7.3 (mainline's
    backup instance: vzalloc and memcpy) print these lines."""
    t0 = stamp(console, r"Ring buffer meta \[0\] is from previous boot")
    return 1000 * (stamp(console, r"Ring buffer meta \[0\] is from previous boot", t0 + 1e-6) - t0)


def memcpy_ms(text):
    ns = [int(m.group(1)) for m in re.finditer(r"memcpy \d+ (\d+)", text)]
    if not ns:
        raise kernels.Failed("lastboot-memcpy printed nothing: %r" % text[:200])
    return med(ns) / 1e6


def kmemcpy_ms(text):
    """guest/kmemcpy's rounds: the first copy (cold: the first pass over the
    region and over fresh pages since boot) and the median of the others
    (warm: the same pages again, through fresh mappings), in ms."""
    ns = [int(m) for m in re.findall(r"lastboot_kmemcpy: \d+ bytes: vmalloc \d+ ns, memcpy (\d+) ns", text)]
    if len(ns) != KMEMCPY_ROUNDS:
        raise kernels.Failed("lastboot_kmemcpy printed %d copies, not %d: %r" % (len(ns), KMEMCPY_ROUNDS, text[-300:]))
    return ns[0] / 1e6, med(ns[1:]) / 1e6


def tsc_khz(console):
    mhz = re.findall(r"tsc: (?:Refined TSC clocksource calibration|Detected):? ([\d.]+) MHz", console)
    if not mhz:
        raise kernels.Failed("the guest did not report its TSC frequency")
    return int(float(mhz[-1]) * 1000)


KERNELS = [tuple(k.split("-")) for k in os.environ.get("KERNELS", "6.12-lastboot 6.12-stock 7.3-stock").split()]


def fill_region(key, base, fl, size):
    """Boot once and fill the boot instance until it wraps; returns what
    every round of this kernel needs: its guest, the region, its bytes,
    and its command line."""
    # nokaslr: every round writes the saved region back where this boot
    # had it; with KASLR a boot now and then places it elsewhere (scenario
    # kaslr_placement), which would time a fresh region instead.
    region_only = "nokaslr reserve_mem=%dM:4096:trace reserve_mem=%dM:4096:ref" % (size, size)
    reserve = region_only + " trace_instance=boot_map@trace"
    g = guest("validate-%s-%s-%d" % (base, fl, size), base, fl, "normal", mem_mb=1024 + 3 * size,
              prealloc=True)
    b = g.boot(FILL_STEP, reserve, expect="panic", timeout=900)
    region = ringbuf.find_region(b.console, "boot_map")
    if not region:
        raise kernels.Failed("%s: no boot_map region in the boot log" % key)
    filled = re.search(r"boot_map wrapped after (\d+) s", b.console)
    note("%s MiB on %s-%s: region at %#x full after %s s" % (size, base, fl, region[0],
                                                           filled.group(1) if filled else "?"))
    with open(g.ram, "rb") as f:
        f.seek(region[0])
        saved = f.read(region[1])
    tsc = " tsc_early_khz=%d" % tsc_khz(b.console)
    return {"guest": g, "region": region, "saved": saved, "cmd": reserve + tsc,
            "entries": [int(x) for x in re.findall(r"entries: (\d+)", b.section("fillstats"))]}


def validate_round(key, k, step, r):
    """One round of the validation figure on kernel `k` (fill_region())."""
    g = k["guest"]
    g.write_phys(k["region"][0], k["saved"])  # every round reads the same region
    rb = g.boot(CPUHP_STEP + step, k["cmd"] + CPUHP_EVENTS, timeout=300)
    row = {"cpu0_ms": validation_ms(rb.console), "cpu1_ms": cpu1_prepare_ms(rb.section("cpuhp")),
           "bringup_ms": bringup_ms(rb.console),
           "memcpy_half_ms": memcpy_ms(rb.section("memcpy_half")),
           "kmemcpy_half_ms": kmemcpy_ms(rb.section("kmemcpy_half")),
           "entries": [int(x) for x in re.findall(r"entries: (\d+)", rb.section("stats"))]}
    note("validate %s round %d: CPU0 %.1f ms, CPU1 %.1f ms (bring-up %.1f), "
         "memcpy of half %.1f ms (kernel %.1f ms cold, %.1f ms warm), entries %s"
         % (key, r + 1, row["cpu0_ms"], row["cpu1_ms"], row["bringup_ms"], row["memcpy_half_ms"],
            row["kmemcpy_half_ms"][0], row["kmemcpy_half_ms"][1], row["entries"]))
    return row


def backup_round(key, k, step, r, fl):
    """One round of the backup figure on kernel `k` (fill_region())."""
    g = k["guest"]
    g.write_phys(k["region"][0], k["saved"])
    rb = g.boot(step, k["cmd"] + " trace_instance=backup=boot_map", timeout=300)
    copied = copy_validated_ms(rb.console)
    # The span below holds no walk over the copy's CPU 0 events only if
    # the copy took over the source's.
    if fl == "lastboot" and not re.search(TAKEN_OVER, rb.console):
        raise kernels.Failed("backup %s: the copy's CPU 0 part did not take over the source's validation" % key)
    row = {"backup_ms": backup_ms(rb.console) if fl == "lastboot" else copied,
           "copy_validated_ms": copied,
           "memcpy_full_ms": memcpy_ms(rb.section("memcpy_full")),
           "kmemcpy_full_ms": kmemcpy_ms(rb.section("kmemcpy_full"))}
    note("backup %s round %d: %.1f ms (%.1f ms to the copy's validation), memcpy of the region "
         "%.1f ms (kernel %.1f ms cold, %.1f ms warm)"
         % (key, r + 1, row["backup_ms"], copied, row["memcpy_full_ms"],
            row["kmemcpy_full_ms"][0], row["kmemcpy_full_ms"][1]))
    return row


def interleaved(keys, r):
    """The kernels of round r, in an order that starts one further each
    round (A B C, B C A, ...): no kernel always runs first or after the
    same one, and drifts of the host hit every kernel alike."""
    return keys[r % len(keys):] + keys[:r % len(keys)]


def bench_validate(res, with_backup):
    """Per size: every kernel fills its region once; then each round boots
    every kernel once on its saved region, interleaved, so that the rounds
    pair the kernels (figure of a round = the same minutes of the host)."""
    raw = res.setdefault("validate", {})
    braw = res.setdefault("backup", {})
    for size in SIZES:
        kernels = {"%s-%s %d" % (base, fl, size): fill_region("%s-%s %d" % (base, fl, size), base, fl, size)
                   for base, fl in KERNELS}
        for key, k in kernels.items():
            res.setdefault("filled", {})[key] = k["entries"]
        step, backup_step = read_steps(size)
        keys = list(kernels)
        for key in keys:
            raw[key] = []
        for r in range(ROUNDS):
            for key in interleaved(keys, r):
                raw[key].append(validate_round(key, kernels[key], step, r))
        # Stock 6.12 has no backup instance; mainline's (stock 7.3) is
        # measured beside ours.
        bkeys = [key for key in keys if "-lastboot " in key or key.startswith("7.3-")]
        if with_backup:
            for key in bkeys:
                braw[key] = []
            for r in range(ROUNDS):
                for key in interleaved(bkeys, r):
                    fl = key.split()[0].split("-")[1]
                    braw[key].append(backup_round(key, kernels[key], backup_step, r, fl))
        for k in kernels.values():
            k["guest"].cleanup()


# --- pstore over KHO ------------------------------------------------------------

# A chain of KHO_STAGES kernels.  Each marks, with the time stamp counter
# (it runs on across a kexec, kernel clocks do not), when its step starts,
# when the backend is loaded, and in kexec_next when the kexec load starts
# and ends and when it calls kexec -e.
KHO_STAGES = 3
KHO_STEP = """
export LASTBOOT_TSC=1
tsc_mark up
{load}
tsc_mark module
emit stage$(stage)-files ls /sys/fs/pstore
if [ "$(stage)" -lt {stages} ]; then
	kexec_next
fi
"""
KHO_ARMS = (("backend", "modprobe pstore_kho"), ("none", "true"))
TSC_MARK = re.compile(r"lastboot-tsc stage(\d+) (\S+) (\d+)")


def kho_spans(console, khz):
    """Per kexec of the chain: ms of the kexec load, from kexec -e to the
    next kernel's first step command, and of loading the backend there
    (which takes the records over)."""
    marks = {(int(s), what): int(c) for s, what, c in TSC_MARK.findall(console)}
    ms = lambda a, b: (marks[b] - marks[a]) / khz  # noqa: E731
    out = []
    for s in range(1, KHO_STAGES):
        try:
            out.append({"load_ms": ms((s, "load-start"), (s, "load-end")),
                        "exec_to_up_ms": ms((s, "exec"), (s + 1, "up")),
                        "module_ms": ms((s + 1, "up"), (s + 1, "module"))})
        except KeyError as e:
            raise kernels.Failed("kexec %d -> %d: no lastboot-tsc mark %s on the console" % (s, s + 1, e))
    return out


def bench_kho(res):
    """Alternate the arms in every round so that both see the same noise."""
    raw = {arm: [] for arm, _ in KHO_ARMS}
    for r in range(ROUNDS):
        for arm, load in KHO_ARMS:
            g = guest("kho-%s-%d" % (arm, r), "7.3", "lastboot", "normal")
            b = g.boot(KHO_STEP.format(load=load, stages=KHO_STAGES), "kho=on", timeout=600)
            # The backend arm must have handed the log over, the other not.
            for s in range(2, KHO_STAGES + 1):
                files = b.sections.get("stage%d-files" % s)
                if files is None:
                    raise kernels.Failed("kho %s round %d: stage %d never ran" % (arm, r + 1, s))
                if ("dmesg-kho-0" in files.split()) != (arm == "backend"):
                    raise kernels.Failed("kho %s round %d: stage %d offers %r" % (arm, r + 1, s, files.split()))
            spans = kho_spans(b.console, tsc_khz(b.console))
            raw[arm] += spans
            note("kho round %d %s: %s" % (r + 1, arm, "; ".join(
                "load %.0f ms, exec to step %.0f ms, module %.0f ms"
                % (x["load_ms"], x["exec_to_up_ms"], x["module_ms"]) for x in spans)))
            g.cleanup()
    res["kho"] = raw


# --- recovery, make check ------------------------------------------------------

def bench_recovery(res):
    p = subprocess.run([sys.executable, os.path.join(paths.TOP, "harness/run.py"), "-k", "corruption"])
    if p.returncode != 0:
        note("some corruption scenario failed: its row says so")
    out = {}
    for fn in sorted(os.listdir(paths.RESULTS)):
        if fn.startswith("corruption") and fn.endswith(".json"):
            with open(os.path.join(paths.RESULTS, fn)) as f:
                r = json.load(f)
            out[r["case"]] = {"ok": r["ok"], "figures": r["figures"]}
    res["recovery"] = out


def bench_check(res):
    out = {}
    for state in ("cold", "warm"):
        path = os.path.join(paths.CACHE, "make-check.%s.json" % state)
        if os.path.exists(path):
            with open(path) as f:
                out[state] = json.load(f)
    res["check"] = out


# --- compiling: ccache modes ---------------------------------------------------

CCACHE_FILES = int(os.environ.get("CCACHE_FILES", "60"))


def compile_commands(builddir, base, n):
    """n compile commands spread over the C files of a built kernel, made to
    run from builddir against the tree itself (build-kernel.sh compiles from
    a private bind mount of it) and to write their output elsewhere."""
    tree = os.path.join(paths.CACHE, "trees", base + "-stock")
    mnt = os.path.join(paths.CACHE, "src", base)
    out = os.path.join(WORK, "cc-out")
    os.makedirs(out, exist_ok=True)
    cmds = []
    for d, _, files in os.walk(builddir):
        rel = os.path.relpath(d, builddir)
        if rel.split(os.sep)[0] in ("tools", "scripts", "modules-install", "usr"):
            continue
        for fn in files:
            if not (fn.startswith(".") and fn.endswith(".o.cmd")):
                continue
            with open(os.path.join(d, fn)) as f:
                m = re.match(r"savedcmd_(\S+) := ccache (gcc .* -c -o (\S+) (\S+\.c)\s*)$", f.readline())
            if m:
                cmd = m.group(2).replace(" -o %s " % m.group(3), " -o %s/x.o " % out, 1)
                cmd = re.sub(r"-Wp,-MMD,\S+", "-Wp,-MMD,%s/x.d" % out, cmd)
                cmds.append((m.group(1), cmd.replace(mnt, tree)))
    cmds.sort()
    step = max(1, len(cmds) // n)
    return [c for _, c in cmds[::step][:n]]


def compile_cpu(cmds, builddir, mode, ccdir):
    """CPU seconds (user + system, children) of running cmds once in mode
    plain, default or depend; ccache modes start from an empty ccdir."""
    env = dict(os.environ)
    if ccdir:
        env["CCACHE_DIR"] = ccdir
    env.pop("CCACHE_DEPEND", None)
    if mode == "depend":
        env["CCACHE_DEPEND"] = "1"
    t0 = os.times()
    for cmd in cmds:
        subprocess.run(("ccache " if mode != "plain" else "") + cmd, shell=True, cwd=builddir,
                       env=env, check=True)
    t1 = os.times()
    return (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)


def bench_ccache(res):
    base = "6.12"
    builddir = kernels.kernel_for(base, "stock", "normal")
    cmds = compile_commands(builddir, base, CCACHE_FILES)
    out = {"kernel": os.path.basename(builddir), "files": len(cmds),
           "plain": [], "default": [], "depend": [], "hits": {}}
    for r in range(ROUNDS):
        # A different order each round, so that no mode always runs first.
        modes = ["plain", "default", "depend"]
        modes = modes[r % 3:] + modes[:r % 3]
        for mode in modes:
            ccdir = os.path.join(WORK, "ccache-" + mode)
            subprocess.run(["rm", "-rf", ccdir], check=True)
            out[mode].append(compile_cpu(cmds, builddir, mode, ccdir))
            note("ccache round %d %s: %.1f s CPU for %d files" % (r + 1, mode, out[mode][-1], len(cmds)))
            if mode != "plain" and r == 0:
                # The same files again must all hit: the mode is a cache.
                compile_cpu(cmds, builddir, mode, ccdir)
                st = subprocess.run(["ccache", "--print-stats"], env=dict(os.environ, CCACHE_DIR=ccdir),
                                    stdout=subprocess.PIPE, text=True, check=True).stdout
                stats = dict(line.split("\t") for line in st.splitlines() if "\t" in line)
                out["hits"][mode] = int(stats.get("direct_cache_hit", 0)) + int(stats.get("preprocessed_cache_hit", 0))
            subprocess.run(["rm", "-rf", ccdir], check=True)
    res["ccache"] = out


THP = "/sys/kernel/mm/transparent_hugepage/enabled"


def bench_thp(res):
    """The same compile sample as figure 7, plain gcc, with transparent huge
    pages on madvise (Debian's default) and on always (what .ci/run sets),
    alternating; the machine's setting is put back at the end."""
    if not os.access(THP, os.W_OK):
        note("thp: %s is not writable here, figure skipped" % THP)
        return
    with open(THP) as f:
        old = re.search(r"\[(\w+)\]", f.read()).group(1)
    base = "6.12"
    builddir = kernels.kernel_for(base, "stock", "normal")
    cmds = compile_commands(builddir, base, CCACHE_FILES)
    out = {"kernel": os.path.basename(builddir), "files": len(cmds), "madvise": [], "always": []}
    try:
        for r in range(ROUNDS):
            for mode in (("madvise", "always") if r % 2 == 0 else ("always", "madvise")):
                with open(THP, "w") as f:
                    f.write(mode)
                out[mode].append(compile_cpu(cmds, builddir, "plain", None))
                note("thp round %d %s: %.1f s CPU for %d files" % (r + 1, mode, out[mode][-1], len(cmds)))
    finally:
        with open(THP, "w") as f:
            f.write(old)
    res["thp"] = out


# --- the host: first touch of a page ---------------------------------------------

def bench_firsttouch(res):
    """harness/firsttouch.c on the host: a copy over pages of a populated
    /dev/shm mapping touched for the first time, then over the same again."""
    exe = os.path.join(WORK, "firsttouch")
    subprocess.run(["gcc", "-O2", "-Wall", "-o", exe, os.path.join(paths.TOP, "harness", "firsttouch.c")], check=True)
    out = subprocess.run([exe, str(ROUNDS)], stdout=subprocess.PIPE, text=True, check=True).stdout
    rows = [(int(a), int(b), int(c)) for a, b, c in re.findall(r"firsttouch (\d+) (\d+) (\d+)", out)]
    if len(rows) != ROUNDS:
        raise kernels.Failed("firsttouch printed %d rounds of %d: %r" % (len(rows), ROUNDS, out[:200]))
    res["firsttouch"] = {"bytes": rows[0][0], "first_ms": [b / 1e6 for _, b, _ in rows],
                         "second_ms": [c / 1e6 for _, _, c in rows]}
    note("first touch of 2 x %d MiB: %s ms; second: %s ms"
         % (rows[0][0] >> 20, res["firsttouch"]["first_ms"], res["firsttouch"]["second_ms"]))


# --- report ---------------------------------------------------------------------

def kernel_ref(rows, key):
    """Medians of guest/kmemcpy's cold and warm copies over the rounds
    (nan for the figures of a run from before it existed)."""
    pairs = [r[key] for r in rows if key in r]
    return med([c for c, _ in pairs]), med([w for _, w in pairs])


def ratio(a, b):
    return a / b if b else nan


def ci95(xs, n=2000):
    """95% percentile-bootstrap interval of the median of xs (the rounds),
    with a fixed seed so that a report rewritten from the same raw figures
    says the same."""
    xs = [x for x in xs if x == x]
    if len(xs) < 2:
        return nan, nan
    rng = random.Random(1)
    boots = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(n))
    return boots[int(0.025 * n)], boots[int(0.975 * n) - 1]


def with_ci(xs, fmt="%.1f"):
    """"median [lo, hi]" of the rounds."""
    lo, hi = ci95(xs)
    return (fmt + " [" + fmt + ", " + fmt + "]") % (med(xs), lo, hi)


def paired_validation(res, size, ours="6.12-lastboot", theirs="7.3-stock"):
    """Both CPUs' validation of `ours` and `theirs` and their ratio, round
    by round (the rounds interleave the kernels: round r of each ran in the
    same minutes).  None if either was not measured."""
    a = res["validate"].get("%s %d" % (ours, size))
    b = res["validate"].get("%s %d" % (theirs, size))
    if not a or not b:
        return None
    ta = [r["cpu0_ms"] + r["cpu1_ms"] for r in a]
    tb = [r["cpu0_ms"] + r["cpu1_ms"] for r in b]
    return ta, tb, [x / y for x, y in zip(ta, tb) if y > 0]


def validation_headline(w, res):
    """The goal of issue 24 as a table: lastboot 6.12 against mainline,
    paired per round, with intervals."""
    sizes = sorted({int(k.split()[1]) for k in res["validate"]})
    rows = [(size, paired_validation(res, size)) for size in sizes]
    rows = [(size, p) for size, p in rows if p]
    if not rows:
        return
    w("Headline: both CPUs' validation (CPU 0 + CPU 1), lastboot 6.12 against")
    w("mainline (stock 7.3), each kernel on its own full region, the kernels")
    w("interleaved in every round; median [95% bootstrap interval of the")
    w("median] over the rounds, and the median of the per-round ratios.")
    w("Goal: lastboot's upper bound at most mainline's median.")
    w("")
    w("| region | lastboot 6.12 (ms) | stock 7.3 (ms) | ratio per round | goal |")
    w("|---|---|---|---|---|")
    for size, (ta, tb, rt) in rows:
        met = ci95(ta)[1] <= med(tb)
        w("| %d MiB | %s | %s | %s | %s |" % (size, with_ci(ta), with_ci(tb), with_ci(rt, "%.2f"),
                                           "met" if met else "**not met**"))
    w("")


MEASURED = "_Measured %s, %d rounds._\n"
HEADER = """# lastboot benchmarks

Written by `make bench` (harness/bench.py); rerun it to reproduce, or
`ONLY=<figure> make bench` to remeasure one figure (the other sections are
kept; each says when it was measured). Guests run under QEMU TCG
(`-accel tcg,thread=single`, 2 vCPUs) on the 2-core build machine: absolute
times are emulated-CPU times and mean little; each figure is a ratio of two
things measured in the same run, and medians over the rounds; the per-round
figures follow each table. The validation and backup rounds interleave the
kernels (round 1: A B C, round 2: B C A, ...), so that each round compares
them over the same minutes of the host; their headline figures carry a 95%
bootstrap interval of the median, and a goal counts as met only when the
whole interval meets it.
"""


def section(w, res, figure, title):
    """Open the section of a figure; False (and a note) if it was not measured."""
    w("## " + title)
    w("")
    if not res.get(figure):
        w("Not measured yet (`ONLY=%s make bench`)." % figure)
        w("")
        return False
    w(MEASURED % (res["date"], res["rounds"]))
    return True


def report(res):
    """The text of BENCHMARKS.md for the figures in res; a section whose
    figure was not measured says so."""
    L = []
    w = L.append
    w(HEADER)
    if section(w, res, "write", "1. Write fast path"):
        wr = res["write"]
        w("Method: the kernel's tracepoint benchmark (CONFIG_TRACEPOINT_BENCHMARK,")
        w("kernel/trace/trace_benchmark.c): a kernel thread calls the tracepoint")
        w("`benchmark:benchmark_event` in a loop, interrupts off, and times each call")
        w("with trace_clock_local(); the event carries the running mean (`avg`) and")
        w("minimum (`min`), in ns. The event is enabled for 3 s in one instance at a")
        w("time: the persistent boot instance (`reserve_mem=8M`, `trace_instance=boot_map@trace`)")
        w("and a normal instance (`mkdir instances/plain`). Each round boots stock")
        w("6.12.117 then lastboot 6.12 (bench variant), fresh RAM each time.")
        if wr.get("icount") is not None:
            w("The guests run under QEMU `-icount shift=%d,sleep=off`: their clocks" % wr["icount"])
            w("advance %d ns per instruction executed, so `avg` and `min` count" % (1 << wr["icount"]))
            w("instructions per event and do not depend on the host's load; cache")
            w("and memory costs are not modelled.")
        w("")
        w("| instance | stock avg (ns) | lastboot avg (ns) | ratio lastboot/stock (avg) | stock min | lastboot min | ratio (min) |")
        w("|---|---|---|---|---|---|---|")
        for inst, label in (("boot_map", "persistent boot instance"), ("plain", "normal instance")):
            sa, la = med([x["avg"] for x in wr["stock"][inst]]), med([x["avg"] for x in wr["lastboot"][inst]])
            sm, lm = med([x["min"] for x in wr["stock"][inst]]), med([x["min"] for x in wr["lastboot"][inst]])
            w("| %s | %.0f | %.0f | **%.3f** | %.0f | %.0f | %.3f |" % (label, sa, la, ratio(la, sa), sm, lm,
                                                                    ratio(lm, sm)))
        w("")
        for inst in ("boot_map", "plain"):
            rt = [la["avg"] / sa["avg"] for sa, la in zip(wr["stock"][inst], wr["lastboot"][inst]) if sa["avg"]]
            w("- %s: lastboot / stock per round, median [95%% bootstrap interval]: %s"
              % (inst, with_ci(rt, "%.4f")))
        w("")
        w("Goal: at most 1.01 (met only when the whole interval is). Per-round values (avg ns, stock / lastboot):")
        w("")
        for inst in ("boot_map", "plain"):
            w("- %s: stock %s; lastboot %s" % (inst, [x["avg"] for x in wr["stock"][inst]],
                                               [x["avg"] for x in wr["lastboot"][inst]]))
        w("")
    if section(w, res, "validate", "2. Boot-time validation"):
        w("Method: boot 1 fills the boot instance with function-tracer events on")
        w("both CPUs until every CPU's part has wrapped (`overrun` > 0), stops it")
        w("and panics. The host saves the region from the RAM file; each round")
        w("writes it back and warm-boots on it with `tsc_early_khz=` (so that")
        w("printk time stamps run from the start). Validation time per CPU, from")
        w("the console time stamps. CPU 0: from `Tracing: mapped boot instance` to")
        w("`Ring buffer meta [0] is from previous boot`. CPU 1's part is made and")
        w("validated by the ring buffer's CPU hotplug prepare callback, called once")
        w("per ring buffer on the boot CPU before CPU 1 starts: the boots enable the")
        w("`cpuhp:cpuhp_multi_enter`, `cpuhp:cpuhp_exit` and `printk:console` events")
        w("on the command line, and CPU 1's figure is the duration of the call of")
        w("`trace_rb_cpu_prepare` during which the validation printed its")
        w("`Ring buffer meta [1]` line (trace clock). The whole bring-up of the")
        w("secondary CPUs is shown beside it for reference.")
        w("Both figures include allocating the buffer's page descriptors, so they")
        w("are an upper bound of the validation itself.")
        w("")
        w("The guest's RAM is populated when QEMU starts (`prealloc=on`, in")
        w("/dev/shm), so that no host page fault is timed; a page touched for the")
        w("first time still costs microseconds in the host (figure 9), and the")
        w("validation reads every page of the region for the first time.")
        w("")
        w("References, in the same boot after the boot's own work, each a memcpy")
        w("of half the region's size (one CPU's part):")
        w("")
        w("- kernel: the module guest/kmemcpy, loaded with `region=ref")
        w("  touch_dst=1`, copies with the kernel's memcpy() from a second")
        w("  reserve_mem region of the same size that nothing has touched")
        w("  (`reserve_mem=<size>M:4096:ref`, on every boot of the figure), through")
        w("  a vmap() made for the copy, into a vmalloc() buffer it has written")
        w("  first: a read of bytes never touched, once, as the validation's. Its")
        w("  first copy is *cold*, the reference of the goal; it copies 4 more")
        w("  times through fresh mappings of the same pages, *warm* (median).")
        w("- user: `lastboot-memcpy` (guest/memcpy.c), a memcpy between two")
        w("  buffers it has written first (median of 5), warm as well.")
        w("")
        w("Stock 6.12 reads the commit of every sub-buffer of every CPU when it")
        w("makes the buffer (rb_range_meta_init()), inside CPU 0's span: that span")
        w("pays the first touch of both CPUs' parts, and CPU 1's part is warm when")
        w("its CPU comes up. Compare stock 6.12 by both CPUs together (the column")
        w("`both CPUs`, median of the per-round sums).")
        w("")
        w("| region | kernel | CPU 0 (ms) | CPU 1 (ms) | both CPUs (ms) | bring-up of CPU 1 (ms) "
          "| kernel memcpy cold / warm (ms) | user memcpy (ms) | **ratio CPU 1 / cold kernel memcpy** "
          "| ratio CPU 1 / warm | ratio CPU 1 / user | events before the crash | events kept |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for key, rows in res["validate"].items():
            kern, size = key.split()
            c0, c1 = med([r["cpu0_ms"] for r in rows]), med([r["cpu1_ms"] for r in rows])
            up = "%.1f" % med([r["bringup_ms"] for r in rows])
            mc = med([r["memcpy_half_ms"] for r in rows])
            cold, warm = kernel_ref(rows, "kmemcpy_half_ms")
            filled = res.get("filled", {}).get(key)
            both = med([r["cpu0_ms"] + r["cpu1_ms"] for r in rows])
            w("| %s MiB | %s | %.1f | %.1f | %.1f | %s | %.1f / %.1f | %.1f | **%.2f** | %.2f | %.2f | %s | %s |"
              % (size, kern, c0, c1, both, up, cold, warm, mc, ratio(c1, cold), ratio(c1, warm), ratio(c1, mc),
                 " + ".join(str(e) for e in filled) if filled else "?",
                 " + ".join(str(e) for e in rows[-1]["entries"])))
        w("")
        validation_headline(w, res)
        lost = []
        for key, rows in res["validate"].items():
            filled = res.get("filled", {}).get(key) or []
            for cpu, (before, kept) in enumerate(zip(filled, rows[-1]["entries"])):
                if kept < before * 0.99:
                    lost.append("%s MiB on %s, CPU %d: %d of %d" % (key.split()[1], key.split()[0], cpu, kept, before))
        if lost:
            w("Events lost on a clean crash (tracing stopped before the panic, nothing")
            w("damaged): %s. The validation time of such a CPU covers only what was kept." % "; ".join(lost))
            w("")
        w("Goal: at most 3x the read. Per round (CPU 0, CPU 1, kernel memcpy cold, warm, user memcpy; ms):")
        w("")
        for key, rows in res["validate"].items():
            w("- %s MiB %s: %s" % (key.split()[1], key.split()[0],
                                   ", ".join("%.1f/%.1f/%.1f/%.1f/%.1f" % ((r["cpu0_ms"], r["cpu1_ms"])
                                                                       + tuple(r.get("kmemcpy_half_ms", (nan, nan)))
                                                                       + (r["memcpy_half_ms"],))
                                             for r in rows)))
        w("")
    if section(w, res, "backup", "3. Backup instance"):
        w("Method: the same saved full region, warm boots with")
        w("`trace_instance=backup=boot_map` added. Backup span, lastboot 6.12: from")
        w("the source's `Ring buffer meta [0] ... events kept` line to `Tracing:")
        w("backup instance backup holds`: vmalloc, memcpy of the whole region,")
        w("mapping the copy, whose CPU 0 part takes over the source's validation")
        w("(the bench fails if a copy's log does not say so; CPU 1's")
        w("part of the copy is validated at its bring-up). Stock 7.3 (mainline's")
        w("backup instance: vzalloc, memcpy) prints no line of its own: its span")
        w("ends at the copy's `Ring buffer meta [0] is from previous boot`; the")
        w("column `to the copy's validation` is that span on both kernels. The")
        w("guests' RAM is populated as in figure 2. References as in figure 2,")
        w("of the region's size: the kernel's memcpy from the untouched `ref`")
        w("region into a fresh vmalloc() buffer not written before")
        w("(`touch_dst=0`), after reading the first half of the source")
        w("(`touch_src=`), as the backup copies a region whose CPU 0 part the")
        w("boot has just validated into fresh pages; cold (its first copy, the")
        w("reference of the goal) and warm (median of the next 4); and the")
        w("user-space memcpy between buffers it has written first.")
        w("")
        w("| region | kernel | backup (ms) | to the copy's validation (ms) | kernel memcpy cold / warm (ms) "
          "| user memcpy (ms) | **ratio backup / cold kernel memcpy** | ratio to the copy's validation / cold "
          "| ratio backup / warm | ratio backup / user |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for key, rows in res["backup"].items():
            kern, size = key.split()
            bk, mc = med([r["backup_ms"] for r in rows]), med([r["memcpy_full_ms"] for r in rows])
            cv = med([r["copy_validated_ms"] for r in rows if "copy_validated_ms" in r])
            cold, warm = kernel_ref(rows, "kmemcpy_full_ms")
            w("| %s MiB | %s | %.1f | %.1f | %.1f / %.1f | %.1f | **%.2f** | %.2f | %.2f | %.2f |"
              % (size, kern, bk, cv, cold, warm, mc, ratio(bk, cold), ratio(cv, cold), ratio(bk, warm),
                 ratio(bk, mc)))
        w("")
        w("Headline: backup / cold kernel memcpy, per round, median [95% bootstrap")
        w("interval]; the goal (at most 1.2x) counts as met only when the whole")
        w("interval is under it.")
        w("")
        for key, rows in res["backup"].items():
            rt = [r["backup_ms"] / r["kmemcpy_full_ms"][0] for r in rows
                  if "kmemcpy_full_ms" in r and r["kmemcpy_full_ms"][0] > 0]
            w("- %s MiB %s: %s (%s)" % (key.split()[1], key.split()[0], with_ci(rt, "%.2f"),
                                        "met" if ci95(rt)[1] <= 1.2 else "not met"))
        w("")
        w("Per round (backup, to the copy's validation, kernel memcpy cold, warm, "
          "user memcpy; ms):")
        w("")
        for key, rows in res["backup"].items():
            w("- %s MiB %s: %s" % (key.split()[1], key.split()[0],
                                   ", ".join("%.1f/%.1f/%.1f/%.1f/%.1f"
                                             % ((r["backup_ms"], r.get("copy_validated_ms", nan))
                                                + tuple(r.get("kmemcpy_full_ms", (nan, nan)))
                                                + (r["memcpy_full_ms"],))
                                             for r in rows)))
        w("")
    if section(w, res, "recovery", "4. Recovery quality"):
        w("The corruption scenarios of `make check` (scenarios/corruption*.py), run")
        w("by `make bench`: events recovered of events recorded.")
        w("")
        w("| case | recovered / recorded | loss markers | passed |")
        w("|---|---|---|---|")
        for case, r in sorted(res["recovery"].items()):
            f = r["figures"]
            if "events_recorded" in f:
                w("| %s | %d / %d (%.1f%%) | %s | %s |" % (case, f["events_recovered"], f["events_recorded"],
                                                          100.0 * f["events_recovered"] / max(1, f["events_recorded"]),
                                                          f.get("loss_markers", "-"), "yes" if r["ok"] else "no"))
        w("")
    if section(w, res, "kho", "5. pstore over KHO"):
        kho_report(res["kho"], w)
    w("## 6. The harness")
    w("")
    ck = res.get("check", {})
    for state in ("cold", "warm"):
        if state in ck:
            c = ck[state]
            thp = ", transparent huge pages %s" % c["thp"] if c.get("thp") else ""
            w("- `make check` %s: %d s wall, %s (%s%s)" % (state, c["seconds"], c["result"], c["date"], thp))
        else:
            w("- `make check` %s: not recorded on this machine" % state)
    w("")
    w("scripts/check.sh records each full run in `~/.cache/lastboot/make-check.{cold,warm}.json`")
    w("(cold: no kernel built before the run). CI runs it through `.ci/run`, which")
    w("sets transparent huge pages to `always` for the run (figure 8).")
    w("")
    if section(w, res, "ccache", "7. Compiling a kernel with an empty ccache"):
        cc = res["ccache"]
        w("Method: %d compile commands spread evenly over the C files of the" % cc["files"])
        w("%s build (each file's command as kbuild ran it, from its" % cc["kernel"])
        w("`.o.cmd`), run one after another on the host: with plain gcc, through")
        w("ccache in its default mode and through ccache in depend mode")
        w("(`CCACHE_DEPEND=1`, what scripts/lib.sh sets), each ccache mode from an")
        w("empty cache. Figure: CPU time (user + system) of the compiles; the order")
        w("of the modes rotates by round. A second pass of the first round checks")
        w("that each mode then serves every file from the cache.")
        w("")
        p = med(cc["plain"])
        w("| compiler | CPU (s) | / plain gcc | hits on a second pass |")
        w("|---|---|---|---|")
        w("| gcc | %.1f | 1.000 | - |" % p)
        for mode in ("default", "depend"):
            w("| ccache, %s mode, empty cache | %.1f | %.3f | %s / %d |"
              % (mode, med(cc[mode]), ratio(med(cc[mode]), p), cc["hits"].get(mode, "-"), cc["files"]))
        w("")
        w("Per round (s): " + "; ".join("%s %s" % (m, ", ".join("%.1f" % x for x in cc[m]))
                                      for m in ("plain", "default", "depend")))
        w("")
    if section(w, res, "thp", "8. Compiling with transparent huge pages"):
        th = res["thp"]
        w("Method: the %d compile commands of figure 7 (%s), plain gcc, run" % (th["files"], th["kernel"]))
        w("with transparent huge pages on `madvise` (Debian's default: only memory")
        w("a program asks for gets huge pages, and gcc asks for none) and on")
        w("`always`, the two alternating, the first one alternating by round. Figure:")
        w("CPU time (user + system) of the compiles. The build machine is a")
        w("paravirtualized VM (`Hypervisor detected: PVM`) where a TLB miss or a")
        w("page fault costs far more than on bare metal; huge pages make both")
        w("rarer. `.ci/run` sets `always` for the CI run; make check leaves the")
        w("setting alone.")
        w("")
        m, a = med(th["madvise"]), med(th["always"])
        w("| transparent huge pages | CPU (s) | / madvise |")
        w("|---|---|---|")
        w("| madvise | %.1f | 1.000 |" % m)
        w("| always | %.1f | **%.3f** |" % (a, ratio(a, m)))
        w("")
        w("Per round (s): " + "; ".join("%s %s" % (k, ", ".join("%.1f" % x for x in th[k]))
                                      for k in ("madvise", "always")))
        w("")
    if section(w, res, "firsttouch", "9. The first touch of a page on the build machine"):
        ft = res["firsttouch"]
        mib = ft["bytes"] >> 20
        w("Method: harness/firsttouch.c on the host maps a file in /dev/shm shared")
        w("and populates it with `MADV_POPULATE_WRITE`, as QEMU does for")
        w("`prealloc=on` guest RAM; each round copies %d MiB between two parts of it" % mib)
        w("not touched before, then the same again. The build machine is a")
        w("paravirtualized VM (`Hypervisor detected: PVM`): a page the process has")
        w("not touched yet costs microseconds on its first touch even when it is")
        w("populated. A guest under QEMU pays this for every guest page it touches")
        w("first in a boot (each boot is a new QEMU process): the boot's validation")
        w("and backup copy do, a reference over buffers touched before does not.")
        w("This is why figures 2 and 3 have a cold reference.")
        w("")
        f, sc = med(ft["first_ms"]), med(ft["second_ms"])
        w("| copy of %d MiB | ms | per page touched first (us) |" % mib)
        w("|---|---|---|")
        w("| first touch of both parts | %.2f | %.2f |" % (f, 1000 * (f - sc) / (2 * ft["bytes"] / 4096)))
        w("| second | %.2f | - |" % sc)
        w("| ratio first / second | **%.1f** | |" % ratio(f, sc))
        w("")
        w("Per round (ms, first / second): " + ", ".join("%.2f/%.2f" % (a, b)
                                                       for a, b in zip(ft["first_ms"], ft["second_ms"])))
        w("")
    return "\n".join(L) + "\n"


def kho_report(raw, w):
    w("Method: lastboot 7.3 (normal variant) boots with `kho=on` and runs a chain")
    w("of %d kernels, each KHO-kexecing into the next (`kexec -s -l`, `kexec -e`," % KHO_STAGES)
    w("guest/lib.sh kexec_next). Each kernel logs the guest's time stamp counter,")
    w("which runs on across a kexec in one VM (guest/tsc.c), at the steps of the")
    w("kexec: load start and end, `kexec -e`, the next kernel's first step")
    w("command, and after loading the backend there (which is when it takes")
    w("the records over). Arm `backend` loads pstore_kho in every kernel; arm")
    w("`none` loads nothing. Arms alternate within each round; the backend arm")
    w("is checked to have handed the log over (`dmesg-kho-0`), the other not.")
    w("Medians over every kexec of every round.")
    w("")
    w("| span | with pstore_kho (ms) | without (ms) | added (ms) | ratio |")
    w("|---|---|---|---|---|")

    def arms(span):
        """Medians of span(kexec) with and without the backend."""
        return med([span(x) for x in raw["backend"]]), med([span(x) for x in raw["none"]])

    for key, label in (("load_ms", "`kexec -s -l`"), ("exec_to_up_ms", "`kexec -e` to the next kernel's step")):
        a, b = arms(lambda x: x[key])  # noqa: B023
        w("| %s | %.0f | %.0f | %+.0f | %.3f |" % (label, a, b, a - b, ratio(a, b)))
    a, b = arms(lambda x: x["module_ms"])
    w("| next kernel: `modprobe pstore_kho`, which takes the records over (without: `true`) | %.0f | %.0f | %+.0f | - |"
      % (a, b, a - b))
    a, b = arms(lambda x: x["load_ms"] + x["exec_to_up_ms"])
    w("| **kexec: load + exec to the next kernel's step** | %.0f | %.0f | **%+.0f** | **%.3f** |"
      % (a, b, a - b, ratio(a, b)))
    w("")
    w("Per kexec (load / exec to step / module, ms):")
    w("")
    for arm in ("backend", "none"):
        w("- %s: %s" % (arm, ", ".join("%.0f/%.0f/%.0f" % (x["load_ms"], x["exec_to_up_ms"], x["module_ms"])
                                       for x in raw[arm])))
    w("")


def sections(text):
    """{title line: text} of the "## " sections of a report."""
    out, title = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            title = line.strip()
            out[title] = ""
        if title:
            out[title] += line
    return out


def write_report(res):
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


def main():
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
