"""pstore over kexec handover, a record passed on through a kernel with
another record size: kernel 1 (record_size 256 KiB) hands its whole log to
kernel 2 (record_size 4 KiB, records=2), which keeps only panics of its own
(max_reason=1: its kexec adds no record) and passes kernel 1's record on to
kernel 3 (record_size 4 KiB).  Kernel 3 must read kernel 1's log inflated:
only the record size of the kernel that dumped it, carried in the
descriptor across both hops, tells kernel 3 how large the record inflates;
its own 4 KiB buffer inflates at most 12 KiB.  Run with pstore compression
on (the default) and off (pstore.compress=none: the record is plain text
and must arrive as such)."""

import uuid

TITLE = "pstore over KHO: a record read two kernels later, with other record sizes, compressed or not"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

STEP = """
s=$(stage)
case $s in
1) modprobe pstore_kho record_size=262144 ;;
2) modprobe pstore_kho record_size=4096 records=2 max_reason=1 ;;
3) modprobe pstore_kho record_size=4096 ;;
esac
pstore_emit_files $s
emit stage$s-modlog sh -c 'dmesg | grep pstore || true'
echo "lastboot-pstore-marker MARK stage$s" >/dev/kmsg
if [ "$s" -lt 3 ]; then
	kexec_next
fi
"""


def chain(t, cmdline, label):
    mark = uuid.uuid4().hex
    g = t.guest(smp=2)
    b = g.boot(STEP.replace("MARK", mark), cmdline, timeout=300)
    for s in (1, 2, 3):
        t.require("stage%d-files" % s in b.sections, "%s: stage %d never ran its step" % (label, s))
    files3 = b.sections["stage3-files"].split()
    t.expect(files3 == ["dmesg-kho-0"], "%s: kernel 3 files %s, want kernel 1's record alone as dmesg-kho-0"
             % (label, files3))
    text = b.sections.get("stage3-file-dmesg-kho-0", "")
    lines = text.splitlines() or [""]
    t.expect(lines[0].startswith("Shutdown#"), "%s: kernel 3's record starts with %r" % (label, lines[0]))
    t.expect("lastboot-pstore-marker %s stage1" % mark in text,
             "%s: kernel 3's record lacks kernel 1's marker" % label)
    t.expect("lastboot-pstore-marker %s stage2" % mark not in text,
             "%s: kernel 3's record holds kernel 2's marker" % label)
    t.expect(len(lines) > 1 and "Linux version" in lines[1],
             "%s: kernel 3's record does not start with kernel 1's first line" % label)
    t.expect(len(text) > 3 * 4096, "%s: kernel 1's log (%d bytes) fits in what a 4 KiB buffer inflates: "
             "the case proves nothing" % (label, len(text)))
    t.expect("zlib_inflate" not in b.sections["stage3-modlog"], "%s: kernel 3 could not inflate" % label)
    t.expect(not b.complaints(), "%s: kernel complaints: %s" % (label, b.complaints()[:5]))
    t.note("%s: kernel 3 reads %d bytes of kernel 1's log" % (label, len(text)))
    return b


def run(t):
    b = chain(t, "kho=on", "compressed")
    t.figure("hops_seconds", round(b.seconds, 1))
    chain(t, "kho=on pstore.compress=none", "uncompressed")
