"""make bench, figures 2 and 3: boot-time validation and the backup
instance.  Each kernel fills a region once and saves it; every round then
boots each kernel on its saved region, the kernels interleaved, and times
from the console and the cpuhp trace what the boot does with it (the
validation of each CPU's part, or the backup's copy) against a kernel
memcpy of as many bytes never touched, in the same guest (lastboot 6.12,
stock 6.12, stock 7.3).  Here are the steps the guests run, the parsers of
their console and trace and the rounds; bench_boot_report.py writes the
two sections of the report."""

import os
import re

import kernels
import ringbuf
from bench_common import ROUNDS, guest, icount_shift, note, tsc_khz
from bench_stats import interleaved, med

SIZES = [int(s) for s in os.environ.get("SIZES", "8 64 256").split()]
KERNELS = [tuple(k.split("-")) for k in os.environ.get("KERNELS", "6.12-lastboot 6.12-stock 7.3-stock").split()]

# --- what the guests run ---------------------------------------------------------

# Fill the boot instance until every CPU's part has wrapped: a full
# region.  Then crash.  emit returns with its section still in the tty's
# buffer; stty sets the port with TCSADRAIN, which waits until the UART
# has sent it: under -icount the crash otherwise came first in 1 boot of 4.
FILL_STEP = """
I=$T/instances/boot_map
fill_until_wrapped $I 600
emit fillstats sh -c "grep -H . $I/per_cpu/cpu*/stats"
stty -F /dev/ttyS1 raw -echo
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


def read_steps(size: int) -> tuple:
    """The steps of the validation and of the backup rounds for a region of size MiB."""
    half, full = size << 19, size << 20
    read_once = KMEMCPY.format(bytes=half, touch_dst=1, touch_src=0, rounds=KMEMCPY_ROUNDS).strip()
    copy = KMEMCPY.format(bytes=full, touch_dst=0, touch_src=half, rounds=KMEMCPY_ROUNDS).strip()
    return (VALIDATE_READ_STEP.format(half=half, kmemcpy=read_once),
            BACKUP_READ_STEP.format(full=full, kmemcpy=copy))


# --- the console and trace parsers --------------------------------------------

LINE = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$", re.M)


def stamp(console: str, pattern: str, after: float = 0.0) -> float:
    """Time stamp (s) of the first console line matching pattern at or after `after`."""
    for m in LINE.finditer(console):
        t = float(m.group(1))
        if t >= after and re.search(pattern, m.group(2)):
            return t
    raise kernels.Failed("no console line matches %r" % pattern)


def validation_ms(console: str) -> float:
    """CPU 0's part is validated at trace_init, right after the region is
    mapped: the span from that line to the validation's.  It includes
    setting up the buffer's page descriptors, which a memcpy does not do."""
    t0 = stamp(console, r"Tracing: mapped boot instance boot_map")
    return 1000 * (stamp(console, r"Ring buffer meta \[0\] is from previous boot", t0) - t0)


def bringup_ms(console: str) -> float:
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


def cpu1_prepare_ms(text: str) -> float:
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


def backup_ms(console: str) -> float:
    """From the end of the source's CPU 0 validation to the backup's line:
    vmalloc, memcpy of the whole region, mapping the copy, whose CPU 0 part
    takes over the source's validation (CPU 1's part of the copy is
    validated at bring-up)."""
    t0 = stamp(console, r"Ring buffer meta \[0\] .*events kept")
    return 1000 * (stamp(console, r"Tracing: backup instance backup holds", t0) - t0)


def copy_validated_ms(console: str) -> float:
    """From the end of the source's CPU 0 validation to the end of the
    copy's (the next "Ring buffer meta [0] is from previous boot"): the
    allocation, the memcpy and the copy's validation (taken over from the
    source on lastboot 6.12).  Both lastboot 6.12 and stock 7.3 (mainline's
    backup instance: vzalloc and memcpy) print these lines."""
    t0 = stamp(console, r"Ring buffer meta \[0\] is from previous boot")
    return 1000 * (stamp(console, r"Ring buffer meta \[0\] is from previous boot", t0 + 1e-6) - t0)


def memcpy_ms(text: str) -> float:
    ns = [int(m.group(1)) for m in re.finditer(r"memcpy \d+ (\d+)", text)]
    if not ns:
        raise kernels.Failed("lastboot-memcpy printed nothing: %r" % text[:200])
    return med(ns) / 1e6


