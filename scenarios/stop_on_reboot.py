"""Stop points of a boot-mapped buffer on the ways down that are not a
panic: `reboot -f`, and a kexec into the next kernel.  The boot instance
records the kernel log (printk:console) besides sched/timer/irq; a marker
written to /dev/kmsg right before going down must be in the next boot's
trace, and the kernel's own last words, printed after system core
shutdown ("Restarting system", "Starting new kernel"), must not: recording
stopped there.  The stop comes after the devices are shut down (a device
that hangs there must be in the trace): with initcall_debug, the kernel
logs each device's "shutdown" and each system core shutdown call, and
lastboot's trace must hold the devices' lines and end at the call to the
ring buffer's own.  Stock 6.12 has no stop on these paths and records
everything."""

import re

import _common
import tracefile

TITLE = "reboot -f and kexec stop the boot instance: events up to the stop point, none after"
CASES = [("6.12", "stock"), ("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F4"}

RECORD = _common.RECORD_CMDLINE + ",printk:console initcall_debug"
MARKER = "lastboot-marker: going down now"

DOWN_STEP = """
if [ "$(stage)" = 1 ]; then
	workload 30 &
	sleep 2
	echo "{marker}" > /dev/kmsg
	{down}
else
	emit_file recovered $T/instances/boot_map/trace
fi
"""
# The kexec'd kernel maps the same region but records nothing into it
# (the events after the first comma go).  reserve_mem= would not do here:
# kexec puts the next kernel's segments high in memory, where reserve_mem
# found its region, so the next kernel reserves another one; a memmap=
# range stays where it is.
KEXEC = ("NEXT_CMDLINE=$(sed 's/ *lastboot\\.stage=[0-9]*//; "
         "s/\\(trace_instance=[^,]*\\),[^ ]*/\\1/' /proc/cmdline) kexec_next")
KEXEC_RECORD = ("memmap=8M$0x20000000 trace_instance=boot_map@0x20000000:8M,sched,timer,irq,printk:console"
                " initcall_debug")
# device_shutdown() with initcall_debug: "<driver> <device>: shutdown".
DEVICE_SHUTDOWN = re.compile(r" console: \S+ \S+: shutdown$")
STOP_CALL = "PM: Calling rb_shutdown_buffer_cb"


def console_lines(trace_text):
    return [l for l in trace_text.splitlines() if " console: " in l]


def check(t, how, text, last_words):
    recovered = tracefile.Trace(text)
    lines = console_lines(text)
    t.note("%s: %d events back, %d kernel log lines, last: %s"
           % (how, recovered.count(), len(lines), [l.split(" console: ", 1)[1] for l in lines[-2:]]))
    t.figure(how + "_events_back", recovered.count())
    t.require(recovered.count() > 0, "%s: the next boot shows no event of the boot that went down" % how)
    t.expect(any(MARKER in l for l in lines),
             "%s: the marker written right before going down is not in the trace" % how)
    after = [l for l in lines if last_words in l]
    if t.flavour == "stock":
        t.expect(bool(after), "%s: stock 6.12 did not record %r (does it stop on this path now?)"
                 % (how, last_words))
    else:
        t.expect(not after, "%s: recorded after the stop point: %s" % (how, after[:2]))
    devices = [l for l in lines if DEVICE_SHUTDOWN.search(l)]
    t.figure(how + "_device_shutdown_lines", len(devices))
    t.expect(bool(devices), "%s: no device's shutdown is in the trace: recording stopped before "
             "device_shutdown()" % how)
    if t.flavour == "lastboot":
        t.expect(bool(lines) and STOP_CALL in lines[-1],
                 "%s: the kernel log in the trace does not end at the ring buffer's system core "
                 "shutdown call; it ends with %r" % (how, lines[-1:]))
    for cpu in range(2):
        t.expect(recovered.count(cpu) > 0, "%s: CPU %d shows no event" % (how, cpu))


def run(t):
    g = t.guest(smp=2)
    g.boot(DOWN_STEP.format(marker=MARKER, down="reboot -f"), RECORD, expect="reboot", timeout=180)
    b = g.boot(_common.READ_STEP, _common.READ_CMDLINE, timeout=180)
    check(t, "reboot", b.section("recovered"), "Restarting system")

    g = t.guest(smp=2)
    b = g.boot(DOWN_STEP.format(marker=MARKER, down=KEXEC), KEXEC_RECORD, timeout=240)
    check(t, "kexec", b.section("recovered"), "Starting new kernel")
