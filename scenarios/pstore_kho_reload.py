"""pstore over kexec handover, module unload and reload: in kernel 2 the
record kernel 1 handed over stays readable after rmmod and modprobe;
unlinking the file erases it, and it stays erased after another reload;
kernel 2's own log still reaches kernel 3 from the reloaded backend.  The
backend keeps two records (records=2), so kernel 3 would also get kernel 1's
record had the erase not been handed on."""

import uuid

TITLE = "pstore over KHO: reload keeps the incoming record, unlink erases it"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

STEP = """
s=$(stage)
F=/sys/fs/pstore/dmesg-kho-0
modprobe pstore_kho records=2
emit stage$s-files ls /sys/fs/pstore
if [ "$s" -eq 2 ]; then
	emit_file load1 $F
	rmmod pstore_kho
	emit unloaded ls /sys/fs/pstore
	modprobe pstore_kho records=2
	emit reload2-files ls /sys/fs/pstore
	emit_file load2 $F
	rm $F
	emit erased ls /sys/fs/pstore
	rmmod pstore_kho
	modprobe pstore_kho records=2
	emit reload3-files ls /sys/fs/pstore
	emit lsmod sh -c 'lsmod | grep pstore_kho'
fi
if [ "$s" -eq 3 ]; then
	emit_file stage3-record $F
fi
emit stage$s-modlog sh -c 'dmesg | grep pstore || true'
echo "lastboot-pstore-marker MARK stage$s" >/dev/kmsg
if [ "$s" -lt 3 ]; then
	kexec_next
fi
"""


def run(t):
    mark = uuid.uuid4().hex
    m1 = "lastboot-pstore-marker %s stage1" % mark
    m2 = "lastboot-pstore-marker %s stage2" % mark
    g = t.guest(smp=2)
    b = g.boot(STEP.replace("MARK", mark), "kho=on", timeout=300)
    for s in (1, 2, 3):
        t.require("stage%d-files" % s in b.sections, "stage %d never ran its step" % s)
    ls = lambda n: b.sections.get(n, "?").split()  # noqa: E731
    t.expect(ls("stage2-files") == ["dmesg-kho-0"], "kernel 2 first load: %s" % ls("stage2-files"))
    t.expect(m1 in b.sections.get("load1", ""), "first load: dmesg-kho-0 lacks kernel 1's marker")
    t.expect(ls("unloaded") == [], "files left after rmmod: %s" % ls("unloaded"))
    t.expect(ls("reload2-files") == ["dmesg-kho-0"], "after reload: %s" % ls("reload2-files"))
    t.expect(b.sections.get("load2") == b.sections.get("load1"),
             "the record read after reload differs from the first read (%d vs %d bytes)"
             % (len(b.sections.get("load2", "")), len(b.sections.get("load1", ""))))
    t.expect(ls("erased") == [], "files left after unlink: %s" % ls("erased"))
    t.expect(ls("reload3-files") == [], "an erased record came back after reload: %s" % ls("reload3-files"))
    t.expect(b.sections.get("lsmod", "").startswith("pstore_kho"), "backend not loaded after the last reload")
    rec3 = b.sections.get("stage3-record", "")
    t.expect(ls("stage3-files") == ["dmesg-kho-0"],
             "kernel 3 files: %s (kernel 1's erased record must not be handed on)" % ls("stage3-files"))
    t.expect(m2 in rec3, "kernel 3's record lacks kernel 2's marker")
    t.expect(m1 not in rec3, "kernel 3's record holds kernel 1's marker")
    regs = [l for l in b.sections.get("stage2-modlog", "").splitlines() if "Registered kho" in l]
    t.expect(len(regs) == 3, "kernel 2 registered the backend %d times, want 3" % len(regs))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    t.note("kernel 2: record read, unloaded, reloaded (same %d bytes), erased, reloaded (still erased); "
           "kernel 3 got kernel 2's log from the reloaded backend" % len(b.sections.get("load1", "")))
