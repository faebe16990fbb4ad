"""make bench, figures 2 and 3 in BENCHMARKS.md: the boot-time validation
and the backup instance (measured by bench_boot.py), their method, tables,
headlines and per-round figures.  A run under -icount (res["boot_icount"],
the shift) prints its spans as millions of instructions; a run on wall
time prints ms."""

from bench_common import section
from bench_stats import ci95, med, nan, ratio, with_ci


def units(res: dict) -> tuple:
    """(unit, divisor, format) of the spans of figures 2 and 3.  Under
    -icount a guest ms is 10^6 / 2^shift instructions; three decimals are
    the time stamps' resolution (1 us) at shift 0."""
    shift = res.get("boot_icount")
    if shift is None:
        return "ms", 1.0, "%.1f"
    return "M instructions", float(1 << shift), "%.3f"


def scaled(rows: list, div: float) -> list:
    """The rows with every span (a key ending in _ms, a number or a
    pair) divided by div."""
    out = []
    for r in rows:
        s = dict(r)
        for k, v in r.items():
            if k.endswith("_ms"):
                s[k] = tuple(x / div for x in v) if isinstance(v, (list, tuple)) else v / div
        out.append(s)
    return out


def figures(res: dict, figure: str) -> dict:
    """{kernel and size: rows} of a figure, in the report's unit."""
    div = units(res)[1]
    return {key: scaled(rows, div) for key, rows in res[figure].items()}


def spread(xs: list) -> float:
    """(largest - smallest) / median of the rounds, in %."""
    return 100.0 * ratio(max(xs) - min(xs), med(xs)) if xs else nan


ICOUNT_METHOD = """\
The guests run under QEMU `-icount shift=%d,sleep=off`: their clocks
(the TSC behind printk's time stamps and the trace clock) advance %d ns
per instruction executed, not with the host's time, so each span below
is a count of instructions (millions; the time stamps resolve %s
instructions), the same in every round whatever else the host runs.
Memory and caches are not modelled: a page touched for the first time
costs nothing more, the memcpy references (guest/kmemcpy, lastboot-memcpy)
count their instructions as well, and their cold and warm copies are
alike. The goals against a memcpy (at most 3x here, 1.2x in figure 3)
were set on wall time, where the first touch of the region's pages
weighs most; in instructions they weigh the work alone. What varies from
run to run is the region each run fills.
"""
WALL_METHOD = """\
The guest's RAM is populated when QEMU starts (`prealloc=on`, in
/dev/shm), so that no host page fault is timed; a page touched for the
first time still costs microseconds in the host (figure 9), and the
validation reads every page of the region for the first time.
"""


def clock_method(w, res: dict) -> None:
    """What the spans of figures 2 and 3 count: instructions or wall time."""
    shift = res.get("boot_icount")
    if shift is None:
        w(WALL_METHOD)
    else:
        w(ICOUNT_METHOD % (shift, 1 << shift, "{:,}".format(1000 >> shift or 1)))


# --- figure 2 -------------------------------------------------------------------------

