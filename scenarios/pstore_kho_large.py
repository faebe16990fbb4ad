"""pstore over kexec handover with the largest record size, 2 MiB: kernel 1
keeps its slots (two classes, one part each: 4 MiB) in a vmalloc area of
order-0 pages preserved by KHO, not in one physically contiguous order-10
block, which a long-running machine often cannot allocate; the area shows
in /proc/vmallocinfo (an area allocated from the module's code: the
guest's modules carry no symbols, so the caller shows as an address).  Kernel 2 reads kernel 1's record and, with its
buffer grown to read it, hands its own on to kernel 3."""

import re
import uuid

TITLE = "pstore over KHO: 2 MiB records handed over from order-0 pages"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

SIZE = 2 << 20

STEP = """
s=$(stage)
case $s in
1) modprobe pstore_kho record_size=%d parts=1 ;;
*) modprobe pstore_kho ;;
esac
emit stage$s-vmalloc cat /proc/vmallocinfo
emit stage$s-module grep "^pstore_kho " /proc/modules
pstore_emit_files $s
emit stage$s-modlog sh -c 'dmesg | grep pstore || true'
echo "lastboot-pstore-marker MARK stage$s" >/dev/kmsg
if [ "$s" -lt 3 ]; then
	kexec_next
fi
""" % SIZE


def run(t):
    mark = uuid.uuid4().hex
    g = t.guest(smp=2)
    b = g.boot(STEP.replace("MARK", mark), "kho=on", timeout=300)
    for s in (1, 2, 3):
        t.require("stage%d-files" % s in b.sections, "stage %d never ran its step" % s)
    mod = b.sections["stage1-module"].split()
    base, size = int(mod[5], 16), int(mod[1])
    areas = []
    for l in b.sections["stage1-vmalloc"].splitlines():
        f = l.split()
        if len(f) > 2 and f[2].startswith("0x") and base <= int(f[2], 16) < base + size:
            areas.append(f)
    big = [a for a in areas if int(a[1]) >= 2 * SIZE]
    t.note("kernel 1 vmalloc areas of the backend: %s" % [" ".join(a[1:]) for a in areas])
    if t.expect(len(big) == 1, "kernel 1: no vmalloc area of at least 4 MiB for the slots: %s" % areas):
        pages = [int(x[6:]) for x in big[0] if x.startswith("pages=")]
        t.expect(pages and pages[0] * 4096 >= 2 * SIZE and "vmalloc" in big[0],
                 "kernel 1: the slot area is not a page-backed vmalloc area: %s" % big[0])
    for s, writer in ((2, 1), (3, 2)):
        text = b.sections.get("stage%d-file-dmesg-kho-0" % s, "")
        t.expect(b.sections["stage%d-files" % s].split() == ["dmesg-kho-0"],
                 "kernel %d files: %s" % (s, b.sections["stage%d-files" % s].split()))
        t.expect("lastboot-pstore-marker %s stage%d" % (mark, writer) in text,
                 "kernel %d: no record with kernel %d's marker" % (s, writer))
        t.expect(re.search(r"Starting new kernel\s*$", text) is not None,
                 "kernel %d: the record does not end at kernel %d's kexec" % (s, writer))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    t.figure("large_record_chain_seconds", round(b.seconds, 1))
