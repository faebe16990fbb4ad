"""kdump: a crash kernel takes over before the panic notifiers run.

The first kernel loads a crash kernel (kexec -p, into crashkernel= memory),
records sched/timer/irq events into a reserve_mem boot instance, takes a
snapshot, and panics: panic() jumps to the crash kernel before its
notifiers, so nothing stops or flushes the instance, and its recorded
head is what the writers left. The crash kernel (same image, no trace
instance) comes up and reboots warm; the boot after it reads the
instance: every event of the snapshot must come back, and none that was
never recorded (nothing of the crash kernel mixed in)."""

import _common

TITLE = "a crash that jumps to a kdump kernel keeps the trace for the boot after it"
CASES = [("6.12", "stock"), ("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F8"}

# Both normal boots reserve the crash kernel's memory, as a machine set up
# for kdump does. It is taken before reserve_mem, from the top of memory
# unless KASLR put the kernel there: the smaller it is against the RAM,
# the less often the region moves between the boots (vm.RegionMoved).
CRASHKERNEL = " crashkernel=96M"
CRASH_CMDLINE = _common.RECORD_CMDLINE + CRASHKERNEL
# The crash kernel runs the same step script (fw_cfg); its stage says which
# part is its own. It maps no trace instance: it must leave the region alone.
STEP = """
if [ "$(stage)" = 2 ]; then
	echo "lastboot-guest: crash kernel up"
	emit crash_kernel_cmdline cat /proc/cmdline
	data_flush
	reboot -f
	sleep 10
fi
(cd / && find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \\) -prune -o -print |
	cpio -o -H newc >/tmp/initrd 2>/dev/null)
kexec -s -p /boot/bzImage --initrd=/tmp/initrd \\
	--command-line="console=ttyS0 panic=-1 loglevel=7 printk.time=1 nr_cpus=1 reset_devices lastboot.stage=2"
rm -f /tmp/initrd
echo "lastboot-guest: crash kernel loaded: $(cat /sys/kernel/kexec_crash_loaded)"
""" + _common.RECORD_STEP.format(seconds=2)


def run(t):
    g = t.guest(smp=2, mem_mb=2048)
    b = g.boot(STEP, CRASH_CMDLINE, expect="kdump", timeout=240)
    t.require("lastboot-guest: crash kernel loaded: 1" in b.console, "the crash kernel did not load")
    t.require("lastboot-guest: crash kernel up" in b.console, "the crash kernel never came up")
    recorded = _common.tracefile.Trace(b.section("recorded"))
    t.require(recorded.count() > 0, "nothing was recorded before the crash")
    boot, recovered = _common.read_back(t, g, _common.READ_CMDLINE + CRASHKERNEL)
    cmp = _common.report(t, recorded, recovered)
    t.expect(bool(boot.dmesg_lines(r"Ring buffer meta \[0\] is from previous boot")),
             "the boot after the crash kernel did not take the region as the previous boot's")
    for cpu, c in cmp.items():
        t.expect(c["invented"] == 0, "CPU %d shows %d events that were never recorded" % (cpu, c["invented"]))
        if t.flavour == "lastboot":
            t.expect(c["missing"] == 0, "CPU %d: %d of %d recorded events are missing"
                     % (cpu, c["missing"], c["recorded"]))
