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
LOST = re.compile(r"CPU:(?P<cpu>\d+) \[(?:LOST (?P<n>\d+ )?EVENTS|(?P<m>\d+ )?EVENTS DROPPED"
                  r"|DAMAGED EVENT)\]")


class Trace:
    def __init__(self, text):
        self.text = text
        self.events = collections.defaultdict(collections.Counter)  # cpu -> (ts, event) -> n
        self.lost_markers = []
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            m = EVENT.match(line)
            if m:
                cpu = int(m.group("cpu"))
                self.events[cpu][(m.group("ts"), m.group("event"))] += 1
                continue
            m = LOST.search(line)
            if m:
                self.lost_markers.append(line.strip())

    def count(self, cpu=None):
        if cpu is None:
            return sum(sum(c.values()) for c in self.events.values())
        return sum(self.events.get(cpu, {}).values())

    def cpus(self):
        return sorted(self.events)


def compare(recorded, recovered):
    """Per CPU: how many recorded events came back, how many are missing, and
    how many recovered events were never recorded (must be none), and how
    many of the missing ones are older than every event that came back.  Events
    later than the last recorded one on a CPU happened after the snapshot
    was taken (tracing stays on until the crash) and are counted apart."""
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
                    "after_snapshot": sum(got.values()) - sum(before.values())}
    return out
