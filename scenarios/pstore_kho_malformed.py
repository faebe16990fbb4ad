"""pstore over kexec handover, malformed handovers: the outgoing kernel
damages what it hands over with a test-only switch (CONFIG_PSTORE_KHO_TEST),
the next kernel must boot, log exactly one clear line, offer no record and
not complain.  One chain of eight kernels: kernels 1 to 6 each set one
switch (bad version, size above capacity, offset outside the blob, blob
size one page past the preserved memory, a capacity no writer produces,
a second descriptor of the same payload), kernel 7 sets none, and kernel 8
must then get kernel 7's log again."""

import re
import uuid

TITLE = "pstore over KHO: a malformed handover is reported once and ignored"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

P = "/sys/module/pstore_kho/parameters"
SWITCHES = {1: "test_bad_version", 2: "test_oversize", 3: "test_bad_offset",
            4: "test_blob_size", 5: "test_capacity", 6: "test_overlap"}
# What kernel s+1 must say about the switch kernel s set.
REASONS = {1: r"unsupported version \d+ \(expected 2\)",
           2: r"record \d+: size \d+ exceeds capacity \d+",
           3: r"record \d+: offset \d+ size \d+ not within",
           4: r"blob of \d+ bytes in \d+ pages of order 0",
           5: r"record \d+: capacity \d+ above the largest record size",
           6: r"records at \d+\+\d+ and \d+\+\d+ overlap"}
BAD = "pstore_kho: ignoring malformed handover from the previous kernel: "
LAST = 8

STEP = """
s=$(stage)
modprobe pstore_kho
emit stage$s-modlog sh -c 'dmesg | grep pstore || true'
pstore_emit_files $s
case $s in
{cases}
esac
echo "lastboot-pstore-marker {mark} stage$s" >/dev/kmsg
if [ "$s" -lt {last} ]; then
	kexec_next
fi
"""


def run(t):
    mark = uuid.uuid4().hex
    cases = "\n".join("%d) echo 1 >%s/%s; emit stage%d-switch cat %s/%s ;;" % (s, P, sw, s, P, sw)
                      for s, sw in SWITCHES.items())
    g = t.guest(smp=2)
    b = g.boot(STEP.format(cases=cases, mark=mark, last=LAST), "kho=on", timeout=600)
    for s in range(1, LAST + 1):
        t.require("stage%d-files" % s in b.sections, "stage %d never ran its step" % s)
    for s, sw in SWITCHES.items():
        t.require(b.sections.get("stage%d-switch" % s, "").strip() == "Y",
                  "kernel %d could not set %s: %r" % (s, sw, b.sections.get("stage%d-switch" % s)))

    for s, sw in SWITCHES.items():
        n = s + 1
        log = b.sections["stage%d-modlog" % n].splitlines()
        bad = [l for l in log if BAD in l]
        t.note("kernel %d after %s: %s" % (n, sw, bad[0].split("] ", 1)[-1] if bad else "(no line)"))
        t.expect(len(bad) == 1, "kernel %d logged %d malformed-handover lines, want 1: %s" % (n, len(bad), bad))
        t.expect(all(re.search(REASONS[s], l) for l in bad),
                 "kernel %d: line does not name the %s damage: %s" % (n, sw, bad))
        t.expect(not [l for l in log if "record(s) received" in l],
                 "kernel %d claims to have received a record" % n)
        t.expect(b.sections["stage%d-files" % n].split() == [],
                 "kernel %d offers pstore files after %s: %s" % (n, sw, b.sections["stage%d-files" % n]))
        t.expect(any("Registered kho as persistent store backend" in l for l in log),
                 "kernel %d: the backend did not register after the malformed handover" % n)

    # The undamaged handover after three damaged ones comes through.
    log = b.sections["stage%d-modlog" % LAST]
    t.expect(BAD not in log, "kernel %d reports a malformed handover though kernel %d set no switch"
             % (LAST, LAST - 1))
    rec = b.sections.get("stage%d-file-dmesg-kho-0" % LAST, "")
    t.expect("lastboot-pstore-marker %s stage%d" % (mark, LAST - 1) in rec,
             "kernel %d does not offer kernel %d's log (files: %s)"
             % (LAST, LAST - 1, b.sections["stage%d-files" % LAST].split()))
    total = len(b.dmesg_lines(re.escape(BAD)))
    t.expect(total == len(SWITCHES), "%d malformed-handover lines on the console for %d damaged handovers"
             % (total, len(SWITCHES)))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    t.figure("malformed_handovers_rejected", total)
    t.figure("malformed_chain_seconds", round(b.seconds, 1))
