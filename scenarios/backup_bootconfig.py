"""A backup instance ignores boot-time tracing (bootconfig): record into a
boot instance, crash, warm-reboot with two backups of it, `backup` and
`plain_backup`, and a bootconfig that gives `backup` a tracer, a buffer
size, an option, tracing_on and an event.  Every one of them would change
or erase what the backup holds.  The boot log must say once that the
settings of `backup` are ignored, `backup` must look like `plain_backup`
(same files, tracer, buffer size) and both must show every
event recorded before the crash."""

import os
import struct

import _common
import tracefile

TITLE = "bootconfig cannot set a tracer, options or tracing_on on a backup instance"
CASES = [("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F5"}

BOOTCONFIG = """\
ftrace.instance.backup {
	tracer = function
	tracing_on = 1
	buffer_size = 64KB
	options = "nooverwrite"
	event.sched.sched_switch.enable
}
"""
MAGIC = b"#BOOTCONFIG\n"
IGNORED = r"Instance backup is a read-only backup: its settings are ignored"
CMDLINE = (_common.RESERVE + " trace_instance=boot_map@trace"
           " trace_instance=backup=boot_map trace_instance=plain_backup=boot_map bootconfig")

# A backup offers only files that cannot change it (no current_tracer,
# tracing_on, options/): what shows its tracer is the header of `trace`.
STEP = """
for i in backup plain_backup; do
	emit files_$i ls $T/instances/$i
	emit_file trace_$i $T/instances/$i/trace
	emit buffer_size_kb_$i cat $T/instances/$i/buffer_total_size_kb
done
"""


def with_bootconfig(initrd, text, out):
    """`initrd` with `text` appended as the kernel reads a bootconfig:
    data (NUL-terminated, padded to 4 bytes), size, checksum, magic."""
    with open(initrd, "rb") as f:
        image = f.read()
    data = text.encode() + b"\0"
    data += b"\0" * (-(len(image) + len(data)) % 4)
    with open(out, "wb") as f:
        f.write(image + data + struct.pack("<II", len(data), sum(data) & 0xffffffff) + MAGIC)
    return out


def run(t):
    g = t.guest(smp=2)
    _, recorded = _common.record_and_crash(t, g)
    plain_initrd = g.initrd
    g.initrd = with_bootconfig(plain_initrd, BOOTCONFIG, os.path.join(g.workdir, "initrd.bootconfig"))
    b = g.boot(STEP, CMDLINE, timeout=180)
    g.initrd = plain_initrd

    t.require(b.dmesg_lines(r"Load bootconfig: \d+ bytes"), "the kernel did not load the bootconfig")
    said = b.dmesg_lines(IGNORED)
    t.expect(len(said) == 1, "the boot log says %d times that the backup's settings are ignored, "
             "want once: %s" % (len(said), said))
    for what, section in (("files", lambda i: b.section("files_" + i)),
                          ("buffer size", lambda i: b.section("buffer_size_kb_" + i)),
                          ("tracer", lambda i: [l for l in b.section("trace_" + i).splitlines()
                                                if l.startswith("# tracer:")])):
        mine, plain = section("backup"), section("plain_backup")
        t.expect(mine == plain, "the bootconfig changed the backup's %s: %r, %r without it"
                 % (what, str(mine)[:300], str(plain)[:300]))
    for name in ("backup", "plain_backup"):
        got = tracefile.Trace(b.section("trace_" + name))
        cmp = _common.report(t, recorded, got, prefix=name + "_")
        for cpu, c in cmp.items():
            t.expect(c["missing"] == 0 and c["invented"] == 0,
                     "%s, CPU %d: %d of %d recorded events missing, %d never recorded"
                     % (name, cpu, c["missing"], c["recorded"], c["invented"]))
