"""pstore over kexec handover between kernels with different record sizes:
the size travels in the handed-over blob, so each kernel reads what the
previous one wrote whatever its own record_size.  Kernel 1 hands over a
4 KiB record (the compressed tail of its log), kernel 2 reads it with the
default 64 KiB and hands over 256 KiB, kernel 3 reads that with 4 KiB (its
buffer must grow: the pstore core inflates a record into at most three
times the backend's buffer, and kernel 2's whole log does not fit in 12 KiB).
Kernel 1 keeps one part of each dump (parts=1): its record is the newest
4 KiB of its log alone."""

import uuid

TITLE = "pstore over KHO: kernels with different record sizes read each other's records"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

SIZES = {1: 4096, 2: 262144, 3: 4096}

STEP = """
s=$(stage)
case $s in
1) modprobe pstore_kho record_size=%d parts=1 ;;
2) modprobe pstore_kho record_size=%d ;;
3) modprobe pstore_kho record_size=%d ;;
esac
pstore_emit_files $s
emit stage$s-modlog sh -c 'dmesg | grep pstore || true'
echo "lastboot-pstore-marker MARK stage$s" >/dev/kmsg
if [ "$s" -lt 3 ]; then
	kexec_next
fi
""" % (SIZES[1], SIZES[2], SIZES[3])


def run(t):
    mark = uuid.uuid4().hex
    g = t.guest(smp=2)
    b = g.boot(STEP.replace("MARK", mark), "kho=on", timeout=300)
    for s in (1, 2, 3):
        t.require("stage%d-files" % s in b.sections, "stage %d never ran its step" % s)
    for s, writer in ((2, 1), (3, 2)):
        t.expect(b.sections["stage%d-files" % s].split() == ["dmesg-kho-0"],
                 "kernel %d files: %s" % (s, b.sections["stage%d-files" % s].split()))
        text = b.sections.get("stage%d-file-dmesg-kho-0" % s, "")
        lines = text.splitlines() or [""]
        t.expect(lines[0].startswith("Shutdown#"), "kernel %d: record starts with %r" % (s, lines[0]))
        t.expect("lastboot-pstore-marker %s stage%d" % (mark, writer) in text,
                 "kernel %d: record lacks kernel %d's marker" % (s, writer))
        t.expect("Starting new kernel" in lines[-1], "kernel %d: record ends with %r" % (s, lines[-1]))
        t.expect("zlib_inflate" not in b.sections["stage%d-modlog" % s],
                 "kernel %d could not inflate the record" % s)
        t.figure("kernel%d_reads_%dk_record_bytes" % (s, SIZES[writer] // 1024), len(text))
    # 4 KiB compressed hold at most 4096 * 100 / 60 bytes of text: only the
    # tail of kernel 1's log, not its first line.
    rec2 = b.sections.get("stage2-file-dmesg-kho-0", "")
    t.expect(len(rec2) <= SIZES[1] * 100 // 60 and "Linux version" not in rec2,
             "kernel 1's 4 KiB record holds %d bytes of text, its start included" % len(rec2))
    # 256 KiB hold all of kernel 2's log, read by kernel 3 with a 4 KiB record size.
    rec3 = b.sections.get("stage3-file-dmesg-kho-0", "")
    t.expect("Linux version" in rec3.splitlines()[1] if rec3.count("\n") > 1 else False,
             "kernel 3 does not read kernel 2's whole log from its 256 KiB record")
    t.expect(len(rec3) > 3 * SIZES[3], "kernel 2's log (%d bytes) is not larger than what kernel 3's own "
             "buffer could inflate: the case proves nothing" % len(rec3))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
