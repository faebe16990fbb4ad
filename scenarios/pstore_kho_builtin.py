"""pstore over kexec handover with the backend built in
(CONFIG_PSTORE_KHO=y), through a KHO kexec chain of four kernels: kernel 1
(cold boot) registers the backend on its own and hands its log over;
kernel 2 offers it and, with the test switch test_bad_version set at run
time, hands over a root it must not trust; kernel 3 rejects it with one
line, restores nothing (no WARN from KHO) and still hands its own log to
kernel 4.  Two more boots: without kho=on and nothing received, the
built-in backend stays out of pstore's single backend slot; with ramoops
holding the slot (a RAM region set aside with memmap=), the backend steps
aside, and pstore.backend=kho gives it the slot instead.

It runs on the 7.3 debug variant (KASAN + UBSAN), the build where the
harness has the backend built in (series/7.3/config.debug; the normal
variant keeps it a module for the reload scenario), so no sanitizer report
is allowed either.  A kernel under test with the backend as a module fails
the case: it must never pass without booting the built-in backend."""

import os
import uuid

import _common

TITLE = "pstore over KHO: the built-in backend through a kexec chain, and pstore's backend slot"
CASES = [("7.3", "lastboot", "debug")]
REQUIRES = {("7.3", "lastboot"): "F6"}

P = "/sys/module/pstore_kho/parameters"
BAD = "pstore_kho: ignoring malformed handover from the previous kernel: "
RAMOOPS = "memmap=1M$0x3f000000 ramoops.mem_address=0x3f000000 ramoops.mem_size=0x100000"
KHO = "kho=on " + _common.KHO_SCRATCH_KASAN

CHAIN = """
s=$(stage)
emit stage$s-builtin sh -c '[ -d {p} ] && ! grep "^pstore_kho " /proc/modules && cat /sys/module/pstore/parameters/backend'
pstore_emit_files $s
emit stage$s-modlog sh -c 'dmesg | grep pstore || true'
[ "$s" -ne 2 ] || echo 1 >{p}/test_bad_version
echo "lastboot-pstore-marker {mark} stage$s" >/dev/kmsg
if [ "$s" -lt 4 ]; then
	kexec_next
fi
"""

SLOT = """
emit backend cat /sys/module/pstore/parameters/backend
emit modlog sh -c 'dmesg | grep pstore || true'
"""


def builtin(t):
    try:
        with open(os.path.join(t.builddir, ".config")) as f:
            return "CONFIG_PSTORE_KHO=y\n" in f.read()
    except OSError:
        return False


def run(t):
    t.require(builtin(t), "the kernel under test (%s) has no CONFIG_PSTORE_KHO=y: the built-in backend "
              "cannot be booted (series/7.3/config.debug sets it for this variant)" % t.builddir)
    mark = uuid.uuid4().hex
    g = t.guest(smp=2)
    b = g.boot(CHAIN.format(p=P, mark=mark), KHO, timeout=480)
    for s in (1, 2, 3, 4):
        t.require("stage%d-files" % s in b.sections, "stage %d never ran its step" % s)
        t.expect(b.rc("stage%d-builtin" % s) == 0 and b.sections["stage%d-builtin" % s].strip() == "kho",
                 "kernel %d: backend not built in or not registered: %r" % (s, b.sections["stage%d-builtin" % s]))
    files = lambda s: b.sections["stage%d-files" % s].split()  # noqa: E731
    rec = lambda s: b.sections.get("stage%d-file-dmesg-kho-0" % s, "")  # noqa: E731
    t.expect(files(1) == [], "kernel 1 (cold boot) offers files: %s" % files(1))
    t.expect(files(2) == ["dmesg-kho-0"] and "lastboot-pstore-marker %s stage1" % mark in rec(2),
             "kernel 2 does not offer kernel 1's log: %s" % files(2))
    bad = [l for l in b.sections["stage3-modlog"].splitlines() if BAD in l]
    t.expect(len(bad) == 1 and "unsupported version" in bad[0], "kernel 3: rejection lines %s" % bad)
    t.expect(files(3) == [], "kernel 3 offers files after a rejected handover: %s" % files(3))
    t.expect(files(4) == ["dmesg-kho-0"] and "lastboot-pstore-marker %s stage3" % mark in rec(4),
             "kernel 4 does not offer kernel 3's log: %s" % files(4))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    t.figure("builtin_chain_seconds", round(b.seconds, 1))

    # No KHO, nothing received: the slot stays free.
    b = t.guest(smp=1).boot(SLOT, "", timeout=180)
    t.expect(b.sections.get("backend", "?").strip() in ("", "(null)"),
             "without KHO the built-in backend took the slot: %r" % b.sections.get("backend"))
    t.expect("Registered kho" not in b.sections.get("modlog", ""), "without KHO: kho registered")
    t.expect(not b.complaints(), "kernel complaints without KHO: %s" % b.complaints()[:5])

    # ramoops (postcore) holds the slot: the backend steps aside ...
    b = t.guest(smp=1).boot(SLOT, KHO + " " + RAMOOPS, timeout=180)
    t.expect(b.sections.get("backend", "").strip() == "ramoops",
             "with ramoops: backend %r" % b.sections.get("backend"))
    t.expect("pstore.backend=kho gives this backend precedence" in b.sections.get("modlog", ""),
             "with ramoops: the backend does not say how to get the slot")
    t.expect(not b.complaints(), "kernel complaints with ramoops: %s" % b.complaints()[:5])
    # ... unless pstore.backend=kho.
    b = t.guest(smp=1).boot(SLOT, KHO + " pstore.backend=kho " + RAMOOPS, timeout=180)
    t.expect(b.sections.get("backend", "").strip() == "kho",
             "with pstore.backend=kho: backend %r" % b.sections.get("backend"))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
