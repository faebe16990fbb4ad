"""Damage a boot-mapped trace ring buffer in a guest RAM image, the way the
corruption scenarios, the demo and the stale-head/power-cut cases need it.

Each function takes a region parsed by ringbuf.parse_region() (so it knows
where the pages and events are) and writes into the RAM file (the
memory-backend file: guest physical P at file offset P), then returns what it
destroyed, for the scenario to compare with what the next boot shows.

- corrupt_subbuf(): random bytes (or zeros) over one whole sub-buffer;
- corrupt_event_in_subbuf(): a page's header and first events kept, the rest
  overwritten from its middle event on;
- damage_event_pid(), damage_event_field(): bytes inside one event's payload,
  every record header intact (event_format() reads the field offsets);
- stamp_subbuf_later(): a sound sub-buffer whose header time stamp jumps
  far ahead of its neighbours';
- head_write(): the bytes that record another head page in a CPU's meta.
"""

import re
import struct

from rb_layout import (BUF_PAGE_HDR_SIZE, META_FIELDS, PAGE_SIZE, RINGBUF_TYPE_DATA_TYPE_LEN_MAX,
                       RINGBUF_TYPE_PADDING, RINGBUF_TYPE_TIME_EXTEND, RINGBUF_TYPE_TIME_STAMP)
from ringbuf import Region, read_region


def head_write(base, cpu, slot):
    """(offset in the region, bytes) that make `slot` the head page recorded
    in `cpu`'s meta data: what a lost update of it, or the real head put
    back, looks like in memory."""
    off, _ = META_FIELDS[base]["head_buffer"]
    return cpu.meta_offset + off, struct.pack("<Q", cpu.meta["first_buffer"] + PAGE_SIZE * slot)


