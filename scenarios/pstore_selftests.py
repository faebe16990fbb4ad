"""The kernel's own pstore selftests (tools/testing/selftests/pstore of the
7.3 tree) against the pstore KHO backend, with a KHO kexec in place of the
crash and reboot.

pstore_tests and pstore_crash_test run in kernel 1, pstore_post_reboot_tests
in kernel 2, unchanged but for three adaptations: the guest has no
/proc/sys (CONFIG_PROC_SYSCTL is off in the small guest config), so the
uuid comes from the host and pstore_crash_test's two sysctl writes are
dropped; and its `echo c > /proc/sysrq-trigger` is replaced by a KHO kexec,
because the backend hands the log over on kexec, not on a panic (a panic
reboots through firmware, which passes no KHO data).

The backend is loaded with its console and pmsg rings (console_size,
pmsg_size), so the console and pmsg checks apply. Checks that apply must
pass; the others must fail, each for the reason given in NOT_APPLICABLE
(so that a change in what the backend offers shows up here)."""

import os
import re
import uuid

from paths import CACHE

TITLE = "the kernel's pstore selftests against the KHO backend, across a kexec"
CASES = [("7.3", "lastboot")]
REQUIRES = {("7.3", "lastboot"): "F6"}

SRC = os.path.join(CACHE, "trees", "7.3", "tools", "testing", "selftests", "pstore")
SCRIPTS = ["common_tests", "pstore_tests", "pstore_crash_test", "pstore_post_reboot_tests"]

# check -> result it must have
APPLY = {
    ("pstore_tests", "Checking pstore backend is registered"): "ok",
    ("pstore_tests", "Checking pstore console is registered"): "ok",
    ("pstore_tests", "Checking /dev/pmsg0 exists"): "ok",
    ("pstore_tests", "Writing unique string to /dev/pmsg0"): "ok",
    ("pstore_crash_test", "Checking pstore backend is registered"): "ok",
    ("pstore_post_reboot_tests", "Checking pstore backend is registered"): "ok",
    ("pstore_post_reboot_tests", "Mounting pstore filesystem"): "ok",
    ("pstore_post_reboot_tests", "Checking dmesg files exist in pstore filesystem"): "ok",
    ("pstore_post_reboot_tests", "Checking console files exist in pstore filesystem"): "ok",
    ("pstore_post_reboot_tests", "Checking pmsg files exist in pstore filesystem"): "ok",
    ("pstore_post_reboot_tests", "Checking pmsg file properly keeps the content written before crash"): "ok",
    ("pstore_post_reboot_tests", "console-kho-0 (rm)"): "ok",
    ("pstore_post_reboot_tests", "dmesg-kho-0 (rm)"): "ok",
    ("pstore_post_reboot_tests", "pmsg-kho-0 (rm)"): "ok",
}
NOT_APPLICABLE = {
    ("pstore_post_reboot_tests", "dmesg-kho-0 (end trace)"):
        "the record is the shutdown dump of a kexec, not an oops: no '---[ end trace'",
    ("pstore_post_reboot_tests", "Checking console file contains oops end marker"):
        "a kexec instead of the crash: the console shows no oops",
}


def heredoc(name, text):
    return "cat >%s <<'LASTBOOT_EOF'\n%sLASTBOOT_EOF\nchmod +x %s\n" % (name, text, name)


def step(uid):
    files = ""
    for name in SCRIPTS:
        with open(os.path.join(SRC, name)) as f:
            text = f.read()
        if name == "common_tests":
            text = text.replace("UUID=`cat /proc/sys/kernel/random/uuid`", "UUID=%s" % uid)
            assert "UUID=%s" % uid in text
        if name == "pstore_crash_test":
            for line in ("echo 1 > /proc/sys/kernel/sysrq", "echo 3 > /proc/sys/kernel/panic",
                         "echo c > /proc/sysrq-trigger"):
                assert line in text, line
                text = text.replace(line, ": " + line)
        files += heredoc(name, text)
    return """
s=$(stage)
D=/pstore-selftests
modprobe pstore_kho console_size=65536 pmsg_size=16384
if [ "$s" -eq 1 ]; then
	mkdir -p $D
	cd $D
%s
	emit pstore_tests ./pstore_tests
	emit pstore_crash_test ./pstore_crash_test
	kexec_next
fi
cd $D
emit before ls /sys/fs/pstore
emit pstore_post_reboot_tests ./pstore_post_reboot_tests
emit after ls /sys/fs/pstore
""" % files


def results(text, script):
    """{(script, check): "ok"|"FAIL"} from one script's output."""
    out, pending, open_check = {}, None, None
    for line in text.splitlines():
        # A tool's complaint on stderr can split "Checking X ... " from its
        # result, which then stands alone on the next line.
        if line.strip() in ("ok", "FAIL") and open_check:
            out[(script, open_check)] = line.strip()
            open_check = None
        elif line.startswith("\t") and pending:
            m = re.match(r"\t(\S+) \.\.\. (ok|FAIL)$", line)
            if m:
                out[(script, "%s (%s)" % (m.group(1), pending))] = m.group(2)
        elif re.match(r"(Checking|Mounting|Writing) ", line):
            check, dots, rest = line.partition(" ... ")
            check, rest, open_check = check.strip(), rest.strip(), None
            pending = "end trace" if "oops end marker" in check and not dots else None
            if rest in ("ok", "FAIL"):
                out[(script, check)] = rest
            elif dots:
                open_check = check
        elif line.startswith("Removing all files"):
            pending = "rm"
    return out


def run(t):
    t.require(os.path.isdir(SRC), "no pstore selftests in %s" % SRC)
    g = t.guest(smp=2)
    b = g.boot(step(uuid.uuid4()), "kho=on", timeout=300)
    got = {}
    for script in ("pstore_tests", "pstore_crash_test", "pstore_post_reboot_tests"):
        text = b.section(script)
        for line in text.splitlines():
            t.note("%s| %s" % (script, line.replace("\t", "    ")))
        got.update(results(text, script))
    for key, want in APPLY.items():
        t.expect(got.get(key) == want, "%s: %s: %s, want %s" % (key[0], key[1], got.get(key), want))
    for key, why in NOT_APPLICABLE.items():
        t.expect(got.get(key) == "FAIL", "%s: %s: %s, expected FAIL (%s)" % (key[0], key[1], got.get(key), why))
    unknown = set(got) - set(APPLY) - set(NOT_APPLICABLE)
    t.expect(not unknown, "checks not classified: %s" % sorted(unknown))
    t.expect(b.section("before").split() == ["console-kho-0", "dmesg-kho-0", "pmsg-kho-0"],
             "kernel 2 files: %s" % b.section("before").split())
    t.expect(b.section("after").split() == [], "files left after the selftest removed them: %s"
             % b.section("after").split())
    t.expect(not b.complaints(), "kernel complaints: %s" % b.complaints()[:5])
    passed = sum(1 for k in APPLY if got.get(k) == "ok")
    t.figure("selftest_checks_passed", "%d of %d applicable" % (passed, len(APPLY)))
    t.figure("selftest_checks_not_applicable", len(NOT_APPLICABLE))
    for key, why in NOT_APPLICABLE.items():
        t.note("not applicable: %s: %s: %s" % (key[0], key[1], why))
