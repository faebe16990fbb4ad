#!/usr/bin/env python3
"""make fuzz: boot a kernel on a persistent trace region damaged at random,
N times, and read the whole boot instance each time.  Any oops, warning,
KASAN or UBSAN report, or hang is a failure, and so is (lastboot) a CPU
whose trace shows fewer events than its undamaged sub-buffers hold.

One crashed boot fills the region; its bytes are kept, and every iteration
writes them back, applies the damage that its seed draws, boots, reads
`trace` (cat, trace-cmd show) and consumes the instance through trace_pipe
(odd seeds) or trace_pipe_raw (even seeds: trace-cmd extract + report).
Each campaign saves the region it recorded (~/.cache/lastboot/fuzz/) with
the kernel's build id: `make fuzz SEED=<seed> N=1 REGION=<saved region>`
replays one iteration on the same bytes.

Environment: N (iterations, default 200), SEED (first seed, default 1),
MODE (what the crashed boot records: events or wrapped, see MODES),
BASE/FLAVOUR/VARIANT (default 6.12 lastboot debug).  make check runs a
short campaign through scenarios/fuzz.py.
"""

import json
import os
import random
import re
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios"))
import rb_layout  # noqa: E402
import ringbuf  # noqa: E402
import kernels  # noqa: E402
import tracefile  # noqa: E402
import paths  # noqa: E402
import vm  # noqa: E402
import _common  # noqa: E402

# Every boot reads the instance with `trace` (which leaves it in place),
# then consumes it with one reader: both consumers cannot see the same
# events in one boot, so odd seeds take trace_pipe and even seeds
# trace_pipe_raw (trace-cmd extract + report).
READ_STEP = """
I=$T/instances/boot_map
emit_file trace $I/trace
trace-cmd show -B boot_map > /dev/null
{consume}
echo "lastboot-fuzz: read all"
"""
# The host writes each seed's damage where the first boot had the region:
# every boot must map it there. A KASAN kernel is large, and with KASLR 4
# of 20 boots placed the region elsewhere (make check of 2026-12-01), which
# tests nothing; the fuzz is about damage, so its kernels keep their place.
NOKASLR = "nokaslr "
CONSUMERS = {
    "trace_pipe": "drain_pipe $I /dev/null",
    # A failing trace-cmd fails the step (guest/init runs it with set -e),
    # hence the seed; its complaint goes to the console.
    "trace_pipe_raw": """cd /tmp
trace-cmd extract -B boot_map -o /tmp/raw.dat > /dev/null
trace-cmd report -i /tmp/raw.dat > /dev/null""",
}


# What the crashed boot records into the region the seeds damage:
# "events": sched/timer/irq events and numbered markers for 2 s (the
# region is partly filled); "wrapped": the function tracer, numbered
# markers and the kernel log (printk:console) until every CPU's part has
# wrapped, so that the ring is full, its head is not its first page, and
# ftrace's own event types and print events are in it.
WRAPPED_STEP = """
I=$T/instances/boot_map
seq_markers $I/trace_marker 0
fill_until_wrapped $I 600
crash
"""
MODES = {
    "events": (_common.RECORD_STEP.format(seconds=2), _common.RECORD_CMDLINE),
    "wrapped": (WRAPPED_STEP, _common.RESERVE + " trace_instance=boot_map@trace,printk:console"),
}


def consumer(seed):
    return "trace_pipe" if seed % 2 else "trace_pipe_raw"


def buffers_offset(base, cpu):
    return cpu.meta_offset + (rb_layout.META612.size if base == "6.12" else rb_layout.CPUMETA73.size)


