"""pstore over kexec handover: a chain of three kernels, each writing a
unique marker to its log before it KHO-kexecs into the next; each next
kernel offers the previous kernel's log as /sys/fs/pstore/dmesg-kho-0.

On the lastboot kernel three chains run on the same kernel: the backend with
its defaults (one record: only the previous kernel's log), the backend with
records=3 (the previous kernels' logs, newest first), and no backend loaded
(control, and the time a chain takes without it).  On stock 7.3 there is no
such backend: nothing comes through."""

import re
import uuid

TITLE = "pstore keeps the kernel log across a chain of KHO kexecs"
CASES = [("7.3", "lastboot"), ("7.3", "stock")]
REQUIRES = {("7.3", "lastboot"): "F6"}

# {load}: how the backend is loaded (or not); {mark}: unique per chain.
# Every kernel reports what its pstore offers, then logs its marker and
# kexecs; the marker line is the last thing the step logs before kexec.
STEP = """
s=$(stage)
{load}
pstore_emit_files $s
emit stage$s-modlog sh -c 'dmesg | grep -i "pstore" || true'
echo "lastboot-pstore-marker {mark} stage$s" >/dev/kmsg
if [ "$s" -lt 3 ]; then
	kexec_next
fi
"""

LOAD_DEFAULT = "modprobe pstore_kho"
LOAD_RECORDS3 = "modprobe pstore_kho records=3"
# Stock 7.3 has no such module: the chain runs, nothing is kept.
LOAD_STOCK = "modprobe pstore_kho 2>/dev/null && echo loaded || echo 'no pstore_kho module'"


def marker(mark, s):
    return "lastboot-pstore-marker %s stage%d" % (mark, s)


def files(b, s):
    return b.sections.get("stage%d-files" % s, "").split()


def chain(t, load):
    mark = uuid.uuid4().hex
    g = t.guest(smp=2)
    b = g.boot(STEP.format(load=load, mark=mark), "kho=on", timeout=300)
    for s in (1, 2, 3):
        t.require("stage%d-files" % s in b.sections, "stage %d never ran its step" % s)
    return b, mark


def check_record(t, b, mark, s, name, writer, absent=(), label=""):
    """Kernel s offers file `name` holding kernel `writer`'s log up to its
    kexec, and none of the markers of the kernels in `absent`."""
    text = b.sections.get("stage%d-file-%s" % (s, name))
    if not t.expect(text is not None, "kernel %d offers no %s (files: %s)" % (s, name, files(b, s))):
        return
    lines = text.splitlines()
    t.expect(lines[0].startswith("Shutdown#"),
             "kernel %d %s: first line %r is not the pstore header of a shutdown dump" % (s, name, lines[0]))
    t.expect(marker(mark, writer) in text,
             "kernel %d %s lacks kernel %d's marker" % (s, name, writer))
    for other in absent:
        t.expect(marker(mark, other) not in text,
                 "kernel %d %s holds kernel %d's marker too" % (s, name, other))
    # Up to the kexec: the marker is followed by kexec's own last line, and
    # the record ends there (nothing the next kernel logged).
    m = [i for i, l in enumerate(lines) if marker(mark, writer) in l]
    k = [i for i, l in enumerate(lines) if "Starting new kernel" in l]
    t.expect(m and k and m[-1] < k[-1],
             "kernel %d %s: no 'Starting new kernel' after the marker of kernel %d" % (s, name, writer))
    t.expect(bool(k) and k[-1] >= len(lines) - 3,
             "kernel %d %s goes on %d lines past 'Starting new kernel'"
             % (s, name, len(lines) - 1 - (k[-1] if k else 0)))
    t.note("%skernel %d %s: %d lines of kernel %d's log, last: %s"
           % (label, s, name, len(lines), writer, lines[-1].strip()[:100]))


def run(t):
    if t.flavour == "stock":
        b, mark = chain(t, LOAD_STOCK)
        for s in (1, 2, 3):
            t.expect(files(b, s) == [], "stock kernel %d offers pstore files: %s" % (s, files(b, s)))
        t.note("stock 7.3: no record after a KHO kexec (no pstore_kho backend)")
        t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
        t.figure("kexec_chain_seconds", round(b.seconds, 1))
        return

    # Defaults: one record, the previous kernel's log.
    b, mark = chain(t, LOAD_DEFAULT)
    t.expect(files(b, 1) == [], "kernel 1 (cold boot) offers pstore files: %s" % files(b, 1))
    t.expect(files(b, 2) == ["dmesg-kho-0"], "kernel 2 files: %s" % files(b, 2))
    t.expect(files(b, 3) == ["dmesg-kho-0"], "kernel 3 files: %s" % files(b, 3))
    check_record(t, b, mark, 2, "dmesg-kho-0", 1)
    # records=1 keeps one record: kernel 2's log, which never saw kernel 1's marker.
    check_record(t, b, mark, 3, "dmesg-kho-0", 2, absent=(1,))
    received = b.dmesg_lines(r"pstore_kho: \d+ record\(s\) received from the previous kernel")
    t.expect(len(received) == 2, "expected kernels 2 and 3 to each report one received record, got %s" % received)
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    with_backend = b.seconds

    # records=3: kernel 2 passes kernel 1's record on with its own.
    b3, mark3 = chain(t, LOAD_RECORDS3)
    t.expect(files(b3, 2) == ["dmesg-kho-0"], "records=3, kernel 2 files: %s" % files(b3, 2))
    t.expect(files(b3, 3) == ["dmesg-kho-0", "dmesg-kho-1"], "records=3, kernel 3 files: %s" % files(b3, 3))
    check_record(t, b3, mark3, 3, "dmesg-kho-0", 2, absent=(1,), label="records=3: ")
    check_record(t, b3, mark3, 3, "dmesg-kho-1", 1, absent=(2,), label="records=3: ")
    t.expect(not b3.complaints(), "kernel complaints (records=3): %s" % b3.complaints()[:5])

    # Control: same kernel, kho=on, backend not loaded.
    bn, _ = chain(t, "true")
    for s in (1, 2, 3):
        t.expect(files(bn, s) == [], "without the backend kernel %d offers files: %s" % (s, files(bn, s)))
    t.expect(not bn.complaints(), "kernel complaints (no backend): %s" % bn.complaints()[:5])

    t.figure("kexec_chain_seconds", round(with_backend, 1))
    t.figure("kexec_chain_seconds_records3", round(b3.seconds, 1))
    t.figure("kexec_chain_seconds_no_backend", round(bn.seconds, 1))
    t.figure("kexec_chain_added_seconds_per_kexec", round((with_backend - bn.seconds) / 2, 2))
    sizes = [len(b.sections.get("stage%d-file-dmesg-kho-0" % s, "")) for s in (2, 3)]
    t.figure("record_bytes_kernel2_kernel3", "%d %d" % tuple(sizes))
    for l in b.dmesg_lines(r"pstore"):
        if re.search(r"pstore_kho|Registered kho", l):
            t.note("console: " + l.strip()[:120])
