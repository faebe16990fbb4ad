"""make bench, figure 5: pstore over KHO.  The time of a KHO kexec with
the pstore_kho backend against the same kexec without it, on lastboot
7.3, timed with the guest's time stamp counter across a chain of kexecs."""

import re

import kernels
from bench_common import ROUNDS, guest, note, section, tsc_khz
from bench_stats import med, ratio

# A chain of KHO_STAGES kernels.  Each marks, with the time stamp counter
# (it runs on across a kexec, kernel clocks do not), when its step starts,
# when the backend is loaded, and in kexec_next when the kexec load starts
# and ends and when it calls kexec -e.
KHO_STAGES = 3
KHO_STEP = """
export LASTBOOT_TSC=1
tsc_mark up
{load}
tsc_mark module
emit stage$(stage)-files ls /sys/fs/pstore
if [ "$(stage)" -lt {stages} ]; then
	kexec_next
fi
"""
KHO_ARMS = (("backend", "modprobe pstore_kho"), ("none", "true"))
TSC_MARK = re.compile(r"lastboot-tsc stage(\d+) (\S+) (\d+)")


def kho_spans(console: str, khz: int) -> list:
    """Per kexec of the chain: ms of the kexec load, from kexec -e to the
    next kernel's first step command, and of loading the backend there
    (which takes the records over)."""
    marks = {(int(s), what): int(c) for s, what, c in TSC_MARK.findall(console)}
    ms = lambda a, b: (marks[b] - marks[a]) / khz  # noqa: E731
    out = []
    for s in range(1, KHO_STAGES):
        try:
            out.append({"load_ms": ms((s, "load-start"), (s, "load-end")),
                        "exec_to_up_ms": ms((s, "exec"), (s + 1, "up")),
                        "module_ms": ms((s + 1, "up"), (s + 1, "module"))})
        except KeyError as e:
            raise kernels.Failed("kexec %d -> %d: no lastboot-tsc mark %s on the console" % (s, s + 1, e))
    return out


def bench_kho(res: dict) -> None:
    """Alternate the arms in every round so that both see the same noise."""
    raw = {arm: [] for arm, _ in KHO_ARMS}
    for r in range(ROUNDS):
        for arm, load in KHO_ARMS:
            g = guest("kho-%s-%d" % (arm, r), "7.3", "lastboot", "normal")
            b = g.boot(KHO_STEP.format(load=load, stages=KHO_STAGES), "kho=on", timeout=600)
            # The backend arm must have handed the log over, the other not.
            for s in range(2, KHO_STAGES + 1):
                files = b.sections.get("stage%d-files" % s)
                if files is None:
                    raise kernels.Failed("kho %s round %d: stage %d never ran" % (arm, r + 1, s))
                if ("dmesg-kho-0" in files.split()) != (arm == "backend"):
                    raise kernels.Failed("kho %s round %d: stage %d offers %r" % (arm, r + 1, s, files.split()))
            spans = kho_spans(b.console, tsc_khz(b.console))
            raw[arm] += spans
            note("kho round %d %s: %s" % (r + 1, arm, "; ".join(
                "load %.0f ms, exec to step %.0f ms, module %.0f ms"
                % (x["load_ms"], x["exec_to_up_ms"], x["module_ms"]) for x in spans)))
            g.cleanup()
    res["kho"] = raw


METHOD = """\
Method: lastboot 7.3 (normal variant) boots with `kho=on` and runs a chain
of %d kernels, each KHO-kexecing into the next (`kexec -s -l`, `kexec -e`,
guest/lib.sh kexec_next). Each kernel logs the guest's time stamp counter,
which runs on across a kexec in one VM (guest/tsc.c), at the steps of the
kexec: load start and end, `kexec -e`, the next kernel's first step
command, and after loading the backend there (which is when it takes
the records over). Arm `backend` loads pstore_kho in every kernel; arm
`none` loads nothing. Arms alternate within each round; the backend arm
is checked to have handed the log over (`dmesg-kho-0`), the other not.
Medians over every kexec of every round.
"""


def report_kho(w, res: dict) -> None:
    """Section 5 of BENCHMARKS.md."""
    if not section(w, res, "kho", "5. pstore over KHO"):
        return
    raw = res["kho"]
    w(METHOD % KHO_STAGES)
    w("| span | with pstore_kho (ms) | without (ms) | added (ms) | ratio |")
    w("|---|---|---|---|---|")

    def arms(span):
        """Medians of span(kexec) with and without the backend."""
        return med([span(x) for x in raw["backend"]]), med([span(x) for x in raw["none"]])

    for key, label in (("load_ms", "`kexec -s -l`"), ("exec_to_up_ms", "`kexec -e` to the next kernel's step")):
        a, b = arms(lambda x: x[key])  # noqa: B023
        w("| %s | %.0f | %.0f | %+.0f | %.3f |" % (label, a, b, a - b, ratio(a, b)))
    a, b = arms(lambda x: x["module_ms"])
    w("| next kernel: `modprobe pstore_kho`, which takes the records over (without: `true`) | %.0f | %.0f | %+.0f | - |"
      % (a, b, a - b))
    a, b = arms(lambda x: x["load_ms"] + x["exec_to_up_ms"])
    w("| **kexec: load + exec to the next kernel's step** | %.0f | %.0f | **%+.0f** | **%.3f** |"
      % (a, b, a - b, ratio(a, b)))
    w("")
    w("Per kexec (load / exec to step / module, ms):")
    w("")
    for arm in ("backend", "none"):
        w("- %s: %s" % (arm, ", ".join("%.0f/%.0f/%.0f" % (x["load_ms"], x["exec_to_up_ms"], x["module_ms"])
                                       for x in raw[arm])))
    w("")
