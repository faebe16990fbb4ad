"""Stop point on a panic: the boot instance records the kernel log
(printk:console) besides sched/timer/irq.  The crashing boot runs with
panic=1, so that panic() goes on past its notifiers and prints
"Rebooting in 1 seconds.." before it restarts (with panic=-1 it restarts
at once and nothing after the notifiers is printed to be tested).  The
panic message, printed when panic() starts, must be in the next boot's
trace; the reboot line, which the console shows, must not: the buffer's
panic notifier stopped recording before it."""

import _common

TITLE = "a panic stops the boot instance at the panic notifier"
CASES = [("6.12", "stock"), ("6.12", "lastboot")]
REQUIRES = {("6.12", "lastboot"): "F3"}

# The later panic= overrides harness/vm.py's panic=-1.
RECORD = _common.RECORD_CMDLINE + ",printk:console panic=1"
AFTER_NOTIFIERS = "Rebooting in 1 seconds"


def run(t):
    g = t.guest(smp=2)
    crashed, _ = _common.record_and_crash(t, g, cmdline=RECORD)
    t.require(AFTER_NOTIFIERS in crashed.console,
              "the crashing kernel never printed %r: panic() did not run past its notifiers" % AFTER_NOTIFIERS)
    _, recovered = _common.read_back(t, g)
    text = recovered.text
    lines = [l.split(" console: ", 1)[1] for l in text.splitlines() if " console: " in l]
    t.note("%d kernel log lines recorded, last: %s" % (len(lines), lines[-3:]))
    t.expect(any("Kernel panic - not syncing" in l for l in lines),
             "the panic message (printed before the notifiers) is not in the trace")
    after = [l for l in lines if AFTER_NOTIFIERS in l or "end Kernel panic" in l]
    t.expect(not after, "recorded after the panic notifier: %s" % after)
