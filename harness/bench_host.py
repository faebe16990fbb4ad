"""make bench, figures 7, 8 and 9: the build machine itself, no guest.
The CPU time of compiling a sample of a kernel's files with an empty
ccache in its default mode and in depend mode against plain gcc (what a
cold make check pays per compiled file); the same compiles with
transparent huge pages on madvise and on always (what .ci/run sets); and
what the first touch of a page populated the way QEMU populates guest RAM
costs a process on this host, against a second touch (why figures 2 and 3
have a cold reference)."""

import os
import re
import subprocess

import kernels
import paths
from bench_common import ROUNDS, WORK, note, section
from bench_stats import med, ratio


# --- compiling: ccache modes ---------------------------------------------------

CCACHE_FILES = int(os.environ.get("CCACHE_FILES", "60"))


def compile_commands(builddir: str, base: str, n: int) -> list:
    """n compile commands spread over the C files of a built kernel, made to
    run from builddir against the tree itself (build-kernel.sh compiles from
    a private bind mount of it) and to write their output elsewhere."""
    tree = os.path.join(paths.CACHE, "trees", base + "-stock")
    mnt = os.path.join(paths.CACHE, "src", base)
    out = os.path.join(WORK, "cc-out")
    os.makedirs(out, exist_ok=True)
    cmds = []
    for d, _, files in os.walk(builddir):
        rel = os.path.relpath(d, builddir)
        if rel.split(os.sep)[0] in ("tools", "scripts", "modules-install", "usr"):
            continue
        for fn in files:
            if not (fn.startswith(".") and fn.endswith(".o.cmd")):
                continue
            with open(os.path.join(d, fn)) as f:
                m = re.match(r"savedcmd_(\S+) := ccache (gcc .* -c -o (\S+) (\S+\.c)\s*)$", f.readline())
            if m:
                cmd = m.group(2).replace(" -o %s " % m.group(3), " -o %s/x.o " % out, 1)
                cmd = re.sub(r"-Wp,-MMD,\S+", "-Wp,-MMD,%s/x.d" % out, cmd)
                cmds.append((m.group(1), cmd.replace(mnt, tree)))
    cmds.sort()
    step = max(1, len(cmds) // n)
    return [c for _, c in cmds[::step][:n]]


def compile_cpu(cmds: list, builddir: str, mode: str, ccdir: str | None) -> float:
    """CPU seconds (user + system, children) of running cmds once in mode
    plain, default or depend; ccache modes start from an empty ccdir."""
    env = dict(os.environ)
    if ccdir:
        env["CCACHE_DIR"] = ccdir
    env.pop("CCACHE_DEPEND", None)
    if mode == "depend":
        env["CCACHE_DEPEND"] = "1"
    t0 = os.times()
    for cmd in cmds:
        subprocess.run(("ccache " if mode != "plain" else "") + cmd, shell=True, cwd=builddir,
                       env=env, check=True)
    t1 = os.times()
    return (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)


def bench_ccache(res: dict) -> None:
    base = "6.12"
    builddir = kernels.kernel_for(base, "stock", "normal")
    cmds = compile_commands(builddir, base, CCACHE_FILES)
    out = {"kernel": os.path.basename(builddir), "files": len(cmds),
           "plain": [], "default": [], "depend": [], "hits": {}}
    for r in range(ROUNDS):
        # A different order each round, so that no mode always runs first.
        modes = ["plain", "default", "depend"]
        modes = modes[r % 3:] + modes[:r % 3]
        for mode in modes:
            ccdir = os.path.join(WORK, "ccache-" + mode)
            subprocess.run(["rm", "-rf", ccdir], check=True)
            out[mode].append(compile_cpu(cmds, builddir, mode, ccdir))
            note("ccache round %d %s: %.1f s CPU for %d files" % (r + 1, mode, out[mode][-1], len(cmds)))
            if mode != "plain" and r == 0:
                # The same files again must all hit: the mode is a cache.
                compile_cpu(cmds, builddir, mode, ccdir)
                st = subprocess.run(["ccache", "--print-stats"], env=dict(os.environ, CCACHE_DIR=ccdir),
                                    stdout=subprocess.PIPE, text=True, check=True).stdout
                stats = dict(line.split("\t") for line in st.splitlines() if "\t" in line)
                out["hits"][mode] = int(stats.get("direct_cache_hit", 0)) + int(stats.get("preprocessed_cache_hit", 0))
            subprocess.run(["rm", "-rf", ccdir], check=True)
    res["ccache"] = out


CCACHE_METHOD = """\
Method: %d compile commands spread evenly over the C files of the
%s build (each file's command as kbuild ran it, from its
`.o.cmd`), run one after another on the host: with plain gcc, through
ccache in its default mode and through ccache in depend mode
(`CCACHE_DEPEND=1`, what scripts/lib.sh sets), each ccache mode from an
empty cache. Figure: CPU time (user + system) of the compiles; the order
of the modes rotates by round. A second pass of the first round checks
that each mode then serves every file from the cache.
"""


def report_ccache(w, res: dict) -> None:
    """Section 7 of BENCHMARKS.md."""
    if not section(w, res, "ccache", "7. Compiling a kernel with an empty ccache"):
        return
    cc = res["ccache"]
    w(CCACHE_METHOD % (cc["files"], cc["kernel"]))
    p = med(cc["plain"])
    w("| compiler | CPU (s) | / plain gcc | hits on a second pass |")
    w("|---|---|---|---|")
    w("| gcc | %.1f | 1.000 | - |" % p)
    for mode in ("default", "depend"):
        w("| ccache, %s mode, empty cache | %.1f | %.3f | %s / %d |"
          % (mode, med(cc[mode]), ratio(med(cc[mode]), p), cc["hits"].get(mode, "-"), cc["files"]))
    w("")
    w("Per round (s): " + "; ".join("%s %s" % (m, ", ".join("%.1f" % x for x in cc[m]))
                                  for m in ("plain", "default", "depend")))
    w("")


# --- compiling: transparent huge pages -------------------------------------------

THP = "/sys/kernel/mm/transparent_hugepage/enabled"


def bench_thp(res: dict) -> None:
    """The same compile sample as figure 7, plain gcc, with transparent huge
    pages on madvise (Debian's default) and on always (what .ci/run sets),
    alternating; the machine's setting is put back at the end."""
    if not os.access(THP, os.W_OK):
        note("thp: %s is not writable here, figure skipped" % THP)
        return
    with open(THP) as f:
        old = re.search(r"\[(\w+)\]", f.read()).group(1)
    base = "6.12"
    builddir = kernels.kernel_for(base, "stock", "normal")
    cmds = compile_commands(builddir, base, CCACHE_FILES)
    out = {"kernel": os.path.basename(builddir), "files": len(cmds), "madvise": [], "always": []}
    try:
        for r in range(ROUNDS):
            for mode in (("madvise", "always") if r % 2 == 0 else ("always", "madvise")):
                with open(THP, "w") as f:
                    f.write(mode)
                out[mode].append(compile_cpu(cmds, builddir, "plain", None))
                note("thp round %d %s: %.1f s CPU for %d files" % (r + 1, mode, out[mode][-1], len(cmds)))
    finally:
        with open(THP, "w") as f:
            f.write(old)
    res["thp"] = out


THP_METHOD = """\
Method: the %d compile commands of figure 7 (%s), plain gcc, run
with transparent huge pages on `madvise` (Debian's default: only memory
a program asks for gets huge pages, and gcc asks for none) and on
`always`, the two alternating, the first one alternating by round. Figure:
CPU time (user + system) of the compiles. The build machine is a
paravirtualized VM (`Hypervisor detected: PVM`) where a TLB miss or a
page fault costs far more than on bare metal; huge pages make both
rarer. `.ci/run` sets `always` for the CI run; make check leaves the
setting alone.
"""


def report_thp(w, res: dict) -> None:
    """Section 8 of BENCHMARKS.md."""
    if not section(w, res, "thp", "8. Compiling with transparent huge pages"):
        return
    th = res["thp"]
    w(THP_METHOD % (th["files"], th["kernel"]))
    m, a = med(th["madvise"]), med(th["always"])
    w("| transparent huge pages | CPU (s) | / madvise |")
    w("|---|---|---|")
    w("| madvise | %.1f | 1.000 |" % m)
    w("| always | %.1f | **%.3f** |" % (a, ratio(a, m)))
    w("")
    w("Per round (s): " + "; ".join("%s %s" % (k, ", ".join("%.1f" % x for x in th[k]))
                                  for k in ("madvise", "always")))
    w("")


# --- the host: first touch of a page ---------------------------------------------

def bench_firsttouch(res: dict) -> None:
    """harness/firsttouch.c on the host: a copy over pages of a populated
    /dev/shm mapping touched for the first time, then over the same again."""
    exe = os.path.join(WORK, "firsttouch")
    subprocess.run(["gcc", "-O2", "-Wall", "-o", exe, os.path.join(paths.TOP, "harness", "firsttouch.c")], check=True)
    out = subprocess.run([exe, str(ROUNDS)], stdout=subprocess.PIPE, text=True, check=True).stdout
    rows = [(int(a), int(b), int(c)) for a, b, c in re.findall(r"firsttouch (\d+) (\d+) (\d+)", out)]
    if len(rows) != ROUNDS:
        raise kernels.Failed("firsttouch printed %d rounds of %d: %r" % (len(rows), ROUNDS, out[:200]))
    res["firsttouch"] = {"bytes": rows[0][0], "first_ms": [b / 1e6 for _, b, _ in rows],
                         "second_ms": [c / 1e6 for _, _, c in rows]}
    note("first touch of 2 x %d MiB: %s ms; second: %s ms"
         % (rows[0][0] >> 20, res["firsttouch"]["first_ms"], res["firsttouch"]["second_ms"]))


FIRSTTOUCH_METHOD = """\
Method: harness/firsttouch.c on the host maps a file in /dev/shm shared
and populates it with `MADV_POPULATE_WRITE`, as QEMU does for
`prealloc=on` guest RAM; each round copies %d MiB between two parts of it
not touched before, then the same again. The build machine is a
paravirtualized VM (`Hypervisor detected: PVM`): a page the process has
not touched yet costs microseconds on its first touch even when it is
populated. A guest under QEMU pays this for every guest page it touches
first in a boot (each boot is a new QEMU process): the boot's validation
and backup copy do, a reference over buffers touched before does not.
This is why figures 2 and 3 have a cold reference.
"""


def report_firsttouch(w, res: dict) -> None:
    """Section 9 of BENCHMARKS.md."""
    if not section(w, res, "firsttouch", "9. The first touch of a page on the build machine"):
        return
    ft = res["firsttouch"]
    mib = ft["bytes"] >> 20
    w(FIRSTTOUCH_METHOD % mib)
    f, sc = med(ft["first_ms"]), med(ft["second_ms"])
    w("| copy of %d MiB | ms | per page touched first (us) |" % mib)
    w("|---|---|---|")
    w("| first touch of both parts | %.2f | %.2f |" % (f, 1000 * (f - sc) / (2 * ft["bytes"] / 4096)))
    w("| second | %.2f | - |" % sc)
    w("| ratio first / second | **%.1f** | |" % ratio(f, sc))
    w("")
    w("Per round (ms, first / second): " + ", ".join("%.2f/%.2f" % (a, b)
                                                   for a, b in zip(ft["first_ms"], ft["second_ms"])))
    w("")