def _pick(region, cpu, which, rng):
    """The sub-buffer to damage: a data page that is neither the first nor the
    last in ring order (nor the first or last page holding data)."""
    c = region.cpu(cpu) if isinstance(region, Region) else None
    if c is None:
        raise ValueError("CPU %r is not in the region" % (cpu,))
    if not c.valid:
        raise ValueError("CPU %d has no usable ring (%s)" % (cpu, c.reason))
    order = c.subbufs
    if isinstance(which, int) and not isinstance(which, bool):
        for sb in order:
            if sb.index == which:
                return c, sb
        raise ValueError("sub-buffer %d is not in CPU %d's ring order" % (which, cpu))
    data = [i for i, sb in enumerate(order) if sb.nr_events > 0]
    cands = [order[i] for i in data
             if 0 < i < len(order) - 1 and i != data[0] and i != data[-1]]
    if not cands:
        raise ValueError("CPU %d has no middle sub-buffer holding events: %d pages in ring order, "
                         "%d with events (need one that is neither first nor last)"
                         % (cpu, len(order), len(data)))
    if which == "middle":
        return c, cands[len(cands) // 2]
    if which == "random":
        return c, rng.choice(cands)
    raise ValueError("which must be 'middle', 'random' or a sub-buffer index, not %r" % (which,))


def _write(file_path, where, data):
    with open(file_path, "r+b") as f:
        f.seek(where)
        f.write(data)


def corrupt_subbuf(file_path, phys_addr, region, cpu, which, rng, mode="random"):
    """Overwrite one whole sub-buffer of ``cpu`` in the RAM file.

    ``which``: "middle" (the middle candidate), "random" (one picked by
    ``rng``), or a sub-buffer index.  ``mode``: "random" bytes from ``rng``,
    "zero", or "events" (see corrupt_event_in_subbuf).  Returns a dict
    describing the damage."""
    if mode == "events":
        return corrupt_event_in_subbuf(file_path, phys_addr, region, cpu, which, rng)
    c, sb = _pick(region, cpu, which, rng)
    n = region.subbuf_size
    if mode == "random":
        data = rng.randbytes(n)
    elif mode == "zero":
        data = bytes(n)
    else:
        raise ValueError("unknown mode %r" % (mode,))
    _write(file_path, phys_addr + sb.offset, data)
    return {"cpu": c.cpu, "index": sb.index, "ring_id": sb.ring_id,
            "ring_pos": c.subbufs.index(sb), "offset": sb.offset,
            "phys": phys_addr + sb.offset, "size": n, "mode": mode,
            "events_destroyed": sb.nr_events, "timestamps": list(sb.timestamps),
            "events_before_damage": 0}


def corrupt_event_in_subbuf(file_path, phys_addr, region, cpu, which, rng, poison=True):
    """Keep a sub-buffer's header and its first events; overwrite everything
    from the middle event (its time extend/stamp included) to the page end
    with random bytes.

    With ``poison`` the first damaged word is a null padding event, which
    every walker (the kernel's too) rejects, so exactly the events before it
    stay readable however the random bytes fall."""
    c, sb = _pick(region, cpu, which, rng)
    if sb.nr_events < 2 or not sb.event_offsets:
        raise ValueError("sub-buffer %d of CPU %d holds %d event(s): nothing before the middle one"
                         % (sb.index, cpu, sb.nr_events))
    k = sb.nr_events // 2
    start = BUF_PAGE_HDR_SIZE + sb.event_offsets[k]
    data = bytearray(rng.randbytes(region.subbuf_size - start))
    if poison:
        data[0:4] = struct.pack("<I", RINGBUF_TYPE_PADDING)      # type PADDING, time_delta 0
    _write(file_path, phys_addr + sb.offset + start, bytes(data))
    return {"cpu": c.cpu, "index": sb.index, "ring_id": sb.ring_id,
            "ring_pos": c.subbufs.index(sb), "offset": sb.offset,
            "phys": phys_addr + sb.offset, "damage_offset": sb.offset + start,
            "size": len(data), "mode": "events",
            "events_before_damage": k,
            "events_destroyed": sb.nr_events - k, "timestamps": list(sb.timestamps[k:])}


def stamp_subbuf_later(file_path, phys_addr, region, cpu, which, rng, ahead=1 << 40):
    """Move the header time stamp of one sub-buffer `ahead` ns into the
    future, its events left intact: a page out of time order, which the next
    boot must drop alone and not take for the start of a newer run."""
    c, sb = _pick(region, cpu, which, rng)
    _write(file_path, phys_addr + sb.offset, struct.pack("<Q", sb.time_stamp + ahead))
    return {"cpu": c.cpu, "index": sb.index, "ring_pos": c.subbufs.index(sb), "offset": sb.offset,
            "mode": "later", "events_destroyed": sb.nr_events,
            "events_before_damage": 0}


def damage_event_pid(file_path, phys_addr, region, cpu, which, rng):
    """Leave every record header intact and set the common_pid of the middle
    data event of a sub-buffer to -1: damage no framing check can see, only
    a reader that looks inside the event."""
    c, sb = _pick(region, cpu, which, rng)
    if not sb.event_offsets:
        raise ValueError("sub-buffer %d of CPU %d holds no event" % (sb.index, cpu))
    k = len(sb.event_offsets) // 2
    b = read_region(file_path, phys_addr + sb.offset, region.subbuf_size)
    pos = BUF_PAGE_HDR_SIZE + sb.event_offsets[k]
    while b[pos] & 0x1F in (RINGBUF_TYPE_TIME_EXTEND, RINGBUF_TYPE_TIME_STAMP):
        pos += 8
    tl = b[pos] & 0x1F
    if not 0 <= tl <= RINGBUF_TYPE_DATA_TYPE_LEN_MAX:
        raise ValueError("record at 0x%x of sub-buffer %d is no data event" % (pos, sb.index))
    payload = pos + (8 if tl == 0 else 4)
    # struct trace_entry: u16 type, u8 flags, u8 preempt_count, int pid
    _write(file_path, phys_addr + sb.offset + payload + 4, struct.pack("<i", -1))
    return {"cpu": c.cpu, "index": sb.index, "offset": sb.offset, "event": k,
            "timestamp": sb.timestamps[k], "mode": "pid"}


def event_format(text):
    """(id, {field name: (offset, size, type)}) from an events/*/*/format file."""
    m = re.search(r"^ID: (\d+)", text, re.M)
    fields = {}
    for t, name, off, size in re.findall(r"field:(.+?) (\w+)(?:\[\w*\])?;\s*offset:(\d+);\s*size:(\d+);", text):
        fields[name] = (int(off), int(size), t)
    return (int(m.group(1)) if m else None), fields


def damage_event_field(file_path, phys_addr, region, cpu, type_id, offset, data):
    """Overwrite bytes at `offset` in the payload of one event of type
    `type_id` on `cpu` (the middle one of those in sub-buffers that are
    neither first nor last), record headers intact."""
    c, _ = _pick(region, cpu, "middle", None)
    order = c.subbufs
    found = []
    for sb in order[1:-1]:
        b = read_region(file_path, phys_addr + sb.offset, region.subbuf_size)
        for k, ev in enumerate(sb.event_offsets):
            pos = BUF_PAGE_HDR_SIZE + ev
            while pos < len(b) and b[pos] & 0x1F in (RINGBUF_TYPE_TIME_EXTEND, RINGBUF_TYPE_TIME_STAMP):
                pos += 8
            if pos + 12 > len(b) or not 0 <= b[pos] & 0x1F <= RINGBUF_TYPE_DATA_TYPE_LEN_MAX:
                continue
            payload = pos + (8 if b[pos] & 0x1F == 0 else 4)
            if struct.unpack_from("<H", b, payload)[0] == type_id:
                found.append((sb, k, payload))
    if not found:
        raise ValueError("CPU %d holds no event of type %d in a middle sub-buffer" % (cpu, type_id))
    sb, k, payload = found[len(found) // 2]
    _write(file_path, phys_addr + sb.offset + payload + offset, data)
    return {"cpu": c.cpu, "index": sb.index, "event": k, "timestamp": sb.timestamps[k]}
