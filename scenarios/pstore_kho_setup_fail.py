"""pstore over kexec handover, outgoing set-up made to fail: kernel 2 loads
the backend with test_fail_setup=1 (CONFIG_PSTORE_KHO_TEST), so it cannot
set up what it would hand to kernel 3.  What kernel 1 handed over must still
be readable in kernel 2; kernel 3 then gets nothing, and says nothing about
a malformed handover."""

import uuid

TITLE = "pstore over KHO: the incoming record stays readable when the outgoing set-up fails"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

STEP = """
s=$(stage)
if [ "$s" -eq 2 ]; then
	modprobe pstore_kho test_fail_setup=1
else
	modprobe pstore_kho
fi
emit stage$s-modlog sh -c 'dmesg | grep pstore || true'
pstore_emit_files $s
echo "lastboot-pstore-marker MARK stage$s" >/dev/kmsg
if [ "$s" -lt 3 ]; then
	kexec_next
fi
"""


def run(t):
    mark = uuid.uuid4().hex
    g = t.guest(smp=2)
    b = g.boot(STEP.replace("MARK", mark), "kho=on", timeout=300)
    for s in (1, 2, 3):
        t.require("stage%d-files" % s in b.sections, "stage %d never ran its step" % s)
    log2 = b.sections["stage2-modlog"]
    t.expect("pstore_kho: test: failing the set-up for the next kernel" in log2,
             "kernel 2 did not take the test_fail_setup path")
    t.expect("cannot set up the records for the next kernel" in log2,
             "kernel 2 does not say that it cannot set up the outgoing record")
    t.expect("Registered kho as persistent store backend" in log2,
             "kernel 2: the backend did not register for reading")
    t.expect(b.sections["stage2-files"].split() == ["dmesg-kho-0"],
             "kernel 2 files: %s" % b.sections["stage2-files"].split())
    rec = b.sections.get("stage2-file-dmesg-kho-0", "")
    t.expect("lastboot-pstore-marker %s stage1" % mark in rec,
             "kernel 2's dmesg-kho-0 lacks kernel 1's marker")
    t.note("kernel 2 reads kernel 1's record (%d bytes) with its own set-up failed" % len(rec))
    t.expect(b.sections["stage3-files"].split() == [],
             "kernel 3 offers files though kernel 2 handed nothing: %s" % b.sections["stage3-files"].split())
    t.expect("malformed" not in b.sections["stage3-modlog"],
             "kernel 3 reports a malformed handover: %s" % b.sections["stage3-modlog"])
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    for l in log2.splitlines():
        if "pstore" in l:
            t.note("kernel 2: " + l.split("] ", 1)[-1])
