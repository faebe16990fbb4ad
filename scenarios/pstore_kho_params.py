"""pstore over kexec handover, parameter ranges: max_reason must name a kmsg
dump reason (1 panic to 4 shutdown) and parts must be 1 to 4; the module
refuses to load otherwise and says why, where it used to take any value
(a max_reason of 0 lets the kmsg_dump core fall back to its own default, a
negative one drops every dump).  The valid bounds load."""

TITLE = "pstore over KHO: max_reason and parts are range-checked"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

BAD = ["max_reason=0", "max_reason=-1", "max_reason=5", "parts=0", "parts=5"]
GOOD = ["max_reason=1", "max_reason=4", "parts=1", "parts=4"]

STEP = """
for p in %s; do
	emit "load-$p" modprobe pstore_kho $p
	emit "loaded-$p" sh -c 'grep -c "^pstore_kho " /proc/modules'
	rmmod pstore_kho 2>/dev/null || :
done
emit modlog sh -c 'dmesg | grep pstore_kho'
""" % " ".join(BAD + GOOD)


def run(t):
    g = t.guest(smp=1)
    b = g.boot(STEP, "kho=on", timeout=120)
    log = b.sections.get("modlog", "")
    for p in BAD + GOOD:
        t.require("load-" + p in b.sections, "no result for %s" % p)
        loaded = b.sections["loaded-" + p].strip() == "1"
        if p in BAD:
            t.expect(b.rc("load-" + p) != 0 and not loaded, "modprobe pstore_kho %s loaded" % p)
            name, value = p.split("=")
            t.expect(("%s=%s" % (name, value)) in log, "nothing in the log names %s" % p)
        else:
            t.expect(b.rc("load-" + p) == 0 and loaded, "modprobe pstore_kho %s failed: %s"
                     % (p, b.sections["load-" + p].strip()))
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
