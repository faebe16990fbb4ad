"""pstore over kexec handover, malformed-handover fuzz on the KASAN/UBSAN
kernel.  In a chain of kexecs, each kernel sets the test-only switch
test_seed before its kexec: the dump at the kexec then damages one to three
fields of what it hands over (root, header, descriptors: magic, version,
sizes, offsets, counts, capacities, flags, reason, part, kernel, the size
and order of the preserved area), with values at and past the bounds the
reader checks, or gives a descriptor the payload of another (whole or
shifted: overlaps), all chosen from the seed alone.  The next kernel must
either reject the handover with exactly one line and offer no record, or
accept it and offer as many files as it says it received (some damage is
harmless: a reason, a part number); it reads every file and erases every
other kernel's files.  Over the whole run: no oops, no WARN, no KASAN or
UBSAN report.

The debug variant has the backend built in (series/7.3/config.debug): it
registers at boot, before the step runs, and records=2 (hand on what the
previous kernel handed over, so that accepted records travel one more
kernel) comes from the kernel command line, which kexec_next passes on; the
backend reads it once, when it sets up the outgoing handover at boot
(records is read-only at run time; test_seed is writable).  Each kernel
reports the value it runs with.  On a build with the backend as a module,
the step loads it with the same parameter.

LASTBOOT_PSTORE_FUZZ_N (default 20) seeds from LASTBOOT_PSTORE_FUZZ_SEED
(default 1); a failing seed replays alone with N=1 and that seed."""

import os
import re

import _common

TITLE = "pstore over KHO: randomly damaged handovers are rejected once or read cleanly (KASAN/UBSAN)"
CASES = [("7.3", "lastboot", "debug")]
REQUIRES = {("7.3", "lastboot"): "F6"}

N = int(os.environ.get("LASTBOOT_PSTORE_FUZZ_N", "20"))
SEED = int(os.environ.get("LASTBOOT_PSTORE_FUZZ_SEED", "1"))
# Seeds per boot: one chain of PER + 1 kernels.
PER = 25

P = "/sys/module/pstore_kho/parameters"
SCRATCH = _common.KHO_SCRATCH_KASAN
BAD = "pstore_kho: ignoring malformed handover from the previous kernel: "

# Passed on the command line for a built-in backend (modprobe takes it
# for a module).
RECORDS = 2

STEP = """
s=$(stage)
[ -d {p} ] || modprobe pstore_kho records={records}
emit stage$s-records cat {p}/records
emit stage$s-files ls /sys/fs/pstore
for f in /sys/fs/pstore/*; do
	[ -e "$f" ] || continue
	cat "$f" >/dev/null
	[ $((s % 2)) -eq 1 ] || rm "$f"
done
emit stage$s-modlog sh -c 'dmesg | grep pstore_kho || true'
if [ "$s" -le {count} ]; then
	echo $(({first} + s - 1)) >{p}/test_seed
	kexec_next
fi
"""


def boot(t, first, count):
    """Seeds first .. first + count - 1; returns (checked, rejected)."""
    g = t.guest(smp=2)
    b = g.boot(STEP.format(count=count, first=first, p=P, records=RECORDS),
               "kho=on %s pstore_kho.records=%d" % (SCRATCH, RECORDS), timeout=120 + 45 * count)
    rejected = 0
    for s in range(1, count + 2):
        t.require("stage%d-files" % s in b.sections, "kernel %d%s never ran its step"
                  % (s, " (after seed %d)" % (first + s - 2) if s > 1 else ""))
        t.expect(b.sections["stage%d-records" % s].strip() == str(RECORDS),
                 "kernel %d runs the backend with records=%r, not %d"
                 % (s, b.sections["stage%d-records" % s].strip(), RECORDS))
    for s in range(2, count + 2):
        seed = first + s - 2
        log = b.sections["stage%d-modlog" % s].splitlines()
        bad = [l.split(BAD, 1)[1] for l in log if BAD in l]
        files = b.sections["stage%d-files" % s].split()
        got = [int(m.group(1)) for m in (re.search(r"(\d+) record\(s\) received", l) for l in log) if m]
        what = "; ".join(l.split("test: ", 1)[1] for l in b.console.splitlines()
                         if "test: seed %d:" % seed in l)
        if bad:
            rejected += 1
            t.expect(len(bad) == 1, "seed %d (%s): %d rejection lines: %s" % (seed, what, len(bad), bad))
            t.expect(files == [] and not got, "seed %d (%s): rejected, yet files %s" % (seed, what, files))
        else:
            t.expect(got == ([len(files)] if files else []),
                     "seed %d (%s): accepted, %s received, files %s" % (seed, what, got, files))
    complaints = b.complaints()
    t.expect(not complaints, "seeds %d..%d: kernel complaints: %s" % (first, first + count - 1, complaints[:8]))
    return count, rejected, b.seconds


def run(t):
    checked = rejected = 0
    seconds = 0.0
    first = SEED
    while checked < N:
        count = min(PER, N - checked)
        c, r, sec = boot(t, first, count)
        checked += c
        rejected += r
        seconds += sec
        first += count
    t.note("seeds %d..%d: %d handovers, %d rejected once, %d accepted and read"
           % (SEED, SEED + N - 1, checked, rejected, checked - rejected))
    t.figure("fuzz_handovers", checked)
    t.figure("fuzz_rejected", rejected)
    t.figure("fuzz_seconds", round(seconds, 1))