VALIDATE_METHOD = """\
Method: boot 1 fills the boot instance with function-tracer events on
both CPUs until every CPU's part has wrapped (`overrun` > 0), stops it
and panics. The host saves the region from the RAM file; each round
writes it back and warm-boots on it with `tsc_early_khz=` (so that
printk time stamps run from the start). Validation per CPU, from
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
"""
VALIDATE_REFS = """\
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


def paired_validation(val: dict, size: int, ours: str = "6.12-lastboot", theirs: str = "7.3-stock"):
    """Both CPUs' validation of `ours` and `theirs` and their ratio, round
    by round (the rounds interleave the kernels: round r of each ran in the
    same minutes).  None if either was not measured."""
    a = val.get("%s %d" % (ours, size))
    b = val.get("%s %d" % (theirs, size))
    if not a or not b:
        return None
    ta = [r["cpu0_ms"] + r["cpu1_ms"] for r in a]
    tb = [r["cpu0_ms"] + r["cpu1_ms"] for r in b]
    return ta, tb, [x / y for x, y in zip(ta, tb) if y > 0]


def validation_headline(w, res: dict) -> None:
    """The goal of issue 24 as a table: lastboot 6.12 against mainline,
    paired per round, with intervals."""
    unit, _, fmt = units(res)
    val = figures(res, "validate")
    sizes = sorted({int(k.split()[1]) for k in val})
    rows = [(size, paired_validation(val, size)) for size in sizes]
    rows = [(size, p) for size, p in rows if p]
    if not rows:
        return
    w("Headline: both CPUs' validation (CPU 0 + CPU 1), lastboot 6.12 against")
    w("mainline (stock 7.3), each kernel on its own full region, the kernels")
    w("interleaved in every round; median [95% bootstrap interval of the")
    w("median] over the rounds, and the median of the per-round ratios;")
    w("spread: (largest - smallest) / median of the rounds.")
    w("Goal: lastboot's upper bound at most mainline's median.")
    w("")
    w("| region | lastboot 6.12 (%s) | stock 7.3 (%s) | ratio per round | spread, lastboot / stock 7.3 | goal |"
      % (unit, unit))
    w("|---|---|---|---|---|---|")
    for size, (ta, tb, rt) in rows:
        met = ci95(ta)[1] <= med(tb)
        w("| %d MiB | %s | %s | %s | %.1f%% / %.1f%% | %s |"
          % (size, with_ci(ta, fmt), with_ci(tb, fmt), with_ci(rt, "%.2f"), spread(ta), spread(tb),
             "met" if met else "**not met**"))
    w("")


def validation_table(w, res: dict) -> None:
    """Medians per kernel and region, against the references."""
    unit, _, fmt = units(res)
    w(("| region | kernel | CPU 0 (%s) | CPU 1 (%s) | both CPUs (%s) | bring-up of CPU 1 (%s) "
       "| kernel memcpy cold / warm (%s) | user memcpy (%s) | **ratio CPU 1 / cold kernel memcpy** "
       "| ratio CPU 1 / warm | ratio CPU 1 / user | events before the crash | events kept |") % ((unit,) * 6))
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key, rows in figures(res, "validate").items():
        kern, size = key.split()
        c0, c1 = med([r["cpu0_ms"] for r in rows]), med([r["cpu1_ms"] for r in rows])
        up = fmt % med([r["bringup_ms"] for r in rows])
        mc = med([r["memcpy_half_ms"] for r in rows])
        cold, warm = kernel_ref(rows, "kmemcpy_half_ms")
        filled = res.get("filled", {}).get(key)
        both = med([r["cpu0_ms"] + r["cpu1_ms"] for r in rows])
        w(("| %s MiB | %s | F | F | F | %s | F / F | F | **%.2f** | %.2f | %.2f | %s | %s |").replace("F", fmt)
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


def per_round(w, rows_by_key: dict, fields, fmt: str) -> None:
    """One line per kernel and size: each round's figures, joined by /."""
    for key, rows in rows_by_key.items():
        w("- %s MiB %s: %s" % (key.split()[1], key.split()[0],
                               ", ".join("/".join(fmt % x for x in fields(r)) for r in rows)))
    w("")


def report_validate(w, res: dict) -> None:
    """Section 2 of BENCHMARKS.md."""
    if not section(w, res, "validate", "2. Boot-time validation"):
        return
    unit, _, fmt = units(res)
    w(VALIDATE_METHOD)
    clock_method(w, res)
    w(VALIDATE_REFS)
    validation_table(w, res)
    validation_headline(w, res)
    lost = events_lost(res)
    if lost:
        w("Events lost on a clean crash (tracing stopped before the panic, nothing")
        w("damaged): %s. The validation time of such a CPU covers only what was kept." % "; ".join(lost))
        w("")
    w("Goal: at most 3x the read. Per round (CPU 0, CPU 1, kernel memcpy cold, warm, user memcpy; %s):" % unit)
    w("")
    per_round(w, figures(res, "validate"), lambda r: (r["cpu0_ms"], r["cpu1_ms"])
              + tuple(r.get("kmemcpy_half_ms", (nan, nan))) + (r["memcpy_half_ms"],), fmt)


# --- figure 3 -------------------------------------------------------------------------

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
guests run as in figure 2. References as in figure 2,
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
    unit, _, fmt = units(res)
    w(("| region | kernel | backup (%s) | to the copy's validation (%s) | kernel memcpy cold / warm (%s) "
       "| user memcpy (%s) | **ratio backup / cold kernel memcpy** | ratio to the copy's validation / cold "
       "| ratio backup / warm | ratio backup / user |") % ((unit,) * 4))
    w("|---|---|---|---|---|---|---|---|---|---|")
    for key, rows in figures(res, "backup").items():
        kern, size = key.split()
        bk, mc = med([r["backup_ms"] for r in rows]), med([r["memcpy_full_ms"] for r in rows])
        cv = med([r["copy_validated_ms"] for r in rows if "copy_validated_ms" in r])
        cold, warm = kernel_ref(rows, "kmemcpy_full_ms")
        w("| %s MiB | %s | F | F | F / F | F | **%.2f** | %.2f | %.2f | %.2f |".replace("F", fmt)
          % (size, kern, bk, cv, cold, warm, mc, ratio(bk, cold), ratio(cv, cold), ratio(bk, warm),
             ratio(bk, mc)))
    w("")


def report_backup(w, res: dict) -> None:
    """Section 3 of BENCHMARKS.md."""
    if not section(w, res, "backup", "3. Backup instance"):
        return
    unit, _, fmt = units(res)
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
    w("Per round (backup, to the copy's validation, kernel memcpy cold, warm, user memcpy; %s):" % unit)
    w("")
    per_round(w, figures(res, "backup"), lambda r: (r["backup_ms"], r.get("copy_validated_ms", nan))
              + tuple(r.get("kmemcpy_full_ms", (nan, nan))) + (r["memcpy_full_ms"],), fmt)