def plan_damage(region, base, rng):
    """Draw a list of (offset, bytes, what) writes into the region."""
    writes = []
    size = region.size
    cpus = [c for c in region.cpus] or []
    kinds = ["random_page", "bit_flips", "zero_pages", "huge_event", "permutation", "meta_field",
             "meta_page"]
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        kind = rng.choice(kinds)
        c = rng.choice(cpus) if cpus else None
        sbs = c.subbufs if c is not None else []
        if kind == "random_page" and sbs:
            sb = rng.choice(sbs)
            writes.append((sb.offset, rng.randbytes(region.subbuf_size), "random bytes over sub-buffer %d of CPU %d" % (sb.index, c.cpu)))
        elif kind == "bit_flips":
            for _ in range(rng.randint(1, 64)):
                off = rng.randrange(size)
                writes.append((off, None, "flip bit %d at 0x%x" % (rng.randrange(8), off)))
        elif kind == "zero_pages":
            for _ in range(rng.randint(1, 4)):
                page = rng.randrange(size // 4096) * 4096
                writes.append((page, bytes(4096), "zero page at 0x%x" % page))
        elif kind == "huge_event" and sbs:
            sb = rng.choice([s for s in sbs if s.event_offsets] or sbs)
            if sb.event_offsets:
                ev = rb_layout.BUF_PAGE_HDR_SIZE + rng.choice(sb.event_offsets)
                type_len = rng.choice([0, 28, 29, 30, 31, rng.randrange(32)])
                header = (rng.randrange(1 << 27) << 5) | type_len
                length = rng.choice([0xffffffff, 0x7fffffff, 4096, 4093, rng.randrange(1 << 32)])
                writes.append((sb.offset + ev, struct.pack("<II", header, length),
                               "event header type_len %d length 0x%x in sub-buffer %d of CPU %d"
                               % (type_len, length, sb.index, c.cpu)))
        elif kind == "permutation" and c is not None and c.buffers:
            boff = buffers_offset(base, c)
            n = len(c.buffers)
            i = rng.randrange(n)
            how = rng.choice(["dup", "range", "negative", "swap"])
            if how == "dup":
                val = c.buffers[rng.randrange(n)]
            elif how == "range":
                val = rng.choice([n, n + 1, 1 << 30, 0x7fffffff])
            elif how == "negative":
                val = rng.choice([-1, -n, -(1 << 31)])
            else:
                j = rng.randrange(n)
                writes.append((boff + 4 * j, struct.pack("<i", c.buffers[i]), "swap buffers[%d]/[%d]" % (i, j)))
                val = c.buffers[j]
            writes.append((boff + 4 * i, struct.pack("<i", val), "buffers[%d] of CPU %d = %d" % (i, c.cpu, val)))
        elif kind == "meta_field" and c is not None:
            name, (off, width) = rng.choice(sorted(rb_layout.META_FIELDS[base].items()))
            val = rng.choice([0, 1, (1 << (8 * width)) - 1, rng.randrange(1 << (8 * width)),
                              c.meta.get(name, 0) + rng.choice([-4096, 4096, 8, -8, 1 << 20])])
            val &= (1 << (8 * width)) - 1
            writes.append((c.meta_offset + off, val.to_bytes(width, "little"),
                           "meta %s of CPU %d = 0x%x" % (name, c.cpu, val)))
        elif kind == "meta_page" and c is not None:
            start = c.meta_offset & ~4095
            writes.append((start, rng.randbytes(4096), "random bytes over the meta page of CPU %d" % c.cpu))
    if not writes:
        off = rng.randrange(size)
        writes.append((off, None, "flip bit %d at 0x%x" % (rng.randrange(8), off)))
    return writes


def undamaged_events(region, pristine, damaged):
    """Per CPU, the events the next kernel must show at least: those of the
    sub-buffers the damage left byte for byte as they were, for the CPUs
    whose meta data (and, on 7.3, the region's) it did not touch; a kernel
    may reset a CPU whose meta data is damaged."""
    first = min(c.meta_offset for c in region.cpus)
    if damaged[:first] != pristine[:first]:
        return {}
    out = {}
    for c in region.cpus:
        if damaged[c.meta_offset:c.subbufs_offset] != pristine[c.meta_offset:c.subbufs_offset]:
            continue
        out[c.cpu] = sum(sb.nr_events for sb in c.subbufs
                         if damaged[sb.offset:sb.offset + region.subbuf_size]
                         == pristine[sb.offset:sb.offset + region.subbuf_size])
    return out


def apply(pristine, writes, rng):
    b = bytearray(pristine)
    for off, data, what in writes:
        if data is None:
            bit = int(re.search(r"flip bit (\d+)", what).group(1))
            b[off] ^= 1 << bit
        else:
            end = min(len(b), off + len(data))
            b[off:end] = data[:end - off]
    return bytes(b)


def build_id(builddir):
    """The GNU build id of the kernel in `builddir` (None if it has none)."""
    p = subprocess.run(["readelf", "-n", os.path.join(builddir, "vmlinux")],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    m = re.search(r"Build ID: ([0-9a-f]+)", p.stdout)
    return m.group(1) if m else None


def save_region(name, pristine, addr, kernel_id):
    """Keep a campaign's recorded region, so that its seeds can be replayed."""
    d = os.path.join(paths.CACHE, "fuzz")
    os.makedirs(d, exist_ok=True)
    # No brackets: the path is typed in a shell to replay it.
    path = os.path.join(d, "%s-%s.region" % (re.sub(r"[^\w.-]+", "-", name).strip("-"),
                                             time.strftime("%Y%m%d-%H%M%S")))
    with open(path, "wb") as f:
        f.write(pristine)
    with open(path + ".json", "w") as f:
        json.dump({"addr": addr, "build_id": kernel_id}, f)
    return path


def recorded_region(g, name, mode, kernel_id, note):
    """(bytes, address, saved path) of the region every seed damages: the
    one saved in $REGION (a replay), or a fresh recording of `mode`."""
    saved = os.environ.get("REGION")
    if saved:
        # Replay: the same bytes at the same place, not a fresh recording.
        with open(saved + ".json") as f:
            meta = json.load(f)
        with open(saved, "rb") as f:
            pristine = f.read()
        note("replaying the region saved in %s (recorded by kernel build %s)" % (saved, meta["build_id"]))
        if meta["build_id"] != kernel_id:
            note("WARNING: this kernel is build %s: the seeds may not replay as they ran" % kernel_id)
        return pristine, meta["addr"], saved
    note("filling the region (record, crash) with %s" % name)
    step, cmdline = MODES[mode]
    crashed = g.boot(step, NOKASLR + cmdline, expect="panic", timeout=900)
    addr, size = ringbuf.find_region(crashed.console)
    pristine = g.read_phys(addr, size)
    saved = save_region(name, pristine, addr, kernel_id)
    note("region saved in %s: REGION=%s replays its seeds on the same bytes" % (saved, saved))
    return pristine, addr, saved


def boot_damaged(g, seed, floor, lastboot):
    """Boot on the damaged region and read it all; None, or what went wrong."""
    try:
        step = READ_STEP.format(consume=CONSUMERS[consumer(seed)])
        b = g.boot(step, NOKASLR + _common.READ_CMDLINE, timeout=240)
        bad = [line for line in b.console.splitlines() if vm.COMPLAINT.search(line)]
        if bad:
            return "kernel complained: " + bad[0].strip()
        if "lastboot-fuzz: read all" not in b.console:
            return "the guest did not finish reading"
        if lastboot:
            # The damage must cost only what it hit: a kernel that reset
            # every damaged CPU would pass the checks above.
            shown = tracefile.Trace(b.section("trace"))
            short = ["CPU %d shows %d events, its undamaged sub-buffers hold %d" % (cpu, shown.count(cpu), want)
                     for cpu, want in sorted(floor.items()) if shown.count(cpu) < want]
            return "; ".join(short) or None
        return None
    except tracefile.UnrecognisedLine as e:
        return "the trace shows what is not an event: %s" % e
    except vm.BootError as e:
        problem = str(e).splitlines()[0]
        bad = [line for line in e.console.splitlines() if vm.COMPLAINT.search(line)]
        return problem + (": " + bad[0].strip() if bad else "")


def fuzz(base, flavour, variant, n, seed0, note=print, builddir=None, mode="events"):
    """Run n damaged-region boots on a region recorded as `mode` (MODES);
    returns the list of failing seeds."""
    name = "fuzz[%s-%s-%s-%s]" % (base, flavour, variant, mode)
    builddir = builddir or kernels.kernel_for(base, flavour, variant)
    initrd = vm.guest_initrd(builddir, kernels.base_initrd())
    workdir = os.path.join(paths.CACHE, "run", name)
    g = vm.Guest(workdir, vm.kernel_image(builddir), initrd, smp=2, debug=(variant == "debug"))
    pristine, addr, saved = recorded_region(g, name, mode, build_id(builddir), note)
    region = ringbuf.parse_region(pristine, base)
    note("region 0x%x+0x%x, %d events on %d CPUs; seeds %d..%d" % (addr, len(pristine), region.nr_events,
                                                                   len(region.cpus), seed0, seed0 + n - 1))
    failures, log = [], []
    for i in range(n):
        seed = seed0 + i
        rng = random.Random(seed)
        writes = plan_damage(region, base, rng)
        damaged = apply(pristine, writes, rng)
        g.write_phys(addr, damaged)
        start = time.monotonic()
        problem = boot_damaged(g, seed, undamaged_events(region, pristine, damaged), flavour == "lastboot")
        secs = time.monotonic() - start
        log.append({"seed": seed, "reader": consumer(seed), "damage": [w for _, _, w in writes], "ok": problem is None,
                    "problem": problem, "seconds": round(secs, 1)})
        what = "; ".join(w for _, _, w in writes[:3]) + (" ..." if len(writes) > 3 else "")
        note("%d/%d seed %d, %s: %s (%s) %.0f s" % (i + 1, n, seed, consumer(seed),
                                                    "ok" if problem is None else "FAIL: " + problem, what, secs))
        if problem:
            failures.append(seed)
            keep = os.path.join(workdir, "seed%d.console.log" % seed)
            with open(keep, "w") as f:
                f.write(vm.read(os.path.join(workdir, "boot%d.console.log" % g.nboot)))
            note("seed %d: console kept in %s; replay: make fuzz BASE=%s FLAVOUR=%s SEED=%d N=1 REGION=%s"
                 % (seed, keep, base, flavour, seed, saved))
        # Only the last boot's files are worth keeping.
        for fn in os.listdir(workdir):
            if fn.startswith("boot%d." % (g.nboot - 1)):
                os.unlink(os.path.join(workdir, fn))
    os.makedirs(paths.RESULTS, exist_ok=True)
    with open(os.path.join(paths.RESULTS, name + ".json"), "w") as f:
        json.dump({"case": name, "ok": not failures, "figures": {}, "seeds": [seed0, seed0 + n - 1],
                   "failures": failures, "iterations": log}, f, indent=1)
    g.cleanup()
    note("%d boots, %d failed%s" % (n, len(failures), (" (seeds %s)" % failures) if failures else ""))
    return failures


def main():
    n = int(os.environ.get("N", "200"))
    seed0 = int(os.environ.get("SEED", "1"))
    base = os.environ.get("BASE", "6.12")
    flavour = os.environ.get("FLAVOUR", "lastboot")
    variant = os.environ.get("VARIANT", "debug")
    mode = os.environ.get("MODE", "events")
    if mode not in MODES:
        raise kernels.Failed("unknown MODE %r (%s)" % (mode, ", ".join(MODES)))
    failures = fuzz(base, flavour, variant, n, seed0, note=lambda m: print("[fuzz] " + m, flush=True),
                    mode=mode)
    print("%d passed, %d failed" % (n - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (vm.BootError, kernels.Failed) as e:
        print("[fuzz] error: %s" % e, file=sys.stderr)
        sys.exit(2)
