"""KHO kexec chain: kernel 1 boots with kho=on and kexecs (kexec -s) into
kernel 2, which kexecs into kernel 3; each next kernel reports the handover."""

import re

TITLE = "a kexec handover chain of three kernels reports each handover"
CASES = [("7.3", "stock")]

STEP = """
s=$(stage)
emit stage$s-uname uname -r
if [ "$s" -lt 3 ]; then
	kexec_next
fi
"""


def run(t):
    g = t.guest(smp=2)
    b = g.boot(STEP, "kho=on", timeout=300)
    for s in (1, 2, 3):
        t.expect("stage%d-uname" % s in b.sections, "stage %d never ran its step" % s)
    release = b.sections.get("stage1-uname", "").strip()
    handovers = re.findall(r"KHO: exec from: (\S+) \(count (\d+)\)", b.console)
    t.note("handovers reported: %s" % handovers)
    t.expect([c for _, c in handovers] == ["1", "2"],
             "expected kernels 2 and 3 to report kexec counts 1 and 2, got %s" % handovers)
    t.expect(all(r == release for r, _ in handovers),
             "a handover names another release than %r: %s" % (release, handovers))
    t.expect(len(re.findall(r"KHO: found kexec handover data", b.console)) == 2,
             "kernels 2 and 3 should each find the handover data")
    t.figure("kexec_chain_seconds", round(b.seconds, 1))
