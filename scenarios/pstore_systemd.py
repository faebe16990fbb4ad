"""pstore over kexec handover, archived by systemd-pstore, the tool
distributions run at boot to move /sys/fs/pstore to disk: kernel 1 has the
backend with console and pmsg rings (parameters on the command line),
writes a marker to /dev/kmsg and another to /dev/pmsg0 and KHO-kexecs.
Kernel 2 lists /sys/fs/pstore (the dmesg, console and pmsg records of
kernel 1), runs Debian 12's own /lib/systemd/systemd-pstore (packed into
the guest by scripts/build-initramfs.sh) with its defaults, Storage=external
and Unlink=yes, then lists /sys/fs/pstore again and the archive,
/var/lib/systemd/pstore.  Each record must have left pstore (systemd-pstore
unlinks it: the backend's erase) and be in the archive with the contents
pstore offered, the kmsg marker in the archived dmesg and console records
and the pmsg marker in the archived pmsg record, as with ramoops and
efi-pstore.

It runs on the debug variant (KASAN + UBSAN, the backend built in): that
build has the Unix domain sockets systemd-pstore needs (it sends each
record to the journal's socket first and archives nothing when socket()
fails; series/7.3/config.debug), and the erases it drives run under the
sanitizers."""

import uuid

import _common

TITLE = "pstore over KHO: systemd-pstore archives the previous kernel's records and empties pstore"
CASES = [("7.3", "lastboot", "debug")]
REQUIRES = {("7.3", "lastboot"): "F6"}

ARCHIVE = "/var/lib/systemd/pstore"
P = "/sys/module/pstore_kho"
# The rings' sizes reach a built-in backend (or a module, through
# modprobe) from the command line, which kexec_next passes on.
CMDLINE = "kho=on %s pstore_kho.console_size=16384 pstore_kho.pmsg_size=4096" % _common.KHO_SCRATCH_KASAN

STEP = """
s=$(stage)
[ -d {p} ] || modprobe pstore_kho
if [ "$s" -eq 1 ]; then
	emit pmsg-dev ls -l /dev/pmsg0
	echo "lastboot-pmsg-marker {mark}" >/dev/pmsg0
	echo "lastboot-pstore-marker {mark} stage1" >/dev/kmsg
	kexec_next
fi
pstore_emit_files 2
emit systemd-pstore systemd_pstore
emit after ls /sys/fs/pstore
emit archive sh -c 'cd {archive} && find . -type f | sort'
for f in $(cd {archive} 2>/dev/null && find . -type f); do
	emit_file "archived-${{f#./}}" "{archive}/$f"
done
emit modlog sh -c 'dmesg | grep pstore || true'
"""


def run(t):
    mark = uuid.uuid4().hex
    b = t.guest(smp=2).boot(STEP.format(mark=mark, archive=ARCHIVE, p=P), CMDLINE, timeout=300)
    t.require(b.rc("pmsg-dev") == 0, "kernel 1 has no /dev/pmsg0: %s" % b.sections.get("pmsg-dev"))
    t.require("stage2-files" in b.sections, "kernel 2 never ran its step")
    before = b.sections["stage2-files"].split()
    t.note("kernel 2, /sys/fs/pstore before systemd-pstore: %s" % " ".join(before))
    kinds = {k: [f for f in before if f.startswith(k + "-kho-")] for k in ("dmesg", "console", "pmsg")}
    for k, names in kinds.items():
        t.expect(len(names) == 1, "kernel 2 offers %d %s records before systemd-pstore: %s" % (len(names), k, before))
    t.require(before, "nothing in pstore for systemd-pstore to archive")

    log = b.sections.get("systemd-pstore", "")
    t.note("systemd-pstore (rc %s): %s" % (b.rc("systemd-pstore"), " | ".join(log.splitlines()[:10])))
    t.expect(b.rc("systemd-pstore") == 0, "systemd-pstore failed: rc %s" % b.rc("systemd-pstore"))

    after = b.sections.get("after", "").split()
    left = [f for f in before if f in after]
    t.expect(not left, "still in /sys/fs/pstore after systemd-pstore: %s" % left)
    t.expect(b.rc("after") == 0, "/sys/fs/pstore unreadable after systemd-pstore")

    if b.rc("archive") == 0:
        archived = b.sections["archive"].split()
        t.note("archive %s: %s" % (ARCHIVE, " ".join(a[2:] for a in archived)))
    else:
        archived = []
        t.note("no archive: %s" % b.sections.get("archive", "").strip())
    by_name = {}
    for a in archived:
        by_name.setdefault(a.rsplit("/", 1)[-1], []).append(a[2:])
    for f in before:
        got = by_name.get(f, [])
        if t.expect(len(got) == 1, "%s not archived by systemd-pstore (archive: %s)" % (f, archived)):
            t.expect(b.sections.get("archived-" + got[0]) == b.sections["stage2-file-" + f],
                     "archived %s differs from what pstore offered" % got[0])

    def archived_text(kind):
        names = kinds[kind]
        return b.sections.get("archived-" + by_name.get(names[0], [""])[0], "") if names else ""
    t.expect("lastboot-pstore-marker %s stage1" % mark in archived_text("dmesg"),
             "the archived dmesg record lacks kernel 1's marker")
    t.expect("lastboot-pmsg-marker %s" % mark in archived_text("pmsg"),
             "the archived pmsg record lacks kernel 1's pmsg marker")
    t.expect("lastboot-pstore-marker %s stage1" % mark in archived_text("console"),
             "the archived console record lacks kernel 1's marker")
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    t.figure("systemd_pstore_chain_seconds", round(b.seconds, 1))
