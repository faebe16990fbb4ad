"""make bench, figures 2 and 3: boot-time validation and the backup
instance.  Each kernel fills a region once and saves it; every round then
boots each kernel on its saved region, the kernels interleaved, and times
from the console and the cpuhp trace what the boot does with it (the
validation of each CPU's part, or the backup's copy) against a kernel
memcpy of as many bytes never touched, in the same guest (lastboot 6.12,
stock 6.12, stock 7.3).  Here are the steps the guests run, the parsers of
their console and trace, the rounds and the two sections of the report."""

import os
import re

import kernels
import ringbuf
from bench_common import ROUNDS, guest, note, section, tsc_khz
from bench_stats import ci95, interleaved, med, nan, ratio, with_ci

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
    note("validate %s round %d: CPU0 %.1f ms, CPU1 %.1f ms (bring-up %.1f), "
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
    note("backup %s round %d: %.1f ms (%.1f ms to the copy's validation), memcpy of the region "
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


# --- figure 2 in BENCHMARKS.md ------------------------------------------------------

VALIDATE_METHOD = """\
Method: boot 1 fills the boot instance with function-tracer events on
both CPUs until every CPU's part has wrapped (`overrun` > 0), stops it
and panics. The host saves the region from the RAM file; each round
writes it back and warm-boots on it with `tsc_early_khz=` (so that
printk time stamps run from the start). Validation time per CPU, from
the console time stamps. CPU 0: from `Tracing: mapped boot instance` to
`Ring buffer meta [0] is from previous boot`. CPU 1's part is made and
validated by the ring buffer's CPU hotplug prepare callback, called once
per ring buffer on the boot CPU before CPU 1 starts: the boots enable the
`cpuhp:cpuhp_multi_enter`, `cpuhp:cpuhp_exit` and `printk:console` events
on the command line, and CPU 1's figure is the duration of the call of
`trace_rb_cpu_prepare` during which the validation printed its
`Ring buffer meta [1]` line (trace clock). The whole bring-up of the
secondary CPUs is shown beside it for reference.
Both figures include allocating the buffer's page descriptors, so they
are an upper bound of the validation itself.

The guest's RAM is populated when QEMU starts (`prealloc=on`, in
/dev/shm), so that no host page fault is timed; a page touched for the
first time still costs microseconds in the host (figure 9), and the
validation reads every page of the region for the first time.

References, in the same boot after the boot's own work, each a memcpy
of half the region's size (one CPU's part):

- kernel: the module guest/kmemcpy, loaded with `region=ref
  touch_dst=1`, copies with the kernel's memcpy() from a second
  reserve_mem region of the same size that nothing has touched
  (`reserve_mem=<size>M:4096:ref`, on every boot of the figure), through
  a vmap() made for the copy, into a vmalloc() buffer it has written
  first: a read of bytes never touched, once, as the validation's. Its
  first copy is *cold*, the reference of the goal; it copies 4 more
  times through fresh mappings of the same pages, *warm* (median).
- user: `lastboot-memcpy` (guest/memcpy.c), a memcpy between two
  buffers it has written first (median of 5), warm as well.

Stock 6.12 reads the commit of every sub-buffer of every CPU when it
makes the buffer (rb_range_meta_init()), inside CPU 0's span: that span
pays the first touch of both CPUs' parts, and CPU 1's part is warm when
its CPU comes up. Compare stock 6.12 by both CPUs together (the column
`both CPUs`, median of the per-round sums).
"""


def kernel_ref(rows: list, key: str) -> tuple:
    """Medians of guest/kmemcpy's cold and warm copies over the rounds
    (nan for the figures of a run from before it existed)."""
    pairs = [r[key] for r in rows if key in r]
    return med([c for c, _ in pairs]), med([w for _, w in pairs])


def paired_validation(res: dict, size: int, ours: str = "6.12-lastboot", theirs: str = "7.3-stock"):
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


def validation_headline(w, res: dict) -> None:
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


def validation_table(w, res: dict) -> None:
    """Medians per kernel and region, against the references."""
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


def events_lost(res: dict) -> list:
    """The CPUs whose part kept less than 99% of the events it held before the crash."""
    lost = []
    for key, rows in res["validate"].items():
        filled = res.get("filled", {}).get(key) or []
        for cpu, (before, kept) in enumerate(zip(filled, rows[-1]["entries"])):
            if kept < before * 0.99:
                lost.append("%s MiB on %s, CPU %d: %d of %d" % (key.split()[1], key.split()[0], cpu, kept, before))
    return lost


def report_validate(w, res: dict) -> None:
    """Section 2 of BENCHMARKS.md."""
    if not section(w, res, "validate", "2. Boot-time validation"):
        return
    w(VALIDATE_METHOD)
    validation_table(w, res)
    validation_headline(w, res)
    lost = events_lost(res)
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


# --- figure 3 in BENCHMARKS.md ------------------------------------------------------

BACKUP_METHOD = """\
Method: the same saved full region, warm boots with
`trace_instance=backup=boot_map` added. Backup span, lastboot 6.12: from
the source's `Ring buffer meta [0] ... events kept` line to `Tracing:
backup instance backup holds`: vmalloc, memcpy of the whole region,
mapping the copy, whose CPU 0 part takes over the source's validation
(the bench fails if a copy's log does not say so; CPU 1's
part of the copy is validated at its bring-up). Stock 7.3 (mainline's
backup instance: vzalloc, memcpy) prints no line of its own: its span
ends at the copy's `Ring buffer meta [0] is from previous boot`; the
column `to the copy's validation` is that span on both kernels. The
guests' RAM is populated as in figure 2. References as in figure 2,
of the region's size: the kernel's memcpy from the untouched `ref`
region into a fresh vmalloc() buffer not written before
(`touch_dst=0`), after reading the first half of the source
(`touch_src=`), as the backup copies a region whose CPU 0 part the
boot has just validated into fresh pages; cold (its first copy, the
reference of the goal) and warm (median of the next 4); and the
user-space memcpy between buffers it has written first.
"""


def backup_table(w, res: dict) -> None:
    """Medians per kernel and region, against the references."""
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


def report_backup(w, res: dict) -> None:
    """Section 3 of BENCHMARKS.md."""
    if not section(w, res, "backup", "3. Backup instance"):
        return
    w(BACKUP_METHOD)
    backup_table(w, res)
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
