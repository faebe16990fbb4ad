"""pstore over kexec handover, erase and module reload.  The backend keeps
two kernels' records (records=2).  Kernel 2 reads the record kernel 1
handed over and unlinks it: kernel 3 must then get kernel 2's record alone,
since an erased record is not handed on.  Kernel 3 unloads and reloads the
module: the first load took the handed-over memory over and gave it back,
so the reload must say the records were taken by an earlier load, offer
none and not restore the memory a second time (which KHO would answer with
a WARN); kernel 3's own log must still reach kernel 4 from the reloaded
backend."""

import uuid

TITLE = "pstore over KHO: unlink erases a record for good, a reload does not take the memory twice"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

STEP = """
s=$(stage)
F=/sys/fs/pstore/dmesg-kho-0
modprobe pstore_kho records=2
emit stage$s-files ls /sys/fs/pstore
[ ! -e $F ] || emit_file stage$s-record $F
if [ "$s" -eq 2 ]; then
	rm $F
	emit erased ls /sys/fs/pstore
fi
if [ "$s" -eq 3 ]; then
	rmmod pstore_kho
	emit unloaded ls /sys/fs/pstore
	modprobe pstore_kho records=2
	emit reload-files ls /sys/fs/pstore
	emit lsmod sh -c 'grep "^pstore_kho " /proc/modules'
fi
emit stage$s-modlog sh -c 'dmesg | grep pstore || true'
echo "lastboot-pstore-marker MARK stage$s" >/dev/kmsg
if [ "$s" -lt 4 ]; then
	kexec_next
fi
"""


def run(t):
    mark = uuid.uuid4().hex
    m = {s: "lastboot-pstore-marker %s stage%d" % (mark, s) for s in (1, 2, 3)}
    g = t.guest(smp=2)
    b = g.boot(STEP.replace("MARK", mark), "kho=on", timeout=300)
    for s in (1, 2, 3, 4):
        t.require("stage%d-files" % s in b.sections, "stage %d never ran its step" % s)
    ls = lambda n: b.sections.get(n, "?").split()  # noqa: E731
    rec = lambda s: b.sections.get("stage%d-record" % s, "")  # noqa: E731
    t.expect(ls("stage2-files") == ["dmesg-kho-0"], "kernel 2: %s" % ls("stage2-files"))
    t.expect(m[1] in rec(2), "kernel 2: dmesg-kho-0 lacks kernel 1's marker")
    t.expect(ls("erased") == [], "kernel 2: files left after unlink: %s" % ls("erased"))
    t.expect(ls("stage3-files") == ["dmesg-kho-0"],
             "kernel 3 files: %s (kernel 1's erased record must not be handed on)" % ls("stage3-files"))
    t.expect(m[2] in rec(3) and m[1] not in rec(3), "kernel 3's record is not kernel 2's log alone")
    t.expect(ls("unloaded") == [], "kernel 3: files left after rmmod: %s" % ls("unloaded"))
    t.expect(ls("reload-files") == [], "kernel 3: records offered again after reload: %s" % ls("reload-files"))
    log3 = b.sections.get("stage3-modlog", "")
    t.expect(log3.count("taken by an earlier load of this module") == 1,
             "kernel 3: the reload does not say the records were taken")
    t.expect(log3.count("Registered kho") == 2, "kernel 3 registered the backend %d times, want 2"
             % log3.count("Registered kho"))
    t.expect(b.sections.get("lsmod", "").startswith("pstore_kho"), "kernel 3: backend not loaded after reload")
    t.expect(ls("stage4-files") == ["dmesg-kho-0"], "kernel 4 files: %s" % ls("stage4-files"))
    t.expect(m[3] in rec(4) and m[2] not in rec(4), "kernel 4's record is not kernel 3's log alone")
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    t.figure("reload_chain_seconds", round(b.seconds, 1))
