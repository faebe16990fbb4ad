"""Read ftrace's text output (the `trace` file, trace-cmd show/report)."""

import collections
import re

# "  <idle>-0  [001] d.h2.  123.456789: hrtimer_expire_entry: ..." and the
# function tracer's "  dd-51  [000] .....  2.585185: vfs_write <-ksys_write"
# (the function stands for the event's name; it may hold dots: foo.isra.0).
# The comm may hold spaces and dashes; the pid, CPU, flags and time do not.
EVENT = re.compile(r"^\s*(?P<comm>.*)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+(?:\S+\s+)?"
                   r"(?P<ts>\d+\.\d+):\s+(?P<event>[\w.:]+?)(?::\s|:$| <-)")
# ftrace: "CPU:1 [LOST 12 EVENTS]" or "CPU:1 [LOST EVENTS]" (count unknown);
# trace-cmd report: "CPU:1 [12 EVENTS DROPPED]" or "CPU:1 [EVENTS DROPPED]";
# lastboot 6.12: "CPU:1 [DAMAGED EVENT]" for an event whose payload is unusable.
# The sched switch/wakeup tracers' lines carry no event name after the time:
# "  <idle>-0  [001] d..2.  1.234:  0:120:R ==> [001]  42:120:R sh".
CTX = re.compile(r"^\s*(?P<comm>.*)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+(?:\S+\s+)?"
                 r"(?P<ts>\d+\.\d+):\s+-?\d+:\s*-?\d+:\S\s+(?P<kind>==>|\+)\s")
# guest/lib.sh's seq_markers: "tracing_mark_write: lb-seq CPU N".
MARKER = re.compile(r" tracing_mark_write: lb-seq (?P<cpu>\d+) (?P<n>\d+)$")
# trace-cmd report's header lines.
REPORT_HEADER = re.compile(r"^(cpus=\d+|version = \d+)$")
# trace-cmd report: "boot_map: [UNKNOWN EVENT]..." for a raw event of a type
# it cannot find (what damage framed as an event looks like to it).
LOST = re.compile(r"CPU:(?P<cpu>\d+) \[(?:LOST (?P<n>\d+ )?EVENTS|(?P<m>\d+ )?EVENTS DROPPED"
                  r"|DAMAGED EVENT)\]|^\S+: \[UNKNOWN EVENT\]")


class UnrecognisedLine(ValueError):
    """A line of trace output that is neither an event, a loss marker nor a
    header: an `Unknown type 77` line, a garbled event, a format this
    parser does not know.  Never dropped silently: it fails the case."""


class Trace:
    def __init__(self, text):
        self.text = text
        self.events = collections.defaultdict(collections.Counter)  # cpu -> (ts, event) -> n
        self.markers = collections.defaultdict(list)  # cpu -> lb-seq numbers, in order
        self.misplaced_markers = []  # markers shown on another CPU than their writer's
        self.lost_markers = []
        unknown = []
        for line in text.splitlines():
            if not line.strip() or line.startswith("#") or REPORT_HEADER.match(line):
                continue
            m = EVENT.match(line)
            if m:
                cpu = int(m.group("cpu"))
                self.events[cpu][(m.group("ts"), m.group("event"))] += 1
                k = MARKER.search(line)
                if k:
                    self.markers[int(k.group("cpu"))].append(int(k.group("n")))
                    if int(k.group("cpu")) != cpu:
                        self.misplaced_markers.append(line.strip())
                continue
            m = CTX.match(line)
            if m:
                kind = "sched_switch_ctx" if m.group("kind") == "==>" else "sched_wakeup_ctx"
                self.events[int(m.group("cpu"))][(m.group("ts"), kind)] += 1
                continue
            m = LOST.search(line)
            if m:
                self.lost_markers.append(line.strip())
                continue
            unknown.append(line)
        if unknown:
            raise UnrecognisedLine("%d line(s) of trace output not recognised, first: %r"
                                   % (len(unknown), unknown[:3]))

    def count(self, cpu=None):
        if cpu is None:
            return sum(sum(c.values()) for c in self.events.values())
        return sum(self.events.get(cpu, {}).values())

    def cpus(self):
        return sorted(self.events)


def compare(recorded, recovered, crash_ts=None):
    """Per CPU: how many recorded events came back, how many are missing, and
    how many recovered events were never recorded (must be none), and how
    many of the missing ones are older than every event that came back.  Events
    later than the last recorded one on a CPU happened after the snapshot
    was taken (tracing stays on until the crash) and are counted apart;
    those stamped later than `crash_ts` (seconds, the crashed boot's clock)
    cannot have been recorded and count as `late`."""
    out = {}
    for cpu in sorted(set(recorded.events) | set(recovered.events)):
        rec = recorded.events.get(cpu, collections.Counter())
        got = recovered.events.get(cpu, collections.Counter())
        last = max((float(ts) for ts, _ in rec), default=-1.0)
        before = collections.Counter({k: n for k, n in got.items() if float(k[0]) <= last})
        # Missing events older than the oldest one that came back: a full
        # buffer overwrote them with what was recorded after the snapshot.
        first = min((float(ts) for ts, _ in before), default=None)
        gone = rec - before
        out[cpu] = {"recorded": sum(rec.values()), "recovered": sum((rec & before).values()),
                    "missing": sum(gone.values()), "invented": sum((before - rec).values()),
                    "overwritten": sum(n for k, n in gone.items() if first is not None and float(k[0]) < first),
                    "after_snapshot": sum(got.values()) - sum(before.values()),
                    "late": sum(n for k, n in got.items() if crash_ts is not None and float(k[0]) > crash_ts)}
    return out


def marker_runs(trace):
    """Per CPU that wrote markers: (first, last, gaps), where gaps lists
    (after, before) pairs of markers that do not follow each other (a lost
    or repeated marker).  Markers written on one CPU must come back on it."""
    out = {}
    for cpu, seq in sorted(trace.markers.items()):
        gaps = [(a, b) for a, b in zip(seq, seq[1:]) if b != a + 1]
        out[cpu] = (seq[0], seq[-1], gaps)
    return out

