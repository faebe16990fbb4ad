"""Stop point on a panic: the boot instance records the kernel log
(printk:console) besides sched/timer/irq.  The panic message, printed when
panic() starts, must be in the next boot's trace; its closing line, printed
after the panic notifiers ran, must not: the buffer's panic notifier
stopped recording before it."""

import _common

TITLE = "a panic stops the boot instance at the panic notifier"
CASES = [("6.12", "stock"), ("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F4"}

RECORD = _common.RECORD_CMDLINE + ",printk:console"


def run(t):
    g = t.guest(smp=2)
    _common.record_and_crash(t, g, cmdline=RECORD)
    _, recovered = _common.read_back(t, g)
    text = recovered.text
    lines = [l.split(" console: ", 1)[1] for l in text.splitlines() if " console: " in l]
    t.note("%d kernel log lines recorded, last: %s" % (len(lines), lines[-3:]))
    t.expect(any("Kernel panic - not syncing" in l for l in lines),
             "the panic message (printed before the notifiers) is not in the trace")
    after = [l for l in lines if "end Kernel panic" in l]
    t.expect(not after, "recorded after the panic notifier: %s" % after)
