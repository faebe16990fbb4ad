"""pstore over kexec handover keeps an oops: kernel 1 oopses (the test-only
switch test_oops kills the task that writes it, the kernel runs on), logs a
marker and KHO-kexecs.  Its shutdown dump at the kexec must not overwrite
the oops dump: kernel 2 offers both, the oops dump (reason Oops, count 1)
with the oops in it and the shutdown dump (count 2) with the marker and the
kexec's last line.  The record size is 4 KiB and compression is off, so
that each dump has exactly three parts (pstore writes parts of the record
size until it wrote pstore.kmsg_bytes, 10 KiB); with parts=3 every part
must arrive, each older than the one before it."""

import re
import uuid

import vm

TITLE = "pstore over KHO: an oops survives the kexec that follows, every part of each dump"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

P = "/sys/module/pstore_kho/parameters"
PARTS = 3

STEP = """
s=$(stage)
modprobe pstore_kho record_size=4096 parts={parts}
emit stage$s-files ls /sys/fs/pstore
if [ "$s" -eq 1 ]; then
	emit oops sh -c 'echo 1 >{p}/test_oops'
	echo "lastboot-pstore-marker {mark} after-oops" >/dev/kmsg
	kexec_next
fi
for f in /sys/fs/pstore/*; do
	[ -e "$f" ] || continue
	emit_file "file-${{f##*/}}" "$f"
done
emit stage$s-modlog sh -c 'dmesg | grep pstore || true'
"""

STAMP = re.compile(r"^<\d+>\[\s*(\d+\.\d+)\]")


def stamps(body):
    return [float(m.group(1)) for m in (STAMP.match(l) for l in body) if m]


def run(t):
    mark = uuid.uuid4().hex
    g = t.guest(smp=2)
    b = g.boot(STEP.format(parts=PARTS, p=P, mark=mark), "kho=on pstore.compress=none", timeout=300)
    t.require("stage2-files" in b.sections, "kernel 2 never ran its step")
    t.require(b.sections.get("oops") is not None and b.rc("oops") != 0,
              "writing test_oops did not kill the writer (rc %s)" % b.section_rcs.get("oops"))
    recs = {}
    for name, text in b.sections.items():
        if not name.startswith("file-dmesg-kho-"):
            continue
        lines = text.splitlines()
        m = re.match(r"(\w+)#(\d+) Part(\d+)$", lines[0] if lines else "")
        if t.expect(m is not None, "%s: first line %r is not a pstore dump header" % (name[5:], lines[:1])):
            recs[(m.group(1), int(m.group(3)))] = (int(m.group(2)), lines[1:])
    files = b.sections["stage2-files"].split()
    t.note("kernel 2 files: %s; dumps: %s" % (" ".join(files), sorted(recs)))
    t.expect(all(not f.endswith(".enc.z") for f in files), "kernel 2 could not inflate: %s" % files)

    oops = recs.get(("Oops", 1))
    if t.expect(oops is not None, "kernel 2 has no oops record: the shutdown dump overwrote it"):
        t.expect(oops[0] == 1, "oops dump count %d, want 1" % oops[0])
        text = "\n".join(oops[1])
        t.expect("pstore_kho: test: oopsing on request" in text and "BUG: kernel NULL pointer dereference" in text,
                 "the oops record does not hold the oops")
        t.expect(mark not in text, "the oops record holds the later marker")
    shut = recs.get(("Shutdown", 1))
    if t.expect(shut is not None, "kernel 2 has no shutdown record"):
        t.expect(shut[0] == 2, "shutdown dump count %d, want 2 (after the oops dump)" % shut[0])
        text = "\n".join(shut[1])
        t.expect("lastboot-pstore-marker %s after-oops" % mark in text, "the shutdown record lacks the marker")
        t.expect("Starting new kernel" in (shut[1] or [""])[-1],
                 "the shutdown record ends with %r" % (shut[1] or [""])[-1])

    # Later parts: present, and each holds older lines than the part before.
    for reason in ("Oops", "Shutdown"):
        got = sorted(p for r, p in recs if r == reason)
        t.expect(got == list(range(1, PARTS + 1)), "%s dump: parts %s arrived, want 1 to %d" % (reason, got, PARTS))
        for p in got[1:]:
            newer, older = stamps(recs[(reason, p - 1)][1]), stamps(recs[(reason, p)][1])
            t.expect(newer and older and older[-1] <= newer[0],
                     "%s part %d does not end before part %d starts" % (reason, p, p - 1))
        t.expect(len({recs[(reason, p)][0] for p in got}) == 1, "%s parts of different dumps" % reason)

    log = b.sections.get("stage2-modlog", "")
    t.expect("%d record(s) received" % (2 * PARTS) in log, "kernel 2: %s" % log.strip()[-300:])
    t.expect("writing error" not in b.console, "pstore reported a write error: parts were dropped")
    # Complaints: only kernel 1's oops, before its kexec.
    after = b.console.split("lastboot-guest: kexec into stage 2")
    t.require(len(after) == 2, "no kexec line on the console")
    t.expect(not [l for l in after[1].splitlines() if vm.COMPLAINT.search(l)],
             "kernel 2 complains: %s" % [l for l in after[1].splitlines() if vm.COMPLAINT.search(l)][:5])
    t.figure("oops_chain_seconds", round(b.seconds, 1))
