"""pstore over kexec handover, console and pmsg frontends: kernel 1 loads
the backend with a 16 KiB console ring and a 4 KiB pmsg ring, writes three
messages to /dev/pmsg0 (the second longer than the ring, so that the ring
goes round), logs a marker and KHO-kexecs.  Kernel 2 must offer, besides
the dmesg record, kernel 1's console output as console-kho-N, the newest
8 KiB (the ring went round) up to the kexec's last line, line for line
what the serial console showed of kernel 1 (printk time stamps are not
monotonic early in boot, so the order is checked against the serial
console), and pmsg-kho-N holding exactly the newest 4 KiB of what was
written to /dev/pmsg0, oldest byte first."""

import re
import uuid

TITLE = "pstore over KHO: the console and pmsg of the previous kernel, rings put back in order"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

CONSOLE, PMSG = 8192, 4096

STEP = """
s=$(stage)
if [ "$s" -eq 1 ]; then
	modprobe pstore_kho console_size={console} pmsg_size={pmsg}
	emit pmsg-dev ls -l /dev/pmsg0
	printf 'pmsg-one {mark}\\n' >/dev/pmsg0
	seq 1 3000 | tr '\n' ' ' | head -c 6000 >/tmp/long
	cat /tmp/long >/dev/pmsg0
	printf '\\npmsg-three {mark}\\n' >/dev/pmsg0
	emit_file long /tmp/long
	echo "lastboot-pstore-marker {mark} stage1" >/dev/kmsg
	kexec_next
fi
modprobe pstore_kho
emit files ls /sys/fs/pstore
for f in /sys/fs/pstore/*; do
	[ -e "$f" ] || continue
	emit_file "file-${{f##*/}}" "$f"
done
"""

STAMP = re.compile(r"^\[\s*(\d+\.\d+)\]")


def run(t):
    mark = uuid.uuid4().hex
    g = t.guest(smp=2)
    b = g.boot(STEP.format(console=CONSOLE, pmsg=PMSG, mark=mark), "kho=on", timeout=300)
    t.require("files" in b.sections, "kernel 2 never ran its step")
    t.require(b.rc("pmsg-dev") == 0, "kernel 1 has no /dev/pmsg0: %s" % b.sections.get("pmsg-dev"))
    files = b.sections["files"].split()
    t.note("kernel 2 files: %s" % " ".join(files))
    cons = [f for f in files if f.startswith("console-kho-")]
    pmsg = [f for f in files if f.startswith("pmsg-kho-")]
    t.expect(len([f for f in files if f.startswith("dmesg-kho-")]) == 1, "no single dmesg record: %s" % files)

    if t.expect(len(cons) == 1, "kernel 2 offers no console record: %s" % files):
        text = b.sections["file-" + cons[0]]
        lines = text.splitlines()
        t.expect(len(text) == CONSOLE, "console record of %d bytes, want the full %d-byte ring" % (len(text), CONSOLE))
        t.expect("lastboot-pstore-marker %s stage1" % mark in text, "console record lacks the marker")
        t.expect(lines and "Starting new kernel" in lines[-1],
                 "console record ends with %r, not with the kexec" % (lines[-1:] or [""]))
        # Kernel 1's lines on the serial console: up to kernel 2's first.
        serial = b.console.replace("\r", "").split("Linux version")
        t.require(len(serial) >= 3, "no second kernel on the serial console")
        k1 = [l for l in ("Linux version" + serial[1]).splitlines() if STAMP.match(l)]
        body = lines[1:]    # the first line starts wherever the ring went round
        at = k1.index(body[0]) if body and body[0] in k1 else -1
        t.expect(len(body) > 50 and at >= 0 and k1[at:at + len(body)] == body,
                 "console record (%d lines) is not a run of kernel 1's serial console lines: the ring was "
                 "not put back in order" % len(body))
        t.note("console record: %d lines, from %r" % (len(lines), body[0][:60] if body else ""))
    if t.expect(len(pmsg) == 1, "kernel 2 offers no pmsg record: %s" % files):
        written = "pmsg-one %s\n%s\npmsg-three %s\n" % (mark, b.sections.get("long", ""), mark)
        got = b.sections["file-" + pmsg[0]]
        t.expect(len(b.sections.get("long", "")) == 6000, "the long pmsg message is not 6000 bytes")
        t.expect(got == written[-PMSG:], "pmsg record (%d bytes) is not the newest %d bytes written, in order"
                 % (len(got), PMSG))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    t.figure("console_chain_seconds", round(b.seconds, 1))