def kmemcpy_ms(text: str) -> tuple:
    """guest/kmemcpy's rounds: the first copy (cold: the first pass over the
    region and over fresh pages since boot) and the median of the others
    (warm: the same pages again, through fresh mappings), in ms."""
    ns = [int(m) for m in re.findall(r"lastboot_kmemcpy: \d+ bytes: vmalloc \d+ ns, memcpy (\d+) ns", text)]
    if len(ns) != KMEMCPY_ROUNDS:
        raise kernels.Failed("lastboot_kmemcpy printed %d copies, not %d: %r" % (len(ns), KMEMCPY_ROUNDS, text[-300:]))
    return ns[0] / 1e6, med(ns[1:]) / 1e6


# --- the rounds ------------------------------------------------------------------

def fill_region(key: str, base: str, fl: str, size: int) -> dict:
    """Boot once and fill the boot instance until it wraps; returns what
    every round of this kernel needs: its guest, the region, its bytes,
    and its command line."""
    # nokaslr: every round writes the saved region back where this boot
    # had it; with KASLR a boot now and then places it elsewhere (scenario
    # kaslr_placement), which would time a fresh region instead.
    region_only = "nokaslr reserve_mem=%dM:4096:trace reserve_mem=%dM:4096:ref" % (size, size)
    reserve = region_only + " trace_instance=boot_map@trace"
    g = guest("validate-%s-%s-%d" % (base, fl, size), base, fl, "normal", mem_mb=1024 + 3 * size,
              prealloc=True, icount=icount_shift())
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


def validate_round(key: str, k: dict, step: str, r: int) -> dict:
    """One round of the validation figure on kernel `k` (fill_region())."""
    g = k["guest"]
    g.write_phys(k["region"][0], k["saved"])  # every round reads the same region
    rb = g.boot(CPUHP_STEP + step, k["cmd"] + CPUHP_EVENTS, timeout=300)
    row = {"cpu0_ms": validation_ms(rb.console), "cpu1_ms": cpu1_prepare_ms(rb.section("cpuhp")),
           "bringup_ms": bringup_ms(rb.console),
           "memcpy_half_ms": memcpy_ms(rb.section("memcpy_half")),
           "kmemcpy_half_ms": kmemcpy_ms(rb.section("kmemcpy_half")),
           "entries": [int(x) for x in re.findall(r"entries: (\d+)", rb.section("stats"))]}
    note("validate %s round %d: CPU0 %.3f ms, CPU1 %.3f ms (bring-up %.3f), "
         "memcpy of half %.1f ms (kernel %.1f ms cold, %.1f ms warm), entries %s"
         % (key, r + 1, row["cpu0_ms"], row["cpu1_ms"], row["bringup_ms"], row["memcpy_half_ms"],
            row["kmemcpy_half_ms"][0], row["kmemcpy_half_ms"][1], row["entries"]))
    return row


def backup_round(key: str, k: dict, step: str, r: int, fl: str) -> dict:
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
    note("backup %s round %d: %.3f ms (%.3f ms to the copy's validation), memcpy of the region "
         "%.1f ms (kernel %.1f ms cold, %.1f ms warm)"
         % (key, r + 1, row["backup_ms"], copied, row["memcpy_full_ms"],
            row["kmemcpy_full_ms"][0], row["kmemcpy_full_ms"][1]))
    return row


def bench_validate(res: dict, with_backup: bool) -> None:
    """Per size: every kernel fills its region once; then each round boots
    every kernel once on its saved region, interleaved, so that the rounds
    pair the kernels (figure of a round = the same minutes of the host)."""
    raw = res.setdefault("validate", {})
    braw = res.setdefault("backup", {})
    res["boot_icount"] = icount_shift()
    for size in SIZES:
        booted = {"%s-%s %d" % (base, fl, size): fill_region("%s-%s %d" % (base, fl, size), base, fl, size)
                  for base, fl in KERNELS}
        for key, k in booted.items():
            res.setdefault("filled", {})[key] = k["entries"]
        step, backup_step = read_steps(size)
        keys = list(booted)
        for key in keys:
            raw[key] = []
        for r in range(ROUNDS):
            for key in interleaved(keys, r):
                raw[key].append(validate_round(key, booted[key], step, r))
        # Stock 6.12 has no backup instance; mainline's (stock 7.3) is
        # measured beside ours.
        bkeys = [key for key in keys if "-lastboot " in key or key.startswith("7.3-")]
        if with_backup:
            for key in bkeys:
                braw[key] = []
            for r in range(ROUNDS):
                for key in interleaved(bkeys, r):
                    fl = key.split()[0].split("-")[1]
                    braw[key].append(backup_round(key, booted[key], backup_step, r, fl))
        for k in booted.values():
            k["guest"].cleanup()
