"""Large region: the crash recovery scenario on a boot instance whose
per-CPU part holds more sub-buffers (about 90000 in 352 MiB) than a kmalloc()
array of a few dozen bytes per sub-buffer fits in (KMALLOC_MAX_SIZE,
4 MiB here).  Whatever the validation keeps per sub-buffer must not cost
the previous boot's trace when the region is large: lastboot once lost
all of it, silently, where stock 6.12 (which keeps no such array) did not."""

import _common

TITLE = "a crash is recovered from a region of 352 MiB per CPU"
CASES = [("6.12", "stock"), ("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F1"}

# Two CPUs of 352 MiB each, plus the meta data pages.
# nokaslr: the region covers half of the guest's RAM, and a KASLR kernel
# lands in it about every other boot (large_region[6.12-stock] of
# 2026-12-01: two boots in a row moved it); then the previous boot is
# gone and nothing of the validation is tested.
RESERVE = "nokaslr reserve_mem=705M:4096:trace"


def run(t):
    g = t.guest(smp=2, mem_mb=1536)
    _, recorded = _common.record_and_crash(t, g, cmdline=RESERVE + " trace_instance=boot_map@trace,sched,timer,irq")
    boot, recovered = _common.read_back(t, g, cmdline=RESERVE + " trace_instance=boot_map@trace")
    t.note("boot log: %s" % " / ".join(l.split("] ", 1)[-1] for l in boot.dmesg_lines(r"Ring buffer .*meta")))
    cmp = _common.report(t, recorded, recovered)
    for cpu, c in cmp.items():
        t.expect(c["invented"] == 0, "CPU %d shows %d events that were never recorded" % (cpu, c["invented"]))
        if (t.base, t.flavour) == ("6.12", "stock"):
            # Stock 6.12 may throw a CPU away whole on any crash (see
            # crash_recovery); what it keeps it keeps whole.
            t.expect(c["missing"] in (0, c["recorded"]), "CPU %d came back partly: %s" % (cpu, c))
        else:
            t.expect(c["missing"] == 0, "CPU %d: %d of %d recorded events are missing"
                     % (cpu, c["missing"], c["recorded"]))
